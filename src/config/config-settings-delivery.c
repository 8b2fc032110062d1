/* The settings tables of the delivery side's config blocks: lmtp,
 * sieve, submission, quota, managesieve, imapsieve and imapsieve_mailbox
 * (docs/lmtp.md, docs/sieve.md, docs/managesieve.md, docs/imapsieve.md),
 * with their value checks. */
#include "config-settings.h"
#include "strnum.h"

#include <regex.h>
#include <stdlib.h>
#include <strings.h>

#define DEF(block, field) .offset = offsetof(struct block, field)

/* lmtp.detail_delimiter: printable ASCII that can't be part of a domain
   or break an address apart */
static int check_detail_delimiter(const char *value, const char **error_r)
{
	for (const char *p = value; *p != '\0'; p++) {
		if (*p <= ' ' || *p >= 0x7f || strchr("@<>\"\\", *p) != NULL) {
			*error_r = "expected printable characters other than @ < > \" \\";
			return -1;
		}
	}
	return 0;
}

/* quota.default_rule: "" or "*:storage=SIZE" / "*:messages=N" (more
   rules separated by spaces) */
static int check_quota_rule(const char *value, const char **error_r)
{
	char *copy = t_strdup_printf("%s", value);
	for (char *tok = strtok(copy, " "); tok != NULL; tok = strtok(NULL, " ")) {
		uint64_t num;
		if (strncmp(tok, "*:storage=", 10) == 0 && str_parse_size(tok + 10, &num) == 0)
			continue;
		if (strncmp(tok, "*:messages=", 11) == 0 && str_to_uint64(tok + 11, &num) == 0)
			continue;
		*error_r = "expected *:storage=SIZE or *:messages=N";
		return -1;
	}
	return 0;
}

/* sieve.spamtest_status_header and the like: "" or "Header-Name" with
   an optional ": regex" (POSIX extended) */
static int check_status_header(const char *value, const char **error_r)
{
	const char *colon = strchr(value, ':');
	size_t len = colon == NULL ? strlen(value) : (size_t)(colon - value);
	for (size_t i = 0; i < len; i++) {
		if (value[i] <= ' ' || value[i] > '~') {
			*error_r = "expected a header name, optionally followed by ': regex'";
			return -1;
		}
	}
	if (colon == NULL)
		return 0;
	if (len == 0) {
		*error_r = "the header name is missing before ':'";
		return -1;
	}
	const char *re = colon + 1;
	while (*re == ' ' || *re == '\t')
		re++;
	regex_t preg;
	if (regcomp(&preg, re, REG_EXTENDED) != 0) {
		*error_r = "invalid regular expression";
		return -1;
	}
	regfree(&preg);
	return 0;
}

/* sieve.spamtest_max_value: "" or a positive decimal number */
static int check_decimal(const char *value, const char **error_r)
{
	char *end;
	if (value[0] == '\0')
		return 0;
	double d = strtod(value, &end);
	if (*end != '\0' || !(d > 0)) {
		*error_r = "expected a positive number";
		return -1;
	}
	return 0;
}

/* sieve.spamtest_text_values: "N:text" items separated by commas */
static int check_text_values(const char *value, const char **error_r)
{
	char *copy = t_strdup_printf("%s", value);
	for (char *tok = strtok(copy, ","); tok != NULL; tok = strtok(NULL, ",")) {
		char *end;
		while (*tok == ' ')
			tok++;
		long n = strtol(tok, &end, 10);
		if (end == tok || *end != ':' || n < 1 || n > 10) {
			*error_r = "expected N:text items (N 1-10) separated by commas";
			return -1;
		}
	}
	return 0;
}

/* imapsieve_mailbox.causes: APPEND, COPY and FLAG */
static int check_imapsieve_causes(const char *value, const char **error_r)
{
	char *copy = t_strdup_printf("%s", value);
	for (char *tok = strtok(copy, " ,"); tok != NULL; tok = strtok(NULL, " ,")) {
		if (strcasecmp(tok, "APPEND") != 0 && strcasecmp(tok, "COPY") != 0 &&
		    strcasecmp(tok, "FLAG") != 0) {
			*error_r = "expected APPEND, COPY and/or FLAG";
			return -1;
		}
	}
	return 0;
}

