/* The segmentation matrix against the single-flow evaluation.
 *
 * On random environments (tests/genenv.h) and the bundled example, by
 * subnet, NIC and ASG: for random cells, random flows from the row's
 * addresses to the column's (protocols, destination ports at the cell's
 * edges and anywhere) are evaluated, and
 * - a flow nsgsim_eval allows is on a protocol and port the cell allows
 *   (nothing outside the cell is allowed);
 * - a random flow inside each allowed region of the cell is allowed by
 *   nsgsim_eval and on a protocol and port of the cell (everything in the
 *   cell is allowed for some flow);
 * - a flow eval denies on a protocol and port of a cell that is not partial
 *   does not exist (a cell that is not partial holds for every flow);
 * - the accessors agree with the summary and the JSON renders. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "compile/policy.h"
#include "eval/query.h"
#include "files.h"
#include "nsgsim.h"

/* The flow pool of genenv.h is the reach test's; this test aims its own. */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "genenv.h"

static int failures;
static long n_points, n_allowed, n_witness, n_cells, n_partial;

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		if (failures++ < 20)                                                               \
			print_error(__VA_ARGS__);                                                  \
	} while (0)

static const int protos[] = {NSGSIM_PROTO_TCP, NSGSIM_PROTO_UDP, NSGSIM_PROTO_ICMP,
                             NSGSIM_PROTO_ESP, NSGSIM_PROTO_AH};

static ns_u128 pick(rng *r, ns_u128 lo, ns_u128 hi)
{
	ns_u128 span = hi - lo;
	ns_u128 x = ((ns_u128)rnd(r) << 64) | rnd(r);
	if (span == ~(ns_u128)0)
		return x;
	return lo + x % (span + 1);
}

static void set_ip(nsgsim_ip *ip, int family, ns_u128 v)
{
	memset(ip, 0, sizeof *ip);
	ip->family = family;
	int n = family == 4 ? 4 : 16;
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		ip->bytes[i] = (uint8_t)(v & 0xff);
}

/* The addresses of a label: reach's own resolution (for an ASG, the
 * addresses of one random member NIC). */
static bool addrs_of(const nsgsim_policy *p, const nsgsim_matrix_label *l, rng *r, ns_arena *ar,
                     ns_addrs *out)
{
	nsgsim_error e;
	const char *text = l->id;
	if (l->kind == NSGSIM_RESOURCE_ASG) {
		const char *members[64];
		size_t n = 0;
		for (size_t i = 0; i < p->n_nics && n < 64; i++) {
			const ns_nic *nic = p->nics[i].n;
			bool in = false;
			for (size_t c = 0; c < nic->n_ipconfigs; c++)
				for (size_t k = 0; k < nic->ipconfigs[c].n_asgs; k++)
					in |= ns_ieq(nic->ipconfigs[c].asg_ids[k], l->id) &&
					      nic->ipconfigs[c].has_ip;
			if (in)
				members[n++] = nic->id;
		}
		if (!n)
			return false;
		text = members[below(r, (uint32_t)n)];
	}
	return ns_query_addrs(p, text, "test", ar, out, &e) == 0;
}

static int random_port(rng *r, const nsgsim_matrix *m, size_t i, size_t j, int tcp)
{
	nsgsim_matrix_cell_info c;
	nsgsim_matrix_cell(m, i, j, &c);
	size_t n = c.n_ports[tcp ? 0 : 1];
	if (n && chance(r, 60)) {
		int lo, hi;
		nsgsim_matrix_cell_ports(m, i, j, tcp, below(r, (uint32_t)n), &lo, &hi);
		int edge[] = {lo - 1, lo, hi, hi + 1};
		int port = edge[below(r, 4)];
		return port < 0 ? 0 : port > 65535 ? 65535 : port;
	}
	return (int)below(r, 65536);
}

