/* The model: what the parse stage produces and the compile stage reads.
 * Plain C structs, one normalized shape for every input format; children
 * are kept flat with their parent's id, whether they were nested or
 * standalone in the input.  Nothing here is resolved: references are ids.
 *
 * May touch: lib/base.  No cJSON or libcidr type appears here. */
#ifndef NSGSIM_MODEL_H
#define NSGSIM_MODEL_H

#include "base/base.h"

/* nsgsim_loader_set_deployment's defaults (include/nsgsim.h). */
#define NS_DEFAULT_SUBSCRIPTION   "00000000-0000-0000-0000-000000000000"
#define NS_DEFAULT_RESOURCE_GROUP "nsgsim-rg"
#define NS_DEFAULT_LOCATION       "westeurope"

/* ---- the model: what the parse stage produces -------------------------- */

enum ns_access { NS_ACCESS_ALLOW = 1, NS_ACCESS_DENY = 2, NS_ACCESS_ALWAYS_ALLOW = 3 };
enum ns_direction { NS_DIR_INBOUND = 1, NS_DIR_OUTBOUND = 2 };
/* IANA protocol numbers, and 0 for "any" ('*' in NSGs, 'Any' in admin rules). */
enum ns_proto {
	NS_PROTO_ANY = 0,
	NS_PROTO_ICMP = 1,
	NS_PROTO_TCP = 6,
	NS_PROTO_UDP = 17,
	NS_PROTO_ESP = 50,
	NS_PROTO_AH = 51
};

/* Where something was written: the file and the JSON pointer within it. */
typedef struct ns_loc {
	const char *file;
	const char *pointer;
} ns_loc;

enum ns_addr_kind {
	NS_ADDR_ANY = 1,      /* '*' */
	NS_ADDR_CIDR = 2,     /* an IP or CIDR prefix */
	NS_ADDR_TAG = 3,      /* a service tag (or VirtualNetwork/Internet/AzureLoadBalancer) */
	NS_ADDR_NET_GROUP = 4 /* an AVNM network group (admin rules only) */
};

typedef struct ns_addr {
	int kind;
	const char *text; /* as written */
	int family;       /* 4 or 6, for NS_ADDR_CIDR */
	ns_u128 addr;
	int plen;
	ns_loc loc;
} ns_addr;

typedef struct ns_port_range {
	uint16_t lo, hi;
} ns_port_range;

/* How a rule side was written, which decides how Azure prints it back. */
enum ns_side_form {
	NS_FORM_PREFIX = 1,   /* sourceAddressPrefix */
	NS_FORM_PREFIXES = 2, /* sourceAddressPrefixes */
	NS_FORM_ASGS = 3,     /* sourceApplicationSecurityGroups */
	NS_FORM_ITEMS = 4 /* admin rule sources[] (empty means any, SEMANTICS.md §11 decision 7) */
};

typedef struct ns_side {
	int form;
	ns_addr *addrs;
	size_t n_addrs;
	const char **asg_ids;
	ns_loc *asg_locs;
	size_t n_asgs;
	ns_port_range *ports; /* n_ports == 0 means any (admin rules only) */
	size_t n_ports;
	bool ports_plural; /* NSG rules: written as ...PortRanges, for `show` */
} ns_side;

typedef struct ns_rule {
	const char *id;
	const char *name;
	const char *parent_id; /* NSG or admin rule collection */
	ns_loc loc;
	int priority;
	int access;
	int direction;
	int protocol;
	bool is_default; /* one of an NSG's defaultSecurityRules */
	ns_side src, dst;
} ns_rule;

typedef struct ns_nsg {
	const char *id, *name;
	ns_loc loc;
} ns_nsg;

typedef struct ns_vnet {
	const char *id, *name;
	ns_loc loc;
	ns_addr *space;
	size_t n_space;
	/* What an Azure Policy condition may test (lib/compile/membership.c). */
	const char *location; /* NULL when the input does not say */
	const char **tag_keys, **tag_values;
	size_t n_tags;
} ns_vnet;

