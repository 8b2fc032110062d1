"""Mailbox management against a running ternd: CREATE, DELETE, RENAME
(RFC 9051 §6.3.4-6.3.6), SUBSCRIBE/UNSUBSCRIBE/LSUB (§6.3.7, §6.3.8,
RFC 3501 §6.3.9), LIST with wildcards and references (§6.3.9),
LIST-EXTENDED (RFC 5258), CHILDREN (RFC 3348), SPECIAL-USE (RFC 6154),
NAMESPACE (§6.3.10), STATUS (§6.3.11) and mailbox names in modified UTF-7
for IMAP4rev1 clients and UTF-8 after ENABLE IMAP4rev2 (§5.1)."""
import pytest

from mailutil import ternd  # noqa: F401,F811  (fixture: closes sessions first)
from mailutil import (Imap, code, list_entries, maildir, message, parse_data, select_info,
                      status_items)

SPECIAL = {"Drafts", "Sent", "Trash", "Junk", "Archive"}
DEFAULT = SPECIAL | {"INBOX"}


def names(c, line='LIST "" "*"', kind=b"LIST"):
    return set(list_entries(c.ok(line), kind))


def status(c, box, items="MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE RECENT"):
    untagged = c.ok(f"STATUS {box} ({items})")
    assert len(untagged) == 1, untagged
    return status_items(untagged[0])[1]


# --- CREATE -----------------------------------------------------------------

def test_create_and_already_exists(ternd):
    c = Imap(ternd.imap_port)
    assert c.cmd("CREATE Projects")[1].startswith(b"OK")
    assert names(c) == DEFAULT | {"Projects"}
    _, tagged = c.cmd("CREATE Projects")
    assert tagged.startswith(b"NO [ALREADYEXISTS]"), tagged
    info = select_info(c.select("Projects"))
    assert info["EXISTS"] == 0 and info["UIDNEXT"] == 1
    assert maildir(ternd, folder="Projects").is_dir()


def test_create_hierarchy_creates_parents(ternd):
    """RFC 9051 §6.3.4: superior names needed are created."""
    c = Imap(ternd.imap_port)
    c.ok("CREATE a/b/c")
    entries = list_entries(c.ok('LIST "" "a*"'))
    assert set(entries) == {"a", "a/b", "a/b/c"}
    assert "\\HasChildren" in entries["a"][0] and "\\HasChildren" in entries["a/b"][0]
    assert "\\HasNoChildren" in entries["a/b/c"][0]
    # the parents are real, selectable mailboxes
    assert "\\Noselect" not in entries["a"][0]
    select_info(c.select("a/b"))


def test_create_trailing_separator(ternd):
    """RFC 9051 §6.3.4: 'foo/' declares the intent to create children;
    the mailbox is created without the separator."""
    c = Imap(ternd.imap_port)
    c.ok("CREATE folder/")
    assert "folder" in names(c)
    assert "folder/" not in names(c)
    c.ok("CREATE folder/child")
    assert {"folder", "folder/child"} <= names(c)


@pytest.mark.parametrize("name", ["INBOX", "inbox", "InBox"])
def test_create_inbox_refused(ternd, name):
    c = Imap(ternd.imap_port)
    _, tagged = c.cmd(f"CREATE {name}")
    assert tagged.startswith(b"NO"), tagged
    assert names(c) == DEFAULT


@pytest.mark.parametrize("name", ['""', '"/lead"', '"a//b"', '"a/../b"'])
def test_create_invalid_names(ternd, name):
    c = Imap(ternd.imap_port)
    _, tagged = c.cmd(f"CREATE {name}")
    assert tagged.startswith(b"NO") or tagged.startswith(b"BAD"), tagged
    assert names(c) == DEFAULT


# --- DELETE -----------------------------------------------------------------

def test_delete(ternd):
    c = Imap(ternd.imap_port)
    c.ok("CREATE Old")
    c.append_ok("Old", message("gone"))
    c.ok("DELETE Old")
    assert "Old" not in names(c)
    _, tagged = c.cmd("SELECT Old")
    assert tagged.startswith(b"NO [NONEXISTENT]")
    _, tagged = c.cmd("DELETE Old")
    assert tagged.startswith(b"NO [NONEXISTENT]"), tagged
    assert not maildir(ternd, folder="Old").exists()


