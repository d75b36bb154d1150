/* Random environments and flows aimed at their edges, for the tests that
 * hold the engines to each other and the set queries to the single-flow
 * evaluation (tests/test_differential.c, tests/test_reach.c).  Static
 * functions: each test includes it once.
 *
 * The environments: VNets with IPv4 and IPv6 spaces, peerings, route
 * tables, subnets with special names and delegations, NICs with ASGs and the
 * odd duplicate address, NSGs shared across VNets, one large NSG now and
 * then, AVNM managers with one or two levels, ties, empty lists, network
 * groups as addresses; service tags from the trimmed fixture file, or a
 * synthetic file that overrides Internet.  Include cmocka and
 * "eval/walk.h" first. */
#ifndef NSGSIM_TEST_GENENV_H
#define NSGSIM_TEST_GENENV_H

/* lib/parse/flow.c */
void ns_ip_from_u128(nsgsim_ip *ip, int family, ns_u128 v);
ns_u128 ns_ip_to_u128(const nsgsim_ip *ip);

#define TAGS_FILE "fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json"
#define SUB       "/subscriptions/00000000-0000-0000-0000-0000000000aa"
#define RG        SUB "/resourceGroups/rg/providers/Microsoft.Network"

/* ---- randomness and text ------------------------------------------------------------ */

typedef struct rng {
	uint64_t s;
} rng;

