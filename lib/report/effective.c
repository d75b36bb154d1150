/* Effective security rules of a NIC, printed the way
 * `az network nic list-effective-nsg` prints them (SPEC networkInterface.json
 * EffectiveNetworkSecurityGroup; SEMANTICS.md §7.3): one group per
 * association -- the admin rules of each network manager that reach the NIC's
 * subnet, the subnet's NSG, the NIC's NSG -- with service tags expanded.
 *
 * May touch: lib/base, the compiled policy and compile/azure.h. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile/azure.h"
#include "report/jw.h"
#include "report/report.h"

/* ---- rendering rule fields ------------------------------------------------------ */

/* A tag's name as Azure spells it ("INTERNET" in a template is Internet). */
static const char *canonical_tag(const nsgsim_policy *p, const char *text)
{
	static const char *const computed[] = {NS_TAG_VIRTUAL_NETWORK, NS_TAG_INTERNET,
	                                       NS_TAG_LOAD_BALANCER};
	for (size_t i = 0; i < NS_ARRAY_LEN(computed); i++)
		if (ns_ieq(text, computed[i]))
			return computed[i];
	const ns_tag *t = ns_map_get(&p->m.tag_index, text);
	return t ? t->name : text;
}

/* An address as effective rules print it: '*' as 0.0.0.0/0, an IP as /32,
 * a tag by its canonical name. */
static void addr_text(const ns_addr *a, const nsgsim_policy *p, char *buf, size_t cap)
{
	switch (a->kind) {
	case NS_ADDR_ANY:
		snprintf(buf, cap, "0.0.0.0/0");
		break;
	case NS_ADDR_CIDR:
		ns_format_prefix(buf, cap, a->family, a->addr, a->plen);
		break;
	case NS_ADDR_NET_GROUP: {
		const ns_net_group *g = ns_map_get(&p->group_by_id, a->text);
		snprintf(buf, cap, "%s", g ? g->name : a->text);
		break;
	}
	default:
		snprintf(buf, cap, "%s", canonical_tag(p, a->text));
	}
}

typedef struct cidr_ctx {
	jw *w;
} cidr_ctx;

static int emit_cidr(void *ctx, int family, ns_u128 addr, int plen)
{
	char buf[64];
	ns_format_prefix(buf, sizeof buf, family, addr, plen);
	jw_str(((cidr_ctx *)ctx)->w, buf);
	return 0;
}

static void write_set(jw *w, const ns_pset *s)
{
	cidr_ctx c = {w};
	jw_open(w, "[");
	ns_pset_each_cidr(s, emit_cidr, &c);
	jw_close(w, "]");
}

/* Whether a side prints an expanded list: tags, ASGs and network groups. */
static bool side_expands(const ns_side *side)
{
	if (side->form == NS_FORM_ASGS)
		return true;
	for (size_t i = 0; i < side->n_addrs; i++)
		if (side->addrs[i].kind == NS_ADDR_TAG || side->addrs[i].kind == NS_ADDR_NET_GROUP)
			return true;
	return false;
}

static void write_side_addrs(jw *w, const nsgsim_policy *p, const ns_crule *cr, bool source)
{
	const ns_side *side = source ? &cr->r->src : &cr->r->dst;
	char first[128] = "0.0.0.0/0";
	jw_key(w, source ? "sourceAddressPrefix" : "destinationAddressPrefix");
	if (side->form == NS_FORM_ASGS) {
		const ns_casg *a = ns_map_get(&p->asg_by_id, side->asg_ids[0]);
		snprintf(first, sizeof first, "%s", a ? a->a->name : side->asg_ids[0]);
	} else if (side->n_addrs > 0) {
		addr_text(&side->addrs[0], p, first, sizeof first);
	}
	ns_buf_json_string(w->b, first);
	jw_key(w, source ? "sourceAddressPrefixes" : "destinationAddressPrefixes");
	jw_open(w, "[");
	if (side->form == NS_FORM_ASGS) {
		for (size_t i = 0; i < side->n_asgs; i++) {
			const ns_casg *a = ns_map_get(&p->asg_by_id, side->asg_ids[i]);
			jw_str(w, a ? a->a->name : side->asg_ids[i]);
		}
	} else if (side->n_addrs == 0) {
		jw_str(w, "0.0.0.0/0");
	} else {
		for (size_t i = 0; i < side->n_addrs; i++) {
			char buf[128];
			addr_text(&side->addrs[i], p, buf, sizeof buf);
			jw_str(w, buf);
		}
		/* Azure prints '*' of a default rule twice (IPv4 and IPv6), as
		 * in the real list-effective-nsg outputs. */
		if (cr->r->is_default && side->addrs[0].kind == NS_ADDR_ANY)
			jw_str(w, "0.0.0.0/0");
	}
	jw_close(w, "]");
}