typedef struct ns_subnet {
	const char *id, *name, *vnet_id;
	ns_loc loc;
	ns_addr *prefixes;
	size_t n_prefixes;
	const char *nsg_id, *route_table_id;
	ns_loc nsg_loc, route_table_loc;
	const char **services; /* delegations' serviceName, for SEMANTICS.md §6.4 */
	size_t n_services;
} ns_subnet;

typedef struct ns_peering {
	const char *id, *name, *vnet_id, *remote_vnet_id;
	ns_loc loc, remote_loc;
	bool connected, allow_vnet_access;
	ns_addr *remote_space; /* remoteAddressSpace, when the input has it */
	size_t n_remote_space;
} ns_peering;

typedef struct ns_ipconfig {
	const char *name;
	ns_loc loc;
	bool has_ip;
	bool ip_unknown; /* the input says it is known only after deployment */
	int family;
	ns_u128 ip;
	const char *ip_text;
	const char *subnet_id;
	ns_loc subnet_loc;
	const char **asg_ids;
	ns_loc *asg_locs;
	size_t n_asgs;
} ns_ipconfig;

typedef struct ns_nic {
	const char *id, *name;
	ns_loc loc;
	const char *nsg_id;
	ns_loc nsg_loc;
	ns_ipconfig *ipconfigs;
	size_t n_ipconfigs;
	bool from_code;  /* from a template or Terraform (which deploy into existing networks) */
	const char *mac; /* macAddress as 12 upper-case hex digits, or NULL */
	const char *mac_text; /* as written, for show */
} ns_nic;

typedef struct ns_asg {
	const char *id, *name;
	ns_loc loc;
} ns_asg;

typedef struct ns_route_table {
	const char *id, *name;
	ns_loc loc;
} ns_route_table;

typedef struct ns_route {
	const char *id, *name, *route_table_id;
	ns_loc loc;
	ns_addr prefix;
	const char *next_hop_type;
} ns_route;

typedef struct ns_manager {
	const char *id, *name;
	ns_loc loc;
	const char **scope_mgmt_groups;
	size_t n_scope_mgmt_groups;
	const char **scope_subscriptions;
	size_t n_scope_subscriptions;
} ns_manager;

typedef struct ns_net_group {
	const char *id, *name, *manager_id;
	ns_loc loc;
} ns_net_group;

typedef struct ns_static_member {
	const char *id, *group_id, *resource_id;
	ns_loc loc, resource_loc;
} ns_static_member;

/* An Azure Policy condition of a definition in mode Microsoft.Network.Data
 * (lib/parse/load_policy.c): a logical operator over children, or one
 * field (or value) compared by one operator. */
enum ns_cond_kind { NS_COND_ALL = 1, NS_COND_ANY = 2, NS_COND_NOT = 3, NS_COND_LEAF = 4 };
enum ns_cond_field {
	NS_FIELD_NAME = 1,
	NS_FIELD_ID = 2,
	NS_FIELD_LOCATION = 3,
	NS_FIELD_TYPE = 4,
	NS_FIELD_TAG = 5,                /* tags['x'], tags.x, tags[x]: arg is the tag name */
	NS_FIELD_SUBSCRIPTION_ID = 6,    /* [subscription().subscriptionId] */
	NS_FIELD_RG_NAME = 7,            /* [resourceGroup().name] */
	NS_FIELD_RG_ID = 8,              /* [resourceGroup().id] */
	NS_FIELD_SUBSCRIPTION_RES_ID = 9 /* [subscription().id]: /subscriptions/<id> */
};
enum ns_cond_op {
	NS_OP_EQUALS = 1,
	NS_OP_NOT_EQUALS,
	NS_OP_LIKE,
	NS_OP_NOT_LIKE,
	NS_OP_CONTAINS,
	NS_OP_NOT_CONTAINS,
	NS_OP_IN,
	NS_OP_NOT_IN,
	NS_OP_EXISTS
};