static uint64_t rnd(rng *r)
{
	uint64_t x = (r->s += 0x9E3779B97F4A7C15ull);
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

static uint32_t below(rng *r, uint32_t n)
{
	return n ? (uint32_t)(rnd(r) % n) : 0;
}

static bool chance(rng *r, int pct)
{
	return (int)below(r, 100) < pct;
}

typedef struct sbuf {
	char *p;
	size_t n, cap;
} sbuf;

__attribute__((format(printf, 2, 3))) static void put(sbuf *b, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
		va_end(ap);
		assert_true(k >= 0);
		if (b->n + (size_t)k < b->cap) {
			b->n += (size_t)k;
			return;
		}
		b->cap = b->cap ? b->cap * 2 : 1 << 16;
		while (b->cap <= b->n + (size_t)k)
			b->cap *= 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
}

/* Drops a trailing comma before closing a JSON array or object. */
static void close_list(sbuf *b, char c)
{
	if (b->n && b->p[b->n - 1] == ',')
		b->n--;
	put(b, "%c", c);
}

/* ---- the environment ------------------------------------------------------------------ */

static const char *const fixture_tags[] = {"Storage",
                                           "Sql.WestEurope",
                                           "AzureCloud",
                                           "AzureKeyVault",
                                           "AzureMonitor",
                                           "AzureFrontDoor.Backend",
                                           "EventHub",
                                           "GatewayManager",
                                           "ApiManagement",
                                           "AzureActiveDirectory",
                                           "AppService.WestEurope",
                                           "Sql",
                                           "AzureCloud.westeurope",
                                           "Storage.WestEurope"};
static const char *const synthetic_tags[] = {"SynthA", "SynthB", "SynthC"};

#define MAX_VNETS 5
#define MAX_SUBS  4

typedef struct genv {
	rng r;
	int n_vnets;
	int n_subnets[MAX_VNETS];
	int space_of[MAX_VNETS]; /* which 10.X/16 the VNet uses (overlaps now and then) */
	int n_nsgs, n_rts, n_asgs[MAX_VNETS];
	bool synthetic; /* synthetic tags (with an Internet override) */
	int big_rules;  /* rules in nsg0 when it is a large one */
	bool crowded;   /* most prefixes are hosts in one /24 and one IPv6 /120 */
} genv;

/* A tag for a rule side; nsg: an NSG rule's, which may be a platform tag
 * (an NSG Deny to one turns the host's service off, SEMANTICS.md §3.7;
 * admin rules refuse them). */
static const char *tag_name_for(genv *g, bool nsg)
{
	static const char *const computed[] = {"VirtualNetwork", "Internet", "AzureLoadBalancer",
	                                       "AzurePlatformDNS", "AzurePlatformIMDS"};
	if (chance(&g->r, 45))
		return computed[below(&g->r, nsg ? 5 : 3)];
	if (g->synthetic)
		return synthetic_tags[below(&g->r, 3)];
	return fixture_tags[below(&g->r, NS_ARRAY_LEN(fixture_tags))];
}

static const char *tag_name(genv *g)
{
	return tag_name_for(g, false);
}

/* A random prefix: inside the VNets, private elsewhere, public, or IPv6. */
static void rand_prefix(genv *g, char *buf, size_t cap)
{
	rng *r = &g->r;
	uint32_t k = below(r, 10);
	if (g->crowded && chance(r, 60)) {
		/* Hundreds of interval starts in one small region: the interval
		 * maps' index goes several levels deep there (lib/compile/cls_imap.c,
		 * "interval maps"). */
		int plen = 29 + (int)below(r, 4);
		uint32_t a = 0x0A010100u | below(r, 256);
		a &= ~((1u << (32 - plen)) - 1);
		if (chance(r, 70)) {
			snprintf(buf, cap, "%u.%u.%u.%u/%d", a >> 24, (a >> 16) & 255,
			         (a >> 8) & 255, a & 255, plen);
		} else {
			int plen6 = 128 - (int)below(r, 3);
			ns_u128 v = ((ns_u128)0xfd00 << 112) | ((ns_u128)1 << 80) | below(r, 256);
			v &= ~(((ns_u128)1 << (128 - plen6)) - 1);
			ns_format_prefix(buf, cap, 6, v, plen6);
		}
		return;
	}
	if (k < 4) {
		int plen = 16 + (int)below(r, 17);
		uint32_t a = (10u << 24) | ((uint32_t)below(r, 6) << 16);
		a |= (uint32_t)below(r, 65536);
		a &= plen == 32 ? ~0u : ~((1u << (32 - plen)) - 1);
		snprintf(buf, cap, "%u.%u.%u.%u/%d", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
		         a & 255, plen);
	} else if (k < 7) {
		int plen = (int)below(r, 33);
		uint32_t a = (uint32_t)rnd(r);
		if (chance(r, 30))
			a = (20u << 24) | (a & 0xFFFFFF); /* near Azure's ranges */
		a &= plen == 0 ? 0 : plen == 32 ? ~0u : ~((1u << (32 - plen)) - 1);
		snprintf(buf, cap, "%u.%u.%u.%u/%d", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
		         a & 255, plen);
	} else if (k < 8) {
		snprintf(buf, cap, "%s",
		         chance(r, 50) ? "168.63.129.16/32"
		                       : (chance(r, 50) ? "0.0.0.0/0" : "::/0"));
	} else {
		/* In the VNets' fd00:0:X::/48 or in 2603::/16, host bits cleared. */
		int plen = 16 + (int)below(r, 113);
		ns_u128 a = (ns_u128)rnd(r) << 64;
		a |= rnd(r);
		if (chance(r, 50)) {
			a = ((ns_u128)0xfd00 << 112) | ((ns_u128)below(r, 6) << 80) |
			    (a & (((ns_u128)1 << 80) - 1));
			if (plen < 48)
				plen = 48;
		} else {
			a = ((ns_u128)0x2603 << 112) | (a & (((ns_u128)1 << 112) - 1));
		}
		if (plen < 128)
			a &= ~((((ns_u128)1) << (128 - plen)) - 1);
		ns_format_prefix(buf, cap, 6, a, plen);
	}
}

static void port_text(genv *g, char *buf, size_t cap)
{
	static const int common[] = {22, 53, 80, 443, 1433, 3389, 0, 65535, 8080, 5986};
	rng *r = &g->r;
	uint32_t k = below(r, 10);
	if (k < 5) {
		snprintf(buf, cap, "%d", common[below(r, NS_ARRAY_LEN(common))]);
	} else if (k < 9) {
		uint32_t lo = below(r, 65536), hi = lo + below(r, 2000);
		snprintf(buf, cap, "%u-%u", lo, hi > 65535 ? 65535 : hi);
	} else {
		snprintf(buf, cap, "0-65535");
	}
}

static void nsg_ports(genv *g, sbuf *b, const char *side)
{
	char t[32];
	if (chance(&g->r, 45)) {
		put(b, "\"%sPortRange\":\"*\",", side);
		return;
	}
	int n = 1 + (int)below(&g->r, 3);
	if (n == 1 && chance(&g->r, 50)) {
		port_text(g, t, sizeof t);
		put(b, "\"%sPortRange\":\"%s\",", side, t);
		return;
	}
	put(b, "\"%sPortRanges\":[", side);
	for (int i = 0; i < n; i++) {
		port_text(g, t, sizeof t);
		put(b, "\"%s\",", t);
	}
	close_list(b, ']');
	put(b, ",");
}

static void nsg_addrs(genv *g, sbuf *b, const char *side, int asg_vnet)
{
	char t[64];
	uint32_t k = below(&g->r, 100);
	if (k < 22) {
		put(b, "\"%sAddressPrefix\":\"*\",", side);
	} else if (k < 45) {
		put(b, "\"%sAddressPrefix\":\"%s\",", side, tag_name_for(g, true));
	} else if (k < 85 || g->n_asgs[asg_vnet] == 0) {
		int n = 1 + (int)below(&g->r, 4);
		if (n == 1 && chance(&g->r, 50)) {
			rand_prefix(g, t, sizeof t);
			put(b, "\"%sAddressPrefix\":\"%s\",", side, t);
			return;
		}
		put(b, "\"%sAddressPrefixes\":[", side);
		for (int i = 0; i < n; i++) {
			rand_prefix(g, t, sizeof t);
			put(b, "\"%s\",", t);
		}
		close_list(b, ']');
		put(b, ",");
	} else {
		int n = 1 + (int)below(&g->r, 2);
		put(b, "\"%sApplicationSecurityGroups\":[", side);
		for (int i = 0; i < n; i++)
			put(b, "{\"id\":\"" RG "/applicationSecurityGroups/asg-%d-%u\"},", asg_vnet,
			    below(&g->r, (uint32_t)g->n_asgs[asg_vnet]));
		close_list(b, ']');
		put(b, ",");
	}
}

static void nsg_rule(genv *g, sbuf *b, int nsg, int i, int prio, int dir)
{
	static const char *const protos[] = {"*", "Tcp", "Tcp", "Udp", "Icmp", "Esp", "Ah"};
	int asg_vnet = (int)below(&g->r, (uint32_t)g->n_vnets);
	const char *proto = protos[below(&g->r, NS_ARRAY_LEN(protos))];
	const char *access = chance(&g->r, 45) ? "Deny" : "Allow";
	put(b,
	    "{\"name\":\"r%d\",\"id\":\"" RG "/networkSecurityGroups/nsg%d/securityRules/r%d\","
	    "\"properties\":{\"protocol\":\"%s\",\"access\":\"%s\",\"priority\":%d,"
	    "\"direction\":\"%s\",",
	    i, nsg, i, proto, access, prio, dir ? "Outbound" : "Inbound");
	nsg_addrs(g, b, "source", asg_vnet);
	nsg_addrs(g, b, "destination", asg_vnet);
	nsg_ports(g, b, "source");
	nsg_ports(g, b, "destination");
	close_list(b, '}');
	put(b, "},");
}

static void write_nsgs(genv *g, sbuf *b)
{
	for (int n = 0; n < g->n_nsgs; n++) {
		put(b,
		    "{\"name\":\"nsg%d\",\"id\":\"" RG "/networkSecurityGroups/nsg%d\","
		    "\"type\":\"Microsoft.Network/networkSecurityGroups\","
		    "\"properties\":{\"securityRules\":[",
		    n, n);
		int rules = n == 0 && g->big_rules ? g->big_rules : (int)below(&g->r, 40);
		int prio[2] = {100, 100};
		for (int i = 0; i < rules; i++) {
			int dir = (int)below(&g->r, 2);
			prio[dir] += 1 + (int)below(&g->r, rules > 200 ? 2 : 20);
			if (prio[dir] > 4096)
				continue;
			nsg_rule(g, b, n, i, prio[dir], dir);
		}
		close_list(b, ']');
		put(b, "}},");
	}
}

static void write_vnets(genv *g, sbuf *b)
{
	static const char *const special[] = {"GatewaySubnet", "AzureBastionSubnet",
	                                      "AzureFirewallSubnet"};
	for (int v = 0; v < g->n_vnets; v++) {
		int sp = g->space_of[v];
		put(b,
		    "{\"name\":\"vnet%d\",\"id\":\"" RG "/virtualNetworks/vnet%d\","
		    "\"type\":\"Microsoft.Network/virtualNetworks\",\"properties\":{"
		    "\"addressSpace\":{\"addressPrefixes\":[\"10.%d.0.0/16\",\"fd00:0:%x::/48\"",
		    v, v, sp, sp);
		if (chance(&g->r, 20))
			put(b, ",\"172.%d.0.0/16\"", 16 + v);
		put(b, "]},\"subnets\":[");
		for (int s = 0; s < g->n_subnets[v]; s++) {
			const char *name = "";
			char nm[32];
			snprintf(nm, sizeof nm, "s%d", s);
			name = chance(&g->r, 8) ? special[below(&g->r, 3)] : nm;
			put(b,
			    "{\"name\":\"%s\",\"id\":\"" RG "/virtualNetworks/vnet%d/subnets/s%d\","
			    "\"properties\":{",
			    name, v, s);
			if (chance(&g->r, 60))
				put(b,
				    "\"addressPrefixes\":[\"10.%d.%d.0/24\",\"fd00:0:%x:%x::/"
				    "64\"],",
				    sp, s, sp, s);
			else
				put(b, "\"addressPrefix\":\"10.%d.%d.0/24\",", sp, s);
			if (g->n_nsgs && chance(&g->r, 75))
				put(b,
				    "\"networkSecurityGroup\":{\"id\":\"" RG
				    "/networkSecurityGroups/nsg%u\"},",
				    below(&g->r, (uint32_t)g->n_nsgs));
			if (g->n_rts && chance(&g->r, 50))
				put(b, "\"routeTable\":{\"id\":\"" RG "/routeTables/rt%u\"},",
				    below(&g->r, (uint32_t)g->n_rts));
			if (chance(&g->r, 10))
				put(b,
				    "\"delegations\":[{\"name\":\"d\",\"properties\":{"
				    "\"serviceName\":\"%s\"}}],",
				    chance(&g->r, 50) ? "Microsoft.Network/applicationGateways"
				                      : "Microsoft.Sql/managedInstances");
			close_list(b, '}');
			put(b, "},");
		}
		close_list(b, ']');
		put(b, ",\"virtualNetworkPeerings\":[");
		for (int w = 0; w < g->n_vnets; w++) {
			if (w == v || !chance(&g->r, 50))
				continue;
			const char *state = chance(&g->r, 80) ? "Connected" : "Disconnected";
			const char *access = chance(&g->r, 85) ? "true" : "false";
			put(b,
			    "{\"name\":\"p%d\",\"id\":\"" RG
			    "/virtualNetworks/vnet%d/virtualNetworkPeerings/p%d\","
			    "\"properties\":{\"remoteVirtualNetwork\":{\"id\":\"" RG
			    "/virtualNetworks/vnet%d\"},\"peeringState\":\"%s\","
			    "\"allowVirtualNetworkAccess\":%s}},",
			    w, v, w, w, state, access);
		}
		close_list(b, ']');
		put(b, "}},");
	}
}

static void write_route_tables(genv *g, sbuf *b)
{
	char t[64];
	for (int i = 0; i < g->n_rts; i++) {
		put(b,
		    "{\"name\":\"rt%d\",\"id\":\"" RG "/routeTables/rt%d\","
		    "\"type\":\"Microsoft.Network/routeTables\",\"properties\":{\"routes\":[",
		    i, i);
		int n = 1 + (int)below(&g->r, 3);
		for (int k = 0; k < n; k++) {
			if (chance(&g->r, 15))
				snprintf(t, sizeof t, "%s", g->synthetic ? "SynthA" : "Storage");
			else
				rand_prefix(g, t, sizeof t);
			put(b,
			    "{\"name\":\"x%d\",\"id\":\"" RG "/routeTables/rt%d/routes/x%d\","
			    "\"properties\":{\"addressPrefix\":\"%s\",\"nextHopType\":"
			    "\"VirtualAppliance\"}},",
			    k, i, k, t);
		}
		close_list(b, ']');
		put(b, "}},");
	}
}

static void write_asgs_nics(genv *g, sbuf *b)
{
	for (int v = 0; v < g->n_vnets; v++)
		for (int a = 0; a < g->n_asgs[v]; a++)
			put(b,
			    "{\"name\":\"asg-%d-%d\",\"id\":\"" RG
			    "/applicationSecurityGroups/asg-%d-%d\","
			    "\"type\":\"Microsoft.Network/applicationSecurityGroups\"},",
			    v, a, v, a);
	int nic = 0;
	for (int v = 0; v < g->n_vnets; v++) {
		int sp = g->space_of[v];
		for (int s = 0; s < g->n_subnets[v]; s++) {
			int n = (int)below(&g->r, 4);
			for (int k = 0; k < n; k++, nic++) {
				put(b,
				    "{\"name\":\"nic%d\",\"id\":\"" RG "/networkInterfaces/nic%d\","
				    "\"type\":\"Microsoft.Network/networkInterfaces\","
				    "\"properties\":{",
				    nic, nic);
				if (g->n_nsgs && chance(&g->r, 50))
					put(b,
					    "\"networkSecurityGroup\":{\"id\":\"" RG
					    "/networkSecurityGroups/nsg%u\"},",
					    below(&g->r, (uint32_t)g->n_nsgs));
				put(b, "\"ipConfigurations\":[");
				int host =
				        chance(&g->r, 8) ? 4 : 4 + k; /* now and then a duplicate */
				for (int c = 0; c < (chance(&g->r, 30) ? 2 : 1); c++) {
					put(b,
					    "{\"name\":\"ip%d\",\"id\":\"" RG
					    "/networkInterfaces/nic%d/ipConfigurations/ip%d\","
					    "\"properties\":{\"subnet\":{\"id\":\"" RG
					    "/virtualNetworks/vnet%d/subnets/s%d\"},",
					    c, nic, c, v, s);
					if (c == 0)
						put(b, "\"privateIPAddress\":\"10.%d.%d.%d\",", sp,
						    s, host);
					else
						put(b,
						    "\"privateIPAddress\":\"fd00:0:%x:%x::%x\","
						    "\"privateIPAddressVersion\":\"IPv6\",",
						    sp, s, host);
					if (g->n_asgs[v] && chance(&g->r, 60)) {
						put(b, "\"applicationSecurityGroups\":[");
						put(b,
						    "{\"id\":\"" RG
						    "/applicationSecurityGroups/asg-%d-%u\"}",
						    v, below(&g->r, (uint32_t)g->n_asgs[v]));
						put(b, "],");
					}
					close_list(b, '}');
					put(b, "},");
				}
				close_list(b, ']');
				put(b, "}},");
			}
		}
	}
}

static void admin_items(genv *g, sbuf *b, const char *key, int mgr)
{
	char t[64];
	put(b, "\"%s\":[", key);
	if (!chance(&g->r, 15)) {
		int n = 1 + (int)below(&g->r, 3);
		uint32_t k = below(&g->r, 100);
		if (k < 20) { /* a single tag */
			put(b, "{\"addressPrefixType\":\"ServiceTag\",\"addressPrefix\":\"%s\"}",
			    tag_name(g));
		} else if (k < 34) { /* a mix: prefixes, tags (VirtualNetwork too), a group */
			for (int i = 0; i < n + 1; i++) {
				uint32_t kind = below(&g->r, 3);
				if (kind == 0)
					rand_prefix(g, t, sizeof t);
				if (kind == 0)
					put(b,
					    "{\"addressPrefixType\":\"IPPrefix\",\"addressPrefix\":"
					    "\"%s\"},",
					    t);
				else if (kind == 1 || i > 0)
					put(b,
					    "{\"addressPrefixType\":\"ServiceTag\","
					    "\"addressPrefix\":"
					    "\"%s\"},",
					    chance(&g->r, 50) ? "VirtualNetwork" : tag_name(g));
				else
					put(b,
					    "{\"addressPrefixType\":\"NetworkGroup\","
					    "\"addressPrefix\":"
					    "\"" RG
					    "/networkManagers/nm%d/networkGroups/ng%d-%u\"},",
					    mgr, mgr, below(&g->r, 2));
			}
		} else if (k < 41) {
			put(b,
			    "{\"addressPrefixType\":\"NetworkGroup\",\"addressPrefix\":\"" RG
			    "/networkManagers/nm%d/networkGroups/ng%d-%u\"}",
			    mgr, mgr, below(&g->r, 2));
		} else {
			for (int i = 0; i < n; i++) {
				if (chance(&g->r, 10))
					snprintf(t, sizeof t, "*");
				else
					rand_prefix(g, t, sizeof t);
				put(b,
				    "{\"addressPrefixType\":\"IPPrefix\",\"addressPrefix\":\"%s\"}"
				    ",",
				    t);
			}
		}
	}
	close_list(b, ']');
	put(b, ",");
}

static void admin_ports(genv *g, sbuf *b, const char *key)
{
	char t[32];
	put(b, "\"%s\":[", key);
	if (!chance(&g->r, 25)) {
		int n = 1 + (int)below(&g->r, 3);
		for (int i = 0; i < n; i++) {
			port_text(g, t, sizeof t);
			put(b, "\"%s\",", t);
		}
	}
	close_list(b, ']');
	put(b, ",");
}

static void write_admin(genv *g, sbuf *b)
{
	static const char *const intent[] = {"None", "All", "AllowRulesOnly"};
	static const char *const protos[] = {"Any", "Tcp", "Udp", "Icmp", "Esp", "Ah"};
	static const char *const access[] = {"Allow", "Deny", "AlwaysAllow"};
	int n_mgrs = (int)below(&g->r, 3);
	for (int m = 0; m < n_mgrs; m++) {
		const char *mg = RG "/networkManagers/nm";
		put(b,
		    "{\"name\":\"nm%d\",\"id\":\"%s%d\",\"type\":\"Microsoft.Network/"
		    "networkManagers\",\"properties\":{\"networkManagerScopes\":{"
		    "\"managementGroups\":[%s],\"subscriptions\":[\"" SUB "\"]},"
		    "\"networkManagerScopeAccesses\":[\"SecurityAdmin\"]}},",
		    m, mg, m, chance(&g->r, 30) ? "\"/providers/Microsoft.Management/mg1\"" : "");
		for (int k = 0; k < 2; k++) {
			put(b,
			    "{\"name\":\"ng%d-%d\",\"id\":\"%s%d/networkGroups/ng%d-%d\","
			    "\"type\":\"Microsoft.Network/networkManagers/networkGroups\","
			    "\"properties\":{\"memberType\":\"VirtualNetwork\"}},",
			    m, k, mg, m, m, k);
			for (int v = 0; v < g->n_vnets; v++) {
				if (!chance(&g->r, 60))
					continue;
				bool subnet = chance(&g->r, 15) && g->n_subnets[v] > 0;
				put(b,
				    "{\"name\":\"sm%d\",\"id\":\"%s%d/networkGroups/ng%d-%d/"
				    "staticMembers/sm%d\",\"type\":\"Microsoft.Network/"
				    "networkManagers/networkGroups/staticMembers\",\"properties\":{"
				    "\"resourceId\":\"" RG "/virtualNetworks/vnet%d%s\"}},",
				    v, mg, m, m, k, v, v, subnet ? "/subnets/s0" : "");
			}
		}
		const char *cfg = "/securityAdminConfigurations/sac";
		put(b,
		    "{\"name\":\"sac\",\"id\":\"%s%d%s\",\"type\":\"Microsoft.Network/"
		    "networkManagers/securityAdminConfigurations\",\"properties\":{"
		    "\"applyOnNetworkIntentPolicyBasedServices\":[\"%s\"]}},",
		    mg, m, cfg, intent[below(&g->r, 3)]);
		int n_coll = 1 + (int)below(&g->r, 2);
		for (int c = 0; c < n_coll; c++) {
			put(b,
			    "{\"name\":\"rc%d\",\"id\":\"%s%d%s/ruleCollections/rc%d\","
			    "\"type\":\"Microsoft.Network/networkManagers/"
			    "securityAdminConfigurations/"
			    "ruleCollections\",\"properties\":{\"appliesToGroups\":[{"
			    "\"networkGroupId\":\"%s%d/networkGroups/ng%d-%u\"}]}},",
			    c, mg, m, cfg, c, mg, m, m, below(&g->r, 2));
			int n_rules = (int)below(&g->r, 14);
			int prio = 1;
			for (int i = 0; i < n_rules; i++) {
				prio += 1 + (int)below(&g->r, 4); /* ties across collections */
				const char *proto = protos[below(&g->r, 6)];
				const char *acc = access[below(&g->r, 3)];
				const char *dir = chance(&g->r, 50) ? "Inbound" : "Outbound";
				put(b,
				    "{\"name\":\"a%d\",\"id\":\"%s%d%s/ruleCollections/rc%d/rules/"
				    "a%d\","
				    "\"type\":\"Microsoft.Network/networkManagers/"
				    "securityAdminConfigurations/ruleCollections/rules\",\"kind\":"
				    "\"Custom\",\"properties\":{\"protocol\":\"%s\",\"access\":\"%"
				    "s\","
				    "\"priority\":%d,\"direction\":\"%s\",",
				    i, mg, m, cfg, c, i, proto, acc, prio, dir);
				admin_items(g, b, "sources", m);
				admin_items(g, b, "destinations", m);
				admin_ports(g, b, "sourcePortRanges");
				admin_ports(g, b, "destinationPortRanges");
				close_list(b, '}');
				put(b, "},");
			}
		}
	}
}

static char *make_env(genv *g, size_t *len)
{
	rng *r = &g->r;
	g->n_vnets = 1 + (int)below(r, MAX_VNETS);
	for (int v = 0; v < g->n_vnets; v++) {
		g->n_subnets[v] = 1 + (int)below(r, MAX_SUBS);
		g->space_of[v] = v > 0 && chance(r, 8) ? 0 : v; /* overlapping VNets */
		g->n_asgs[v] = (int)below(r, 3);
	}
	g->n_nsgs = (int)below(r, 5);
	g->n_rts = (int)below(r, 3);
	if (g->n_nsgs && chance(r, 12))
		g->big_rules = 300 + (int)below(r, 1800); /* up to ~1,050 per direction */
	if (g->crowded) {
		g->n_nsgs += !g->n_nsgs;
		g->big_rules = 700;
	}
	sbuf b = {0};
	put(&b, "{\"value\":[");
	write_nsgs(g, &b);
	write_route_tables(g, &b);
	write_vnets(g, &b);
	write_asgs_nics(g, &b);
	write_admin(g, &b);
	close_list(&b, ']');
	put(&b, "}");
	*len = b.n;
	return b.p;
}

/* A tags file with three random tags and an Internet override. */
static char *make_synthetic_tags(genv *g, size_t *len)
{
	char t[64];
	sbuf b = {0};
	put(&b, "{\"changeNumber\":1,\"cloud\":\"Public\",\"values\":[");
	for (int k = 0; k < 4; k++) {
		const char *name = k < 3 ? synthetic_tags[k] : "Internet";
		put(&b,
		    "{\"name\":\"%s\",\"id\":\"%s\",\"properties\":{\"networkFeatures\":[\"NSG\"],"
		    "\"addressPrefixes\":[",
		    name, name);
		int n = 1 + (int)below(&g->r, 30);
		for (int i = 0; i < n; i++) {
			rand_prefix(g, t, sizeof t);
			put(&b, "\"%s\",", t);
		}
		close_list(&b, ']');
		put(&b, "}},");
	}
	close_list(&b, ']');
	put(&b, "}");
	*len = b.n;
	return b.p;
}

/* ---- flows ------------------------------------------------------------------------------ */

typedef struct pool {
	ns_u128 *a4, *a6;
	size_t n4, n6, cap4, cap6;
	int *ports;
	size_t np, capp;
	ns_u128 *mod4, *mod6; /* modelled: NIC addresses and subnet ranges */
	size_t nm4, nm6, capm4, capm6;
} pool;

static void push_addr(ns_u128 **a, size_t *n, size_t *cap, ns_u128 v)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		*a = realloc(*a, *cap * sizeof **a);
		assert_non_null(*a);
	}
	(*a)[(*n)++] = v;
}

