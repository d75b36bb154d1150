/* The parse stage for network security groups and their rules (SPEC
 * networkSecurityGroup.json; SEMANTICS.md §1): the rules nested in an NSG
 * or standalone, their address sides (prefixes, service tags, ASGs) and
 * ports, and the read-only default rules. */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/load.h"

/* ---- NSG rules -------------------------------------------------------------- */

static int parse_enum(ns_pctx *c, const cJSON *res, const char *key, const char *const *names,
                      const int *values, size_t n, int code, const char *expected, int *out)
{
	const char *s;
	int rc = ns_req_string(c, res, key, &s);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (ns_ieq(s, names[i])) {
			*out = values[i];
			return 0;
		}
	}
	size_t mark;
	ns_prop(c, res, key, &mark);
	rc = ns_pfail(c, code, "'%s' is not a valid %s (expected %s)", s, key, expected);
	ns_ptr_pop(c, mark);
	return rc;
}

/* Protocol enums: NSG "Tcp, Udp, Icmp, Esp, *, Ah"; admin "Tcp, Udp, Icmp,
 * Esp, Any, Ah" (SPEC networkSecurityGroup.json and
 * networkManagerSecurityAdminConfiguration.json; SEMANTICS.md T1). */
int ns_parse_protocol(ns_pctx *c, const cJSON *res, int *out)
{
	static const char *const names[] = {"Tcp", "Udp", "Icmp", "Esp", "Ah", "*", "Any"};
	static const int values[] = {NS_PROTO_TCP, NS_PROTO_UDP, NS_PROTO_ICMP, NS_PROTO_ESP,
	                             NS_PROTO_AH,  NS_PROTO_ANY, NS_PROTO_ANY};
	return parse_enum(c, res, "protocol", names, values, NS_ARRAY_LEN(names),
	                  NSGSIM_E_BAD_PROTOCOL, "Tcp, Udp, Icmp, Esp, Ah, '*' or Any", out);
}

int ns_parse_direction(ns_pctx *c, const cJSON *res, int *out)
{
	static const char *const names[] = {"Inbound", "Outbound"};
	static const int values[] = {NS_DIR_INBOUND, NS_DIR_OUTBOUND};
	return parse_enum(c, res, "direction", names, values, 2, NSGSIM_E_BAD_DIRECTION,
	                  "Inbound or Outbound", out);
}

int ns_parse_access(ns_pctx *c, const cJSON *res, bool admin, int *out)
{
	static const char *const names[] = {"Allow", "Deny", "AlwaysAllow"};
	static const int values[] = {NS_ACCESS_ALLOW, NS_ACCESS_DENY, NS_ACCESS_ALWAYS_ALLOW};
	return parse_enum(c, res, "access", names, values, admin ? 3 : 2, NSGSIM_E_BAD_ACCESS,
	                  admin ? "Allow, Deny or AlwaysAllow" : "Allow or Deny", out);
}

int ns_parse_priority(ns_pctx *c, const cJSON *res, int lo, int hi, bool check, int *out)
{
	size_t mark;
	const cJSON *v = ns_prop(c, res, "priority", &mark);
	if (!v) {
		mark = ns_ptr_prop(c, res, "priority");
		int rc = ns_pfail(c, NSGSIM_E_MISSING_FIELD, "missing required field 'priority'");
		ns_ptr_pop(c, mark);
		return rc;
	}
	if (cJSON_IsRaw(v))
		return ns_fail_unknown(c, v);
	if (cJSON_IsString(v) && !c->evaluated && ns_is_expression(v->valuestring))
		return ns_pfail(c, NSGSIM_E_UNEVALUATED,
		                "'%s' is an unevaluated ARM template expression", v->valuestring);
	if (!cJSON_IsNumber(v))
		return ns_expected(c, v, "an integer priority");
	/* Range first: casting an out-of-range double is undefined behaviour. */
	if (v->valuedouble < (check ? lo : 0) || v->valuedouble > (check ? hi : 65535))
		return ns_pfail(c, NSGSIM_E_PRIORITY_RANGE, "priority %g is outside %d-%d",
		                v->valuedouble, check ? lo : 0, check ? hi : 65535);
	if (v->valuedouble != (double)(int)v->valuedouble)
		return ns_pfail(c, NSGSIM_E_SHAPE, "priority must be an integer");
	if (check && (v->valuedouble < lo || v->valuedouble > hi))
		return ns_pfail(c, NSGSIM_E_PRIORITY_RANGE, "priority %.0f is outside %d-%d",
		                v->valuedouble, lo, hi);
	*out = (int)v->valuedouble;
	ns_ptr_pop(c, mark);
	return 0;
}

