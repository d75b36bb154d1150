/* The compiled, immutable policy: what compile builds and evaluate reads.
 * Everything here is resolved (pointers, not ids) and nothing changes after
 * nsgsim_compile returns, so any number of threads may read it.
 *
 * The order in which Azure's layers meet a flow is data here, not code: an
 * endpoint (a NIC in its subnet, or a subnet alone) holds, per direction,
 * the list of steps its traffic passes (lib/compile/azure.c builds them),
 * and a compiled rule says whether its match ends the walk.  One walker
 * (lib/eval/walk.h) runs them for every kind of evaluation.
 *
 * May touch: lib/base, the model and what parse exposes (parse/parse.h). */
#ifndef NSGSIM_POLICY_H
#define NSGSIM_POLICY_H

#include "base/imap.h"
#include "parse/parse.h"

/* One side of a compiled rule. */
typedef struct ns_cside {
	bool any_addr; /* '*', an empty admin list */
	bool vnet_tag; /* VirtualNetwork: the evaluating subnet's own set */
	/* An admin side listing VirtualNetwork beside other items: set holds the
	 * others until each subnet's level joins them with its VirtualNetwork
	 * (lib/compile/admin.c), after which vnet_tag is false. */
	bool vnet_mixed;
	const ns_pset *set; /* otherwise */
	const char *tag;    /* canonical tag name when the side is a tag */
	const ns_port_range *ports;
	size_t n_ports; /* 0: any port */
} ns_cside;

/* A VNet or subnet in a network group: a static member, or a VNet that an
 * assigned Azure Policy definition adds (lib/compile/membership.c). */
typedef struct ns_member {
	const char *group_id, *resource_id;
	const ns_static_member *sm; /* a static member, else NULL */
	const ns_policy_def *def;   /* a policy member: the definition and */
	const ns_policy_asg *asg;   /* the assignment that added it */
} ns_member;

typedef struct ns_crule {
	const ns_rule *r;          /* names, texts and location in the input */
	const char *collection_id; /* admin rules: the rule collection */
	int priority, access, direction, protocol;
	bool tie; /* admin: another rule of the level has the same priority */
	/* What a match does to the walk (lib/compile/azure.c): 0 the walk
	 * goes on to the next layer, NSGSIM_ALLOW or NSGSIM_DENY it ends. */
	int ends;
	/* Assumptions a match of this rule rests on (NSGSIM_ASSUME_*): an
	 * admin rule's, fixed by its level and subnet at compile time. */
	unsigned assume;
	ns_cside src, dst;
	/* Admin rules in a level: the membership that brought the subnet's VNet
	 * (or the subnet) into a group the rule's collection applies to. */
	const ns_member *member;
} ns_crule;

struct ns_cls;

/* Rules of one direction, in evaluation order. */
typedef struct ns_chain {
	ns_crule *rules;
	size_t n;
	const struct ns_cls *cls; /* its compiled classifier (lib/compile/classifier.h) */
	/* A focused compile (nsgsim_loader_set_focus) checked these rules but
	 * built no address sets: the chain must never be walked. */
	bool unbuilt;
} ns_chain;

typedef struct ns_cnsg {
	const ns_nsg *g;
	ns_chain in, out;
	size_t n_asgs_referenced;
	/* Rules of a compiled policy file that a focused load left unread
	 * (lib/compile/compile.c read_rule_blocks): counted, not in a chain. */
	size_t deferred_rules;
} ns_cnsg;

typedef struct ns_cvnet {
	const ns_vnet *v;
	ns_pset space;
	ns_pset peered; /* space plus the spaces of connected peerings */
	/* A service with a network intent policy (SQL MI, Databricks) in the
	 * VNet: admin rules skip it unless the configuration says otherwise
	 * (SEMANTICS.md §6.4). */
	const char *intent_service;
} ns_cvnet;

/* The admin rules of one network manager that reach one subnet: a level
 * (SEMANTICS.md §11 decision 2). */
