/* Unit tests for the login hand-off record's serialisation. */
#include "test-common.h"
#include "ipc-handoff.h"

static void test_handoff_roundtrip(void)
{
	test_begin("handoff round trip");
	struct login_handoff h;
	memset(&h, 0, sizeof(h));
	h.protocol = "imap";
	h.user = "al\tice\\x\nnewline";
	h.home = "/home/alice";
	h.uid = 1000;
	h.gid = (gid_t)-1;
	array_init(&h.userdb_extra, t_pool(), 2);
	array_push(&h.userdb_extra, "quota_rule=*:storage=1G");
	h.session_id = "AbCd";
	strcpy(h.remote.ip, "192.0.2.1");
	h.remote.port = 4321;
	strcpy(h.local.ip, "::1");
	h.local.port = 993;
	h.tls = true;
	h.tls_info = "TLSv1.3 TLS_AES_256_GCM_SHA384";
	h.secured = true;
	h.mech = "PLAIN";
	h.tag = "a1";
	h.input = (const unsigned char *)"a2 NOOP\r\n\0x";
	h.input_size = 11;
	string_t *str = t_str_new(256);
	login_handoff_serialize(&h, str);
	test_assert(strchr(str_c(str), '\n') == NULL);
	struct login_handoff p;
	const char *error;
	test_assert(login_handoff_parse(str_c(str), t_pool(), &p, &error) == 0);
	test_assert_strcmp(p.protocol, "imap");
	test_assert_strcmp(p.user, h.user);
	test_assert_strcmp(p.home, "/home/alice");
	test_assert(p.uid == 1000 && p.gid == (gid_t)-1);
	test_assert(p.userdb_extra.count == 1);
	test_assert_strcmp(p.userdb_extra.v[0], "quota_rule=*:storage=1G");
	test_assert_strcmp(p.remote.ip, "192.0.2.1");
	test_assert(p.remote.port == 4321 && p.local.port == 993);
	test_assert(p.tls && p.secured);
	test_assert_strcmp(p.tls_info, h.tls_info);
	test_assert_strcmp(p.tag, "a1");
	test_assert(p.input_size == 11 && memcmp(p.input, h.input, 11) == 0);
	test_end();
}

static void test_handoff_bad(void)
{
	test_begin("handoff malformed");
	struct login_handoff p;
	const char *error;
	test_assert(login_handoff_parse("protocol=imap", t_pool(), &p, &error) < 0);
	test_assert(login_handoff_parse("protocol=imap\tuser=a\tsession=s\trport=99999",
					t_pool(), &p, &error) < 0);
	test_assert(login_handoff_parse("noequals", t_pool(), &p, &error) < 0);
	test_assert(login_handoff_parse("protocol=imap\tuser=a\tsession=s\tinput=!!",
					t_pool(), &p, &error) < 0);
	test_assert(login_handoff_parse("protocol=imap\tuser=a\tsession=s\tfuture=1",
					t_pool(), &p, &error) == 0);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = { test_handoff_roundtrip, test_handoff_bad, NULL };
	return test_run(tests);
}