static void push_port(pool *pl, int p)
{
	if (p < 0 || p > 65535)
		return;
	if (pl->np == pl->capp) {
		pl->capp = pl->capp ? pl->capp * 2 : 256;
		pl->ports = realloc(pl->ports, pl->capp * sizeof *pl->ports);
		assert_non_null(pl->ports);
	}
	pl->ports[pl->np++] = p;
}

static void edges4(pool *pl, ns_u128 lo, ns_u128 hi)
{
	push_addr(&pl->a4, &pl->n4, &pl->cap4, lo);
	push_addr(&pl->a4, &pl->n4, &pl->cap4, hi);
	if (lo > 0)
		push_addr(&pl->a4, &pl->n4, &pl->cap4, lo - 1);
	if (hi < UINT32_MAX)
		push_addr(&pl->a4, &pl->n4, &pl->cap4, hi + 1);
}

static void edges6(pool *pl, ns_u128 lo, ns_u128 hi)
{
	push_addr(&pl->a6, &pl->n6, &pl->cap6, lo);
	push_addr(&pl->a6, &pl->n6, &pl->cap6, hi);
	if (lo > 0)
		push_addr(&pl->a6, &pl->n6, &pl->cap6, lo - 1);
	if (hi < ~(ns_u128)0)
		push_addr(&pl->a6, &pl->n6, &pl->cap6, hi + 1);
}

