/* The flow-log reader (lib/parse/flowlog.c, nsgsim_flowlog_*):
 *
 * - every record shape: NSG flow logs v1 (8 fields) and v2 (13, counters
 *   empty on B), VNet flow logs v4 (protocol numbers, state D = denied), a
 *   bare array of records, the record's macAddress when a group has none;
 * - the real logs in fixtures/flow_logs (counts, rules, first tuples);
 * - gzip (one member, two members, corrupt, truncated) and a directory tree
 *   read recursively in sorted order;
 * - errors: the file, the JSON pointer, line and column, and what was
 *   expected; the callback's value stops the read. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "files.h"
#include "nsgsim.h"

#define MAXT 64

typedef struct seen {
	size_t n;
	nsgsim_flowlog_tuple t[MAXT];
	char rule[MAXT][64], acl[MAXT][200], target[MAXT][200], mac[MAXT][20], ptr[MAXT][160];
	char file[MAXT][200];
	int stop_at; /* >0: return 7 at this tuple */
} seen;

static int collect(void *ctx, const nsgsim_flowlog_tuple *t)
{
	seen *s = ctx;
	if (s->n < MAXT) {
		size_t i = s->n;
		s->t[i] = *t;
		snprintf(s->rule[i], sizeof s->rule[i], "%s", t->rule);
		snprintf(s->acl[i], sizeof s->acl[i], "%s", t->acl);
		snprintf(s->target[i], sizeof s->target[i], "%s", t->target);
		snprintf(s->mac[i], sizeof s->mac[i], "%s", t->mac);
		snprintf(s->file[i], sizeof s->file[i], "%s", t->file);
		nsgsim_flowlog_pointer(t, s->ptr[i], sizeof s->ptr[i]);
	}
	s->n++;
	if (s->stop_at && (int)s->n == s->stop_at)
		return 7;
	return 0;
}

static int read_text(const char *text, seen *s, nsgsim_error *err)
{
	nsgsim_flowlog *r = nsgsim_flowlog_new();
	assert_non_null(r);
	memset(s, 0, sizeof *s);
	int rc = nsgsim_flowlog_read_buffer(r, "log.json", text, strlen(text), collect, s, err);
	nsgsim_flowlog_free(r);
	return rc;
}

static void ip4(const nsgsim_ip *ip, const char *want)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%u.%u.%u.%u", ip->bytes[0], ip->bytes[1], ip->bytes[2],
	         ip->bytes[3]);
	assert_int_equal(ip->family, 4);
	assert_string_equal(buf, want);
}

/* ---- shapes ------------------------------------------------------------------- */

static void test_v1(void **state)
{
	(void)state;
	seen s;
	nsgsim_error err;
	const char *log =
	        "{\"records\":[{\"resourceId\":\"/S/X/NSG1\",\"properties\":{\"Version\":1,"
	        "\"flows\":[{\"rule\":\"UserRule_web\",\"flows\":[{\"mac\":\"000D3AF87856\","
	        "\"flowTuples\":[\"1542110402,94.102.49.190,10.5.16.4,28746,443,T,I,A\","
	        "\"1542110403,10.5.16.4,8.8.8.8,5353,53,U,O,D\"]}]}]}}]}";
	assert_int_equal(read_text(log, &s, &err), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.t[0].version, 1);
	assert_int_equal(s.t[0].time_ms, 1542110402000ll);
	ip4(&s.t[0].flow.src, "94.102.49.190");
	ip4(&s.t[0].flow.dst, "10.5.16.4");
	assert_int_equal(s.t[0].flow.src_port, 28746);
	assert_int_equal(s.t[0].flow.dst_port, 443);
	assert_int_equal(s.t[0].flow.protocol, NSGSIM_PROTO_TCP);
	assert_int_equal(s.t[0].direction, NSGSIM_INBOUND);
	assert_int_equal(s.t[0].decision, NSGSIM_ALLOW);
	assert_int_equal(s.t[0].state, 'B');
	assert_string_equal(s.rule[0], "UserRule_web");
	assert_string_equal(s.acl[0], "/S/X/NSG1");
	assert_string_equal(s.mac[0], "000D3AF87856");
	assert_string_equal(s.target[0], "");
	assert_int_equal(s.t[1].flow.protocol, NSGSIM_PROTO_UDP);
	assert_int_equal(s.t[1].direction, NSGSIM_OUTBOUND);
	assert_int_equal(s.t[1].decision, NSGSIM_DENY);
	assert_string_equal(s.ptr[1], "/records/0/properties/flows/0/flows/0/flowTuples/1");
}

