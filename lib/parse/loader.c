/* The public loader: reads files and directories into the model.  A file
 * that fails leaves the loader as it was before that file. */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "parse/arm_template.h"
#include "parse/load.h"

struct nsgsim_loader {
	ns_model model;
};

NSGSIM_EXPORT nsgsim_loader *nsgsim_loader_new(void)
{
	nsgsim_loader *l = malloc(sizeof *l);
	if (l)
		ns_model_init(&l->model);
	return l;
}

NSGSIM_EXPORT void nsgsim_loader_free(nsgsim_loader *l)
{
	if (!l)
		return;
	ns_model_free(&l->model);
	free(l);
}

NSGSIM_EXPORT int nsgsim_loader_set_limit(nsgsim_loader *l, int limit, uint64_t value)
{
	if (!l || limit < 0 || limit >= NSGSIM_LIMIT_COUNT)
		return NSGSIM_E_INVALID_ARG;
	l->model.limits[limit] = value ? value : nsgsim_limit_default(limit);
	return 0;
}

ns_model *ns_loader_model(nsgsim_loader *l)
{
	return &l->model;
}

/* ---- files and directories -------------------------------------------------- */

static int read_file(const char *path, uint64_t max, char **text, size_t *len, nsgsim_error *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return ns_fail(err, errno == ENOMEM ? NSGSIM_E_NOMEM : NSGSIM_E_IO, path, "", "",
		               "cannot open: %s", strerror(errno));
	struct stat st;
	bool sized = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
	if (sized && (uint64_t)st.st_size > max) {
		fclose(f);
		return ns_fail(
		        err, NSGSIM_E_LIMIT, path, "", "",
		        "the file has %lld bytes; the limit is %llu (NSGSIM_LIMIT_FILE_BYTES)",
		        (long long)st.st_size, (unsigned long long)max);
	}
	ns_buf b;
	ns_buf_init(&b);
	/* A regular file's size known, the buffer is allocated once: doubling
	 * it left a 93 MB file in 128 MB, and 192 MB while the last realloc moved. */
	if (sized && st.st_size > 0 && !ns_buf_reserve(&b, (size_t)st.st_size)) {
		fclose(f);
		return ns_fail(err, NSGSIM_E_NOMEM, path, "", "", "out of memory");
	}
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len <= max)
		ns_buf_put(&b, chunk, n);
	bool bad = ferror(f);
	fclose(f);
	if (bad) {
		ns_buf_free(&b);
		return ns_fail(err, NSGSIM_E_IO, path, "", "", "read error");
	}
	if (b.failed) {
		ns_buf_free(&b);
		return ns_fail(err, NSGSIM_E_NOMEM, path, "", "", "out of memory");
	}
	if (!b.data)
		ns_buf_put(&b, "", 0);
	*text = b.data;
	*len = b.len;
	return 0;
}

static int load_env_buffer(ns_model *m, const char *name, const char *json, size_t len,
                           nsgsim_error *err)
{
	ns_model_mark k = ns_model_mark_now(m);
	int rc = ns_load_env_text(m, name, json, len, err);
	/* a reader that returns a failed note's NSGSIM_E_NOMEM has not filled err */
	if (m->notes_failed && (rc == 0 || rc == NSGSIM_E_NOMEM))
		rc = ns_fail(err, NSGSIM_E_NOMEM, name, "", "", "out of memory");
	if (rc != 0) {
		ns_model_rollback(m, &k);
		m->notes_failed = false;
	}
	return rc;
}

/* Reads a whole file and hands it to one of the buffer readers. */
typedef int (*buffer_fn)(ns_model *m, const char *name, const char *data, size_t len,
                         nsgsim_error *err);

static int load_file_with(ns_model *m, const char *path, buffer_fn fn, nsgsim_error *err)
{
	char *text;
	size_t len;
	int rc = read_file(path, m->limits[NSGSIM_LIMIT_FILE_BYTES], &text, &len, err);
	if (rc != 0)
		return rc;
	rc = fn(m, path, text, len, err);
	free(text);
	return rc;
}

