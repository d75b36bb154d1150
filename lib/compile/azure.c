/* Azure's rules (compile/azure.h): each written once, next to the document
 * it cites.  SEMANTICS.md is the project's digest of those documents, with
 * worked examples; "§11 decision N" marks a default nsgsim picked where
 * Azure documents nothing, which a result then names as an assumption.
 *
 * May touch: lib/base, the model and the compiled policy. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>
#include <strings.h>

#include "compile/azure.h"

/* ---- the walk ------------------------------------------------------------------ */

/* "If you create an Always Allow or Deny rule, traffic evaluation
 * terminates after the security admin rule is evaluated" and an Allow rule
 * lets the NSGs decide (concept-security-admins.md); in an NSG, "once
 * traffic matches a rule, processing stops" for that NSG and both NSGs must
 * allow (network-security-group-how-it-works.md): an NSG Allow goes on to
 * the next layer, a Deny ends. */
int ns_azure_match_ends(int access)
{
	switch (access) {
	case NS_ACCESS_DENY:
		return NSGSIM_DENY;
	case NS_ACCESS_ALWAYS_ALLOW:
		return NSGSIM_ALLOW;
	default:
		return 0;
	}
}

static ns_step admin_step(const ns_csubnet *cs, const ns_admin_level *lvl)
{
	return (ns_step){NSGSIM_LAYER_ADMIN, {&lvl->in, &lvl->out}, lvl->mgr->id, cs->vnet->v->id};
}

static ns_step nsg_step(int layer, const ns_cnsg *g, const char *applied_to)
{
	return (ns_step){layer, {&g->in, &g->out}, g->g->id, applied_to};
}

/* SEMANTICS.md §0, network-security-group-how-it-works.md and
 * concept-security-admins.md:
 *
 *   Inbound:  [admin rules of the VNet, one level per manager]
 *             -> [NSG of the subnet] -> [NSG of the NIC]
 *   Outbound: [platform] -> [admin rules] -> [NSG of the NIC]
 *             -> [NSG of the subnet]
 *
 * The platform layer (SEMANTICS.md §3.7; network-security-groups-
 * overview.md, "Azure platform considerations", "Virtual IP of the host
 * node"): the host's basic services are not subject to the NSGs, so a NIC's
 * outbound traffic to them is allowed before any rule is read.  That it
 * also comes before admin rules is the platform-services assumption
 * (ns_azure_platform_rules).
 *
 * "Security admin rules have a higher priority than NSGs and are evaluated
 * before NSG rules"; the levels of several managers come highest scope
 * first (§11 decision 2; ns_azure_cmp_manager).  "A layer with no NSG
 * allows everything": it has no step.  An endpoint in no subnet (a NIC
 * whose ipConfigurations name none) has only its NIC's NSG. */
size_t ns_azure_layer_order(const nsgsim_policy *p, const ns_csubnet *cs, const ns_cnic *nic,
                            int way, ns_step *out)
{
	size_t n = 0;
	if (way == NS_WAY_OUT && nic) {
		const ns_platform_chains *pc = &p->platform[ns_azure_platform_off(cs, nic)];
		out[n++] = (ns_step){NSGSIM_LAYER_PLATFORM,
		                     {&pc->in, &pc->out},
		                     NS_PLATFORM_RESOURCE,
		                     nic->n->id};
	}
	for (size_t i = 0; cs && i < cs->n_levels && i < NS_AZURE_MAX_LEVELS; i++)
		out[n++] = admin_step(cs, &cs->levels[i]);
	const ns_cnsg *subnet_nsg = cs ? cs->nsg : NULL, *nic_nsg = nic ? nic->nsg : NULL;
	ns_step steps[2];
	size_t k = 0;
	if (way == NS_WAY_IN && subnet_nsg)
		steps[k++] = nsg_step(NSGSIM_LAYER_SUBNET_NSG, subnet_nsg, cs->s->id);
	if (nic_nsg)
		steps[k++] = nsg_step(NSGSIM_LAYER_NIC_NSG, nic_nsg, nic->n->id);
	if (way == NS_WAY_OUT && subnet_nsg)
		steps[k++] = nsg_step(NSGSIM_LAYER_SUBNET_NSG, subnet_nsg, cs->s->id);
	for (size_t i = 0; i < k; i++)
		out[n++] = steps[i];
	return n;
}

