/* nsgsim replay: Azure's flow logs against the model.
 *
 *     nsgsim replay --env PATH... [--service-tags FILE] [--after PATH...]
 *                   [--json] [--junit FILE] LOG...
 *
 * Every tuple of the logs (nsgsim_flowlog_read) is evaluated where Azure
 * logged it, as Network Watcher's IP flow verify does (nsgsim_eval_at: the
 * NIC holding the tuple's local address -- the destination inbound, the
 * source outbound -- in the logged direction), and what nsgsim says is
 * compared with the decision and rule Azure recorded.  When the record
 * names an NSG (an NSG flow log's resourceId, a VNet flow log's aclID) the
 * comparison is with that NSG's layer of the result: a tuple appears once
 * under each NSG that saw it, each with its own rule.  Otherwise (an admin
 * rule's configuration GUID) it is with the deciding rule.
 *
 * Exit status: 1 when a tuple disagrees, 0 otherwise, 2 an error. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "nsgsim.h"

enum { C_AGREE, C_DIS_DECISION, C_DIS_RULE, C_NM_PLATFORM, C_NM_NO_BEGIN, C_NM_ENDPOINT, C_COUNT };
static const char *const class_key[C_COUNT] = {"agree",    "decision", "rule",
                                               "platform", "no-begin", "endpoint"};
static const char *const class_text[C_COUNT] = {
        "agree",
        "disagree: decision",
        "disagree: rule",
        "not modelled: platform traffic (PlatformRule)",
        "not modelled: continuing/ending record of a session whose begin is not in the log",
        "not modelled: endpoint not in the environment",
};

/* ---- interned strings (few distinct ones: rule names, NSG ids) ----------------------------- */

typedef struct strset {
	char **v;
	size_t n, cap;
} strset;

static const char *intern(strset *s, const char *text)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], text) == 0)
			return s->v[i];
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		char **v = realloc(s->v, cap * sizeof *v);
		if (!v)
			return NULL;
		s->v = v;
		s->cap = cap;
	}
	char *copy = strdup(text);
	if (!copy)
		return NULL;
	s->v[s->n++] = copy;
	return copy;
}

static void strset_free(strset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
}

/* ---- hash sets of 64-bit keys (sessions) and maps (endpoints) ----------------------------------
 */

typedef struct hmap {
	uint64_t *keys; /* 0: empty */
	const void **vals;
	size_t cap, n;
} hmap;

static uint64_t mix(uint64_t x)
{
	x += 0x9E3779B97F4A7C15ull;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)(*s | 0x20)) * 1099511628211ull;
	return h;
}

static uint64_t hash_ip(uint64_t h, const nsgsim_ip *ip)
{
	uint64_t a, b;
	memcpy(&a, ip->bytes, 8);
	memcpy(&b, ip->bytes + 8, 8);
	return mix(h ^ mix(a ^ (uint64_t)ip->family) ^ (b * 31));
}

/* The slot of key (found, or the empty one where it goes); -1 out of memory. */
static long hmap_slot(hmap *m, uint64_t key, bool grow)
{
	if (key == 0)
		key = 1;
	if (grow && (m->n + 1) * 2 > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 1024;
		uint64_t *keys = calloc(cap, sizeof *keys);
		const void **vals = calloc(cap, sizeof *vals);
		if (!keys || !vals) {
			free(keys);
			free(vals);
			return -1;
		}
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->keys[i])
				continue;
			size_t j = m->keys[i] & (cap - 1);
			while (keys[j])
				j = (j + 1) & (cap - 1);
			keys[j] = m->keys[i];
			vals[j] = m->vals[i];
		}
		free(m->keys);
		free(m->vals);
		m->keys = keys;
		m->vals = vals;
		m->cap = cap;
	}
	if (!m->cap)
		return -2;
	size_t j = key & (m->cap - 1);
	while (m->keys[j] && m->keys[j] != key)
		j = (j + 1) & (m->cap - 1);
	return (long)j;
}

static void hmap_free(hmap *m)
{
	free(m->keys);
	free(m->vals);
}

/* ---- groups --------------------------------------------------------------------- */

typedef struct example {
	char where[600]; /* file:pointer */
	char tuple[200];
	const char *nic;
	/* What decides the flow at this endpoint, all layers together (the NSG
	 * or network manager, and its rule): which of the NSGs that logged the
	 * tuple decided it. */
	const char *decided_by, *decided_rule;
} example;

typedef struct answer {
	int status; /* 0, or the class C_NM_ENDPOINT */
	int decision;
	const char *rule; /* interned label */
	const char *nic;
	const char *decided_by, *decided_rule; /* the whole endpoint's deciding resource, rule */
} answer;

#define ANSWER_BLOCK 4096
typedef struct answer_block {
	struct answer_block *next;
	size_t n;
	answer v[ANSWER_BLOCK];
} answer_block;

typedef struct group {
	int cls;
	const char *rec_rule, *our_rule, *acl; /* interned */
	int rec_decision, our_decision;
	size_t count;
	example ex;
} group;

