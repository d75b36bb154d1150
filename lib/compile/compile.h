/* Shared by the files of the compile stage (lib/compile), private to them.
 *
 * May touch: lib/base, the model and the compiled policy. */
#ifndef NSGSIM_COMPILE_H
#define NSGSIM_COMPILE_H

#include "compile/policy.h"

/* lib/compile/common.c */
/* A set the policy owns (freed with it). */
ns_pset *ns_policy_new_set(nsgsim_policy *p);
int ns_add_addr(ns_psb *b, const ns_addr *a);
/* NSGSIM_E_NOMEM, with err filled. */
int ns_nomem(nsgsim_error *err);
/* NSGSIM_E_DANGLING_REF: resource refers to what id, not in the input. */
int ns_dangling(nsgsim_error *err, const ns_loc *loc, const char *resource, const char *what,
                const char *id);

/* lib/compile/tags.c */
int ns_compile_builtin_tags(nsgsim_policy *p, nsgsim_error *err);
int ns_compile_vnet_tags(nsgsim_policy *p, nsgsim_error *err);
int ns_compile_rule(nsgsim_policy *p, const ns_rule *r, ns_crule *out, nsgsim_error *err);
int ns_check_rule(nsgsim_policy *p, const ns_rule *r, ns_crule *out, nsgsim_error *err);

/* lib/compile/admin.c */
int ns_compile_admin(nsgsim_policy *p, nsgsim_error *err);
/* lib/compile/membership.c: p->members from static members and policies. */
int ns_compile_members(nsgsim_policy *p, nsgsim_error *err);
/* The membership that puts resource_id in the group (static members first), or NULL. */
const ns_member *ns_member_of(const nsgsim_policy *p, const char *group_id,
                              const char *resource_id);

/* lib/compile/endpoints.c: the endpoints, their steps and the endpoint map. */
int ns_compile_endpoints(nsgsim_policy *p, nsgsim_error *err);

#endif