static int load_env_file(ns_model *m, const char *path, nsgsim_error *err)
{
	return load_file_with(m, path, load_env_buffer, err);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_json_suffix(const char *name)
{
	size_t n = strlen(name);
	return n > 5 && strcmp(name + n - 5, ".json") == 0;
}

/* Collects the *.json files under dir, recursively, into paths. */
static int collect_json(const char *dir, ns_vec *paths, nsgsim_error *err, int depth)
{
	if (depth > 64)
		return ns_fail(err, NSGSIM_E_LIMIT, dir, "", "", "directories nested too deeply");
	DIR *d = opendir(dir);
	if (!d)
		return ns_fail(err, errno == ENOMEM ? NSGSIM_E_NOMEM : NSGSIM_E_IO, dir, "", "",
		               "cannot open directory: %s", strerror(errno));
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		size_t len = strlen(dir) + strlen(e->d_name) + 2;
		char *path = malloc(len);
		if (!path) {
			rc = ns_fail(err, NSGSIM_E_NOMEM, dir, "", "", "out of memory");
			break;
		}
		snprintf(path, len, "%s/%s", dir, e->d_name);
		struct stat st;
		if (stat(path, &st) != 0) {
			free(path);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			rc = collect_json(path, paths, err, depth + 1);
			free(path);
		} else if (S_ISREG(st.st_mode) && has_json_suffix(e->d_name)) {
			char **slot = ns_vec_push(paths);
			if (!slot) {
				free(path);
				rc = ns_fail(err, NSGSIM_E_NOMEM, dir, "", "", "out of memory");
			} else {
				*slot = path;
			}
		} else {
			free(path);
		}
	}
	closedir(d);
	return rc;
}

static int load_env_dir(ns_model *m, const char *dir, nsgsim_error *err)
{
	ns_vec paths;
	ns_vec_init(&paths, sizeof(char *));
	int rc = collect_json(dir, &paths, err, 0);
	if (rc == 0 && paths.n == 0) /* a wrong path, not an empty estate */
		rc = ns_fail(err, NSGSIM_E_IO, dir, "", "",
		             "the directory holds no .json file (an environment is the JSON that "
		             "az, the REST API or an ARM export print)");
	if (rc == 0)
		qsort(paths.data, paths.n, sizeof(char *), cmp_str);
	ns_model_mark k = ns_model_mark_now(m);
	for (size_t i = 0; rc == 0 && i < paths.n; i++)
		rc = load_env_file(m, *NS_VEC_AT(&paths, char *, i), err);
	if (rc != 0)
		ns_model_rollback(m, &k);
	for (size_t i = 0; i < paths.n; i++)
		free(*NS_VEC_AT(&paths, char *, i));
	ns_vec_free(&paths);
	return rc;
}

NSGSIM_EXPORT int nsgsim_loader_set_build(nsgsim_loader *l, int build)
{
	if (!l || (build != NSGSIM_BUILD_FULL && build != NSGSIM_BUILD_MINIMAL &&
	           build != NSGSIM_BUILD_QUERY))
		return NSGSIM_E_INVALID_ARG;
	l->model.build = build;
	return 0;
}

NSGSIM_EXPORT int nsgsim_loader_set_focus(nsgsim_loader *l, const struct nsgsim_ip *addrs, size_t n)
{
	if (!l || (n && !addrs) || n > NSGSIM_FOCUS_MAX)
		return NSGSIM_E_INVALID_ARG;
	for (size_t i = 0; i < n; i++)
		if (addrs[i].family != 4 && addrs[i].family != 6)
			return NSGSIM_E_INVALID_ARG;
	return ns_model_set_focus(&l->model, addrs, n) == 0 ? 0 : NSGSIM_E_NOMEM;
}

/* A subscription id as Azure writes one: 8-4-4-4-12 hex digits. */
static bool is_guid(const char *s)
{
	static const int groups[] = {8, 4, 4, 4, 12};
	for (size_t g = 0; g < NS_ARRAY_LEN(groups); g++) {
		for (int i = 0; i < groups[g]; i++, s++)
			if (!isxdigit((unsigned char)*s))
				return false;
		if (*s != (g + 1 < NS_ARRAY_LEN(groups) ? '-' : '\0'))
			return false;
		s++;
	}
	return true;
}