static void write_expanded(jw *w, const ns_crule *cr, bool source, const ns_csubnet *ctx)
{
	const ns_side *side = source ? &cr->r->src : &cr->r->dst;
	const ns_cside *cs = source ? &cr->src : &cr->dst;
	jw_key(w, source ? "expandedSourceAddressPrefix" : "expandedDestinationAddressPrefix");
	/* VirtualNetwork is per subnet: a NIC without one has no expansion. */
	const ns_pset *set = cs->vnet_tag && !ctx ? NULL : ns_side_set(cs, ctx);
	if (!side_expands(side) || !set)
		ns_buf_puts(w->b, "null");
	else
		write_set(w, set);
}

static void port_text(const ns_port_range *r, char *buf, size_t cap)
{
	snprintf(buf, cap, "%u-%u", r->lo, r->hi);
}

static void write_ports(jw *w, const ns_side *side, bool source)
{
	static const ns_port_range all = {0, 65535};
	const ns_port_range *ports = side->n_ports ? side->ports : &all;
	size_t n = side->n_ports ? side->n_ports : 1;
	char buf[32];
	port_text(&ports[0], buf, sizeof buf);
	jw_kstr(w, source ? "sourcePortRange" : "destinationPortRange", buf);
	jw_key(w, source ? "sourcePortRanges" : "destinationPortRanges");
	jw_open(w, "[");
	for (size_t i = 0; i < n; i++) {
		port_text(&ports[i], buf, sizeof buf);
		jw_str(w, buf);
	}
	jw_close(w, "]");
}

/* The name effective rules give a rule: "securityRules/<name>",
 * "defaultSecurityRules/<name>" (diagnose-network-traffic-filter-problem.md)
 * or, for admin rules, "adminRules/<name>" (nsgsim's spelling: no real
 * output with admin rules was available). */
static void rule_name(const ns_crule *cr, bool admin, char *buf, size_t cap)
{
	const char *prefix = admin               ? "adminRules/"
	                     : cr->r->is_default ? "defaultSecurityRules/"
	                                         : "securityRules/";
	snprintf(buf, cap, "%s%s", prefix, cr->r->name);
}

static void write_rule(jw *w, const nsgsim_policy *p, const ns_crule *cr, bool admin,
                       const ns_csubnet *ctx)
{
	char name[600];
	jw_sep(w);
	jw_open(w, "{");
	jw_kstr(w, "access", ns_access_text(cr->access));
	write_side_addrs(w, p, cr, false);
	write_ports(w, &cr->r->dst, false);
	jw_kstr(w, "direction", cr->direction == NS_DIR_INBOUND ? "Inbound" : "Outbound");
	write_expanded(w, cr, false, ctx);
	write_expanded(w, cr, true, ctx);
	rule_name(cr, admin, name, sizeof name);
	jw_kstr(w, "name", name);
	jw_key(w, "priority");
	ns_buf_printf(w->b, "%d", cr->priority);
	jw_kstr(w, "protocol", ns_protocol_text(cr->protocol));
	write_side_addrs(w, p, cr, true);
	write_ports(w, &cr->r->src, true);
	jw_close(w, "}");
}

/* ---- groups ------------------------------------------------------------------------ */

/* "/subscriptions/x/resourceGroups/<rg>/..." -> "<rg>" */
static void resource_group(const char *id, char *buf, size_t cap)
{
	buf[0] = '\0';
	const char *p = id;
	while ((p = strchr(p, '/')) != NULL) {
		p++;
		if (ns_ieqn(p, "resourceGroups/", 15)) {
			const char *s = p + 15;
			const char *e = strchr(s, '/');
			size_t n = e ? (size_t)(e - s) : strlen(s);
			snprintf(buf, cap, "%.*s", (int)n, s);
			return;
		}
	}
}

static void write_ref(jw *w, const char *key, const char *id)
{
	jw_key(w, key);
	if (!id) {
		ns_buf_puts(w->b, "null");
		return;
	}
	char rg[256];
	resource_group(id, rg, sizeof rg);
	jw_open(w, "{");
	jw_kstr(w, "id", id);
	if (rg[0])
		jw_kstr(w, "resourceGroup", rg);
	jw_close(w, "}");
}

typedef struct group_view {
	const char *nic_id, *manager_id, *subnet_id, *nsg_id;
	const ns_chain *chains[2];
	bool admin;
} group_view;

/* tagMap: each tag the group's rules use, with its expansion, in order of
 * first use (a JSON object; `az` has been seen to print it as a string). */