static const struct setting_def lmtp_setting_defs[] = {
	{ .key = "max_message_size", .type = SETTING_TYPE_SIZE,
	  DEF(lmtp_settings, max_message_size), .default_value = "50M",
	  .min = 1024,
	  .description = "Largest message accepted (advertised as SIZE, "
		"RFC 1870); bigger ones get 552 5.3.4 for every recipient." },
	{ .key = "max_recipients", .type = SETTING_TYPE_UINT,
	  DEF(lmtp_settings, max_recipients), .default_value = "50",
	  .min = 1, .max = 10000,
	  .description = "Recipients per transaction; more get 452 4.5.3 "
		"and the MTA sends them in a new transaction." },
	{ .key = "delivered_to", .type = SETTING_TYPE_BOOL,
	  DEF(lmtp_settings, delivered_to), .default_value = "yes",
	  .description = "Add a Delivered-To: header with the recipient's "
		"address to each stored copy (MTAs use it to detect loops)." },
	{ .key = "detail_delimiter", .type = SETTING_TYPE_STRING,
	  DEF(lmtp_settings, detail_delimiter), .default_value = "+",
	  .check = check_detail_delimiter,
	  .description = "Characters that separate a local part from its "
		"detail (user+detail@domain): any one of them, the first "
		"found, as Dovecot's recipient_delimiter. Empty: no detail "
		"addressing. Also used by tern-lda -a." },
	{ .key = "detail_to_mailbox", .type = SETTING_TYPE_BOOL,
	  DEF(lmtp_settings, detail_to_mailbox), .default_value = "yes",
	  .description = "Deliver user+detail@domain into the mailbox named "
		"detail when it exists (else INBOX), unless a Sieve script "
		"decides otherwise." },
	{ .key = "hostname", .type = SETTING_TYPE_STRING,
	  DEF(lmtp_settings, hostname), .default_value = "",
	  .description = "Name in the greeting, Received: headers and "
		"rejection messages; empty: the system's host name." },
	{ .key = "idle_timeout", .type = SETTING_TYPE_DURATION,
	  DEF(lmtp_settings, idle_timeout_ms), .default_value = "5m",
	  .min = 1000,
	  .description = "Close a session idle this long with 421 4.4.2 "
		"(RFC 5321 §4.5.3.2.7 asks for 5 minutes)." },
	{ .key = "output_timeout", .type = SETTING_TYPE_DURATION,
	  DEF(lmtp_settings, output_timeout_ms), .default_value = "5m",
	  .min = 1000,
	  .description = "Close a session whose client doesn't read its "
		"replies for this long." },
	{ .key = "output_buffer_limit", .type = SETTING_TYPE_SIZE,
	  DEF(lmtp_settings, output_buffer_limit), .default_value = "64k",
	  .min = 1024,
	  .description = "Replies buffered for a client before the session "
		"stops reading commands until the client reads." },
	{ .key = "spool_memory_limit", .type = SETTING_TYPE_SIZE,
	  DEF(lmtp_settings, spool_memory_limit), .default_value = "128k",
	  .min = 0, .max = 64 * 1024 * 1024,
	  .description = "A message is held in memory up to this size, "
		"then in an unlinked temporary file under base_dir." },
	{ .key = NULL }
};

static const struct setting_def indexer_setting_defs[] = {
	{ .key = "enabled", .type = SETTING_TYPE_BOOL,
	  DEF(indexer_settings, enabled), .default_value = "yes",
	  .description = "Run the indexer process, which adds delivered "
		"messages to their user's full-text index in the background "
		"at low priority, so LMTP replies and delivers without doing "
		"it. No: each LMTP session indexes its deliveries itself when "
		"its client pauses. Either way a search indexes whatever is "
		"still missing first." },
	{ .key = "delay", .type = SETTING_TYPE_DURATION,
	  DEF(indexer_settings, delay_ms), .default_value = "1s",
	  .max = 3600 * 1000,
	  .description = "A user's new messages are indexed once no "
		"delivery has come for the user for this long, so a burst of "
		"mail is indexed in one go and the indexer doesn't compete "
		"with the deliveries for the user's index." },
	{ .key = "max_delay", .type = SETTING_TYPE_DURATION,
	  DEF(indexer_settings, max_delay_ms), .default_value = "30s",
	  .max = 24 * 3600 * 1000,
	  .description = "A delivered message waits at most this long for "
		"its user's deliveries to pause (CPU permitting: the indexer "
		"runs at the priority given by nice)." },
	{ .key = "max_queued", .type = SETTING_TYPE_UINT,
	  DEF(indexer_settings, max_queued), .default_value = "200000",
	  .min = 1, .max = 100000000,
	  .description = "Messages waiting for the indexer, over all users; "
		"past it further deliveries are left to their user's first "
		"search (which indexes what is missing)." },
	{ .key = "nice", .type = SETTING_TYPE_UINT,
	  DEF(indexer_settings, nice), .default_value = "19",
	  .max = 19,
	  .description = "The indexer's nice value: at 19 it uses the CPU "
		"time that serving clients and deliveries leaves." },
	{ .key = NULL }
};

