/* nsgsim_matrix: the segmentation matrix.  Rows are sources, columns
 * destinations (subnets, NICs or ASGs; the external sources Internet and
 * AzureLoadBalancer as rows too); each cell is what nsgsim_reach allows
 * from the row to the column, folded to protocols and destination ports,
 * with the allowed regions kept for their deciding rules.  An ASG's cell
 * is the union of its member NICs' cells (reach takes no ASG as a target).
 * Computes through the public reach API and formats; prints nothing.
 *
 * May touch: lib/base, the compiled policy, the query resolver and the
 * regions (eval/query.h, eval/region.h). */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "eval/query.h"
#include "eval/region.h"
#include "report/report.h"

/* A row or column: what it is called and what reach is asked about it. */
typedef struct ment {
	nsgsim_matrix_label label;
	const char *query;    /* the id or tag reach resolves */
	unsigned fams;        /* bit 0: IPv4 addresses, bit 1: IPv6 */
	const char **members; /* ASG: the queries (NIC ids) of its member NICs */
	unsigned *member_fams;
	size_t n_members;
} ment;

typedef struct pvec {
	int *v; /* lo, hi pairs */
	size_t n, cap;
} pvec;

typedef struct mcell {
	nsgsim_regions **regs;
	size_t n_regs;
	size_t n_regions;
	unsigned protocols;
	pvec ports[2]; /* TCP, UDP: merged ranges */
	bool partial;  /* some flow on an allowed protocol and port is denied */
	char *summary;
	ns_piece *rest; /* while the cell is filled: the flows its queries do not allow */
	size_t n_rest;
} mcell;

struct nsgsim_matrix {
	ns_arena arena;
	int by;
	ment *rows, *cols;
	size_t n_rows, n_cols;
	mcell *cells; /* row-major */
	size_t total_regions;
	uint64_t limit;
};

static int nomem(nsgsim_error *err)
{
	return ns_fail(err, NSGSIM_E_NOMEM, "", "", "", "out of memory");
}

static const char *leaf_of(const char *id)
{
	const char *s = id ? strrchr(id, '/') : NULL;
	return s ? s + 1 : id ? id : "";
}

/* The address families a query text names (0: none, or not resolvable). */
static unsigned fams_of(const nsgsim_policy *p, const char *text)
{
	ns_arena ar = {0};
	ns_addrs a;
	nsgsim_error e;
	unsigned f = 0;
	if (ns_query_addrs(p, text, "matrix", &ar, &a, &e) == 0)
		f = (a.fam[0].n ? 1u : 0u) | (a.fam[1].n ? 2u : 0u);
	ns_arena_free(&ar);
	return f;
}

static bool nic_has_asg(const ns_nic *n, const char *asg_id)
{
	for (size_t c = 0; c < n->n_ipconfigs; c++)
		for (size_t k = 0; k < n->ipconfigs[c].n_asgs; k++)
			if (ns_ieq(n->ipconfigs[c].asg_ids[k], asg_id))
				return true;
	return false;
}

static bool nic_has_ip(const ns_nic *n)
{
	for (size_t c = 0; c < n->n_ipconfigs; c++)
		if (n->ipconfigs[c].has_ip)
			return true;
	return false;
}

static int asg_members(const nsgsim_policy *p, nsgsim_matrix *m, ment *e, const char *asg_id)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_nics; i++)
		n += nic_has_asg(p->nics[i].n, asg_id) && nic_has_ip(p->nics[i].n);
	e->members = ns_arena_alloc(&m->arena, (n + 1) * sizeof *e->members);
	e->member_fams = ns_arena_alloc(&m->arena, (n + 1) * sizeof *e->member_fams);
	if (!e->members || !e->member_fams)
		return -1;
	for (size_t i = 0; i < p->n_nics; i++) {
		const ns_nic *nic = p->nics[i].n;
		if (!nic_has_asg(nic, asg_id) || !nic_has_ip(nic))
			continue;
		e->members[e->n_members] = nic->id;
		e->member_fams[e->n_members] = fams_of(p, nic->id);
		e->fams |= e->member_fams[e->n_members++];
	}
	return 0;
}