typedef struct groups {
	group *v;
	size_t n, cap;
	size_t last;
} groups;

/* A rule's label by the policy's own name pointer: no formatting per tuple. */
#define LABEL_CACHE 64
typedef struct label_slot {
	const char *name;
	int kind;
	const char *label;
} label_slot;

typedef struct policy_side {
	const nsgsim_policy *p;
	hmap endpoints; /* (target, MAC, local address) -> NIC id, or "" */
	strset labels;
	label_slot cache[LABEL_CACHE];
} policy_side;

/* The progress bar (a terminal only): bytes of the files done, and of the
 * one being read, against the total. */
typedef struct progress_bar {
	unsigned long long total, done, current_size;
	char current[1024];
	int shown; /* permille last drawn */
} progress_bar;

static unsigned long long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (unsigned long long)st.st_size : 0;
}

/* Bytes of the files a LOG argument names (the reader's *.json, *.gz). */
static unsigned long long tree_size(const char *path, int depth)
{
	struct stat st;
	if (depth > 32 || stat(path, &st) != 0)
		return 0;
	if (!S_ISDIR(st.st_mode))
		return (unsigned long long)st.st_size;
	DIR *d = opendir(path);
	if (!d)
		return 0;
	unsigned long long sum = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		size_t n = strlen(e->d_name);
		char full[4096];
		if (snprintf(full, sizeof full, "%s/%s", path, e->d_name) >= (int)sizeof full)
			continue;
		if (stat(full, &st) == 0 && S_ISDIR(st.st_mode))
			sum += tree_size(full, depth + 1);
		else if ((n > 5 && strcmp(e->d_name + n - 5, ".json") == 0) ||
		         (n > 3 && strcmp(e->d_name + n - 3, ".gz") == 0))
			sum += (unsigned long long)st.st_size;
	}
	closedir(d);
	return sum;
}

static void draw_bar(progress_bar *b, size_t offset, size_t tuples, size_t disagree)
{
	unsigned long long at = b->done + (offset < b->current_size ? offset : b->current_size);
	int permille = b->total ? (int)(at * 1000 / b->total) : 0;
	if (permille > 1000)
		permille = 1000;
	char bar[41];
	int full = permille * 40 / 1000;
	for (int i = 0; i < 40; i++)
		bar[i] = i < full ? '#' : ' ';
	bar[40] = '\0';
	fprintf(stderr, "\r[%s] %3d%%  %zu tuples, %zu disagree", bar, permille / 10, tuples,
	        disagree);
	b->shown = permille;
}

typedef struct replay {
	policy_side before, after;
	bool has_after;
	strset strings;
	/* (where, acl, 5-tuple, direction) -> the answer at its B record: the C
	 * and E records of a session get it too (NSGs are stateful: a session's
	 * later packets follow its first one's verdict, docs/SEMANTICS.md §3.4),
	 * without evaluating again. */
	hmap sessions;
	answer_block *answers;
	groups g, flips;
	size_t tuples, count[C_COUNT], flipped, eval_errors;
	/* What changes only between rule groups (a group starts at tuple 0). */
	uint64_t where_hash;   /* target / acl and MAC */
	uint64_t session_salt; /* where_hash and the acl */
	const char *rec_rule, *acl;
	bool platform, acl_is_id;
	bool progress;
	progress_bar bar;
	int failed; /* out of memory */
} replay;

static const char *proto_name(int p)
{
	switch (p) {
	case NSGSIM_PROTO_TCP:
		return "tcp";
	case NSGSIM_PROTO_UDP:
		return "udp";
	case NSGSIM_PROTO_ICMP:
		return "icmp";
	case NSGSIM_PROTO_ESP:
		return "esp";
	case NSGSIM_PROTO_AH:
		return "ah";
	default:
		return "other";
	}
}

static void describe(const nsgsim_flowlog_tuple *t, const answer *a, example *ex)
{
	char ptr[200], src[64], dst[64];
	nsgsim_flowlog_pointer(t, ptr, sizeof ptr);
	snprintf(ex->where, sizeof ex->where, "%s:%s", t->file, ptr);
	format_ip(&t->flow.src, src, sizeof src);
	format_ip(&t->flow.dst, dst, sizeof dst);
	bool v6 = t->flow.src.family == 6, ports = t->flow.dst_port != NSGSIM_PORT_ANY;
	char s[80], d[80];
	if (ports) {
		snprintf(s, sizeof s, v6 ? "[%s]:%d" : "%s:%d", src, t->flow.src_port);
		snprintf(d, sizeof d, v6 ? "[%s]:%d" : "%s:%d", dst, t->flow.dst_port);
	} else {
		snprintf(s, sizeof s, "%s", src);
		snprintf(d, sizeof d, "%s", dst);
	}
	snprintf(ex->tuple, sizeof ex->tuple, "%s %s %s %s %s %c t=%lld",
	         proto_name(t->flow.protocol), s, d,
	         t->direction == NSGSIM_INBOUND ? "inbound" : "outbound",
	         t->decision == NSGSIM_ALLOW ? "Allow" : "Deny", t->state, t->time_ms);
	ex->nic = a->nic;
	ex->decided_by = a->decided_by;
	ex->decided_rule = a->decided_rule;
}

