/* The master's count of logged-in sessions per user and per user and
 * remote address, for the services' max_user_connections and
 * max_userip_connections: a hand-off adds a session, the mail worker's
 * END message (when the session is freed) removes it. */
#include "server-private.h"
#include "hash.h"
#include "log.h"

#include <stdlib.h>

struct master_session {
	char *user_key;   /* "service\001user" */
	char *userip_key; /* "service\001user\001ip" */
};

/* Keys and sessions are malloc'd; counts are stored as pointer values. */
struct master_sessions {
	struct hash_table *sessions; /* session id -> struct master_session */
	struct hash_table *counts;   /* key -> (uintptr_t) count */
};

static struct master_sessions *master_sessions_get(struct master *m)
{
	if (m->sessions == NULL) {
		m->sessions = i_zalloc(sizeof(*m->sessions));
		m->sessions->sessions = hash_table_create(system_pool, str_hash, str_cmp);
		m->sessions->counts = hash_table_create(system_pool, str_hash, str_cmp);
	}
	return m->sessions;
}

static unsigned int master_sessions_count(struct master_sessions *s, const char *key)
{
	return (unsigned int)(uintptr_t)hash_table_lookup(s->counts, key);
}

static void master_sessions_adjust(struct master_sessions *s, char *key, int delta)
{
	const void *old_key;
	void *value;
	if (hash_table_lookup_full(s->counts, key, &old_key, &value)) {
		uintptr_t count = (uintptr_t)value + (uintptr_t)(intptr_t)delta;
		hash_table_remove(s->counts, key);
		if (count > 0)
			hash_table_insert(s->counts, old_key, (void *)count);
		else
			free((void *)old_key);
		free(key);
	} else if (delta > 0) {
		hash_table_insert(s->counts, key, (void *)(uintptr_t)1);
	} else {
		free(key);
	}
}

int master_sessions_check(struct master *m, const struct service_settings *sset,
			  const char *user, const char *ip, const char **reason_r)
{
	struct master_sessions *s = master_sessions_get(m);

	if (sset == NULL)
		return 0;
	const char *user_key = t_strdup_printf("%s\001%s", sset->name, user);
	if (sset->max_user_connections > 0 &&
	    master_sessions_count(s, user_key) >= sset->max_user_connections) {
		*reason_r = t_strdup_printf("max_user_connections=%u",
					    sset->max_user_connections);
		return -1;
	}
	const char *userip_key = t_strdup_printf("%s\001%s", user_key, ip);
	if (sset->max_userip_connections > 0 &&
	    master_sessions_count(s, userip_key) >= sset->max_userip_connections) {
		*reason_r = t_strdup_printf("max_userip_connections=%u",
					    sset->max_userip_connections);
		return -1;
	}
	return 0;
}

void master_sessions_add(struct master *m, const char *service, const char *session_id,
			 const char *user, const char *ip)
{
	struct master_sessions *s = master_sessions_get(m);

	/* a session id seen again (a resumed UNAUTHENTICATE) replaces */
	master_sessions_end(m, session_id);
	struct master_session *ms = i_zalloc(sizeof(*ms));
	ms->user_key = i_strdup(t_strdup_printf("%s\001%s", service, user));
	ms->userip_key = i_strdup(t_strdup_printf("%s\001%s\001%s", service, user, ip));
	hash_table_insert(s->sessions, i_strdup(session_id), ms);
	master_sessions_adjust(s, i_strdup(ms->user_key), 1);
	master_sessions_adjust(s, i_strdup(ms->userip_key), 1);
}

void master_sessions_end(struct master *m, const char *session_id)
{
	struct master_sessions *s = master_sessions_get(m);
	const void *key;
	void *value;

	if (!hash_table_lookup_full(s->sessions, session_id, &key, &value))
		return;
	struct master_session *ms = value;
	hash_table_remove(s->sessions, session_id);
	free((void *)key);
	master_sessions_adjust(s, ms->user_key, -1);
	master_sessions_adjust(s, ms->userip_key, -1);
	free(ms);
}

void master_sessions_deinit(struct master *m)
{
	struct master_sessions *s = m->sessions;
	struct hash_iter iter;
	const void *key;
	void *value;

	if (s == NULL)
		return;
	hash_table_iter_init(s->sessions, &iter);
	while (hash_table_iter_next(&iter, &key, &value)) {
		struct master_session *ms = value;
		free((void *)key);
		free(ms->user_key);
		free(ms->userip_key);
		free(ms);
	}
	hash_table_iter_init(s->counts, &iter);
	while (hash_table_iter_next(&iter, &key, &value))
		free((void *)key);
	hash_table_destroy(&s->sessions);
	hash_table_destroy(&s->counts);
	free(s);
	m->sessions = NULL;
}
