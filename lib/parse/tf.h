/* The Terraform reader (lib/parse/tf_doc.c, tf_refs.c, tf_types.c): reads
 * `terraform show -json` of a plan or of state and hands each azurerm
 * network resource, translated into its REST shape, to the environment
 * readers (load.h).  Parse stage only.
 *
 * Formats: https://developer.hashicorp.com/terraform/internals/json-format
 * (values representation, plan representation, configuration
 * representation: the "references" of each expression).  Resource
 * attributes: the azurerm provider's documentation of each resource. */
#ifndef NSGSIM_TF_H
#define NSGSIM_TF_H

#include "parse/load.h"

/* nsgsim's own: hops through module calls and outputs while following one
 * reference; instances that one reference may name. */
#define NS_TF_MAX_HOPS    16
#define NS_TF_MAX_TARGETS 256

typedef struct ns_tf_inst {
	const char *address; /* module.spoke["a"].azurerm_subnet.app[0] */
	const char *module;  /* its module instance: module.spoke["a"]; "" at the root */
	const char *type, *name;
	const char *index;          /* as the address writes it: 0, "a"; NULL without */
	const cJSON *values;        /* planned ("after") or state values */
	const cJSON *unknown;       /* after_unknown; NULL in state */
	const cJSON *config;        /* its configuration resource; NULL when absent */
	const cJSON *config_module; /* the configuration module declaring it */
	const char *ptr;            /* JSON pointer of values in the file */
	const char *id;             /* its Azure id, once built (NULL: none) */
	const char *id_why;         /* why the id could not be built */
	int id_state;               /* 0 not yet, 1 being built, 2 done */
	size_t next;                /* the next instance of the same resource, +1 */
} ns_tf_inst;

/* What an association resource adds to another resource. */
enum ns_tf_link_kind {
	NS_TF_SUBNET_NSG = 1,
	NS_TF_SUBNET_ROUTE_TABLE,
	NS_TF_NIC_NSG,
	NS_TF_NIC_ASG,
	NS_TF_DEPLOYED, /* a network manager deployment lists a configuration */
};

typedef struct ns_tf_link {
	int kind;
	const char *target; /* the id of the resource it changes */
	const char *value;  /* the id it adds */
	const char *ptr;    /* where the value is in the file */
	const ns_tf_inst *from;
	bool used;
} ns_tf_link;

typedef struct ns_tf_doc {
	ns_pctx *c;
	const cJSON *root;
	const cJSON *config_root; /* configuration.root_module; NULL in state */
	ns_tf_inst *insts;
	size_t n, cap;
	ns_map by_resource; /* "module\x1ftype.name" -> first instance + 1 */
	ns_map changes;     /* address -> resource_changes entry */
	ns_tf_link *links;
	size_t n_links, cap_links;
	bool has_deployments; /* a SecurityAdmin network manager deployment */
	const char *subscription;
	bool nomem; /* an arena string could not be made: the read fails with NSGSIM_E_NOMEM */
	bool subscription_default; /* nothing named one: noted when first used */
	bool subscription_noted;
} ns_tf_doc;

/* A resource instance a reference names, and the attribute after it
 * ("id", "name", "address_prefixes[0]"; "" for the resource itself). */
typedef struct ns_tf_target {
	const ns_tf_inst *inst;
	char attr[128];
} ns_tf_target;

/* A terraform show -json document (plan or state). */
bool ns_tf_is_document(const cJSON *root);
/* Reads it into the model (lib/parse/tf_doc.c). */
int ns_tf_walk(ns_pctx *c, const cJSON *root);

/* ns_arena_printf into the model's arena; on failure NULL and d->nomem
 * (lib/parse/tf_doc.c). */
