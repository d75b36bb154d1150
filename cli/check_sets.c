/* nsgsim check: assertions about sets of flows, answered by nsgsim_reach.
 *
 *     allow-only PROTOS SOURCE -> TARGET[:PORTS]
 *     deny-all   PROTOS SOURCE -> TARGET[:PORTS]
 *
 * PROTOS is "*" or a comma list (tcp,udp,icmp,esp,ah); SOURCE and TARGET
 * are what `nsgsim reach` takes (an IP, a CIDR, a NIC, a subnet, a service
 * tag, "*"); PORTS is "*" or a comma list of ports and ranges
 * ("1433", "80,443,8000-8100"); an IPv6 TARGET with ports is written in
 * brackets ("[2001:db8::/64]:443").
 *
 * allow-only holds when every flow from SOURCE to TARGET that is allowed
 * is one of PROTOS and, for TCP and UDP, goes to one of PORTS: nothing but
 * these reaches the target (the flows it names need not all be allowed).
 * deny-all holds when no flow of PROTOS from SOURCE to TARGET's PORTS is
 * allowed (with PORTS given, ICMP, ESP and AH, which have no ports, are
 * not among those flows).  Both are exact: every source address and port is covered. */
#define _POSIX_C_SOURCE 200809L
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "nsgsim.h"

struct set_check {
	int kind; /* SET_ALLOW_ONLY, SET_DENY_ALL */
	char *from, *to;
	unsigned protos;
	int ports[32][2];
	int n_ports; /* 0: every port */
};

static int fail(char *msg, size_t cap, const char *fmt, const char *arg)
{
	snprintf(msg, cap, fmt, arg);
	return -1;
}

static int parse_protos(const char *text, unsigned *out, char *msg, size_t cap)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {{"tcp", NSGSIM_PBIT_TCP}, {"udp", NSGSIM_PBIT_UDP}, {"icmp", NSGSIM_PBIT_ICMP},
	             {"esp", NSGSIM_PBIT_ESP}, {"ah", NSGSIM_PBIT_AH},   {"*", NSGSIM_PBITS_ALL},
	             {"any", NSGSIM_PBITS_ALL}};
	*out = 0;
	const char *p = text;
	while (*p) {
		size_t len = strcspn(p, ",");
		size_t k = 0;
		while (k < sizeof names / sizeof names[0] &&
		       !(strlen(names[k].name) == len && strncasecmp(p, names[k].name, len) == 0))
			k++;
		if (k == sizeof names / sizeof names[0] || len == 0)
			return fail(msg, cap,
			            "'%s': protocols are *, or tcp, udp, icmp, esp, ah separated "
			            "by commas",
			            text);
		*out |= names[k].bit;
		p += len + (p[len] == ',');
	}
	return *out ? 0 : fail(msg, cap, "'%s': no protocol", text);
}

static bool parse_port(const char *s, size_t n, int *out)
{
	if (n == 0 || n > 5)
		return false;
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return v <= 65535;
}

static int parse_ports(const char *text, set_check *c, char *msg, size_t cap)
{
	c->n_ports = 0;
	if (strcmp(text, "*") == 0)
		return 0;
	const char *p = text;
	while (*p) {
		size_t len = strcspn(p, ",");
		size_t dash = strcspn(p, "-");
		int lo, hi;
		bool ok = dash < len ? parse_port(p, dash, &lo) &&
		                               parse_port(p + dash + 1, len - dash - 1, &hi)
		                     : parse_port(p, len, &lo);
		if (dash >= len)
			hi = lo;
		if (!ok || lo > hi || c->n_ports == 32)
			return fail(msg, cap,
			            "'%s': ports are *, or ports and ranges (N or A-B) "
			            "separated by commas, at most 32",
			            text);
		c->ports[c->n_ports][0] = lo;
		c->ports[c->n_ports][1] = hi;
		c->n_ports++;
		p += len + (p[len] == ',');
	}
	return c->n_ports ? 0 : fail(msg, cap, "'%s': no port", text);
}

/* TARGET[:PORTS]: an IPv6 target with ports in brackets; otherwise the one
 * colon, when there is exactly one, starts the ports. */
static int split_target(const char *text, set_check *c, char *msg, size_t cap)
{
	const char *ports = NULL;
	size_t len = strlen(text);
	if (text[0] == '[') {
		const char *end = strchr(text, ']');
		if (!end || (end[1] && end[1] != ':'))
			return fail(msg, cap,
			            "'%s': write an IPv6 target with ports as [ADDRESS]:PORTS",
			            text);
		len = (size_t)(end - text - 1);
		text++;
		ports = end[1] ? end + 2 : NULL;
	} else {
		const char *colon = strchr(text, ':');
		if (colon && !strchr(colon + 1, ':')) {
			len = (size_t)(colon - text);
			ports = colon + 1;
		}
	}
	c->to = strndup(text, len);
	if (!c->to || len == 0)
		return fail(msg, cap, "'%s': a target is needed", text);
	return ports ? parse_ports(ports, c, msg, cap) : 0;
}

void set_check_free(set_check *c)
{
	if (!c)
		return;
	free(c->from);
	free(c->to);
	free(c);
}