static group *find_group(groups *g, int cls, const char *rec_rule, int rec_dec,
                         const char *our_rule, int our_dec, const char *acl, bool *fresh)
{
	*fresh = false;
	if (g->n) {
		group *x = &g->v[g->last];
		if (x->cls == cls && x->rec_rule == rec_rule && x->rec_decision == rec_dec &&
		    x->our_rule == our_rule && x->our_decision == our_dec && x->acl == acl)
			return x;
	}
	for (size_t i = 0; i < g->n; i++) {
		group *x = &g->v[i];
		if (x->cls == cls && x->rec_rule == rec_rule && x->rec_decision == rec_dec &&
		    x->our_rule == our_rule && x->our_decision == our_dec && x->acl == acl) {
			g->last = i;
			return x;
		}
	}
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 16;
		group *v = realloc(g->v, cap * sizeof *v);
		if (!v)
			return NULL;
		g->v = v;
		g->cap = cap;
	}
	group *x = &g->v[g->n];
	memset(x, 0, sizeof *x);
	x->cls = cls;
	x->rec_rule = rec_rule;
	x->rec_decision = rec_dec;
	x->our_rule = our_rule;
	x->our_decision = our_dec;
	x->acl = acl;
	g->last = g->n++;
	*fresh = true;
	return x;
}

/* ---- evaluating one tuple --------------------------------------------------------- */

/* A rule as flow logs name it. */
static const char *rule_label(policy_side *s, int layer, const nsgsim_rule_ref *r)
{
	/* Admin rules and the platform's PlatformRule go without a prefix. */
	bool bare = layer == NSGSIM_LAYER_ADMIN || layer == NSGSIM_LAYER_PLATFORM;
	int kind = bare ? 2 : r->is_default ? 1 : 0;
	label_slot *slot = &s->cache[((uintptr_t)r->name >> 4) % LABEL_CACHE];
	if (slot->label && slot->name == r->name && slot->kind == kind)
		return slot->label;
	char buf[600];
	if (!r->name)
		snprintf(buf, sizeof buf, "(no rule)");
	else if (bare)
		snprintf(buf, sizeof buf, "%s", r->name);
	else
		snprintf(buf, sizeof buf, "%s_%s", r->is_default ? "DefaultRule" : "UserRule",
		         r->name);
	const char *label = intern(&s->labels, buf);
	if (label)
		*slot = (label_slot){r->name, kind, label};
	return label;
}

static const char *locate_nic(replay *rp, policy_side *s, const nsgsim_flowlog_tuple *t)
{
	const nsgsim_ip *local = t->direction == NSGSIM_INBOUND ? &t->flow.dst : &t->flow.src;
	uint64_t key = hash_ip(rp->where_hash, local);
	long j = hmap_slot(&s->endpoints, key, true);
	if (j < 0) {
		rp->failed = 1;
		return NULL;
	}
	if (s->endpoints.keys[j])
		return (const char *)s->endpoints.vals[j];
	/* The NIC holding the local address; when none does (an input without
	 * the NIC's private IP), the NIC the log names by MAC (v1/v2 flow
	 * groups), if the input gives its macAddress. */
	nsgsim_location loc;
	const char *nic = nsgsim_locate(s->p, local, &loc) == 0 && loc.nic ? loc.nic : NULL;
	if (!nic && t->mac && *t->mac)
		nic = nsgsim_nic_by_mac(s->p, t->mac);
	if (!nic)
		nic = "";
	s->endpoints.keys[j] = key ? key : 1;
	s->endpoints.vals[j] = nic;
	s->endpoints.n++;
	return nic;
}

static void evaluate(replay *rp, policy_side *s, const nsgsim_flowlog_tuple *t, answer *a)
{
	memset(a, 0, sizeof *a);
	const char *nic = locate_nic(rp, s, t);
	if (!nic || !*nic) {
		a->status = C_NM_ENDPOINT;
		return;
	}
	a->nic = nic;
	nsgsim_result res;
	nsgsim_error err;
	if (nsgsim_eval_at(s->p, &t->flow, nic, t->direction, &res, NULL) != 0) {
		(void)err;
		a->status = C_NM_ENDPOINT;
		rp->eval_errors++;
		return;
	}
	a->decided_by = res.decided_resource;
	a->decided_rule = rule_label(s, res.decided_layer, &res.decided_rule);
	/* The layer of the NSG that logged the tuple, when it is on this path. */
	if (rp->acl_is_id) {
		const nsgsim_side_result *side = &res.sides[0];
		for (int i = 0; i < side->n_layers; i++) {
			const nsgsim_layer_result *l = &side->layers[i];
			if (l->layer == NSGSIM_LAYER_ADMIN || l->layer == NSGSIM_LAYER_PLATFORM ||
			    !l->matched || !l->resource || strcasecmp(l->resource, t->acl) != 0)
				continue;
			a->decision =
			        l->rule.access == NSGSIM_ACCESS_DENY ? NSGSIM_DENY : NSGSIM_ALLOW;
			a->rule = rule_label(s, l->layer, &l->rule);
			return;
		}
	}
	a->decision = res.verdict;
	a->rule = rule_label(s, res.decided_layer, &res.decided_rule);
}