static const struct setting_def sieve_setting_defs[] = {
	{ .key = "script_dir", .type = SETTING_TYPE_STRING,
	  DEF(sieve_settings, script_dir), .default_value = "%h/sieve",
	  .check = config_check_not_empty,
	  .description = "Directory of a user's Sieve scripts, one NAME.sieve "
		"file each (Pigeonhole's layout). %h is the user's home, %u "
		"the login name, %n its local part, %d its domain; a relative "
		"path is taken under the home." },
	{ .key = "script", .type = SETTING_TYPE_STRING,
	  DEF(sieve_settings, script), .default_value = "%h/.dovecot.sieve",
	  .check = config_check_not_empty,
	  .description = "The active script: a symlink to one file of "
		"script_dir, which ManageSieve SETACTIVE replaces. A regular "
		"file here is run at delivery too; activating a script moves "
		"it into script_dir as dovecot.orig, as Pigeonhole does." },
	{ .key = "before", .type = SETTING_TYPE_PATH,
	  DEF(sieve_settings, before), .default_value = "",
	  .description = "Administrator script run before the user's: a "
		"file, or a directory whose *.sieve files run in name order. "
		"The next script runs only while the message is still kept "
		"(no fileinto, redirect or discard cancelled the keep)." },
	{ .key = "after", .type = SETTING_TYPE_PATH,
	  DEF(sieve_settings, after), .default_value = "",
	  .description = "Administrator script run after the user's, on the "
		"same terms as before." },
	{ .key = "quota_max_scripts", .type = SETTING_TYPE_UINT,
	  DEF(sieve_settings, quota_max_scripts), .default_value = "0",
	  .max = 1000000,
	  .description = "Scripts a user may store (0: no limit); beyond it "
		"PUTSCRIPT answers NO (QUOTA/MAXSCRIPTS)." },
	{ .key = "quota_max_storage", .type = SETTING_TYPE_SIZE,
	  DEF(sieve_settings, quota_max_storage), .default_value = "0",
	  .description = "Total size of a user's scripts (0: no limit); "
		"beyond it PUTSCRIPT answers NO (QUOTA)." },
	{ .key = "max_script_size", .type = SETTING_TYPE_SIZE,
	  DEF(sieve_settings, max_script_size), .default_value = "1M",
	  .min = 1024, .max = 16 * 1024 * 1024,
	  .description = "Largest script: a larger one is not run at "
		"delivery (the message is kept and the error logged), and "
		"ManageSieve refuses it with NO (QUOTA/MAXSIZE) and limits "
		"literals to it." },
	{ .key = "max_cpu_time", .type = SETTING_TYPE_DURATION,
	  DEF(sieve_settings, max_cpu_time_ms), .default_value = "30s",
	  .min = 10,
	  .description = "CPU time a script may use on one message. A script "
		"that used more is treated as failed (its actions are "
		"dropped, the message is kept) and is not run again until "
		"the file changes." },
	{ .key = "max_redirects", .type = SETTING_TYPE_UINT,
	  DEF(sieve_settings, max_redirects), .default_value = "4",
	  .min = 0, .max = 64,
	  .description = "Redirect actions one script may cause; more is a "
		"runtime error (the message is kept). Advertised as "
		"ManageSieve MAXREDIRECTS." },
	{ .key = "max_actions", .type = SETTING_TYPE_UINT,
	  DEF(sieve_settings, max_actions), .default_value = "32",
	  .min = 1, .max = 1024,
	  .description = "Actions one script may cause." },
	{ .key = "vacation_min_period", .type = SETTING_TYPE_DURATION,
	  DEF(sieve_settings, vacation_min_period_ms), .default_value = "1d",
	  .description = "Shortest interval between two vacation replies to "
		"the same sender (RFC 5230 §4.1); shorter :days or :seconds "
		"are raised to it. 0 allows any." },
	{ .key = "vacation_max_period", .type = SETTING_TYPE_DURATION,
	  DEF(sieve_settings, vacation_max_period_ms), .default_value = "0",
	  .description = "Longest interval; longer :days are lowered to it. "
		"0: no upper bound." },
	{ .key = "vacation_default_period", .type = SETTING_TYPE_DURATION,
	  DEF(sieve_settings, vacation_default_period_ms), .default_value = "7d",
	  .min = 1000,
	  .description = "Interval when the script gives no :days." },
	{ .key = "redirect_duplicate_period", .type = SETTING_TYPE_DURATION,
	  DEF(sieve_settings, redirect_duplicate_period_ms), .default_value = "12h",
	  .description = "A message (by Message-ID) redirected to an address "
		"is not redirected there again within this time: a delivery "
		"the MTA retries, or a forwarding loop, sends it once." },
	{ .key = "user_log", .type = SETTING_TYPE_BOOL,
	  DEF(sieve_settings, user_log), .default_value = "yes",
	  .description = "Append errors of the user's script to "
		"<script>.log (at most 64 KiB) so the user can see them." },
	{ .key = "global_dir", .type = SETTING_TYPE_PATH,
	  DEF(sieve_settings, global_dir), .default_value = "",
	  .description = "Directory of the scripts that `include :global "
		"\"NAME\"` reads (NAME.sieve, RFC 6609). Empty: :global "
		"includes find nothing." },
	{ .key = "spamtest_status_type", .type = SETTING_TYPE_ENUM,
	  DEF(sieve_settings, spamtest_status_type), .default_value = "score",
	  .values = (const char *const[]){ "score", "strlen", "text", NULL },
	  .description = "How spamtest (RFC 5235) reads the value that "
		"spamtest_status_header finds: score, a number scaled by "
		"the maximum onto 1-10; strlen, the value's length (\"*****\") "
		"scaled the same way; text, looked up in "
		"spamtest_text_values." },
	{ .key = "spamtest_status_header", .type = SETTING_TYPE_STRING,
	  DEF(sieve_settings, spamtest_status_header), .default_value = "",
	  .check = check_status_header,
	  .description = "The header holding the spam verdict, optionally "
		"with a POSIX extended regular expression whose first group "
		"(or whole match) is the value: `X-Spam-Score: "
		"^(-?[0-9.]+)`. Empty: spamtest always finds \"0\" (not "
		"tested). A message without the header, or whose value "
		"doesn't match, is \"0\" too." },
	{ .key = "spamtest_max_header", .type = SETTING_TYPE_STRING,
	  DEF(sieve_settings, spamtest_max_header), .default_value = "",
	  .check = check_status_header,
	  .description = "The header (and regex) holding the score that "
		"counts as certainly spam (score and strlen types), e.g. "
		"`X-Spam-Status: required=([0-9.]+)`; used before "
		"spamtest_max_value." },
	{ .key = "spamtest_max_value", .type = SETTING_TYPE_STRING,
	  DEF(sieve_settings, spamtest_max_value), .default_value = "",
	  .check = check_decimal,
	  .description = "The score (or string length) that counts as "
		"certainly spam when spamtest_max_header gives none. Empty: "
		"10." },
	{ .key = "spamtest_text_values", .type = SETTING_TYPE_STRING,
	  DEF(sieve_settings, spamtest_text_values), .default_value = "",
	  .check = check_text_values,
	  .description = "For status type text: `N:text` items separated by "
		"commas; a value equal to text (case-insensitively) is "
		"spamtest value N (1 not spam ... 10 spam), e.g. `1:No, "
		"10:Yes`." },
	{ .key = "virustest_status_type", .type = SETTING_TYPE_ENUM,
	  DEF(sieve_settings, virustest_status_type), .default_value = "score",
	  .values = (const char *const[]){ "score", "strlen", "text", NULL },
	  .description = "The same as spamtest_status_type for virustest "
		"(values 1 clean ... 5 infected)." },
	{ .key = "virustest_status_header", .type = SETTING_TYPE_STRING,
	  DEF(sieve_settings, virustest_status_header), .default_value = "",
	  .check = check_status_header,
	  .description = "The header (and regex) of the virus verdict. "
		"Empty: virustest always finds \"0\"." },
	{ .key = "virustest_max_header", .type = SETTING_TYPE_STRING,
	  DEF(sieve_settings, virustest_max_header), .default_value = "",
	  .check = check_status_header,
	  .description = "As spamtest_max_header, for virustest." },
	{ .key = "virustest_max_value", .type = SETTING_TYPE_STRING,
	  DEF(sieve_settings, virustest_max_value), .default_value = "",
	  .check = check_decimal,
	  .description = "As spamtest_max_value, for virustest. Empty: 5." },
	{ .key = "virustest_text_values", .type = SETTING_TYPE_STRING,
	  DEF(sieve_settings, virustest_text_values), .default_value = "",
	  .check = check_text_values,
	  .description = "As spamtest_text_values, with N from 1 (clean) to "
		"5 (infected)." },
	{ .key = "editheader_protected", .type = SETTING_TYPE_STRING,
	  DEF(sieve_settings, editheader_protected), .default_value = "",
	  .description = "Header fields (names separated by spaces) that "
		"editheader's addheader and deleteheader (RFC 5293) may "
		"neither add nor delete; such edits are ignored. Subject is "
		"always editable; Received and Auto-Submitted are never "
		"deleted. Invalid names are ignored." },
	{ .key = "editheader_forbid_add", .type = SETTING_TYPE_STRING,
	  DEF(sieve_settings, editheader_forbid_add), .default_value = "",
	  .description = "Header fields addheader may not add." },
	{ .key = "editheader_forbid_delete", .type = SETTING_TYPE_STRING,
	  DEF(sieve_settings, editheader_forbid_delete), .default_value = "",
	  .description = "Header fields deleteheader may not delete." },
	{ .key = "editheader_max_header_size", .type = SETTING_TYPE_SIZE,
	  DEF(sieve_settings, editheader_max_header_size), .default_value = "8k",
	  .min = 1024, .max = 1024 * 1024,
	  .description = "Largest header field (name and value) addheader "
		"may add; a larger constant one is a compile error, a larger "
		"computed one a runtime error (the message is kept)." },
	{ .key = NULL }
};