static void set_edges(pool *pl, const ns_pset *s, rng *r)
{
	if (!s)
		return;
	/* Big sets (tags): a sample of their edges. */
	for (size_t i = 0; i < s->n4; i++)
		if (s->n4 < 40 || chance(r, 5))
			edges4(pl, s->v4[i].lo, s->v4[i].hi);
	for (size_t i = 0; i < s->n6; i++)
		if (s->n6 < 40 || chance(r, 5))
			edges6(pl, s->v6[i].lo, s->v6[i].hi);
}

static void chain_edges(pool *pl, const ns_chain *ch, const nsgsim_policy *p, rng *r)
{
	for (size_t i = 0; i < ch->n; i++) {
		const ns_crule *cr = &ch->rules[i];
		const ns_cside *sides[2] = {&cr->src, &cr->dst};
		for (int k = 0; k < 2; k++) {
			if (sides[k]->set != &p->internet || chance(r, 10))
				set_edges(pl, sides[k]->set, r);
			for (size_t j = 0; j < sides[k]->n_ports; j++) {
				push_port(pl, sides[k]->ports[j].lo);
				push_port(pl, sides[k]->ports[j].hi);
				push_port(pl, sides[k]->ports[j].lo - 1);
				push_port(pl, sides[k]->ports[j].hi + 1);
			}
		}
	}
}

