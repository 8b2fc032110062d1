"""NOTIFY (RFC 5465) against a running ternd, over raw sockets with two
sessions (and LMTP and a Maildir delivery as other programs): the command's
syntax and its errors (BAD, NO [BADEVENT (...)], NO [NOTIFICATIONOVERFLOW]),
the STATUS indicator, every filter (selected, selected-delayed, inboxes,
personal, subscribed, subtree, mailboxes) and event (MessageNew with fetch
attributes, MessageExpunge, FlagChange, MailboxName, SubscriptionChange),
that a session is not told about its own changes (§5), events during IDLE
(§4), NOTIFY NONE, the overflow of the event queue (§5.8), the latency of
an event in a watched mailbox, and that idle NOTIFY sessions cost no CPU.
Latencies are printed (run with -s)."""
import os
import re
import smtplib
import socket
import time

import pytest

from mailutil import ternd  # noqa: F401,F811  (fixture: closes sessions first)
from mailutil import (Imap, apply_expunges, close_sessions, fetch_list, list_entries,
                      maildir, maildir_deliver, message, status_items)

SUPPORTED = (b"[BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange"
             b" MailboxMetadataChange ServerMetadataChange)]")
SUPPORTED_NO_METADATA = (b"[BADEVENT (MessageNew MessageExpunge FlagChange MailboxName"
                         b" SubscriptionChange)]")
LATENCY_LIMIT = 1.0  # seconds; the goal is well under 100 ms
QUIET = 0.5          # seconds without a response that count as "nothing came"


def collect(session, quiet=QUIET, first=3.0):
    """Unsolicited responses: waits up to `first` seconds for one, then
    takes more until `quiet` seconds pass without any."""
    out = []
    resp = session.wait_response(first)
    while resp is not None:
        out.append(resp)
        resp = session.wait_response(quiet)
    return out


def nothing(session, seconds=QUIET):
    resp = session.wait_response(seconds)
    assert resp is None, resp


def statuses(untagged):
    return [status_items(r) for r in untagged if r.startswith(b"* STATUS ")]


def lists(untagged):
    """'* LIST' lines as (name, attrs, extra) in order."""
    out = []
    for resp in untagged:
        if resp.startswith(b"* LIST "):
            [(name, (attrs, extra))] = list_entries([resp]).items()
            out.append((name, attrs, extra))
    return out


def sessions(srv, rev2=False):
    return Imap(srv.imap_port, rev2=rev2), Imap(srv.imap_port, rev2=rev2)


# --- the command -------------------------------------------------------------

def test_capability(ternd):
    a = Imap(ternd.imap_port, login=False)
    assert b" NOTIFY" in a.ok("CAPABILITY")[0]
    a = Imap(ternd.imap_port)
    assert b" NOTIFY" in a.ok("CAPABILITY")[0]


@pytest.mark.parametrize("args", [
    "", "BOGUS", "NONE extra", "SET", "SET STATUS", "SET ()", "SET personal",
    "SET (personal)", "SET (personal ())", "SET (personal MessageNew)",
    "SET (personal (\"MessageNew\"))", "SET (personal (MessageNew)) extra",
    "SET (unknown (MessageNew))", "SET (subtree (MessageNew))",
    "SET (mailboxes () (MessageNew))", "SET (mailboxes INBOX)",
    "SET (personal INBOX (MessageNew))",
    "SET (personal (MessageNew (BOGUS) MessageExpunge))",
    # RFC 5465 §5: MessageNew and MessageExpunge together, FlagChange with
    # both, for the selected mailbox
    "SET (selected (MessageNew))", "SET (selected (MessageExpunge))",
    "SET (selected-delayed (FlagChange))", "SET (selected (MessageNew FlagChange))",
    # §6.1: one selected filter, message events only
    "SET (selected (MessageNew MessageExpunge)) (selected-delayed NONE)",
    "SET (selected (MailboxName))", "SET (selected-delayed (SubscriptionChange))",
    "SET (selected INBOX (MessageNew MessageExpunge))",
])
def test_syntax_errors_are_bad(ternd, args):
    a = Imap(ternd.imap_port)
    _, tagged = a.cmd(f"NOTIFY {args}".rstrip())
    assert tagged.startswith(b"BAD "), (args, tagged)


