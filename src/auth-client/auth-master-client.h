/* The privileged processes' end of Dovecot's auth-master protocol (v1.0)
 * on the auth process's master socket: userdb lookups (USER), resolving a
 * login that finished on a login process's connection (REQUEST), and
 * listing users (LIST). Calls block with a timeout and need no event loop
 * (ternctl, LMTP); lookups also come in an asynchronous form for processes
 * that must not block (the master). */
#ifndef TERN_AUTH_MASTER_CLIENT_H
#define TERN_AUTH_MASTER_CLIENT_H

#include "array.h"

struct auth_master_client;
struct auth_master_request;

/* A userdb record, as auth-user.h's struct auth_user has it. */
struct auth_master_user {
	const char *name;
	const char *home; /* NULL if not set */
	uid_t uid;        /* (uid_t)-1 if not set */
	gid_t gid;        /* (gid_t)-1 if not set */
	ARRAY(const char *) extra; /* "key=value" or a bare "key" */
};

struct auth_master_lookup {
	const char *user;
	const char *service;              /* "lmtp", ... or NULL */
	const char *remote_ip, *local_ip; /* NULL if unknown */
};

/* A login process's successful authentication, as it reported it in the
   hand-off (auth-client.h's struct auth_client_login). client_pid must be
   the pid the master knows the login process by. */
struct auth_master_login {
	pid_t client_pid;
	unsigned int request_id;
	const char *cookie;
};

/* Over an already connected socket (a socketpair to one auth process):
   takes ownership of fd; no reconnecting once it closes. */
struct auth_master_client *auth_master_client_create_fd(int fd, unsigned int timeout_ms);
/* Connects on the first call. timeout_ms (0: 5 s) bounds each call. */
struct auth_master_client *auth_master_client_create(const char *socket_path,
						     unsigned int timeout_ms);
/* Pending asynchronous requests are dropped without callbacks. Accepts
   NULL; *client becomes NULL. Not from inside a callback. */
void auth_master_client_destroy(struct auth_master_client **client);

/* Returns the value of extra field key: "" for a bare key, NULL if absent. */
const char *auth_master_user_extra_get(const struct auth_master_user *user,
				       const char *key);

/* Blocking calls. Results are allocated from pool. Return 1 found, 0 not
   found, -1 error (auth process unreachable, timeout, backend failure;
   *error_r set). Callbacks of asynchronous requests on the same client may
   run from inside them. */
int auth_master_user_lookup(struct auth_master_client *client,
			    const struct auth_master_lookup *lookup, pool_t pool,
			    struct auth_master_user **user_r, const char **error_r);
/* REQUEST: who login->client_pid authenticated with request_id on its
   connection with that cookie. Answers 1 only once per login, and only
   within the auth process's time limit (60 s by default). 0: no such
   login (never happened, already resolved, expired). */
int auth_master_login_resolve(struct auth_master_client *client,
			      const struct auth_master_login *login, pool_t pool,
			      struct auth_master_user **user_r, const char **error_r);
/* LIST: calls cb for each user name matching mask ('*' and '?' wildcards;
   NULL: all). Returns 0 at the end, -1 on error (cb may have been called
   for some users before). */
int auth_master_user_list(struct auth_master_client *client, const char *mask,
			  void (*cb)(const char *user, void *context), void *context,
			  const char **error_r);

/* Asynchronous forms (need the event loop): ret, user and error as the
   blocking calls return them; user and error are valid only during the
   callback. The callback is never called from inside the call that starts
   the request. */
typedef void auth_master_user_callback_t(int ret, const struct auth_master_user *user,
					 const char *error, void *context);
struct auth_master_request *
auth_master_user_lookup_async(struct auth_master_client *client,
			      const struct auth_master_lookup *lookup,
			      auth_master_user_callback_t *cb, void *context);
struct auth_master_request *
auth_master_login_resolve_async(struct auth_master_client *client,
				const struct auth_master_login *login,
				auth_master_user_callback_t *cb, void *context);
/* No callback afterwards. Accepts NULL; *req becomes NULL. */
void auth_master_request_abort(struct auth_master_request **req);

#endif