static void build_pool(const nsgsim_policy *p, pool *pl, rng *r)
{
	memset(pl, 0, sizeof *pl);
	for (size_t i = 0; i < p->n_nsgs; i++) {
		chain_edges(pl, &p->nsgs[i].in, p, r);
		chain_edges(pl, &p->nsgs[i].out, p, r);
	}
	for (size_t i = 0; i < p->n_subnets; i++) {
		const ns_csubnet *cs = &p->subnets[i];
		for (size_t k = 0; k < cs->n_levels; k++) {
			chain_edges(pl, &cs->levels[k].in, p, r);
			chain_edges(pl, &cs->levels[k].out, p, r);
		}
		set_edges(pl, &cs->vnet_tag, r);
		for (size_t k = 0; k < cs->prefixes.n4; k++) {
			edges4(pl, cs->prefixes.v4[k].lo, cs->prefixes.v4[k].hi);
			for (int j = 0; j < 3; j++)
				push_addr(&pl->mod4, &pl->nm4, &pl->capm4,
				          cs->prefixes.v4[k].lo +
				                  below(r, (uint32_t)(cs->prefixes.v4[k].hi -
				                                      cs->prefixes.v4[k].lo + 1)));
		}
		for (size_t k = 0; k < cs->prefixes.n6; k++) {
			edges6(pl, cs->prefixes.v6[k].lo, cs->prefixes.v6[k].hi);
			push_addr(&pl->mod6, &pl->nm6, &pl->capm6,
			          cs->prefixes.v6[k].lo + below(r, 9));
		}
	}
	for (size_t i = 0; i < p->n_nics; i++) {
		const ns_nic *n = p->nics[i].n;
		for (size_t k = 0; k < n->n_ipconfigs; k++) {
			const ns_ipconfig *ipc = &n->ipconfigs[k];
			if (!ipc->has_ip)
				continue;
			if (ipc->family == 4)
				push_addr(&pl->mod4, &pl->nm4, &pl->capm4, ipc->ip);
			else
				push_addr(&pl->mod6, &pl->nm6, &pl->capm6, ipc->ip);
		}
	}
	push_addr(&pl->a4, &pl->n4, &pl->cap4, 0xA83F8110u);
	push_addr(&pl->a4, &pl->n4, &pl->cap4, 0xA9FEA9FEu); /* IMDS */
	push_addr(&pl->a4, &pl->n4, &pl->cap4, 0);
	push_addr(&pl->a4, &pl->n4, &pl->cap4, UINT32_MAX);
	push_addr(&pl->a6, &pl->n6, &pl->cap6, 0);
	push_addr(&pl->mod4, &pl->nm4, &pl->capm4, 0x0A000004u);
	push_addr(&pl->mod6, &pl->nm6, &pl->capm6, 1);
	static const int common[] = {0, 1, 22, 53, 67, 80, 443, 1433, 3389, 32526, 65534, 65535};
	for (size_t i = 0; i < NS_ARRAY_LEN(common); i++)
		push_port(pl, common[i]);
}

