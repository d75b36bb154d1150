/* nsgsim -- would this flow be allowed in Azure?
 *
 * An offline, deterministic model of Azure's traffic filtering: Azure Virtual
 * Network Manager (AVNM) security admin rules, network security groups (NSGs),
 * application security groups (ASGs) and service tags.
 *
 * The data goes through three stages:
 *
 *   JSON files --load--> loader --compile--> nsgsim_policy --evaluate--> result
 *
 * - A loader collects environment JSON (what `az` and the ARM REST API print)
 *   and a service-tags file.  Loading uses cJSON, whose error reporting is a
 *   process-wide global: do not load on two threads at once.
 * - nsgsim_compile() validates the collected model, resolves references and
 *   builds an immutable nsgsim_policy.  A policy may be shared by any number of
 *   threads; nothing in it changes after compile.
 *
 * Conventions: every function that can fail returns an int status, 0 on
 * success and a negative NSGSIM_E_* code on failure, and fills the
 * caller-owned nsgsim_error when one is passed (it may be NULL).  The library
 * never prints and never exits.  Strings the library allocates for the caller
 * are released with nsgsim_free().
 */
#ifndef NSGSIM_H
#define NSGSIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NSGSIM_VERSION_MAJOR  0
#define NSGSIM_VERSION_MINOR  1
#define NSGSIM_VERSION_PATCH  0
#define NSGSIM_VERSION_STRING "0.1.0"

#if defined(__GNUC__) || defined(__clang__)
#define NSGSIM_EXPORT __attribute__((visibility("default")))
#else
#define NSGSIM_EXPORT
#endif

/* One table yields the codes, their names and their messages.
 * X(NAME, value, message).  Codes are API: they never change meaning. */
#define NSGSIM_ERRNO_MAP(X)                                                                        \
	X(OK, 0, "success")                                                                        \
	X(NOMEM, -1, "out of memory")                                                              \
	X(INVALID_ARG, -2, "invalid argument")                                                     \
	X(IO, -3, "cannot read the input")                                                         \
	X(JSON, -4, "malformed JSON")                                                              \
	X(SHAPE, -5, "unexpected JSON shape or type")                                              \
	X(MISSING_FIELD, -6, "missing required field")                                             \
	X(UNEVALUATED, -7, "unevaluated ARM template expression")                                  \
	X(PRIORITY_RANGE, -8, "priority out of range")                                             \
	X(DUP_PRIORITY, -9, "duplicate priority")                                                  \
	X(ADDRESS_SIDE, -10, "a rule side needs exactly one of prefix, prefixes or ASGs")          \
	X(TAG_IN_PREFIXES, -11, "service tag or '*' inside a plural prefixes array")               \
	X(BAD_PREFIX, -12, "malformed IP address or CIDR prefix")                                  \
	X(HOST_BITS, -13, "CIDR prefix has host bits set")                                         \
	X(BAD_PORT, -14, "malformed or reversed port range")                                       \
	X(BAD_PROTOCOL, -15, "unknown protocol")                                                   \
	X(BAD_ACCESS, -16, "unknown access")                                                       \
	X(BAD_DIRECTION, -17, "unknown direction")                                                 \
	X(UNKNOWN_TAG, -18, "unknown service tag")                                                 \
	X(DANGLING_REF, -19, "reference to a resource that is not in the input")                   \
	X(ASG_VNETS, -20, "application security group members in different virtual networks")      \
	X(UNSUPPORTED, -21, "unsupported input")                                                   \
	X(DUPLICATE, -22, "the same resource is defined twice, differently")                       \
	X(NOT_FOUND, -23, "no such resource")                                                      \
	X(BAD_FLOW, -24, "malformed flow")                                                         \
	X(NOT_MODELLED, -25, "neither address belongs to a modelled endpoint")                     \
	X(LIMIT, -26, "a configured limit was exceeded")                                           \
	X(INTERNAL, -27, "internal error")                                                         \
	X(SNAPSHOT, -28, "corrupt or truncated service-tags snapshot")                             \
	X(SNAPSHOT_VERSION, -29, "service-tags snapshot of another format version")                \
	X(POLICY_FILE, -30, "corrupt or truncated compiled policy file")                           \
	X(POLICY_FILE_VERSION, -31, "compiled policy file of another format version")              \
	X(OUT_OF_FOCUS, -32, "outside the focus the policy was compiled for")

typedef enum nsgsim_status {
#define NSGSIM_X_ENUM(name, value, msg) NSGSIM_E_##name = (value),
	NSGSIM_ERRNO_MAP(NSGSIM_X_ENUM)
#undef NSGSIM_X_ENUM
} nsgsim_status;

/* "out of memory" etc.; "unknown error code" for a code not in the table. */
NSGSIM_EXPORT const char *nsgsim_strerror(int code);
/* "NSGSIM_E_NOMEM" etc.; NULL for a code not in the table. */
NSGSIM_EXPORT const char *nsgsim_error_name(int code);
NSGSIM_EXPORT const char *nsgsim_version(void);
/* sizeof of a public struct by its name ("nsgsim_result", ...), 0 for an
 * unknown name: lets bindings that mirror the structs check them at load. */
NSGSIM_EXPORT size_t nsgsim_struct_size(const char *name);

/* Where and why something failed.  Every text field is NUL-terminated and
 * empty when it does not apply.  line/column are 1-based, 0 when unknown. */
typedef struct nsgsim_error {
	int code;
	int line;
	int column;
	char message[512];
	char file[512];
	char pointer[512];  /* JSON pointer into the file, e.g. /value/0/properties/priority */
	char resource[512]; /* resource id or name the error is about */
} nsgsim_error;

/* Fills buf with "file:line:col: pointer: resource: message [NSGSIM_E_NAME]"
 * (parts that are empty are left out).  Returns the length it needed, like
 * snprintf. */
NSGSIM_EXPORT int nsgsim_error_format(const nsgsim_error *err, char *buf, size_t cap);

/* ---- loading ---------------------------------------------------------- */

typedef struct nsgsim_loader nsgsim_loader;
typedef struct nsgsim_policy nsgsim_policy;

/* NULL when out of memory. */
NSGSIM_EXPORT nsgsim_loader *nsgsim_loader_new(void);
NSGSIM_EXPORT void nsgsim_loader_free(nsgsim_loader *loader);

/* Reads environment JSON: a file, or a directory whose *.json files are read
 * recursively in sorted (byte-wise) path order.  Accepted shapes: a single
 * resource, a JSON array, a REST list {"value": [...]}, an ARM template or
 * export {"resources": [...]}; REST/ARM resources (properties{...}) or the
 * flattened shape `az` prints.  On error the loader keeps what it had (the
 * resources, notes and input lines of the failed files are dropped). */
NSGSIM_EXPORT int nsgsim_loader_add_env(nsgsim_loader *loader, const char *path, nsgsim_error *err);
/* The same from memory; name is used in error messages. */
NSGSIM_EXPORT int nsgsim_loader_add_env_buffer(nsgsim_loader *loader, const char *name,
                                               const char *json, size_t len, nsgsim_error *err);
/* Reads Microsoft's service-tags download (ServiceTags_*.json), the REST
 * serviceTags list response, or a snapshot of either (below), told apart by
 * the snapshot's magic bytes.  At most one tags source per loader; on error
 * the loader has no tags, as before. */
NSGSIM_EXPORT int nsgsim_loader_add_service_tags(nsgsim_loader *loader, const char *path,
                                                 nsgsim_error *err);
