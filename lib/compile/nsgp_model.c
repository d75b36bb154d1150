/* Compiled policy files: the model, one function pair per structure of
 * lib/parse/model.h, writer and reader side by side and in the struct's
 * field order.  A field added to a model struct must be added to its pair
 * here (and NS_NSGP_VERSION raised); tests/test_nsgp.c compares every
 * answer of a loaded policy with the compiled one, so a field forgotten
 * here shows there.
 *
 * The reader checks what the parser guarantees (enums, address families and
 * prefix lengths, port ranges, required strings) so that compile and
 * evaluation meet only models the parser could have made.
 *
 * May touch: lib/base, the model, lib/parse (the service-tags snapshot). */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "compile/nsgp.h"
#include "parse/parse.h"

/* Each model struct's size where it was last counted (x86-64, LP64): a
 * field added to a struct of lib/parse/model.h changes its size and stops
 * the build here, so that the field gets into its function pair below (or
 * is said not to need it), the new size is written here and NS_NSGP_VERSION
 * raised.  The round-trip test (tests/test_nsgp.c) then checks the answers. */
#if defined(__x86_64__) && defined(__LP64__)
#define NS_NSGP_SIZE(T, n)                                                                         \
	_Static_assert(sizeof(T) == (n), #T " changed: update its put/get pair in "                \
	                                    "lib/compile/nsgp_model.c and NS_NSGP_VERSION")
NS_NSGP_SIZE(ns_loc, 16);
NS_NSGP_SIZE(ns_addr, 80);
NS_NSGP_SIZE(ns_port_range, 4);
NS_NSGP_SIZE(ns_side, 72);
NS_NSGP_SIZE(ns_rule, 208);
NS_NSGP_SIZE(ns_nsg, 32);
NS_NSGP_SIZE(ns_vnet, 80);
NS_NSGP_SIZE(ns_subnet, 120);
NS_NSGP_SIZE(ns_peering, 88);
NS_NSGP_SIZE(ns_ipconfig, 112);
NS_NSGP_SIZE(ns_nic, 96);
NS_NSGP_SIZE(ns_asg, 32);
NS_NSGP_SIZE(ns_route_table, 32);
NS_NSGP_SIZE(ns_route, 144);
NS_NSGP_SIZE(ns_manager, 64);
NS_NSGP_SIZE(ns_net_group, 40);
NS_NSGP_SIZE(ns_static_member, 56);
NS_NSGP_SIZE(ns_cond, 104);
NS_NSGP_SIZE(ns_policy_param, 48);
NS_NSGP_SIZE(ns_policy_def, 176);
NS_NSGP_SIZE(ns_policy_asg, 96);
NS_NSGP_SIZE(ns_admin_config, 48);
NS_NSGP_SIZE(ns_rule_collection, 64);
NS_NSGP_SIZE(ns_param_rec, 32);
NS_NSGP_SIZE(ns_note_rec, 40);
NS_NSGP_SIZE(ns_model,
             1016); /* lines_log, focus, lines_omitted, map ... notes_frozen: runtime, not saved */
#endif

#define OPT true  /* a string that may be null */
#define REQ false /* one that may not */

/* Minimum bytes of a record, for the counts (ns_nsgp_get_count). */
#define MIN_STR  4
#define MIN_LOC  (2 * MIN_STR)
#define MIN_ADDR (4 + MIN_STR + 4 + 16 + 4 + MIN_LOC)

/* ---- strings ---------------------------------------------------------------- */

static void put_strs(ns_nsgp_wr *w, const char *const *v, size_t n)
{
	ns_nsgp_count(w, n);
	for (size_t i = 0; i < n; i++)
		ns_nsgp_str(w, v[i]);
}

static const char **get_strs(ns_nsgp_rd *r, const char *what, size_t *n)
{
	*n = ns_nsgp_get_count(r, what, MIN_STR);
	const char **v = ns_nsgp_array(r, *n, sizeof *v);
	for (size_t i = 0; v && i < *n; i++)
		v[i] = ns_nsgp_get_str(r, what, REQ);
	if (r->rc)
		*n = 0;
	return r->rc ? NULL : v;
}

/* ---- ns_loc ------------------------------------------------------------------ */

static void put_loc(ns_nsgp_wr *w, const ns_loc *l)
{
	ns_nsgp_str(w, l->file);
	ns_nsgp_str(w, l->pointer);
}

static void get_loc(ns_nsgp_rd *r, ns_loc *l)
{
	l->file = ns_nsgp_get_str(r, "a location's file", OPT);
	l->pointer = ns_nsgp_get_str(r, "a location's pointer", OPT);
}

/* ---- ns_addr ----------------------------------------------------------------- */

static void put_addr(ns_nsgp_wr *w, const ns_addr *a)
{
	ns_nsgp_i32(w, a->kind);
	ns_nsgp_str(w, a->text);
	ns_nsgp_i32(w, a->family);
	ns_nsgp_u128(w, a->addr);
	ns_nsgp_i32(w, a->plen);
	put_loc(w, &a->loc);
}

/* An IP address as the parser keeps it: family 4 or 6, an IPv4 address in
 * the low 32 bits. */
static bool check_ip(ns_nsgp_rd *r, int family, ns_u128 addr, int plen)
{
	if (family != 4 && family != 6)
		return ns_nsgp_fail(r, "an address of family %d; it is 4 or 6", family), false;
	if (plen < 0 || plen > (family == 4 ? 32 : 128))
		return ns_nsgp_fail(r, "an IPv%d prefix length of %d", family, plen), false;
	if (family == 4 && addr > UINT32_MAX)
		return ns_nsgp_fail(r, "an IPv4 address of more than 32 bits"), false;
	/* The parser refuses a prefix with host bits (lib/parse/load_addr.c);
	 * the engines and the explanation's text match assume there are none. */
	int bits = family == 4 ? 32 : 128;
	ns_u128 host = plen == 0 ? (family == 4 ? (ns_u128)UINT32_MAX : ~(ns_u128)0)
	                         : (((ns_u128)1 << (bits - plen)) - 1);
	if (addr & host)
		return ns_nsgp_fail(r, "an IPv%d prefix /%d with host bits set", family, plen),
		       false;
	return true;
}

static void get_addr(ns_nsgp_rd *r, ns_addr *a)
{
	a->kind = ns_nsgp_get_range(r, "an address's kind", NS_ADDR_ANY, NS_ADDR_NET_GROUP);
	a->text = ns_nsgp_get_str(r, "an address's text", REQ);
	a->family = ns_nsgp_get_i32(r, "an address's family");
	a->addr = ns_nsgp_get_u128(r, "an address");
	a->plen = ns_nsgp_get_i32(r, "a prefix length");
	if (!r->rc && a->kind == NS_ADDR_CIDR)
		check_ip(r, a->family, a->addr, a->plen);
	get_loc(r, &a->loc);
}

