if address :localpart :contains ["to","cc","from"] ["a","d"] { redirect "x@y.z"; redirect "x@y.z"; keep; discard; }