static void test_v2_counters_and_record_mac(void **state)
{
	(void)state;
	seen s;
	nsgsim_error err;
	const char *log = "{\"records\":[{\"macAddress\":\"AABBCCDDEEFF\",\"resourceId\":\"/n\","
	                  "\"properties\":{\"Version\":2,\"flows\":[{\"rule\":\"DefaultRule_"
	                  "AllowInternetOutBound\","
	                  "\"flows\":[{\"flowTuples\":[\"1,10.0.0.4,1.2.3.4,1,443,T,O,A,B,,,,\","
	                  "\"2,10.0.0.4,1.2.3.4,1,443,T,O,A,C,30,16978,24,14008\","
	                  "\"3,10.0.0.4,1.2.3.4,1,443,T,O,A,E,1,66,2,77\"]}]}]}}]}";
	assert_int_equal(read_text(log, &s, &err), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.t[0].version, 2);
	assert_string_equal(s.mac[0], "AABBCCDDEEFF"); /* the record's, as the group has none */
	assert_int_equal(s.t[0].packets_out, 0);
	assert_int_equal(s.t[1].state, 'C');
	assert_int_equal(s.t[1].packets_out, 30);
	assert_int_equal(s.t[1].bytes_out, 16978);
	assert_int_equal(s.t[1].packets_in, 24);
	assert_int_equal(s.t[1].bytes_in, 14008);
	assert_int_equal(s.t[2].state, 'E');
}

static void test_v4_and_bare_array(void **state)
{
	(void)state;
	seen s;
	nsgsim_error err;
	const char *log =
	        "[{\"flowLogVersion\":4,\"macAddress\":\"0022486DBA37\",\"targetResourceID\":\"/"
	        "vnet\","
	        "\"flowRecords\":{\"flows\":[{\"aclID\":\"00000000-0000-0000-0000-000000000000\","
	        "\"flowGroups\":[{\"rule\":\"PlatformRule\",\"flowTuples\":["
	        "\"1786653106963,40.87.164.0,10.0.5.4,23456,25800,6,I,B,NX,0,0,0,0\"]}]},"
	        "{\"aclID\":\"/nsg\",\"flowGroups\":[{\"rule\":\"DefaultRule_DenyAllInBound\","
	        "\"flowTuples\":[\"1786653103883,147.185.132.143,10.0.5.4,50648,9881,17,I,D,NX,0,0,"
	        "0,0\","
	        "\"1786653103884,2001:db8::1,2001:db8::2,0,0,1,O,E,NX,1,2,3,4\"]}]}]}}]";
	assert_int_equal(read_text(log, &s, &err), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.t[0].version, 4);
	assert_int_equal(s.t[0].time_ms, 1786653106963ll);
	assert_string_equal(s.rule[0], "PlatformRule");
	assert_string_equal(s.target[0], "/vnet");
	assert_string_equal(s.mac[0], "0022486DBA37");
	assert_string_equal(s.acl[1], "/nsg");
	assert_int_equal(s.t[1].flow.protocol, NSGSIM_PROTO_UDP);
	assert_int_equal(s.t[1].decision, NSGSIM_DENY);
	assert_int_equal(s.t[1].state, 'B');
	assert_int_equal(s.t[2].flow.src.family, 6);
	assert_int_equal(s.t[2].flow.protocol, NSGSIM_PROTO_ICMP);
	assert_int_equal(s.t[2].flow.dst_port, NSGSIM_PORT_ANY);
	assert_int_equal(s.t[2].state, 'E');
	assert_int_equal(s.t[2].bytes_in, 4);
	assert_string_equal(s.ptr[2], "/records/0/flowRecords/flows/1/flowGroups/0/flowTuples/1");
}