/* A random flow from row i to column j: whatever eval says, the cell agrees. */
static void check_point(int env, const nsgsim_policy *p, const nsgsim_matrix *m, rng *r, size_t i,
                        size_t j)
{
	nsgsim_matrix_label lr, lc;
	nsgsim_matrix_row(m, i, &lr);
	nsgsim_matrix_column(m, j, &lc);
	ns_arena ar = {0};
	ns_addrs from, to;
	if (!addrs_of(p, &lr, r, &ar, &from) || !addrs_of(p, &lc, r, &ar, &to)) {
		ns_arena_free(&ar);
		return;
	}
	int f = from.fam[0].n && to.fam[0].n ? 0 : from.fam[1].n && to.fam[1].n ? 1 : -1;
	if (f >= 0 && from.fam[0].n && to.fam[0].n && from.fam[1].n && to.fam[1].n && chance(r, 30))
		f = 1;
	if (f < 0) {
		ns_arena_free(&ar);
		return;
	}
	const ns_ivl *s = &from.fam[f].v[below(r, (uint32_t)from.fam[f].n)];
	const ns_ivl *d = &to.fam[f].v[below(r, (uint32_t)to.fam[f].n)];
	nsgsim_flow flow;
	flow.protocol = protos[below(r, 5)];
	set_ip(&flow.src, f ? 6 : 4, pick(r, s->lo, s->hi));
	set_ip(&flow.dst, f ? 6 : 4, pick(r, d->lo, d->hi));
	bool ported = flow.protocol == NSGSIM_PROTO_TCP || flow.protocol == NSGSIM_PROTO_UDP;
	flow.src_port = ported ? (int)below(r, 65536) : NSGSIM_PORT_ANY;
	flow.dst_port = ported ? random_port(r, m, i, j, flow.protocol == NSGSIM_PROTO_TCP)
	                       : NSGSIM_PORT_ANY;
	ns_arena_free(&ar);
	nsgsim_result res;
	nsgsim_error err;
	int rc = nsgsim_eval(p, &flow, &res, &err);
	if (rc == NSGSIM_E_NOT_MODELLED)
		return;
	n_points++;
	if (rc != 0) {
		FAIL("env %d: eval failed: %s\n", env, err.message);
		return;
	}
	bool allowed = res.verdict == NSGSIM_ALLOW;
	n_allowed += allowed;
	nsgsim_matrix_cell_info c;
	nsgsim_matrix_cell(m, i, j, &c);
	bool in_cell = nsgsim_matrix_cell_allows(m, i, j, flow.protocol, flow.dst_port);
	n_partial += c.partial;
	if (!allowed && in_cell && !c.partial)
		FAIL("env %d: %s -> %s: eval denies protocol %d port %d, in the cell '%s' that is "
		     "not partial\n",
		     env, lr.name, lc.name, flow.protocol, flow.dst_port, c.summary);
	if (allowed && !in_cell)
		FAIL("env %d: %s -> %s: eval allows protocol %d port %d, the cell '%s' does not\n",
		     env, lr.name, lc.name, flow.protocol, flow.dst_port, "(see summary)");
}

/* A flow inside each allowed region of the cell: allowed by eval, and in
 * the cell. */
static void check_witnesses(int env, const nsgsim_policy *p, const nsgsim_matrix *m, rng *r,
                            size_t i, size_t j)
{
	nsgsim_matrix_cell_info c;
	nsgsim_matrix_cell(m, i, j, &c);
	for (size_t q = 0; q < c.n_queries; q++) {
		const nsgsim_regions *rs = nsgsim_matrix_cell_regions(m, i, j, q);
		for (size_t k = 0; k < nsgsim_regions_count(rs); k++) {
			nsgsim_region g;
			nsgsim_regions_get(rs, k, &g);
			nsgsim_ip lo, hi;
			int plo, phi;
			nsgsim_flow flow;
			unsigned bits[] = {NSGSIM_PBIT_TCP, NSGSIM_PBIT_UDP, NSGSIM_PBIT_ICMP,
			                   NSGSIM_PBIT_ESP, NSGSIM_PBIT_AH};
			size_t b = below(r, 5);
			while (!(g.protocols & bits[b]))
				b = (b + 1) % 5;
			flow.protocol = protos[b];
			nsgsim_region_range(rs, k, NSGSIM_FIELD_SOURCES,
			                    below(r, (uint32_t)g.n_sources), &lo, &hi, NULL, NULL);
			flow.src = chance(r, 50) ? lo : hi;
			nsgsim_region_range(rs, k, NSGSIM_FIELD_DESTINATIONS,
			                    below(r, (uint32_t)g.n_destinations), &lo, &hi, NULL,
			                    NULL);
			flow.dst = chance(r, 50) ? lo : hi;
			flow.src_port = flow.dst_port = NSGSIM_PORT_ANY;
			if (g.n_destination_ports) {
				nsgsim_region_range(rs, k, NSGSIM_FIELD_SOURCE_PORTS, 0, NULL, NULL,
				                    &plo, &phi);
				flow.src_port = plo;
				nsgsim_region_range(rs, k, NSGSIM_FIELD_DESTINATION_PORTS,
				                    below(r, (uint32_t)g.n_destination_ports), NULL,
				                    NULL, &plo, &phi);
				flow.dst_port = chance(r, 50) ? plo : phi;
			}
			nsgsim_result res;
			nsgsim_error err;
			n_witness++;
			if (nsgsim_eval(p, &flow, &res, &err) != 0 || res.verdict != NSGSIM_ALLOW)
				FAIL("env %d: cell (%zu,%zu): a flow of an allowed region is not "
				     "allowed\n",
				     env, i, j);
			if (!nsgsim_matrix_cell_allows(m, i, j, flow.protocol, flow.dst_port))
				FAIL("env %d: cell (%zu,%zu) '%s' lacks protocol %d port %d of its "
				     "own region\n",
				     env, i, j, c.summary, flow.protocol, flow.dst_port);
		}
	}
}