typedef struct ns_admin_level {
	const ns_manager *mgr;
	const ns_admin_config *cfg;
	ns_chain in, out;
	/* Why the level's rules are filtered or skipped here, for the trace. */
	int intent_policy;
} ns_admin_level;

typedef struct ns_csubnet {
	const ns_subnet *s;
	ns_cvnet *vnet;
	ns_cnsg *nsg;
	const ns_route_table *rt;
	ns_pset prefixes;
	ns_pset vnet_tag; /* VirtualNetwork as seen from this subnet (SEMANTICS.md §11) */
	/* A service subnet where admin rules do not apply (SEMANTICS.md §6.4). */
	const char *admin_exempt_service;
	const char *admin_skip_reason; /* for the trace, or NULL */
	int intent_setting;            /* enum ns_intent_policy in force, -1 if none */
	ns_admin_level *levels;
	size_t n_levels;
	/* VirtualNetwork holds route prefixes beyond the peered spaces, so the
	 * VNET_TAG_ROUTES assumption can arise here (lib/compile/cls_policy.c). */
	bool vnet_routes;
	/* The bit of this subnet's VirtualNetwork set in the policy-wide
	 * classes (ns_cls_store.vsets_folded; lib/compile/cls_global.c). */
	uint8_t vset;
	const struct ns_endpoint *alone; /* the subnet as an endpoint of its own */
	/* A manager that reaches this VNet has a network group whose members
	 * the input does not say (NSGSIM_ASSUME_EMPTY_NETWORK_GROUP). */
	bool unknown_group;
} ns_csubnet;

typedef struct ns_cnic {
	const ns_nic *n;
	ns_cnsg *nsg;
	ns_csubnet *subnet; /* of the primary (first) ipconfig with a subnet */
	/* The NIC as an endpoint in each subnet its ipconfigs are in; the
	 * first is the primary (in subnet, or in no subnet at all). */
	const struct ns_endpoint *eps;
	size_t n_eps;
} ns_cnic;

/* Directions as array indexes: steps[NS_WAY_IN], chain[NS_WAY_OUT]. */
enum { NS_WAY_IN = 0, NS_WAY_OUT = 1 };

static inline int ns_way(int direction)
{
	return direction == NS_DIR_INBOUND ? NS_WAY_IN : NS_WAY_OUT;
}

/* One layer of an endpoint's evaluation: an admin level or an NSG, with
 * its rules in both directions and the names the trace reports. */
typedef struct ns_step {
	int layer;                /* NSGSIM_LAYER_* */
	const ns_chain *chain[2]; /* by NS_WAY_* */
	const char *resource;     /* the network manager's or the NSG's id */
	const char *applied_to;   /* the VNet (admin), subnet or NIC id */
} ns_step;

/* Where Azure evaluates an address: a NIC in a subnet, or a subnet alone
 * (an address no NIC holds).  Built once at compile time
 * (lib/compile/endpoints.c) with its steps in Azure's order for each
 * direction (lib/compile/azure.c). */
typedef struct ns_endpoint {
	const ns_cnic *nic;       /* NULL: the subnet alone */
	const ns_csubnet *subnet; /* NULL only for a NIC in no subnet (never evaluated) */
	const ns_step *steps[2];  /* by NS_WAY_*, in the order traffic meets them */
	uint8_t n_steps[2];
	unsigned assume; /* assumptions every evaluation here rests on */
	bool unbuilt;    /* a step's chain is unbuilt (outside the focus) */
} ns_endpoint;

/* What the endpoint map gives an address. */
typedef struct ns_eprec {
	const ns_endpoint *ep; /* NULL: the address is not modelled */
	bool ambiguous;        /* another NIC or subnet holds it too */
} ns_eprec;

typedef struct ns_casg {
	const ns_asg *a;
	ns_pset members;
	const ns_cvnet *vnet;
} ns_casg;

/* The platform layer's rules in both directions (inbound empty): one
 * variant per set of services an NSG turned off (NS_PLATFORM_* bits;
 * lib/compile/azure.c). */
typedef struct ns_platform_chains {
	ns_chain in, out;
} ns_platform_chains;