int set_check_parse(int kind, const char *protos, const char *source, const char *arrow,
                    const char *target, set_check **out, char *msg, size_t cap, int *bad)
{
	set_check *c = calloc(1, sizeof *c);
	*out = NULL;
	if (!c)
		return fail(msg, cap, "out of memory%s", "");
	c->kind = kind;
	int rc = 0;
	*bad = 0;
	if ((rc = parse_protos(protos, &c->protos, msg, cap)) != 0)
		*bad = 0;
	else if (!(c->from = strdup(source)))
		rc = fail(msg, cap, "out of memory%s", "");
	else if (strcmp(arrow, "->") != 0 && (*bad = 2))
		rc = fail(msg, cap, "expected '->' between the source and the target, not '%s'",
		          arrow);
	else if ((rc = split_target(target, c, msg, cap)) != 0)
		*bad = 3;
	if (rc != 0) {
		set_check_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

/* ---- evaluation ----------------------------------------------------------------- */

static bool port_listed(const set_check *c, int lo, int hi)
{
	if (c->n_ports == 0)
		return true;
	/* [lo, hi] within the union of the listed ranges. */
	for (int cur = lo; cur <= hi;) {
		int best = -1;
		for (int k = 0; k < c->n_ports; k++)
			if (c->ports[k][0] <= cur && cur <= c->ports[k][1] && c->ports[k][1] > best)
				best = c->ports[k][1];
		if (best < 0)
			return false;
		cur = best + 1;
	}
	return true;
}

/* Whether [lo, hi] meets a listed port; if so, narrows it to the first
 * listed range it meets, so the report names a port the check is about. */
static bool port_meets(const set_check *c, int *lo, int *hi)
{
	if (c->n_ports == 0)
		return true;
	for (int k = 0; k < c->n_ports; k++)
		if (c->ports[k][0] <= *hi && *lo <= c->ports[k][1]) {
			*lo = *lo > c->ports[k][0] ? *lo : c->ports[k][0];
			*hi = *hi < c->ports[k][1] ? *hi : c->ports[k][1];
			return true;
		}
	return false;
}

/* The first destination port range of region i that breaks the check, or
 * -1 (for a portless region: 0 when the region breaks it). */
static int offending_port(const nsgsim_regions *r, size_t i, const nsgsim_region *g,
                          const set_check *c, int *lo, int *hi)
{
	*lo = *hi = -1;
	/* A portless protocol (ICMP, ESP, AH) reaches no listed port: deny-all
	 * with ports leaves it alone; allow-only catches it as a protocol. */
	if (g->n_destination_ports == 0)
		return (c->kind == SET_DENY_ALL && c->n_ports == 0) ||
		                       (c->kind == SET_ALLOW_ONLY && (g->protocols & ~c->protos))
		               ? 0
		               : -1;
	for (size_t k = 0; k < g->n_destination_ports; k++) {
		nsgsim_region_range(r, i, NSGSIM_FIELD_DESTINATION_PORTS, k, NULL, NULL, lo, hi);
		bool bad = c->kind == SET_DENY_ALL        ? port_meets(c, lo, hi)
		           : !(g->protocols & ~c->protos) ? !port_listed(c, *lo, *hi)
		                                          : true;
		if (bad)
			return 0;
	}
	return -1;
}

static void describe_region(const nsgsim_regions *r, size_t i, const nsgsim_region *g, int lo,
                            int hi, char *got, size_t cap)
{
	nsgsim_ip slo, shi, dlo, dhi;
	nsgsim_region_range(r, i, NSGSIM_FIELD_SOURCES, 0, &slo, &shi, NULL, NULL);
	nsgsim_region_range(r, i, NSGSIM_FIELD_DESTINATIONS, 0, &dlo, &dhi, NULL, NULL);
	char s[64], d[64], ports[32] = "";
	format_ip(&slo, s, sizeof s);
	format_ip(&dlo, d, sizeof d);
	char dst[72];
	snprintf(dst, sizeof dst, lo >= 0 && dlo.family == 6 ? "[%s]" : "%s", d);
	if (lo >= 0 && lo == hi)
		snprintf(ports, sizeof ports, ":%d", lo);
	else if (lo >= 0)
		snprintf(ports, sizeof ports, ":%d-%d", lo, hi);
	const char *proto = g->protocols & NSGSIM_PBIT_TCP    ? "tcp"
	                    : g->protocols & NSGSIM_PBIT_UDP  ? "udp"
	                    : g->protocols & NSGSIM_PBIT_ICMP ? "icmp"
	                    : g->protocols & NSGSIM_PBIT_ESP  ? "esp"
	                                                      : "ah";
	const char *side = g->decided.endpoint == NSGSIM_ENDPOINT_SOURCE ? "source" : "destination";
	bool more_src = g->n_sources > 1 || memcmp(&slo, &shi, sizeof slo);
	bool more_dst = g->n_destinations > 1 || memcmp(&dlo, &dhi, sizeof dlo);
	snprintf(got, cap, "got Allow for %s %s%s -> %s%s%s by %s %s (%s)", proto, s,
	         more_src ? " and more" : "", dst, ports, more_dst ? " and more" : "",
	         nsgsim_layer_name(g->decided.layer),
	         g->decided.rule.name ? g->decided.rule.name : "-", side);
}

int set_check_run(const nsgsim_policy *p, const set_check *c, bool *pass, char *got, size_t cap)
{
	nsgsim_query q = {c->to, strcmp(c->from, "*") == 0 ? NULL : c->from,
	                  c->kind == SET_DENY_ALL ? c->protos : NSGSIM_PBITS_ALL, 1, 0};
	nsgsim_regions *r = NULL;
	nsgsim_error err = {0};
	int rc = nsgsim_reach(p, &q, &r, &err);
	if (rc != 0) {
		snprintf(got, cap, "error: %s", err.message);
		*pass = false;
		return rc;
	}
	*pass = true;
	for (size_t i = 0; i < nsgsim_regions_count(r) && *pass; i++) {
		nsgsim_region g;
		nsgsim_regions_get(r, i, &g);
		int lo, hi;
		if (offending_port(r, i, &g, c, &lo, &hi) == 0) {
			describe_region(r, i, &g, lo, hi, got, cap);
			*pass = false;
		}
	}
	nsgsim_regions_free(r);
	return 0;
}