/* One address as written in an NSG rule's singular or plural field. */
static int parse_nsg_addr(ns_pctx *c, const char *text, bool plural, ns_addr *a)
{
	a->text = text;
	a->loc = ns_loc_here(c);
	if (strcmp(text, "*") == 0 || ns_looks_like_tag(text)) {
		/* SEMANTICS.md §1.3 / T9: tags and '*' only go in the singular
		 * field; the API answers SecurityRuleParameterContainsUnsupportedValue. */
		if (plural)
			return ns_pfail(c, NSGSIM_E_TAG_IN_PREFIXES,
			                "'%s' is not allowed in a plural ...AddressPrefixes array: "
			                "service tags and '*' only go in the singular field",
			                text);
		a->kind = strcmp(text, "*") == 0 ? NS_ADDR_ANY : NS_ADDR_TAG;
		return 0;
	}
	a->kind = NS_ADDR_CIDR;
	return ns_parse_prefix(text, &a->family, &a->addr, &a->plen, &a->loc, ns_pctx_resource(c),
	                       c->err);
}

/* sourceAddressPrefix / sourceAddressPrefixes / sourceApplicationSecurityGroups:
 * exactly one, non-empty (SEMANTICS.md §1.3; the API's error "must specify a
 * non empty value for exactly one of ..."). */
/* which + what ("source" + "PortRange"), cut to fit: not snprintf, which
 * was a tenth of loading a large estate (five keys a rule). */
static void join_key(char *out, size_t cap, const char *which, const char *what)
{
	size_t a = strlen(which), b = strlen(what);
	if (a > cap - 1)
		a = cap - 1;
	if (b > cap - 1 - a)
		b = cap - 1 - a;
	memcpy(out, which, a);
	memcpy(out + a, what, b);
	out[a + b] = '\0';
}

static int parse_nsg_side_addrs(ns_pctx *c, const cJSON *res, const char *which, ns_side *side)
{
	char k_prefix[64], k_prefixes[64], k_asgs[64];
	join_key(k_prefix, sizeof k_prefix, which, "AddressPrefix");
	join_key(k_prefixes, sizeof k_prefixes, which, "AddressPrefixes");
	join_key(k_asgs, sizeof k_asgs, which, "ApplicationSecurityGroups");

	const char *single;
	const char **plural;
	ns_loc *plural_locs;
	size_t n_plural;
	int rc = ns_opt_string(c, res, k_prefix, &single);
	if (rc == 0)
		rc = ns_opt_string_array(c, res, k_prefixes, &plural, &plural_locs, &n_plural,
		                         NULL);
	if (rc == 0)
		rc = ns_opt_ref_array(c, res, k_asgs, &side->asg_ids, &side->asg_locs,
		                      &side->n_asgs);
	if (rc != 0)
		return rc;
	bool has_single = single && single[0];
	int forms = (has_single ? 1 : 0) + (n_plural ? 1 : 0) + (side->n_asgs ? 1 : 0);
	if (forms != 1) {
		size_t mark = ns_ptr_prop(c, res, k_prefix);
		rc = ns_pfail(c, NSGSIM_E_ADDRESS_SIDE,
		              "%s a non-empty value for exactly one of %s, %s, %s",
		              forms ? "found more than one; specify" : "specify", k_prefix,
		              k_prefixes, k_asgs);
		ns_ptr_pop(c, mark);
		return rc;
	}
	if (side->n_asgs) {
		side->form = NS_FORM_ASGS;
		return 0;
	}
	side->form = has_single ? NS_FORM_PREFIX : NS_FORM_PREFIXES;
	size_t n = has_single ? 1 : n_plural;
	if ((rc = ns_count_addresses(c, res, k_prefixes, n)) != 0)
		return rc;
	side->addrs = ns_arena_alloc(&c->m->arena, n * sizeof *side->addrs);
	if (!side->addrs)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	side->n_addrs = n;
	for (size_t i = 0; i < n; i++) {
		size_t mark;
		if (has_single) {
			ns_prop(c, res, k_prefix, &mark);
		} else {
			ns_prop(c, res, k_prefixes, &mark);
			ns_ptr_index(c, i);
		}
		rc = parse_nsg_addr(c, has_single ? single : plural[i], !has_single,
		                    &side->addrs[i]);
		if (rc != 0)
			return rc;
		ns_ptr_pop(c, mark);
	}
	return 0;
}