@pytest.mark.parametrize("events", [
    "(MessageNew MessageExpunge AnnotationChange)",
    "(XFutureEvent)", "(MailboxName XFutureEvent)",
])
def test_unsupported_events_are_badevent(ternd, events):
    """§3.1: NO (not BAD) with BADEVENT listing every supported event."""
    a = Imap(ternd.imap_port)
    _, tagged = a.cmd(f"NOTIFY SET (personal {events})")
    assert tagged.startswith(b"NO " + SUPPORTED), tagged


def test_too_many_names_is_overflow(ternd):
    a = Imap(ternd.imap_port)
    names = " ".join(f"box{i}" for i in range(101))
    _, tagged = a.cmd(f"NOTIFY SET (mailboxes ({names}) (MessageNew MessageExpunge))")
    assert tagged.startswith(b"NO [NOTIFICATIONOVERFLOW]"), tagged
    names = " ".join(f"box{i}" for i in range(100))
    a.ok(f"NOTIFY SET (mailboxes ({names}) (MessageNew MessageExpunge))")


def test_case_insensitive_and_none_groups(ternd):
    a, b = sessions(ternd)
    a.ok("NOTIFY set (PERSONAL (messagenew MESSAGEEXPUNGE)) (Selected NONE)")
    b.append_ok("INBOX", message("x"))
    assert [box for box, _ in statuses(collect(a))] == ["INBOX"]


def test_failed_notify_keeps_the_previous_one(ternd):
    a, b = sessions(ternd)
    a.ok("NOTIFY SET (personal (MessageNew MessageExpunge))")
    assert a.cmd("NOTIFY SET (selected (MessageNew))")[1].startswith(b"BAD")
    assert a.cmd("NOTIFY SET (personal (AnnotationChange))")[1].startswith(b"NO")
    b.append_ok("Sent", message("x"))
    assert [box for box, _ in statuses(collect(a))] == ["Sent"]


# --- the STATUS indicator ----------------------------------------------------

def test_status_indicator(ternd):
    a, b = sessions(ternd)
    b.ok("CREATE Lists/a")
    b.ok("CREATE Lists/b")
    b.ok("CREATE Listsx")
    b.append_ok("Lists/a", message("one"))
    a.select("INBOX")
    untagged = a.ok("NOTIFY SET STATUS (subtree Lists (MessageNew MessageExpunge)) "
                    "(mailboxes (Trash nothere) (FlagChange)) (mailboxes Sent (MailboxName))")
    got = dict(statuses(untagged))
    # Lists itself, its children, Trash; not Listsx, Sent (no message
    # event) or the name that doesn't exist
    assert sorted(got) == ["Lists", "Lists/a", "Lists/b", "Trash"], untagged
    assert got["Lists/a"]["MESSAGES"] == 1 and got["Lists/a"]["UIDNEXT"] == 2
    assert set(got["Lists/b"]) == {"MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN"}
    # FlagChange: HIGHESTMODSEQ too (§3.1)
    assert "HIGHESTMODSEQ" in got["Trash"] and "UIDVALIDITY" in got["Trash"]
    # without the indicator: none
    assert statuses(a.ok("NOTIFY SET (subtree Lists (MessageNew MessageExpunge))")) == []


def test_status_indicator_skips_the_selected_mailbox(ternd):
    a = Imap(ternd.imap_port)
    a.select("Drafts")
    got = dict(statuses(a.ok("NOTIFY SET STATUS (personal (MessageNew MessageExpunge))")))
    assert "Drafts" not in got and {"INBOX", "Sent", "Trash"} <= set(got)
    # CONDSTORE on: HIGHESTMODSEQ in every STATUS
    a.ok("ENABLE CONDSTORE")
    got = dict(statuses(a.ok("NOTIFY SET STATUS (personal (MessageNew MessageExpunge))")))
    assert all("HIGHESTMODSEQ" in items for items in got.values()), got


# --- message events of other mailboxes ---------------------------------------

