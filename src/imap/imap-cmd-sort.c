/* SORT, UID SORT (RFC 5256 §3, with SORT=DISPLAY of RFC 5957, ESORT and
 * CONTEXT=SORT of RFC 5267) and THREAD, UID THREAD (RFC 5256 §3:
 * ORDEREDSUBJECT, REFERENCES; and REFS). The sort engine is imap-sort.c;
 * the threading one src/search/search-thread.c. */
#include "imap-commands.h"
#include "imap-arg.h"
#include "imap-search.h"
#include "imap-search-return.h"
#include "imap-search-update.h"
#include "imap-sort.h"
#include "imap-progress.h"
#include "imap-uidonly.h"
#include "mime-charset.h"
#include "imap-storage.h"
#include "search-keys.h"
#include "search-thread.h"

/* Parses the search program (charset checked) into pool; answers and
   returns false on errors. */
static bool sort_parse_program(struct imap_cmd *cmd, const struct imap_arg *args,
			       const char *charset, pool_t pool, struct search_key **key_r)
{
	const char *error;
	/* RFC 9586 §3: after UIDONLY only UID SORT/THREAD, with no sequence
	   numbers in the program */
	if (!imap_uidonly_check_cmd(cmd))
		return false;
	if (imap_search_parse_charset(cmd->client, args, charset, pool, key_r, &error) == 0) {
		if (!cmd->client->uidonly || !imap_search_uses_seqnums(*key_r))
			return true;
		error = "BAD " IMAP_UIDONLY_BAD;
	}
	imap_cmd_fail(cmd, error);
	return false;
}

/* The charset argument of SORT and THREAD (RFC 5256 §3): the search
   program's strings are in it. */
static bool sort_charset_ok(struct imap_cmd *cmd, const struct imap_arg *arg,
			    const char **charset_r)
{
	const char *charset;
	if (!imap_arg_get_astring(arg, &charset)) {
		imap_cmd_bad(cmd, "Missing charset.");
		return false;
	}
	/* RFC 9755 §3: with UTF8=ACCEPT only UTF-8 makes sense */
	if (cmd->client->utf8_accept && !charset_is_utf8(charset)) {
		imap_cmd_bad(cmd, "Only CHARSET UTF-8 is allowed after ENABLE UTF8=ACCEPT.");
		return false;
	}
	if (!imap_search_charset_is_supported(charset)) {
		imap_cmd_finish(cmd, "%s", IMAP_SEARCH_BADCHARSET_REPLY);
		return false;
	}
	*charset_r = charset;
	return true;
}

static void sort_send_plain(struct imap_cmd *cmd, const uint32_t *nums, unsigned int count,
			    uint64_t modseq)
{
	string_t *str = t_str_new(count * 7 + 16);
	str_append(str, "* SORT");
	for (unsigned int i = 0; i < count; i++) {
		str_append_c(str, ' ');
		str_append_uint(str, nums[i]);
	}
	/* RFC 7162 §3.1.6 */
	if (modseq != 0)
		str_printfa(str, " (MODSEQ %llu)", (unsigned long long)modseq);
	str_append(str, "\r\n");
	o_stream_send(cmd->client->conn->output, str_data(str), str_len(str));
}