/* The host's services, as nsgsim models them (SEMANTICS.md §3.7):
 *
 * - network-security-groups-overview.md, "Azure platform considerations":
 *   DHCP, DNS, IMDS and health monitoring are served at the host's virtual
 *   IPs 168.63.129.16 and 169.254.169.254 and are not subject to the NSGs,
 *   unless a rule denies them with the service tags AzurePlatformDNS,
 *   AzurePlatformIMDS or AzurePlatformLKM.
 * - what-is-ip-address-168-63-129-16.md: the VM agent's outbound TCP 80 and
 *   32526 to WireServer (168.63.129.16) is not subject to the NSGs; nor is
 *   DNS to it on UDP and TCP 53, unless an outbound Deny rule targets
 *   AzurePlatformDNS; health probes from it are inbound and subject to the
 *   NSGs (AllowAzureLoadBalancerInBound; SEMANTICS.md W10), so the layer is
 *   outbound only.
 * - instance-metadata-service.md: IMDS is a REST API over HTTP at
 *   169.254.169.254.
 *
 * Undocumented, so the platform-services assumption: DHCP's port (UDP 67)
 * and IMDS's (TCP 80); that admin rules do not filter this traffic either;
 * that a Deny naming a tag turns its service off whatever ports it lists.
 * WireServer and DHCP have no tag that turns them off.  Licensing (KMS, TCP
 * 1688) goes to addresses the documents do not give: not modelled. */
static const ns_platform_rule platform_rules[] = {
        {"dns-udp", NS_PLATFORM_DNS, NS_AZURE_HOST_IP, NS_PROTO_UDP, 53},
        {"dns-tcp", NS_PLATFORM_DNS, NS_AZURE_HOST_IP, NS_PROTO_TCP, 53},
        {"dhcp", 0, NS_AZURE_HOST_IP, NS_PROTO_UDP, 67},
        {"wireserver-80", 0, NS_AZURE_HOST_IP, NS_PROTO_TCP, 80},
        {"wireserver-32526", 0, NS_AZURE_HOST_IP, NS_PROTO_TCP, 32526},
        {"imds", NS_PLATFORM_IMDS, NS_AZURE_IMDS_IP, NS_PROTO_TCP, 80},
};

const ns_platform_rule *ns_azure_platform_rules(size_t *n)
{
	*n = NS_ARRAY_LEN(platform_rules);
	return platform_rules;
}

/* service-tags-overview.md: the three tags are outbound, not regional,
 * and turn off the default DNS, IMDS and licensing; the downloadable
 * ServiceTags_*.json does not list them, so what addresses they mean is
 * the platform-services assumption. */
const char *ns_azure_platform_tag(int i, int *service, const char **prefix)
{
	static const struct {
		const char *name;
		int service;
		const char *prefix;
	} tags[NS_AZURE_PLATFORM_TAGS] = {
	        {"AzurePlatformDNS", NS_PLATFORM_DNS, "168.63.129.16/32"},
	        {"AzurePlatformIMDS", NS_PLATFORM_IMDS, "169.254.169.254/32"},
	        {"AzurePlatformLKM", 0, NULL},
	};
	if (i < 0 || i >= NS_AZURE_PLATFORM_TAGS)
		return NULL;
	if (service)
		*service = tags[i].service;
	if (prefix)
		*prefix = tags[i].prefix;
	return tags[i].name;
}

static int chain_platform_off(const ns_chain *ch)
{
	int off = 0;
	for (size_t i = 0; i < ch->n; i++) {
		const ns_crule *r = &ch->rules[i];
		for (int t = 0;
		     r->access == NS_ACCESS_DENY && r->dst.tag && t < NS_AZURE_PLATFORM_TAGS; t++) {
			int service;
			if (ns_ieq(r->dst.tag, ns_azure_platform_tag(t, &service, NULL)))
				off |= service;
		}
	}
	return off;
}

/* "To override this basic infrastructure communication, you can create a
 * security rule to deny traffic by using the following service tags"
 * (network-security-groups-overview.md): a Deny rule naming the tag in
 * either NSG the NIC's outbound traffic meets turns the service's platform
 * allow off; the NSGs then decide, the tag matching the service's address. */
int ns_azure_platform_off(const ns_csubnet *cs, const ns_cnic *nic)
{
	int off = 0;
	if (nic && nic->nsg)
		off |= chain_platform_off(&nic->nsg->out);
	if (cs && cs->nsg)
		off |= chain_platform_off(&cs->nsg->out);
	return off;
}

/* An Application Gateway subnet is taken as not network-isolated, so admin
 * rules skip it (§6.4; concept-security-admins.md names network-isolated
 * Application Gateway as the case where they apply). */
