require ["encoded-character", "fileinto", "comparator-i;ascii-numeric"];
if allof(not exists "x", anyof(true, false), header :comparator "i;ascii-numeric" :is "x-a" "2") { fileinto "${hex:41 42}${unicode:263a}"; }