@pytest.mark.parametrize("name", ["INBOX", "inbox"])
def test_delete_inbox_refused(ternd, name):
    c = Imap(ternd.imap_port)
    c.append_ok("INBOX", message("keep"))
    _, tagged = c.cmd(f"DELETE {name}")
    assert tagged.startswith(b"NO"), tagged
    assert status(c, "INBOX", "MESSAGES") == {"MESSAGES": 1}


def test_delete_parent_keeps_children(ternd):
    """RFC 9051 §6.3.5: inferior names are kept; the parent stays as a
    \\Noselect name; deleting a \\Noselect name with children fails."""
    c = Imap(ternd.imap_port)
    c.ok("CREATE p/q")
    c.append_ok("p", message("in parent"))
    c.append_ok("p/q", message("in child"))
    c.ok("DELETE p")
    assert status(c, "p/q", "MESSAGES") == {"MESSAGES": 1}
    top = list_entries(c.ok('LIST "" "%"'))
    assert "p" in top
    attrs = top["p"][0]
    assert "\\Noselect" in attrs or "\\NonExistent" in attrs, attrs
    assert "\\HasChildren" in attrs, attrs
    _, tagged = c.cmd("SELECT p")
    assert tagged.startswith(b"NO"), tagged
    _, tagged = c.cmd("DELETE p")
    assert tagged.startswith(b"NO"), tagged
    # deleting the last child leaves nothing of p
    c.ok("DELETE p/q")
    assert not {"p", "p/q"} & names(c)


def test_delete_selected_mailbox_in_same_session(ternd):
    c = Imap(ternd.imap_port)
    c.ok("CREATE Box")
    c.append_ok("Box", message("m"))
    c.select("Box")
    c.ok("DELETE Box")
    assert "Box" not in names(c)
    assert c.cmd("NOOP")[1].startswith(b"OK")


@pytest.mark.parametrize("poll", ["NOOP", "CHECK"])
def test_delete_selected_mailbox_from_other_session(ternd, poll):
    """RFC 2180 §3.3: the session that has the deleted mailbox selected
    may be disconnected with BYE (which Tern does, imap-sync.c)."""
    a = Imap(ternd.imap_port)
    a.ok("CREATE Shared")
    a.append_ok("Shared", message("m"))
    a.select("Shared")
    b = Imap(ternd.imap_port)
    b.ok("DELETE Shared")
    a.send(f"n1 {poll}\r\n")
    lines = []
    try:
        while True:
            line = a.read_response()
            lines.append(line)
            if line.startswith(b"n1 "):
                break
    except (ConnectionError, OSError):
        pass
    assert any(line.startswith(b"* BYE") for line in lines), lines
    assert a.closed(timeout=3)
    assert "Shared" not in names(b)


# --- RENAME -----------------------------------------------------------------

def test_rename_with_children(ternd):
    c = Imap(ternd.imap_port)
    c.ok("CREATE a/b/c")
    c.append_ok("a", message("top"))
    c.append_ok("a/b", message("mid"))
    c.ok("RENAME a z")
    assert names(c) == DEFAULT | {"z", "z/b", "z/b/c"}
    assert status(c, "z", "MESSAGES") == {"MESSAGES": 1}
    assert status(c, "z/b", "MESSAGES") == {"MESSAGES": 1}
    assert maildir(ternd, folder="z/b").is_dir() and not maildir(ternd, folder="a").exists()
    c.select("z/b")
    res = c.fetch("1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]")
    assert res[1]["BODY[HEADER.FIELDS (SUBJECT)]"] == b"Subject: mid\r\n\r\n"
    _, tagged = c.cmd("SELECT a")
    assert tagged.startswith(b"NO [NONEXISTENT]")