def test_messagenew_latency_and_status(ternd):
    a, b = sessions(ternd)
    a.ok("NOTIFY SET (personal (MessageNew MessageExpunge))")
    start = time.monotonic()
    b.append_ok("Sent", message("x"))
    resp = a.wait_response(LATENCY_LIMIT)
    latency = time.monotonic() - start
    print(f"\n[latency] NOTIFY STATUS after another session's APPEND: {latency * 1000:.1f} ms")
    assert resp is not None, "no STATUS within a second"
    box, items = status_items(resp)
    assert box == "Sent"
    assert items["MESSAGES"] == 1 and items["UIDNEXT"] == 2 and items["UNSEEN"] == 1
    assert "UIDVALIDITY" in items and "HIGHESTMODSEQ" not in items
    nothing(a)


def test_expunge_and_flag_change(ternd):
    a, b = sessions(ternd)
    for i in range(3):
        b.append_ok("Trash", message(f"m{i}"))
    b.select("Trash")
    a.ok("NOTIFY SET (mailboxes Trash (MessageNew MessageExpunge FlagChange))")
    b.ok("STORE 1 +FLAGS (\\Seen)")
    [(box, items)] = statuses(collect(a))
    assert box == "Trash" and items["UNSEEN"] == 2 and "HIGHESTMODSEQ" in items
    b.ok("STORE 2 +FLAGS (\\Deleted)")
    collect(a)
    b.ok("EXPUNGE")
    [(box, items)] = statuses(collect(a))
    assert items["MESSAGES"] == 2 and items["UIDNEXT"] == 4
    # without FlagChange, a flag change is no event
    a.ok("NOTIFY SET (mailboxes Trash (MessageNew MessageExpunge))")
    b.ok("STORE 1:* +FLAGS (\\Flagged)")
    nothing(a)
    b.ok("STORE 1 +FLAGS (\\Deleted)")
    b.ok("EXPUNGE")
    [(box, items)] = statuses(collect(a))
    assert items["MESSAGES"] == 1


def test_expunge_only_watcher(ternd):
    """A group may watch only MessageExpunge of another mailbox."""
    a, b = sessions(ternd)
    b.append_ok("Junk", message("x"))
    a.ok("NOTIFY SET (mailboxes Junk (MessageExpunge))")
    b.append_ok("Junk", message("y"))
    nothing(a)
    b.select("Junk")
    b.ok("STORE 1 +FLAGS (\\Deleted)")
    b.ok("EXPUNGE")
    [(box, items)] = statuses(collect(a))
    assert box == "Junk" and items["MESSAGES"] == 1


def test_condstore_adds_highestmodseq(ternd):
    a, b = sessions(ternd)
    a.ok("ENABLE CONDSTORE")
    a.ok("NOTIFY SET (personal (MessageNew MessageExpunge))")
    b.append_ok("Sent", message("x"))
    [(box, items)] = statuses(collect(a))
    assert items["HIGHESTMODSEQ"] > 1


def test_own_changes_are_not_echoed(ternd):
    """§5: the server SHOULD omit events the client caused itself."""
    a, b = sessions(ternd)
    a.ok("NOTIFY SET (personal (MessageNew MessageExpunge FlagChange MailboxName "
         "SubscriptionChange))")
    a.append_ok("Sent", message("own"))
    a.ok("CREATE mine")
    a.ok("RENAME mine mine2")
    a.ok("SUBSCRIBE mine2")
    a.select("Sent")
    a.ok("COPY 1 Trash")
    a.ok("STORE 1 +FLAGS (\\Seen)")
    a.ok("UNSELECT")
    a.ok("DELETE mine2")
    nothing(a)
    # someone else's change right after is still news
    b.append_ok("Trash", message("theirs"))
    [(box, items)] = statuses(collect(a))
    assert box == "Trash" and items["MESSAGES"] == 2


def test_lmtp_delivery_is_an_event(ternd_factory):
    srv = ternd_factory(lmtp=True, process_count=1).start()
    try:
        a = Imap(srv.imap_port)
        a.ok("NOTIFY SET (inboxes (MessageNew MessageExpunge))")
        start = time.monotonic()
        with smtplib.LMTP("127.0.0.1", srv.lmtp_port) as lmtp:
            lmtp.sendmail("bob@example.net", ["alice@example.org"], message("via lmtp"))
        resp = a.wait_response(LATENCY_LIMIT)
        print(f"\n[latency] NOTIFY STATUS after LMTP delivery: "
              f"{(time.monotonic() - start) * 1000:.1f} ms")
        assert resp is not None, "no STATUS within a second"
        box, items = status_items(resp)
        assert box == "INBOX" and items["MESSAGES"] == 1
        nothing(a)
    finally:
        close_sessions()


