/* The event loop: one per process, single-threaded, over epoll. Watches
 * file descriptors (io), runs timers (timeout, kept in a binary heap) and
 * delivers signals through signalfd so handlers run as ordinary callbacks.
 * After each iteration the temporary pool is cleared. */
#ifndef TERN_IOLOOP_H
#define TERN_IOLOOP_H

#include "lib.h"

enum io_condition {
	IO_READ = 0x01,
	IO_WRITE = 0x02,
};

struct io;
struct timeout;
typedef void io_callback_t(void *context);
typedef void signal_callback_t(int signo, void *context);

/* Creates the process's loop. Must be called before any io/timeout. */
void ioloop_init(void);
void ioloop_deinit(void);
/* Runs until ioloop_stop(). */
void ioloop_run(void);
void ioloop_stop(void);
/* Runs one iteration, waiting at most timeout_msecs (-1 = until an event). */
void ioloop_run_once(int timeout_msecs);
/* Milliseconds of CLOCK_MONOTONIC, updated at each wakeup. */
uint64_t ioloop_now_ms(void);
/* Wall-clock seconds, updated at each wakeup. */
time_t ioloop_time(void);

/* Watches fd for the condition. The callback is called while the condition
 * holds (level-triggered). */
struct io *io_add(int fd, enum io_condition cond, io_callback_t *cb, void *context);
void io_set_condition(struct io *io, enum io_condition cond);
enum io_condition io_get_condition(const struct io *io);
/* Removes the watch (not the fd); *io becomes NULL. Accepts NULL. */
void io_remove(struct io **io);

/* Calls cb after msecs, repeatedly every msecs until removed. */
struct timeout *timeout_add(unsigned int msecs, io_callback_t *cb, void *context);
/* Calls cb once after msecs and then removes itself: the returned handle
 * is invalid after the call (set your pointer to NULL inside cb). */
struct timeout *timeout_add_once(unsigned int msecs, io_callback_t *cb, void *context);
/* Restarts the interval from now. */
void timeout_reset(struct timeout *to);
void timeout_remove(struct timeout **to);

/* Delivers signo to cb from the loop. The signal is blocked for normal
 * delivery; child processes re-enable it through ioloop_signals_reset(). */
void signal_add(int signo, signal_callback_t *cb, void *context);
void signal_remove(int signo);
/* For a freshly forked child: unblocks all signals and restores defaults. */
void ioloop_signals_reset(void);

#endif
