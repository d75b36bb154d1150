/* The model's own bookkeeping: its vectors, limits, notes and the service
 * tags it holds (the types are in lib/parse/model.h).
 *
 * May touch: lib/base and the model. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "parse/model.h"

void ns_model_init(ns_model *m)
{
	memset(m, 0, sizeof *m);
	ns_vec_init(&m->nsgs, sizeof(ns_nsg));
	ns_vec_init(&m->rules, sizeof(ns_rule));
	ns_vec_init(&m->rule_blocks, sizeof(ns_rule_block));
	ns_vec_init(&m->vnets, sizeof(ns_vnet));
	ns_vec_init(&m->subnets, sizeof(ns_subnet));
	ns_vec_init(&m->peerings, sizeof(ns_peering));
	ns_vec_init(&m->nics, sizeof(ns_nic));
	ns_vec_init(&m->asgs, sizeof(ns_asg));
	ns_vec_init(&m->route_tables, sizeof(ns_route_table));
	ns_vec_init(&m->routes, sizeof(ns_route));
	ns_vec_init(&m->managers, sizeof(ns_manager));
	ns_vec_init(&m->net_groups, sizeof(ns_net_group));
	ns_vec_init(&m->static_members, sizeof(ns_static_member));
	ns_vec_init(&m->admin_configs, sizeof(ns_admin_config));
	ns_vec_init(&m->rule_collections, sizeof(ns_rule_collection));
	ns_vec_init(&m->admin_rules, sizeof(ns_rule));
	ns_vec_init(&m->policy_defs, sizeof(ns_policy_def));
	ns_vec_init(&m->policy_asgs, sizeof(ns_policy_asg));
	ns_vec_init(&m->notes, sizeof(ns_note_rec));
	ns_vec_init(&m->params, sizeof(ns_param_rec));
	ns_vec_init(&m->tags, sizeof(ns_tag));
	ns_map_init(&m->tag_index);
	ns_map_init(&m->lines);
	ns_vec_init(&m->lines_log, sizeof(ns_line_put));
	for (int i = 0; i < NSGSIM_LIMIT_COUNT; i++)
		m->limits[i] = nsgsim_limit_default(i);
	/* String literals: the arena is reset only on free, and these are never
	 * written through. */
	m->subscription_id = NS_DEFAULT_SUBSCRIPTION;
	m->resource_group = NS_DEFAULT_RESOURCE_GROUP;
	m->location = NS_DEFAULT_LOCATION;
}

NSGSIM_EXPORT uint64_t nsgsim_limit_default(int limit)
{
	switch (limit) {
#define NS_X_DEFAULT(name, value, def, what)                                                       \
	case value:                                                                                \
		return def;
		NSGSIM_LIMIT_MAP(NS_X_DEFAULT)
#undef NS_X_DEFAULT
	}
	return 0;
}

int ns_model_count_prefixes(ns_model *m, size_t n)
{
	m->n_prefixes += n;
	return m->n_prefixes > m->limits[NSGSIM_LIMIT_TOTAL_PREFIXES] ? NSGSIM_E_LIMIT : 0;
}

size_t ns_model_resource_count(const ns_model *m)
{
	return m->nsgs.n + m->rules.n + m->vnets.n + m->subnets.n + m->peerings.n + m->nics.n +
	       m->asgs.n + m->route_tables.n + m->routes.n + m->managers.n + m->net_groups.n +
	       m->static_members.n + m->admin_configs.n + m->rule_collections.n + m->admin_rules.n +
	       m->policy_defs.n + m->policy_asgs.n + m->notes.n + m->rule_blocks.n;
}

void ns_model_free(ns_model *m)
{
	ns_vec *vecs[] = {&m->nsgs,          &m->rules,
	                  &m->vnets,         &m->subnets,
	                  &m->peerings,      &m->nics,
	                  &m->asgs,          &m->route_tables,
	                  &m->routes,        &m->managers,
	                  &m->net_groups,    &m->static_members,
	                  &m->admin_configs, &m->rule_collections,
	                  &m->admin_rules,   &m->notes,
	                  &m->params,        &m->policy_defs,
	                  &m->policy_asgs};
	for (size_t i = 0; i < NS_ARRAY_LEN(vecs); i++)
		ns_vec_free(vecs[i]);
	ns_model_drop_tags(m);
	ns_vec_free(&m->tags);
	ns_map_free(&m->lines);
	ns_vec_free(&m->lines_log);
	ns_vec_free(&m->rule_blocks);
	ns_arena_free(&m->arena);
	if (m->map)
		munmap(m->map, m->map_len);
	m->map = NULL;
}