def test_other_programs_delivery_into_a_watched_mailbox(ternd):
    """A file an MDA puts into INBOX's new/ is seen without any session
    touching INBOX: NOTIFY watches the directory."""
    a = Imap(ternd.imap_port)
    a.ok("NOTIFY SET (personal (MessageNew MessageExpunge))")
    start = time.monotonic()
    maildir_deliver(maildir(ternd), message("dropped in new/"))
    resp = a.wait_response(LATENCY_LIMIT)
    print(f"\n[latency] NOTIFY STATUS after a delivery into new/: "
          f"{(time.monotonic() - start) * 1000:.1f} ms")
    assert resp is not None
    box, items = status_items(resp)
    assert box == "INBOX" and items["MESSAGES"] == 1


# --- filters -----------------------------------------------------------------

def test_filters(ternd):
    a, b = sessions(ternd)
    b.ok("CREATE Lists/x")
    b.ok("CREATE Lists2")
    b.ok("CREATE Other")
    b.ok("SUBSCRIBE Other")
    ev = "(MessageNew MessageExpunge)"
    for spec, expect in [
        (f"(inboxes {ev})", {"INBOX", "Lists", "Lists/x", "Lists2", "Other", "Sent"}),
        (f"(personal {ev})", {"INBOX", "Lists", "Lists/x", "Lists2", "Other", "Sent"}),
        (f"(subscribed {ev})", {"INBOX", "Other", "Sent"}),
        (f"(subtree Lists {ev})", {"Lists", "Lists/x"}),
        (f"(subtree (Lists Other) {ev})", {"Lists", "Lists/x", "Other"}),
        (f"(mailboxes (Lists inbox) {ev})", {"Lists", "INBOX"}),
        # the first group that covers a mailbox decides (NONE included)
        (f"(mailboxes Lists NONE) (personal {ev})", {"INBOX", "Lists/x", "Lists2", "Other", "Sent"}),
        (f"(subtree Lists (MailboxName)) (personal {ev})",
         {"INBOX", "Lists", "Lists/x", "Lists2", "Other", "Sent"}),
    ]:
        a.ok(f"NOTIFY SET {spec}")
        for box in ("INBOX", "Lists", "Lists/x", "Lists2", "Other", "Sent"):
            b.append_ok(box, message(box))
        got = {box for box, _ in statuses(collect(a))}
        assert got == expect, (spec, got)


def test_subscribed_follows_subscriptions(ternd):
    """§6.4: the subscriptions as they are when the change happens."""
    a, b = sessions(ternd)
    b.ok("CREATE Later")
    a.ok("NOTIFY SET (subscribed (MessageNew MessageExpunge))")
    b.append_ok("Later", message("x"))
    nothing(a)
    b.ok("SUBSCRIBE Later")
    b.append_ok("Later", message("y"))
    assert [box for box, _ in statuses(collect(a))] == ["Later"]


def test_mailboxes_filter_names_are_not_patterns_and_may_not_exist_yet(ternd):
    a, b = sessions(ternd)
    a.ok("NOTIFY SET (mailboxes (\"Fut*\" Future) (MessageNew MessageExpunge MailboxName))")
    b.ok("CREATE Future")
    b.ok("CREATE Futures")
    assert [(name, attrs) for name, attrs, _ in lists(collect(a))] == \
        [("Future", {"\\HasNoChildren"})]
    b.append_ok("Future", message("x"))
    b.append_ok("Futures", message("x"))
    assert [box for box, _ in statuses(collect(a))] == ["Future"]


# --- MailboxName and SubscriptionChange --------------------------------------