static int set_deployment_field(ns_model *m, const char *value, const char **field, bool *set)
{
	if (!value)
		return 0;
	if (!(*field = ns_arena_strdup(&m->arena, value)))
		return NSGSIM_E_NOMEM;
	*set = true;
	return 0;
}

NSGSIM_EXPORT int nsgsim_loader_set_deployment(nsgsim_loader *l, const char *subscription_id,
                                               const char *resource_group, const char *location)
{
	if (!l || (subscription_id && !is_guid(subscription_id)) ||
	    (resource_group && !*resource_group) || (location && !*location))
		return NSGSIM_E_INVALID_ARG;
	ns_model *m = &l->model;
	int rc =
	        set_deployment_field(m, subscription_id, &m->subscription_id, &m->subscription_set);
	if (rc == 0)
		rc = set_deployment_field(m, resource_group, &m->resource_group,
		                          &m->resource_group_set);
	if (rc == 0)
		rc = set_deployment_field(m, location, &m->location, &m->location_set);
	return rc;
}

/* A parameters file: all of it or nothing, like an environment file. */
static int load_params_buffer(ns_model *m, const char *name, const char *json, size_t len,
                              nsgsim_error *err)
{
	ns_model_mark k = ns_model_mark_now(m);
	int rc = ns_load_params_text(m, name, json, len, err);
	if (rc != 0)
		ns_model_rollback(m, &k);
	return rc;
}

/* A compiled policy file is the whole input (lib/compile/nsgp_file.c):
 * nothing is added to a loader that holds one. */
static int refuse_after_policy(const nsgsim_loader *l, const char *name, nsgsim_error *err)
{
	if (!l->model.from_policy_file)
		return 0;
	return ns_fail(err, NSGSIM_E_INVALID_ARG, name ? name : "", "", "",
	               "this loader holds a compiled policy file, which is the whole input: "
	               "give it alone");
}

NSGSIM_EXPORT int nsgsim_loader_add_parameters(nsgsim_loader *l, const char *path,
                                               nsgsim_error *err)
{
	if (!l || !path)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "",
		               "loader and path are required");
	if (refuse_after_policy(l, path, err) != 0)
		return NSGSIM_E_INVALID_ARG;
	return load_file_with(&l->model, path, load_params_buffer, err);
}

NSGSIM_EXPORT int nsgsim_loader_add_parameters_buffer(nsgsim_loader *l, const char *name,
                                                      const char *json, size_t len,
                                                      nsgsim_error *err)
{
	if (!l || !json)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, name, "", "",
		               "loader and json are required");
	if (refuse_after_policy(l, name, err) != 0)
		return NSGSIM_E_INVALID_ARG;
	return load_params_buffer(&l->model, name ? name : "<buffer>", json, len, err);
}

NSGSIM_EXPORT int nsgsim_loader_set_parameter(nsgsim_loader *l, const char *name, const char *value,
                                              nsgsim_error *err)
{
	if (!l || !name || !value)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "",
		               "loader, name and value are required");
	if (refuse_after_policy(l, name, err) != 0)
		return NSGSIM_E_INVALID_ARG;
	return ns_set_param(&l->model, name, value, err);
}

NSGSIM_EXPORT int nsgsim_loader_add_env(nsgsim_loader *l, const char *path, nsgsim_error *err)
{
	if (!l || !path)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "",
		               "loader and path are required");
	if (refuse_after_policy(l, path, err) != 0)
		return NSGSIM_E_INVALID_ARG;
	struct stat st;
	if (stat(path, &st) != 0)
		return ns_fail(err, NSGSIM_E_IO, path, "", "", "cannot open: %s", strerror(errno));
	if (S_ISDIR(st.st_mode))
		return load_env_dir(&l->model, path, err);
	return load_env_file(&l->model, path, err);
}