NSGSIM_EXPORT int nsgsim_loader_add_service_tags_buffer(nsgsim_loader *loader, const char *name,
                                                        const char *json, size_t len,
                                                        nsgsim_error *err);

/* A service-tags snapshot: the loaded tags in a versioned binary form (the
 * merged address ranges of every tag, its region, networkFeatures and the
 * number of prefixes listed, and the source's cloud, changeNumber and file
 * name) that loads in a few milliseconds where the 4 MB JSON download takes
 * tens.  The format is lib/parse/tags_snapshot.c's; a snapshot of another format
 * version is NSGSIM_E_SNAPSHOT_VERSION (rebuild it), a damaged one
 * NSGSIM_E_SNAPSHOT.  Loading a snapshot gives the same tags as loading its
 * JSON, so every answer is the same.
 *
 * Serializes the loader's tags into *buf (len bytes, for nsgsim_free).  The
 * output depends only on the tags and the source file's base name: the same
 * input gives the same bytes.  NSGSIM_E_INVALID_ARG when no tags were
 * loaded.  Call it before nsgsim_compile, which empties the loader. */
NSGSIM_EXPORT int nsgsim_loader_service_tags_snapshot(const nsgsim_loader *loader, void **buf,
                                                      size_t *len, nsgsim_error *err);

/* What a loader's service tags are, for summaries.  The strings stay valid
 * until the loader is compiled or freed. */
typedef struct nsgsim_tags_info {
	size_t tags;             /* service tags */
	uint64_t prefixes;       /* addressPrefixes listed in the source, before merging */
	size_t ranges;           /* the merged address ranges they make, both families */
	long long change_number; /* the source's changeNumber, -1 when it has none */
	const char *cloud;       /* "Public", ...; "" when the source names none */
	const char *file;        /* the path (or buffer name) the tags were loaded from */
	const char *source;      /* the JSON file's base name (a snapshot records its source's) */
	int snapshot;            /* 1 when they were loaded from a snapshot */
} nsgsim_tags_info;

/* Fills *out; NSGSIM_E_INVALID_ARG when no tags were loaded. */
NSGSIM_EXPORT int nsgsim_loader_service_tags_info(const nsgsim_loader *loader,
                                                  nsgsim_tags_info *out);

/* Limits on what a loader accepts, so hostile or broken input gets a clear
 * NSGSIM_E_LIMIT instead of a slowdown or a crash.  X(NAME, value, default,
 * what).  Azure's own, lower limits (1,000 rules per NSG, 4,000 prefixes per
 * side) are warnings, not errors (nsgsim_policy_note). */
#define NSGSIM_LIMIT_MAP(X)                                                                        \
	X(FILE_BYTES, 0, 256ull << 20, "bytes in one input file or buffer")                        \
	X(JSON_DEPTH, 1, 64, "nesting depth of JSON arrays and objects")                           \
	X(RESOURCES, 2, 1000000, "resources in all the environment input")                         \
	X(RULES_PER_NSG, 3, 10000, "security rules in one NSG")                                    \
	X(PREFIXES_PER_RULE, 4, 100000, "addresses on one side of one rule")                       \
	X(TOTAL_PREFIXES, 5, 20000000, "addresses in all rules, spaces and service tags")          \
	X(BATCH_FLOWS, 6, 1ull << 26, "flows in one batch evaluation")                             \
	X(QUERY_REGIONS, 7, 2000000, "regions one reach or diff query may hold before merging")

typedef enum nsgsim_limit {
#define NSGSIM_X_LIMIT(name, value, def, what) NSGSIM_LIMIT_##name = (value),
	NSGSIM_LIMIT_MAP(NSGSIM_X_LIMIT)
#undef NSGSIM_X_LIMIT
	        NSGSIM_LIMIT_COUNT = 8
} nsgsim_limit;

/* The default of a limit (0 for an unknown one). */
NSGSIM_EXPORT uint64_t nsgsim_limit_default(int limit);
/* Sets a limit for everything this loader reads from now on and for the
 * policy it compiles; 0 restores the default. */
NSGSIM_EXPORT int nsgsim_loader_set_limit(nsgsim_loader *loader, int limit, uint64_t value);

/* What nsgsim_compile builds.  NSGSIM_BUILD_FULL (the default) builds the
 * classifiers of NSGSIM_ENGINE_COMPILED.  NSGSIM_BUILD_MINIMAL builds none:
 * the policy answers every question identically (nsgsim_eval, reach, diff,
 * effective), the compiled engine falling back to the reference scan --
 * for a handful of evaluations, where building the classifiers costs more
 * than it saves (a one-flow CLI call: about half of its time).
 * NSGSIM_BUILD_QUERY is MINIMAL without what only findings and saving use:
 * the input-lines map (lint's line numbers) is left out -- a compiled policy
 * file's is checked but not built, a JSON input's not recorded.  Every answer
 * is still identical; nsgsim_policy_save of such a policy is
 * NSGSIM_E_INVALID_ARG (it would lose the lines), and findings give line 0. */
typedef enum nsgsim_build {
	NSGSIM_BUILD_FULL = 0,
	NSGSIM_BUILD_MINIMAL = 1,
	NSGSIM_BUILD_QUERY = 2,
} nsgsim_build;

/* 0, or NSGSIM_E_INVALID_ARG for an unknown build. */
NSGSIM_EXPORT int nsgsim_loader_set_build(nsgsim_loader *loader, int build);

/* Compiles, with NSGSIM_BUILD_MINIMAL or NSGSIM_BUILD_QUERY, only what the
 * flows between these addresses need (a one-flow CLI call's lazy compile):
 * every rule of every NSG is still checked as a full compile checks it --
 * the same errors, the same notes -- but only the NSGs of the endpoints
 * (NIC or subnet) that hold a focus address get their address sets.  A
 * flow whose source and destination are each a focus address or outside
 * every subnet is answered exactly as the full compile answers it
 * (nsgsim_eval*, nsgsim_eval_batch, nsgsim_eval_at, nsgsim_eval_source_ports,
 * nsgsim_explain); a flow that meets any other NSG is NSGSIM_E_OUT_OF_FOCUS,
 * never a different answer.  Set queries (nsgsim_reach, nsgsim_diff,
 * nsgsim_lint*, nsgsim_matrix_build, nsgsim_effective) refuse a focused
 * policy with NSGSIM_E_OUT_OF_FOCUS; saving it saves the whole model.  A
 * compiled policy file added with nsgsim_loader_add_policy_file to a focused
 * NSGSIM_BUILD_QUERY loader is read lazily: only the rules of the NSGs the
 * focus needs are decoded (every section's checksum is checked; the other
 * blocks' contents wait for a full load), the notes are the saved
 * compile's, and
 * nsgsim_policy_show and saving refuse the policy (NSGSIM_E_OUT_OF_FOCUS,
 * NSGSIM_E_INVALID_ARG).  NSGSIM_BUILD_FULL ignores the focus (everything
 * is built).  n 0 clears
 * it; at most NSGSIM_FOCUS_MAX addresses, each of family 4 or 6, else
 * NSGSIM_E_INVALID_ARG; NSGSIM_E_NOMEM. */
#define NSGSIM_FOCUS_MAX 4096
struct nsgsim_ip;
NSGSIM_EXPORT int nsgsim_loader_set_focus(nsgsim_loader *loader, const struct nsgsim_ip *addrs,
                                          size_t n);

