/* Azure's rules, in one place: what Azure documents about how its layers
 * meet a flow, which rules an NSG has by default, where admin rules do not
 * apply, how managers and tied admin rules are ordered, and what the
 * computed tags hold.  Each rule is written once, next to the document it
 * cites (SEMANTICS.md of the project's shared data; learn.microsoft.com
 * file names).  The mechanism that uses them (compiling, matching, walking)
 * lives elsewhere and decides nothing about Azure itself.
 *
 * The small predicates evaluation needs on every flow are inline here; the
 * rest is lib/compile/azure.c.
 *
 * May touch: lib/base, the model and the compiled policy (compile/policy.h). */
#ifndef NSGSIM_AZURE_H
#define NSGSIM_AZURE_H

#include "compile/policy.h"

/* The host's virtual IP, 168.63.129.16: in VirtualNetwork as every subnet
 * sees it, and in AzureLoadBalancer (SEMANTICS.md §11, computed tags). */
#define NS_AZURE_HOST_IP 0xA83F8110u
/* 169.254.169.254: IMDS (SEMANTICS.md §3.7). */
#define NS_AZURE_IMDS_IP 0xA9FEA9FEu
/* The resource the platform layer names in a trace. */
#define NS_PLATFORM_RESOURCE "AzurePlatform"

/* ---- matching a rule ------------------------------------------------------ */

/* "'*' ... encompasses TCP, UDP, and ICMP" (network-security-groups-
 * overview.md); ESP and AH too by SEMANTICS.md §11 decision 4. */
static inline bool ns_proto_matches(int rule_proto, int flow_proto)
{
	return rule_proto == NS_PROTO_ANY || rule_proto == flow_proto;
}

/* Private and special IPv4 ranges that are outside Internet both in
 * nsgsim's default and in Azure's own expansion (SEMANTICS.md §4.2): for
 * these the Internet tag's exact contents cannot change an answer. */
static inline bool ns_surely_not_internet(int family, ns_u128 a)
{
	if (family != 4)
		return false;
	uint32_t x = (uint32_t)a;
	switch (x >> 24) {
	case 0:   /* 0.0.0.0/8 */
	case 10:  /* 10.0.0.0/8 */
	case 127: /* 127.0.0.0/8 */
		return true;
	case 100: /* 100.64.0.0/10 */
		return (x & 0xFFC00000u) == 0x64400000u;
	case 169: /* 169.254.0.0/16 */
		return (x & 0xFFFF0000u) == 0xA9FE0000u;
	case 172: /* 172.16.0.0/12 */
		return (x & 0xFFF00000u) == 0xAC100000u;
	case 192: /* 192.168.0.0/16 */
		return (x & 0xFFFF0000u) == 0xC0A80000u;
	default: /* 224.0.0.0/3 */
		return (x >> 24) >= 224;
	}
}

/* A side that is the Internet tag as nsgsim defines it (§11.8): a match
 * that rests on it carries the INTERNET_TAG assumption.  A tag named
 * Internet in the service-tags input replaces the definition. */
static inline bool ns_internet_side(const nsgsim_policy *p, const ns_cside *s)
{
	return s->tag && s->set == &p->internet && !p->internet_overridden;
}

/* Whether an address is in the subnet's VirtualNetwork set only through a
 * route prefix (SEMANTICS.md §11, computed tags): the VNET_TAG_ROUTES
 * assumption. */
static inline bool ns_via_route(const ns_csubnet *ctx, int family, ns_u128 a)
{
	if (!ns_pset_contains(&ctx->vnet_tag, family, a) ||
	    ns_pset_contains(&ctx->vnet->peered, family, a))
		return false;
	return !(family == 4 && a == NS_AZURE_HOST_IP);
}

/* ---- the walk (lib/compile/azure.c) --------------------------------------- */

/* What a match of a rule with this access does to the walk: 0 goes on to
 * the next layer, NSGSIM_ALLOW or NSGSIM_DENY ends it. */
int ns_azure_match_ends(int access);

/* The most admin levels one endpoint's walk holds (a trace has room for
 * NSGSIM_MAX_LAYERS layers: the platform's, two NSGs, the levels). */
#define NS_AZURE_MAX_LEVELS (NSGSIM_MAX_LAYERS - 3)

/* Fills out[0..) with the layers of an endpoint (a NIC in subnet cs, nic
 * NULL for the subnet alone) in the order traffic of one direction
 * (NS_WAY_*) meets them; returns how many (at most NSGSIM_MAX_LAYERS). */