static uint64_t session_key(const replay *rp, const nsgsim_flowlog_tuple *t)
{
	uint64_t h = hash_ip(rp->session_salt, &t->flow.src);
	h = hash_ip(h, &t->flow.dst);
	return mix(h ^ ((uint64_t)t->flow.protocol << 40) ^ ((uint64_t)t->direction << 36) ^
	           ((uint64_t)(unsigned)t->flow.src_port << 16) ^
	           (uint64_t)(unsigned)t->flow.dst_port);
}

static void new_group_of_tuple(replay *rp, const nsgsim_flowlog_tuple *t)
{
	if (rp->progress && strcmp(rp->bar.current, t->file) != 0) {
		rp->bar.done += rp->bar.current_size;
		snprintf(rp->bar.current, sizeof rp->bar.current, "%s", t->file);
		rp->bar.current_size = file_size(t->file);
	}
	const char *where = t->version == 4 && t->target[0] ? t->target : t->acl;
	rp->where_hash = mix(hash_str(where) ^ mix(hash_str(t->mac)));
	rp->session_salt = mix(rp->where_hash ^ hash_str(t->acl));
	rp->rec_rule = intern(&rp->strings, t->rule);
	rp->acl = intern(&rp->strings, t->acl);
	rp->platform = strcasecmp(t->rule, "PlatformRule") == 0;
	/* An NSG id (v1/v2 resourceId, a v4 aclID of an NSG); not an admin
	 * configuration's GUID. */
	rp->acl_is_id = strchr(t->acl, '/') != NULL;
	if (!rp->rec_rule || !rp->acl)
		rp->failed = 1;
}

static void count(replay *rp, groups *g, int cls, const nsgsim_flowlog_tuple *t, const answer *a)
{
	bool fresh;
	group *x = find_group(g, cls, rp->rec_rule, t->decision, a->rule, a->decision, rp->acl,
	                      &fresh);
	if (!x) {
		rp->failed = 1;
		return;
	}
	if (fresh)
		describe(t, a, &x->ex);
	x->count++;
}

static answer *keep_answer(replay *rp, const answer *a)
{
	if (!rp->answers || rp->answers->n == ANSWER_BLOCK) {
		answer_block *b = malloc(sizeof *b);
		if (!b)
			return NULL;
		b->next = rp->answers;
		b->n = 0;
		rp->answers = b;
	}
	answer *kept = &rp->answers->v[rp->answers->n++];
	*kept = *a;
	return kept;
}

static int on_tuple(void *ctx, const nsgsim_flowlog_tuple *t)
{
	replay *rp = ctx;
	if (t->index == 0 || !rp->rec_rule)
		new_group_of_tuple(rp, t);
	if (rp->failed)
		return NSGSIM_E_NOMEM;
	rp->tuples++;
	if (rp->progress && (rp->tuples & 0xFFFF) == 0)
		draw_bar(&rp->bar, t->offset, rp->tuples,
		         rp->count[C_DIS_DECISION] + rp->count[C_DIS_RULE]);
	int cls;
	answer a = {0};
	if (rp->platform) {
		/* The platform's own decisions: agree where the model's platform
		 * layer (the host services it knows, SEMANTICS.md §3.7) decides
		 * the same, else not modelled.  Each record is evaluated: the
		 * platform layer holds no state. */
		evaluate(rp, &rp->before, t, &a);
		cls = a.status == 0 && a.decision == t->decision && a.rule &&
		                      strcasecmp(a.rule, rp->rec_rule) == 0
		              ? C_AGREE
		              : C_NM_PLATFORM;
	} else {
		uint64_t key = session_key(rp, t);
		long j = hmap_slot(&rp->sessions, key, t->state == 'B');
		if (j == -1)
			return NSGSIM_E_NOMEM;
		const answer *known = j >= 0 && rp->sessions.keys[j] ? rp->sessions.vals[j] : NULL;
		if (known) {
			a = *known;
		} else if (t->state == 'B') {
			evaluate(rp, &rp->before, t, &a);
			answer *kept = keep_answer(rp, &a);
			if (!kept)
				return NSGSIM_E_NOMEM;
			rp->sessions.keys[j] = key ? key : 1;
			rp->sessions.vals[j] = kept;
			rp->sessions.n++;
		}
		if (!known && t->state != 'B') {
			cls = C_NM_NO_BEGIN;
		} else {
			if (a.status)
				cls = a.status;
			else if (a.decision != t->decision)
				cls = C_DIS_DECISION;
			else if (strcasecmp(a.rule, rp->rec_rule) != 0)
				cls = C_DIS_RULE;
			else
				cls = C_AGREE;
		}
	}
	rp->count[cls]++;
	count(rp, &rp->g, cls, t, &a);
	if (rp->has_after && (cls == C_AGREE || cls == C_DIS_DECISION || cls == C_DIS_RULE)) {
		answer b;
		evaluate(rp, &rp->after, t, &b);
		if (b.status == 0 && b.decision != a.decision) {
			rp->flipped++;
			count(rp, &rp->flips, C_AGREE, t, &b);
		}
	}
	return rp->failed ? NSGSIM_E_NOMEM : 0;
}