static void put_addrs(ns_nsgp_wr *w, const ns_addr *a, size_t n)
{
	ns_nsgp_count(w, n);
	for (size_t i = 0; i < n; i++)
		put_addr(w, &a[i]);
}

static ns_addr *get_addrs(ns_nsgp_rd *r, const char *what, size_t *n)
{
	*n = ns_nsgp_get_count(r, what, MIN_ADDR);
	ns_addr *a = ns_nsgp_array(r, *n, sizeof *a);
	for (size_t i = 0; a && i < *n; i++)
		get_addr(r, &a[i]);
	if (r->rc)
		*n = 0;
	return r->rc ? NULL : a;
}

/* ---- ids with their locations (ASGs, network groups) ------------------------- */

static void put_refs(ns_nsgp_wr *w, const char *const *ids, const ns_loc *locs, size_t n)
{
	ns_nsgp_count(w, n);
	for (size_t i = 0; i < n; i++) {
		ns_nsgp_str(w, ids[i]);
		put_loc(w, &locs[i]);
	}
}

static void get_refs(ns_nsgp_rd *r, const char *what, const char ***ids, ns_loc **locs, size_t *n)
{
	*n = ns_nsgp_get_count(r, what, MIN_STR + MIN_LOC);
	*ids = ns_nsgp_array(r, *n, sizeof **ids);
	*locs = ns_nsgp_array(r, *n, sizeof **locs);
	for (size_t i = 0; *ids && *locs && i < *n; i++) {
		(*ids)[i] = ns_nsgp_get_str(r, what, REQ);
		get_loc(r, &(*locs)[i]);
	}
	if (r->rc)
		*n = 0;
}

/* ---- ns_side ----------------------------------------------------------------- */

static void put_side(ns_nsgp_wr *w, const ns_side *s)
{
	ns_nsgp_i32(w, s->form);
	put_addrs(w, s->addrs, s->n_addrs);
	put_refs(w, s->asg_ids, s->asg_locs, s->n_asgs);
	ns_nsgp_count(w, s->n_ports);
	for (size_t i = 0; i < s->n_ports; i++) {
		ns_nsgp_u32(w, s->ports[i].lo);
		ns_nsgp_u32(w, s->ports[i].hi);
	}
	ns_nsgp_u8(w, s->ports_plural);
}

static void get_side(ns_nsgp_rd *r, ns_side *s)
{
	s->form = ns_nsgp_get_range(r, "a side's form", NS_FORM_PREFIX, NS_FORM_ITEMS);
	s->addrs = get_addrs(r, "addresses", &s->n_addrs);
	get_refs(r, "application security groups", &s->asg_ids, &s->asg_locs, &s->n_asgs);
	/* The parsers set the ASG form only for a side that names ASGs
	 * (lib/parse/load_nsg.c); its readers take the first one. */
	if (!r->rc && s->form == NS_FORM_ASGS && s->n_asgs == 0)
		ns_nsgp_fail(r, "a side of application security groups that names none");
	s->n_ports = ns_nsgp_get_count(r, "port ranges", 8);
	s->ports = ns_nsgp_array(r, s->n_ports, sizeof *s->ports);
	for (size_t i = 0; s->ports && i < s->n_ports; i++) {
		int lo = ns_nsgp_get_range(r, "a port", 0, 65535);
		int hi = ns_nsgp_get_range(r, "a port", lo, 65535);
		s->ports[i] = (ns_port_range){(uint16_t)lo, (uint16_t)hi};
	}
	if (r->rc)
		s->n_ports = 0;
	s->ports_plural = ns_nsgp_get_bool(r, "the ports' plural form");
}

/* ---- ns_rule ----------------------------------------------------------------- */

static void put_rule(ns_nsgp_wr *w, const ns_rule *x)
{
	ns_nsgp_str(w, x->id);
	ns_nsgp_str(w, x->name);
	ns_nsgp_str(w, x->parent_id);
	put_loc(w, &x->loc);
	ns_nsgp_i32(w, x->priority);
	ns_nsgp_i32(w, x->access);
	ns_nsgp_i32(w, x->direction);
	ns_nsgp_i32(w, x->protocol);
	ns_nsgp_u8(w, x->is_default);
	put_side(w, &x->src);
	put_side(w, &x->dst);
}

static void get_rule(ns_nsgp_rd *r, ns_rule *x)
{
	x->id = ns_nsgp_get_str(r, "a rule's id", REQ);
	x->name = ns_nsgp_get_str(r, "a rule's name", OPT);
	x->parent_id = ns_nsgp_get_str(r, "a rule's parent", REQ);
	get_loc(r, &x->loc);
	x->priority = ns_nsgp_get_range(r, "a priority", 0, 65535);
	x->access = ns_nsgp_get_range(r, "an access", NS_ACCESS_ALLOW, NS_ACCESS_ALWAYS_ALLOW);
	x->direction = ns_nsgp_get_range(r, "a direction", NS_DIR_INBOUND, NS_DIR_OUTBOUND);
	x->protocol = ns_nsgp_get_i32(r, "a protocol");
	if (!r->rc && x->protocol != NS_PROTO_ANY && x->protocol != NS_PROTO_ICMP &&
	    x->protocol != NS_PROTO_TCP && x->protocol != NS_PROTO_UDP &&
	    x->protocol != NS_PROTO_ESP && x->protocol != NS_PROTO_AH) {
		r->pos -= 4;
		ns_nsgp_fail(r, "protocol %d is none of *, ICMP, TCP, UDP, ESP, AH", x->protocol);
	}
	x->is_default = ns_nsgp_get_bool(r, "a rule's default flag");
	get_side(r, &x->src);
	get_side(r, &x->dst);
}

/* ---- resources with an id, a name and a location ----------------------------- */

static void put_named(ns_nsgp_wr *w, const char *id, const char *name, const ns_loc *loc)
{
	ns_nsgp_str(w, id);
	ns_nsgp_str(w, name);
	put_loc(w, loc);
}

static void get_named(ns_nsgp_rd *r, const char **id, const char **name, ns_loc *loc)
{
	*id = ns_nsgp_get_str(r, "an id", REQ);
	*name = ns_nsgp_get_str(r, "a name", OPT);
	get_loc(r, loc);
}

static void put_nsg(ns_nsgp_wr *w, const ns_nsg *x)
{
	put_named(w, x->id, x->name, &x->loc);
}

static void get_nsg(ns_nsgp_rd *r, ns_nsg *x)
{
	get_named(r, &x->id, &x->name, &x->loc);
}

static void put_asg(ns_nsgp_wr *w, const ns_asg *x)
{
	put_named(w, x->id, x->name, &x->loc);
}

static void get_asg(ns_nsgp_rd *r, ns_asg *x)
{
	get_named(r, &x->id, &x->name, &x->loc);
}