struct nsgsim_policy {
	ns_model m; /* moved from the loader */
	/* The notes parsing made (the rest are compile's): what a compiled
	 * policy file keeps (lib/compile/nsgp_model.c). */
	size_t n_parse_notes;
	ns_arena arena;
	ns_vec owned_sets; /* ns_pset* this policy allocated */
	ns_cvnet *vnets;
	size_t n_vnets;
	ns_csubnet *subnets;
	size_t n_subnets;
	ns_cnsg *nsgs;
	size_t n_nsgs;
	ns_cnic *nics;
	size_t n_nics;
	ns_casg *asgs;
	size_t n_asgs;
	/* Every endpoint, and the map from an address to its record
	 * (recs[0]: not modelled); lib/compile/endpoints.c. */
	ns_endpoint *endpoints;
	size_t n_endpoints;
	ns_eprec *recs;
	size_t n_recs;
	ns_imap ep4;
	ns_imap6 ep6;
	void *ep_mem;
	size_t ep_bytes;
	size_t n_admin_rules;
	ns_pset internet, load_balancer, any;
	/* AzurePlatformDNS/IMDS/LKM when the service-tags input lacks them. */
	ns_pset platform_tags[3];
	ns_platform_chains platform[4];
	bool internet_overridden;
	ns_map nsg_by_id, vnet_by_id, subnet_by_id, nic_by_id, asg_by_id, rt_by_id;
	ns_map mgr_by_id, group_by_id, cfg_by_id, coll_by_id;
	/* Network group members, static and by policy, and the groups an
	 * assigned policy definition fills (lib/compile/membership.c). */
	ns_member *members;
	size_t n_members;
	ns_map member_by_key; /* "group id|resource id" -> its first member */
	const char **policy_groups;
	size_t n_policy_groups;
	struct ns_cls_store *cls; /* compiled match structures (compile/classifier.h) */
	/* Compiled for a focus (nsgsim_loader_set_focus): only the NSGs on the
	 * endpoints of the focus addresses have their sets; set queries refuse
	 * the policy and an evaluation meeting another NSG is
	 * NSGSIM_E_OUT_OF_FOCUS (lib/eval/eval.c ns_check_focus). */
	bool focused;
};

/* ---- lookups by resource (lib/compile/lookup.c) ------------------------ */

/* A NIC by id (case-insensitive) or by a unique name; NULL with err set. */
const ns_cnic *ns_find_nic(const nsgsim_policy *p, const char *nic, nsgsim_error *err);
/* Whether a network group has a member in the input, or an assigned Azure
 * Policy definition that fills it (then it is not "empty"). */
bool ns_group_has_members(const nsgsim_policy *p, const char *group_id);
/* The endpoint of a NIC in a subnet (nic_id NULL: the subnet alone), by the
 * ids a result names; NULL when the policy has none (or no subnet_id). */
const ns_endpoint *ns_find_endpoint(const nsgsim_policy *p, const char *nic_id,
                                    const char *subnet_id);

/* NSGSIM_E_OUT_OF_FOCUS, with err filled, when p was compiled for a focus
 * (nsgsim_loader_set_focus): what -- "reach", "lint" -- needs every chain. */
int ns_check_whole(const nsgsim_policy *p, const char *what, nsgsim_error *err);
/* NSGSIM_E_OUT_OF_FOCUS, with err filled, for an endpoint that meets a
 * chain a focused compile did not build; side names it in the message. */
int ns_focus_error(const ns_endpoint *ep, const char *side, nsgsim_error *err);
/* The same check, inline: every evaluation makes it (ep NULL: none). */
static inline int ns_check_focus(const ns_endpoint *ep, const char *side, nsgsim_error *err)
{
	return ep && ep->unbuilt ? ns_focus_error(ep, side, err) : 0;
}

/* The address set a side means in the given subnet's context; NULL = any. */
static inline const ns_pset *ns_side_set(const ns_cside *s, const ns_csubnet *ctx)
{
	if (s->any_addr)
		return NULL;
	return s->vnet_tag ? &ctx->vnet_tag : s->set;
}

#endif
