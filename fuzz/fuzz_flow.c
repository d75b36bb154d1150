/* libFuzzer target: arbitrary bytes as a flow string for nsgsim_flow_parse.
 *
 * A parsed flow must be one the evaluator accepts (a valid protocol, one
 * family, ports where the protocol has them), and printing it back and
 * parsing again gives the same flow. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *proto_name(int proto)
{
	switch (proto) {
	case NSGSIM_PROTO_TCP:
		return "tcp";
	case NSGSIM_PROTO_UDP:
		return "udp";
	case NSGSIM_PROTO_ICMP:
		return "icmp";
	case NSGSIM_PROTO_ESP:
		return "esp";
	case NSGSIM_PROTO_AH:
		return "ah";
	}
	return NULL;
}

static void print_endpoint(char *buf, size_t cap, const nsgsim_ip *ip, int port)
{
	char a[INET6_ADDRSTRLEN];
	FUZZ_CHECK(inet_ntop(ip->family == 4 ? AF_INET : AF_INET6, ip->bytes, a, sizeof a) != NULL);
	if (port == NSGSIM_PORT_ANY)
		snprintf(buf, cap, "%s", a);
	else if (ip->family == 4)
		snprintf(buf, cap, "%s:%d", a, port);
	else
		snprintf(buf, cap, "[%s]:%d", a, port);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	FUZZ_CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	nsgsim_flow f;
	nsgsim_error err;
	int rc = nsgsim_flow_parse(text, &f, &err);
	free(text);
	if (rc != 0) {
		fuzz_check_error(rc, &err);
		FUZZ_CHECK(rc == NSGSIM_E_BAD_FLOW);
		return 0;
	}
	const char *proto = proto_name(f.protocol);
	FUZZ_CHECK(proto != NULL);
	FUZZ_CHECK(f.src.family == 4 || f.src.family == 6);
	FUZZ_CHECK(f.src.family == f.dst.family);
	int ports = f.protocol == NSGSIM_PROTO_TCP || f.protocol == NSGSIM_PROTO_UDP;
	FUZZ_CHECK(f.src_port == NSGSIM_PORT_ANY || (f.src_port >= 0 && f.src_port <= 65535));
	if (ports) {
		FUZZ_CHECK(f.dst_port >= 0 && f.dst_port <= 65535);
	} else {
		FUZZ_CHECK(f.src_port == NSGSIM_PORT_ANY && f.dst_port == NSGSIM_PORT_ANY);
	}
	if (f.src.family == 4)
		for (int i = 4; i < 16; i++)
			FUZZ_CHECK(f.src.bytes[i] == 0 && f.dst.bytes[i] == 0);

	/* Round trip through the canonical text. */
	char src[80], dst[80], again[200];
	print_endpoint(src, sizeof src, &f.src, f.src_port);
	print_endpoint(dst, sizeof dst, &f.dst, f.dst_port);
	snprintf(again, sizeof again, "%s %s %s", proto, src, dst);
	nsgsim_flow g;
	rc = nsgsim_flow_parse(again, &g, &err);
	if (rc != 0)
		fprintf(stderr, "round trip of '%s' failed: %s\n", again, err.message);
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(g.protocol == f.protocol && g.src_port == f.src_port &&
	           g.dst_port == f.dst_port && g.src.family == f.src.family &&
	           memcmp(g.src.bytes, f.src.bytes, 16) == 0 &&
	           memcmp(g.dst.bytes, f.dst.bytes, 16) == 0);
	return 0;
}