/* ---- the real logs ------------------------------------------------------------------ */

typedef struct tally {
	size_t n, by_version[5], deny, platform, states[3];
} tally;

static int count_cb(void *ctx, const nsgsim_flowlog_tuple *t)
{
	tally *c = ctx;
	c->n++;
	c->by_version[t->version]++;
	c->deny += t->decision == NSGSIM_DENY;
	c->platform += strcmp(t->rule, "PlatformRule") == 0;
	c->states[t->state == 'B' ? 0 : t->state == 'C' ? 1 : 2]++;
	return 0;
}

static tally read_path(const char *path)
{
	tally c;
	memset(&c, 0, sizeof c);
	nsgsim_flowlog *r = nsgsim_flowlog_new();
	nsgsim_error err;
	int rc = nsgsim_flowlog_read(r, path, count_cb, &c, &err);
	if (rc != 0)
		fail_msg("%s: %s: %s", err.file, err.pointer, err.message);
	nsgsim_flowlog_free(r);
	return c;
}

static void test_real_logs(void **state)
{
	(void)state;
	tally a = read_path("fixtures/flow_logs/vnet_v4_chshin9_PT1H.json");
	assert_int_equal(a.n, 76);
	assert_int_equal(a.by_version[4], 76);
	assert_int_equal(a.platform, 4);
	assert_int_equal(a.deny, 66);
	tally b = read_path("fixtures/flow_logs/elastic_nsg_v2_testdata.json");
	assert_int_equal(b.n, 11);
	assert_int_equal(b.by_version[2], 11);
	assert_int_equal(b.states[1], 1);
	assert_int_equal(b.states[2], 2);
	tally c = read_path("fixtures/flow_logs/elastic_vnet_v4_testdata.json");
	assert_int_equal(c.n, 19);
	tally d = read_path("fixtures/flow_logs/nsg_v2_danifitz_trimmed_PT1H.json");
	assert_int_equal(d.n, 272);
	assert_int_equal(d.deny, 7);
}

/* ---- gzip and directories ------------------------------------------------------------ */

static void write_gz(const char *path, const char *text, int members)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	for (int m = 0; m < members; m++) {
		gzFile g = gzdopen(dup(fileno(f)), "wb");
		assert_non_null(g);
		gzputs(g, m ? " " : text);
		gzclose(g);
		fseek(f, 0, SEEK_END);
	}
	fclose(f);
}

static const char *const small_log =
        "{\"records\":[{\"resourceId\":\"/n\",\"properties\":{\"Version\":2,\"flows\":[{\"rule\":"
        "\"DefaultRule_DenyAllInBound\",\"flows\":[{\"mac\":\"00\",\"flowTuples\":["
        "\"1,1.2.3.4,10.0.0.4,5,22,T,I,D,B,,,,\"]}]}]}}]}";

