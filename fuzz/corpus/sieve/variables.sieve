require ["variables", "fileinto", "regex", "relational", "comparator-i;ascii-numeric"];
set :upper :length "a" "hello";
if header :matches "subject" "* *" { fileinto "${1}.${2}"; }
if header :regex "subject" "^(t)[a-z]+ ([0-9]+)$" { set "n" "${2}"; }
if string :value "gt" :comparator "i;ascii-numeric" "${n}" "10" { keep; }