unsigned ns_azure_endpoint_assumptions(const ns_csubnet *cs)
{
	unsigned a = cs->unknown_group ? NSGSIM_ASSUME_EMPTY_NETWORK_GROUP : 0;
	if (cs->admin_exempt_service &&
	    strcmp(cs->admin_exempt_service, "Application Gateway") == 0)
		a |= NSGSIM_ASSUME_APP_GATEWAY_NOT_ISOLATED;
	return a;
}

static bool empty_admin_list(const ns_side *s)
{
	return (s->form == NS_FORM_ITEMS && s->n_addrs == 0) || s->n_ports == 0;
}

/* Every admin match rests on the configuration being deployed (§6.3);
 * several levels on their order (§11.2); a management-group scope on its
 * reach (§6.3); a tie on its order (§11.3); an empty list on meaning any
 * (§11.7); an AlwaysAllow under AllowRulesOnly on counting as an allow rule
 * (§11.6). */
unsigned ns_azure_admin_assumptions(const ns_csubnet *cs, const ns_admin_level *lvl,
                                    const ns_crule *r)
{
	unsigned bits = NSGSIM_ASSUME_ADMIN_DEPLOYED;
	if (cs->n_levels > 1)
		bits |= NSGSIM_ASSUME_MANAGER_LEVELS;
	if (lvl->mgr->n_scope_mgmt_groups > 0)
		bits |= NSGSIM_ASSUME_MGMT_GROUP_SCOPE;
	if (r->tie)
		bits |= NSGSIM_ASSUME_ADMIN_PRIORITY_TIE;
	if (empty_admin_list(&r->r->src) || empty_admin_list(&r->r->dst))
		bits |= NSGSIM_ASSUME_EMPTY_ADMIN_LIST;
	if (r->access == NS_ACCESS_ALWAYS_ALLOW && cs->vnet->intent_service &&
	    cs->intent_setting == NS_INTENT_ALLOW_RULES_ONLY)
		bits |= NSGSIM_ASSUME_ALWAYS_ALLOW_INTENT;
	return bits;
}

/* ---- NSGs and subnets ------------------------------------------------------------ */

/* Azure's six default rules (SEMANTICS.md §2; network-security-groups-
 * overview.md, "Default security rules"), added to an NSG whose input does not
 * list them. */
static const ns_default_rule default_rules[] = {
        {"AllowVnetInBound", NS_DIR_INBOUND, 65000, NS_ACCESS_ALLOW, "VirtualNetwork",
         "VirtualNetwork"},
        {"AllowAzureLoadBalancerInBound", NS_DIR_INBOUND, 65001, NS_ACCESS_ALLOW,
         "AzureLoadBalancer", "*"},
        {"DenyAllInBound", NS_DIR_INBOUND, 65500, NS_ACCESS_DENY, "*", "*"},
        {"AllowVnetOutBound", NS_DIR_OUTBOUND, 65000, NS_ACCESS_ALLOW, "VirtualNetwork",
         "VirtualNetwork"},
        {"AllowInternetOutBound", NS_DIR_OUTBOUND, 65001, NS_ACCESS_ALLOW, "*", "Internet"},
        {"DenyAllOutBound", NS_DIR_OUTBOUND, 65500, NS_ACCESS_DENY, "*", "*"},
};

const ns_default_rule *ns_azure_default_rules(size_t *n)
{
	*n = NS_ARRAY_LEN(default_rules);
	return default_rules;
}

/* Services whose subnets admin rules skip (concept-security-admins.md,
 * "where admin rules do not apply"; SEMANTICS.md §6.4). */
const char *ns_azure_admin_exempt_service(const ns_subnet *s)
{
	static const char *const names[] = {"AzureBastionSubnet", "AzureFirewallSubnet",
	                                    "AzureFirewallManagementSubnet", "GatewaySubnet",
	                                    "RouteServerSubnet"};
	for (size_t i = 0; i < NS_ARRAY_LEN(names); i++)
		if (ns_ieq(s->name, names[i]))
			return names[i];
	for (size_t i = 0; i < s->n_services; i++)
		if (ns_ieq(s->services[i], "Microsoft.Network/applicationGateways"))
			return "Application Gateway";
	return NULL;
}

/* VNets with SQL Managed Instance or Databricks (network intent policies;
 * concept-security-admins.md). */
const char *ns_azure_intent_service(const ns_subnet *s)
{
	for (size_t i = 0; i < s->n_services; i++)
		if (ns_ieq(s->services[i], "Microsoft.Sql/managedInstances") ||
		    ns_ieq(s->services[i], "Microsoft.Databricks/workspaces"))
			return s->services[i];
	return NULL;
}

/* ---- admin rules ------------------------------------------------------------------ */