/* The policy's entities of one kind, in input order. */
static int entities(const nsgsim_policy *p, nsgsim_matrix *m, ment **out, size_t *n, size_t extra)
{
	size_t cap = (m->by == NSGSIM_MATRIX_BY_SUBNET ? p->n_subnets
	              : m->by == NSGSIM_MATRIX_BY_NIC  ? p->n_nics
	                                               : p->n_asgs) +
	             extra;
	ment *v = ns_arena_alloc(&m->arena, (cap + 1) * sizeof *v);
	if (!v)
		return -1;
	*n = 0;
	if (m->by == NSGSIM_MATRIX_BY_SUBNET) {
		for (size_t i = 0; i < p->n_subnets; i++) {
			const ns_subnet *s = p->subnets[i].s;
			ment *e = &v[(*n)++];
			e->label.name = ns_arena_printf(&m->arena, "%s/%s", leaf_of(s->vnet_id),
			                                s->name ? s->name : leaf_of(s->id));
			e->label.id = s->id;
			e->label.kind = NSGSIM_RESOURCE_SUBNET;
			e->query = s->id;
			e->fams = fams_of(p, s->id);
			if (!e->label.name)
				return -1;
		}
	} else if (m->by == NSGSIM_MATRIX_BY_NIC) {
		for (size_t i = 0; i < p->n_nics; i++) {
			const ns_nic *nic = p->nics[i].n;
			if (!nic_has_ip(nic))
				continue; /* reach needs an address to ask about */
			ment *e = &v[(*n)++];
			e->label = (nsgsim_matrix_label){nic->name ? nic->name : leaf_of(nic->id),
			                                 nic->id, NSGSIM_RESOURCE_NIC};
			e->query = nic->id;
			e->fams = fams_of(p, nic->id);
		}
	} else {
		for (size_t i = 0; i < p->n_asgs; i++) {
			const ns_asg *a = p->asgs[i].a;
			ment *e = &v[(*n)++];
			e->label = (nsgsim_matrix_label){a->name ? a->name : leaf_of(a->id), a->id,
			                                 NSGSIM_RESOURCE_ASG};
			if (asg_members(p, m, e, a->id) != 0)
				return -1;
		}
	}
	*out = v;
	return 0;
}

/* ---- cells ------------------------------------------------------------------------ */

static int pvec_add(pvec *pv, int lo, int hi)
{
	if (pv->n == pv->cap) {
		size_t cap = pv->cap ? 2 * pv->cap : 8;
		int *v = realloc(pv->v, 2 * cap * sizeof *v);
		if (!v)
			return -1;
		pv->v = v;
		pv->cap = cap;
	}
	pv->v[2 * pv->n] = lo;
	pv->v[2 * pv->n + 1] = hi;
	pv->n++;
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const int *x = a, *y = b;
	return x[0] != y[0] ? (x[0] > y[0]) - (x[0] < y[0]) : (x[1] > y[1]) - (x[1] < y[1]);
}

static void pvec_merge(pvec *pv)
{
	if (pv->n < 2)
		return;
	qsort(pv->v, pv->n, 2 * sizeof *pv->v, cmp_range);
	size_t k = 0;
	for (size_t i = 1; i < pv->n; i++) {
		if (pv->v[2 * i] <= pv->v[2 * k + 1] + 1) {
			if (pv->v[2 * i + 1] > pv->v[2 * k + 1])
				pv->v[2 * k + 1] = pv->v[2 * i + 1];
		} else {
			k++;
			pv->v[2 * k] = pv->v[2 * i];
			pv->v[2 * k + 1] = pv->v[2 * i + 1];
		}
	}
	pv->n = k + 1;
}

static bool pvec_full(const pvec *pv)
{
	return pv->n == 1 && pv->v[0] == 0 && pv->v[1] == 65535;
}