/* ---- output ------------------------------------------------------------------------ */

static const char *verdict_name(int v)
{
	return v == NSGSIM_ALLOW ? "Allow" : v == NSGSIM_DENY ? "Deny" : "-";
}

/* The last segment of a resource id. */
static const char *short_name(const char *id)
{
	const char *slash = id ? strrchr(id, '/') : NULL;
	return slash ? slash + 1 : id ? id : "";
}

static int cmp_groups(const void *a, const void *b)
{
	const group *x = a, *y = b;
	if (x->cls != y->cls)
		return x->cls - y->cls;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	int c = strcmp(x->rec_rule, y->rec_rule);
	if (c)
		return c;
	c = strcmp(x->our_rule ? x->our_rule : "", y->our_rule ? y->our_rule : "");
	return c ? c : strcmp(x->acl, y->acl);
}

static void print_text(const replay *rp)
{
	size_t dis = rp->count[C_DIS_DECISION] + rp->count[C_DIS_RULE];
	size_t nm = rp->count[C_NM_PLATFORM] + rp->count[C_NM_NO_BEGIN] + rp->count[C_NM_ENDPOINT];
	printf("tuples        %zu\n", rp->tuples);
	printf("agree         %zu\n", rp->count[C_AGREE]);
	printf("disagree      %zu (decision %zu, rule %zu)\n", dis, rp->count[C_DIS_DECISION],
	       rp->count[C_DIS_RULE]);
	printf("not modelled  %zu\n", nm);
	printf("  platform traffic (PlatformRule)           %zu\n", rp->count[C_NM_PLATFORM]);
	printf("  continuing/ending, begin not in the log   %zu\n", rp->count[C_NM_NO_BEGIN]);
	printf("  endpoint not in the environment           %zu\n", rp->count[C_NM_ENDPOINT]);
	bool head = false;
	for (size_t i = 0; i < rp->g.n; i++) {
		const group *x = &rp->g.v[i];
		if (x->cls != C_DIS_DECISION && x->cls != C_DIS_RULE)
			continue;
		if (!head)
			printf("\ndisagreements (logged rule -> nsgsim's rule):\n");
		head = true;
		printf("  %s (%s) -> %s (%s): %zu tuples, logged by %s\n", x->rec_rule,
		       verdict_name(x->rec_decision), x->our_rule, verdict_name(x->our_decision),
		       x->count, short_name(x->acl));
		printf("    e.g. %s, at NIC %s\n         %s\n", x->ex.tuple, short_name(x->ex.nic),
		       x->ex.where);
		if (x->ex.decided_by && strcasecmp(x->ex.decided_by, x->acl) != 0)
			printf("    (at that NIC nsgsim's verdict is decided by %s, %s)\n",
			       short_name(x->ex.decided_by), x->ex.decided_rule);
	}
	if (rp->has_after) {
		printf("\n--after flips %zu observed tuples\n", rp->flipped);
		for (size_t i = 0; i < rp->flips.n; i++) {
			const group *x = &rp->flips.v[i];
			printf("  now %s by %s: %zu tuples (logged %s by %s)\n",
			       verdict_name(x->our_decision), x->our_rule, x->count,
			       verdict_name(x->rec_decision), x->rec_rule);
			printf("    e.g. %s, at NIC %s\n         %s\n", x->ex.tuple,
			       short_name(x->ex.nic), x->ex.where);
		}
	}
}

static void json_example(const example *ex)
{
	printf("{\"tuple\": ");
	json_string(stdout, ex->tuple);
	printf(", \"nic\": ");
	json_string(stdout, ex->nic);
	printf(", \"where\": ");
	json_string(stdout, ex->where);
	printf(", \"decided_by\": ");
	json_string(stdout, ex->decided_by);
	printf(", \"decided_rule\": ");
	json_string(stdout, ex->decided_rule);
	printf("}");
}

static void json_group(const group *x, bool flip)
{
	printf("    {");
	if (!flip) {
		const char *cls = x->cls == C_AGREE ? "agree"
		                  : x->cls == C_DIS_DECISION || x->cls == C_DIS_RULE
		                          ? "disagree"
		                          : "not-modelled";
		printf("\"class\": \"%s\", \"kind\": \"%s\", ", cls, class_key[x->cls]);
	}
	printf("\"logged_rule\": ");
	json_string(stdout, x->rec_rule);
	printf(", \"logged_decision\": \"%s\", \"nsgsim_rule\": ", verdict_name(x->rec_decision));
	json_string(stdout, x->our_rule);
	printf(", \"nsgsim_decision\": ");
	if (x->our_decision)
		printf("\"%s\"", verdict_name(x->our_decision));
	else
		printf("null");
	printf(", \"logged_by\": ");
	json_string(stdout, x->acl);
	printf(", \"count\": %zu, \"example\": ", x->count);
	json_example(&x->ex);
	printf("}");
}

