# comment
/* bracket
 comment */
require "reject";
if size :over 100K { reject text:
Too big.
..dot
.
; }
