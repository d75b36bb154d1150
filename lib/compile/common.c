/* Small helpers every file of the compile stage uses: the sets a policy
 * owns, a prefix into a set builder, and the two commonest errors.
 *
 * May touch: lib/base, the model and the compiled policy. */
#include "compile/compile.h"

ns_pset *ns_policy_new_set(nsgsim_policy *p)
{
	ns_pset *s = ns_arena_alloc(&p->arena, sizeof *s);
	ns_pset **slot = s ? ns_vec_push(&p->owned_sets) : NULL;
	if (!slot)
		return NULL;
	*slot = s;
	return s;
}

int ns_add_addr(ns_psb *b, const ns_addr *a)
{
	if (a->family == 4) {
		ns_range4 r = ns_range4_of_prefix((uint32_t)a->addr, a->plen);
		return ns_psb_add4(b, r.lo, r.hi);
	}
	ns_range6 r = ns_range6_of_prefix(a->addr, a->plen);
	return ns_psb_add6(b, r.lo, r.hi);
}

int ns_nomem(nsgsim_error *err)
{
	return ns_fail(err, NSGSIM_E_NOMEM, "", "", "", "out of memory");
}

int ns_dangling(nsgsim_error *err, const ns_loc *loc, const char *resource, const char *what,
                const char *id)
{
	return ns_fail(err, NSGSIM_E_DANGLING_REF, loc->file, loc->pointer, resource,
	               "refers to %s '%s', which is not in the input", what, id);
}
