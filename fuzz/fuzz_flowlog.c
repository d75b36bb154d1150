/* libFuzzer target: arbitrary bytes as a flow log (JSON or gzip).
 *
 * Reads the bytes with nsgsim_flowlog_read_buffer.  Every tuple handed to
 * the callback is checked (addresses of one family, ports in range or
 * NSGSIM_PORT_ANY for a portless protocol, a direction, a decision, a
 * state, strings that are there, a pointer that formats) and evaluated at
 * the example policy's NIC holding its local address, as nsgsim replay
 * does; a failed read is a well-formed error naming the buffer.  A second
 * read of the same bytes by the same reader gives the same tuples. */
#define _POSIX_C_SOURCE 200809L
#include "example_policy.h"
#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static nsgsim_policy *policy;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	policy = fuzz_example_policy(argv, "fuzz_flowlog");
	return 0;
}

typedef struct ctx {
	const nsgsim_policy *p;
	size_t n;
	uint64_t sum;
} ctx;

static int on_tuple(void *c_, const nsgsim_flowlog_tuple *t)
{
	ctx *c = c_;
	FUZZ_CHECK(t->version == 1 || t->version == 2 || t->version == 4);
	FUZZ_CHECK(t->flow.src.family == 4 || t->flow.src.family == 6);
	FUZZ_CHECK(t->flow.dst.family == t->flow.src.family);
	bool ports = t->flow.protocol == NSGSIM_PROTO_TCP || t->flow.protocol == NSGSIM_PROTO_UDP;
	if (ports) {
		FUZZ_CHECK(t->flow.src_port >= 0 && t->flow.src_port <= 65535);
		FUZZ_CHECK(t->flow.dst_port >= 0 && t->flow.dst_port <= 65535);
	} else {
		FUZZ_CHECK(t->flow.src_port == NSGSIM_PORT_ANY &&
		           t->flow.dst_port == NSGSIM_PORT_ANY);
	}
	FUZZ_CHECK(t->direction == NSGSIM_INBOUND || t->direction == NSGSIM_OUTBOUND);
	FUZZ_CHECK(t->decision == NSGSIM_ALLOW || t->decision == NSGSIM_DENY);
	FUZZ_CHECK(t->state == 'B' || t->state == 'C' || t->state == 'E');
	FUZZ_CHECK(t->rule && t->acl && t->target && t->mac && t->file);
	FUZZ_CHECK(strcmp(t->file, "log.json") == 0);
	char ptr[256];
	FUZZ_CHECK(nsgsim_flowlog_pointer(t, ptr, sizeof ptr) > 0);
	const nsgsim_ip *local = t->direction == NSGSIM_INBOUND ? &t->flow.dst : &t->flow.src;
	nsgsim_location loc;
	FUZZ_CHECK(nsgsim_locate(c->p, local, &loc) == 0);
	if (loc.nic) {
		nsgsim_result r;
		nsgsim_error err;
		int rc = nsgsim_eval_at(c->p, &t->flow, loc.nic, t->direction, &r, &err);
		if (rc == 0)
			FUZZ_CHECK(r.verdict == NSGSIM_ALLOW || r.verdict == NSGSIM_DENY);
		else
			fuzz_check_error(rc, &err);
	}
	c->n++;
	c->sum = c->sum * 31 + (uint64_t)t->time_ms + (uint64_t)t->flow.dst_port;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const nsgsim_policy *p = policy;
	nsgsim_flowlog *r = nsgsim_flowlog_new();
	FUZZ_CHECK(r != NULL);
	ctx a = {p, 0, 0}, b = {p, 0, 0};
	nsgsim_error err, err2;
	int rc = nsgsim_flowlog_read_buffer(r, "log.json", data, size, on_tuple, &a, &err);
	if (rc != 0) {
		fuzz_check_error(rc, &err);
		FUZZ_CHECK(strcmp(err.file, "log.json") == 0);
	}
	int rc2 = nsgsim_flowlog_read_buffer(r, "log.json", data, size, on_tuple, &b, &err2);
	FUZZ_CHECK(rc2 == rc && a.n == b.n && a.sum == b.sum);
	if (rc != 0)
		FUZZ_CHECK(strcmp(err.message, err2.message) == 0 &&
		           strcmp(err.pointer, err2.pointer) == 0);
	nsgsim_flowlog_free(r);
	return 0;
}
