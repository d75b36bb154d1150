/* The compiled, immutable policy: what compile builds and evaluate reads.
 * Everything here is resolved (pointers, not ids) and nothing changes after
 * nsgsim_compile returns, so any number of threads may read it. */
#ifndef NSGSIM_POLICY_H
#define NSGSIM_POLICY_H

#include "parse/parse.h"

/* One side of a compiled rule. */
typedef struct ns_cside {
	bool any_addr;      /* '*', an empty admin list */
	bool vnet_tag;      /* VirtualNetwork: the evaluating subnet's own set */
	const ns_pset *set; /* otherwise */
	const char *tag;    /* canonical tag name when the side is a tag */
	const ns_port_range *ports;
	size_t n_ports; /* 0: any port */
} ns_cside;

typedef struct ns_crule {
	const ns_rule *r;          /* names, texts and location in the input */
	const char *collection_id; /* admin rules: the rule collection */
	int priority, access, direction, protocol;
	bool tie; /* admin: another rule of the level has the same priority */
	ns_cside src, dst;
} ns_crule;

struct ns_cls;

/* Rules of one direction, in evaluation order. */
typedef struct ns_chain {
	ns_crule *rules;
	size_t n;
	const struct ns_cls *cls; /* its compiled classifier (lib/classify.c) */
} ns_chain;

typedef struct ns_cnsg {
	const ns_nsg *g;
	ns_chain in, out;
	size_t n_asgs_referenced;
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
	 * VNET_TAG_ROUTES assumption can arise here (lib/classify.c). */
	bool vnet_routes;
} ns_csubnet;

typedef struct ns_cnic {
	const ns_nic *n;
	ns_cnsg *nsg;
	ns_csubnet *subnet; /* of the primary (first) ipconfig with a subnet */
} ns_cnic;

/* Addresses of NIC ipconfigs, sorted, for finding a flow's endpoints. */
typedef struct ns_endpoint_ip {
	int family;
	ns_u128 ip;
	ns_cnic *nic;
	ns_csubnet *subnet;
	const ns_ipconfig *ipc;
} ns_endpoint_ip;

typedef struct ns_casg {
	const ns_asg *a;
	ns_pset members;
	const ns_cvnet *vnet;
} ns_casg;

struct nsgsim_policy {
	ns_model m; /* moved from the loader */
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
	ns_endpoint_ip *endpoints;
	size_t n_endpoints;
	size_t n_admin_rules;
	ns_pset internet, load_balancer, any;
	bool internet_overridden;
	ns_map nsg_by_id, vnet_by_id, subnet_by_id, nic_by_id, asg_by_id, rt_by_id;
	ns_map mgr_by_id, group_by_id, cfg_by_id, coll_by_id;
	struct ns_cls_store *cls; /* compiled match structures (lib/classify.c) */
};

/* Canonical names of the computed tags (SEMANTICS.md §4.2). */
#define NS_TAG_VIRTUAL_NETWORK "VirtualNetwork"
#define NS_TAG_INTERNET        "Internet"
#define NS_TAG_LOAD_BALANCER   "AzureLoadBalancer"

ns_model *ns_loader_model(nsgsim_loader *l);
const ns_cnic *ns_find_nic(const nsgsim_policy *p, const char *nic, nsgsim_error *err);
const char *ns_access_text(int access);
/* "Tcp", "Udp", "Icmp", "Esp", "Ah", or "All" for any (effective rules). */
const char *ns_protocol_text(int proto);

/* The address set a side means in the given subnet's context; NULL = any. */
static inline const ns_pset *ns_side_set(const ns_cside *s, const ns_csubnet *ctx)
{
	if (s->any_addr)
		return NULL;
	return s->vnet_tag ? &ctx->vnet_tag : s->set;
}

#endif