/* One reach query into the cell. */
static int ask(const nsgsim_policy *p, nsgsim_matrix *m, mcell *c, const char *from,
               unsigned from_fams, const char *to, unsigned to_fams, nsgsim_error *err)
{
	if (!(from_fams & to_fams))
		return 0; /* no flow between them: nothing to ask */
	nsgsim_query q = {to, from, 0, 1, 0};
	nsgsim_regions *r = NULL;
	ns_piece *rest = NULL;
	size_t n_rest = 0;
	int rc = ns_reach_and_rest(p, &q, &r, &rest, &n_rest, err);
	if (rc != 0)
		return rc;
	/* The flows not allowed, for the cell's partial flag: one partition
	 * answers both (a second query per cell asked the same flows again). */
	ns_piece *all = n_rest ? realloc(c->rest, (c->n_rest + n_rest) * sizeof *all) : c->rest;
	if (n_rest && !all) {
		free(rest);
		nsgsim_regions_free(r);
		return nomem(err);
	}
	if (n_rest)
		memcpy(all + c->n_rest, rest, n_rest * sizeof *all);
	c->rest = all;
	c->n_rest += n_rest;
	free(rest);
	nsgsim_regions **regs = realloc(c->regs, (c->n_regs + 1) * sizeof *regs);
	if (!regs) {
		nsgsim_regions_free(r);
		return nomem(err);
	}
	c->regs = regs;
	c->regs[c->n_regs++] = r;
	c->n_regions += r->n;
	m->total_regions += r->n;
	if (m->total_regions > m->limit)
		return ns_fail(err, NSGSIM_E_LIMIT, "", "", "",
		               "the matrix needs more than %llu regions "
		               "(NSGSIM_LIMIT_QUERY_REGIONS); try --by subnet",
		               (unsigned long long)m->limit);
	for (size_t i = 0; i < r->n; i++) {
		const ns_piece *pc = &r->pieces[i];
		c->protocols |= pc->box.protos;
		for (int t = 0; t < 2; t++) {
			if (!(pc->box.protos & NS_PBIT(t ? NS_PSLOT_UDP : NS_PSLOT_TCP)))
				continue;
			for (size_t k = 0; k < pc->box.dport.n; k++)
				if (pvec_add(&c->ports[t], (int)pc->box.dport.v[k].lo,
				             (int)pc->box.dport.v[k].hi) != 0)
					return nomem(err);
		}
	}
	return 0;
}

/* Whether a denied region's flows are on a protocol and port the cell allows. */
static bool overlaps(const mcell *c, const ns_piece *pc)
{
	if (pc->box.protos & c->protocols & ~(unsigned)NS_PBITS_PORTED)
		return true;
	for (int t = 0; t < 2; t++) {
		if (!(pc->box.protos & c->protocols & NS_PBIT(t ? NS_PSLOT_UDP : NS_PSLOT_TCP)))
			continue;
		const pvec *pv = &c->ports[t];
		for (size_t k = 0; k < pc->box.dport.n; k++)
			for (size_t r = 0; r < pv->n; r++)
				if ((int)pc->box.dport.v[k].lo <= pv->v[2 * r + 1] &&
				    (int)pc->box.dport.v[k].hi >= pv->v[2 * r])
					return true;
	}
	return false;
}

/* Whether some flow of the cell's queries on an allowed protocol and port
 * of the cell is not allowed: the pieces its queries left out, read and
 * dropped (their lists live in the cell's regions). */
static void find_partial(mcell *c)
{
	for (size_t i = 0; c->protocols && i < c->n_rest && !c->partial; i++)
		c->partial = overlaps(c, &c->rest[i]);
	free(c->rest);
	c->rest = NULL;
	c->n_rest = 0;
}