static void print_json(const replay *rp)
{
	size_t dis = rp->count[C_DIS_DECISION] + rp->count[C_DIS_RULE];
	size_t nm = rp->count[C_NM_PLATFORM] + rp->count[C_NM_NO_BEGIN] + rp->count[C_NM_ENDPOINT];
	printf("{\n  \"summary\": {\"tuples\": %zu, \"agree\": %zu, \"disagree\": %zu, "
	       "\"disagree_decision\": %zu, \"disagree_rule\": %zu, \"not_modelled\": %zu, "
	       "\"not_modelled_by_reason\": {\"platform\": %zu, \"no-begin\": %zu, "
	       "\"endpoint\": %zu}},\n",
	       rp->tuples, rp->count[C_AGREE], dis, rp->count[C_DIS_DECISION],
	       rp->count[C_DIS_RULE], nm, rp->count[C_NM_PLATFORM], rp->count[C_NM_NO_BEGIN],
	       rp->count[C_NM_ENDPOINT]);
	printf("  \"groups\": [");
	for (size_t i = 0; i < rp->g.n; i++) {
		printf("%s\n", i ? "," : "");
		json_group(&rp->g.v[i], false);
	}
	printf("%s]", rp->g.n ? "\n  " : "");
	if (rp->has_after) {
		printf(",\n  \"after\": {\"flipped\": %zu, \"groups\": [", rp->flipped);
		for (size_t i = 0; i < rp->flips.n; i++) {
			printf("%s\n", i ? "," : "");
			json_group(&rp->flips.v[i], true);
		}
		printf("%s]}", rp->flips.n ? "\n  " : "");
	}
	printf("\n}\n");
}

static void xml_put(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '<')
			fputs("&lt;", f);
		else if (c == '>')
			fputs("&gt;", f);
		else if (c == '&')
			fputs("&amp;", f);
		else if (c == '"')
			fputs("&quot;", f);
		else if (c < 0x20 && c != '\n' && c != '\t')
			fputc('?', f);
		else
			fputc(c, f);
	}
}

static int write_junit(const char *path, const replay *rp)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "nsgsim: error: %s: cannot write: %s\n", path, strerror(errno));
		return -1;
	}
	size_t failures = 0, skipped = 0;
	for (size_t i = 0; i < rp->g.n; i++) {
		int c = rp->g.v[i].cls;
		failures += c == C_DIS_DECISION || c == C_DIS_RULE;
		skipped += c >= C_NM_PLATFORM;
	}
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f, "<testsuites tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\">\n", rp->g.n,
	        failures, skipped);
	fprintf(f,
	        "  <testsuite name=\"nsgsim replay\" tests=\"%zu\" failures=\"%zu\" "
	        "skipped=\"%zu\">\n",
	        rp->g.n, failures, skipped);
	for (size_t i = 0; i < rp->g.n; i++) {
		const group *x = &rp->g.v[i];
		fputs("    <testcase classname=\"", f);
		xml_put(f, short_name(x->acl));
		fputs("\" name=\"", f);
		xml_put(f, x->rec_rule);
		fprintf(f, " (%s) -> ", verdict_name(x->rec_decision));
		xml_put(f, x->our_rule ? x->our_rule : "-");
		fprintf(f, " (%s), %zu tuples\">", verdict_name(x->our_decision), x->count);
		if (x->cls == C_DIS_DECISION || x->cls == C_DIS_RULE) {
			fputs("\n      <failure message=\"", f);
			xml_put(f, class_text[x->cls]);
			fputs("\">e.g. ", f);
			xml_put(f, x->ex.tuple);
			fputs(" at ", f);
			xml_put(f, x->ex.where);
			fputs("</failure>\n    ", f);
		} else if (x->cls >= C_NM_PLATFORM) {
			fputs("<skipped message=\"", f);
			xml_put(f, class_text[x->cls]);
			fputs("\"/>", f);
		}
		fputs("</testcase>\n", f);
	}
	fputs("  </testsuite>\n</testsuites>\n", f);
	if (fclose(f) != 0) {
		fprintf(stderr, "nsgsim: error: %s: cannot write\n", path);
		return -1;
	}
	return 0;
}

/* ---- --jobs 2: the logs read on a thread of their own ----------------------------- */

/* The reader (JSON, tuple text: about half of a replay) runs on a second
 * thread and hands this one batches of tuples, copied with their strings,
 * in the order it read them; this thread runs on_tuple on each exactly as
 * the one-thread replay does, so everything printed is the same.  The
 * comparison itself keeps state across tuples (sessions, groups, the first
 * example of each), so it stays on one thread: more than two jobs give
 * nothing more. */
#define PIPE_BATCH 4096

