/* libFuzzer target: the contract of nsgsim_reach on fuzzed environments.
 *
 * The bytes are one environment JSON document, loaded after the small fixed
 * service-tags file (env_tags.h) as fuzz_env does.  When it compiles, the
 * target is each of the first NIC addresses (as text) and, for the first
 * NIC, the NIC by name; the source is every address.  Every region must
 * keep the contract (reach_check.h): its corners lie in it and in no other
 * region and get its answer from nsgsim_eval.  The diff of the policy with
 * itself has no change.  The query limit is lowered so that one input stays
 * cheap; hitting it is NSGSIM_E_LIMIT, a clean refusal. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>

#include "env_tags.h"
#include "reach_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static nsgsim_policy *compile_env(const uint8_t *data, size_t size)
{
	nsgsim_loader *l = nsgsim_loader_new();
	FUZZ_CHECK(l != NULL);
	nsgsim_error err;
	nsgsim_policy *p = NULL;
	FUZZ_CHECK(nsgsim_loader_add_service_tags_buffer(l, "tags.json", fuzz_env_tags,
	                                                 sizeof fuzz_env_tags - 1, NULL) == 0);
	FUZZ_CHECK(nsgsim_loader_set_limit(l, NSGSIM_LIMIT_QUERY_REGIONS, 20000) == 0);
	if (nsgsim_loader_add_env_buffer(l, "fuzz.json", (const char *)data, size, &err) == 0 &&
	    nsgsim_compile(l, &p, &err) != 0)
		p = NULL;
	nsgsim_loader_free(l);
	return p;
}

/* reach refused the target as not modelled: then no address of it is, and
 * nsgsim_eval of a flow to it from outside evaluates no destination side
 * (it refuses the flow, or, when the fuzzed estate holds the outside
 * address, evaluates the source alone). */
static void check_not_modelled(const nsgsim_policy *p, const fuzz_addr *addrs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		nsgsim_flow f;
		memset(&f, 0, sizeof f);
		fuzz_ip_of(&f.dst, addrs[i].family, addrs[i].ip);
		/* Outside: 93.184.216.34 or 2001:4860:4860::8888. */
		fuzz_ip_of(&f.src, addrs[i].family,
		           addrs[i].family == 4 ? (ns_u128)0x5DB8D822u
		                                : ((ns_u128)0x20014860u << 96) | 0x8888u);
		f.protocol = NSGSIM_PROTO_TCP;
		f.src_port = 50000;
		f.dst_port = 443;
		nsgsim_result res;
		int rc = nsgsim_eval(p, &f, &res, NULL);
		FUZZ_CHECK(rc == NSGSIM_E_NOT_MODELLED || rc == 0);
		for (int s = 0; rc == 0 && s < res.n_sides; s++)
			FUZZ_CHECK(res.sides[s].endpoint != NSGSIM_ENDPOINT_DESTINATION);
	}
}

/* reach to `to` (whose addresses are addrs) from every address. */
static void reach_and_check(const nsgsim_policy *p, const char *to, unsigned protocols,
                            const fuzz_addr *addrs, size_t n_addrs)
{
	nsgsim_query q = {to, NULL, protocols, 0, 0};
	nsgsim_regions *r = NULL;
	nsgsim_error err;
	int rc = nsgsim_reach(p, &q, &r, &err);
	if (rc != 0) {
		fuzz_check_error(rc, &err);
		/* An ambiguous NIC name, the lowered limit, or a NIC in no
		 * subnet (its addresses are not modelled). */
		FUZZ_CHECK(rc == NSGSIM_E_INVALID_ARG || rc == NSGSIM_E_LIMIT ||
		           rc == NSGSIM_E_NOT_MODELLED);
		if (rc == NSGSIM_E_NOT_MODELLED)
			check_not_modelled(p, addrs, n_addrs);
		return;
	}
	fuzz_check_regions(NULL, p, r, &q);
	nsgsim_regions_free(r);
	nsgsim_regions *d = NULL;
	rc = nsgsim_diff(p, p, &q, &d, &err);
	if (rc != 0) {
		fuzz_check_error(rc, &err);
		FUZZ_CHECK(rc == NSGSIM_E_LIMIT);
		return;
	}
	FUZZ_CHECK(nsgsim_regions_count(d) == 0);
	nsgsim_regions_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nsgsim_policy *p = compile_env(data, size);
	if (!p)
		return 0;
	fuzz_addr addrs[3];
	size_t n = fuzz_nic_addrs(p, addrs, 3);
	for (size_t i = 0; i < n; i++) {
		nsgsim_ip ip;
		fuzz_ip_of(&ip, addrs[i].family, addrs[i].ip);
		char text[INET6_ADDRSTRLEN];
		FUZZ_CHECK(inet_ntop(ip.family == 4 ? AF_INET : AF_INET6, ip.bytes, text,
		                     sizeof text) != NULL);
		reach_and_check(p, text, i == 0 ? 0 : (unsigned)NSGSIM_PBIT_TCP << (i - 1), &addrs[i],
		                1);
	}
	/* The first NIC by name: its own addresses. */
	size_t own = 0;
	while (own < n && addrs[own].nic == &p->nics[0])
		own++;
	if (p->n_nics)
		reach_and_check(p, p->nics[0].n->name, NSGSIM_PBIT_UDP | NSGSIM_PBIT_ICMP, addrs, own);
	nsgsim_policy_free(p);
	return 0;
}