static void put_route_table(ns_nsgp_wr *w, const ns_route_table *x)
{
	put_named(w, x->id, x->name, &x->loc);
}

static void get_route_table(ns_nsgp_rd *r, ns_route_table *x)
{
	get_named(r, &x->id, &x->name, &x->loc);
}

/* ---- ns_vnet ----------------------------------------------------------------- */

static void put_vnet(ns_nsgp_wr *w, const ns_vnet *x)
{
	put_named(w, x->id, x->name, &x->loc);
	put_addrs(w, x->space, x->n_space);
	ns_nsgp_str(w, x->location);
	ns_nsgp_count(w, x->n_tags);
	for (size_t i = 0; i < x->n_tags; i++) {
		ns_nsgp_str(w, x->tag_keys[i]);
		ns_nsgp_str(w, x->tag_values[i]);
	}
}

static void get_vnet(ns_nsgp_rd *r, ns_vnet *x)
{
	get_named(r, &x->id, &x->name, &x->loc);
	x->space = get_addrs(r, "address space", &x->n_space);
	x->location = ns_nsgp_get_str(r, "a location", OPT);
	x->n_tags = ns_nsgp_get_count(r, "tags", 2 * MIN_STR);
	x->tag_keys = ns_nsgp_array(r, x->n_tags, sizeof *x->tag_keys);
	x->tag_values = ns_nsgp_array(r, x->n_tags, sizeof *x->tag_values);
	for (size_t i = 0; x->tag_keys && x->tag_values && i < x->n_tags; i++) {
		x->tag_keys[i] = ns_nsgp_get_str(r, "a tag's key", REQ);
		x->tag_values[i] = ns_nsgp_get_str(r, "a tag's value", OPT);
	}
	if (r->rc)
		x->n_tags = 0;
}

/* ---- ns_subnet --------------------------------------------------------------- */

static void put_subnet(ns_nsgp_wr *w, const ns_subnet *x)
{
	put_named(w, x->id, x->name, &x->loc);
	ns_nsgp_str(w, x->vnet_id);
	put_addrs(w, x->prefixes, x->n_prefixes);
	ns_nsgp_str(w, x->nsg_id);
	ns_nsgp_str(w, x->route_table_id);
	put_loc(w, &x->nsg_loc);
	put_loc(w, &x->route_table_loc);
	put_strs(w, x->services, x->n_services);
}

static void get_subnet(ns_nsgp_rd *r, ns_subnet *x)
{
	get_named(r, &x->id, &x->name, &x->loc);
	x->vnet_id = ns_nsgp_get_str(r, "a subnet's VNet", OPT);
	x->prefixes = get_addrs(r, "prefixes", &x->n_prefixes);
	x->nsg_id = ns_nsgp_get_str(r, "an NSG id", OPT);
	x->route_table_id = ns_nsgp_get_str(r, "a route table id", OPT);
	get_loc(r, &x->nsg_loc);
	get_loc(r, &x->route_table_loc);
	x->services = get_strs(r, "services", &x->n_services);
}

/* ---- ns_peering -------------------------------------------------------------- */

static void put_peering(ns_nsgp_wr *w, const ns_peering *x)
{
	put_named(w, x->id, x->name, &x->loc);
	ns_nsgp_str(w, x->vnet_id);
	ns_nsgp_str(w, x->remote_vnet_id);
	put_loc(w, &x->remote_loc);
	ns_nsgp_u8(w, x->connected);
	ns_nsgp_u8(w, x->allow_vnet_access);
	put_addrs(w, x->remote_space, x->n_remote_space);
}

static void get_peering(ns_nsgp_rd *r, ns_peering *x)
{
	get_named(r, &x->id, &x->name, &x->loc);
	x->vnet_id = ns_nsgp_get_str(r, "a peering's VNet", OPT);
	x->remote_vnet_id = ns_nsgp_get_str(r, "a peering's remote VNet", OPT);
	get_loc(r, &x->remote_loc);
	x->connected = ns_nsgp_get_bool(r, "a peering's connected flag");
	x->allow_vnet_access = ns_nsgp_get_bool(r, "a peering's allowVirtualNetworkAccess");
	x->remote_space = get_addrs(r, "remote address space", &x->n_remote_space);
}

/* ---- ns_ipconfig, ns_nic ----------------------------------------------------- */

static void put_ipconfig(ns_nsgp_wr *w, const ns_ipconfig *x)
{
	ns_nsgp_str(w, x->name);
	put_loc(w, &x->loc);
	ns_nsgp_u8(w, x->has_ip);
	ns_nsgp_u8(w, x->ip_unknown);
	ns_nsgp_i32(w, x->family);
	ns_nsgp_u128(w, x->ip);
	ns_nsgp_str(w, x->ip_text);
	ns_nsgp_str(w, x->subnet_id);
	put_loc(w, &x->subnet_loc);
	put_refs(w, x->asg_ids, x->asg_locs, x->n_asgs);
}

static void get_ipconfig(ns_nsgp_rd *r, ns_ipconfig *x)
{
	x->name = ns_nsgp_get_str(r, "an ipconfig's name", OPT);
	get_loc(r, &x->loc);
	x->has_ip = ns_nsgp_get_bool(r, "an ipconfig's has-IP flag");
	x->ip_unknown = ns_nsgp_get_bool(r, "an ipconfig's unknown-IP flag");
	x->family = ns_nsgp_get_i32(r, "an ipconfig's family");
	x->ip = ns_nsgp_get_u128(r, "an ipconfig's IP");
	if (!r->rc && x->has_ip)
		check_ip(r, x->family, x->ip, x->family == 6 ? 128 : 32); /* one address */
	x->ip_text = ns_nsgp_get_str(r, "an ipconfig's IP text", OPT);
	x->subnet_id = ns_nsgp_get_str(r, "an ipconfig's subnet", OPT);
	get_loc(r, &x->subnet_loc);
	get_refs(r, "application security groups", &x->asg_ids, &x->asg_locs, &x->n_asgs);
}

static void put_nic(ns_nsgp_wr *w, const ns_nic *x)
{
	put_named(w, x->id, x->name, &x->loc);
	ns_nsgp_str(w, x->nsg_id);
	put_loc(w, &x->nsg_loc);
	ns_nsgp_count(w, x->n_ipconfigs);
	for (size_t i = 0; i < x->n_ipconfigs; i++)
		put_ipconfig(w, &x->ipconfigs[i]);
	ns_nsgp_u8(w, x->from_code);
	ns_nsgp_str(w, x->mac);
	ns_nsgp_str(w, x->mac_text);
}

