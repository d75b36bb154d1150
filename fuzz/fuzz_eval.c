/* libFuzzer target: arbitrary bytes as one flow through a fixed policy.
 *
 * The policy is the bundled example (fixtures/example/env with the trimmed
 * service tags), built once in LLVMFuzzerInitialize; the fuzzer is run from
 * the repository root (or NSGSIM_FUZZ_ROOT names it).  Input bytes, read in
 * order (missing bytes read as 0):
 *
 *   0      protocol: one of tcp, udp, icmp, esp, ah (byte % 5)
 *   1      flags: bit 0 IPv6; bit 1/2 source/destination address from the
 *          example's own ranges (else raw bytes); bit 3 no source port;
 *          bit 4 also nsgsim_eval_at at NIC number bits 5-7 (both directions)
 *   ...    source address: biased 2 bytes, else 4 or 16 raw bytes
 *   ...    destination address: the same
 *   2+2    source and destination port (big endian), TCP and UDP only
 *   2      a probe source port for the per-port cross-check
 *
 * Every flow goes through nsgsim_eval, nsgsim_eval_source_ports, both
 * renderings plain and verbose and nsgsim_explain on every layer, with the
 * invariants of fuzz_common.h. */
#define _POSIX_C_SOURCE 200809L
#include "example_policy.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static nsgsim_policy *policy;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	policy = fuzz_example_policy(argv, "fuzz_eval");
	return 0;
}

typedef struct reader {
	const uint8_t *p;
	size_t n;
} reader;

static uint8_t byte(reader *r)
{
	if (!r->n)
		return 0;
	r->n--;
	return *r->p++;
}

/* Addresses the example knows about, and a few it does not. */
static const uint8_t outside4[][4] = {
        {93, 184, 216, 34}, {4, 199, 82, 200}, {168, 63, 129, 16}, {20, 38, 108, 10},
        {4, 175, 0, 10},    {10, 0, 1, 4},     {10, 0, 2, 5},      {0, 0, 0, 0},
};
static const uint8_t outside6[][16] = {
        {0x20, 0x01, 0x48, 0x60, 0x48, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0x88, 0x88},
        {0x26, 0x03, 0x10, 0x20, 0x02, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10},
        {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc},
        {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff},
};

static void address(reader *r, int family, int biased, nsgsim_ip *ip)
{
	memset(ip, 0, sizeof *ip);
	ip->family = family;
	if (!biased) {
		for (int i = 0; i < (family == 4 ? 4 : 16); i++)
			ip->bytes[i] = byte(r);
		return;
	}
	uint8_t a = byte(r), b = byte(r);
	if (family == 4) {
		if (a & 0x80) {
			memcpy(ip->bytes, outside4[b % 8], 4);
		} else {
			/* 10.0-2.0-3.0-7: the hub, prod and dev VNets' subnets */
			ip->bytes[0] = 10;
			ip->bytes[1] = (uint8_t)(a % 3);
			ip->bytes[2] = (uint8_t)((a >> 2) % 4);
			ip->bytes[3] = (uint8_t)(b % 8);
		}
	} else {
		if (a & 0x80) {
			memcpy(ip->bytes, outside6[b % 4], 16);
		} else {
			/* fd00:db8:0:0-3::0-7 */
			static const uint8_t pre[6] = {0xfd, 0x00, 0x0d, 0xb8, 0, 0};
			memcpy(ip->bytes, pre, 6);
			ip->bytes[7] = (uint8_t)(a % 4);
			ip->bytes[15] = (uint8_t)(b % 8);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int protos[5] = {NSGSIM_PROTO_TCP, NSGSIM_PROTO_UDP, NSGSIM_PROTO_ICMP,
	                              NSGSIM_PROTO_ESP, NSGSIM_PROTO_AH};
	reader r = {data, size};
	nsgsim_flow f;
	memset(&f, 0, sizeof f);
	f.protocol = protos[byte(&r) % 5];
	uint8_t flags = byte(&r);
	int family = (flags & 1) ? 6 : 4;
	address(&r, family, (flags & 2) != 0, &f.src);
	address(&r, family, (flags & 4) != 0, &f.dst);
	if (f.protocol == NSGSIM_PROTO_TCP || f.protocol == NSGSIM_PROTO_UDP) {
		int sp = byte(&r) << 8;
		sp |= byte(&r);
		int dp = byte(&r) << 8;
		dp |= byte(&r);
		f.src_port = (flags & 8) ? NSGSIM_PORT_ANY : sp;
		f.dst_port = dp;
	} else {
		f.src_port = f.dst_port = NSGSIM_PORT_ANY;
	}
	int probe = byte(&r) << 8;
	probe |= byte(&r);
	fuzz_eval_flow(policy, &f, probe);
	/* One side at one of the NICs, as IP flow verify does. */
	if ((flags & 0x10) && policy->n_nics)
		fuzz_eval_at_nic(policy, &f, &policy->nics[(flags >> 5) % policy->n_nics]);
	return 0;
}