NSGSIM_EXPORT int nsgsim_loader_add_env_buffer(nsgsim_loader *l, const char *name, const char *json,
                                               size_t len, nsgsim_error *err)
{
	if (!l || !json)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, name, "", "",
		               "loader and json are required");
	if (refuse_after_policy(l, name, err) != 0)
		return NSGSIM_E_INVALID_ARG;
	return load_env_buffer(&l->model, name ? name : "<buffer>", json, len, err);
}

/* One tags source per loader.  A failed one leaves the loader's tag state,
 * and its count of addresses for NSGSIM_LIMIT_TOTAL_PREFIXES, as they were. */
static int load_tags_buffer(ns_model *m, const char *name, const char *data, size_t len,
                            nsgsim_error *err)
{
	if (m->has_tags)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, name, "", "",
		               "service tags were already loaded from %s; give one file",
		               m->tags_file);
	uint64_t prefixes = m->n_prefixes;
	bool snapshot = ns_tags_snapshot_detect(data, len);
	int rc = snapshot ? ns_tags_snapshot_read(m, name, data, len, err)
	                  : ns_load_tags_text(m, name, data, len, err);
	if (rc == 0 && !(m->tags_file = ns_arena_strdup(&m->arena, name)))
		rc = ns_fail(err, NSGSIM_E_NOMEM, name, "", "", "out of memory");
	if (rc == 0 && !m->tags_source) { /* JSON: a snapshot of it names this file */
		const char *slash = strrchr(name, '/');
		if (!(m->tags_source = ns_arena_strdup(&m->arena, slash ? slash + 1 : name)))
			rc = ns_fail(err, NSGSIM_E_NOMEM, name, "", "", "out of memory");
	}
	if (rc != 0) {
		ns_model_drop_tags(m);
		m->n_prefixes = prefixes;
		return rc;
	}
	m->has_tags = true;
	m->tags_from_snapshot = snapshot;
	return 0;
}

NSGSIM_EXPORT int nsgsim_loader_add_service_tags_buffer(nsgsim_loader *l, const char *name,
                                                        const char *json, size_t len,
                                                        nsgsim_error *err)
{
	if (!l || !json)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, name, "", "",
		               "loader and json are required");
	if (refuse_after_policy(l, name, err) != 0)
		return NSGSIM_E_INVALID_ARG;
	return load_tags_buffer(&l->model, name ? name : "<buffer>", json, len, err);
}

NSGSIM_EXPORT int nsgsim_loader_add_service_tags(nsgsim_loader *l, const char *path,
                                                 nsgsim_error *err)
{
	if (!l || !path)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "",
		               "loader and path are required");
	if (refuse_after_policy(l, path, err) != 0)
		return NSGSIM_E_INVALID_ARG;
	return load_file_with(&l->model, path, load_tags_buffer, err);
}

NSGSIM_EXPORT int nsgsim_loader_service_tags_snapshot(const nsgsim_loader *l, void **buf,
                                                      size_t *len, nsgsim_error *err)
{
	if (buf)
		*buf = NULL;
	if (len)
		*len = 0;
	if (!l || !buf || !len)
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "",
		               "loader, buf and len are required");
	return ns_tags_snapshot_write(&l->model, buf, len, err);
}

NSGSIM_EXPORT int nsgsim_loader_service_tags_info(const nsgsim_loader *l, nsgsim_tags_info *out)
{
	if (!l || !out || !l->model.has_tags)
		return NSGSIM_E_INVALID_ARG;
	const ns_model *m = &l->model;
	memset(out, 0, sizeof *out);
	out->tags = m->tags.n;
	for (size_t i = 0; i < m->tags.n; i++) {
		const ns_tag *t = NS_VEC_AT(&m->tags, ns_tag, i);
		out->prefixes += t->n_prefixes;
		out->ranges += t->set.n4 + t->set.n6;
	}
	out->change_number = m->tags_change_number;
	out->cloud = m->tags_cloud ? m->tags_cloud : "";
	out->file = m->tags_file;
	out->source = m->tags_source;
	out->snapshot = m->tags_from_snapshot;
	return 0;
}
