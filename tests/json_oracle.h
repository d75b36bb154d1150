/* cJSON as the oracle for lib/parse/json_flat.c: the same tree, node for node.
 * Shared by tests/test_json_flat.c and fuzz/fuzz_json.c. */
#ifndef NSGSIM_JSON_ORACLE_H
#define NSGSIM_JSON_ORACLE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "parse/json_flat.h"

/* String node s decoded equals text (a cJSON string or key). */
static inline bool json_same_string(const ns_jdoc *d, uint32_t s, const char *text)
{
	char *buf = malloc((size_t)ns_jat(d, s)->len + 1);
	if (!buf)
		abort();
	ns_jstr_decode(d, s, buf);
	bool same = strcmp(buf, text) == 0;
	free(buf);
	return same;
}

/* The same tree: types, decoded strings, numbers, members in order. */
static inline bool json_same_tree(const ns_jdoc *d, uint32_t i, const cJSON *c)
{
	const ns_jnode *n = ns_jat(d, i);
	switch (n->type) {
	case NS_J_NULL:
		return cJSON_IsNull(c);
	case NS_J_TRUE:
		return cJSON_IsTrue(c);
	case NS_J_FALSE:
		return cJSON_IsFalse(c);
	case NS_J_NUMBER: {
		double x;
		if (ns_jnumber(d, i, &x) != 0)
			abort();
		return cJSON_IsNumber(c) && x == c->valuedouble;
	}
	case NS_J_STRING:
		return cJSON_IsString(c) && json_same_string(d, i, c->valuestring);
	case NS_J_ARRAY:
		if (!cJSON_IsArray(c))
			return false;
		break;
	case NS_J_OBJECT:
		if (!cJSON_IsObject(c))
			return false;
		break;
	default:
		return false;
	}
	if ((int)n->len != cJSON_GetArraySize(c))
		return false;
	const cJSON *cc = c->child;
	for (uint32_t e = ns_jfirst(d, i); e; e = ns_jnext(d, e), cc = cc->next) {
		if (!cc)
			return false;
		if (n->type == NS_J_OBJECT
		            ? !json_same_string(d, e, cc->string) || !json_same_tree(d, e + 1, cc)
		            : !json_same_tree(d, e, cc))
			return false;
	}
	return cc == NULL;
}

/* A number of more than 63 characters: cJSON 1.7.15 as released reads 63
 * and refuses the rest (Debian's reads them whole). */
static inline bool json_has_long_number(const ns_jdoc *d)
{
	for (uint32_t i = 0; i < d->n; i++)
		if (d->nodes[i].type == NS_J_NUMBER && d->nodes[i].len > 63)
			return true;
	return false;
}

#endif