typedef struct ns_cond {
	int kind;
	struct ns_cond *kids;
	size_t n_kids;
	int field; /* enum ns_cond_field */
	const char *field_text, *arg;
	int op; /* enum ns_cond_op */
	const char *op_text;
	/* The operand: a list (in/notIn), one string, or a parameter reference
	 * ([parameters('x')]) read from the assignment at compile time. */
	const char **values;
	size_t n_values;
	const char *param;
	ns_loc loc; /* of the operand */
} ns_cond;

typedef struct ns_policy_param {
	const char *name;
	const char **values; /* the default or assigned value: a string or a list */
	size_t n_values;
	bool has_value;
	ns_loc loc;
} ns_policy_param;

typedef struct ns_policy_def {
	const char *id, *name;
	ns_loc loc;
	const char *group_id; /* then.details.networkGroupId */
	ns_loc group_loc;
	ns_cond cond;
	ns_policy_param *params; /* declared parameters and their defaults */
	size_t n_params;
} ns_policy_def;

typedef struct ns_policy_asg {
	const char *id, *name;
	ns_loc loc;
	const char *def_id, *scope;
	ns_loc def_loc;
	const char **not_scopes; /* notScopes: left out of the scope */
	size_t n_not_scopes;
	ns_policy_param *params; /* the values it gives */
	size_t n_params;
} ns_policy_asg;

enum ns_intent_policy { NS_INTENT_NONE = 0, NS_INTENT_ALL = 1, NS_INTENT_ALLOW_RULES_ONLY = 2 };

typedef struct ns_admin_config {
	const char *id, *name, *manager_id;
	ns_loc loc;
	int apply_on_intent; /* enum ns_intent_policy */
} ns_admin_config;

typedef struct ns_rule_collection {
	const char *id, *name, *config_id;
	ns_loc loc;
	const char **group_ids;
	ns_loc *group_locs;
	size_t n_groups;
} ns_rule_collection;

/* One service tag from the tags file. */
typedef struct ns_tag {
	const char *name;
	const char *region;
	const char **features; /* networkFeatures */
	size_t n_features;
	ns_pset set;
	size_t n_prefixes; /* as listed in the file */
} ns_tag;

/* A template parameter value the user gave (nsgsim_loader_add_parameters*,
 * nsgsim_loader_set_parameter), kept as text: the template walker reads it
 * for the parameter's declared type (lib/parse/arm_params.c). */
enum ns_param_kind {
	NS_PARAM_JSON = 1,   /* JSON text: a parameters file's "value" */
	NS_PARAM_TEXT = 2,   /* NAME=VALUE: typed by the template's declaration */
	NS_PARAM_UNKNOWN = 3 /* a Key Vault reference: not known offline */
};

typedef struct ns_param_rec {
	const char *name, *text;
	int kind;
	const char *origin; /* the parameters file, or "--parameters" */
} ns_param_rec;

typedef struct ns_note_rec {
	int kind;
	const char *message, *file, *pointer, *resource;
} ns_note_rec;

/* A compiled policy file's rule block (lib/compile/nsgp.h) left unread in
 * the mapping by a focused query load: compile reads the blocks of the NSGs
 * its focus needs (ns_nsgp_read_block) and counts the others' rules. */
typedef struct ns_rule_block {
	const char *parent;      /* the NSG id the block's rules name */
	size_t n_rules, n_first; /* n_first: the first definitions of their ids */
	size_t section;          /* its section in the file's directory */
} ns_rule_block;

/* One put into ns_model.lines: the key and the line it had (NULL: none). */
typedef struct ns_line_put {
	const char *key;
	void *before;
} ns_line_put;

/* Everything the parse stage found, unresolved.  Children are kept flat with
 * their parent's id, whether they were nested or standalone in the input. */