static const struct setting_def imapsieve_setting_defs[] = {
	{ .key = "url", .type = SETTING_TYPE_STRING,
	  DEF(imapsieve_settings, url), .default_value = "",
	  .description = "The ManageSieve server of this IMAP server, "
		"`sieve://host[:port]`, advertised as IMAPSIEVE= (RFC 6785 "
		"§2.1). Set, the users' own scripts named by the METADATA "
		"entry /shared/imapsieve/script run on IMAP events (needs "
		"imap.metadata). Empty: only imapsieve_mailbox scripts run "
		"and nothing is advertised." },
	{ .key = "expunge_discarded", .type = SETTING_TYPE_BOOL,
	  DEF(imapsieve_settings, expunge_discarded), .default_value = "no",
	  .description = "A message whose keep a script cancelled "
		"(discard, fileinto, redirect) is expunged at once (as a "
		"UID EXPUNGE of it alone) rather than only flagged \\Deleted "
		"(RFC 6785 §2.2.4)." },
	{ .key = NULL }
};

static const struct setting_def imapsieve_mailbox_setting_defs[] = {
	{ .key = "name", .type = SETTING_TYPE_STRING,
	  DEF(imapsieve_mailbox_settings, name), .default_value = "",
	  .description = "The mailboxes the block applies to: a name, with "
		"`*` for any characters and `?` for one (`*` alone: every "
		"mailbox). Empty: the block is not used." },
	{ .key = "causes", .type = SETTING_TYPE_STRING,
	  DEF(imapsieve_mailbox_settings, causes), .default_value = "APPEND COPY",
	  .check = check_imapsieve_causes,
	  .description = "The IMAP events that run the scripts: APPEND, "
		"COPY (MOVE too) and FLAG (a STORE that changed flags), "
		"separated by spaces." },
	{ .key = "from", .type = SETTING_TYPE_STRING,
	  DEF(imapsieve_mailbox_settings, from), .default_value = "*",
	  .description = "For COPY: the mailbox the messages came from, a "
		"pattern like name (`*`: any)." },
	{ .key = "before", .type = SETTING_TYPE_PATH,
	  DEF(imapsieve_mailbox_settings, before), .default_value = "",
	  .description = "Script run before the user's own (a file, or a "
		"directory whose *.sieve files run in name order)." },
	{ .key = "after", .type = SETTING_TYPE_PATH,
	  DEF(imapsieve_mailbox_settings, after), .default_value = "",
	  .description = "Script run after the user's own, while the "
		"message is still kept." },
	{ .key = NULL }
};

static const struct setting_def submission_setting_defs[] = {
	{ .key = "host", .type = SETTING_TYPE_STRING,
	  DEF(submission_settings, host), .default_value = "",
	  .description = "host:port of the SMTP server (usually the local "
		"MTA, plain SMTP) that redirects, vacation replies and "
		"rejection messages are sent through. Empty: sendmail_path." },
	{ .key = "sendmail_path", .type = SETTING_TYPE_STRING,
	  DEF(submission_settings, sendmail_path),
	  .default_value = "/usr/sbin/sendmail",
	  .description = "Program run as `sendmail_path -i -f SENDER -- "
		"RCPT` with the message on its input, when host is empty." },
	{ .key = "timeout", .type = SETTING_TYPE_DURATION,
	  DEF(submission_settings, timeout_ms), .default_value = "30s",
	  .min = 100,
	  .description = "Time allowed per SMTP reply, or for sendmail to "
		"finish; past it the submission failed temporarily." },
	{ .key = "redirect_sender", .type = SETTING_TYPE_STRING,
	  DEF(submission_settings, redirect_sender), .default_value = "",
	  .description = "Envelope sender of redirected messages: empty "
		"keeps the original sender (the redirect is transparent); an "
		"address replaces it (for SPF-strict relays)." },
	{ .key = "postmaster_address", .type = SETTING_TYPE_STRING,
	  DEF(submission_settings, postmaster_address), .default_value = "",
	  .description = "From: of rejection messages (Sieve reject); "
		"empty: postmaster@ the LMTP host name." },
	{ .key = NULL }
};