static void pool_free(pool *pl)
{
	free(pl->a4);
	free(pl->a6);
	free(pl->ports);
	free(pl->mod4);
	free(pl->mod6);
}

static ns_u128 pick_addr(pool *pl, rng *r, int family, bool modelled)
{
	if (family == 4) {
		if (modelled)
			return pl->mod4[below(r, (uint32_t)pl->nm4)];
		if (chance(r, 25))
			return (uint32_t)rnd(r);
		return pl->a4[below(r, (uint32_t)pl->n4)];
	}
	if (modelled)
		return pl->mod6[below(r, (uint32_t)pl->nm6)];
	if (chance(r, 20)) {
		ns_u128 hi = (ns_u128)rnd(r) << 64;
		return hi | rnd(r);
	}
	return pl->n6 ? pl->a6[below(r, (uint32_t)pl->n6)] : 0;
}

static void make_flow(pool *pl, rng *r, nsgsim_flow *f)
{
	static const int protos[] = {NSGSIM_PROTO_TCP,  NSGSIM_PROTO_TCP, NSGSIM_PROTO_UDP,
	                             NSGSIM_PROTO_ICMP, NSGSIM_PROTO_ESP, NSGSIM_PROTO_AH};
	memset(f, 0, sizeof *f);
	int family = chance(r, 75) || pl->nm6 == 0 ? 4 : 6;
	f->protocol = protos[below(r, 6)];
	bool ms = chance(r, 70), md = chance(r, 70);
	ns_ip_from_u128(&f->src, family, pick_addr(pl, r, family, ms));
	ns_ip_from_u128(&f->dst, family, pick_addr(pl, r, family, md));
	bool ports = f->protocol == NSGSIM_PROTO_TCP || f->protocol == NSGSIM_PROTO_UDP;
	f->dst_port = ports ? pl->ports[below(r, (uint32_t)pl->np)] : NSGSIM_PORT_ANY;
	f->src_port =
	        ports && chance(r, 85) ? pl->ports[below(r, (uint32_t)pl->np)] : NSGSIM_PORT_ANY;
	/* Now and then a NIC's request to the host's services (SEMANTICS.md
	 * §3.7): DNS, DHCP, WireServer, IMDS, and their neighbours. */
	if (family == 4 && ms && chance(r, 8)) {
		static const struct {
			uint32_t a;
			int proto, port;
		} host[] = {{0xA83F8110u, NSGSIM_PROTO_UDP, 53},
		            {0xA83F8110u, NSGSIM_PROTO_TCP, 53},
		            {0xA83F8110u, NSGSIM_PROTO_UDP, 67},
		            {0xA83F8110u, NSGSIM_PROTO_TCP, 80},
		            {0xA83F8110u, NSGSIM_PROTO_TCP, 32526},
		            {0xA9FEA9FEu, NSGSIM_PROTO_TCP, 80},
		            {0xA9FEA9FEu, NSGSIM_PROTO_UDP, 80},
		            {0xA83F8110u, NSGSIM_PROTO_TCP, 443}};
		int k = (int)below(r, NS_ARRAY_LEN(host));
		ns_ip_from_u128(&f->dst, 4, host[k].a);
		f->protocol = host[k].proto;
		f->dst_port = host[k].port;
	}
}