static void test_gzip_and_dir(void **state)
{
	(void)state;
	char dir[] = "/tmp/nsgsim-flowlog-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char p[600];
	snprintf(p, sizeof p, "%s/y=2026", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/y=2026/h=01", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/y=2026/h=00", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/y=2026/h=00/PT1H.json", dir);
	FILE *f = fopen(p, "w");
	fputs(small_log, f);
	fclose(f);
	snprintf(p, sizeof p, "%s/y=2026/h=01/PT1H.json.gz", dir);
	write_gz(p, small_log, 2); /* a second gzip member (whitespace) follows */
	snprintf(p, sizeof p, "%s/y=2026/h=01/notes.txt", dir);
	f = fopen(p, "w");
	fputs("not a log", f);
	fclose(f);

	seen s;
	memset(&s, 0, sizeof s);
	nsgsim_flowlog *r = nsgsim_flowlog_new();
	nsgsim_error err;
	assert_int_equal(nsgsim_flowlog_read(r, dir, collect, &s, &err), 0);
	assert_int_equal(s.n, 2);
	assert_non_null(strstr(s.file[0], "h=00/PT1H.json"));
	assert_non_null(strstr(s.file[1], "h=01/PT1H.json.gz"));
	assert_int_equal(s.t[1].flow.dst_port, 22);

	/* Corrupt and truncated gzip: an error naming the file, never a crash. */
	size_t len;
	snprintf(p, sizeof p, "%s/y=2026/h=01/PT1H.json.gz", dir);
	char *gz = test_read_file(p, &len);
	assert_int_not_equal(
	        nsgsim_flowlog_read_buffer(r, "cut.gz", gz, len / 2, collect, &s, &err), 0);
	assert_int_equal(err.code, NSGSIM_E_IO);
	assert_string_equal(err.file, "cut.gz");
	assert_non_null(strstr(err.message, "truncated"));
	gz[12] ^= 0x55;
	gz[13] ^= 0x55;
	int rc = nsgsim_flowlog_read_buffer(r, "bad.gz", gz, len, collect, &s, &err);
	assert_true(rc < 0);
	assert_string_equal(err.file, "bad.gz");
	free(gz);
	nsgsim_flowlog_free(r);

	char cmd[700];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* ---- errors ---------------------------------------------------------------------------- */

typedef struct bad_case {
	const char *text;
	int code;
	const char *pointer;
	const char *needle;
} bad_case;

static void test_errors(void **state)
{
	(void)state;
	static const bad_case cases[] = {
	        {"{\"records\": 3}", NSGSIM_E_SHAPE, "/records", "expected an array"},
	        {"{\"value\": []}", NSGSIM_E_MISSING_FIELD, "", "\"records\""},
	        {"{\"records\": [1]}", NSGSIM_E_SHAPE, "/records/0", "record object"},
	        {"{\"records\": [{}]}", NSGSIM_E_MISSING_FIELD, "/records/0", "flowRecords"},
	        {"{\"records\": [{\"properties\": {\"flows\": [{\"rule\": \"r\"}]}}]}",
	         NSGSIM_E_MISSING_FIELD, "/records/0/properties/flows/0", "\"flows\""},
	        {"{\"records\": [{\"properties\": {\"Version\": 3, \"flows\": []}}]}",
	         NSGSIM_E_UNSUPPORTED, "/records/0/properties/Version", "expected 1 or 2"},
	        {"{\"records\": [{\"properties\": {\"flows\": [{\"rule\": \"r\", \"flows\": "
	         "[{\"flowTuples\": [\"1,10.0.0.300,1.2.3.4,1,2,T,I,A\"]}]}]}}]}",
	         NSGSIM_E_BAD_FLOW, "/records/0/properties/flows/0/flows/0/flowTuples/0",
	         "the source address, is '10.0.0.300'"},
	        {"{\"records\": [{\"properties\": {\"flows\": [{\"rule\": \"r\", \"flows\": "
	         "[{\"flowTuples\": [\"1,10.0.0.3,1.2.3.4,1,70000,T,I,A\"]}]}]}}]}",
	         NSGSIM_E_BAD_FLOW, "/records/0/properties/flows/0/flows/0/flowTuples/0",
	         "destination port"},
	        {"{\"records\": [{\"properties\": {\"flows\": [{\"rule\": \"r\", \"flows\": "
	         "[{\"flowTuples\": [\"1,10.0.0.3,1.2.3.4,1,7,X,I,A\"]}]}]}}]}",
	         NSGSIM_E_BAD_FLOW, "/records/0/properties/flows/0/flows/0/flowTuples/0",
	         "protocol (T or U)"},
	        {"{\"records\": [{\"properties\": {\"flows\": [{\"rule\": \"r\", \"flows\": "
	         "[{\"flowTuples\": [\"1,10.0.0.3,1.2.3.4\"]}]}]}}]}",
	         NSGSIM_E_BAD_FLOW, "/records/0/properties/flows/0/flows/0/flowTuples/0",
	         "3 comma-separated fields"},
	        {"{\"records\": [{\"properties\": {\"flows\": [{\"rule\": \"r\", \"flows\": "
	         "[{\"flowTuples\": [7]}]}]}}]}",
	         NSGSIM_E_SHAPE, "/records/0/properties/flows/0/flows/0/flowTuples/0",
	         "tuple string"},
	        {"{\"records\": [{\"flowRecords\": {\"flows\": [{\"flowGroups\": [{\"rule\": "
	         "\"r\", "
	         "\"flowTuples\": [\"1,1.2.3.4,10.0.0.4,1,2,6,I,Q,NX,0,0,0,0\"]}]}]}}]}",
	         NSGSIM_E_BAD_FLOW, "/records/0/flowRecords/flows/0/flowGroups/0/flowTuples/0",
	         "state (B, C, E or D)"},
	        {"{\"records\": [{\"flowRecords\": {\"flows\": [{\"flowGroups\": [{\"rule\": "
	         "5}]}]}}]}",
	         NSGSIM_E_SHAPE, "/records/0/flowRecords/flows/0/flowGroups/0/rule",
	         "expected a string"},
	        {"{\"records\": [{\"flowLogVersion\": 3, \"flowRecords\": {}}]}",
	         NSGSIM_E_UNSUPPORTED, "/records/0/flowLogVersion", "expected 4"},
	        {"{\"records\": [", NSGSIM_E_JSON, "", ""},
	        {"", NSGSIM_E_JSON, "", ""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		seen s;
		nsgsim_error err;
		int rc = read_text(cases[i].text, &s, &err);
		if (rc != cases[i].code || strcmp(err.pointer, cases[i].pointer) != 0 ||
		    !strstr(err.message, cases[i].needle))
			fail_msg(
			        "case %zu: rc %d (want %d), pointer '%s' (want '%s'), message '%s'",
			        i, rc, cases[i].code, err.pointer, cases[i].pointer, err.message);
		assert_string_equal(err.file, "log.json");
		assert_true(err.line >= 1 || cases[i].text[0] == '\0');
	}
	/* Line and column of a bad tuple. */
	seen s;
	nsgsim_error err;
	const char *log =
	        "{\"records\": [\n {\"properties\": {\"flows\": [{\"rule\": \"r\", \"flows\":\n"
	        "   [{\"flowTuples\": [\"x,1.2.3.4,1.2.3.5,1,2,T,I,A\"]}]}]}}]}";
	assert_int_equal(read_text(log, &s, &err), NSGSIM_E_BAD_FLOW);
	assert_int_equal(err.line, 3);
	assert_int_equal(err.column, 22);
	assert_non_null(strstr(err.message, "timestamp"));
}

static void test_callback_stops(void **state)
{
	(void)state;
	nsgsim_flowlog *r = nsgsim_flowlog_new();
	seen s;
	memset(&s, 0, sizeof s);
	s.stop_at = 2;
	nsgsim_error err;
	size_t len;
	char *text = test_read_file("fixtures/flow_logs/vnet_v4_chshin9_PT1H.json", &len);
	assert_int_equal(nsgsim_flowlog_read_buffer(r, "x", text, len, collect, &s, &err), 7);
	assert_int_equal(s.n, 2);
	free(text);
	assert_int_equal(nsgsim_flowlog_read(r, "no/such/file", collect, &s, &err), NSGSIM_E_IO);
	assert_string_equal(err.file, "no/such/file");
	assert_int_equal(nsgsim_flowlog_read(NULL, "x", collect, &s, &err), NSGSIM_E_INVALID_ARG);
	nsgsim_flowlog_free(r);
	nsgsim_flowlog_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_v1),
	        cmocka_unit_test(test_v2_counters_and_record_mac),
	        cmocka_unit_test(test_v4_and_bare_array),
	        cmocka_unit_test(test_real_logs),
	        cmocka_unit_test(test_gzip_and_dir),
	        cmocka_unit_test(test_errors),
	        cmocka_unit_test(test_callback_stops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