static void write_tag_map(jw *w, const group_view *g, const ns_csubnet *ctx)
{
	const char *seen[64];
	size_t n_seen = 0;
	jw_key(w, "tagMap");
	jw_open(w, "{");
	for (int c = 0; c < 2; c++) {
		for (size_t i = 0; i < g->chains[c]->n; i++) {
			const ns_crule *cr = &g->chains[c]->rules[i];
			const ns_cside *sides[2] = {&cr->src, &cr->dst};
			for (int s = 0; s < 2; s++) {
				const char *tag = sides[s]->tag;
				bool dup = false;
				for (size_t k = 0; k < n_seen && !dup; k++)
					dup = ns_ieq(seen[k], tag);
				if (!tag || dup || n_seen == NS_ARRAY_LEN(seen) ||
				    (sides[s]->vnet_tag && !ctx) || !ns_side_set(sides[s], ctx))
					continue;
				seen[n_seen++] = tag;
				jw_key(w, tag);
				write_set(w, ns_side_set(sides[s], ctx));
			}
		}
	}
	jw_close(w, "}");
}

static void write_group(jw *w, const nsgsim_policy *p, const group_view *g, const ns_csubnet *ctx)
{
	jw_sep(w);
	jw_open(w, "{");
	jw_key(w, "association");
	jw_open(w, "{");
	write_ref(w, "networkInterface", g->nic_id);
	write_ref(w, "networkManager", g->manager_id);
	write_ref(w, "subnet", g->subnet_id);
	jw_close(w, "}");
	jw_key(w, "effectiveSecurityRules");
	jw_open(w, "[");
	for (int c = 0; c < 2; c++)
		for (size_t i = 0; i < g->chains[c]->n; i++)
			write_rule(w, p, &g->chains[c]->rules[i], g->admin, ctx);
	jw_close(w, "]");
	write_ref(w, "networkSecurityGroup", g->nsg_id);
	write_tag_map(w, g, ctx);
	jw_close(w, "}");
}

/* The groups of a NIC: the layers of its primary endpoint in the order
 * inbound traffic meets them (admin levels, the subnet's NSG, the NIC's
 * NSG), each with its rules in both directions. */
static size_t collect_groups(const ns_cnic *cn, group_view *out, size_t cap)
{
	const ns_endpoint *ep = &cn->eps[0];
	size_t n = 0;
	for (size_t i = 0; i < ep->n_steps[NS_WAY_IN] && n < cap; i++) {
		const ns_step *s = &ep->steps[NS_WAY_IN][i];
		group_view g = {.chains = {s->chain[NS_WAY_IN], s->chain[NS_WAY_OUT]}};
		if (s->layer == NSGSIM_LAYER_ADMIN) {
			g.manager_id = s->resource;
			g.admin = true;
		} else {
			g.nsg_id = s->resource;
			if (s->layer == NSGSIM_LAYER_SUBNET_NSG)
				g.subnet_id = s->applied_to;
			else
				g.nic_id = s->applied_to;
		}
		out[n++] = g;
	}
	return n;
}

static void write_json(ns_buf *b, const nsgsim_policy *p, const ns_cnic *cn)
{
	group_view groups[40];
	size_t n = collect_groups(cn, groups, NS_ARRAY_LEN(groups));
	jw w = {b, 0, true};
	jw_open(&w, "{");
	jw_key(&w, "nextLink");
	ns_buf_puts(b, "null");
	jw_key(&w, "value");
	jw_open(&w, "[");
	for (size_t i = 0; i < n; i++)
		write_group(&w, p, &groups[i], cn->subnet);
	jw_close(&w, "]");
	jw_close(&w, "}");
	ns_buf_puts(b, "\n");
}

/* ---- table ----------------------------------------------------------------------- */

static void side_summary(const nsgsim_policy *p, const ns_crule *cr, bool source, char *buf,
                         size_t cap)
{
	const ns_side *side = source ? &cr->r->src : &cr->r->dst;
	size_t used = 0;
	buf[0] = '\0';
	size_t n = side->form == NS_FORM_ASGS ? side->n_asgs : side->n_addrs;
	if (n == 0)
		snprintf(buf, cap, "*");
	for (size_t i = 0; i < n && used + 1 < cap; i++) {
		char item[128];
		if (side->form == NS_FORM_ASGS) {
			const ns_casg *a = ns_map_get(&p->asg_by_id, side->asg_ids[i]);
			snprintf(item, sizeof item, "%s", a ? a->a->name : side->asg_ids[i]);
		} else if (side->addrs[i].kind == NS_ADDR_ANY) {
			snprintf(item, sizeof item, "*");
		} else {
			addr_text(&side->addrs[i], p, item, sizeof item);
		}
		int k = snprintf(buf + used, cap - used, "%s%s", i ? "," : "", item);
		if (k < 0)
			break;
		used += (size_t)k;
	}
}

