require "envelope";
if envelope :all :matches ["from","to"] ["*@*", "?\\*"] { discard; }
if header :matches "Subject" "h*llo" { keep; }