def test_mailboxname_events(ternd):
    a, b = sessions(ternd)
    a.ok("NOTIFY SET (personal (MailboxName))")
    b.ok("CREATE Work")
    assert lists(collect(a)) == [("Work", {"\\HasNoChildren"}, [])]
    b.ok("CREATE Work/2024")
    got = lists(collect(a))
    assert got == [("Work/2024", {"\\HasNoChildren"}, [])], got
    b.ok("RENAME Work Job")
    got = {name: (attrs, extra) for name, attrs, extra in lists(collect(a))}
    # §5.4: one LIST with OLDNAME for each renamed mailbox
    assert got == {"Job": ({"\\HasChildren"}, [[b"OLDNAME", ["Work"]]]),
                   "Job/2024": ({"\\HasNoChildren"}, [[b"OLDNAME", ["Work/2024"]]])}, got
    b.ok("DELETE Job")
    # deleted with a child: the name stays as \Noselect
    assert lists(collect(a)) == [("Job", {"\\Noselect", "\\HasChildren"}, [])]
    b.ok("DELETE Job/2024")
    got = {name: attrs for name, attrs, _ in lists(collect(a))}
    assert got == {"Job/2024": {"\\NonExistent"}, "Job": {"\\NonExistent"}}, got
    # message events were not asked for
    b.append_ok("INBOX", message("x"))
    nothing(a)


def test_mailboxname_for_a_watched_name_only(ternd):
    a, b = sessions(ternd)
    a.ok("NOTIFY SET (subtree Watched (MailboxName))")
    b.ok("CREATE Elsewhere")
    nothing(a)
    b.ok("RENAME Elsewhere Watched/in")
    got = lists(collect(a))
    names = [name for name, _, _ in got]
    assert "Watched/in" in names, got


def test_subscription_change(ternd):
    a, b = sessions(ternd)
    b.ok("CREATE Box")
    a.ok("NOTIFY SET (personal (SubscriptionChange))")
    b.ok("SUBSCRIBE Box")
    assert lists(collect(a)) == [("Box", {"\\HasNoChildren", "\\Subscribed"}, [])]
    b.ok("UNSUBSCRIBE Box")
    assert lists(collect(a)) == [("Box", {"\\HasNoChildren"}, [])]
    b.ok("SUBSCRIBE Ghost")
    assert lists(collect(a)) == [("Ghost", {"\\NonExistent", "\\Subscribed"}, [])]
    # creating is no subscription change
    b.ok("CREATE New")
    nothing(a)


def test_names_follow_the_clients_encoding(ternd):
    a, b = sessions(ternd)
    a.ok("NOTIFY SET (personal (MailboxName MessageNew MessageExpunge))")
    b.ok("CREATE &AOQ-pfel")
    assert lists(collect(a)) == [("&AOQ-pfel", {"\\HasNoChildren"}, [])]
    c = Imap(ternd.imap_port, rev2=True)
    c.ok("NOTIFY SET (mailboxes \"äpfel\" (MessageNew MessageExpunge))")
    b.append_ok("&AOQ-pfel", message("x"))
    assert [box for box, _ in statuses(collect(c))] == ["äpfel"]
    assert [box for box, _ in statuses(collect(a))] == ["&AOQ-pfel"]


# --- the selected mailbox ----------------------------------------------------

def test_selected_events(ternd):
    a, b = sessions(ternd)
    a.select("INBOX")
    b.select("INBOX")
    a.ok("NOTIFY SET (selected (MessageNew (UID BODY[HEADER.FIELDS (Subject)] RFC822.SIZE) "
         "MessageExpunge FlagChange))")
    b.append_ok("INBOX", message("first"))
    got = collect(a)
    assert got[0] == b"* 1 EXISTS", got
    [(seq, items)] = fetch_list(got)
    assert seq == 1 and items["UID"] == "1"
    assert items["BODY[HEADER.FIELDS (SUBJECT)]"] == b"Subject: first\r\n\r\n"
    assert "RFC822.SIZE" in items
    # the body section didn't set \Seen (§5.2: a notification sets nothing)
    assert "\\Seen" not in a.fetch("1 (FLAGS)")[1]["FLAGS"]
    b.ok("NOOP")
    b.ok("STORE 1 +FLAGS (\\Flagged)")
    [(seq, items)] = fetch_list(collect(a))
    assert seq == 1 and "\\Flagged" in items["FLAGS"] and items["UID"] == "1"
    b.ok("STORE 1 +FLAGS (\\Deleted)")
    collect(a)
    b.ok("EXPUNGE")
    got = collect(a)
    assert b"* 1 EXPUNGE" in got, got
    # own APPEND and COPY: EXISTS with the command, no FETCH (§5.2)
    untagged, _ = a.append("INBOX", message("mine"))
    assert b"* 1 EXISTS" in untagged
    nothing(a)
    untagged = a.ok("UID COPY 2 INBOX")
    assert b"* 2 EXISTS" in untagged and not fetch_list(untagged), untagged
    nothing(a)
    # while someone else's message arriving meanwhile is fetched
    b.append_ok("INBOX", message("theirs"))
    got = collect(a)
    assert got[0] == b"* 3 EXISTS" and fetch_list(got)[0][1]["UID"] == "4", got