/* ---- a random environment, compiled ------------------------------------------------ */

typedef struct genpolicy {
	nsgsim_policy *p; /* NULL when it did not compile (err says why) */
	char *json, *tags;
	nsgsim_error err;
} genpolicy;

/* Swaps the access of `edits` rules (NSG and admin; AlwaysAllow stays) and
 * turns TCP into UDP in as many, picked by r: the same estate with a few
 * rules changed, as a pull request changes it.  json is reallocated. */
static char *edit_rules(char *json, size_t *len, rng *r, int edits)
{
	static const char *const key[] = {"\"access\":\"", "\"protocol\":\""};
	for (int e = 0; e < 2 * edits; e++) {
		const char *k = key[e % 2];
		size_t count = 0;
		for (const char *p = strstr(json, k); p; p = strstr(p + 1, k))
			count++;
		if (!count)
			continue;
		size_t pick = below(r, (uint32_t)count);
		char *at = strstr(json, k);
		while (pick--)
			at = strstr(at + 1, k);
		at += strlen(k);
		const char *from = e % 2                            ? "Tcp\""
		                   : strncmp(at, "Allow\"", 6) == 0 ? "Allow\""
		                                                    : "Deny\"";
		const char *to = e % 2 ? "Udp\"" : from[0] == 'A' ? "Deny\"" : "Allow\"";
		if (strncmp(at, from, strlen(from)) != 0)
			continue; /* AlwaysAllow, or another protocol */
		size_t head = (size_t)(at - json), tail = *len - head - strlen(from);
		char *out = malloc(*len - strlen(from) + strlen(to) + 1);
		if (!out)
			break;
		memcpy(out, json, head);
		memcpy(out + head, to, strlen(to));
		memcpy(out + head + strlen(to), at + strlen(from), tail + 1);
		*len = *len - strlen(from) + strlen(to);
		free(json);
		json = out;
	}
	return json;
}

