"""Authentication policy (issue 8): progressive delays after failures per
network and per user, refusal after too many failures, and the same wait
for a right guess, through real IMAP and POP3 logins."""
import imaplib
import poplib
import time


def timed_login(srv, user, password):
    m = imaplib.IMAP4("127.0.0.1", srv.imap_port)
    start = time.monotonic()
    try:
        m.login(user, password)
        ok = True
    except imaplib.IMAP4.error as e:
        ok = str(e)
    elapsed = time.monotonic() - start
    try:
        m.logout()
    except Exception:
        pass
    return ok, elapsed


POLICY = """
auth {
  failure_delay = 100ms
  failure_delay_max = 800ms
  penalty_network_failures = 6
  penalty_user_failures = 0
}
"""


def test_failures_slow_down_and_then_refuse(ternd_factory):
    srv = ternd_factory(process_count=1, config_extra=POLICY).start()
    times = []
    for _ in range(5):
        ok, elapsed = timed_login(srv, "alice", "wrong")
        assert ok is not True
        times.append(elapsed)
    # 100, 100, 200, 400, 800 ms: failure_delay, then each answer waits
    # the delay the failures before it earned, doubling to the maximum
    assert times[0] < 0.4 and times[1] < 0.4, times
    assert times[2] >= 0.18 and times[3] >= 0.36 and times[4] >= 0.72, times
    assert times[4] < 2.5, times
    # a right password still waits the current delay
    ok, elapsed = timed_login(srv, "alice", "secret")
    assert ok is True
    assert elapsed >= 0.7, elapsed
    # the success took alice's own failures back; six failures for other
    # names from the same network refuse the network, even a right password
    for name in ("bob", "carol", "dave", "erin", "frank", "gina"):
        timed_login(srv, name, "x")
    ok, _ = timed_login(srv, "alice", "secret")
    assert ok is not True and "AUTHENTICATIONFAILED" in ok
    assert "too many failures from this network" in srv.log_text()


def test_pop3_failures_share_the_penalty(ternd_factory):
    srv = ternd_factory(pop3=True, process_count=1, config_extra=POLICY).start()
    for _ in range(6):
        p = poplib.POP3("127.0.0.1", srv.pop3_port, timeout=10)
        p.user("alice")
        try:
            p.pass_("wrong")
        except poplib.error_proto:
            pass
        p.quit()
    p = poplib.POP3("127.0.0.1", srv.pop3_port, timeout=10)
    p.user("alice")
    try:
        p.pass_("secret")
        assert False, "refused expected"
    except poplib.error_proto as e:
        assert b"-ERR" in e.args[0]
    p.quit()


def test_default_policy_is_on(ternd_factory):
    """Without the test suite's overrides the defaults apply: the second
    failure waits longer than the first."""
    srv = ternd_factory(process_count=1, config_extra="""
auth {
  failure_delay = 200ms
  failure_delay_max = 15s
  penalty_network_failures = 100
  penalty_user_failures = 50
}
""").start()
    _, t1 = timed_login(srv, "alice", "wrong")
    _, t2 = timed_login(srv, "alice", "wrong")
    _, t3 = timed_login(srv, "alice", "wrong")
    assert t3 >= 1.8 * t1, (t1, t2, t3)