def test_selected_without_flagchange(ternd):
    a, b = sessions(ternd)
    b.append_ok("INBOX", message("one"))
    a.select("INBOX")
    b.select("INBOX")
    a.ok("NOTIFY SET (selected (MessageNew MessageExpunge))")
    b.ok("STORE 1 +FLAGS (\\Seen)")
    nothing(a)
    b.append_ok("INBOX", message("two"))
    got = collect(a)
    assert b"* 2 EXISTS" in got, got
    # the waiting flag change goes with it
    assert any(u.startswith(b"* 1 FETCH") for u in got), got


def test_selected_delayed_holds_expunges(ternd):
    a, b = sessions(ternd)
    for i in range(3):
        b.append_ok("INBOX", message(f"m{i}"))
    a.select("INBOX")
    b.select("INBOX")
    a.ok("NOTIFY SET (selected-delayed (MessageNew MessageExpunge FlagChange))")
    b.ok("STORE 1 +FLAGS (\\Deleted)")
    got = collect(a)
    assert [seq for seq, _ in fetch_list(got)] == [1]
    b.ok("EXPUNGE")
    nothing(a)
    b.append_ok("INBOX", message("new"))
    # new messages are not held: the view still has the expunged one
    got = collect(a)
    assert got[0] == b"* 4 EXISTS", got
    # not during a FETCH by number (RFC 9051 §7.5.1)
    untagged = a.ok("FETCH 1:* (UID)")
    assert not any(b"EXPUNGE" in u for u in untagged), untagged
    untagged = a.ok("NOOP")
    assert apply_expunges([1, 2, 3, 4], untagged) == [2, 3, 4], untagged


def test_selected_expunge_is_sent_at_once(ternd):
    """With "selected", the client promised to use UIDs only (§5.3): an
    expunge held back during a FETCH by number is sent right after it."""
    a, b = sessions(ternd)
    for i in range(2):
        b.append_ok("INBOX", message(f"m{i}"))
    a.select("INBOX")
    b.select("INBOX")
    a.ok("NOTIFY SET (selected (MessageNew MessageExpunge))")
    b.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    assert collect(a)[:2] == [b"* 1 EXPUNGE", b"* 1 EXISTS"]


def test_selected_none_and_omitted(ternd):
    """§3.1: no selected group is SELECTED NONE: no events between
    commands; the command responses still report (RFC 9051 §7)."""
    a, b = sessions(ternd)
    a.select("INBOX")
    for spec in ("(selected NONE) (personal (MailboxName))", "(personal (MailboxName))"):
        a.ok(f"NOTIFY SET {spec}")
        b.append_ok("INBOX", message("x"))
        nothing(a)
        assert any(re.match(rb"\* \d+ EXISTS", u) for u in a.ok("NOOP"))


def test_notify_set_is_an_implicit_noop(ternd):
    a, b = sessions(ternd)
    a.select("INBOX")
    b.append_ok("INBOX", message("x"))
    untagged = a.ok("NOTIFY SET (selected (MessageNew MessageExpunge))")
    assert b"* 1 EXISTS" in untagged, untagged


def test_events_follow_the_selected_mailbox(ternd):
    a, b = sessions(ternd)
    a.select("INBOX")
    a.ok("NOTIFY SET (selected (MessageNew MessageExpunge)) (personal (MessageNew MessageExpunge))")
    b.append_ok("INBOX", message("x"))
    assert collect(a)[0] == b"* 1 EXISTS"
    b.append_ok("Sent", message("x"))
    assert [box for box, _ in statuses(collect(a))] == ["Sent"]
    a.select("Sent")
    b.append_ok("Sent", message("y"))
    assert collect(a)[0] == b"* 2 EXISTS"
    b.append_ok("INBOX", message("y"))
    assert [box for box, _ in statuses(collect(a))] == ["INBOX"]
    a.ok("UNSELECT")
    b.append_ok("Sent", message("z"))
    assert [box for box, _ in statuses(collect(a))] == ["Sent"]