/* The deployment that infrastructure-as-code input (ARM templates, Bicep
 * output, Terraform plans) is read for: subscription(), resourceGroup() and
 * the ids nsgsim builds for resources that have none yet.  NULL keeps the
 * current value; the defaults are the all-zero subscription GUID, the
 * resource group "nsgsim-rg" and the location "westeurope", and every
 * resource id built from a default is reported as a note.  Affects files
 * loaded after the call.  0, or NSGSIM_E_INVALID_ARG (a subscription that is
 * not a GUID, an empty name). */
NSGSIM_EXPORT int nsgsim_loader_set_deployment(nsgsim_loader *loader, const char *subscription_id,
                                               const char *resource_group, const char *location);

/* Parameter values for the ARM templates and Bicep output (languageVersion
 * 2.0 included) loaded after the call, as `az deployment group create
 * --parameters` takes them.  A parameters file is the deployment parameters
 * JSON ({"parameters": {"name": {"value": ...}}}, or the bare {"name":
 * {"value": ...}}; `//` and block comments allowed); a Key Vault
 * {"reference": ...} is a value that cannot be known offline.  A NAME=VALUE
 * pair (nsgsim_loader_set_parameter) is read for the parameter's declared
 * type: text for a string, JSON for int, bool, array and object.  A later
 * value of the same name (case-insensitive) wins.  A template parameter with
 * no value and no default is NSGSIM_E_MISSING_FIELD when the template loads;
 * a value of the wrong type or outside allowedValues is NSGSIM_E_SHAPE. */
NSGSIM_EXPORT int nsgsim_loader_add_parameters(nsgsim_loader *loader, const char *path,
                                               nsgsim_error *err);
NSGSIM_EXPORT int nsgsim_loader_add_parameters_buffer(nsgsim_loader *loader, const char *name,
                                                      const char *json, size_t len,
                                                      nsgsim_error *err);
NSGSIM_EXPORT int nsgsim_loader_set_parameter(nsgsim_loader *loader, const char *name,
                                              const char *value, nsgsim_error *err);

/* Validates everything loaded and builds the immutable policy.  On success
 * the loaded content moves into the policy (no copy of the service tags is
 * made) and the loader is left empty; free it afterwards.  On failure the
 * loader keeps its content. */
NSGSIM_EXPORT int nsgsim_compile(nsgsim_loader *loader, nsgsim_policy **out, nsgsim_error *err);
NSGSIM_EXPORT void nsgsim_policy_free(nsgsim_policy *policy);

/* ---- compiled policy files (.nsgp; lib/compile/nsgp.h) -------------------
 * A compiled policy saved once and loaded by every later run instead of its
 * input: the model compile resolved (every resource, rule, name, id, text
 * and input location that traces, JSON output and findings report, the
 * parameters and deployment the templates were read for, the limits), the
 * parse-stage notes and the service tags, in a versioned, checksummed,
 * little-endian form.  Loading maps the file, checks the header (magic,
 * format version, CRC-32) and every length, count, enum and invariant of
 * the payload, then compiles the model: the loaded policy answers every API
 * exactly as the saved one (eval, eval_batch, eval_at, reach, diff, lint,
 * matrix, effective, show, stats, notes).  Format version 1 stores the
 * model, not the classifiers: loading skips parsing but rebuilds them (the
 * README's "Compiled policy files" gives the figures).
 *
 * A damaged or truncated file is NSGSIM_E_POLICY_FILE, one of another
 * format version NSGSIM_E_POLICY_FILE_VERSION (compile it again), with the
 * byte offset and a pointer ("/header/checksum", "/model/rules/3") in
 * err; never a crash.  Saving: 0, NSGSIM_E_IO, NSGSIM_E_LIMIT (a count or
 * string too large), NSGSIM_E_NOMEM. */
NSGSIM_EXPORT int nsgsim_policy_save(const nsgsim_policy *policy, const char *path,
                                     nsgsim_error *err);
/* The same into memory: *buf (len bytes) for nsgsim_free. */
NSGSIM_EXPORT int nsgsim_policy_save_buffer(const nsgsim_policy *policy, void **buf, size_t *len,
                                            nsgsim_error *err);
/* Loads and compiles (NSGSIM_BUILD_FULL); *out for nsgsim_policy_free. */
NSGSIM_EXPORT int nsgsim_policy_load(const char *path, nsgsim_policy **out, nsgsim_error *err);
/* The same from memory; name is used in error messages. */
NSGSIM_EXPORT int nsgsim_policy_load_buffer(const char *name, const void *data, size_t len,
                                            nsgsim_policy **out, nsgsim_error *err);
/* Fills an empty loader from a compiled policy file (as if its input had
 * been added), so that nsgsim_loader_set_build applies; nothing else may be
 * added to that loader (the other add functions and
 * nsgsim_loader_set_parameter then fail with NSGSIM_E_INVALID_ARG).
 * NSGSIM_E_INVALID_ARG when the loader holds input. */
NSGSIM_EXPORT int nsgsim_loader_add_policy_file(nsgsim_loader *loader, const char *path,
                                                nsgsim_error *err);
NSGSIM_EXPORT int nsgsim_loader_add_policy_buffer(nsgsim_loader *loader, const char *name,
                                                  const void *data, size_t len, nsgsim_error *err);
/* Whether data starts with the magic bytes of a compiled policy file. */
NSGSIM_EXPORT int nsgsim_policy_file_detect(const void *data, size_t len);

/* ---- notes: warnings and skipped input -------------------------------- */

typedef enum nsgsim_note_kind {
	NSGSIM_NOTE_SKIPPED = 1, /* a resource of a type nsgsim does not model */
	NSGSIM_NOTE_LIMIT = 2,   /* above one of Azure's documented limits */
	NSGSIM_NOTE_WARNING = 3, /* accepted, but worth a look */
} nsgsim_note_kind;

typedef struct nsgsim_note {
	int kind;
	const char *message;
	const char *file;
	const char *pointer;
	const char *resource;
} nsgsim_note;

NSGSIM_EXPORT size_t nsgsim_policy_note_count(const nsgsim_policy *policy);
/* The strings stay valid as long as the policy.  Returns 0 or
 * NSGSIM_E_INVALID_ARG for an index out of range. */
NSGSIM_EXPORT int nsgsim_policy_note(const nsgsim_policy *policy, size_t index, nsgsim_note *out);

/* Counts of what the policy holds, for summaries and tests. */
typedef struct nsgsim_stats {
	size_t vnets, subnets, nics, nsgs;
	size_t nsg_rules; /* both directions, Azure's six default rules of each NSG included */
	size_t asgs, route_tables;
	size_t network_managers, admin_rules, service_tags;
} nsgsim_stats;
NSGSIM_EXPORT void nsgsim_policy_stats(const nsgsim_policy *policy, nsgsim_stats *out);

/* The resources of a policy by kind, in input order (nsgsim list). */
typedef enum nsgsim_resource_kind {
	NSGSIM_RESOURCE_NIC = 1,
	NSGSIM_RESOURCE_SUBNET = 2,
	NSGSIM_RESOURCE_NSG = 3,
	NSGSIM_RESOURCE_ASG = 4,
	NSGSIM_RESOURCE_MANAGER = 5, /* network managers */
} nsgsim_resource_kind;

typedef struct nsgsim_resource {
	const char *name; /* as the input spells it */
	const char *id;   /* the Azure resource id */
	const char *file; /* the input file and the JSON pointer it came from */
	const char *pointer;
} nsgsim_resource;