static void get_nic(ns_nsgp_rd *r, ns_nic *x)
{
	get_named(r, &x->id, &x->name, &x->loc);
	x->nsg_id = ns_nsgp_get_str(r, "an NSG id", OPT);
	get_loc(r, &x->nsg_loc);
	x->n_ipconfigs = ns_nsgp_get_count(r, "ipconfigs", MIN_STR + MIN_LOC + 2 + 4 + 16);
	x->ipconfigs = ns_nsgp_array(r, x->n_ipconfigs, sizeof *x->ipconfigs);
	for (size_t i = 0; x->ipconfigs && i < x->n_ipconfigs; i++)
		get_ipconfig(r, &x->ipconfigs[i]);
	if (r->rc)
		x->n_ipconfigs = 0;
	x->from_code = ns_nsgp_get_bool(r, "a NIC's from-code flag");
	x->mac = ns_nsgp_get_str(r, "a MAC address", OPT);
	if (!r->rc && x->mac && strlen(x->mac) != 12)
		ns_nsgp_fail(r, "a MAC address of %zu digits, not 12", strlen(x->mac));
	x->mac_text = ns_nsgp_get_str(r, "a MAC address as written", OPT);
}

/* ---- ns_route ---------------------------------------------------------------- */

static void put_route(ns_nsgp_wr *w, const ns_route *x)
{
	put_named(w, x->id, x->name, &x->loc);
	ns_nsgp_str(w, x->route_table_id);
	put_addr(w, &x->prefix);
	ns_nsgp_str(w, x->next_hop_type);
}

static void get_route(ns_nsgp_rd *r, ns_route *x)
{
	get_named(r, &x->id, &x->name, &x->loc);
	x->route_table_id = ns_nsgp_get_str(r, "a route's table", OPT);
	get_addr(r, &x->prefix);
	x->next_hop_type = ns_nsgp_get_str(r, "a next hop type", OPT);
}

/* ---- AVNM: managers, groups, members, configurations, collections ------------ */

static void put_manager(ns_nsgp_wr *w, const ns_manager *x)
{
	put_named(w, x->id, x->name, &x->loc);
	put_strs(w, x->scope_mgmt_groups, x->n_scope_mgmt_groups);
	put_strs(w, x->scope_subscriptions, x->n_scope_subscriptions);
}

static void get_manager(ns_nsgp_rd *r, ns_manager *x)
{
	get_named(r, &x->id, &x->name, &x->loc);
	x->scope_mgmt_groups = get_strs(r, "management groups", &x->n_scope_mgmt_groups);
	x->scope_subscriptions = get_strs(r, "subscriptions", &x->n_scope_subscriptions);
}

static void put_net_group(ns_nsgp_wr *w, const ns_net_group *x)
{
	put_named(w, x->id, x->name, &x->loc);
	ns_nsgp_str(w, x->manager_id);
}

static void get_net_group(ns_nsgp_rd *r, ns_net_group *x)
{
	get_named(r, &x->id, &x->name, &x->loc);
	x->manager_id = ns_nsgp_get_str(r, "a group's manager", OPT);
}

static void put_static_member(ns_nsgp_wr *w, const ns_static_member *x)
{
	ns_nsgp_str(w, x->id);
	ns_nsgp_str(w, x->group_id);
	ns_nsgp_str(w, x->resource_id);
	put_loc(w, &x->loc);
	put_loc(w, &x->resource_loc);
}

static void get_static_member(ns_nsgp_rd *r, ns_static_member *x)
{
	x->id = ns_nsgp_get_str(r, "a member's id", REQ);
	x->group_id = ns_nsgp_get_str(r, "a member's group", OPT);
	x->resource_id = ns_nsgp_get_str(r, "a member's resource", OPT);
	get_loc(r, &x->loc);
	get_loc(r, &x->resource_loc);
}

static void put_admin_config(ns_nsgp_wr *w, const ns_admin_config *x)
{
	put_named(w, x->id, x->name, &x->loc);
	ns_nsgp_str(w, x->manager_id);
	ns_nsgp_i32(w, x->apply_on_intent);
}

static void get_admin_config(ns_nsgp_rd *r, ns_admin_config *x)
{
	get_named(r, &x->id, &x->name, &x->loc);
	x->manager_id = ns_nsgp_get_str(r, "a configuration's manager", OPT);
	x->apply_on_intent = ns_nsgp_get_range(r, "a network intent policy setting", NS_INTENT_NONE,
	                                       NS_INTENT_ALLOW_RULES_ONLY);
}

static void put_rule_collection(ns_nsgp_wr *w, const ns_rule_collection *x)
{
	put_named(w, x->id, x->name, &x->loc);
	ns_nsgp_str(w, x->config_id);
	put_refs(w, x->group_ids, x->group_locs, x->n_groups);
}

static void get_rule_collection(ns_nsgp_rd *r, ns_rule_collection *x)
{
	get_named(r, &x->id, &x->name, &x->loc);
	x->config_id = ns_nsgp_get_str(r, "a collection's configuration", OPT);
	get_refs(r, "network groups", &x->group_ids, &x->group_locs, &x->n_groups);
}

/* ---- Azure Policy: conditions, parameters, definitions, assignments ---------- */

static void put_cond(ns_nsgp_wr *w, const ns_cond *x)
{
	ns_nsgp_i32(w, x->kind);
	ns_nsgp_count(w, x->n_kids);
	for (size_t i = 0; i < x->n_kids; i++)
		put_cond(w, &x->kids[i]);
	ns_nsgp_i32(w, x->field);
	ns_nsgp_str(w, x->field_text);
	ns_nsgp_str(w, x->arg);
	ns_nsgp_i32(w, x->op);
	ns_nsgp_str(w, x->op_text);
	put_strs(w, x->values, x->n_values);
	ns_nsgp_str(w, x->param);
	put_loc(w, &x->loc);
}

#define MIN_COND (4 + 4 + 4 + 3 * MIN_STR + 4 + 4 + MIN_STR + MIN_LOC)

static void get_cond(ns_nsgp_rd *r, ns_cond *x)
{
	if (++r->depth > 64) {
		ns_nsgp_fail(r, "policy conditions nest more than 64 deep");
		return;
	}
	x->kind = ns_nsgp_get_range(r, "a condition's kind", 0, NS_COND_LEAF);
	x->n_kids = ns_nsgp_get_count(r, "conditions", MIN_COND);
	x->kids = ns_nsgp_array(r, x->n_kids, sizeof *x->kids);
	for (size_t i = 0; x->kids && i < x->n_kids; i++)
		get_cond(r, &x->kids[i]);
	if (r->rc)
		x->n_kids = 0;
	x->field = ns_nsgp_get_range(r, "a condition's field", 0, NS_FIELD_SUBSCRIPTION_RES_ID);
	x->field_text = ns_nsgp_get_str(r, "a condition's field text", OPT);
	x->arg = ns_nsgp_get_str(r, "a condition's argument", OPT);
	x->op = ns_nsgp_get_range(r, "a condition's operator", 0, NS_OP_EXISTS);
	x->op_text = ns_nsgp_get_str(r, "a condition's operator text", OPT);
	x->values = get_strs(r, "values", &x->n_values);
	x->param = ns_nsgp_get_str(r, "a condition's parameter", OPT);
	get_loc(r, &x->loc);
	r->depth--;
}