size_t ns_azure_layer_order(const nsgsim_policy *p, const ns_csubnet *cs, const ns_cnic *nic,
                            int way, ns_step *out);

/* ---- the platform's host services (SEMANTICS.md §3.7) ------------------------ */

/* The services an NSG rule can turn off by a service tag, as bits of the
 * platform chain variant (nsgsim_policy.platform). */
enum { NS_PLATFORM_DNS = 1, NS_PLATFORM_IMDS = 2, NS_PLATFORM_VARIANTS = 4 };

/* One host service, as the platform layer allows it: outbound from a NIC to
 * addr (IPv4) on protocol and port; service is the bit that turns it off
 * (0: no tag does). */
typedef struct ns_platform_rule {
	const char *what; /* for the rule's id */
	int service;
	uint32_t addr;
	int protocol;
	uint16_t port;
} ns_platform_rule;

const ns_platform_rule *ns_azure_platform_rules(size_t *n);

/* The platform tags: AzurePlatformDNS, AzurePlatformIMDS, AzurePlatformLKM
 * (i 0..2), their service bit (LKM: 0, licensing is not modelled) and the
 * address nsgsim takes each to mean when the service-tags input does not
 * define it (LKM: nothing). */
#define NS_AZURE_PLATFORM_TAGS 3
const char *ns_azure_platform_tag(int i, int *service, const char **prefix);

/* The services an NSG Deny rule of the endpoint's outbound layers turns
 * off by naming their tag as destination (NS_PLATFORM_* bits). */
int ns_azure_platform_off(const ns_csubnet *cs, const ns_cnic *nic);

/* Assumptions every evaluation at an endpoint in cs rests on. */
unsigned ns_azure_endpoint_assumptions(const ns_csubnet *cs);

/* Assumptions a match of admin rule r of level lvl at subnet cs rests on. */
unsigned ns_azure_admin_assumptions(const ns_csubnet *cs, const ns_admin_level *lvl,
                                    const ns_crule *r);

/* ---- NSGs and subnets ------------------------------------------------------ */

/* One of the six rules every NSG has (network-security-groups-overview.md,
 * "Default security rules"). */
typedef struct ns_default_rule {
	const char *name;
	int direction, priority, access;
	const char *src, *dst;
} ns_default_rule;

/* The default rules, and how many. */
const ns_default_rule *ns_azure_default_rules(size_t *n);

/* The service a subnet's admin rules skip for (a Bastion, Firewall,
 * gateway, Route Server or Application Gateway subnet), or NULL. */
const char *ns_azure_admin_exempt_service(const ns_subnet *s);
/* The network intent policy service (SQL MI, Databricks) of a subnet, or
 * NULL. */
const char *ns_azure_intent_service(const ns_subnet *s);

/* ---- admin rules ------------------------------------------------------------ */

/* qsort order of network managers: the levels of several managers, highest
 * scope first (§11 decision 2). */
int ns_azure_cmp_manager(const void *a, const void *b);
/* qsort order of an admin level's rules (ns_crule): priority, then the
 * tie-break of §11 decision 3. */
int ns_azure_cmp_admin_rule(const void *a, const void *b);
/* Whether a manager's configurations reach a VNet (its scope). */
bool ns_azure_in_scope(const ns_manager *m, const char *vnet_id);
/* Whether an admin rule of this access applies in a VNet with a network
 * intent policy service, under the manager's setting. */
bool ns_azure_kept_by_intent(int setting, int access);

/* ---- computed tags ---------------------------------------------------------- */

/* Canonical names of the computed tags (SEMANTICS.md §4.2). */
#define NS_TAG_VIRTUAL_NETWORK "VirtualNetwork"
#define NS_TAG_INTERNET        "Internet"
#define NS_TAG_LOAD_BALANCER   "AzureLoadBalancer"

/* The prefixes a computed tag is made of, as text. */
typedef struct ns_prefix_list {
	const char *const *texts;
	size_t n;
} ns_prefix_list;

/* Internet: the universe and what it leaves out (§11 decision 8). */
ns_prefix_list ns_azure_internet_universe(void);
ns_prefix_list ns_azure_internet_excluded(void);
/* AzureLoadBalancer, when the service-tags input does not define it. */
ns_prefix_list ns_azure_load_balancer(void);

#endif