/* Management-group scope is higher than subscription scope. */
static int scope_rank(const ns_manager *m)
{
	return m->n_scope_mgmt_groups > 0 ? 0 : 1;
}

int ns_azure_cmp_manager(const void *pa, const void *pb)
{
	const ns_manager *a = *(const ns_manager *const *)pa, *b = *(const ns_manager *const *)pb;
	if (scope_rank(a) != scope_rank(b))
		return scope_rank(a) - scope_rank(b);
	return strcasecmp(a->id, b->id);
}

static int access_rank(int access)
{
	return access == NS_ACCESS_DENY ? 0 : access == NS_ACCESS_ALWAYS_ALLOW ? 1 : 2;
}

/* Within a level, by priority across all the manager's collections
 * (concept-enforcement.md; §6.2); equal priorities in different
 * collections: Deny, AlwaysAllow, Allow, then collection id and rule name
 * (§11 decision 3, an assumption). */
int ns_azure_cmp_admin_rule(const void *pa, const void *pb)
{
	const ns_crule *a = pa, *b = pb;
	if (a->priority != b->priority)
		return a->priority < b->priority ? -1 : 1;
	if (access_rank(a->access) != access_rank(b->access))
		return access_rank(a->access) - access_rank(b->access);
	int c = strcasecmp(a->collection_id, b->collection_id);
	return c ? c : strcmp(a->r->name, b->r->name);
}

/* The subscription part of an id: "/subscriptions/<guid>". */
static size_t subscription_prefix(const char *id)
{
	static const char pfx[] = "/subscriptions/";
	if (!ns_ieqn(id, pfx, sizeof pfx - 1))
		return 0;
	const char *end = strchr(id + sizeof pfx - 1, '/');
	return end ? (size_t)(end - id) : strlen(id);
}

/* "If a resource is in your network group but out of scope, it doesn't
 * receive any configurations." (AVNM FAQ; SEMANTICS.md §6.3)  Management
 * groups can't be resolved offline: a manager scoped to any is taken to
 * reach every subscription. */
bool ns_azure_in_scope(const ns_manager *m, const char *vnet_id)
{
	if (m->n_scope_mgmt_groups > 0 || m->n_scope_subscriptions == 0)
		return true;
	size_t n = subscription_prefix(vnet_id);
	for (size_t i = 0; i < m->n_scope_subscriptions; i++) {
		const char *s = m->scope_subscriptions[i];
		if (n && strlen(s) == n && ns_ieqn(s, vnet_id, n))
			return true;
	}
	return false;
}

/* Under applyOnNetworkIntentPolicyBasedServices = AllowRulesOnly "only
 * Allow rules in your security configuration are applied" (concept-
 * security-admins.md); AlwaysAllow counts as an allow rule (§11 decision 6). */
bool ns_azure_kept_by_intent(int setting, int access)
{
	if (setting == NS_INTENT_ALL)
		return true;
	if (setting == NS_INTENT_ALLOW_RULES_ONLY)
		return access != NS_ACCESS_DENY;
	return false;
}

/* ---- computed tags ------------------------------------------------------------------ */

/* SEMANTICS.md §11 decision 8: Internet is the public address space, not the
 * complement of VirtualNetwork (T6).  A tag named Internet in the service-tags
 * input replaces it. */
static const char *const internet_universe[] = {"0.0.0.0/0", "2000::/3"};
static const char *const internet_excluded[] = {
        "0.0.0.0/8",       "10.0.0.0/8",     "100.64.0.0/10", "127.0.0.0/8",    "169.254.0.0/16",
        "172.16.0.0/12",   "192.0.0.0/24",   "192.0.2.0/24",  "192.168.0.0/16", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4",   "240.0.0.0/4",    "2001:db8::/32",
};

/* SEMANTICS.md §11: "AzureLoadBalancer: 168.63.129.16/32 and
 * fe80::1234:5678:9abc/128 (both appear in the real effective-rules output)". */
static const char *const load_balancer_prefixes[] = {"168.63.129.16/32",
                                                     "fe80::1234:5678:9abc/128"};

ns_prefix_list ns_azure_internet_universe(void)
{
	return (ns_prefix_list){internet_universe, NS_ARRAY_LEN(internet_universe)};
}

ns_prefix_list ns_azure_internet_excluded(void)
{
	return (ns_prefix_list){internet_excluded, NS_ARRAY_LEN(internet_excluded)};
}

ns_prefix_list ns_azure_load_balancer(void)
{
	return (ns_prefix_list){load_balancer_prefixes, NS_ARRAY_LEN(load_balancer_prefixes)};
}