static void ports_summary(const ns_side *side, char *buf, size_t cap)
{
	size_t used = 0;
	snprintf(buf, cap, "*");
	for (size_t i = 0; i < side->n_ports && used + 1 < cap; i++) {
		const ns_port_range *r = &side->ports[i];
		int k = r->lo == 0 && r->hi == 65535
		                ? snprintf(buf + used, cap - used, "%s*", i ? "," : "")
		        : r->lo == r->hi
		                ? snprintf(buf + used, cap - used, "%s%u", i ? "," : "", r->lo)
		                : snprintf(buf + used, cap - used, "%s%u-%u", i ? "," : "", r->lo,
		                           r->hi);
		if (k < 0)
			break;
		used += (size_t)k;
	}
}

static const char *id_leaf(const char *id)
{
	const char *s = strrchr(id, '/');
	return s ? s + 1 : id;
}

/* How the VNet is in the groups that bring the level's rules: each distinct
 * membership once, static or by which policy (lib/compile/membership.c). */
static void write_memberships(ns_buf *b, const group_view *gv)
{
	const ns_member *seen[32];
	size_t n = 0;
	for (int c = 0; c < 2; c++)
		for (size_t i = 0; i < gv->chains[c]->n; i++) {
			const ns_member *mb = gv->chains[c]->rules[i].member;
			bool dup = !mb;
			for (size_t k = 0; k < n && !dup; k++)
				dup = seen[k] == mb;
			if (dup || n == NS_ARRAY_LEN(seen))
				continue;
			seen[n++] = mb;
			if (mb->sm)
				ns_buf_printf(b, "  in network group %s: static member %s\n",
				              id_leaf(mb->group_id), id_leaf(mb->sm->id));
			else
				ns_buf_printf(b,
				              "  in network group %s: by policy definition %s "
				              "(assignment %s)\n",
				              id_leaf(mb->group_id), id_leaf(mb->def->id),
				              id_leaf(mb->asg->id));
		}
}

static void write_table(ns_buf *b, const nsgsim_policy *p, const ns_cnic *cn)
{
	group_view groups[40];
	size_t n = collect_groups(cn, groups, NS_ARRAY_LEN(groups));
	ns_buf_printf(b, "Effective security rules of %s\n", cn->n->name);
	if (n == 0)
		ns_buf_puts(b, "  (no admin rules and no NSG on the NIC or its subnet: all traffic "
		               "is allowed)\n");
	for (size_t g = 0; g < n; g++) {
		const group_view *gv = &groups[g];
		const char *what = gv->admin ? "network manager" : gv->subnet_id ? "subnet" : "NIC";
		const char *id = gv->admin ? gv->manager_id : gv->nsg_id;
		ns_buf_printf(b, "\n%s %s%s%s\n", gv->admin ? "Admin rules of" : "NSG", id,
		              gv->admin ? "" : " on ", gv->admin ? "" : what);
		ns_buf_printf(b, "  %-8s %5s  %-34s %-11s %-5s %-24s %-11s %-24s %s\n", "DIR",
		              "PRIO", "NAME", "ACCESS", "PROTO", "SOURCE", "SPORT", "DESTINATION",
		              "DPORT");
		for (int c = 0; c < 2; c++) {
			for (size_t i = 0; i < gv->chains[c]->n; i++) {
				const ns_crule *cr = &gv->chains[c]->rules[i];
				char src[256], dst[256], sp[128], dp[128];
				side_summary(p, cr, true, src, sizeof src);
				side_summary(p, cr, false, dst, sizeof dst);
				ports_summary(&cr->r->src, sp, sizeof sp);
				ports_summary(&cr->r->dst, dp, sizeof dp);
				ns_buf_printf(
				        b, "  %-8s %5d  %-34s %-11s %-5s %-24s %-11s %-24s %s\n",
				        cr->direction == NS_DIR_INBOUND ? "Inbound" : "Outbound",
				        cr->priority, cr->r->name, ns_access_text(cr->access),
				        ns_protocol_text(cr->protocol), src, sp, dst, dp);
			}
		}
		if (gv->admin)
			write_memberships(b, gv);
	}
}

NSGSIM_EXPORT int nsgsim_effective(const nsgsim_policy *p, const char *nic, nsgsim_format format,
                                   char **out, nsgsim_error *err)
{
	if (!p || !nic || !out)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "",
		               "policy, nic and out are required");
	*out = NULL;
	int rc = ns_check_whole(p, "nsgsim_effective", err);
	if (rc != 0)
		return rc;
	const ns_cnic *cn = ns_find_nic(p, nic, err);
	if (!cn)
		return err ? err->code : NSGSIM_E_NOT_FOUND;
	ns_buf b;
	ns_buf_init(&b);
	if (format == NSGSIM_FORMAT_TABLE)
		write_table(&b, p, cn);
	else
		write_json(&b, p, cn);
	return ns_buf_take(&b, out, err, nic);
}

NSGSIM_EXPORT void nsgsim_free(void *ptr)
{
	free(ptr);
}