static const struct setting_def quota_setting_defs[] = {
	{ .key = "default_rule", .type = SETTING_TYPE_STRING,
	  DEF(quota_settings, default_rule), .default_value = "",
	  .check = check_quota_rule,
	  .description = "Limit for users whose userdb entry has no "
		"quota_rule field: *:storage=SIZE and/or *:messages=N "
		"separated by spaces; *:storage=0 means none. Empty: no "
		"limit. Checked at delivery only (LMTP RCPT and DATA, "
		"tern-lda)." },
	{ .key = "full_tempfail", .type = SETTING_TYPE_BOOL,
	  DEF(quota_settings, full_tempfail), .default_value = "yes",
	  .description = "Over quota is a temporary failure (452 4.2.2, "
		"tern-lda exit 75: the MTA retries) rather than a permanent "
		"one (552 5.2.2, exit 77: the sender gets a bounce)." },
	{ .key = NULL }
};

static const struct setting_def managesieve_setting_defs[] = {
	{ .key = "max_line_length", .type = SETTING_TYPE_SIZE,
	  DEF(managesieve_settings, max_line_length), .default_value = "8k",
	  .min = 1024, .max = 1024 * 1024,
	  .description = "Longest command line a client may send, literal "
		"contents not counted; a longer one is answered with NO and "
		"skipped." },
	{ .key = "login_timeout", .type = SETTING_TYPE_DURATION,
	  DEF(managesieve_settings, login_timeout_ms), .default_value = "1m",
	  .min = 1000,
	  .description = "Disconnect a client that is idle this long before "
		"logging in." },
	{ .key = "idle_timeout", .type = SETTING_TYPE_DURATION,
	  DEF(managesieve_settings, idle_timeout_ms), .default_value = "30m",
	  .min = 1000,
	  .description = "Disconnect a logged-in client that is idle this "
		"long." },
	{ .key = "output_buffer_limit", .type = SETTING_TYPE_SIZE,
	  DEF(managesieve_settings, output_buffer_limit), .default_value = "256k",
	  .min = 1024,
	  .description = "Output buffered for a client before the server "
		"stops reading its commands until it reads." },
	{ .key = "output_timeout", .type = SETTING_TYPE_DURATION,
	  DEF(managesieve_settings, output_timeout_ms), .default_value = "5m",
	  .min = 1000,
	  .description = "Disconnect a client that does not read its pending "
		"output for this long." },
	{ .key = NULL }
};

