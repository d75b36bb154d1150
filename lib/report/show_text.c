/* `nsgsim show`'s text summary: the deployment the ids were made in, how
 * many resources of each kind were read, the notes (assumptions and
 * warnings, with where), and every skipped resource with the reason.
 *
 * May touch: lib/base, the compiled policy (its model). */
#include "report/show.h"

static void deployment(const ns_model *m, ns_buf *b)
{
	ns_buf_puts(b, "Deployment\n");
	ns_buf_printf(b, "  subscription     %s%s\n", m->subscription_id,
	              m->subscription_set ? "" : " (default)");
	ns_buf_printf(b, "  resource group   %s%s\n", m->resource_group,
	              m->resource_group_set ? "" : " (default)");
	ns_buf_printf(b, "  location         %s%s\n", m->location,
	              m->location_set ? "" : " (default)");
	if (m->has_tags)
		ns_buf_printf(b, "  service tags     %zu from %s\n", m->tags.n,
		              m->tags_file ? m->tags_file : "?");
	else
		ns_buf_puts(b, "  service tags     none given\n");
}

static void counts(const ns_model *m, ns_buf *b)
{
	const struct {
		const char *what;
		size_t n;
	} rows[] = {
	        {"network security groups", m->nsgs.n},
	        {"security rules (without the six defaults of each NSG)", m->rules.n},
	        {"application security groups", m->asgs.n},
	        {"route tables", m->route_tables.n},
	        {"routes", m->routes.n},
	        {"virtual networks", m->vnets.n},
	        {"subnets", m->subnets.n},
	        {"peerings", m->peerings.n},
	        {"network interfaces", m->nics.n},
	        {"network managers", m->managers.n},
	        {"network groups", m->net_groups.n},
	        {"static members", m->static_members.n},
	        {"security admin configurations", m->admin_configs.n},
	        {"rule collections", m->rule_collections.n},
	        {"admin rules", m->admin_rules.n},
	};
	ns_buf_puts(b, "\nResources\n");
	for (size_t i = 0; i < NS_ARRAY_LEN(rows); i++)
		ns_buf_printf(b, "  %6zu  %s\n", rows[i].n, rows[i].what);
	/* Azure Policy for network groups: only when the input has some. */
	if (m->policy_defs.n || m->policy_asgs.n)
		ns_buf_printf(b,
		              "  %6zu  policy definitions (addToNetworkGroup)\n"
		              "  %6zu  policy assignments\n",
		              m->policy_defs.n, m->policy_asgs.n);
}

static void where(const ns_note_rec *r, ns_buf *b)
{
	if (r->resource && r->resource[0])
		ns_buf_printf(b, "    resource %s\n", r->resource);
	if (r->file && r->file[0])
		ns_buf_printf(b, "    at %s%s%s\n", r->file, r->pointer && r->pointer[0] ? " " : "",
		              r->pointer ? r->pointer : "");
}

/* skipped: the SKIPPED notes, else the others. */
static void notes(const ns_model *m, bool skipped, ns_buf *b)
{
	size_t n = 0;
	for (size_t i = 0; i < m->notes.n; i++) {
		const ns_note_rec *r = NS_VEC_AT(&m->notes, ns_note_rec, i);
		if ((r->kind == NSGSIM_NOTE_SKIPPED) != skipped)
			continue;
		if (n++ == 0)
			ns_buf_puts(b, skipped ? "\nSkipped\n" : "\nNotes\n");
		const char *kind = r->kind == NSGSIM_NOTE_LIMIT ? "limit: " : "";
		ns_buf_printf(b, "  - %s%s\n", skipped ? "" : kind, r->message);
		where(r, b);
	}
	if (n == 0)
		ns_buf_puts(b, skipped ? "\nSkipped: nothing\n" : "\nNotes: none\n");
}

void ns_show_text(const nsgsim_policy *p, ns_buf *b)
{
	deployment(&p->m, b);
	counts(&p->m, b);
	notes(&p->m, false, b);
	notes(&p->m, true, b);
	if (p->m.notes_failed)
		ns_buf_puts(b, "\n(some notes could not be stored: out of memory)\n");
}

NSGSIM_EXPORT int nsgsim_policy_show(const nsgsim_policy *p, int format, char **out,
                                     nsgsim_error *err)
{
	if (!p || !out || (format != NSGSIM_SHOW_TEXT && format != NSGSIM_SHOW_JSON))
		return ns_fail(err, NSGSIM_E_INVALID_ARG, "", "", "",
		               "policy and out are required; format is NSGSIM_SHOW_TEXT or "
		               "NSGSIM_SHOW_JSON");
	*out = NULL;
	/* A focused query load of a compiled policy file read only the rules
	 * its focus needs (lib/compile/nsgp_model.c): show lists them all. */
	if (p->m.notes_frozen)
		return ns_fail(err, NSGSIM_E_OUT_OF_FOCUS, "", "", "",
		               "show needs every rule, and this policy was loaded from a compiled "
		               "policy file for a focus (nsgsim_loader_set_focus, "
		               "NSGSIM_BUILD_QUERY): load it without one");
	ns_buf b;
	ns_buf_init(&b);
	if (format == NSGSIM_SHOW_JSON)
		ns_show_json(p, &b);
	else
		ns_show_text(p, &b);
	return ns_buf_take(&b, out, err, "");
}