static void put_params(ns_nsgp_wr *w, const ns_policy_param *v, size_t n)
{
	ns_nsgp_count(w, n);
	for (size_t i = 0; i < n; i++) {
		ns_nsgp_str(w, v[i].name);
		put_strs(w, v[i].values, v[i].n_values);
		ns_nsgp_u8(w, v[i].has_value);
		put_loc(w, &v[i].loc);
	}
}

static ns_policy_param *get_params(ns_nsgp_rd *r, size_t *n)
{
	*n = ns_nsgp_get_count(r, "policy parameters", MIN_STR + 4 + 1 + MIN_LOC);
	ns_policy_param *v = ns_nsgp_array(r, *n, sizeof *v);
	for (size_t i = 0; v && i < *n; i++) {
		v[i].name = ns_nsgp_get_str(r, "a parameter's name", REQ);
		v[i].values = get_strs(r, "a parameter's values", &v[i].n_values);
		v[i].has_value = ns_nsgp_get_bool(r, "a parameter's has-value flag");
		get_loc(r, &v[i].loc);
	}
	if (r->rc)
		*n = 0;
	return r->rc ? NULL : v;
}

static void put_policy_def(ns_nsgp_wr *w, const ns_policy_def *x)
{
	put_named(w, x->id, x->name, &x->loc);
	ns_nsgp_str(w, x->group_id);
	put_loc(w, &x->group_loc);
	put_cond(w, &x->cond);
	put_params(w, x->params, x->n_params);
}

static void get_policy_def(ns_nsgp_rd *r, ns_policy_def *x)
{
	get_named(r, &x->id, &x->name, &x->loc);
	x->group_id = ns_nsgp_get_str(r, "a definition's network group", OPT);
	get_loc(r, &x->group_loc);
	get_cond(r, &x->cond);
	x->params = get_params(r, &x->n_params);
}

static void put_policy_asg(ns_nsgp_wr *w, const ns_policy_asg *x)
{
	put_named(w, x->id, x->name, &x->loc);
	ns_nsgp_str(w, x->def_id);
	ns_nsgp_str(w, x->scope);
	put_loc(w, &x->def_loc);
	put_strs(w, x->not_scopes, x->n_not_scopes);
	put_params(w, x->params, x->n_params);
}

static void get_policy_asg(ns_nsgp_rd *r, ns_policy_asg *x)
{
	get_named(r, &x->id, &x->name, &x->loc);
	x->def_id = ns_nsgp_get_str(r, "an assignment's definition", OPT);
	x->scope = ns_nsgp_get_str(r, "an assignment's scope", OPT);
	get_loc(r, &x->def_loc);
	x->not_scopes = get_strs(r, "notScopes", &x->n_not_scopes);
	x->params = get_params(r, &x->n_params);
}

/* ---- notes and template parameters ------------------------------------------- */

static void put_note(ns_nsgp_wr *w, const ns_note_rec *x)
{
	ns_nsgp_i32(w, x->kind);
	ns_nsgp_str(w, x->message);
	ns_nsgp_str(w, x->file);
	ns_nsgp_str(w, x->pointer);
	ns_nsgp_str(w, x->resource);
}

static void get_note(ns_nsgp_rd *r, ns_note_rec *x)
{
	x->kind = ns_nsgp_get_range(r, "a note's kind", NSGSIM_NOTE_SKIPPED, NSGSIM_NOTE_WARNING);
	x->message = ns_nsgp_get_str(r, "a note's message", REQ);
	x->file = ns_nsgp_get_str(r, "a note's file", OPT);
	x->pointer = ns_nsgp_get_str(r, "a note's pointer", OPT);
	x->resource = ns_nsgp_get_str(r, "a note's resource", OPT);
}

static void put_param_rec(ns_nsgp_wr *w, const ns_param_rec *x)
{
	ns_nsgp_str(w, x->name);
	ns_nsgp_str(w, x->text);
	ns_nsgp_i32(w, x->kind);
	ns_nsgp_str(w, x->origin);
}

static void get_param_rec(ns_nsgp_rd *r, ns_param_rec *x)
{
	x->name = ns_nsgp_get_str(r, "a template parameter's name", REQ);
	x->text = ns_nsgp_get_str(r, "a template parameter's value", OPT);
	x->kind = ns_nsgp_get_range(r, "a template parameter's kind", NS_PARAM_JSON,
	                            NS_PARAM_UNKNOWN);
	x->origin = ns_nsgp_get_str(r, "a template parameter's origin", OPT);
}

/* ---- the model ----------------------------------------------------------------- */

/* Every vector of the model, in the file's order. */
#define NS_NSGP_VECS_BEFORE_RULES(X) X(nsgs, ns_nsg, nsg, MIN_STR + MIN_STR + MIN_LOC)
#define MIN_RULE                     60
#define NS_NSGP_VECS(X)                                                                            \
	X(vnets, ns_vnet, vnet, 2 * MIN_STR + MIN_LOC + 4 + MIN_STR + 4)                           \
	X(subnets, ns_subnet, subnet, 4 * MIN_STR + MIN_LOC)                                       \
	X(peerings, ns_peering, peering, 4 * MIN_STR + 2 * MIN_LOC + 2 + 4)                        \
	X(nics, ns_nic, nic, 3 * MIN_STR + 2 * MIN_LOC + 4 + 1 + 2 * MIN_STR)                      \
	X(asgs, ns_asg, asg, 2 * MIN_STR + MIN_LOC)                                                \
	X(route_tables, ns_route_table, route_table, 2 * MIN_STR + MIN_LOC)                        \
	X(routes, ns_route, route, 3 * MIN_STR + MIN_LOC + MIN_ADDR + MIN_STR)                     \
	X(managers, ns_manager, manager, 2 * MIN_STR + MIN_LOC + 8)                                \
	X(net_groups, ns_net_group, net_group, 3 * MIN_STR + MIN_LOC)                              \
	X(static_members, ns_static_member, static_member, 3 * MIN_STR + 2 * MIN_LOC)              \
	X(admin_configs, ns_admin_config, admin_config, 3 * MIN_STR + MIN_LOC + 4)                 \
	X(rule_collections, ns_rule_collection, rule_collection, 3 * MIN_STR + MIN_LOC + 4)        \
	X(admin_rules, ns_rule, rule, MIN_RULE)                                                    \
	X(policy_defs, ns_policy_def, policy_def, 3 * MIN_STR + 2 * MIN_LOC + MIN_COND + 4)        \
	X(policy_asgs, ns_policy_asg, policy_asg, 4 * MIN_STR + 2 * MIN_LOC + 8)                   \
	X(params, ns_param_rec, param_rec, 3 * MIN_STR + 4)

