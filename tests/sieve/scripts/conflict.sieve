require ["reject", "fileinto"];
reject "no";
fileinto "Archive";
