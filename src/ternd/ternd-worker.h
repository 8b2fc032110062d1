/* A worker process in one role: imap-login and pop3-login accept
 * connections and run the pre-login engines; imap and pop3 run post-login
 * sessions the master hands over (docs/ARCHITECTURE.md); lmtp accepts and
 * delivers. */
#ifndef TERN_TERND_WORKER_H
#define TERN_TERND_WORKER_H

/* Runs the worker in role until it is told to stop. Returns the exit
   code. */
int ternd_worker_main(const char *role);

#endif