# --- IDLE, NOTIFY NONE, overflow ----------------------------------------------

def test_idle_sends_notify_events(ternd):
    a, b = sessions(ternd)
    b.append_ok("INBOX", message("m"))
    a.select("INBOX")
    b.select("INBOX")
    a.ok("NOTIFY SET (selected-delayed (MessageNew MessageExpunge)) "
         "(personal (MessageNew MessageExpunge MailboxName))")
    a.send("i1 IDLE\r\n")
    assert a.read_response().startswith(b"+ ")
    b.append_ok("Sent", message("x"))
    assert [box for box, _ in statuses(collect(a))] == ["Sent"]
    b.ok("CREATE InIdle")
    assert [name for name, _, _ in lists(collect(a))] == ["InIdle"]
    # IDLE allows expunges, also for selected-delayed (§6.1)
    b.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
    b.ok("EXPUNGE")
    assert b"* 1 EXPUNGE" in collect(a)
    a.send("DONE\r\n")
    assert a.read_response() == b"i1 OK Idle completed."


def test_idle_with_selected_none_sends_nothing_for_it(ternd):
    """§4: in IDLE exactly the NOTIFY events are sent."""
    a, b = sessions(ternd)
    a.select("INBOX")
    a.ok("NOTIFY SET (personal (MailboxName))")
    a.send("i1 IDLE\r\n")
    assert a.read_response().startswith(b"+ ")
    b.append_ok("INBOX", message("x"))
    nothing(a)
    a.send("DONE\r\n")
    _, tagged = a.read_until_tagged("i1")
    assert tagged == b"i1 OK Idle completed."


def test_notify_none(ternd):
    a, b = sessions(ternd)
    a.ok("NOTIFY SET (personal (MessageNew MessageExpunge MailboxName))")
    a.ok("NOTIFY NONE")
    b.append_ok("Sent", message("x"))
    b.ok("CREATE Quiet")
    nothing(a)
    # and IDLE is plain IDLE again
    a.select("INBOX")
    a.send("i1 IDLE\r\n")
    assert a.read_response().startswith(b"+ ")
    b.append_ok("INBOX", message("x"))
    assert collect(a)[0] == b"* 1 EXISTS"
    a.send("DONE\r\n")
    a.read_until_tagged("i1")


def test_overflow(ternd):
    """§5.8: too many events wait (the session is busy with an APPEND whose
    literal doesn't come): OK [NOTIFICATIONOVERFLOW], then NOTIFY is off."""
    a, b = sessions(ternd)
    a.ok("NOTIFY SET (personal (SubscriptionChange))")
    a.send("a1 APPEND INBOX {10}\r\n")
    assert a.read_response().startswith(b"+ ")
    count = 1010
    b.send("".join(f"s{i} SUBSCRIBE sub{i:05}\r\n" for i in range(count)))
    b.read_until_tagged(f"s{count - 1}")
    time.sleep(0.3)
    a.send("0123456789\r\n")
    untagged, tagged = a.read_until_tagged("a1")
    assert tagged.startswith(b"a1 OK"), tagged
    got = untagged + collect(a)
    assert not any(u.startswith(b"* LIST") for u in got), got[:5]
    assert any(u.startswith(b"* OK [NOTIFICATIONOVERFLOW]") for u in got), got
    b.ok("SUBSCRIBE after")
    nothing(a)
    # a new NOTIFY starts over
    a.ok("NOTIFY SET (personal (SubscriptionChange))")
    b.ok("UNSUBSCRIBE after")
    assert lists(collect(a)) == [("after", {"\\NonExistent"}, [])]