/* Slot indexes ordered by their keys (byte-wise), a heap sort: no
 * comparison context is needed (qsort has none, and the library keeps no
 * globals). */
static void sift(size_t *o, size_t root, size_t n, const char *const *keys)
{
	for (;;) {
		size_t c = 2 * root + 1;
		if (c >= n)
			return;
		if (c + 1 < n && strcmp(keys[o[c + 1]], keys[o[c]]) > 0)
			c++;
		if (strcmp(keys[o[root]], keys[o[c]]) >= 0)
			return;
		size_t t = o[root];
		o[root] = o[c];
		o[c] = t;
		root = c;
	}
}

static void sort_keys(size_t *o, size_t n, const char *const *keys)
{
	for (size_t i = n / 2; i-- > 0;)
		sift(o, i, n, keys);
	for (size_t end = n; end > 1; end--) {
		size_t t = o[0];
		o[0] = o[end - 1];
		o[end - 1] = t;
		sift(o, 0, end - 1, keys);
	}
}

/* ---- rule blocks: the NSG rules, a section per run of one parent --------------- */

/* A run of the model's rules with one parent id: n of them, n_first the
 * first definitions of their ids (compile drops the others:
 * lib/compile/compile.c index_rules), which is what a focused load counts
 * for a block it leaves unread. */
typedef struct rule_run {
	size_t first, n, n_first; /* m->rules[first..first + n) */
} rule_run;