/* How many resources of a kind the policy holds (0 for an unknown kind). */
NSGSIM_EXPORT size_t nsgsim_policy_resource_count(const nsgsim_policy *policy, int kind);
/* The strings stay valid as long as the policy.  Returns 0 or
 * NSGSIM_E_INVALID_ARG for an unknown kind or an index out of range. */
NSGSIM_EXPORT int nsgsim_policy_resource(const nsgsim_policy *policy, int kind, size_t index,
                                         nsgsim_resource *out);

/* ---- lint: findings a security reviewer acts on ----------------------------
 *
 * Every finding is computed, not read off one rule's text: a shadowed rule
 * is one the earlier rules of its NSG cover exactly, at every subnet and NIC
 * the NSG is attached to (VirtualNetwork expanded per attachment); a rule
 * that never decides (NSG or admin) is the first match of its layer in no
 * end-to-end walk that reaches the layer, over every flow. */

typedef enum nsgsim_level {
	NSGSIM_LEVEL_NOTE = 1,
	NSGSIM_LEVEL_WARNING = 2,
	NSGSIM_LEVEL_ERROR = 3,
} nsgsim_level;

typedef struct nsgsim_finding {
	const char *id;       /* "shadowed-rule", "unattached-nsg", ... (stable) */
	int level;            /* nsgsim_level */
	const char *resource; /* the resource's id */
	const char *rule;     /* the rule's id, or NULL for a finding about a resource */
	const char *file;     /* where the rule or resource was read */
	const char *pointer;
	const char *message;  /* what is wrong and what to do */
	const char *evidence; /* a JSON object: the rules and resources involved */
	int line;             /* the line of the rule's or resource's object in file; 0 unknown */
} nsgsim_finding;

typedef struct nsgsim_findings nsgsim_findings;

/* Every check on the policy; *out for nsgsim_findings_free.  0,
 * NSGSIM_E_NOMEM or NSGSIM_E_INVALID_ARG. */
NSGSIM_EXPORT int nsgsim_lint(const nsgsim_policy *policy, nsgsim_findings **out,
                              nsgsim_error *err);
/* How far a long call has got: done of total units (total is the same for
 * every call of one run; done grows to total).  Called from the calling
 * thread, often enough for a progress bar and no more than about a
 * thousand times. */
typedef void (*nsgsim_progress_fn)(void *ctx, uint64_t done, uint64_t total);
/* nsgsim_lint, reporting its progress to fn (NULL: none). */
NSGSIM_EXPORT int nsgsim_lint_progress(const nsgsim_policy *policy, nsgsim_progress_fn fn,
                                       void *ctx, nsgsim_findings **out, nsgsim_error *err);
/* How nsgsim_lint_opts runs (zeroed: as nsgsim_lint). */
typedef struct nsgsim_lint_options {
	nsgsim_progress_fn progress; /* NULL: none */
	void *progress_ctx;
	/* Threads for the costly checks (0 or 1: the calling thread only); the
	 * findings are the same, in the same order, for every value. */
	int jobs;
} nsgsim_lint_options;
/* nsgsim_lint with options (NULL: the defaults). */
NSGSIM_EXPORT int nsgsim_lint_opts(const nsgsim_policy *policy, const nsgsim_lint_options *opts,
                                   nsgsim_findings **out, nsgsim_error *err);
NSGSIM_EXPORT size_t nsgsim_findings_count(const nsgsim_findings *findings);
/* The strings stay valid as long as the findings and the policy. */
NSGSIM_EXPORT int nsgsim_findings_get(const nsgsim_findings *findings, size_t i,
                                      nsgsim_finding *out);
NSGSIM_EXPORT void nsgsim_findings_free(nsgsim_findings *findings);
/* "note", "warning", "error" (SARIF's words), or NULL. */
NSGSIM_EXPORT const char *nsgsim_level_name(int level);

/* ---- effective security rules ----------------------------------------- */

typedef enum nsgsim_format {
	NSGSIM_FORMAT_JSON = 0,  /* the shape of `az network nic list-effective-nsg` */
	NSGSIM_FORMAT_TABLE = 1, /* a readable table */
} nsgsim_format;

/* The effective security rules of a NIC, given by name or id (ids compare
 * case-insensitively; a name must be unique).  *out is a NUL-terminated
 * string for nsgsim_free(). */
NSGSIM_EXPORT int nsgsim_effective(const nsgsim_policy *policy, const char *nic,
                                   nsgsim_format format, char **out, nsgsim_error *err);

NSGSIM_EXPORT void nsgsim_free(void *ptr);

/* ---- the resolved model ------------------------------------------------ */

typedef enum nsgsim_show_format {
	NSGSIM_SHOW_TEXT = 0, /* a summary: deployment, counts, notes, skipped resources */
	NSGSIM_SHOW_JSON = 1, /* one REST-shaped {"value": [...]} document */
} nsgsim_show_format;

/* The model the policy was compiled from.  NSGSIM_SHOW_JSON writes every
 * resource nsgsim read -- NSGs with their rules as written (singular or
 * plural fields, ASGs), VNets with subnets and peerings, NICs, ASGs, route
 * tables with routes, network managers with their groups, static members,
 * security admin configurations, rule collections and rules -- with Azure's
 * property names, in input order by kind; loading it back (with the same
 * service tags) gives the same answers, and showing that gives the same
 * bytes.  Azure's six default rules are not written (every NSG has them).
 * *out is a NUL-terminated string for nsgsim_free(). */
NSGSIM_EXPORT int nsgsim_policy_show(const nsgsim_policy *policy, int format, char **out,
                                     nsgsim_error *err);

/* ---- flows -------------------------------------------------------------- */

/* IANA protocol numbers. */
typedef enum nsgsim_protocol {
	NSGSIM_PROTO_ICMP = 1,
	NSGSIM_PROTO_TCP = 6,
	NSGSIM_PROTO_UDP = 17,
	NSGSIM_PROTO_ESP = 50,
	NSGSIM_PROTO_AH = 51,
} nsgsim_protocol;

typedef struct nsgsim_ip {
	int family;        /* 4 or 6 */
	uint8_t bytes[16]; /* network order; IPv4 uses the first 4 */
} nsgsim_ip;

#define NSGSIM_PORT_ANY (-1)

typedef struct nsgsim_flow {
	int protocol; /* nsgsim_protocol */
	nsgsim_ip src, dst;
	int src_port; /* 0-65535, or NSGSIM_PORT_ANY: every source port */
	int dst_port; /* 0-65535; NSGSIM_PORT_ANY for ICMP, ESP and AH */
} nsgsim_flow;

/* Parses "PROTO SRC[:PORT] DST[:PORT]", e.g. "tcp 10.0.1.4:50000 10.0.2.5:443",
 * "udp [2001:db8::1]:5000 [2001:db8::2]:53", "icmp 10.0.0.4 10.0.0.5".
 * PROTO is tcp, udp, icmp, esp or ah in any case; TCP and UDP need a
 * destination port; a missing source port means every source port. */
NSGSIM_EXPORT int nsgsim_flow_parse(const char *text, nsgsim_flow *out, nsgsim_error *err);

/* ---- evaluation ---------------------------------------------------------- */