char *ns_tf_printf(ns_tf_doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- lib/parse/tf_refs.c ---- */
/* The configuration module of a module instance (module.a["x"].module.b:
 * module_calls.a.module, then its module_calls.b.module); NULL if absent. */
const cJSON *ns_tf_config_module(const cJSON *root_cfg, const char *module);
/* The instances expr's references name, seen from instance `from`
 * (its module and index), following var.* through module calls and
 * module.*.* through outputs.  many: a list attribute (a reference without
 * an index names every instance).  0 with *n targets, or NSGSIM_E_NOMEM;
 * *n == 0 with *why saying why none could be found. */
int ns_tf_resolve(ns_tf_doc *d, const ns_tf_inst *from, const cJSON *expr, bool many,
                  ns_tf_target *out, size_t cap, size_t *n, const char **why);
/* The instance's Azure id, built the way Azure builds it (subscription,
 * resource group, parents, name); NULL with in->id_why when it cannot be. */
const char *ns_tf_id(ns_tf_doc *d, ns_tf_inst *in);
/* The value at an attribute path ("address_prefixes[0]", "subnet.0.id") of
 * an instance's values; NULL when absent or unknown. */
const cJSON *ns_tf_attr(const ns_tf_inst *in, const char *path);
/* The configuration block matching values block k of attribute key (a
 * list or set of nested blocks: by name, else by position). */
const cJSON *ns_tf_config_block(const cJSON *expressions, const char *key, const cJSON *block,
                                size_t k);
/* A string attribute of a block known now, or found through its
 * references (want_id: the target's id): *out NULL with *why when not. */
int ns_tf_string(ns_tf_doc *d, const ns_tf_inst *in, const cJSON *vals, const cJSON *unk,
                 const cJSON *expr, const char *key, bool want_id, const char **out,
                 const char **why);

/* ---- lib/parse/tf_emit.c ---- */
/* One instance being translated: the pointers of what it was translated
 * from, for errors (pctx remap). */
typedef struct ns_tf_map {
	char *rest, *file;
} ns_tf_map;

typedef struct ns_tf_tr {
	ns_tf_doc *d;
	ns_tf_inst *in;
	ns_tf_map *map;
	size_t n_map, cap_map;
	int rc; /* NSGSIM_E_NOMEM once anything failed */
} ns_tf_tr;

/* A block of Terraform values and the REST object it becomes. */
typedef struct ns_tf_blk {
	ns_tf_tr *tr;
	const cJSON *vals, *unk, *expr; /* values, after_unknown, configuration expressions */
	cJSON *obj;
	char rest[256];  /* obj's pointer in the REST resource */
	char file[1024]; /* vals' pointer in the file */
} ns_tf_blk;

void ns_tf_map_add(ns_tf_tr *t, const char *rest, const char *file);
/* A child block: nested values at file_key (NULL: the same values) filling
 * obj, which sits at rest_key under the parent's REST object. */
void ns_tf_blk_child(ns_tf_blk *child, const ns_tf_blk *parent, cJSON *obj, const char *rest_key,
                     const cJSON *vals, const cJSON *unk, const cJSON *expr, const char *file_key);
/* Adds v (NULL: out of memory) to b->obj as rest_key, from tf_key. */
cJSON *ns_tf_put(ns_tf_blk *b, const char *rest_key, const char *tf_key, cJSON *v);
/* An unknown that says what it depends on (why, else the attribute). */
cJSON *ns_tf_unknown(ns_tf_blk *b, const char *tf_key, const char *why);
/* Attributes read from Terraform into REST: "" and [] are absent; an
 * unknown value that references do not recover becomes an unknown. */
void ns_tf_put_str(ns_tf_blk *b, const char *tf_key, const char *rest_key);
void ns_tf_put_num(ns_tf_blk *b, const char *tf_key, const char *rest_key);
void ns_tf_put_bool(ns_tf_blk *b, const char *tf_key, const char *rest_key);
void ns_tf_put_strs(ns_tf_blk *b, const char *tf_key, const char *rest_key);
/* An id as {"id": ...} (ref), a list of them (refs), a plain string (id). */
void ns_tf_put_ref(ns_tf_blk *b, const char *tf_key, const char *rest_key);
void ns_tf_put_refs(ns_tf_blk *b, const char *tf_key, const char *rest_key);
void ns_tf_put_id(ns_tf_blk *b, const char *tf_key, const char *rest_key);
/* A list of ids as [{member: id}, ...] (refs: member "id"). */
void ns_tf_put_id_objects(ns_tf_blk *b, const char *tf_key, const char *rest_key,
                          const char *member);
/* The ids a list attribute holds or references: a new array of strings,
 * NULL with *why when unknown, NULL without when absent. */
int ns_tf_ids(ns_tf_blk *b, const char *tf_key, cJSON **out, const char **why);
/* The REST pointer p as the file's pointer (a pctx remap). */
const char *ns_tf_remap(void *ctx, const char *p, char *buf, size_t cap);
void ns_tf_tr_free(ns_tf_tr *t);

/* ---- lib/parse/tf_types.c ---- */
/* How a Terraform resource type becomes a REST resource: its type, and
 * how its id is built (in its resource group; under a parent named by an
 * attribute, or whose id an attribute holds). */
typedef struct ns_tf_kind {
	const char *tf_type;
	const char *rest_type;   /* NULL: an association or deployment (a link) */
	const char *parent_name; /* virtual_network_name */
	const char *parent_id;   /* network_manager_id */
} ns_tf_kind;
const ns_tf_kind *ns_tf_kind_of(const char *tf_type);
/* Association and deployment resources: recorded as links first. */
int ns_tf_collect_link(ns_tf_doc *d, ns_tf_inst *in);
/* One instance, translated and read; a note when its type is not modelled. */
int ns_tf_read_instance(ns_tf_doc *d, ns_tf_inst *in);
/* Associations whose target the input does not hold: a warning each. */
int ns_tf_report_links(ns_tf_doc *d);

#endif
