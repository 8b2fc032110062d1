"""A private Postfix instance for tests (Debian's postfix package): its own
config_directory, queue_directory and data_directory in a temporary
directory, smtpd on a free loopback port, its log in a file; the system
instance is never touched. Used by test_auth_socket_postfix.py (SMTP AUTH
through Tern's auth socket) and test_lmtp_crash.py (delivery to ternd over
LMTP)."""
import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import time

from conftest import free_port, wait_port

POSTFIX = shutil.which("postfix")
POSTQUEUE = shutil.which("postqueue")

# the daemons smtpd needs to accept mail (SASL test); chroot off, so the
# daemons see sockets and files at their absolute paths
MASTER_SMTPD = """
postlog unix-dgram n - n - 1 postlogd
anvil unix - - n - 1 anvil
proxymap unix - - n - - proxymap
rewrite unix - - n - - trivial-rewrite
cleanup unix n - n - 0 cleanup
"""
# and those that move the queue and deliver (qmgr, the lmtp client, the
# bounce family for deferrals, flush and showq for postqueue -f / -j)
MASTER_DELIVERY = MASTER_SMTPD + """
pickup unix n - n 60 1 pickup
qmgr unix n - n 300 1 qmgr
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
scache unix - - n - 1 scache
smtp unix - - n - - smtp
relay unix - - n - - smtp
lmtp unix - - n - - lmtp
"""


def world_dir(prefix):
    """A temporary directory the postfix user can traverse: its daemons,
    which run as postfix, must reach sockets inside it (pytest's own
    tmp_path sits below a 0700 directory)."""
    d = pathlib.Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    d.chmod(0o755)
    return d


class PrivatePostfix:
    """`postfix -c <dir>/conf` with its own queue and data directories and
    smtpd on a free loopback port; main_extra is appended to main.cf,
    master names the daemons besides smtpd (MASTER_SMTPD or
    MASTER_DELIVERY)."""

    def __init__(self, directory, main_extra="", master=MASTER_SMTPD):
        self.dir = pathlib.Path(directory)
        self.conf = self.dir / "conf"
        self.queue = self.dir / "queue"
        self.data = self.dir / "data"
        self.log_path = self.dir / "postfix.log"
        self.port = free_port()
        for d in (self.conf, self.queue, self.data):
            d.mkdir()
        shutil.chown(self.data, user="postfix")
        (self.conf / "main.cf").write_text(f"""
compatibility_level = 3.6
queue_directory = {self.queue}
data_directory = {self.data}
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = tern-test.localdomain
mydestination =
local_recipient_maps =
maillog_file = {self.log_path}
maillog_file_prefixes = {self.dir}
smtpd_tls_security_level = none
{main_extra}
""")
        (self.conf / "master.cf").write_text(
            f"127.0.0.1:{self.port} inet n - n - - smtpd\n" + master)

    def run(self, *args, command=None):
        return subprocess.run([command or POSTFIX, "-c", str(self.conf), *args],
                              capture_output=True, text=True, timeout=60)

    def postfix(self, command):
        return self.run(command)

    def start(self):
        res = self.postfix("start")
        if res.returncode != 0:
            raise AssertionError(f"postfix start failed: {res.stdout}{res.stderr}\n"
                                 f"{self.log_text()}")
        wait_port(self.port)
        return self

    def stop(self):
        pid_file = self.queue / "pid" / "master.pid"
        pid = None
        try:
            pid = int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass
        self.postfix("stop")
        deadline = time.monotonic() + 20
        while pid is not None and time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            if pid is not None:
                self.postfix("abort")

    def flush(self):
        """postqueue -f: deliver the deferred mail now (dead
        destinations included)."""
        res = self.run("-f", command=POSTQUEUE)
        assert res.returncode == 0, res.stdout + res.stderr

    def queue_ids(self):
        """Queue ids of the messages still queued (postqueue -j)."""
        res = self.run("-j", command=POSTQUEUE)
        assert res.returncode == 0, res.stdout + res.stderr
        return re.findall(r'"queue_id": "([0-9A-F]+)"', res.stdout)

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""