static int imapsieve_mailbox_label_check(const char *label, const char **error_r)
{
	for (const char *p = label; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-')) {
			*error_r = t_strdup_printf(
				"invalid imapsieve_mailbox name '%s' (letters, "
				"digits, '_' and '-' only)", label);
			return -1;
		}
	}
	return 0;
}

static void *imapsieve_mailbox_item_add(struct tern_settings *set, pool_t pool,
					const char *label)
{
	struct imapsieve_mailbox_settings *mb =
		p_new(pool, struct imapsieve_mailbox_settings, 1);
	mb->label = p_strdup(pool, label);
	if (!array_is_created(&set->imapsieve_mailboxes))
		array_init(&set->imapsieve_mailboxes, pool, 4);
	array_push(&set->imapsieve_mailboxes, mb);
	return mb;
}

const struct config_block_def config_block_lmtp = {
	.name = "lmtp",
	.defs = lmtp_setting_defs,
	.offset = offsetof(struct tern_settings, lmtp),
	.description = "LMTP delivery sessions: limits, timeouts, headers "
		"and +detail addressing (docs/lmtp.md).",
};

const struct config_block_def config_block_indexer = {
	.name = "indexer",
	.defs = indexer_setting_defs,
	.offset = offsetof(struct tern_settings, indexer),
	.description = "The background full-text indexer of delivered mail "
		"(docs/lmtp.md).",
};

const struct config_block_def config_block_sieve = {
	.name = "sieve",
	.defs = sieve_setting_defs,
	.offset = offsetof(struct tern_settings, sieve),
	.description = "Users' Sieve scripts: where they are stored "
		"(docs/managesieve.md), how they run at delivery (LMTP and "
		"tern-lda), their limits and vacation periods.",
};

const struct config_block_def config_block_submission = {
	.name = "submission",
	.defs = submission_setting_defs,
	.offset = offsetof(struct tern_settings, submission),
	.description = "How delivery sends mail: redirects, vacation "
		"replies and rejection messages.",
};

const struct config_block_def config_block_quota = {
	.name = "quota",
	.defs = quota_setting_defs,
	.offset = offsetof(struct tern_settings, quota),
	.description = "The storage limit checked at delivery.",
};

const struct config_block_def config_block_managesieve = {
	.name = "managesieve",
	.defs = managesieve_setting_defs,
	.offset = offsetof(struct tern_settings, managesieve),
	.description = "ManageSieve sessions (RFC 5804): limits and timeouts.",
};

const struct config_block_def config_block_imapsieve = {
	.name = "imapsieve",
	.defs = imapsieve_setting_defs,
	.offset = offsetof(struct tern_settings, imapsieve),
	.description = "Sieve scripts run on IMAP events (RFC 6785, "
		"docs/imapsieve.md): the users' own, named by METADATA.",
};

const struct config_block_def config_block_imapsieve_mailbox = {
	.name = "imapsieve_mailbox",
	.defs = imapsieve_mailbox_setting_defs,
	.labelled = true,
	.struct_size = sizeof(struct imapsieve_mailbox_settings),
	.label_check = imapsieve_mailbox_label_check,
	.item_add = imapsieve_mailbox_item_add,
	.description = "Administrator scripts run on IMAP events in the "
		"mailboxes matching name, e.g. a report to the spam filter "
		"when a message is moved to Junk (docs/imapsieve.md). NAME "
		"is any name made of letters, digits, '_' and '-'; the "
		"scripts of every matching block run, in config order.",
};