static const struct {
	unsigned bit;
	const char *name;
} proto_names[] = {{NSGSIM_PBIT_TCP, "tcp"},
                   {NSGSIM_PBIT_UDP, "udp"},
                   {NSGSIM_PBIT_ICMP, "icmp"},
                   {NSGSIM_PBIT_ESP, "esp"},
                   {NSGSIM_PBIT_AH, "ah"}};

static void put_ports(ns_buf *b, const pvec *pv, const char *sep)
{
	for (size_t k = 0; k < pv->n; k++) {
		ns_buf_puts(b, k ? sep : "");
		if (pv->v[2 * k] == pv->v[2 * k + 1])
			ns_buf_printf(b, "%d", pv->v[2 * k]);
		else
			ns_buf_printf(b, "%d-%d", pv->v[2 * k], pv->v[2 * k + 1]);
	}
}

/* "tcp 22,443; udp 53", "tcp *", "icmp", "all" or "". */
static int summarize(nsgsim_matrix *m, mcell *c)
{
	ns_buf b;
	ns_buf_init(&b);
	ns_buf_puts(&b, "");
	if (c->protocols == NSGSIM_PBITS_ALL && pvec_full(&c->ports[0]) &&
	    pvec_full(&c->ports[1])) {
		ns_buf_puts(&b, "all");
	} else {
		bool first = true;
		for (size_t i = 0; i < NS_ARRAY_LEN(proto_names); i++) {
			if (!(c->protocols & proto_names[i].bit))
				continue;
			ns_buf_printf(&b, "%s%s", first ? "" : "; ", proto_names[i].name);
			first = false;
			if (i < 2) {
				ns_buf_puts(&b, " ");
				if (pvec_full(&c->ports[i]))
					ns_buf_puts(&b, "*");
				else
					put_ports(&b, &c->ports[i], ",");
			}
		}
	}
	c->summary = b.failed ? NULL : ns_arena_strdup(&m->arena, b.data ? b.data : "");
	ns_buf_free(&b);
	return c->summary ? 0 : -1;
}

static int fill_cell(const nsgsim_policy *p, nsgsim_matrix *m, const ment *r, const ment *col,
                     mcell *c, nsgsim_error *err)
{
	int rc = 0;
	size_t nr = r->members ? r->n_members : 1, nc = col->members ? col->n_members : 1;
	for (size_t a = 0; a < nr && rc == 0; a++)
		for (size_t b = 0; b < nc && rc == 0; b++)
			rc = ask(p, m, c, r->members ? r->members[a] : r->query,
			         r->members ? r->member_fams[a] : r->fams,
			         col->members ? col->members[b] : col->query,
			         col->members ? col->member_fams[b] : col->fams, err);
	if (rc != 0)
		return rc;
	pvec_merge(&c->ports[0]);
	pvec_merge(&c->ports[1]);
	find_partial(c);
	return summarize(m, c) == 0 ? 0 : nomem(err);
}

NSGSIM_EXPORT void nsgsim_matrix_free(nsgsim_matrix *m)
{
	if (!m)
		return;
	for (size_t i = 0; m->cells && i < m->n_rows * m->n_cols; i++) {
		mcell *c = &m->cells[i];
		for (size_t k = 0; k < c->n_regs; k++)
			nsgsim_regions_free(c->regs[k]);
		free(c->regs);
		free(c->rest);
		free(c->ports[0].v);
		free(c->ports[1].v);
	}
	free(m->cells);
	ns_arena_free(&m->arena);
	free(m);
}

/* The external sources every matrix has as rows. */
static const char *const external_rows[] = {"Internet", "AzureLoadBalancer"};

