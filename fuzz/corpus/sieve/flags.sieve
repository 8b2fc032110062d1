require ["imap4flags", "fileinto", "variables", "copy"];
setflag "\\Seen"; addflag "v" ["A", "B C"]; removeflag "B";
if hasflag :contains "v" "a" { fileinto :copy :flags "${v}" "Box"; }
keep :flags "X";