typedef enum nsgsim_verdict { NSGSIM_ALLOW = 1, NSGSIM_DENY = 2 } nsgsim_verdict;
typedef enum nsgsim_access {
	NSGSIM_ACCESS_ALLOW = 1,
	NSGSIM_ACCESS_DENY = 2,
	NSGSIM_ACCESS_ALWAYS_ALLOW = 3,
} nsgsim_access;
typedef enum nsgsim_layer {
	NSGSIM_LAYER_NONE = 0,
	NSGSIM_LAYER_ADMIN = 1,      /* AVNM security admin rules of one network manager */
	NSGSIM_LAYER_SUBNET_NSG = 2, /* the NSG on the endpoint's subnet */
	NSGSIM_LAYER_NIC_NSG = 3,    /* the NSG on the endpoint's NIC */
	/* Azure's host services (DNS, DHCP, WireServer on 168.63.129.16, IMDS on
	 * 169.254.169.254), which NSGs do not filter; its rule is PlatformRule
	 * (README, "How nsgsim evaluates"; docs/SEMANTICS.md §3.7). */
	NSGSIM_LAYER_PLATFORM = 4,
} nsgsim_layer;
typedef enum nsgsim_endpoint {
	NSGSIM_ENDPOINT_NONE = 0,
	NSGSIM_ENDPOINT_SOURCE = 1,
	NSGSIM_ENDPOINT_DESTINATION = 2,
} nsgsim_endpoint;
typedef enum nsgsim_direction { NSGSIM_INBOUND = 1, NSGSIM_OUTBOUND = 2 } nsgsim_direction;

/* Where Azure documents nothing, nsgsim takes a documented default
 * (docs/SEMANTICS.md §11).  A result lists each one that influenced it.
 * X(NAME, bit, key, text) */
#define NSGSIM_ASSUMPTION_MAP(X)                                                                   \
	X(ANY_PROTOCOL, 1u << 0, "any-protocol-covers-esp-ah",                                     \
	  "'*'/Any protocol is taken to cover ESP and AH too (docs/SEMANTICS.md §11 decision 4)")  \
	X(PORTLESS_PROTOCOL, 1u << 1, "portless-protocol-port-clauses",                            \
	  "an ICMP/ESP/AH flow matches a rule's port clause only when it is any "                  \
	  "(docs/SEMANTICS.md §11 decision 5)")                                                    \
	X(MANAGER_LEVELS, 1u << 2, "network-manager-levels",                                       \
	  "several network managers are evaluated one level each, highest scope first "            \
	  "(docs/SEMANTICS.md §11 decision 2)")                                                    \
	X(ADMIN_PRIORITY_TIE, 1u << 3, "admin-priority-tie",                                       \
	  "equal admin priorities across rule collections are ordered Deny, AlwaysAllow, Allow, "  \
	  "then by collection id and rule name (docs/SEMANTICS.md §11 decision 3)")                \
	X(ALWAYS_ALLOW_INTENT, 1u << 4, "always-allow-is-allow-rule",                              \
	  "under AllowRulesOnly, AlwaysAllow counts as an allow rule (docs/SEMANTICS.md §11 "     \
	  "decision 6)")                                                                           \
	X(EMPTY_ADMIN_LIST, 1u << 5, "empty-admin-list-is-any",                                    \
	  "an empty or absent admin sources/destinations/ports list means any (docs/SEMANTICS.md " \
	  "§11 decision 7)")                                                                       \
	X(INTERNET_TAG, 1u << 6, "internet-tag-prefixes",                                          \
	  "the Internet tag is the public address space minus reserved ranges (docs/SEMANTICS.md " \
	  "§11 decision 8)")                                                                       \
	X(VNET_TAG_ROUTES, 1u << 7, "virtualnetwork-tag-includes-routes",                          \
	  "VirtualNetwork includes the prefixes of the subnet's routes (docs/SEMANTICS.md §11, "  \
	  "computed tags)")                                                                        \
	X(MGMT_GROUP_SCOPE, 1u << 8, "management-group-scope",                                     \
	  "a network manager scoped to management groups is taken to reach every subscription")    \
	X(ADMIN_DEPLOYED, 1u << 9, "admin-configuration-deployed",                                 \
	  "every security admin configuration in the input is taken as deployed to the "           \
	  "VNet's region (docs/SEMANTICS.md §6.3)")                                                \
	X(AMBIGUOUS_ENDPOINT, 1u << 10, "ambiguous-endpoint",                                      \
	  "the address belongs to more than one NIC or subnet; the first in input order was "      \
	  "used")                                                                                  \
	X(APP_GATEWAY_NOT_ISOLATED, 1u << 11, "application-gateway-not-isolated",                  \
	  "an Application Gateway subnet is taken as not network-isolated, so admin rules skip "   \
	  "it (docs/SEMANTICS.md §6.4)")                                                           \
	X(SOURCE_PORTS_DIFFER, 1u << 12, "source-ports-differ",                                    \
	  "no source port was given and the verdict differs between source ports; this result "    \
	  "is for the first denied range")                                                         \
	X(EMPTY_NETWORK_GROUP, 1u << 14, "empty-network-group",                                    \
	  "a network group of a manager that reaches this VNet has no static members and no "      \
	  "Azure Policy in the input; its members (dynamic, by policy) are unknown, so its admin " \
	  "rules were applied to none")                                                            \
	X(UNASSIGNED_ADDRESS, 1u << 13, "unassigned-address",                                      \
	  "an address inside a subnet that no NIC's ipConfiguration holds is evaluated at the "    \
	  "subnet alone (a private endpoint or PaaS address -- or a typo)")                        \
	X(UNKNOWN_NIC_ADDRESS, 1u << 15, "unknown-nic-address",                                    \
	  "a NIC's private IP address is known only after deployment (a plan's dynamic "           \
	  "address): the NIC was evaluated for the flow's address, and an address flow finds it "  \
	  "only by --at")                                                                          \
	X(PLATFORM_SERVICES, 1u << 16, "platform-services",                                        \
	  "the host's services pass ahead of admin rules as well as NSGs; DHCP is taken as "       \
	  "UDP 67 and IMDS as TCP 80 to 169.254.169.254; an NSG Deny naming AzurePlatformDNS or "  \
	  "AzurePlatformIMDS turns that service off whatever its ports, and the tag means the "    \
	  "service's address (docs/SEMANTICS.md §3.7)")

typedef enum nsgsim_assumption {
#define NSGSIM_X_ASSUME(name, bit, key, text) NSGSIM_ASSUME_##name = (bit),
	NSGSIM_ASSUMPTION_MAP(NSGSIM_X_ASSUME)
#undef NSGSIM_X_ASSUME
} nsgsim_assumption;

/* "AdminRule", "SubnetNsg", "NicNsg", "Platform" or "None" (the names the JSON output
 * and assertion files use); NULL for an unknown layer. */
NSGSIM_EXPORT const char *nsgsim_layer_name(int layer);

/* The key ("internet-tag-prefixes") and text of one assumption bit; NULL for
 * an unknown bit. */
NSGSIM_EXPORT const char *nsgsim_assumption_key(unsigned bit);
NSGSIM_EXPORT const char *nsgsim_assumption_text(unsigned bit);

/* A rule, as named in the input.  Strings point into the policy. */
typedef struct nsgsim_rule_ref {
	const char *name; /* NULL when no rule matched */
	const char *id;
	int priority;
	int access;     /* nsgsim_access */
	int is_default; /* one of an NSG's default rules */
} nsgsim_rule_ref;

typedef struct nsgsim_layer_result {
	int layer;              /* nsgsim_layer */
	const char *resource;   /* the network manager's or the NSG's id; "AzurePlatform" */
	const char *applied_to; /* the VNet (admin), subnet or NIC id */
	int matched;            /* 1 when a rule matched; rule is then set */
	nsgsim_rule_ref rule;
	/* AdminRule layers: how the VNet (or subnet) is in the network group
	 * that brings the rules here (the matched rule's collection's, else the
	 * level's first rule's).  member_kind "static" or "policy"; member_by
	 * the static member's id or the policy definition's; member_assignment
	 * the policy assignment's (NULL for a static member).  NULL for NSGs. */
	const char *member_group;
	const char *member_kind;
	const char *member_by;
	const char *member_assignment;
} nsgsim_layer_result;

#define NSGSIM_MAX_LAYERS 16

typedef struct nsgsim_side_result {
	int endpoint;    /* nsgsim_endpoint */
	int direction;   /* nsgsim_direction: Outbound at the source, Inbound at the destination */
	const char *nic; /* the NIC holding the address, or NULL (subnet only) */
	const char *subnet; /* the subnet holding the address */
	const char *vnet;
	int verdict;
	/* Why admin rules did not apply here (a service subnet, a network intent
	 * policy service), or NULL. */
	const char *admin_skipped;
	int n_layers;
	nsgsim_layer_result layers[NSGSIM_MAX_LAYERS];
} nsgsim_side_result;

typedef struct nsgsim_result {
	int verdict; /* nsgsim_verdict */
	/* For Deny the rule that denied; for Allow the rule that allowed last on
	 * the last side evaluated; layer NONE when no rule matched there. */
	int decided_layer;
	int decided_endpoint;
	nsgsim_rule_ref decided_rule;
	const char *decided_resource;
	int n_sides;
	nsgsim_side_result sides[2];
	unsigned assumptions; /* NSGSIM_ASSUME_* bits */
	int src_port;         /* the source port evaluated (NSGSIM_PORT_ANY: all agreed) */
	int src_modelled;     /* the source address belongs to a NIC or subnet */
	int dst_modelled;
	int one_sided; /* from nsgsim_eval_at: only sides[0] was evaluated */
} nsgsim_result;

typedef enum nsgsim_engine {
	NSGSIM_ENGINE_LINEAR = 0, /* the reference: a plain scan of every rule */
	/* Per-chain classifiers built at compile time (equivalence classes per
	 * field, rule bitsets ANDed); identical answers, assumptions included.
	 * The default of nsgsim_eval, nsgsim_eval_at and
	 * nsgsim_eval_source_ports. */
	NSGSIM_ENGINE_COMPILED = 1,
} nsgsim_engine;

/* Evaluates a flow end to end: Outbound at the source when its address
 * belongs to a modelled endpoint, then Inbound at the destination; both
 * must allow.  Fills *out without allocating; safe to call from many
 * threads on one policy.  NSGSIM_E_NOT_MODELLED when neither address is
 * modelled (an answer would hide a typo).  With src_port NSGSIM_PORT_ANY,
 * every source port is evaluated: out->src_port is NSGSIM_PORT_ANY when
 * they all agree, else the result is for the first denied port range. */
NSGSIM_EXPORT int nsgsim_eval(const nsgsim_policy *policy, const nsgsim_flow *flow,
                              nsgsim_result *out, nsgsim_error *err);

/* nsgsim_eval with a chosen engine (nsgsim_engine). */
NSGSIM_EXPORT int nsgsim_eval_engine(const nsgsim_policy *policy, const nsgsim_flow *flow,
                                     int engine, nsgsim_result *out, nsgsim_error *err);

/* The answer for one flow of a batch: what nsgsim_eval would put in the
 * corresponding fields of nsgsim_result, without the per-layer trace. */
typedef struct nsgsim_decision {
	int status; /* 0, or the NSGSIM_E_* code nsgsim_eval returns for this flow
	               (BAD_FLOW, NOT_MODELLED); the other fields are then 0 */
	int verdict;
	int decided_layer;
	int decided_endpoint;
	nsgsim_rule_ref decided_rule;
	const char *decided_resource;
	unsigned assumptions;
	int src_port; /* as nsgsim_result.src_port */
} nsgsim_decision;

/* Evaluates n flows into out[0..n), in order, prefetching for the flows a
 * few places ahead (the fast way to replay a trace).  Returns 0 when every
 * flow was evaluated, even if some have a non-zero status;
 * NSGSIM_E_INVALID_ARG for bad arguments or engine; NSGSIM_E_LIMIT when n
 * exceeds NSGSIM_LIMIT_BATCH_FLOWS.  No allocation; thread-safe like
 * nsgsim_eval; split a trace across threads by slicing flows and out. */
NSGSIM_EXPORT int nsgsim_eval_batch(const nsgsim_policy *policy, const nsgsim_flow *flows, size_t n,
                                    int engine, nsgsim_decision *out, nsgsim_error *err);

/* One side only, as Network Watcher's IP flow verify does: the flow at one
 * NIC (name or id) in one direction. */
NSGSIM_EXPORT int nsgsim_eval_at(const nsgsim_policy *policy, const nsgsim_flow *flow,
                                 const char *nic, int direction, nsgsim_result *out,
                                 nsgsim_error *err);
/* nsgsim_eval_at with a chosen engine (nsgsim_engine). */
NSGSIM_EXPORT int nsgsim_eval_at_engine(const nsgsim_policy *policy, const nsgsim_flow *flow,
                                        const char *nic, int direction, int engine,
                                        nsgsim_result *out, nsgsim_error *err);

/* Where nsgsim evaluates an address: the NIC whose ipConfiguration holds
 * it (NULL when none does) in the subnet that holds it, or nothing (both
 * NULL: external, evaluated nowhere).  A subnet without a NIC is the
 * unassigned-address case.  Strings stay valid as long as the policy. */
typedef struct nsgsim_location {
	const char *nic, *nic_name;       /* id and name, or NULL */
	const char *subnet, *subnet_name; /* id and name, or NULL */
	int ambiguous;                    /* another NIC or subnet holds it too */
} nsgsim_location;

/* 0, or NSGSIM_E_INVALID_ARG for a missing argument or an unknown family. */
NSGSIM_EXPORT int nsgsim_locate(const nsgsim_policy *policy, const nsgsim_ip *ip,
                                nsgsim_location *out);

/* The id of the NIC whose macAddress is mac ("00-0D-3A-F8-78-56",
 * "000D3AF87856": separators and case ignored), as flow logs name the NIC
 * that logged a tuple; NULL when no NIC has it.  Valid as long as the
 * policy. */
NSGSIM_EXPORT const char *nsgsim_nic_by_mac(const nsgsim_policy *policy, const char *mac);

/* Source-port ranges with the same outcome, for a flow without a source
 * port: fills up to cap entries, sets *n to the number of ranges. */
typedef struct nsgsim_port_outcome {
	int lo, hi;
	int verdict;
	int decided_layer;
	int decided_endpoint;
	nsgsim_rule_ref decided_rule;
} nsgsim_port_outcome;

NSGSIM_EXPORT int nsgsim_eval_source_ports(const nsgsim_policy *policy, const nsgsim_flow *flow,
                                           nsgsim_port_outcome *out, size_t cap, size_t *n,
                                           nsgsim_error *err);

/* Per-rule detail of one evaluated layer, as NSG diagnostics reports it:
 * the rules in order up to and including the one that matched. */
typedef struct nsgsim_rule_detail {
	nsgsim_rule_ref rule;
	int protocol_matched, source_matched, source_port_matched;
	int destination_matched, destination_port_matched;
	/* What matched on each side: "*", a prefix, a tag or ASG name. */
	const char *source_matched_by, *destination_matched_by;
} nsgsim_rule_detail;

NSGSIM_EXPORT int nsgsim_explain(const nsgsim_policy *policy, const nsgsim_flow *flow,
                                 const nsgsim_result *result, int side, int layer,
                                 nsgsim_rule_detail *out, size_t cap, size_t *n, nsgsim_error *err);

/* Renders a result: NSGSIM_FORMAT_JSON is the documented --json object;
 * NSGSIM_FORMAT_TABLE a short explanation, one line per layer.  With
 * verbose, the per-rule detail of nsgsim_explain is included. */
NSGSIM_EXPORT int nsgsim_result_render(const nsgsim_policy *policy, const nsgsim_flow *flow,
                                       const nsgsim_result *result, nsgsim_format format,
                                       int verbose, char **out, nsgsim_error *err);

/* ---- flow logs (nsgsim replay) -------------------------------------------
 *
 * A reader of Azure's flow logs (lib/parse/flowlog.c): NSG flow logs
 * version 1 and 2 (records[].properties.flows[{rule, flows[{mac,
 * flowTuples}]}]) and VNet flow logs version 4
 * (records[].flowRecords.flows[{aclID, flowGroups[{rule, flowTuples}]}]), a
 * whole file (gzip too) or a directory of the hourly PT1H.json blobs as
 * Azure stores them (read recursively in sorted path order).  Each tuple is
 * handed to a callback without allocating; its strings stay valid only
 * during the call.  Bad input is an error naming the file, the JSON pointer
 * and what was expected (NSGSIM_E_JSON, _SHAPE, _MISSING_FIELD, _BAD_FLOW). */

typedef struct nsgsim_flowlog nsgsim_flowlog;

typedef struct nsgsim_flowlog_tuple {
	int version;       /* 1, 2 (NSG flow logs) or 4 (VNet flow logs) */
	long long time_ms; /* the tuple's time, ms since the epoch (v1/v2: seconds x 1000) */
	nsgsim_flow flow;  /* protocol, addresses and both ports as logged */
	int direction;     /* NSGSIM_INBOUND or NSGSIM_OUTBOUND */
	int decision;      /* NSGSIM_ALLOW or NSGSIM_DENY */
	/* 'B' begin, 'C' continuing, 'E' end; v1 logs none ('B' is given); a
	 * v4 denied flow ('D') is 'B' with decision NSGSIM_DENY. */
	char state;
	const char *rule; /* as logged: "UserRule_web", "DefaultRule_DenyAllInBound",
	                     an admin rule's name, "PlatformRule" */
	/* v1/v2: the record's resourceId (the NSG); v4: the group's aclID (an
	 * NSG id, an admin configuration's GUID, or all zeros for the platform). */
	const char *acl;
	const char *target; /* v4: targetResourceID (VNet, subnet or NIC); v1/v2: "" */
	const char *mac;    /* the NIC's MAC as logged ("000D3AF87856"), or "" */
	const char *file;   /* the file (or buffer name) */
	/* Where the tuple is: records/R/.../flows/F/(flows|flowGroups)/G/flowTuples/T. */
	int record, flow_index, group, index;
	size_t offset; /* byte offset of the tuple in the (decompressed) text */
	/* The counters (0 when not logged). */
	unsigned long long packets_out, bytes_out, packets_in, bytes_in;
} nsgsim_flowlog_tuple;

/* Return 0 to go on; any other value stops the read, which returns it. */
typedef int (*nsgsim_flowlog_fn)(void *ctx, const nsgsim_flowlog_tuple *tuple);

/* A reader keeps its buffers from one file to the next.  NULL when out of
 * memory; free accepts NULL. */
NSGSIM_EXPORT nsgsim_flowlog *nsgsim_flowlog_new(void);
NSGSIM_EXPORT void nsgsim_flowlog_free(nsgsim_flowlog *reader);
/* A file (JSON or gzip'd JSON) or a directory tree of them (*.json,
 * *.json.gz, *.gz).  0, the callback's non-zero value, or a negative code. */
NSGSIM_EXPORT int nsgsim_flowlog_read(nsgsim_flowlog *reader, const char *path,
                                      nsgsim_flowlog_fn fn, void *ctx, nsgsim_error *err);
/* The same from memory (gzip recognised by its magic bytes). */
NSGSIM_EXPORT int nsgsim_flowlog_read_buffer(nsgsim_flowlog *reader, const char *name,
                                             const void *data, size_t len, nsgsim_flowlog_fn fn,
                                             void *ctx, nsgsim_error *err);
/* The tuple's JSON pointer, like snprintf. */
NSGSIM_EXPORT int nsgsim_flowlog_pointer(const nsgsim_flowlog_tuple *tuple, char *buf, size_t cap);

/* ---- sets of flows: reach and diff ---------------------------------------
 *
 * Exact answers over the whole header space: the partition of a query's
 * flows (protocols x sources x source ports x destinations x destination
 * ports) into regions that share one verdict and one deciding rule, through
 * the same walk as nsgsim_eval.  Every flow inside a region gets from
 * nsgsim_eval exactly the region's verdict, deciding layer, rule and
 * endpoint; the regions are disjoint and together cover the query's space.
 * These queries allocate (the result is the caller's, freed once with
 * nsgsim_regions_free) and stop with NSGSIM_E_LIMIT at
 * NSGSIM_LIMIT_QUERY_REGIONS of the policy (of `after` for a diff). */

/* Protocols of a query or a region, as bits. */
typedef enum nsgsim_proto_bits {
	NSGSIM_PBIT_ICMP = 1,
	NSGSIM_PBIT_TCP = 2,
	NSGSIM_PBIT_UDP = 4,
	NSGSIM_PBIT_ESP = 8,
	NSGSIM_PBIT_AH = 16,
	NSGSIM_PBITS_ALL = 31,
} nsgsim_proto_bits;

typedef struct nsgsim_query {
	/* The destinations: an IP, a CIDR, a NIC (name or id), a subnet (id,
	 * or a unique name), or a service tag ("Internet", "AzureCloud.westeurope").
	 * A diff may leave it NULL: every flow with an endpoint modelled in
	 * either policy. */
	const char *to;
	/* The sources, in the same forms; NULL: every address of each of the
	 * destinations' families. */
	const char *from;
	unsigned protocols; /* nsgsim_proto_bits; 0: all five */
	int allowed_only;   /* reach: only the regions that are allowed */
	int rules;          /* diff: also regions where only the deciding rule changed */
} nsgsim_query;

/* A verdict of the set queries beside NSGSIM_ALLOW and NSGSIM_DENY: neither
 * endpoint is modelled (nsgsim_eval refuses such a flow with
 * NSGSIM_E_NOT_MODELLED). */
#define NSGSIM_UNMODELLED 3

/* What decides a region's flows. */
typedef struct nsgsim_decided {
	int verdict;  /* NSGSIM_ALLOW, NSGSIM_DENY or NSGSIM_UNMODELLED */
	int layer;    /* nsgsim_layer, as nsgsim_result.decided_layer */
	int endpoint; /* nsgsim_endpoint, as nsgsim_result.decided_endpoint */
	nsgsim_rule_ref rule;
	const char *resource;
} nsgsim_decided;

typedef struct nsgsim_regions nsgsim_regions;

typedef struct nsgsim_region {
	unsigned protocols; /* nsgsim_proto_bits: TCP/UDP, or ICMP/ESP/AH (no ports) */
	int family;         /* 4 or 6 */
	/* Ranges of each field (nsgsim_region_range); 0 ports for ICMP, ESP, AH. */
	size_t n_sources, n_source_ports, n_destinations, n_destination_ports;
	nsgsim_decided decided; /* reach; for a diff, after the change */
	nsgsim_decided before;  /* diff: before the change */
} nsgsim_region;