NSGSIM_EXPORT int nsgsim_matrix_build(const nsgsim_policy *p, int by, nsgsim_matrix **out,
                                      nsgsim_error *err)
{
	if (!p || !out)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "",
		               "policy and out are required");
	*out = NULL;
	if (by != NSGSIM_MATRIX_BY_SUBNET && by != NSGSIM_MATRIX_BY_NIC &&
	    by != NSGSIM_MATRIX_BY_ASG)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "",
		               "by: NSGSIM_MATRIX_BY_SUBNET, _NIC or _ASG");
	int rc0 = ns_check_whole(p, "the matrix", err);
	if (rc0 != 0)
		return rc0;
	nsgsim_matrix *m = calloc(1, sizeof *m);
	if (!m)
		return nomem(err);
	m->by = by;
	m->limit = p->m.limits[NSGSIM_LIMIT_QUERY_REGIONS];
	size_t n_ext = NS_ARRAY_LEN(external_rows);
	if (entities(p, m, &m->rows, &m->n_rows, n_ext) != 0) {
		nsgsim_matrix_free(m);
		return nomem(err);
	}
	m->cols = m->rows;
	m->n_cols = m->n_rows;
	/* The rows are the columns and then the external sources. */
	for (size_t k = 0; k < n_ext; k++) {
		ment *e = &m->rows[m->n_rows++];
		e->label = (nsgsim_matrix_label){external_rows[k], external_rows[k], 0};
		e->query = external_rows[k];
		e->fams = fams_of(p, external_rows[k]);
	}
	m->cells = calloc(m->n_rows * m->n_cols + 1, sizeof *m->cells);
	if (!m->cells) {
		nsgsim_matrix_free(m);
		return nomem(err);
	}
	int rc = 0;
	for (size_t i = 0; i < m->n_rows && rc == 0; i++)
		for (size_t j = 0; j < m->n_cols && rc == 0; j++)
			rc = fill_cell(p, m, &m->rows[i], &m->cols[j], &m->cells[i * m->n_cols + j],
			               err);
	if (rc != 0) {
		nsgsim_matrix_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

/* ---- accessors ---------------------------------------------------------------------- */

NSGSIM_EXPORT size_t nsgsim_matrix_rows(const nsgsim_matrix *m)
{
	return m ? m->n_rows : 0;
}

NSGSIM_EXPORT size_t nsgsim_matrix_columns(const nsgsim_matrix *m)
{
	return m ? m->n_cols : 0;
}

NSGSIM_EXPORT int nsgsim_matrix_row(const nsgsim_matrix *m, size_t i, nsgsim_matrix_label *out)
{
	if (!m || !out || i >= m->n_rows)
		return NSGSIM_E_INVALID_ARG;
	*out = m->rows[i].label;
	return 0;
}

NSGSIM_EXPORT int nsgsim_matrix_column(const nsgsim_matrix *m, size_t j, nsgsim_matrix_label *out)
{
	if (!m || !out || j >= m->n_cols)
		return NSGSIM_E_INVALID_ARG;
	*out = m->cols[j].label;
	return 0;
}

static const mcell *cell_at(const nsgsim_matrix *m, size_t i, size_t j)
{
	return m && i < m->n_rows && j < m->n_cols ? &m->cells[i * m->n_cols + j] : NULL;
}

NSGSIM_EXPORT int nsgsim_matrix_cell(const nsgsim_matrix *m, size_t i, size_t j,
                                     nsgsim_matrix_cell_info *out)
{
	const mcell *c = cell_at(m, i, j);
	if (!c || !out)
		return NSGSIM_E_INVALID_ARG;
	*out = (nsgsim_matrix_cell_info){c->protocols, {c->ports[0].n, c->ports[1].n},
	                                 c->n_regions, c->n_regs,
	                                 c->partial,   c->summary};
	return 0;
}

NSGSIM_EXPORT int nsgsim_matrix_cell_ports(const nsgsim_matrix *m, size_t i, size_t j, int tcp,
                                           size_t k, int *lo, int *hi)
{
	const mcell *c = cell_at(m, i, j);
	const pvec *pv = c ? &c->ports[tcp ? 0 : 1] : NULL;
	if (!pv || k >= pv->n)
		return NSGSIM_E_INVALID_ARG;
	if (lo)
		*lo = pv->v[2 * k];
	if (hi)
		*hi = pv->v[2 * k + 1];
	return 0;
}

NSGSIM_EXPORT int nsgsim_matrix_cell_allows(const nsgsim_matrix *m, size_t i, size_t j,
                                            int protocol, int port)
{
	const mcell *c = cell_at(m, i, j);
	if (!c)
		return 0;
	unsigned bit = protocol == NSGSIM_PROTO_TCP    ? NSGSIM_PBIT_TCP
	               : protocol == NSGSIM_PROTO_UDP  ? NSGSIM_PBIT_UDP
	               : protocol == NSGSIM_PROTO_ICMP ? NSGSIM_PBIT_ICMP
	               : protocol == NSGSIM_PROTO_ESP  ? NSGSIM_PBIT_ESP
	               : protocol == NSGSIM_PROTO_AH   ? NSGSIM_PBIT_AH
	                                               : 0;
	if (!(c->protocols & bit))
		return 0;
	if (bit != NSGSIM_PBIT_TCP && bit != NSGSIM_PBIT_UDP)
		return 1;
	const pvec *pv = &c->ports[bit == NSGSIM_PBIT_TCP ? 0 : 1];
	for (size_t k = 0; k < pv->n; k++)
		if (port >= pv->v[2 * k] && port <= pv->v[2 * k + 1])
			return 1;
	return 0;
}

NSGSIM_EXPORT const nsgsim_regions *nsgsim_matrix_cell_regions(const nsgsim_matrix *m, size_t i,
                                                               size_t j, size_t r)
{
	const mcell *c = cell_at(m, i, j);
	return c && r < c->n_regs ? c->regs[r] : NULL;
}

/* ---- rendering ------------------------------------------------------------------------ */

static const char *by_name(int by)
{
	return by == NSGSIM_MATRIX_BY_NIC ? "nic" : by == NSGSIM_MATRIX_BY_ASG ? "asg" : "subnet";
}

/* The largest k such that the block of 2^k keys at lo is aligned and ends
 * by hi (as lib/report/regions.c). */
static int block_bits(ns_u128 lo, ns_u128 hi, int bits)
{
	int k = 0;
	while (k < bits && ((lo >> k) & 1) == 0) {
		if (k + 1 == 128)
			return lo == 0 && hi == ~(ns_u128)0 ? 128 : k;
		ns_u128 last = lo + (((ns_u128)1 << (k + 1)) - 1);
		if (last > hi)
			break;
		k++;
	}
	return k;
}

static void j_cidrs(ns_buf *b, int family, ns_ilist l)
{
	int bits = family == 4 ? 32 : 128;
	bool first = true;
	for (size_t i = 0; i < l.n; i++) {
		ns_u128 lo = l.v[i].lo, hi = l.v[i].hi;
		for (;;) {
			int k = block_bits(lo, hi, bits);
			char text[64];
			ns_format_prefix(text, sizeof text, family, lo, bits - k);
			ns_buf_puts(b, first ? "" : ", ");
			ns_buf_json_string(b, text);
			first = false;
			ns_u128 last = k == 128 ? ~(ns_u128)0 : lo + (((ns_u128)1 << k) - 1);
			if (last >= hi)
				break;
			lo = last + 1;
		}
	}
}

static void j_ports(ns_buf *b, ns_ilist l)
{
	for (size_t i = 0; i < l.n; i++) {
		ns_buf_puts(b, i ? ", " : "");
		if (l.v[i].lo == l.v[i].hi)
			ns_buf_printf(b, "\"%u\"", (unsigned)l.v[i].lo);
		else
			ns_buf_printf(b, "\"%u-%u\"", (unsigned)l.v[i].lo, (unsigned)l.v[i].hi);
	}
}

static void j_label(ns_buf *b, const nsgsim_matrix_label *l)
{
	static const char *const kinds[] = {"tag", "nic", "subnet", "nsg", "asg", "manager"};
	ns_buf_puts(b, "{\"name\": ");
	ns_buf_json_string(b, l->name);
	ns_buf_puts(b, ", \"id\": ");
	ns_buf_json_string(b, l->id);
	ns_buf_puts(b, ", \"kind\": ");
	ns_buf_json_string(b, kinds[l->kind >= 0 && l->kind <= 5 ? l->kind : 0]);
	ns_buf_puts(b, "}");
}

static void j_region(ns_buf *b, const ns_piece *pc)
{
	ns_buf_puts(b, "{\"protocols\": [");
	bool first = true;
	for (size_t i = 0; i < NS_ARRAY_LEN(proto_names); i++)
		if (pc->box.protos & proto_names[i].bit) {
			ns_buf_printf(b, "%s\"%s\"", first ? "" : ", ", proto_names[i].name);
			first = false;
		}
	ns_buf_puts(b, "], \"sources\": [");
	j_cidrs(b, pc->family, pc->box.src);
	ns_buf_puts(b, "], \"sourcePorts\": [");
	j_ports(b, pc->box.sport);
	ns_buf_puts(b, "], \"destinations\": [");
	j_cidrs(b, pc->family, pc->box.dst);
	ns_buf_puts(b, "], \"destinationPorts\": [");
	j_ports(b, pc->box.dport);
	const ns_rout *o = &pc->out[0];
	ns_buf_puts(b, "], \"decidedBy\": {\"layer\": ");
	ns_buf_json_string(b, nsgsim_layer_name(o->layer));
	ns_buf_puts(b, ", \"rule\": ");
	ns_buf_json_string(b, o->rule ? o->rule->r->name : NULL);
	ns_buf_puts(b, ", \"ruleId\": ");
	ns_buf_json_string(b, o->rule ? o->rule->r->id : NULL);
	ns_buf_puts(b, ", \"resource\": ");
	ns_buf_json_string(b, o->resource);
	ns_buf_puts(b, ", \"endpoint\": ");
	ns_buf_json_string(b, o->endpoint == NSGSIM_ENDPOINT_SOURCE        ? "source"
	                      : o->endpoint == NSGSIM_ENDPOINT_DESTINATION ? "destination"
	                                                                   : NULL);
	ns_buf_puts(b, "}}");
}

static void j_cell(ns_buf *b, const nsgsim_matrix *m, size_t i, size_t j)
{
	const mcell *c = cell_at(m, i, j);
	ns_buf_puts(b, "  {\"from\": ");
	ns_buf_json_string(b, m->rows[i].label.name);
	ns_buf_puts(b, ", \"to\": ");
	ns_buf_json_string(b, m->cols[j].label.name);
	ns_buf_puts(b, ", \"allowed\": [");
	bool first = true;
	for (size_t k = 0; k < NS_ARRAY_LEN(proto_names); k++) {
		if (!(c->protocols & proto_names[k].bit))
			continue;
		ns_buf_printf(b, "%s{\"protocol\": \"%s\", \"ports\": [", first ? "" : ", ",
		              proto_names[k].name);
		first = false;
		if (k < 2) {
			ns_buf_puts(b, "\"");
			put_ports(b, &c->ports[k], "\", \"");
			ns_buf_puts(b, "\"");
		}
		ns_buf_puts(b, "]}");
	}
	ns_buf_puts(b, "], \"summary\": ");
	ns_buf_json_string(b, c->summary);
	ns_buf_printf(b, ", \"partial\": %s", c->partial ? "true" : "false");
	ns_buf_puts(b, ",\n   \"regions\": [");
	size_t n = 0;
	for (size_t q = 0; q < c->n_regs; q++)
		for (size_t k = 0; k < c->regs[q]->n; k++) {
			ns_buf_puts(b, n++ ? ",\n    " : "\n    ");
			j_region(b, &c->regs[q]->pieces[k]);
		}
	ns_buf_puts(b, n ? "]}" : "]}");
}

static void render_json(ns_buf *b, const nsgsim_matrix *m)
{
	ns_buf_printf(b, "{\"by\": \"%s\",\n \"rows\": [", by_name(m->by));
	for (size_t i = 0; i < m->n_rows; i++) {
		ns_buf_puts(b, i ? ",\n  " : "\n  ");
		j_label(b, &m->rows[i].label);
	}
	ns_buf_puts(b, "],\n \"columns\": [");
	for (size_t j = 0; j < m->n_cols; j++) {
		ns_buf_puts(b, j ? ",\n  " : "\n  ");
		j_label(b, &m->cols[j].label);
	}
	ns_buf_puts(b, "],\n \"cells\": [");
	for (size_t i = 0; i < m->n_rows; i++)
		for (size_t j = 0; j < m->n_cols; j++) {
			ns_buf_puts(b, i || j ? ",\n" : "\n");
			j_cell(b, m, i, j);
		}
	ns_buf_puts(b, "]}\n");
}

static size_t width_of(const char *s)
{
	size_t n = 0; /* UTF-8: count the first byte of each character */
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static void pad(ns_buf *b, const char *s, size_t w)
{
	ns_buf_puts(b, s);
	for (size_t k = width_of(s); k < w; k++)
		ns_buf_puts(b, " ");
}

/* An aligned table: a header of the columns, one line a row, "-" for a
 * cell that allows nothing. */
static void render_text(ns_buf *b, const nsgsim_matrix *m)
{
	size_t *w = calloc(m->n_cols + 1, sizeof *w);
	if (!w) {
		b->failed = true;
		return;
	}
	const char *corner = "from \\ to";
	w[m->n_cols] = width_of(corner);
	for (size_t i = 0; i < m->n_rows; i++)
		if (width_of(m->rows[i].label.name) > w[m->n_cols])
			w[m->n_cols] = width_of(m->rows[i].label.name);
	for (size_t j = 0; j < m->n_cols; j++) {
		w[j] = width_of(m->cols[j].label.name);
		for (size_t i = 0; i < m->n_rows; i++) {
			const mcell *c = cell_at(m, i, j);
			size_t k = c->summary[0] ? width_of(c->summary) + c->partial : 1;
			if (k > w[j])
				w[j] = k;
		}
	}
	ns_arena ar = {0};
	bool any_partial = false;
	ns_buf_printf(b, "segmentation matrix by %s: %zu sources x %zu destinations\n",
	              by_name(m->by), m->n_rows, m->n_cols);
	pad(b, corner, w[m->n_cols]);
	for (size_t j = 0; j < m->n_cols; j++) {
		ns_buf_puts(b, "  ");
		pad(b, m->cols[j].label.name, j + 1 < m->n_cols ? w[j] : 0);
	}
	ns_buf_puts(b, "\n");
	for (size_t i = 0; i < m->n_rows; i++) {
		pad(b, m->rows[i].label.name, w[m->n_cols]);
		for (size_t j = 0; j < m->n_cols; j++) {
			const mcell *c = cell_at(m, i, j);
			char *s = c->summary[0] ? ns_arena_printf(&ar, "%s%s", c->summary,
			                                          c->partial ? "*" : "")
			                        : "-";
			ns_buf_puts(b, "  ");
			pad(b, s ? s : "?", j + 1 < m->n_cols ? w[j] : 0);
			any_partial |= c->partial;
		}
		ns_buf_puts(b, "\n");
	}
	if (any_partial)
		ns_buf_puts(b, "* allowed for some sources or destinations only: other flows on "
		               "these ports are denied\n");
	ns_arena_free(&ar);
	free(w);
}

NSGSIM_EXPORT int nsgsim_matrix_render(const nsgsim_matrix *m, nsgsim_format format, char **out,
                                       nsgsim_error *err)
{
	if (!m || !out)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "",
		               "matrix and out are required");
	ns_buf b;
	ns_buf_init(&b);
	if (format == NSGSIM_FORMAT_JSON)
		render_json(&b, m);
	else
		render_text(&b, m);
	return ns_buf_take(&b, out, err, "");
}