typedef struct tuple_batch {
	nsgsim_flowlog_tuple t[PIPE_BATCH];
	size_t n;
	char *arena; /* the tuples' strings; their pointers are offsets until handed over */
	size_t used, cap;
	size_t last[5]; /* the last tuple's strings (offset + 1; 0 none), shared when equal */
	bool ends_arg;  /* the last batch of a LOG argument: its read's rc and err */
	int arg, rc;
	nsgsim_error err;
	bool ready; /* filled, for the consumer (under the pipe's mutex) */
} tuple_batch;

typedef struct replay_pipe {
	const options *o;
	nsgsim_flowlog *reader;
	tuple_batch b[2];
	int fill; /* the batch the reader fills */
	bool stop, failed;
	pthread_mutex_t mu;
	pthread_cond_t cv;
} replay_pipe;

static bool keep_string(tuple_batch *b, int k, const char **field)
{
	const char *s = *field ? *field : "";
	size_t n = strlen(s) + 1;
	if (b->last[k] && strcmp(b->arena + b->last[k] - 1, s) == 0) {
		*field = (const char *)(uintptr_t)(b->last[k] - 1);
		return true;
	}
	if (b->used + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1u << 20;
		while (cap < b->used + n)
			cap *= 2;
		char *a = realloc(b->arena, cap);
		if (!a)
			return false;
		b->arena = a;
		b->cap = cap;
	}
	memcpy(b->arena + b->used, s, n);
	*field = (const char *)(uintptr_t)b->used;
	b->last[k] = b->used + 1;
	b->used += n;
	return true;
}

/* Hands the batch being filled to the consumer and waits for the other one. */
static void pipe_hand_over(replay_pipe *q)
{
	tuple_batch *b = &q->b[q->fill];
	for (size_t i = 0; i < b->n; i++) {
		nsgsim_flowlog_tuple *t = &b->t[i];
		t->rule = b->arena + (uintptr_t)t->rule;
		t->acl = b->arena + (uintptr_t)t->acl;
		t->target = b->arena + (uintptr_t)t->target;
		t->mac = b->arena + (uintptr_t)t->mac;
		t->file = b->arena + (uintptr_t)t->file;
	}
	pthread_mutex_lock(&q->mu);
	b->ready = true;
	pthread_cond_broadcast(&q->cv);
	q->fill ^= 1;
	tuple_batch *next = &q->b[q->fill];
	while (next->ready) /* the consumer always gives batches back */
		pthread_cond_wait(&q->cv, &q->mu);
	pthread_mutex_unlock(&q->mu);
	next->n = next->used = 0;
	memset(next->last, 0, sizeof next->last);
	next->ends_arg = false;
}

static int pipe_on_tuple(void *ctx, const nsgsim_flowlog_tuple *t)
{
	replay_pipe *q = ctx;
	if (__atomic_load_n(&q->stop, __ATOMIC_ACQUIRE))
		return NSGSIM_E_NOMEM; /* the consumer failed; it reports that */
	tuple_batch *b = &q->b[q->fill];
	nsgsim_flowlog_tuple *c = &b->t[b->n];
	*c = *t;
	if (!keep_string(b, 0, &c->rule) || !keep_string(b, 1, &c->acl) ||
	    !keep_string(b, 2, &c->target) || !keep_string(b, 3, &c->mac) ||
	    !keep_string(b, 4, &c->file))
		return NSGSIM_E_NOMEM;
	if (++b->n == PIPE_BATCH)
		pipe_hand_over(q);
	return 0;
}

static void *pipe_reader(void *arg)
{
	replay_pipe *q = arg;
	for (int i = 0; i < q->o->n_args; i++) {
		tuple_batch *b = &q->b[q->fill];
		nsgsim_error err = {0};
		int rc = nsgsim_flowlog_read(q->reader, q->o->args[i], pipe_on_tuple, q, &err);
		b = &q->b[q->fill];
		b->ends_arg = true;
		b->arg = i;
		b->rc = rc;
		b->err = err;
		pipe_hand_over(q);
		if (rc != 0 || __atomic_load_n(&q->stop, __ATOMIC_ACQUIRE))
			break;
	}
	return NULL;
}

/* What the one-thread loop does after reading LOG argument i. */
static int after_read(replay *rp, const options *o, int i, int rc, const nsgsim_error *err,
                      size_t before)
{
	if (rc == 0 && rp->tuples == before && !o->quiet)
		fprintf(stderr,
		        "nsgsim: warning: %s holds no flow tuple (a PT1H.json, "
		        "*.json.gz, or a directory of them)\n",
		        o->args[i]);
	if (rc != 0) {
		if (rp->progress)
			fputs("\r\033[K", stderr);
		if (rc == NSGSIM_E_NOMEM && !err->message[0])
			fprintf(stderr, "nsgsim: error: out of memory\n");
		else
			print_error(err);
		return EXIT_USAGE;
	}
	return 0;
}

