/* A worker process: accepts connections on the listeners the master
 * passed down and runs their sessions. Today one worker runs both the
 * pre-login and the post-login engine of its protocol; the two meet only
 * through the login hand-off record (see docs/ARCHITECTURE.md). */
#ifndef TERN_TERND_WORKER_H
#define TERN_TERND_WORKER_H

/* Runs the worker for service until it is told to stop. Returns the exit
   code. */
int ternd_worker_main(const char *service);

#endif