#define NS_MODEL_VECS(m)                                                                           \
	{                                                                                          \
		&(m)->nsgs, &(m)->rules, &(m)->vnets, &(m)->subnets, &(m)->peerings, &(m)->nics,   \
		        &(m)->asgs, &(m)->route_tables, &(m)->routes, &(m)->managers,              \
		        &(m)->net_groups, &(m)->static_members, &(m)->admin_configs,               \
		        &(m)->rule_collections, &(m)->admin_rules, &(m)->notes, &(m)->params,      \
		        &(m)->policy_defs, &(m)->policy_asgs                                       \
	}

ns_model_mark ns_model_mark_now(ns_model *m)
{
	ns_vec *vecs[] = NS_MODEL_VECS(m);
	_Static_assert(NS_ARRAY_LEN(vecs) == NS_ARRAY_LEN(((ns_model_mark *)0)->n),
	               "ns_model_mark holds one count per list");
	ns_model_mark k;
	for (size_t i = 0; i < NS_ARRAY_LEN(vecs); i++)
		k.n[i] = vecs[i]->n;
	k.prefixes = m->n_prefixes;
	k.lines_log = m->lines_log.n;
	k.lines_omitted = m->lines_omitted;
	return k;
}

int ns_model_put_line(ns_model *m, const char *key, uint32_t line)
{
	ns_line_put *log = ns_vec_push(&m->lines_log);
	if (!log)
		return -1;
	/* one hash for a new key (every key of a first read) */
	int rc;
	void *val = (void *)(uintptr_t)line;
	log->key = key;
	log->before = ns_map_get_or_put(&m->lines, key, val, &rc);
	if (rc == 0 && log->before)
		rc = ns_map_put(&m->lines, key, val); /* a replacement: never fails */
	if (rc != 0)
		m->lines_log.n--;
	return rc;
}

/* Undoes the puts into lines after the mark, the last first: a key put
 * again gets its line back, a new one goes (neither allocates). */
static void rollback_lines(ns_model *m, size_t mark)
{
	while (m->lines_log.n > mark) {
		const ns_line_put *log = NS_VEC_AT(&m->lines_log, ns_line_put, --m->lines_log.n);
		if (log->before)
			ns_map_put(&m->lines, log->key, log->before);
		else
			ns_map_del(&m->lines, log->key);
	}
}

void ns_model_rollback(ns_model *m, const ns_model_mark *k)
{
	ns_vec *vecs[] = NS_MODEL_VECS(m);
	for (size_t i = 0; i < NS_ARRAY_LEN(vecs); i++)
		vecs[i]->n = k->n[i];
	m->n_prefixes = k->prefixes;
	rollback_lines(m, k->lines_log);
	m->lines_omitted = k->lines_omitted;
}

int ns_model_set_focus(ns_model *m, const nsgsim_ip *addrs, size_t n)
{
	nsgsim_ip *copy = n ? ns_arena_alloc(&m->arena, n * sizeof *copy) : NULL;
	if (n && !copy)
		return -1;
	if (n)
		memcpy(copy, addrs, n * sizeof *copy);
	m->focus = copy;
	m->n_focus = n;
	return 0;
}

void ns_model_drop_tags(ns_model *m)
{
	for (size_t i = 0; i < m->tags.n; i++)
		ns_pset_free(&NS_VEC_AT(&m->tags, ns_tag, i)->set);
	m->tags.n = 0;
	ns_map_free(&m->tag_index);
	m->has_tags = false;
	m->tags_from_snapshot = false;
	m->tags_file = NULL;
	m->tags_source = NULL;
	m->tags_cloud = NULL;
	m->tags_change_number = 0;
}

int ns_model_note(ns_model *m, int kind, const char *file, const char *pointer,
                  const char *resource, const char *fmt, ...)
{
	if (m->notes_frozen)
		return 0;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *msg = n >= 0 ? ns_arena_alloc(&m->arena, (size_t)n + 1) : NULL;
	ns_note_rec *rec = msg ? ns_vec_push(&m->notes) : NULL;
	if (!rec) {
		m->notes_failed = true; /* turned into NSGSIM_E_NOMEM by the caller's stage */
		return NSGSIM_E_NOMEM;
	}
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)n + 1, fmt, ap);
	va_end(ap);
	rec->kind = kind;
	rec->message = msg;
	rec->file = ns_arena_strdup(&m->arena, file);
	rec->pointer = ns_arena_strdup(&m->arena, pointer);
	rec->resource = ns_arena_strdup(&m->arena, resource);
	return 0;
}