def test_late_reader_gets_every_event_in_order(ternd):
    """A client that reads late (with a small receive window) gets every
    event, in order, once it reads: nothing is lost between the queue, the
    output buffer and the socket."""
    a = Imap(ternd.imap_port)
    a.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    b = Imap(ternd.imap_port)
    a.ok("NOTIFY SET (personal (SubscriptionChange))")
    count, pad = 900, "x" * 480
    b.send("".join(f"s{i} SUBSCRIBE {pad}{i:04}\r\n" for i in range(count)))
    b.read_until_tagged(f"s{count - 1}")
    time.sleep(0.5)
    got = []
    a.sock.settimeout(5)
    while len(got) < count:
        got.append(a.read_response())
    assert [name for name, _, _ in lists(got)] == [f"{pad}{i:04}" for i in range(count)]
    nothing(a)
    a.ok("NOOP")


def test_events_wait_for_a_running_command(ternd):
    """Nothing is written into a command's responses; what happened
    meanwhile comes after it."""
    a, b = sessions(ternd)
    a.ok("NOTIFY SET (personal (SubscriptionChange))")
    a.send("a1 APPEND INBOX {10}\r\n")
    assert a.read_response().startswith(b"+ ")
    b.ok("SUBSCRIBE waiting")
    nothing(a)
    a.send("0123456789\r\n")
    untagged, tagged = a.read_until_tagged("a1")
    got = untagged + collect(a)
    assert lists(got) == [("waiting", {"\\NonExistent", "\\Subscribed"}, [])], got


# --- cost ---------------------------------------------------------------------

def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_idle_notify_sessions_use_no_cpu(ternd_factory):
    srv = ternd_factory(process_count=1).start()
    try:
        idle = []
        for _ in range(40):
            s = Imap(srv.imap_port)
            s.select("INBOX")
            s.ok("NOTIFY SET (selected (MessageNew MessageExpunge FlagChange)) "
                 "(personal (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange))")
            idle.append(s)
        # the sessions run in the mail worker (one, with process_count 1)
        [worker] = srv.worker_pids("imap")
        time.sleep(0.5)
        before = cpu_seconds(worker)
        time.sleep(3)
        used = cpu_seconds(worker) - before
        print(f"\n[cpu] 40 idle NOTIFY sessions: {used * 1000:.0f} ms of CPU in 3 s")
        assert used < 0.05, used
        # and they all wake for a change
        b = Imap(srv.imap_port)
        b.append_ok("Sent", message("x"))
        for s in idle:
            assert [box for box, _ in statuses(collect(s, quiet=0.05))] == ["Sent"]
    finally:
        close_sessions()


# --- METADATA events (RFC 5465 §5.6, §5.7; RFC 5464 §4.4.2) -------------------

def test_metadata_events(ternd):
    a, b = sessions(ternd)
    b.ok("CREATE Work")
    a.ok("NOTIFY SET (mailboxes Work (MailboxMetadataChange))"
         " (personal (ServerMetadataChange))")
    t = time.monotonic()
    b.ok('SETMETADATA Work (/private/comment "one" /shared/comment "two")')
    first = a.wait_response(3.0)
    print(f"MailboxMetadataChange latency {(time.monotonic() - t) * 1000:.0f} ms")
    got = [first] + collect(a, first=QUIET)
    assert got == [b"* METADATA Work /private/comment /shared/comment"], got
    # a changed value, a removed entry
    b.ok('SETMETADATA Work (/private/comment "changed")')
    assert collect(a) == [b"* METADATA Work /private/comment"]
    b.ok("SETMETADATA Work (/shared/comment NIL)")
    assert collect(a) == [b"* METADATA Work /shared/comment"]
    # setting the same value again changes nothing
    b.ok('SETMETADATA Work (/private/comment "changed")')
    nothing(a)
    # INBOX isn't watched for MailboxMetadataChange
    b.ok('SETMETADATA INBOX (/private/comment "x")')
    nothing(a)
    # server entries
    b.ok('SETMETADATA "" (/shared/comment "server")')
    assert collect(a) == [b'* METADATA "" /shared/comment']
    # the session's own changes are not echoed (§5)
    a.ok('SETMETADATA Work (/private/comment "mine")')
    nothing(a)


def test_metadata_events_need_metadata(ternd_factory):
    srv = ternd_factory(config_extra="imap.metadata = no\n").start()
    a = Imap(srv.imap_port)
    _, tagged = a.cmd("NOTIFY SET (personal (MailboxMetadataChange))")
    assert tagged.startswith(b"NO " + SUPPORTED_NO_METADATA), tagged
