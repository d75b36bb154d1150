/* nsgsim_flow_parse against an independent reading of its grammar
 * ("PROTO SRC[:PORT] DST[:PORT]", blanks between, IPv4 as inet_pton reads
 * it, ports 0-65535 in at most five digits), on random texts that are
 * valid, nearly valid and invalid: the parser's fast path for the common
 * IPv4 case must give exactly what its general path gives. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "nsgsim.h"
#include "xorshift.h"

static bool oracle_port(const char *s, int *out)
{
	size_t n = strlen(s);
	if (n == 0 || n > 5 || strspn(s, "0123456789") != n)
		return false;
	long v = strtol(s, NULL, 10);
	if (v > 65535)
		return false;
	*out = (int)v;
	return true;
}

static bool oracle_endpoint(const char *tok, nsgsim_ip *ip, int *port)
{
	char addr[128];
	const char *colon = strchr(tok, ':');
	*port = NSGSIM_PORT_ANY;
	if (colon && strchr(colon + 1, ':'))
		return false; /* IPv6: not generated here */
	snprintf(addr, sizeof addr, "%.*s", colon ? (int)(colon - tok) : (int)strlen(tok), tok);
	memset(ip, 0, sizeof *ip);
	ip->family = 4;
	if (inet_pton(AF_INET, addr, ip->bytes) != 1)
		return false;
	return !colon || oracle_port(colon + 1, port);
}

static bool oracle(const char *text, nsgsim_flow *f)
{
	char buf[600];
	if (strlen(text) >= 512)
		return false;
	snprintf(buf, sizeof buf, "%s", text);
	char *tok[4], *save = NULL;
	int n = 0;
	for (char *t = strtok_r(buf, " \t\r\n", &save); t && n < 4;
	     t = strtok_r(NULL, " \t\r\n", &save))
		tok[n++] = t;
	if (n != 3)
		return false;
	static const char *const names[] = {"tcp", "udp", "icmp", "esp", "ah"};
	static const int protos[] = {NSGSIM_PROTO_TCP, NSGSIM_PROTO_UDP, NSGSIM_PROTO_ICMP,
	                             NSGSIM_PROTO_ESP, NSGSIM_PROTO_AH};
	memset(f, 0, sizeof *f);
	for (int i = 0; i < 5; i++)
		if (strcasecmp(tok[0], names[i]) == 0)
			f->protocol = protos[i];
	if (!f->protocol || !oracle_endpoint(tok[1], &f->src, &f->src_port) ||
	    !oracle_endpoint(tok[2], &f->dst, &f->dst_port))
		return false;
	bool ports = f->protocol == NSGSIM_PROTO_TCP || f->protocol == NSGSIM_PROTO_UDP;
	return ports ? f->dst_port != NSGSIM_PORT_ANY
	             : f->dst_port == NSGSIM_PORT_ANY && f->src_port == NSGSIM_PORT_ANY;
}

static const char *pick(uint64_t *s, const char *const *from, size_t n)
{
	return from[xs64(s) % n];
}

static void random_octet(uint64_t *s, char *out, size_t cap)
{
	static const char *const odd[] = {"256", "00", "01", "007", "1000", "", "x", "255", "0"};
	if (xs64(s) % 8 == 0)
		snprintf(out, cap, "%s", pick(s, odd, 9));
	else
		snprintf(out, cap, "%u", (unsigned)(xs64(s) % 256));
}

static void random_endpoint(uint64_t *s, char *out, size_t cap)
{
	char o[4][8];
	for (int i = 0; i < 4; i++)
		random_octet(s, o[i], sizeof o[i]);
	int shape = (int)(xs64(s) % 16);
	if (shape == 0)
		snprintf(out, cap, "%s.%s.%s", o[0], o[1], o[2]);
	else if (shape == 1)
		snprintf(out, cap, "%s.%s.%s.%s.%s", o[0], o[1], o[2], o[3], o[0]);
	else
		snprintf(out, cap, "%s.%s.%s.%s", o[0], o[1], o[2], o[3]);
	static const char *const ports[] = {"",  ":443",   ":0",      ":65535", ":65536",
	                                    ":", ":00443", ":123456", ":8o",    ":50000"};
	size_t len = strlen(out);
	int k = (int)(xs64(s) % 10);
	if (k == 9)
		snprintf(out + len, cap - len, ":%u", (unsigned)(xs64(s) % 70000));
	else
		snprintf(out + len, cap - len, "%s", ports[k]);
}

static void test_fast_path_matches_grammar(void **state)
{
	(void)state;
	static const char *const protos[] = {"tcp", "TCP",  "Udp", "icmp",  "ESP",
	                                     "ah",  "tcpx", "t",   "icmpv6"};
	static const char *const gaps[] = {" ", "\t", "  ", " \t ", "\r"};
	uint64_t seed = test_seed(0xf10e);
	int ok = 0, refused = 0;
	int rounds = getenv("NSGSIM_TEST_QUICK") ? 40000 : 200000; /* valgrind's run is slower */
	for (int i = 0; i < rounds; i++) {
		char src[64], dst[64], text[256];
		random_endpoint(&seed, src, sizeof src);
		random_endpoint(&seed, dst, sizeof dst);
		int extra = (int)(xs64(&seed) % 20);
		snprintf(text, sizeof text, "%s%s%s%s%s%s%s", extra == 0 ? " " : "",
		         pick(&seed, protos, 9), pick(&seed, gaps, 5), src, pick(&seed, gaps, 5),
		         dst,
		         extra == 1   ? " x"
		         : extra == 2 ? "\n"
		                      : "");
		nsgsim_flow want, got;
		nsgsim_error err;
		bool valid = oracle(text, &want);
		int rc = nsgsim_flow_parse(text, &got, &err);
		if (valid != (rc == 0))
			fail_msg("'%s': the grammar says %s, nsgsim_flow_parse returned %d", text,
			         valid ? "valid" : "invalid", rc);
		if (valid) {
			ok++;
			assert_int_equal(got.protocol, want.protocol);
			assert_int_equal(got.src.family, 4);
			assert_memory_equal(got.src.bytes, want.src.bytes, 16);
			assert_memory_equal(got.dst.bytes, want.dst.bytes, 16);
			assert_int_equal(got.src_port, want.src_port);
			assert_int_equal(got.dst_port, want.dst_port);
		} else {
			refused++;
			assert_int_equal(rc, NSGSIM_E_BAD_FLOW);
		}
	}
	fprintf(stderr, "%d valid, %d refused\n", ok, refused);
	assert_true(ok > rounds / 40 && refused > rounds / 40); /* both sides were exercised */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_fast_path_matches_grammar),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