static bool same_parent(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* The runs into *runs; -1 when out of memory. */
static int rule_runs(const ns_model *m, ns_vec *runs)
{
	ns_map seen;
	ns_map_init(&seen);
	int rc = 0;
	const char *parent = NULL;
	for (size_t i = 0; rc == 0 && i < m->rules.n; i++) {
		ns_rule *r = NS_VEC_AT(&m->rules, ns_rule, i);
		int put_rc;
		bool first = !ns_map_get_or_put(&seen, r->id, r, &put_rc);
		rule_run *run = runs->n ? NS_VEC_AT(runs, rule_run, runs->n - 1) : NULL;
		if (put_rc != 0) {
			rc = -1;
		} else if (!run || !same_parent(r->parent_id, parent)) {
			if (!(run = ns_vec_push(runs)))
				rc = -1;
			else
				*run = (rule_run){.first = i};
			parent = r->parent_id;
		}
		if (rc == 0) {
			run->n++;
			run->n_first += first;
		}
	}
	ns_map_free(&seen);
	return rc;
}

static void put_rule_index(ns_nsgp_wr *w, const ns_model *m, const ns_vec *runs)
{
	ns_nsgp_count(w, runs->n);
	for (size_t k = 0; k < runs->n; k++) {
		const rule_run *run = NS_VEC_AT(runs, rule_run, k);
		ns_nsgp_str(w, NS_VEC_AT(&m->rules, ns_rule, run->first)->parent_id);
		ns_nsgp_count(w, run->n);
		ns_nsgp_count(w, run->n_first);
	}
}

static void put_rule_blocks(ns_nsgp_wr *top, const ns_model *m, const ns_vec *runs)
{
	for (size_t k = 0; k < runs->n; k++) {
		const rule_run *run = NS_VEC_AT(runs, rule_run, k);
		ns_nsgp_wr w;
		ns_nsgp_wr_init(&w);
		for (size_t i = run->first; i < run->first + run->n; i++)
			put_rule(&w, NS_VEC_AT(&m->rules, ns_rule, i));
		ns_nsgp_end_section(top, &w);
	}
}

/* ---- the input lines map ------------------------------------------------------- */

/* The map's slots with a key, ordered by key: the same map gives the same
 * bytes whatever its slots' order.  NULL (and *n 0) for an empty map or
 * out of memory (*failed). */
static size_t *lines_order(const ns_model *m, size_t *n, bool *failed)
{
	*n = 0;
	*failed = false;
	if (!m->lines.n)
		return NULL;
	size_t *order = malloc(m->lines.n * sizeof *order);
	if (!order) {
		*failed = true;
		return NULL;
	}
	for (size_t i = 0; i < m->lines.cap && *n < m->lines.n; i++)
		if (m->lines.keys && m->lines.keys[i])
			order[(*n)++] = i;
	sort_keys(order, *n, m->lines.keys);
	return order;
}

static void put_lines(ns_nsgp_wr *top, const ns_model *m, const size_t *order, size_t n)
{
	ns_nsgp_wr w;
	ns_nsgp_wr_init(&w);
	for (size_t i = 0; i < n; i++) {
		ns_nsgp_str(&w, m->lines.keys[order[i]]);
		ns_nsgp_u32(&w, (uint32_t)(uintptr_t)m->lines.vals[order[i]]);
	}
	ns_nsgp_end_section(top, &w);
}

/* ---- the core ------------------------------------------------------------------ */

static void put_tags(ns_nsgp_wr *w, const ns_model *m, nsgsim_error *err, int *rc)
{
	ns_nsgp_u8(w, m->has_tags);
	if (!m->has_tags)
		return;
	void *snap = NULL;
	size_t len = 0;
	if ((*rc = ns_tags_snapshot_write(m, &snap, &len, err)) != 0)
		return;
	ns_nsgp_str(w, m->tags_file);
	ns_nsgp_u8(w, m->tags_from_snapshot);
	ns_nsgp_u64(w, len);
	ns_buf_put(&w->b, snap, len);
	free(snap);
}

static void put_core(ns_nsgp_wr *w, const ns_model *m, const ns_vec *runs, size_t n_parse,
                     size_t n_lines, nsgsim_error *err, int *rc)
{
	ns_nsgp_u32(w, (uint32_t)strlen(NSGSIM_VERSION_STRING));
	ns_buf_puts(&w->b, NSGSIM_VERSION_STRING);
	ns_nsgp_str(w, m->subscription_id);
	ns_nsgp_str(w, m->resource_group);
	ns_nsgp_str(w, m->location);
	ns_nsgp_u8(w, m->subscription_set);
	ns_nsgp_u8(w, m->resource_group_set);
	ns_nsgp_u8(w, m->location_set);
	ns_nsgp_u32(w, NSGSIM_LIMIT_COUNT);
	for (int i = 0; i < NSGSIM_LIMIT_COUNT; i++)
		ns_nsgp_u64(w, m->limits[i]);
	ns_nsgp_u64(w, m->n_prefixes);
#define NS_X_PUT(vec, T, fn, min)                                                                  \
	ns_nsgp_count(w, m->vec.n);                                                                \
	for (size_t i = 0; i < m->vec.n; i++)                                                      \
		put_##fn(w, NS_VEC_AT(&m->vec, T, i));
	NS_NSGP_VECS_BEFORE_RULES(NS_X_PUT)
	put_rule_index(w, m, runs);
	NS_NSGP_VECS(NS_X_PUT)
#undef NS_X_PUT
	ns_nsgp_count(w, n_parse);
	ns_nsgp_count(w, m->notes.n);
	for (size_t i = 0; i < m->notes.n; i++)
		put_note(w, NS_VEC_AT(&m->notes, ns_note_rec, i));
	ns_nsgp_count(w, n_lines);
	put_tags(w, m, err, rc);
}

void ns_nsgp_put_model(ns_nsgp_wr *top, const ns_model *m, size_t n_parse, nsgsim_error *err,
                       int *rc)
{
	*rc = 0;
	ns_vec runs;
	ns_vec_init(&runs, sizeof(rule_run));
	size_t n_lines;
	bool failed;
	size_t *order = lines_order(m, &n_lines, &failed);
	if (failed || rule_runs(m, &runs) != 0) {
		*rc = ns_fail(err, NSGSIM_E_NOMEM, "", "", "", "out of memory");
	} else {
		ns_nsgp_wr core;
		ns_nsgp_wr_init(&core);
		put_core(&core, m, &runs, n_parse, n_lines, err, rc);
		ns_nsgp_end_section(top, &core);
		put_lines(top, m, order, n_lines);
		put_rule_blocks(top, m, &runs);
	}
	free(order);
	ns_vec_free(&runs);
}

/* ---- reading ------------------------------------------------------------------- */

/* The rules of block `block` (section 2 + block) into m->rules: n of them,
 * each naming parent. */
static int get_block(ns_nsgp_rd *r, size_t block, const char *parent, size_t n)
{
	ns_model *m = r->m;
	if (ns_nsgp_open_section(r, NS_NSGP_SECTIONS_MIN + block) != 0)
		return r->rc;
	if (ns_vec_reserve(&m->rules, n) != 0)
		return ns_nsgp_nomem(r);
	for (size_t i = 0; i < n && !r->rc; i++) {
		ns_nsgp_at_i(r, "/model/rules/%zu", m->rules.n);
		size_t at = r->pos;
		ns_rule *x = ns_vec_push(&m->rules);
		get_rule(r, x);
		if (!r->rc && !same_parent(x->parent_id, parent)) {
			r->pos = at;
			ns_nsgp_fail(r,
			             "a rule of block %zu names the parent '%s'; the block is '%s'",
			             block, x->parent_id, parent);
		}
	}
	if (!r->rc && r->pos != r->len) {
		ns_nsgp_at_i(r, "/sections/%zu", NS_NSGP_SECTIONS_MIN + block);
		ns_nsgp_fail(r, "%zu bytes follow the block's %zu rules", r->len - r->pos, n);
	}
	return r->rc;
}

/* The core's index of rule blocks into m->rule_blocks (section numbers as
 * the directory has them; each block's count bounded by its section). */
static void get_rule_index(ns_nsgp_rd *r)
{
	ns_model *m = r->m;
	ns_nsgp_at(r, "/model/rule-blocks");
	size_t n = ns_nsgp_get_count(r, "rule blocks", MIN_STR + 8);
	if (!r->rc && n != r->n_sec - NS_NSGP_SECTIONS_MIN)
		ns_nsgp_fail(r, "%zu rule blocks; the directory has %zu sections for them", n,
		             r->n_sec - NS_NSGP_SECTIONS_MIN);
	if (!r->rc && ns_vec_reserve(&m->rule_blocks, n) != 0)
		ns_nsgp_nomem(r);
	for (size_t k = 0; k < n && !r->rc; k++) {
		ns_nsgp_at_i(r, "/model/rule-blocks/%zu", k);
		ns_rule_block *b = ns_vec_push(&m->rule_blocks);
		b->parent = ns_nsgp_get_str(r, "a block's parent NSG", REQ);
		b->n_rules = ns_nsgp_get_u32(r, "a block's rule count");
		b->n_first = ns_nsgp_get_u32(r, "a block's count of first definitions");
		b->section = NS_NSGP_SECTIONS_MIN + k;
		if (!r->rc && b->n_first > b->n_rules) {
			r->pos -= 4;
			ns_nsgp_fail(r, "%zu first definitions of %zu rules", b->n_first,
			             b->n_rules);
		}
		const ns_nsgp_section *s = &r->sec[b->section];
		if (!r->rc && b->n_rules > (s->end - s->start) / MIN_RULE) {
			r->pos -= 8;
			ns_nsgp_fail(r, "%zu rules need at least %zu bytes; section %zu has %zu",
			             b->n_rules, b->n_rules * MIN_RULE, b->section,
			             s->end - s->start);
		}
	}
}

static void get_deployment(ns_nsgp_rd *r)
{
	ns_model *m = r->m;
	ns_nsgp_at(r, "/version");
	uint32_t vlen = ns_nsgp_get_u32(r, "the writer's nsgsim version");
	if (!r->rc && vlen > r->len - r->pos)
		ns_nsgp_fail(r, "a version of %u bytes but %zu are left", vlen, r->len - r->pos);
	r->pos += r->rc ? 0 : vlen;
	ns_nsgp_at(r, "/model/deployment");
	m->subscription_id = ns_nsgp_get_str(r, "the subscription", REQ);
	m->resource_group = ns_nsgp_get_str(r, "the resource group", REQ);
	m->location = ns_nsgp_get_str(r, "the location", REQ);
	m->subscription_set = ns_nsgp_get_bool(r, "the subscription-given flag");
	m->resource_group_set = ns_nsgp_get_bool(r, "the resource-group-given flag");
	m->location_set = ns_nsgp_get_bool(r, "the location-given flag");
	ns_nsgp_at(r, "/model/limits");
	uint32_t n_limits = ns_nsgp_get_u32(r, "the limit count");
	if (!r->rc && n_limits != NSGSIM_LIMIT_COUNT)
		ns_nsgp_fail(r, "%u limits; this nsgsim has %d", n_limits, NSGSIM_LIMIT_COUNT);
	for (int i = 0; i < NSGSIM_LIMIT_COUNT && !r->rc; i++)
		m->limits[i] = ns_nsgp_get_u64(r, "a limit");
}

/* The notes: the parse stage's first (*n_parse of them), then the
 * compile's. */
static void get_notes(ns_nsgp_rd *r, size_t *n_parse)
{
	ns_model *m = r->m;
	ns_nsgp_at(r, "/model/notes");
	*n_parse = ns_nsgp_get_u32(r, "the parse-stage note count");
	size_t n_notes = ns_nsgp_get_count(r, "notes", 4 + 4 * MIN_STR);
	if (!r->rc && *n_parse > n_notes) {
		r->pos -= 4;
		ns_nsgp_fail(r, "%zu parse-stage notes of %zu", *n_parse, n_notes);
	}
	if (!r->rc && ns_vec_reserve(&m->notes, n_notes) != 0)
		ns_nsgp_nomem(r);
	for (size_t i = 0; i < n_notes && !r->rc; i++) {
		ns_nsgp_at_i(r, "/model/notes/%zu", i);
		get_note(r, ns_vec_push(&m->notes));
	}
}

static void get_tags(ns_nsgp_rd *r)
{
	ns_model *m = r->m;
	ns_nsgp_at(r, "/model/tags");
	bool has_tags = ns_nsgp_get_bool(r, "the has-tags flag");
	if (!has_tags || r->rc)
		return;
	const char *file = ns_nsgp_get_str(r, "the tags' file", REQ);
	bool snap = ns_nsgp_get_bool(r, "the tags' snapshot flag");
	uint64_t len = ns_nsgp_get_u64(r, "the tags snapshot's length");
	if (!r->rc && len > r->len - r->pos)
		ns_nsgp_fail(r, "a tags snapshot of %llu bytes but %zu are left",
		             (unsigned long long)len, r->len - r->pos);
	if (r->rc)
		return;
	nsgsim_error terr = {0};
	int rc = ns_tags_snapshot_read_embedded(m, r->file, r->d + r->pos, (size_t)len, &terr);
	if (rc != 0)
		ns_nsgp_fail(r, "the embedded service-tags snapshot: %s%s%s", terr.pointer,
		             terr.pointer[0] ? ": " : "", terr.message);
	r->pos += (size_t)len;
	m->has_tags = true;
	m->tags_file = file;
	m->tags_from_snapshot = snap;
}

/* Section 1: n (key, line) pairs into m->lines. */
static void get_lines(ns_nsgp_rd *r, size_t n)
{
	ns_model *m = r->m;
	if (ns_nsgp_open_section(r, 1) != 0)
		return;
	ns_nsgp_at(r, "/model/lines");
	for (size_t i = 0; i < n && !r->rc; i++) {
		const char *key = ns_nsgp_get_str(r, "a line's key", REQ);
		uint32_t line = ns_nsgp_get_u32(r, "a line");
		if (!r->rc && ns_map_put(&m->lines, key, (void *)(uintptr_t)line) != 0)
			ns_nsgp_nomem(r);
	}
	if (!r->rc && r->pos != r->len)
		ns_nsgp_fail(r, "%zu bytes follow the %zu lines", r->len - r->pos, n);
}

/* Section 0, the core, which ends exactly where its last field does. */
static void get_core(ns_nsgp_rd *r, size_t *n_parse, size_t *n_lines)
{
	ns_model *m = r->m;
	if (ns_nsgp_open_section(r, 0) != 0)
		return;
	get_deployment(r);
	uint64_t n_prefixes = ns_nsgp_get_u64(r, "the prefix count");
#define NS_X_GET(vec, T, fn, min)                                                                  \
	if (!r->rc) {                                                                              \
		ns_nsgp_at(r, "/model/" #vec);                                                     \
		size_t n = ns_nsgp_get_count(r, #vec, min);                                        \
		if (!r->rc && ns_vec_reserve(&m->vec, n) != 0)                                     \
			ns_nsgp_nomem(r);                                                          \
		for (size_t i = 0; i < n && !r->rc; i++) {                                         \
			ns_nsgp_at_i(r, "/model/" #vec "/%zu", i);                                 \
			get_##fn(r, ns_vec_push(&m->vec));                                         \
		}                                                                                  \
	}
	NS_NSGP_VECS_BEFORE_RULES(NS_X_GET)
	get_rule_index(r);
	NS_NSGP_VECS(NS_X_GET)
#undef NS_X_GET
	get_notes(r, n_parse);
	ns_nsgp_at(r, "/model/lines");
	*n_lines = ns_nsgp_get_u32(r, "the line count");
	get_tags(r);
	m->n_prefixes = n_prefixes;
	if (!r->rc && r->pos != r->len) {
		ns_nsgp_at(r, "/sections/0");
		ns_nsgp_fail(r, "%zu bytes follow the end of the core", r->len - r->pos);
	}
}

/* A focused query load keeps the rule blocks for compile, which reads
 * those its focus needs (checked against their checksums now, decoded
 * then); the notes stay the saved compile's. */
static int defer_blocks(ns_nsgp_rd *r)
{
	ns_model *m = r->m;
	m->map_file = ns_arena_strdup(&m->arena, r->file);
	m->map_sections = ns_arena_alloc_raw(&m->arena, r->n_sec * sizeof *r->sec);
	if (!m->map_file || !m->map_sections)
		return ns_nsgp_nomem(r);
	memcpy(m->map_sections, r->sec, r->n_sec * sizeof *r->sec);
	m->n_map_sections = r->n_sec;
	m->notes_frozen = true;
	/* Every block's checksum all the same: a damaged file is an error
	 * whatever the focus (about a millisecond for 14 MB). */
	for (size_t k = NS_NSGP_SECTIONS_MIN; k < r->n_sec && !r->rc; k++)
		ns_nsgp_check_section(r, k);
	return r->rc;
}

int ns_nsgp_get_model(ns_nsgp_rd *r)
{
	ns_model *m = r->m;
	size_t n_parse = 0, n_lines = 0;
	get_core(r, &n_parse, &n_lines);
	/* A query build needs no line numbers: their section is not read. */
	bool omit = m->build == NSGSIM_BUILD_QUERY;
	m->lines_omitted = omit && n_lines > 0;
	if (!omit)
		get_lines(r, n_lines);
	else
		ns_nsgp_check_section(r, 1); /* its checksum all the same */
	if (r->rc)
		return r->rc;
	if (r->borrow && m->n_focus > 0 && m->build != NSGSIM_BUILD_FULL)
		return defer_blocks(r);
	m->notes.n = n_parse; /* compile makes its notes again */
	for (size_t k = 0; k < m->rule_blocks.n && !r->rc; k++) {
		const ns_rule_block *b = NS_VEC_AT(&m->rule_blocks, ns_rule_block, k);
		get_block(r, k, b->parent, b->n_rules);
	}
	m->rule_blocks.n = 0;
	return r->rc;
}

int ns_nsgp_read_block(ns_model *m, size_t k, nsgsim_error *err)
{
	nsgsim_error scratch;
	ns_nsgp_rd r = {.d = m->map,
	                .len = m->map_len,
	                .m = m,
	                .file = m->map_file,
	                .err = err ? err : &scratch,
	                .borrow = true,
	                .sec = m->map_sections,
	                .n_sec = m->n_map_sections};
	const ns_rule_block *b = NS_VEC_AT(&m->rule_blocks, ns_rule_block, k);
	return get_block(&r, b->section - NS_NSGP_SECTIONS_MIN, b->parent, b->n_rules);
}