/* Port ranges: singular or plural, exactly one non-empty. */
static int parse_nsg_ports(ns_pctx *c, const cJSON *res, const char *which, ns_side *side)
{
	char k_one[64], k_many[64];
	join_key(k_one, sizeof k_one, which, "PortRange");
	join_key(k_many, sizeof k_many, which, "PortRanges");
	const char *single;
	const char **plural;
	size_t n_plural;
	int rc = ns_opt_string(c, res, k_one, &single);
	if (rc == 0)
		rc = ns_opt_string_array(c, res, k_many, &plural, NULL, &n_plural, NULL);
	if (rc != 0)
		return rc;
	bool has_single = single && single[0];
	if (has_single == (n_plural > 0)) {
		size_t mark = ns_ptr_prop(c, res, k_one);
		rc = ns_pfail(c, has_single ? NSGSIM_E_BAD_PORT : NSGSIM_E_MISSING_FIELD,
		              "specify exactly one of %s or a non-empty %s", k_one, k_many);
		ns_ptr_pop(c, mark);
		return rc;
	}
	size_t n = has_single ? 1 : n_plural;
	side->ports = ns_arena_alloc(&c->m->arena, n * sizeof *side->ports);
	if (!side->ports)
		return ns_pfail(c, NSGSIM_E_NOMEM, "out of memory");
	side->n_ports = n;
	side->ports_plural = !has_single;
	for (size_t i = 0; i < n; i++) {
		size_t mark;
		ns_prop(c, res, has_single ? k_one : k_many, &mark);
		if (!has_single)
			ns_ptr_index(c, i);
		char buf[sizeof c->ptr];
		ns_loc loc = {c->file, ns_ptr_file(c, buf, sizeof buf)};
		rc = ns_parse_port_range(has_single ? single : plural[i], &side->ports[i], &loc,
		                         ns_pctx_resource(c), c->err);
		if (rc != 0)
			return rc;
		ns_ptr_pop(c, mark);
	}
	return 0;
}