typedef struct ns_model {
	ns_arena arena;
	ns_vec nsgs, rules, vnets, subnets, peerings, nics, asgs, route_tables, routes;
	ns_vec managers, net_groups, static_members, admin_configs, rule_collections, admin_rules;
	ns_vec policy_defs, policy_asgs; /* ns_policy_def, ns_policy_asg */
	ns_vec notes;                    /* ns_note_rec */
	ns_vec params;                   /* ns_param_rec: the last one of a name wins */
	uint64_t limits[NSGSIM_LIMIT_COUNT];
	uint64_t n_prefixes; /* addresses read so far, for NSGSIM_LIMIT_TOTAL_PREFIXES */
	bool notes_failed;   /* a note could not be stored (out of memory) */
	int build;           /* nsgsim_build: what nsgsim_compile makes */
	/* nsgsim_loader_set_focus: the addresses whose endpoints' NSGs a
	 * MINIMAL or QUERY build compiles (arena copies; n_focus 0: all). */
	nsgsim_ip *focus;
	size_t n_focus;
	/* nsgsim_loader_set_deployment: arena strings, never NULL after init;
	 * the *_set flags say the user gave them (else a default, reported). */
	const char *subscription_id, *resource_group, *location;
	bool subscription_set, resource_group_set, location_set;
	/* service tags */
	bool has_tags;
	bool tags_from_snapshot; /* read from a snapshot (lib/parse/tags_snapshot.c) */
	const char *tags_file;   /* the path or buffer name they were read from */
	const char *tags_source; /* the JSON file's base name (a snapshot records it) */
	const char *tags_cloud;
	long long tags_change_number;
	ns_vec tags; /* ns_tag */
	ns_map tag_index;
	/* "file\x1fpointer" of each object read from JSON -> its first line
	 * (uintptr_t), for the findings (lib/parse/load_env.c record_lines) */
	ns_map lines;
	/* Every put into lines (ns_line_put), to undo a failed file's. */
	ns_vec lines_log;
	/* A compiled policy file's lines were checked but not read into lines
	 * (NSGSIM_BUILD_QUERY): the policy cannot be saved. */
	bool lines_omitted;
	/* A compiled policy file mapped for a query build: the string table's
	 * strings point into it (lib/compile/nsgp_file.c); unmapped by
	 * ns_model_free. */
	void *map;
	size_t map_len;
	/* A focused query load of a compiled policy file: the rule blocks not
	 * read yet (ns_rule_block), the file's name and directory for reading
	 * them, and notes_frozen -- the notes are the saved compile's, so
	 * compile adds none (it sees only the rules the focus needs). */
	ns_vec rule_blocks;
	const char *map_file;
	void *map_sections; /* ns_nsgp_section[n_map_sections], in the arena */
	size_t n_map_sections;
	bool notes_frozen;
	bool from_policy_file; /* a compiled policy file was read: it takes no other input */
} ns_model;

void ns_model_init(ns_model *m);
/* Counts n more addresses against the total limit; 0 or NSGSIM_E_LIMIT. */
int ns_model_count_prefixes(ns_model *m, size_t n);
size_t ns_model_resource_count(const ns_model *m);
void ns_model_free(ns_model *m);
/* How far each list of the model has grown, to undo a failed file: the
 * rollback drops what was added after the mark (its arena memory stays). */
typedef struct ns_model_mark {
	size_t n[19];
	uint64_t prefixes;
	size_t lines_log;
	bool lines_omitted;
} ns_model_mark;
ns_model_mark ns_model_mark_now(ns_model *m);
void ns_model_rollback(ns_model *m, const ns_model_mark *k);
/* Records the first line of the object at key ("file\x1fpointer") in
 * m->lines, undone by a rollback; -1 when out of memory (nothing put). */
int ns_model_put_line(ns_model *m, const char *key, uint32_t line);
/* Copies addrs as the focus (n 0 clears it); -1 when out of memory. */
int ns_model_set_focus(ns_model *m, const nsgsim_ip *addrs, size_t n);
/* Frees every service tag and resets the tag state to that of a new model. */
void ns_model_drop_tags(ns_model *m);
int ns_model_note(ns_model *m, int kind, const char *file, const char *pointer,
                  const char *resource, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif
