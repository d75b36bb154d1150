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
	X(INTERNAL, -27, "internal error")

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

/* Fills buf with "file:line:col: pointer: resource: message" (parts that are
 * empty are left out).  Returns the length written, like snprintf. */
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
 * flattened shape `az` prints.  On error the loader keeps what it had. */
NSGSIM_EXPORT int nsgsim_loader_add_env(nsgsim_loader *loader, const char *path, nsgsim_error *err);
/* The same from memory; name is used in error messages. */
NSGSIM_EXPORT int nsgsim_loader_add_env_buffer(nsgsim_loader *loader, const char *name,
                                               const char *json, size_t len, nsgsim_error *err);
/* Reads Microsoft's service-tags download (ServiceTags_*.json) or the REST
 * serviceTags list response.  At most one tags source per loader. */
NSGSIM_EXPORT int nsgsim_loader_add_service_tags(nsgsim_loader *loader, const char *path,
                                                 nsgsim_error *err);
NSGSIM_EXPORT int nsgsim_loader_add_service_tags_buffer(nsgsim_loader *loader, const char *name,
                                                        const char *json, size_t len,
                                                        nsgsim_error *err);

/* Validates everything loaded and builds the immutable policy.  On success
 * the loaded content moves into the policy (no copy of the service tags is
 * made) and the loader is left empty; free it afterwards.  On failure the
 * loader keeps its content. */
NSGSIM_EXPORT int nsgsim_compile(nsgsim_loader *loader, nsgsim_policy **out, nsgsim_error *err);
NSGSIM_EXPORT void nsgsim_policy_free(nsgsim_policy *policy);

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
	size_t vnets, subnets, nics, nsgs, nsg_rules, asgs, route_tables;
	size_t network_managers, admin_rules, service_tags;
} nsgsim_stats;
NSGSIM_EXPORT void nsgsim_policy_stats(const nsgsim_policy *policy, nsgsim_stats *out);

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

#ifdef __cplusplus
}
#endif
#endif