def test_rename_creates_superiors(ternd):
    c = Imap(ternd.imap_port)
    c.ok("CREATE src")
    c.ok("RENAME src x/y/z")
    assert {"x", "x/y", "x/y/z"} <= names(c)
    assert "src" not in names(c)


def test_rename_errors(ternd):
    c = Imap(ternd.imap_port)
    c.ok("CREATE one")
    c.ok("CREATE two")
    _, tagged = c.cmd("RENAME one two")
    assert tagged.startswith(b"NO [ALREADYEXISTS]"), tagged
    _, tagged = c.cmd("RENAME nosuch three")
    assert tagged.startswith(b"NO [NONEXISTENT]"), tagged
    _, tagged = c.cmd("RENAME one INBOX")
    assert tagged.startswith(b"NO"), tagged
    _, tagged = c.cmd("RENAME one")
    assert tagged.startswith(b"BAD"), tagged
    assert names(c) == DEFAULT | {"one", "two"}


def test_rename_inbox_moves_messages(ternd):
    """RFC 9051 §6.3.6: renaming INBOX moves its messages to the new
    name and leaves INBOX empty; INBOX's children are not moved."""
    c = Imap(ternd.imap_port)
    c.append_ok("INBOX", message("first"))
    c.append_ok("INBOX", message("second"), flags="\\Seen")
    c.ok("RENAME INBOX Saved")
    assert {"INBOX", "Saved"} <= names(c)
    assert status(c, "INBOX", "MESSAGES")["MESSAGES"] == 0
    assert status(c, "Saved", "MESSAGES UNSEEN") == {"MESSAGES": 2, "UNSEEN": 1}
    c.select("Saved")
    res = c.fetch("1:2 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    assert res[1]["BODY[HEADER.FIELDS (SUBJECT)]"] == b"Subject: first\r\n\r\n"
    assert "\\Seen" in res[2]["FLAGS"]
    # INBOX works as before
    uid = c.append_ok("INBOX", message("third"))
    assert uid >= 1
    assert status(c, "INBOX", "MESSAGES")["MESSAGES"] == 1


# --- SUBSCRIBE / LSUB ---------------------------------------------------------

def test_subscribe_unsubscribe_lsub(ternd):
    c = Imap(ternd.imap_port)
    c.ok("CREATE news")
    c.ok("CREATE work")
    c.ok("SUBSCRIBE news")
    c.ok("SUBSCRIBE work")
    lsub = names(c, 'LSUB "" "*"', b"LSUB")
    assert {"news", "work"} <= lsub
    c.ok("UNSUBSCRIBE work")
    lsub = names(c, 'LSUB "" "*"', b"LSUB")
    assert "news" in lsub and "work" not in lsub
    # a mailbox that is unsubscribed stays a mailbox
    assert "work" in names(c)
    # LIST (SUBSCRIBED) marks them \Subscribed
    entries = list_entries(c.ok('LIST (SUBSCRIBED) "" "*"'))
    assert "news" in entries and "work" not in entries
    assert "\\Subscribed" in entries["news"][0]


def test_subscription_survives_delete(ternd):
    """RFC 9051 §6.3.7: the server MUST NOT remove a name from the
    subscriptions because the mailbox is gone; RFC 5258 §3.1 lists it as
    \\NonExistent \\Subscribed."""
    c = Imap(ternd.imap_port)
    c.ok("CREATE temp")
    c.ok("SUBSCRIBE temp")
    c.ok("DELETE temp")
    lsub = list_entries(c.ok('LSUB "" "*"'), b"LSUB")
    assert "temp" in lsub
    entries = list_entries(c.ok('LIST (SUBSCRIBED) "" "*"'))
    assert entries["temp"][0] >= {"\\NonExistent", "\\Subscribed"}, entries["temp"]
    # plain LIST doesn't show a name that doesn't exist
    assert "temp" not in names(c)
    c.ok("UNSUBSCRIBE temp")
    assert "temp" not in names(c, 'LSUB "" "*"', b"LSUB")


def test_lsub_percent_shows_unsubscribed_parent_as_noselect(ternd):
    """RFC 3501 §6.3.9: if "foo/bar" is subscribed but "foo" is not, LSUB
    with "%" returns foo with \\Noselect."""
    c = Imap(ternd.imap_port)
    c.ok("CREATE foo/bar")
    c.ok("SUBSCRIBE foo/bar")
    lsub = list_entries(c.ok('LSUB "" "%"'), b"LSUB")
    assert "foo/bar" not in lsub
    assert "foo" in lsub and "\\Noselect" in lsub["foo"][0], lsub


# --- LIST -------------------------------------------------------------------

@pytest.fixture
def tree(ternd):
    c = Imap(ternd.imap_port)
    for name in ("a/b/c", "a/x", "ab"):
        c.ok(f"CREATE {name}")
    return c


@pytest.mark.parametrize("ref,pattern,expected", [
    ('""', '"*"', DEFAULT | {"a", "a/b", "a/b/c", "a/x", "ab"}),
    ('""', '"%"', DEFAULT | {"a", "ab"}),
    ('""', '"a/%"', {"a/b", "a/x"}),
    ('""', '"a/*"', {"a/b", "a/b/c", "a/x"}),
    ('""', '"a*"', {"a", "a/b", "a/b/c", "a/x", "ab"}),
    ('""', '"a%"', {"a", "ab"}),
    ('""', '"%/%"', {"a/b", "a/x"}),
    ('""', '"*c"', {"a/b/c"}),
    ('""', "a", {"a"}),
    ('""', "inbox", {"INBOX"}),
    ('""', '"InBoX"', {"INBOX"}),
    ('"a/"', '"%"', {"a/b", "a/x"}),
    ('"a/"', '"*"', {"a/b", "a/b/c", "a/x"}),
    ('"a/b/"', "c", {"a/b/c"}),
    ('""', "nosuch", set()),
    ('""', '"nosuch/*"', set()),
])
def test_list_patterns(tree, ref, pattern, expected):
    assert names(tree, f"LIST {ref} {pattern}") == expected


def test_list_is_case_sensitive_except_inbox(tree):
    assert names(tree, 'LIST "" "A"') == set()
    assert names(tree, 'LIST "" "sent"') == set()
    assert names(tree, 'LIST "" "Sent"') == {"Sent"}


def test_list_empty_pattern_gives_delimiter(ternd):
    c = Imap(ternd.imap_port)
    untagged = c.ok('LIST "" ""')
    assert untagged == [b'* LIST (\\Noselect) "/" ""'], untagged


def test_list_children_attributes(tree):
    entries = list_entries(tree.ok('LIST "" "*"'))
    assert "\\HasChildren" in entries["a"][0]
    assert "\\HasChildren" in entries["a/b"][0]
    for leaf in ("a/b/c", "a/x", "ab", "INBOX"):
        assert "\\HasNoChildren" in entries[leaf][0], (leaf, entries[leaf])
    for name, (attrs, _) in entries.items():
        assert not ({"\\HasChildren", "\\HasNoChildren"} <= attrs), name
    tree.ok("DELETE a/b/c")
    entries = list_entries(tree.ok('LIST "" "a*"'))
    assert "\\HasNoChildren" in entries["a/b"][0]
    # RETURN (CHILDREN) gives the same answer
    entries = list_entries(tree.ok('LIST "" "%" RETURN (CHILDREN)'))
    assert "\\HasChildren" in entries["a"][0] and "\\HasNoChildren" in entries["ab"][0]


def test_list_extended_multiple_patterns(tree):
    assert names(tree, 'LIST "" ("a/%" "Sent" "INBOX")') == {"a/b", "a/x", "Sent", "INBOX"}
    assert names(tree, 'LIST () "" ("ab")') == {"ab"}


def test_list_extended_subscribed_recursivematch(tree):
    """RFC 5258 §3.5: with RECURSIVEMATCH, a parent that isn't subscribed
    but has a subscribed child that doesn't match the pattern is listed
    with CHILDINFO ("SUBSCRIBED")."""
    tree.ok("SUBSCRIBE a/b/c")
    tree.ok("SUBSCRIBE ab")
    untagged = tree.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"')
    entries = list_entries(untagged)
    # INBOX and the special-use folders are subscribed for a new user
    assert set(entries) - DEFAULT == {"a", "ab"}, untagged
    attrs, extra = entries["a"]
    assert "\\Subscribed" not in attrs
    assert extra == [[b"CHILDINFO", [b"SUBSCRIBED"]]], untagged
    attrs, extra = entries["ab"]
    assert "\\Subscribed" in attrs and extra == []
    # without RECURSIVEMATCH only subscribed names match
    assert names(tree, 'LIST (SUBSCRIBED) "" "%"') - DEFAULT == {"ab"}
    assert names(tree, 'LIST (SUBSCRIBED) "" "*"') - DEFAULT == {"a/b/c", "ab"}
    # RECURSIVEMATCH alone is an error (RFC 5258 §3)
    _, tagged = tree.cmd('LIST (RECURSIVEMATCH) "" "%"')
    assert tagged.startswith(b"BAD"), tagged


def test_list_return_options(tree):
    tree.ok("SUBSCRIBE ab")
    tree.ok("SUBSCRIBE Sent")
    entries = list_entries(tree.ok('LIST "" "*" RETURN (SUBSCRIBED CHILDREN SPECIAL-USE)'))
    assert set(entries) == DEFAULT | {"a", "a/b", "a/b/c", "a/x", "ab"}
    assert "\\Subscribed" in entries["ab"][0]
    assert entries["Sent"][0] >= {"\\Subscribed", "\\Sent", "\\HasNoChildren"}
    assert "\\Subscribed" not in entries["a"][0]
    assert "\\HasChildren" in entries["a"][0]
    assert "\\Trash" in entries["Trash"][0]
    # without RETURN (SUBSCRIBED) no \Subscribed
    entries = list_entries(tree.ok('LIST "" "*"'))
    assert "\\Subscribed" not in entries["ab"][0]
    _, tagged = tree.cmd('LIST "" "*" RETURN (NOSUCHOPTION)')
    assert tagged.startswith(b"BAD"), tagged
    _, tagged = tree.cmd('LIST (NOSUCHOPTION) "" "*"')
    assert tagged.startswith(b"BAD"), tagged


@pytest.mark.parametrize("line", [
    "LIST", 'LIST ""', 'LIST "" "*" extra', "LSUB", 'LSUB ""', 'LIST "" "*" RETURN',
    'LIST (SUBSCRIBED "" "*"',
    # RFC 5258 §6: patterns = "(" list-mailbox *(SP list-mailbox) ")"
    'LIST "" ()',
])
def test_list_syntax_errors(ternd, line):
    c = Imap(ternd.imap_port)
    _, tagged = c.cmd(line)
    assert tagged.startswith(b"BAD"), (line, tagged)


# --- NAMESPACE ----------------------------------------------------------------

def test_namespace(ternd):
    c = Imap(ternd.imap_port)
    untagged = c.ok("NAMESPACE")
    assert untagged == [b'* NAMESPACE (("" "/")) NIL NIL'], untagged
    _, tagged = c.cmd("NAMESPACE x")
    assert tagged.startswith(b"BAD")


# --- STATUS -------------------------------------------------------------------

def test_status_all_items(ternd):
    c = Imap(ternd.imap_port)
    c.ok("CREATE Box")
    msgs = [message("one"), message("two", body="x" * 1000 + "\r\n"), message("three")]
    c.append_ok("Box", msgs[0], flags="\\Seen")
    c.append_ok("Box", msgs[1], flags="\\Deleted")
    c.append_ok("Box", msgs[2])
    untagged = c.ok("STATUS Box (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE RECENT)")
    assert len(untagged) == 1
    box, st = status_items(untagged[0])
    assert box == "Box"
    assert set(st) == {"MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "DELETED", "SIZE",
                       "RECENT"}
    assert st["MESSAGES"] == 3
    assert st["UIDNEXT"] == 4
    assert st["UNSEEN"] == 2
    assert st["DELETED"] == 1
    assert st["SIZE"] == sum(len(m) for m in msgs)
    assert st["RECENT"] == 3
    info = select_info(c.select("Box"))
    assert st["UIDVALIDITY"] == info["UIDVALIDITY"]
    # only the asked items, in a STATUS for the right name
    untagged = c.ok("STATUS Box (MESSAGES)")
    assert untagged == [b"* STATUS Box (MESSAGES 3)"], untagged


def test_status_changes_with_mailbox(ternd):
    c = Imap(ternd.imap_port)
    st = status(c, "INBOX", "MESSAGES UIDNEXT UNSEEN")
    assert st == {"MESSAGES": 0, "UIDNEXT": 1, "UNSEEN": 0}
    c.append_ok("INBOX", message("x"))
    assert status(c, "INBOX", "MESSAGES UIDNEXT UNSEEN") == {"MESSAGES": 1, "UIDNEXT": 2,
                                                            "UNSEEN": 1}
    c.select()
    c.ok("STORE 1 +FLAGS (\\Seen \\Deleted)")
    c.ok("EXPUNGE")
    assert status(c, "inbox", "MESSAGES UIDNEXT UNSEEN DELETED") == {
        "MESSAGES": 0, "UIDNEXT": 2, "UNSEEN": 0, "DELETED": 0}


def test_status_errors(ternd):
    c = Imap(ternd.imap_port)
    _, tagged = c.cmd("STATUS nosuch (MESSAGES)")
    assert tagged.startswith(b"NO [NONEXISTENT]"), tagged
    for line in ("STATUS INBOX", "STATUS INBOX ()", "STATUS INBOX (BOGUS)",
                 "STATUS INBOX MESSAGES"):
        _, tagged = c.cmd(line)
        assert tagged.startswith(b"BAD"), (line, tagged)


def test_uidvalidity_changes_when_mailbox_recreated(ternd):
    """RFC 9051 §2.3.1.1: a recreated mailbox that reuses UIDs needs a new
    UIDVALIDITY."""
    c = Imap(ternd.imap_port)
    c.ok("CREATE Again")
    assert c.append_ok("Again", message("one")) == 1
    v1 = status(c, "Again", "UIDVALIDITY")["UIDVALIDITY"]
    c.ok("DELETE Again")
    c.ok("CREATE Again")
    st = status(c, "Again", "UIDVALIDITY UIDNEXT")
    if st["UIDNEXT"] == 1:
        assert st["UIDVALIDITY"] != v1
    untagged, tagged = c.append("Again", message("two"))
    if code(tagged).split()[2] == b"1":
        assert int(code(tagged).split()[1]) != v1


# --- international names --------------------------------------------------------

def test_mutf7_names_for_rev1_and_utf8_for_rev2(ternd):
    rev1 = Imap(ternd.imap_port)
    rev1.ok('CREATE "Entw&APw-rfe"')
    assert "Entw&APw-rfe" in names(rev1)
    # RFC 9051 §5.1: after ENABLE IMAP4rev2 names are UTF-8
    rev2 = Imap(ternd.imap_port, rev2=True)
    untagged = rev2.ok('LIST "" "Entw*"')
    assert len(untagged) == 1
    vals, _ = parse_data(untagged[0], len(b"* LIST "))
    assert vals[2] == "Entwürfe".encode(), untagged
    select_info(rev2.select('"Entwürfe"'))
    rev2.ok('CREATE "Ärger/Große Dinge"')
    assert {"&AMQ-rger", "&AMQ-rger/Gro&AN8-e Dinge"} <= names(rev1)
    select_info(rev1.select('"&AMQ-rger/Gro&AN8-e Dinge"'))
    # STATUS echoes the name in the client's form
    untagged = rev1.ok('STATUS "Entw&APw-rfe" (MESSAGES)')
    assert status_items(untagged[0]) == ("Entw&APw-rfe", {"MESSAGES": 0})
    untagged = rev2.ok('STATUS "Entwürfe" (MESSAGES)')
    assert status_items(untagged[0]) == ("Entwürfe", {"MESSAGES": 0})
    # a literal '&' is "&-" in modified UTF-7
    rev1.ok('CREATE "Tom &- Jerry"')
    assert "Tom & Jerry" in names(rev2)
    # on disk: Maildir++ folder names in modified UTF-7 like other tools
    assert (maildir(ternd) / ".Entw&APw-rfe").is_dir()


def test_invalid_mutf7_refused(ternd):
    c = Imap(ternd.imap_port)
    _, tagged = c.cmd('CREATE "bad&AMQ"')  # unterminated base64 run
    assert tagged.startswith(b"NO") or tagged.startswith(b"BAD"), tagged
    assert names(c) == DEFAULT


def test_list_children_attributes_basic_vs_extended(ternd):
    """A basic LIST always carries \\HasChildren/\\HasNoChildren (RFC 3348);
    an extended one (selection options, a pattern list or RETURN) only with
    RETURN (CHILDREN) (RFC 5258 §4), as Dovecot does."""
    c = Imap(ternd.imap_port)
    c.ok("CREATE p/c")
    c.ok("SUBSCRIBE p/c")
    basic = list_entries(c.ok('LIST "" "p*"'))
    assert "\\HasChildren" in basic["p"][0] and "\\HasNoChildren" in basic["p/c"][0]
    for cmd in ('LIST "" "p*" RETURN ()', 'LIST "" ("p" "p/c")',
                'LIST (SUBSCRIBED) "" "p*"', 'LIST "" "p*" RETURN (SUBSCRIBED)'):
        for name, (attrs, _) in list_entries(c.ok(cmd)).items():
            assert not attrs & {"\\HasChildren", "\\HasNoChildren"}, (cmd, name, attrs)
    asked = list_entries(c.ok('LIST "" ("p" "p/c") RETURN (CHILDREN)'))
    assert "\\HasChildren" in asked["p"][0] and "\\HasNoChildren" in asked["p/c"][0]


def test_list_pattern_list_lists_each_mailbox_once(ternd):
    c = Imap(ternd.imap_port)
    c.ok("CREATE q/one")
    untagged = c.ok('LIST "" ("q*" "q/%" "*one")')
    names = [u for u in untagged if u.startswith(b"* LIST")]
    assert sorted(list_entries(untagged)) == ["q", "q/one"]
    assert len(names) == 2


def test_recursivematch_parent_only_for_unmatched_children(ternd):
    """RFC 5258 §3.5: a parent that isn't subscribed is listed (with
    CHILDINFO) for a subscribed child the patterns don't list themselves."""
    c = Imap(ternd.imap_port)
    c.ok("CREATE r/sub")
    c.ok("SUBSCRIBE r/sub")
    one = list_entries(c.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" ("r")'))
    assert list(one) == ["r"] and one["r"][1] == [[b"CHILDINFO", [b"SUBSCRIBED"]]]
    both = list_entries(c.ok('LIST (SUBSCRIBED RECURSIVEMATCH) "" ("r" "r/sub")'))
    assert list(both) == ["r/sub"] and "\\Subscribed" in both["r/sub"][0]


def test_list_unmatchable_pattern_lists_nothing(ternd):
    """A pattern that is not valid modified UTF-7 matches no name: OK with
    no entries (imaptest atoms), not an error."""
    c = Imap(ternd.imap_port)
    untagged, tagged = c.cmd("LIST \"\" !#$&'+,-.0123456789:;<=>?@^_`|[}%*")
    assert tagged.startswith(b"OK"), tagged
    assert list_entries(untagged) == {}


def test_open_bracket_in_atom_mailbox_name(ternd):
    """'[' is an atom character: a name with an unclosed '[' is a name."""
    c = Imap(ternd.imap_port)
    untagged, tagged = c.cmd("SELECT a[b")
    assert tagged.startswith(b"NO"), tagged
    c.ok("CREATE x[y")
    assert "x[y" in list_entries(c.ok('LIST "" x[y'))
    c.ok("SELECT x[y")


def test_list_status(ternd):
    """LIST-STATUS (RFC 5819): RETURN (STATUS (...)) sends each listed
    selectable mailbox's STATUS right after its LIST line; none for
    \\Noselect or \\NonExistent entries; bad item lists are BAD."""
    c = Imap(ternd.imap_port)
    assert b"LIST-STATUS" in c.ok("CAPABILITY")[0]
    assert b"STATUS=SIZE" in c.ok("CAPABILITY")[0]
    c.ok("CREATE ls1")
    c.ok("CREATE ls2/x")
    c.append_ok("ls1", message("one"))
    c.append_ok("ls1", message("two"))
    untagged = [u for u in c.ok('LIST "" "ls*" RETURN (CHILDREN STATUS (MESSAGES UIDNEXT SIZE))')]
    pairs = {}
    for i, u in enumerate(untagged):
        if u.startswith(b"* STATUS "):
            # the LIST line of the same mailbox comes just before
            prev = untagged[i - 1]
            assert prev.startswith(b"* LIST ")
            assert prev.endswith(u.split(b" ")[2]), (prev, u)
            pairs[u.split(b" ")[2].decode()] = u
    assert set(pairs) == {"ls1", "ls2", "ls2/x"}
    assert b"(MESSAGES 2 UIDNEXT 3 SIZE " in pairs["ls1"]
    assert b"(MESSAGES 0 UIDNEXT 1 SIZE 0)" in pairs["ls2/x"]
    # a \NonExistent parent of a subscribed mailbox gets no STATUS
    c.ok("CREATE lsp/child")
    c.ok("SUBSCRIBE lsp/child")
    c.ok("DELETE lsp/child")
    c.ok("DELETE lsp")
    sub = c.ok('LIST (SUBSCRIBED) "" "lsp*" RETURN (STATUS (MESSAGES))')
    assert not [u for u in sub if u.startswith(b"* STATUS")]
    for bad in ('RETURN (STATUS ())', 'RETURN (STATUS)', 'RETURN (STATUS (FOO))'):
        _, tagged = c.cmd(f'LIST "" "ls*" {bad}')
        assert tagged.startswith(b"BAD"), (bad, tagged)
    # HIGHESTMODSEQ turns CONDSTORE on, as STATUS does
    hm = c.ok('LIST "" "ls1" RETURN (STATUS (HIGHESTMODSEQ))')
    assert any(u.startswith(b"* STATUS ls1 (HIGHESTMODSEQ ") for u in hm)


def test_create_special_use(ternd):
    """CREATE-SPECIAL-USE (RFC 6154 §3): CREATE name (USE (attrs)) gives the
    new mailbox its special-use attributes; one a real mailbox can't have
    (\\All, \\Flagged, unknown) is NO [USEATTR] and nothing is created."""
    c = Imap(ternd.imap_port)
    assert b"CREATE-SPECIAL-USE" in c.ok("CAPABILITY")[0]
    c.ok("CREATE MyArchive (USE (\\Archive))")
    c.ok("CREATE Both (USE (\\Sent \\Important))")
    got = list_entries(c.ok('LIST "" "*"'))
    assert "\\Archive" in got["MyArchive"][0]
    assert {"\\Sent", "\\Important"} <= got["Both"][0]
    su = list_entries(c.ok('LIST (SPECIAL-USE) "" "*"'))
    assert "MyArchive" in su and "Both" in su
    for attr in ("\\All", "\\Flagged", "\\Bogus"):
        _, tagged = c.cmd(f"CREATE V{attr[1:]} (USE ({attr}))")
        assert tagged.startswith(b"NO [USEATTR]"), tagged
    assert not {"VAll", "VFlagged", "VBogus"} & set(list_entries(c.ok('LIST "" "*"')))
    for bad in ("CREATE X (FOO (\\Sent))", "CREATE X (USE)", "CREATE X (USE (Sent))",
                "CREATE X (USE (\\Sent)) extra"):
        _, tagged = c.cmd(bad)
        assert tagged.startswith(b"BAD"), (bad, tagged)
