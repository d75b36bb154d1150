/* Shadowed rules: a rule of a chain that is never the first match, read at
 * one subnet (VirtualNetwork is per subnet), because the rules before it
 * match every flow it matches.
 *
 * Exact, by subtraction of boxes (protocol slot x source addresses x source
 * ports x destination addresses x destination ports, one address family at
 * a time): the rule's boxes minus each earlier rule's, in priority order.
 * A rule is reported shadowed only when nothing is left; when the pieces
 * outgrow a work limit the answer is "undecided", never a guess.
 *
 * May touch: lib/base, the compiled policy. */
#ifndef NSGSIM_SHADOW_H
#define NSGSIM_SHADOW_H

#include <stdbool.h>

#include "compile/policy.h"

enum { NS_SHADOW_NO = 0, NS_SHADOW_YES = 1, NS_SHADOW_UNDECIDED = 2 };

/* Per chain and subnet: each rule's fields as interval lists, computed once
 * for every question about the chain. */
typedef struct ns_shadow_ctx ns_shadow_ctx;

/* NULL when out of memory. */
ns_shadow_ctx *ns_shadow_new(const ns_chain *ch, const ns_csubnet *ctx);
void ns_shadow_free(ns_shadow_ctx *s);

/* Whether rule k of the chain is shadowed (NS_SHADOW_*), or NSGSIM_E_NOMEM.
 * With YES, covering[i] is set for each earlier rule i that takes some of
 * its flows (covering has the chain's length). */
int ns_shadowed(ns_shadow_ctx *s, size_t k, bool *covering);

#endif