static void check_matrix(int env, const nsgsim_policy *p, int by, rng *r, int points)
{
	nsgsim_matrix *m = NULL;
	nsgsim_error err;
	int rc = nsgsim_matrix_build(p, by, &m, &err);
	if (rc != 0) {
		FAIL("env %d: matrix by %d: %s\n", env, by, err.message);
		return;
	}
	size_t nr = nsgsim_matrix_rows(m), nc = nsgsim_matrix_columns(m);
	char *json = NULL;
	assert_int_equal(nsgsim_matrix_render(m, NSGSIM_FORMAT_JSON, &json, &err), 0);
	nsgsim_free(json);
	for (int t = 0; nr && nc && t < 12; t++) {
		size_t i = below(r, (uint32_t)nr), j = below(r, (uint32_t)nc);
		n_cells++;
		for (int k = 0; k < points; k++)
			check_point(env, p, m, r, i, j);
		check_witnesses(env, p, m, r, i, j);
	}
	nsgsim_matrix_free(m);
}

/* Every random environment, or every fifth under NSGSIM_TEST_QUICK (the
 * sanitizer and valgrind runs). */
static int env_step(void)
{
	const char *q = getenv("NSGSIM_TEST_QUICK");
	return q && *q && strcmp(q, "0") != 0 ? 5 : 1;
}

static void test_matrix_agrees_with_eval(void **state)
{
	(void)state;
	failures = 0;
	int step = env_step();
	for (int env = 0; env < 30; env += step) {
		genv g;
		genpolicy gp = genenv_compile(env, &g);
		assert_non_null(gp.p);
		for (int by = 0; by < 3; by++)
			check_matrix(env, gp.p, by, &g.r, 40);
		genpolicy_free(&gp);
	}
	printf("matrix: %ld cells, %ld points (%ld allowed, %ld in partial cells), %ld region "
	       "witnesses, %d failures\n",
	       n_cells, n_points, n_allowed, n_partial, n_witness, failures);
	assert_int_equal(failures, 0);
	assert_true(n_allowed > 100 / step && n_witness > 100 / step);
}

/* The cell as the matrix computed it with two queries per cell (before one
 * partition served both): the allowed regions of an --allowed-only reach
 * (the same as the cell's, region for region), and the partial flag from a
 * second reach on the cell's protocols.  Subnet and NIC matrices (an ASG's
 * cell is the union of its members'). */
static long n_two_query;

static bool ports_overlap(const nsgsim_matrix *m, size_t i, size_t j, const nsgsim_regions *r,
                          size_t k, const nsgsim_region *g, unsigned cell_protos)
{
	if (g->protocols & cell_protos & ~(unsigned)(NSGSIM_PBIT_TCP | NSGSIM_PBIT_UDP))
		return true;
	nsgsim_matrix_cell_info ci;
	nsgsim_matrix_cell(m, i, j, &ci);
	for (int t = 0; t < 2; t++) {
		unsigned bit = t ? NSGSIM_PBIT_UDP : NSGSIM_PBIT_TCP;
		if (!(g->protocols & cell_protos & bit))
			continue;
		for (size_t a = 0; a < g->n_destination_ports; a++) {
			int lo, hi;
			nsgsim_region_range(r, k, NSGSIM_FIELD_DESTINATION_PORTS, a, NULL, NULL,
			                    &lo, &hi);
			for (size_t b = 0; b < ci.n_ports[t]; b++) {
				int plo, phi;
				nsgsim_matrix_cell_ports(m, i, j, t == 0, b, &plo, &phi);
				if (lo <= phi && hi >= plo)
					return true;
			}
		}
	}
	return false;
}

static void check_two_queries(int env, const nsgsim_policy *p, int by)
{
	nsgsim_matrix *m = NULL;
	nsgsim_error err;
	if (nsgsim_matrix_build(p, by, &m, &err) != 0)
		return; /* check_matrix reports it */
	for (size_t i = 0; i < nsgsim_matrix_rows(m); i++)
		for (size_t j = 0; j < nsgsim_matrix_columns(m); j++) {
			nsgsim_matrix_label row, col;
			nsgsim_matrix_cell_info ci;
			nsgsim_matrix_row(m, i, &row);
			nsgsim_matrix_column(m, j, &col);
			nsgsim_matrix_cell(m, i, j, &ci);
			if (ci.n_queries != 1)
				continue; /* no flow between the families */
			nsgsim_query q = {col.id, row.id, 0, 1, 0};
			nsgsim_regions *a = NULL;
			if (nsgsim_reach(p, &q, &a, &err) != 0) {
				FAIL("env %d: reach %s -> %s: %s\n", env, row.id, col.id,
				     err.message);
				continue;
			}
			char *x = NULL, *y = NULL;
			nsgsim_regions_render(a, NSGSIM_FORMAT_JSON, &x, NULL);
			nsgsim_regions_render(nsgsim_matrix_cell_regions(m, i, j, 0),
			                      NSGSIM_FORMAT_JSON, &y, NULL);
			if (!x || !y || strcmp(x, y) != 0)
				FAIL("env %d: cell %s -> %s: regions differ from --allowed-only "
				     "reach\n",
				     env, row.id, col.id);
			nsgsim_free(x);
			nsgsim_free(y);
			nsgsim_regions_free(a);
			int partial = 0;
			if (ci.protocols) {
				nsgsim_query q2 = {col.id, row.id, ci.protocols, 0, 0};
				nsgsim_regions *r = NULL;
				assert_int_equal(nsgsim_reach(p, &q2, &r, &err), 0);
				for (size_t k = 0; k < nsgsim_regions_count(r) && !partial; k++) {
					nsgsim_region g;
					nsgsim_regions_get(r, k, &g);
					partial = g.decided.verdict != NSGSIM_ALLOW &&
					          ports_overlap(m, i, j, r, k, &g, ci.protocols);
				}
				nsgsim_regions_free(r);
			}
			if (partial != ci.partial)
				FAIL("env %d: cell %s -> %s: partial %d, the second query says "
				     "%d\n",
				     env, row.id, col.id, ci.partial, partial);
			n_two_query++;
		}
	nsgsim_matrix_free(m);
}

static void test_matrix_cells_as_two_queries(void **state)
{
	(void)state;
	failures = 0;
	int step = env_step();
	for (int env = 0; env < 30; env += step) {
		genv g;
		genpolicy gp = genenv_compile(env, &g);
		assert_non_null(gp.p);
		check_two_queries(env, gp.p, NSGSIM_MATRIX_BY_SUBNET);
		check_two_queries(env, gp.p, NSGSIM_MATRIX_BY_NIC);
		genpolicy_free(&gp);
	}
	printf("matrix: %ld cells against two queries each, %d failures\n", n_two_query, failures);
	assert_int_equal(failures, 0);
	assert_true(n_two_query > 50);
}

static void test_matrix_of_the_example(void **state)
{
	(void)state;
	failures = 0;
	nsgsim_loader *l = nsgsim_loader_new();
	nsgsim_error err;
	assert_int_equal(nsgsim_loader_add_env(l, "fixtures/example/env", &err), 0);
	assert_int_equal(
	        nsgsim_loader_add_service_tags(
	                l, "fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json", &err),
	        0);
	nsgsim_policy *p = NULL;
	assert_int_equal(nsgsim_compile(l, &p, &err), 0);
	nsgsim_loader_free(l);
	rng r = {0x3A7121Cull};
	for (int by = 0; by < 3; by++)
		check_matrix(-1, p, by, &r, 200);
	/* Documented cells: Bastion reaches the web subnet on its admin and web
	 * ports only (fixtures/example/README.md). */
	nsgsim_matrix *m = NULL;
	assert_int_equal(nsgsim_matrix_build(p, NSGSIM_MATRIX_BY_SUBNET, &m, &err), 0);
	bool seen = false;
	for (size_t i = 0; i < nsgsim_matrix_rows(m); i++)
		for (size_t j = 0; j < nsgsim_matrix_columns(m); j++) {
			nsgsim_matrix_label a, b;
			nsgsim_matrix_cell_info c;
			nsgsim_matrix_row(m, i, &a);
			nsgsim_matrix_column(m, j, &b);
			nsgsim_matrix_cell(m, i, j, &c);
			if (strcmp(a.name, "hub-vnet/AzureBastionSubnet") == 0 &&
			    strcmp(b.name, "spoke-prod-vnet/snet-web") == 0) {
				assert_string_equal(c.summary, "tcp 22,80,3389,8080-8090");
				seen = true;
			}
		}
	assert_true(seen);
	nsgsim_matrix_cell_info c;
	assert_int_equal(nsgsim_matrix_cell(m, 99, 0, &c), NSGSIM_E_INVALID_ARG);
	nsgsim_matrix_free(m);
	assert_int_equal(nsgsim_matrix_build(p, 7, &m, &err), NSGSIM_E_INVALID_ARG);
	assert_null(m);
	nsgsim_policy_free(p);
	assert_int_equal(failures, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_matrix_agrees_with_eval),
	        cmocka_unit_test(test_matrix_of_the_example),
	        cmocka_unit_test(test_matrix_cells_as_two_queries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
