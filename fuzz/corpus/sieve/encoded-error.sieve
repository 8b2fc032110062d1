require "encoded-character";
redirect "${hex: 61 }@${unicode:62}.c";
redirect "${unicode:D800}";