typedef enum nsgsim_field {
	NSGSIM_FIELD_SOURCES = 0,
	NSGSIM_FIELD_SOURCE_PORTS = 1,
	NSGSIM_FIELD_DESTINATIONS = 2,
	NSGSIM_FIELD_DESTINATION_PORTS = 3,
} nsgsim_field;

/* Regions of the flows of a query to query->to; sorted by destination,
 * destination port, source.  The strings of a region point into the
 * policy: free the regions first. */
NSGSIM_EXPORT int nsgsim_reach(const nsgsim_policy *policy, const nsgsim_query *query,
                               nsgsim_regions **out, nsgsim_error *err);
/* The regions whose verdict differs between two policies compiled on their
 * own (and with query->rules, whose deciding rule does). */
NSGSIM_EXPORT int nsgsim_diff(const nsgsim_policy *before, const nsgsim_policy *after,
                              const nsgsim_query *query, nsgsim_regions **out, nsgsim_error *err);
NSGSIM_EXPORT void nsgsim_regions_free(nsgsim_regions *regions);
NSGSIM_EXPORT size_t nsgsim_regions_count(const nsgsim_regions *regions);
/* 0, or NSGSIM_E_INVALID_ARG for an index out of range. */
NSGSIM_EXPORT int nsgsim_regions_get(const nsgsim_regions *regions, size_t i, nsgsim_region *out);
/* The k-th range [lo, hi] of a field of region i: addresses in lo_ip/hi_ip,
 * ports in lo_port/hi_port (either pair may be NULL). */
NSGSIM_EXPORT int nsgsim_region_range(const nsgsim_regions *regions, size_t i, int field, size_t k,
                                      nsgsim_ip *lo_ip, nsgsim_ip *hi_ip, int *lo_port,
                                      int *hi_port);
/* 1 when the flow (with a source port for TCP and UDP) lies in region i,
 * else 0. */
NSGSIM_EXPORT int nsgsim_region_contains(const nsgsim_regions *regions, size_t i,
                                         const nsgsim_flow *flow);
/* Counts of a diff: the regions that became allowed, and those that stopped
 * being allowed. */
NSGSIM_EXPORT void nsgsim_regions_summary(const nsgsim_regions *regions, size_t *opened,
                                          size_t *closed);
/* The documented JSON object (NSGSIM_FORMAT_JSON) or a table, one region a
 * line; *out for nsgsim_free. */
NSGSIM_EXPORT int nsgsim_regions_render(const nsgsim_regions *regions, nsgsim_format format,
                                        char **out, nsgsim_error *err);

/* ---- the segmentation matrix ----------------------------------------------
 *
 * Rows are sources, columns destinations: the subnets, NICs or ASGs of the
 * policy (NSGSIM_MATRIX_BY_*), and as rows also the external sources
 * Internet and AzureLoadBalancer.  A cell holds the protocols and
 * destination ports on which SOME flow from the row's addresses (any source
 * port) to the column's addresses is allowed, computed by nsgsim_reach (an
 * ASG's cell: the union over its member NICs), with the allowed regions and
 * their deciding rules.  A port outside the cell is denied for every flow
 * from the row to the column; a port inside it is allowed for every flow
 * unless the cell is partial.  Stops with NSGSIM_E_LIMIT when the regions of
 * all cells pass NSGSIM_LIMIT_QUERY_REGIONS. */

typedef enum nsgsim_matrix_by {
	NSGSIM_MATRIX_BY_SUBNET = 0,
	NSGSIM_MATRIX_BY_NIC = 1,
	NSGSIM_MATRIX_BY_ASG = 2,
} nsgsim_matrix_by;

typedef struct nsgsim_matrix nsgsim_matrix;

typedef struct nsgsim_matrix_label {
	const char *name; /* "vnet/subnet", a NIC's or an ASG's name, or the tag */
	const char *id;   /* the resource id, or the service tag's name */
	int kind;         /* nsgsim_resource_kind, 0 for a service tag */
} nsgsim_matrix_label;

typedef struct nsgsim_matrix_cell_info {
	unsigned protocols; /* nsgsim_proto_bits allowed on some port */
	size_t n_ports[2];  /* ranges of allowed destination ports: [0] TCP, [1] UDP */
	size_t n_regions;   /* allowed regions, in all of the cell's queries */
	size_t n_queries;   /* reach queries behind the cell (nsgsim_matrix_cell_regions) */
	/* 1 when some flow from the row to the column on an allowed protocol and
	 * port is denied (the cell holds for some sources or destinations
	 * only); 0 when every such flow is allowed. */
	int partial;
	const char *summary; /* "tcp 22,443; udp 53", "all" or "" */
} nsgsim_matrix_cell_info;

/* *out for nsgsim_matrix_free.  0, NSGSIM_E_INVALID_ARG, NSGSIM_E_NOMEM,
 * NSGSIM_E_LIMIT, or what nsgsim_reach returns. */
NSGSIM_EXPORT int nsgsim_matrix_build(const nsgsim_policy *policy, int by, nsgsim_matrix **out,
                                      nsgsim_error *err);
NSGSIM_EXPORT void nsgsim_matrix_free(nsgsim_matrix *matrix);
NSGSIM_EXPORT size_t nsgsim_matrix_rows(const nsgsim_matrix *matrix);
NSGSIM_EXPORT size_t nsgsim_matrix_columns(const nsgsim_matrix *matrix);
/* 0, or NSGSIM_E_INVALID_ARG for an index out of range. */
NSGSIM_EXPORT int nsgsim_matrix_row(const nsgsim_matrix *matrix, size_t i,
                                    nsgsim_matrix_label *out);
NSGSIM_EXPORT int nsgsim_matrix_column(const nsgsim_matrix *matrix, size_t j,
                                       nsgsim_matrix_label *out);
NSGSIM_EXPORT int nsgsim_matrix_cell(const nsgsim_matrix *matrix, size_t i, size_t j,
                                     nsgsim_matrix_cell_info *out);
/* The k-th allowed port range of TCP (tcp != 0) or UDP in cell (i, j). */
NSGSIM_EXPORT int nsgsim_matrix_cell_ports(const nsgsim_matrix *matrix, size_t i, size_t j, int tcp,
                                           size_t k, int *lo, int *hi);
/* 1 when the cell allows the protocol (nsgsim_protocol) on the destination
 * port (ignored for ICMP, ESP and AH), else 0. */
NSGSIM_EXPORT int nsgsim_matrix_cell_allows(const nsgsim_matrix *matrix, size_t i, size_t j,
                                            int protocol, int port);
/* The allowed regions of cell (i, j) behind the r-th reach query of the
 * cell (one for subnets and NICs, one per member pair for ASGs), or NULL. */
NSGSIM_EXPORT const nsgsim_regions *nsgsim_matrix_cell_regions(const nsgsim_matrix *matrix,
                                                               size_t i, size_t j, size_t r);
/* The documented JSON object (NSGSIM_FORMAT_JSON) or an aligned table;
 * *out for nsgsim_free. */
NSGSIM_EXPORT int nsgsim_matrix_render(const nsgsim_matrix *matrix, nsgsim_format format,
                                       char **out, nsgsim_error *err);

#ifdef __cplusplus
}
#endif
#endif
