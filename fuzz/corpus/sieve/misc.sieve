require ["date", "index", "environment", "ihave", "mailbox", "mboxmetadata",
  "servermetadata", "spamtestplus", "editheader", "duplicate", "vacation-seconds",
  "include", "enotify", "special-use", "subaddress", "envelope", "variables"];
if date :zone "+0200" :index 1 "date" "weekday" "2" { addheader "X-A" "1"; }
if currentdate "year" "2026" { deleteheader :index 1 :last "received"; }
if environment "domain" "x" { notify :importance "3" "mailto:a@b.c?subject=hi"; }
if ihave "nonexistent" { bogus; } else { error "no"; }
if allof(mailboxexists "INBOX", metadata "INBOX" "/private/c" "v", servermetadataexists "/s") { keep; }
if spamtest :percent :value "ge" :comparator "i;ascii-numeric" "50" { fileinto :create :specialuse "\\Junk" "Junk"; }
if duplicate :seconds 10 :handle "h" { discard; }
if envelope :detail "from" "b" { vacation :seconds 0 :from "me@x.y" :addresses ["c@example.org"] "away"; }
global "g"; include :optional "nothing"; include :once "self"; return;
