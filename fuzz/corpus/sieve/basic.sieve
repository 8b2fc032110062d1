require ["fileinto", "copy", "envelope"];
if header :contains "subject" "[list]" {
	fileinto :copy "Lists";
} elsif address :domain :is "from" "example.com" {
	redirect "x@example.net";
	stop;
} else {
	keep;
}
