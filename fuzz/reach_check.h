/* Shared by fuzz_query and fuzz_reach: the contract of nsgsim_reach and
 * nsgsim_diff checked on a result (include/nsgsim.h, "Sets of flows").
 *
 * Each region has the documented shape (protocols of the query, never port
 * and portless ones together, ports exactly for TCP/UDP, at least one range
 * per address field); the corners of each region (the first and last range
 * of every field, each at its low and high end) lie in that region and in no
 * other, and nsgsim_eval gives each of them the region's verdict, layer,
 * rule and endpoint (NSGSIM_E_NOT_MODELLED for an Unmodelled region); both
 * renderings succeed and the JSON parses.  Bounded: the corners of the first
 * FUZZ_REGIONS_CHECKED regions, the disjointness scan only when the result
 * is small, so that one input stays cheap. */
#ifndef NSGSIM_FUZZ_REACH_CHECK_H
#define NSGSIM_FUZZ_REACH_CHECK_H

#include "fuzz_common.h"

#define FUZZ_REGIONS_CHECKED 48
#define FUZZ_DISJOINT_MAX 400

static const int fuzz_bit_protocol[5][2] = {{NSGSIM_PBIT_ICMP, NSGSIM_PROTO_ICMP},
                                            {NSGSIM_PBIT_TCP, NSGSIM_PROTO_TCP},
                                            {NSGSIM_PBIT_UDP, NSGSIM_PROTO_UDP},
                                            {NSGSIM_PBIT_ESP, NSGSIM_PROTO_ESP},
                                            {NSGSIM_PBIT_AH, NSGSIM_PROTO_AH}};

static void fuzz_check_region_shape(const nsgsim_region *g, unsigned query_protocols,
                                    int allowed_only)
{
	unsigned ported = NSGSIM_PBIT_TCP | NSGSIM_PBIT_UDP;
	FUZZ_CHECK(g->protocols != 0 && (g->protocols & ~query_protocols) == 0);
	FUZZ_CHECK((g->protocols & ported) == 0 || (g->protocols & ~ported) == 0);
	FUZZ_CHECK(g->family == 4 || g->family == 6);
	FUZZ_CHECK(g->n_sources > 0 && g->n_destinations > 0);
	int has_ports = (g->protocols & ported) != 0;
	FUZZ_CHECK((g->n_source_ports > 0) == has_ports);
	FUZZ_CHECK((g->n_destination_ports > 0) == has_ports);
	FUZZ_CHECK(g->decided.verdict == NSGSIM_ALLOW || g->decided.verdict == NSGSIM_DENY ||
	           g->decided.verdict == NSGSIM_UNMODELLED);
	FUZZ_CHECK(fuzz_valid_layer(g->decided.layer));
	FUZZ_CHECK((g->decided.layer == NSGSIM_LAYER_NONE) == (g->decided.rule.name == NULL));
	if (allowed_only)
		FUZZ_CHECK(g->decided.verdict == NSGSIM_ALLOW);
}

/* One field's end: the first or last range, its low or high end. */
static void fuzz_field_end(const nsgsim_regions *r, size_t i, int field, size_t n, int corner,
                           nsgsim_ip *ip, int *port)
{
	nsgsim_ip lo, hi;
	int plo = 0, phi = 0;
	size_t k = (corner & 1) ? n - 1 : 0;
	FUZZ_CHECK(nsgsim_region_range(r, i, field, k, &lo, &hi, &plo, &phi) == 0);
	int high = (corner & 2) != 0;
	if (ip)
		*ip = high ? hi : lo;
	if (port)
		*port = high ? phi : plo;
	FUZZ_CHECK(nsgsim_region_range(r, i, field, n, NULL, NULL, NULL, NULL) ==
	           NSGSIM_E_INVALID_ARG);
}

static void fuzz_corner_flow(const nsgsim_regions *r, size_t i, const nsgsim_region *g,
                             unsigned corner, nsgsim_flow *f)
{
	memset(f, 0, sizeof *f);
	int pick = (int)(corner % 5), k = 0;
	for (int tries = 0; tries < 5; tries++, pick = (pick + 1) % 5)
		if (g->protocols & (unsigned)fuzz_bit_protocol[pick][0]) {
			k = pick;
			break;
		}
	f->protocol = fuzz_bit_protocol[k][1];
	fuzz_field_end(r, i, NSGSIM_FIELD_SOURCES, g->n_sources, (int)corner, &f->src, NULL);
	fuzz_field_end(r, i, NSGSIM_FIELD_DESTINATIONS, g->n_destinations, (int)(corner >> 2),
	               &f->dst, NULL);
	f->src_port = f->dst_port = NSGSIM_PORT_ANY;
	if (g->n_destination_ports) {
		fuzz_field_end(r, i, NSGSIM_FIELD_SOURCE_PORTS, g->n_source_ports, (int)(corner >> 4),
		               NULL, &f->src_port);
		fuzz_field_end(r, i, NSGSIM_FIELD_DESTINATION_PORTS, g->n_destination_ports,
		               (int)(corner >> 6), NULL, &f->dst_port);
	}
}

static void fuzz_check_answer(const nsgsim_policy *p, const nsgsim_flow *f,
                              const nsgsim_decided *d)
{
	nsgsim_result res;
	nsgsim_error err;
	int rc = nsgsim_eval(p, f, &res, &err);
	if (d->verdict == NSGSIM_UNMODELLED) {
		FUZZ_CHECK(rc == NSGSIM_E_NOT_MODELLED);
		return;
	}
	FUZZ_CHECK(rc == 0);
	FUZZ_CHECK(res.verdict == d->verdict);
	FUZZ_CHECK(res.decided_layer == d->layer);
	FUZZ_CHECK(res.decided_endpoint == d->endpoint);
	FUZZ_CHECK((res.decided_rule.name == NULL) == (d->rule.name == NULL));
	if (d->rule.name)
		FUZZ_CHECK(strcmp(res.decided_rule.name, d->rule.name) == 0 &&
		           res.decided_rule.priority == d->rule.priority);
}

static void fuzz_check_render(const nsgsim_regions *r)
{
	for (int fmt = NSGSIM_FORMAT_JSON; fmt <= NSGSIM_FORMAT_TABLE; fmt++) {
		char *out = NULL;
		nsgsim_error err;
		FUZZ_CHECK(nsgsim_regions_render(r, (nsgsim_format)fmt, &out, &err) == 0);
		if (fmt == NSGSIM_FORMAT_JSON)
			fuzz_check_json(out);
		nsgsim_free(out);
	}
}

/* before is NULL for a reach result, else the diff's first policy (after
 * is then p). */
static void fuzz_check_regions(const nsgsim_policy *before, const nsgsim_policy *p,
                               const nsgsim_regions *r, const nsgsim_query *q)
{
	unsigned protos = q->protocols ? q->protocols : NSGSIM_PBITS_ALL;
	size_t n = nsgsim_regions_count(r);
	nsgsim_region g;
	FUZZ_CHECK(nsgsim_regions_get(r, n, &g) == NSGSIM_E_INVALID_ARG);
	for (size_t i = 0; i < n && i < FUZZ_REGIONS_CHECKED; i++) {
		FUZZ_CHECK(nsgsim_regions_get(r, i, &g) == 0);
		fuzz_check_region_shape(&g, protos, before == NULL && q->allowed_only);
		if (before)
			FUZZ_CHECK(g.before.verdict != g.decided.verdict || q->rules);
		for (unsigned corner = 0; corner < 256; corner += 37) {
			nsgsim_flow f;
			fuzz_corner_flow(r, i, &g, corner, &f);
			FUZZ_CHECK(nsgsim_region_contains(r, i, &f) == 1);
			fuzz_check_answer(p, &f, &g.decided);
			if (before)
				fuzz_check_answer(before, &f, &g.before);
			if (n > FUZZ_DISJOINT_MAX)
				continue;
			for (size_t j = 0; j < n; j++)
				FUZZ_CHECK(j == i || nsgsim_region_contains(r, j, &f) == 0);
		}
	}
	fuzz_check_render(r);
}

#endif
