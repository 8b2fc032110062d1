require ["mime", "foreverypart", "extracttext", "variables", "body", "fileinto"];
foreverypart :name "outer" {
  if header :mime :type "content-type" "text" { extracttext :first 3 "t"; fileinto "${t}"; }
  foreverypart { if header :mime :anychild :param "charset" "content-type" "utf-8" { break :name "outer"; } }
}
if body :content ["text", "message/rfc822"] :contains "inner" { discard; }
