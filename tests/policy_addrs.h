/* Addresses and flows that meet a compiled policy, for the tests that
 * compare two policies flow by flow (test_nsgp.c, test_focus.c): every NIC
 * address, addresses in every subnet prefix, some outside, and random flows
 * between them.  Reads the policy's internals (compile/policy.h). */
#ifndef NSGSIM_TEST_POLICY_ADDRS_H
#define NSGSIM_TEST_POLICY_ADDRS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "nsgsim.h"
#include "compile/policy.h"

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void ip_of_u128(nsgsim_ip *ip, int family, ns_u128 v)
{
	memset(ip, 0, sizeof *ip);
	ip->family = family;
	int n = family == 4 ? 4 : 16;
	for (int i = 0; i < n; i++)
		ip->bytes[n - 1 - i] = (uint8_t)(v >> (8 * i));
}

typedef struct addrs {
	nsgsim_ip v[512];
	size_t n;
} addrs;

static void add_ip(addrs *a, const nsgsim_ip *ip)
{
	if (a->n < sizeof a->v / sizeof a->v[0])
		a->v[a->n++] = *ip;
}

/* Addresses that meet the policy: every NIC's, the first and a middle one
 * of every subnet prefix, and some outside (public, random). */
static void collect_addrs(const nsgsim_policy *p, addrs *a, uint64_t *seed)
{
	nsgsim_ip ip;
	for (size_t i = 0; i < p->n_nics; i++)
		for (size_t k = 0; k < p->nics[i].n->n_ipconfigs; k++) {
			const ns_ipconfig *c = &p->nics[i].n->ipconfigs[k];
			if (c->has_ip) {
				ip_of_u128(&ip, c->family, c->ip);
				add_ip(a, &ip);
			}
		}
	for (size_t i = 0; i < p->n_subnets; i++)
		for (size_t k = 0; k < p->subnets[i].s->n_prefixes; k++) {
			const ns_addr *x = &p->subnets[i].s->prefixes[k];
			if (x->kind != NS_ADDR_CIDR)
				continue;
			int bits = x->family == 4 ? 32 : 128;
			ip_of_u128(&ip, x->family, x->addr + 1);
			add_ip(a, &ip);
			if (bits - x->plen > 2) {
				ip_of_u128(&ip, x->family,
				           x->addr + ((ns_u128)1 << (bits - x->plen - 1)) + 3);
				add_ip(a, &ip);
			}
		}
	static const char *outside[] = {"93.184.216.34", "8.8.8.8",       "10.0.0.4",
	                                "192.168.1.1",   "168.63.129.16", "2001:db8::1"};
	for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
		nsgsim_flow f;
		char text[96];
		snprintf(text, sizeof text, "icmp %s %s", outside[i], outside[i]);
		if (nsgsim_flow_parse(text, &f, NULL) == 0)
			add_ip(a, &f.src);
	}
	for (int i = 0; i < 8; i++) {
		ip_of_u128(&ip, 4, rnd(seed) & 0xFFFFFFFFu);
		add_ip(a, &ip);
	}
}

static const int protos[] = {NSGSIM_PROTO_TCP, NSGSIM_PROTO_UDP, NSGSIM_PROTO_ICMP,
                             NSGSIM_PROTO_ESP, NSGSIM_PROTO_AH};
static const int ports[] = {22, 53, 80, 443, 1433, 3389, 8080, 65535, 0, 50000};

static nsgsim_flow random_flow(const addrs *a, uint64_t *seed)
{
	nsgsim_flow f;
	memset(&f, 0, sizeof f);
	f.protocol = protos[rnd(seed) % 5];
	f.src = a->v[rnd(seed) % a->n];
	do
		f.dst = a->v[rnd(seed) % a->n];
	while (f.dst.family != f.src.family);
	bool portless = f.protocol != NSGSIM_PROTO_TCP && f.protocol != NSGSIM_PROTO_UDP;
	f.dst_port = portless ? NSGSIM_PORT_ANY : ports[rnd(seed) % 10];
	f.src_port = portless || rnd(seed) % 4 == 0 ? NSGSIM_PORT_ANY : (int)(rnd(seed) % 65536);
	return f;
}

#endif