/* Reads every LOG on a second thread, comparing here; the exit status so far. */
static int replay_piped(replay *rp, const options *o, nsgsim_flowlog *reader)
{
	replay_pipe *q = calloc(1, sizeof *q);
	if (!q) {
		fprintf(stderr, "nsgsim: error: out of memory\n");
		return EXIT_USAGE;
	}
	q->o = o;
	q->reader = reader;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cv, NULL);
	pthread_t th;
	int status = 0;
	bool started = pthread_create(&th, NULL, pipe_reader, q) == 0;
	if (!started) {
		fprintf(stderr, "nsgsim: error: cannot start a thread\n");
		status = EXIT_USAGE;
	}
	size_t before = rp->tuples;
	int take = 0, failed_rc = 0;
	for (bool done = status != 0; !done;) {
		tuple_batch *b = &q->b[take];
		pthread_mutex_lock(&q->mu);
		while (!b->ready)
			pthread_cond_wait(&q->cv, &q->mu);
		pthread_mutex_unlock(&q->mu);
		for (size_t i = 0; i < b->n && !failed_rc; i++)
			failed_rc = on_tuple(rp, &b->t[i]);
		if (failed_rc) /* the reader stops at its next tuple */
			__atomic_store_n(&q->stop, true, __ATOMIC_RELEASE);
		if (b->ends_arg) {
			nsgsim_error none = {0};
			status = failed_rc ? after_read(rp, o, b->arg, failed_rc, &none, before)
			                   : after_read(rp, o, b->arg, b->rc, &b->err, before);
			before = rp->tuples;
			done = status != 0 || b->arg == o->n_args - 1;
		}
		pthread_mutex_lock(&q->mu);
		b->ready = false;
		pthread_cond_broadcast(&q->cv);
		pthread_mutex_unlock(&q->mu);
		take ^= 1;
	}
	if (started) /* it has handed over its last batch: the one ending an argument */
		pthread_join(th, NULL);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
	free(q->b[0].arena);
	free(q->b[1].arena);
	free(q);
	return status;
}

int cmd_replay(const options *o)
{
	if (o->n_args == 0)
		return usage_error("give at least one flow log (a PT1H.json, .json.gz, or a "
		                   "directory of them)");
	if (o->env.n == 0 && !o->policy)
		return usage_error("--env PATH or --policy FILE is required");
	int jobs;
	if (parse_jobs(o, &jobs) != 0)
		return EXIT_USAGE;
	replay rp;
	memset(&rp, 0, sizeof rp);
	rp.before.p = load_policy(o, NSGSIM_BUILD_FULL);
	if (!rp.before.p)
		return EXIT_USAGE;
	int status = 0;
	if (o->after.n) {
		rp.after.p = load_policy_from(o, &o->after, o->tags, NSGSIM_BUILD_FULL);
		if (!rp.after.p) {
			nsgsim_policy_free((nsgsim_policy *)rp.before.p);
			return EXIT_USAGE;
		}
		rp.has_after = true;
	}
	rp.progress = isatty(STDERR_FILENO);
	for (int i = 0; rp.progress && i < o->n_args; i++)
		rp.bar.total += tree_size(o->args[i], 0);
	nsgsim_flowlog *reader = nsgsim_flowlog_new();
	if (!reader) {
		fprintf(stderr, "nsgsim: error: out of memory\n");
		status = EXIT_USAGE;
	}
	if (status == 0 && jobs > 1)
		status = replay_piped(&rp, o, reader);
	for (int i = 0; status == 0 && jobs == 1 && i < o->n_args; i++) {
		nsgsim_error err = {0};
		size_t before = rp.tuples;
		int rc = nsgsim_flowlog_read(reader, o->args[i], on_tuple, &rp, &err);
		status = after_read(&rp, o, i, rc, &err, before);
	}
	if (rp.progress)
		fputs("\r\033[K", stderr);
	if (status == 0) {
		if (rp.g.n)
			qsort(rp.g.v, rp.g.n, sizeof *rp.g.v, cmp_groups);
		if (rp.flips.n)
			qsort(rp.flips.v, rp.flips.n, sizeof *rp.flips.v, cmp_groups);
		if (o->json)
			print_json(&rp);
		else
			print_text(&rp);
		if (o->junit && write_junit(o->junit, &rp) != 0)
			status = EXIT_USAGE;
	}
	if (status == 0)
		status = rp.count[C_DIS_DECISION] + rp.count[C_DIS_RULE] ? 1 : 0;
	nsgsim_flowlog_free(reader);
	strset_free(&rp.strings);
	strset_free(&rp.before.labels);
	strset_free(&rp.after.labels);
	hmap_free(&rp.sessions);
	while (rp.answers) {
		answer_block *next = rp.answers->next;
		free(rp.answers);
		rp.answers = next;
	}
	hmap_free(&rp.before.endpoints);
	hmap_free(&rp.after.endpoints);
	free(rp.g.v);
	free(rp.flips.v);
	nsgsim_policy_free((nsgsim_policy *)rp.before.p);
	nsgsim_policy_free((nsgsim_policy *)rp.after.p);
	return status;
}