/* Environment number env: its generator state in *g and the compiled
 * policy.  Every other one takes the scalar scan; every third goes without
 * the policy-wide classes (the fallback over a budget).  With edits > 0,
 * that many rules swap their access and as many TCP rules become UDP
 * (edit_rules; the choice is seeded by edit_seed). */
static genpolicy genenv_compile_edited(int env, genv *g, int edits, uint64_t edit_seed)
{
	genpolicy gp;
	memset(&gp, 0, sizeof gp);
	memset(g, 0, sizeof *g);
	g->r.s = 0x5EED0000ull + (uint64_t)env * 7919;
	g->synthetic = env % 7 == 3;
	g->crowded = env % 10 == 4;
	size_t env_len, tags_len;
	gp.json = make_env(g, &env_len);
	if (edits > 0) {
		rng er = {edit_seed | 1};
		gp.json = edit_rules(gp.json, &env_len, &er, edits);
	}
	gp.tags = g->synthetic ? make_synthetic_tags(g, &tags_len)
	                       : test_read_file(TAGS_FILE, &tags_len);
	if (env % 2)
		setenv("NSGSIM_NO_SIMD", "1", 1);
	else
		unsetenv("NSGSIM_NO_SIMD");
	if (env % 3 == 1)
		setenv("NSGSIM_NO_GLOBAL", "1", 1);
	else
		unsetenv("NSGSIM_NO_GLOBAL");
	/* The lean per-chain tries of a large policy (lib/compile/cls_chain.c),
	 * on their own and under the per-chain fallback. */
	if (env % 5 == 1 || env % 5 == 3)
		setenv("NSGSIM_LEAN_TRIES", "1", 1);
	else
		unsetenv("NSGSIM_LEAN_TRIES");
	nsgsim_loader *l = nsgsim_loader_new();
	int rc = nsgsim_loader_add_env_buffer(l, "random.json", gp.json, env_len, &gp.err);
	if (rc == 0)
		rc = nsgsim_loader_add_service_tags_buffer(l, "tags.json", gp.tags, tags_len,
		                                           &gp.err);
	if (rc == 0)
		rc = nsgsim_compile(l, &gp.p, &gp.err);
	nsgsim_loader_free(l);
	unsetenv("NSGSIM_NO_SIMD");
	unsetenv("NSGSIM_NO_GLOBAL");
	unsetenv("NSGSIM_LEAN_TRIES");
	return gp;
}

static genpolicy genenv_compile(int env, genv *g)
{
	return genenv_compile_edited(env, g, 0, 0);
}

static void genpolicy_free(genpolicy *gp)
{
	nsgsim_policy_free(gp->p);
	free(gp->json);
	free(gp->tags);
}

#endif
