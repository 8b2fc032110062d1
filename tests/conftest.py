"""pytest fixtures that run a real ternd: each test gets its own server in a
temporary directory, on free loopback ports, with a generated config and
users, and stopped afterwards. Teardown fails the test if ternd logged a
sanitizer report or a panic, or did not exit cleanly."""
import os
import pathlib
import signal
import socket
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
BUILD = pathlib.Path(os.environ.get("TERN_BUILD_DIR", ROOT / "build" / "check"))
TERND = BUILD / "src" / "ternd" / "ternd"
TERNCTL = BUILD / "tools" / "ternctl" / "ternctl"

SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:",
                     "level=panic", "UndefinedBehaviorSanitizer")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(count):
    """count distinct free ports: the sockets stay bound until all are
    chosen, as separate free_port() calls may return one port twice."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def wait_port(port, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"port {port} did not open")


def wait_greeting(port, timeout=15.0):
    """Waits until a worker answers on `port`: a connection that is only
    accepted by the kernel (the master's listening socket) is not enough,
    the greeting shows a worker took it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
                if s.recv(1):
                    return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"no greeting on port {port} within {timeout}s")


# servers started by the running test, so a failure report can show their logs
_live_servers = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and rep.when in ("setup", "call"):
        for srv in list(_live_servers):
            try:
                tail = srv.log_text()[-4000:]
            except OSError:
                continue
            rep.sections.append((f"ternd log {srv.log_path}", tail))


class Ternd:
    """A ternd master process with its workers."""

    def __init__(self, directory, config_extra="", users=None, process_count=2, pop3=False,
                 lmtp=False):
        self.dir = pathlib.Path(directory)
        self.base = self.dir / "var"
        self.base.mkdir(parents=True, exist_ok=True)
        (self.imap_port, self.imaps_port, self.pop3_port, self.pop3s_port,
         self.lmtp_port) = free_ports(5)
        # the pop3 listeners (and so the pop3 workers) run only when asked
        self.pop3 = pop3
        # likewise the lmtp listener (and so the lmtp workers)
        self.lmtp = lmtp
        self.config_path = self.dir / "tern.conf"
        self.log_path = self.dir / "ternd.log"
        self.passwd_path = self.base / "passwd"
        self.process_count = process_count
        self.config_extra = config_extra
        self.proc = None
        self.users = dict(users if users is not None else {"alice": "secret"})
        self.write_config()
        with open(self.passwd_path, "w") as f:
            for user, password in self.users.items():
                f.write(f"{user}:{{PLAIN}}{password}::::::\n")

    def write_config(self, extra=None):
        if extra is not None:
            self.config_extra = extra
        self.config_path.write_text(f"""
base_dir = {self.base}
log_level = debug
shutdown_timeout = 5s
auth {{
  failure_delay = 50ms
  # the brute-force penalty has its own tests (test_auth_policy.py)
  failure_delay_max = 50ms
  penalty_network_failures = 0
  penalty_user_failures = 0
}}
service imap {{
  process_count = {self.process_count}
  # the suite opens many sessions of one user; tests of the limit set it
  max_userip_connections = 0
}}
listener imap {{
  port = {self.imap_port}
}}
listener imaps {{
  port = {self.imaps_port}
}}
{self.pop3_service()}listener pop3 {{
  enabled = {"yes" if self.pop3 else "no"}
  port = {self.pop3_port}
}}
listener pop3s {{
  enabled = {"yes" if self.pop3 else "no"}
  port = {self.pop3s_port}
}}
{self.lmtp_service()}listener lmtp {{
  enabled = {"yes" if self.lmtp else "no"}
  port = {self.lmtp_port}
}}
listener managesieve {{
  enabled = no
}}
{self.config_extra}
""")

    def pop3_service(self):
        if not self.pop3:
            return ""
        return (f"service pop3 {{\n  process_count = {self.process_count}\n"
                f"  max_userip_connections = 0\n}}\n")

    def lmtp_service(self):
        if not self.lmtp:
            return ""
        return f"service lmtp {{\n  process_count = {self.process_count}\n}}\n"

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([str(TERND), "-F", "-c", str(self.config_path)],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=self.dir, start_new_session=True)
        _live_servers.append(self)
        try:
            wait_greeting(self.imap_port)
            if self.pop3:
                wait_greeting(self.pop3_port)
            if self.lmtp:
                wait_greeting(self.lmtp_port)
        except TimeoutError as e:
            raise TimeoutError(f"{e}; ternd log:\n{self.log_text()[-4000:]}") from None
        return self

    def log_text(self):
        return self.log_path.read_text(errors="replace")

    def worker_pids(self, role=None):
        """pids of the workers; with role ("imap-login", "imap", "auth",
        "lmtp" ...), only those running as `ternd --worker ROLE`."""
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True)
        pids = [int(p) for p in out.stdout.split()]
        if role is None:
            return pids
        found = []
        for pid in pids:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if argv[1:3] == [b"--worker", role.encode()]:
                found.append(pid)
        return found

    def rss_kb(self):
        """Resident memory of the master and its workers, in KiB."""
        total = 0
        for pid in [self.proc.pid] + self.worker_pids():
            try:
                for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except FileNotFoundError:
                pass
        return total

    def signal(self, signo):
        self.proc.send_signal(signo)

    def stop(self, check=True):
        if self.proc is None:
            return
        if self in _live_servers:
            _live_servers.remove(self)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
                if check:
                    raise AssertionError("ternd did not stop on SIGTERM")
        # workers die with the master (PDEATHSIG); make sure nothing lingers
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.log.close()
        rc = self.proc.returncode
        self.proc = None
        if check:
            text = self.log_text()
            bad = [m for m in SANITIZER_MARKERS if m in text]
            assert not bad, f"ternd log has {bad}:\n{text[-6000:]}"
            assert rc == 0, f"ternd exited with {rc}:\n{text[-3000:]}"


@pytest.fixture
def ternd_factory(tmp_path):
    servers = []

    def make(**kwargs):
        d = tmp_path / f"srv{len(servers)}"
        d.mkdir()
        srv = Ternd(d, **kwargs)
        servers.append(srv)
        return srv

    yield make
    errors = []
    for srv in servers:
        try:
            srv.stop()
        except AssertionError as e:
            errors.append(str(e))
    if errors:
        pytest.fail("\n".join(errors))


@pytest.fixture
def ternd(ternd_factory):
    return ternd_factory().start()