static int parse_nsg_rule(ns_pctx *c, const cJSON *res, const char *nsg_id, bool is_default,
                          const char *type)
{
	const char *saved_resource = c->resource;
	ns_rule r = {0};
	r.is_default = is_default;
	int rc = ns_identify(c, res, type, nsg_id,
	                     is_default ? "defaultSecurityRules" : "securityRules", &r.loc, &r.id,
	                     &r.name, &r.parent_id);
	if (rc != 0)
		return rc;
	if (!r.parent_id)
		return ns_pfail(c, NSGSIM_E_SHAPE, "cannot tell which NSG rule '%s' belongs to",
		                r.id);
	/* SPEC networkSecurityGroup.json: protocol, access, priority and
	 * direction are required; priority 100-4096 (SEMANTICS.md §1.1, T1). */
	if ((rc = ns_parse_protocol(c, res, &r.protocol)) != 0 ||
	    (rc = ns_parse_access(c, res, false, &r.access)) != 0 ||
	    (rc = ns_parse_priority(c, res, 100, 4096, !is_default, &r.priority)) != 0 ||
	    (rc = ns_parse_direction(c, res, &r.direction)) != 0 ||
	    (rc = parse_nsg_side_addrs(c, res, "source", &r.src)) != 0 ||
	    (rc = parse_nsg_side_addrs(c, res, "destination", &r.dst)) != 0 ||
	    (rc = parse_nsg_ports(c, res, "source", &r.src)) != 0 ||
	    (rc = parse_nsg_ports(c, res, "destination", &r.dst)) != 0)
		return rc;
	if ((rc = ns_push(c, &c->m->rules, &r)) != 0)
		return rc;
	c->resource = saved_resource;
	return 0;
}

static int nested_rule(ns_pctx *c, const cJSON *child, const char *nsg_id)
{
	return parse_nsg_rule(c, child, nsg_id, false, NULL);
}

/* defaultSecurityRules are read-only in the API (SPEC networkSecurityGroup.json):
 * every NSG has Azure's six, whatever a template or export lists.  nsgsim
 * always uses Azure's six and says so when the input lists others. */
static int check_default_rules(ns_pctx *c, const cJSON *res)
{
	static const char *const names[] = {
	        "AllowVnetInBound",  "AllowAzureLoadBalancerInBound", "DenyAllInBound",
	        "AllowVnetOutBound", "AllowInternetOutBound",         "DenyAllOutBound"};
	size_t mark;
	const cJSON *defaults = ns_prop(c, res, "defaultSecurityRules", &mark);
	if (!defaults)
		return 0;
	bool standard = cJSON_IsArray(defaults);
	const cJSON *item;
	cJSON_ArrayForEach(item, defaults)
	{
		const char *name = ns_raw_string(item, "name");
		bool known = false;
		for (size_t i = 0; name && i < NS_ARRAY_LEN(names); i++)
			known = known || ns_ieq(name, names[i]);
		standard = standard && known;
	}
	int rc = 0;
	char buf[sizeof c->ptr];
	if (!standard || cJSON_GetArraySize(defaults) != (int)NS_ARRAY_LEN(names))
		rc = ns_model_note(
		        c->m, NSGSIM_NOTE_WARNING, c->file, ns_ptr_file(c, buf, sizeof buf),
		        ns_pctx_resource(c),
		        "the input lists defaultSecurityRules other than Azure's six; they "
		        "are read-only in Azure, so Azure's own six defaults are used");
	ns_ptr_pop(c, mark);
	return rc;
}

int ns_parse_nsg(ns_pctx *c, const cJSON *res, const char *type)
{
	ns_nsg g = {0};
	int rc = ns_identify(c, res, type, NULL, NULL, &g.loc, &g.id, &g.name, NULL);
	if (rc != 0)
		return rc;
	if ((rc = check_default_rules(c, res)) != 0 ||
	    (rc = ns_each_child(c, res, "securityRules", g.id, nested_rule)) != 0)
		return rc;
	return ns_push(c, &c->m->nsgs, &g);
}

int ns_parse_standalone_rule(ns_pctx *c, const cJSON *res, const char *type)
{
	return parse_nsg_rule(c, res, NULL, false, type);
}

int ns_parse_standalone_default_rule(ns_pctx *c, const cJSON *res, const char *type)
{
	(void)type;
	const char *id = ns_raw_string(res, "id");
	return ns_model_note(c->m, NSGSIM_NOTE_SKIPPED, c->file, c->ptr,
	                     id ? id : ns_raw_string(res, "name"),
	                     "default security rules are read-only; Azure's six are used");
}