/* [UID] SORT [RETURN (...)] (criteria) charset program */
bool imap_cmd_sort(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	bool uid = cmd->name[0] == 'U';
	struct imap_search_return_opts opts;
	int used = imap_search_return_parse(cmd->args, &opts);
	if (used < 0) {
		imap_cmd_bad(cmd, "Invalid RETURN options.");
		return true;
	}
	const struct imap_arg *args = cmd->args + used;
	struct imap_sort_spec specs[IMAP_SORT_MAX_CRITERIA];
	unsigned int spec_count;
	if (imap_sort_parse_criteria(&args[0], specs, &spec_count) < 0) {
		imap_cmd_bad(cmd, "Invalid sort criteria.");
		return true;
	}
	const char *charset;
	pool_t pool;
	struct search_key *key;
	if (!sort_charset_ok(cmd, &args[1], &charset) ||
	    !imap_search_update_start(cmd, &opts, &pool))
		return true;
	if (!sort_parse_program(cmd, args + 2, charset, pool, &key)) {
		imap_search_update_discard(cmd, pool);
		return true;
	}
	array_uint32_t seqs;
	/* RFC 9585: progress while the keys are indexed */
	struct imap_progress progress;
	imap_progress_begin(&progress, cmd);
	imap_progress_watch(&progress, client->box);
	int ret = imap_sort_run(client, key, specs, spec_count, cmd->pool, &seqs);
	imap_progress_end(&progress);
	if (ret < 0) {
		imap_search_update_discard(cmd, pool);
		imap_cmd_storage_error(cmd);
		return true;
	}
	uint64_t modseq;
	if (imap_search_return_modseq(client, key, &opts, seqs.v, seqs.count, &modseq) < 0) {
		imap_search_update_discard(cmd, pool);
		imap_cmd_storage_error(cmd);
		return true;
	}
	if ((opts.flags & IMAP_SEARCH_RETURN_SAVE) != 0)
		imap_search_return_save(client, &opts, seqs.v, seqs.count);
	imap_search_update_finish(cmd, uid, pool, key, specs, spec_count, seqs.v, seqs.count);
	if (uid) {
		for (unsigned int i = 0; i < seqs.count; i++)
			seqs.v[i] = mailbox_view_uid(client->box, seqs.v[i]);
	}
	if (!opts.given)
		sort_send_plain(cmd, seqs.v, seqs.count, modseq);
	else if (opts.flags != IMAP_SEARCH_RETURN_SAVE)
		imap_search_return_send(cmd, &opts, uid, seqs.v, seqs.count, modseq);
	imap_cmd_finish(cmd, "OK Sort completed.");
	return true;
}

bool imap_cmd_thread(struct imap_cmd *cmd)
{
	bool uid = cmd->name[0] == 'U';
	const char *name;
	enum search_thread_algorithm alg;
	if (!imap_arg_get_atom(&cmd->args[0], &name) ||
	    !search_thread_algorithm_parse(name, &alg)) {
		imap_cmd_bad(cmd, "Unknown thread algorithm.");
		return true;
	}
	const char *charset;
	struct search_key *key;
	if (!sort_charset_ok(cmd, &cmd->args[1], &charset) ||
	    !sort_parse_program(cmd, cmd->args + 2, charset, cmd->pool, &key))
		return true;
	struct imap_sort_msg *msgs;
	unsigned int count;
	struct imap_progress progress;
	imap_progress_begin(&progress, cmd);
	imap_progress_watch(&progress, cmd->client->box);
	int ret = imap_sort_load(cmd->client, key,
				 SEARCH_KEYS_DATE | SEARCH_KEYS_SUBJECT | SEARCH_KEYS_THREAD, false,
				 cmd->pool, &msgs, &count);
	imap_progress_end(&progress);
	if (ret < 0) {
		imap_cmd_storage_error(cmd);
		return true;
	}
	struct search_thread_msg *tmsgs = p_new(cmd->pool, struct search_thread_msg, count + 1);
	for (unsigned int i = 0; i < count; i++) {
		const struct imap_sort_msg *m = &msgs[i];
		tmsgs[i] = (struct search_thread_msg){
			.id = uid ? m->uid : m->seq, .sent_date = m->date,
			.message_id = m->message_id, .in_reply_to = m->in_reply_to,
			.references = m->references, .base_subject = m->subject,
			.subject_is_reply = m->subject_reply,
		};
	}
	struct search_thread_node *roots;
	if (search_thread_build(cmd->pool, alg, tmsgs, count, &roots) < 0) {
		imap_cmd_finish(cmd, "NO [SERVERBUG] Threading failed.");
		return true;
	}
	string_t *str = t_str_new(count * 8 + 16);
	str_append(str, "* THREAD ");
	search_thread_write(str, roots);
	/* "* THREAD" with nothing after it when no message matched */
	if (count == 0)
		str_truncate(str, str_len(str) - 1);
	str_append(str, "\r\n");
	o_stream_send(cmd->client->conn->output, str_data(str), str_len(str));
	imap_cmd_finish(cmd, "OK Thread completed.");
	return true;
}
