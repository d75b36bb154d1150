/* Differential tests: the compiled engine against the linear reference.
 *
 * Random environments (VNets with IPv4 and IPv6 spaces, peerings, route
 * tables, subnets with special names and delegations, NICs with ASGs and the
 * odd duplicate address, NSGs shared across VNets, one large NSG now and
 * then, AVNM managers with one or two levels, ties, empty lists, network
 * groups as addresses; service tags from the trimmed fixture file, or a
 * synthetic file that overrides Internet) are written as JSON, loaded
 * through the public loader and compiled.  Flows are aimed at the edges of
 * every rule's sets and port ranges, at NIC addresses and subnet edges, and
 * at random addresses.  Every flow is evaluated with both engines -- end to
 * end, in batches, one-sided at a NIC, and chain by chain in every subnet
 * context -- and every field must agree: verdict, decided layer, endpoint,
 * rule, the per-layer trace and the assumption bits.  The seed is fixed; a
 * disagreement prints the environment's number and the flow. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eval/walk.h"
#include "files.h"
#include "nsgsim.h"

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

static const char *tag_name(genv *g)
{
	static const char *const computed[] = {"VirtualNetwork", "Internet", "AzureLoadBalancer"};
	if (chance(&g->r, 45))
		return computed[below(&g->r, 3)];
	if (g->synthetic)
		return synthetic_tags[below(&g->r, 3)];
	return fixture_tags[below(&g->r, NS_ARRAY_LEN(fixture_tags))];
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
		put(b, "\"%sAddressPrefix\":\"%s\",", side, tag_name(g));
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
		if (k < 20) { /* a single tag (VirtualNetwork cannot share a side) */
			put(b, "{\"addressPrefixType\":\"ServiceTag\",\"addressPrefix\":\"%s\"}",
			    tag_name(g));
		} else if (k < 27) {
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
	push_addr(&pl->a4, &pl->n4, &pl->cap4, 0);
	push_addr(&pl->a4, &pl->n4, &pl->cap4, UINT32_MAX);
	push_addr(&pl->a6, &pl->n6, &pl->cap6, 0);
	push_addr(&pl->mod4, &pl->nm4, &pl->capm4, 0x0A000004u);
	push_addr(&pl->mod6, &pl->nm6, &pl->capm6, 1);
	static const int common[] = {0, 1, 22, 53, 80, 443, 1433, 3389, 65534, 65535};
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
}

/* ---- comparing ---------------------------------------------------------------------------- */

static int failures;

static void flow_text(const nsgsim_flow *f, char *buf, size_t cap)
{
	char s[64], d[64];
	ns_format_prefix(s, sizeof s, f->src.family, ns_ip_to_u128(&f->src), -1);
	ns_format_prefix(d, sizeof d, f->dst.family, ns_ip_to_u128(&f->dst), -1);
	snprintf(buf, cap, "proto %d %s:%d %s:%d", f->protocol, s, f->src_port, d, f->dst_port);
}

static void report(int env, const nsgsim_flow *f, const char *what)
{
	char t[256];
	flow_text(f, t, sizeof t);
	if (failures < 20)
		print_error("env %d: %s: %s\n", env, t, what);
	failures++;
}

static bool same_rule(const nsgsim_rule_ref *a, const nsgsim_rule_ref *b)
{
	return a->name == b->name && a->id == b->id && a->priority == b->priority &&
	       a->access == b->access && a->is_default == b->is_default;
}

static const char *diff_results(const nsgsim_result *a, const nsgsim_result *b)
{
	if (a->verdict != b->verdict)
		return "verdict";
	if (a->decided_layer != b->decided_layer)
		return "decided layer";
	if (a->decided_endpoint != b->decided_endpoint)
		return "decided endpoint";
	if (!same_rule(&a->decided_rule, &b->decided_rule))
		return "decided rule";
	if (a->decided_resource != b->decided_resource)
		return "decided resource";
	if (a->assumptions != b->assumptions)
		return "assumptions";
	if (a->src_port != b->src_port || a->src_modelled != b->src_modelled ||
	    a->dst_modelled != b->dst_modelled || a->one_sided != b->one_sided)
		return "ports or modelled flags";
	if (a->n_sides != b->n_sides)
		return "number of sides";
	for (int s = 0; s < a->n_sides; s++) {
		const nsgsim_side_result *x = &a->sides[s], *y = &b->sides[s];
		if (x->endpoint != y->endpoint || x->direction != y->direction ||
		    x->nic != y->nic || x->subnet != y->subnet || x->vnet != y->vnet ||
		    x->verdict != y->verdict || x->admin_skipped != y->admin_skipped ||
		    x->n_layers != y->n_layers)
			return "side";
		for (int l = 0; l < x->n_layers; l++) {
			const nsgsim_layer_result *u = &x->layers[l], *v = &y->layers[l];
			if (u->layer != v->layer || u->resource != v->resource ||
			    u->applied_to != v->applied_to || u->matched != v->matched ||
			    !same_rule(&u->rule, &v->rule))
				return "layer trace";
		}
	}
	return NULL;
}

static const char *diff_decision(const nsgsim_decision *d, int rc, const nsgsim_result *r)
{
	if (d->status != rc)
		return "batch status";
	if (rc != 0)
		return NULL;
	if (d->verdict != r->verdict || d->decided_layer != r->decided_layer ||
	    d->decided_endpoint != r->decided_endpoint ||
	    !same_rule(&d->decided_rule, &r->decided_rule) ||
	    d->decided_resource != r->decided_resource || d->assumptions != r->assumptions ||
	    d->src_port != r->src_port)
		return "batch decision";
	return NULL;
}

typedef struct counts {
	long flows, chain_checks, at_checks, envs, denies, errors;
	long endpoint_checks, endpoint_nics, endpoint_ambiguous;
	long deep_maps;   /* crowded environments whose address maps are 2+ levels deep */
	long wide_checks; /* chain checks of a 16-word chain (its own AVX2 scan) */
	unsigned assumption_bits;
} counts;

/* Every chain the policy has, in every subnet context, for one flow. */
static void check_chains(const nsgsim_policy *p, const nsgsim_flow *flow, int env, counts *k)
{
	ns_flowv f, fg;
	ns_flowv_of(flow, flow->src_port < 0 ? 1024 : flow->src_port, &f);
	fg = f;
	ns_cls_global_classes(p->cls, &fg); /* the policy-wide path, when built */
	for (size_t s = 0; s < p->n_subnets; s++) {
		const ns_csubnet *ctx = &p->subnets[s];
		const ns_chain *chains[64];
		size_t n = 0;
		for (size_t i = 0; i < p->n_nsgs && n + 2 <= 64; i++) {
			chains[n++] = &p->nsgs[i].in;
			chains[n++] = &p->nsgs[i].out;
		}
		for (size_t i = 0; i < ctx->n_levels && n + 2 <= 64; i++) {
			chains[n++] = &ctx->levels[i].in;
			chains[n++] = &ctx->levels[i].out;
		}
		for (size_t i = 0; i < n; i++) {
			unsigned al = 0, ac = 0, ag = 0;
			size_t wl = ns_linear_first(p, chains[i], &f, ctx, &al);
			assert_non_null(chains[i]->cls);
			const ns_cls *c = chains[i]->cls;
			uint32_t wc = ns_cls_first(p, c, chains[i]->rules, &f, ctx, &ac);
			uint32_t wg = ns_cls_first(p, c, chains[i]->rules, &fg, ctx, &ag);
			/* The batch classifies the flow itself. */
			uint32_t wb;
			unsigned ab;
			ns_cls_first_batch(p, c, chains[i]->rules, &f, 1, ctx, &wb, &ab);
			k->chain_checks++;
			k->wide_checks += c->words == 16;
			if (wl != wc || al != ac || wl != wg || al != ag || wl != wb || al != ab) {
				char what[300];
				snprintf(what, sizeof what,
				         "chain %zu of %zu rules in subnet %zu: linear %zu/%#x, "
				         "compiled "
				         "%u/%#x, global classes %u/%#x, batch %u/%#x",
				         i, chains[i]->n, s, wl, al, wc, ac, wg, ag, wb, ab);
				report(env, flow, what);
			}
		}
	}
}

/* The endpoint map against a brute-force reading of the model: the first
 * NIC (in input order) whose ipConfiguration holds the address, ambiguous
 * when the next holder is another NIC; else the first subnet whose prefix
 * holds it, ambiguous when another does too. */
static void expected_endpoint(const nsgsim_policy *p, int family, ns_u128 a, const ns_cnic **nic,
                              const ns_csubnet **subnet, bool *amb)
{
	const ns_cnic *holders[2] = {NULL, NULL};
	const ns_csubnet *first_subnet = NULL;
	size_t n = 0;
	*amb = false;
	for (size_t i = 0; i < p->n_nics && n < 2; i++) {
		const ns_cnic *cn = &p->nics[i];
		for (size_t k = 0; k < cn->n->n_ipconfigs && n < 2; k++) {
			const ns_ipconfig *ipc = &cn->n->ipconfigs[k];
			if (!ipc->has_ip || ipc->family != family || ipc->ip != a)
				continue;
			if (n == 0)
				first_subnet = ipc->subnet_id ? ns_map_get(&p->subnet_by_id,
				                                           ipc->subnet_id)
				                              : cn->subnet;
			holders[n++] = cn;
		}
	}
	if (n > 0) {
		*nic = holders[0];
		*subnet = first_subnet;
		*amb = n > 1 && holders[1] != holders[0];
		return;
	}
	*nic = NULL;
	*subnet = NULL;
	for (size_t i = 0; i < p->n_subnets; i++) {
		if (!ns_pset_contains(&p->subnets[i].prefixes, family, a))
			continue;
		if (*subnet) {
			*amb = true;
			return;
		}
		*subnet = &p->subnets[i];
	}
}

static void check_endpoint(const nsgsim_policy *p, const nsgsim_flow *flow, int env, counts *k)
{
	ns_flowv f;
	ns_flowv_of(flow, 0, &f);
	ns_cls_global_classes(p->cls, &f);
	for (int side = 0; side < 2; side++) {
		ns_u128 a = side ? f.dst : f.src;
		const ns_cnic *nic;
		const ns_csubnet *subnet;
		bool amb;
		expected_endpoint(p, f.family, a, &nic, &subnet, &amb);
		const ns_eprec *r = ns_endpoint_of(p, f.family, a);
		bool ok = r->ambiguous == amb;
		if (subnet)
			ok = ok && r->ep && r->ep->nic == nic && r->ep->subnet == subnet;
		else
			ok = ok && !r->ep;
		/* The policy-wide classes fold the same map in. */
		if (f.global)
			ok = ok && &p->recs[f.ep[side]] == r;
		k->endpoint_checks++;
		k->endpoint_nics += nic != NULL;
		k->endpoint_ambiguous += amb;
		if (!ok)
			report(env, flow, side ? "destination endpoint" : "source endpoint");
	}
}

/* How many child levels an index entry of an interval map has below it
 * (lib/compile/cls_imap.c, "interval maps": the top bit marks a child node, bits
 * 27-30 its key bits, the low bits its first entry in l2). */
static int entry_depth(const ns_imap *m, uint32_t e)
{
	if (!(e & 0x80000000u))
		return 0;
	int deepest = 0;
	for (uint32_t k = 0; k < 1u << ((e >> 27) & 15); k++) {
		int d = entry_depth(m, m->l2[(e & 0x7FFFFFFu) + k]);
		deepest = d > deepest ? d : deepest;
	}
	return 1 + deepest;
}

static int deepest_level(const ns_imap *m)
{
	int deepest = 0;
	for (uint32_t i = 0; i < 1u << (32 - m->shift1); i++) {
		int d = entry_depth(m, m->l1[i]);
		deepest = d > deepest ? d : deepest;
	}
	return deepest;
}

static void check_env(int env, counts *k)
{
	genv g;
	memset(&g, 0, sizeof g);
	g.r.s = 0x5EED0000ull + (uint64_t)env * 7919;
	g.synthetic = env % 7 == 3;
	g.crowded = env % 10 == 4;
	size_t env_len, tags_len;
	char *json = make_env(&g, &env_len);
	char *tags = g.synthetic ? make_synthetic_tags(&g, &tags_len)
	                         : test_read_file(TAGS_FILE, &tags_len);
	/* Every other environment takes the scalar scan; every third goes
	 * without the policy-wide classes (the fallback over a budget). */
	if (env % 2)
		setenv("NSGSIM_NO_SIMD", "1", 1);
	else
		unsetenv("NSGSIM_NO_SIMD");
	if (env % 3 == 1)
		setenv("NSGSIM_NO_GLOBAL", "1", 1);
	else
		unsetenv("NSGSIM_NO_GLOBAL");
	nsgsim_loader *l = nsgsim_loader_new();
	nsgsim_error err = {0};
	nsgsim_policy *p = NULL;
	int rc = nsgsim_loader_add_env_buffer(l, "random.json", json, env_len, &err);
	if (rc == 0)
		rc = nsgsim_loader_add_service_tags_buffer(l, "tags.json", tags, tags_len, &err);
	if (rc == 0)
		rc = nsgsim_compile(l, &p, &err);
	nsgsim_loader_free(l);
	unsetenv("NSGSIM_NO_SIMD");
	unsetenv("NSGSIM_NO_GLOBAL");
	if (rc != 0) {
		char buf[3000];
		nsgsim_error_format(&err, buf, sizeof buf);
		print_error("env %d does not compile: %s\n", env, buf);
		failures++;
		free(json);
		free(tags);
		return;
	}
	k->envs++;
	if (g.crowded && p->cls->global)
		k->deep_maps += deepest_level(&p->cls->gmap[NS_F_DST4]) >= 2 &&
		                deepest_level(&p->cls->gmap[NS_F_SRC4]) >= 2;
	pool pl;
	build_pool(p, &pl, &g.r);
	enum { N = 160 };
	nsgsim_flow flows[N];
	nsgsim_result lin[N], cmp;
	int rcs[N];
	nsgsim_decision dec[N];
	for (int i = 0; i < N; i++) {
		make_flow(&pl, &g.r, &flows[i]);
		rcs[i] = nsgsim_eval_engine(p, &flows[i], NSGSIM_ENGINE_LINEAR, &lin[i], NULL);
		int rc2 = nsgsim_eval_engine(p, &flows[i], NSGSIM_ENGINE_COMPILED, &cmp, NULL);
		k->flows++;
		if (rcs[i] != rc2) {
			report(env, &flows[i], "status");
			continue;
		}
		if (rcs[i] != 0) {
			k->errors++;
			continue;
		}
		k->denies += lin[i].verdict == NSGSIM_DENY;
		k->assumption_bits |= lin[i].assumptions;
		const char *d = diff_results(&lin[i], &cmp);
		if (d)
			report(env, &flows[i], d);
		if (i % 4 == 0)
			check_chains(p, &flows[i], env, k);
		check_endpoint(p, &flows[i], env, k);
	}
	for (int e = 0; e < 2; e++) {
		int engine = e ? NSGSIM_ENGINE_COMPILED : NSGSIM_ENGINE_LINEAR;
		assert_int_equal(nsgsim_eval_batch(p, flows, N, engine, dec, NULL), 0);
		for (int i = 0; i < N; i++) {
			const char *d = diff_decision(&dec[i], rcs[i], &lin[i]);
			if (!d)
				continue;
			char what[400];
			snprintf(what, sizeof what,
			         "%s (%s engine): got status %d verdict %d layer %d endpoint %d "
			         "rule "
			         "%s assumptions %#x; linear: status %d verdict %d layer %d "
			         "endpoint "
			         "%d rule %s assumptions %#x",
			         d, e ? "compiled" : "linear", dec[i].status, dec[i].verdict,
			         dec[i].decided_layer, dec[i].decided_endpoint,
			         dec[i].decided_rule.name ? dec[i].decided_rule.name : "-",
			         dec[i].assumptions, rcs[i], lin[i].verdict, lin[i].decided_layer,
			         lin[i].decided_endpoint,
			         lin[i].decided_rule.name ? lin[i].decided_rule.name : "-",
			         lin[i].assumptions);
			report(env, &flows[i], what);
		}
	}
	/* One side at a NIC, both directions. */
	for (size_t i = 0; i < p->n_nics && i < 8; i++) {
		for (int j = 0; j < 4; j++) {
			nsgsim_flow f = flows[below(&g.r, N)];
			if (f.src_port < 0)
				f.src_port = 1024;
			int dir = j % 2 ? NSGSIM_INBOUND : NSGSIM_OUTBOUND;
			nsgsim_result a, b;
			int ra = nsgsim_eval_at_engine(p, &f, p->nics[i].n->id, dir,
			                               NSGSIM_ENGINE_LINEAR, &a, NULL);
			int rb = nsgsim_eval_at_engine(p, &f, p->nics[i].n->id, dir,
			                               NSGSIM_ENGINE_COMPILED, &b, NULL);
			k->at_checks++;
			const char *d = ra != rb ? "eval_at status"
			                : ra     ? NULL
			                         : diff_results(&a, &b);
			if (d)
				report(env, &f, d);
		}
	}
	pool_free(&pl);
	nsgsim_policy_free(p);
	free(json);
	free(tags);
}

static void test_engines_agree(void **state)
{
	(void)state;
	counts k;
	memset(&k, 0, sizeof k);
	failures = 0;
	for (int env = 0; env < 90; env++)
		check_env(env, &k);
	printf("differential: %ld environments (%ld with deep address maps), %ld flows (%ld "
	       "denied, %ld errors), %ld chain checks, %ld one-sided checks, assumption bits seen "
	       "%#x, %d disagreements; %ld checks of 16-word chains\n",
	       k.envs, k.deep_maps, k.flows, k.denies, k.errors, k.chain_checks, k.at_checks,
	       k.assumption_bits, failures, k.wide_checks);
	printf("differential: %ld endpoint lookups checked against the model (%ld at NICs, %ld "
	       "ambiguous)\n",
	       k.endpoint_checks, k.endpoint_nics, k.endpoint_ambiguous);
	assert_int_equal(failures, 0);
	assert_true(k.endpoint_nics >= 1000 && k.endpoint_ambiguous >= 10);
	assert_true(k.envs >= 85);
	/* The crowded environments (every tenth) reach deep index levels. */
	assert_true(k.deep_maps >= 5);
	/* Some chains have 769-1,024 rules: the scan that takes all sixteen
	 * words at once (lib/compile/cls_imap.c, scan5_avx2_16) is compared too. */
	assert_true(k.wide_checks >= 100);
	/* The generator reaches the assumptions that depend on tested rules. */
	unsigned want = NSGSIM_ASSUME_INTERNET_TAG | NSGSIM_ASSUME_VNET_TAG_ROUTES |
	                NSGSIM_ASSUME_PORTLESS_PROTOCOL | NSGSIM_ASSUME_ANY_PROTOCOL |
	                NSGSIM_ASSUME_AMBIGUOUS_ENDPOINT | NSGSIM_ASSUME_SOURCE_PORTS_DIFFER;
	assert_int_equal(k.assumption_bits & want, want);
}

/* The batch API's own contract: limits, arguments, per-flow status. */
static void test_batch_contract(void **state)
{
	(void)state;
	nsgsim_loader *l = nsgsim_loader_new();
	nsgsim_error err = {0};
	nsgsim_policy *p = NULL;
	assert_int_equal(nsgsim_loader_add_env(l, "fixtures/example/env", &err), 0);
	assert_int_equal(nsgsim_loader_add_service_tags(l, TAGS_FILE, &err), 0);
	assert_int_equal(nsgsim_loader_set_limit(l, NSGSIM_LIMIT_BATCH_FLOWS, 3), 0);
	assert_int_equal(nsgsim_compile(l, &p, &err), 0);
	nsgsim_loader_free(l);
	nsgsim_flow f[4];
	nsgsim_decision d[4];
	assert_int_equal(nsgsim_flow_parse("tcp 10.1.1.4:50000 10.1.2.4:1433", &f[0], &err), 0);
	assert_int_equal(nsgsim_flow_parse("tcp 8.8.8.8:1 9.9.9.9:2", &f[1], &err), 0);
	f[2] = f[0];
	f[2].protocol = 99;
	assert_int_equal(nsgsim_eval_batch(p, f, 4, NSGSIM_ENGINE_COMPILED, d, &err),
	                 NSGSIM_E_LIMIT);
	assert_int_equal(err.code, NSGSIM_E_LIMIT);
	assert_int_equal(nsgsim_eval_batch(p, f, 3, 7, d, &err), NSGSIM_E_INVALID_ARG);
	assert_int_equal(nsgsim_eval_batch(p, NULL, 3, NSGSIM_ENGINE_COMPILED, d, &err),
	                 NSGSIM_E_INVALID_ARG);
	assert_int_equal(nsgsim_eval_batch(p, f, 0, NSGSIM_ENGINE_COMPILED, NULL, &err), 0);
	assert_int_equal(nsgsim_eval_batch(p, f, 3, NSGSIM_ENGINE_COMPILED, d, &err), 0);
	assert_int_equal(d[0].status, 0);
	assert_int_equal(d[0].verdict, NSGSIM_ALLOW);
	assert_string_equal(d[0].decided_rule.name, "Allow-Web-To-Sql");
	assert_int_equal(d[1].status, NSGSIM_E_NOT_MODELLED);
	assert_int_equal(d[2].status, NSGSIM_E_BAD_FLOW);
	nsgsim_result r;
	assert_int_equal(nsgsim_eval_engine(p, &f[0], 7, &r, &err), NSGSIM_E_INVALID_ARG);
	nsgsim_policy_free(p);
}

/* A 1,000-rule chain whose rule i alone matches destination port 1000 + i,
 * so that the winner walks through every one of its sixteen words: the
 * batch, a single evaluation and the linear scan must each name rule i
 * (and the default rules at the end for other ports, with the
 * VirtualNetwork check of AllowVnetInBound in the last word). */
static void test_wide_chain_every_word(void **state)
{
	(void)state;
	enum { RULES = 1000, FLOWS = RULES + 2 };
	sbuf b = {0};
	put(&b, "{\"value\":[{\"name\":\"wide\",\"id\":\"" RG "/networkSecurityGroups/wide\","
	        "\"type\":\"Microsoft.Network/networkSecurityGroups\",\"properties\":{"
	        "\"securityRules\":[");
	for (int i = 0; i < RULES; i++)
		put(&b,
		    "{\"name\":\"r%d\",\"properties\":{\"protocol\":\"Tcp\",\"access\":\"%s\","
		    "\"priority\":%d,\"direction\":\"Inbound\",\"sourceAddressPrefix\":\"*\","
		    "\"destinationAddressPrefix\":\"*\",\"sourcePortRange\":\"*\","
		    "\"destinationPortRange\":\"%d\"}},",
		    i, i % 2 ? "Deny" : "Allow", 100 + i, 1000 + i);
	close_list(&b, ']');
	put(&b, "}},{\"name\":\"v\",\"id\":\"" RG "/virtualNetworks/v\","
	        "\"type\":\"Microsoft.Network/virtualNetworks\",\"properties\":{"
	        "\"addressSpace\":{\"addressPrefixes\":[\"10.0.0.0/16\"]},\"subnets\":[{"
	        "\"name\":\"s\",\"id\":\"" RG "/virtualNetworks/v/subnets/s\",\"properties\":{"
	        "\"addressPrefix\":\"10.0.0.0/24\",\"networkSecurityGroup\":{\"id\":\"" RG
	        "/networkSecurityGroups/wide\"}}}]}}]}");
	size_t tags_len;
	char *tags = test_read_file(TAGS_FILE, &tags_len);
	nsgsim_loader *l = nsgsim_loader_new();
	nsgsim_error err = {0};
	nsgsim_policy *p = NULL;
	assert_int_equal(nsgsim_loader_add_env_buffer(l, "wide.json", b.p, b.n, &err), 0);
	assert_int_equal(
	        nsgsim_loader_add_service_tags_buffer(l, "tags.json", tags, tags_len, &err), 0);
	assert_int_equal(nsgsim_compile(l, &p, &err), 0);
	nsgsim_loader_free(l);
	free(b.p);
	free(tags);
	const ns_chain *ch = &p->nsgs[0].in;
	const ns_csubnet *ctx = &p->subnets[0];
	assert_non_null(ch->cls);
	assert_int_equal(ch->cls->words, 16);
	assert_true(p->cls->global);
	static ns_flowv fv[FLOWS];
	static uint32_t win[FLOWS], want[FLOWS];
	static unsigned as[FLOWS];
	for (int i = 0; i < FLOWS; i++) {
		nsgsim_flow f;
		char text[96];
		/* The last two: port 80 from inside the VNet (AllowVnetInBound)
		 * and from the Internet (DenyAllInBound). */
		snprintf(text, sizeof text, "tcp %s:40000 10.0.0.4:%d",
		         i == RULES + 1 ? "8.8.8.8" : "10.0.0.5", i < RULES ? 1000 + i : 80);
		assert_int_equal(nsgsim_flow_parse(text, &f, &err), 0);
		ns_flowv_of(&f, f.src_port, &fv[i]);
		want[i] = i < RULES ? (uint32_t)i : i == RULES ? RULES : RULES + 2;
	}
	ns_cls_first_batch(p, ch->cls, ch->rules, fv, FLOWS, ctx, win, as);
	for (int i = 0; i < FLOWS; i++) {
		unsigned al = 0, ag = 0;
		ns_flowv g = fv[i];
		ns_cls_global_classes(p->cls, &g);
		uint32_t single = ns_cls_first(p, ch->cls, ch->rules, &g, ctx, &ag);
		size_t linear = ns_linear_first(p, ch, &fv[i], ctx, &al);
		if (win[i] != want[i] || single != want[i] || linear != want[i] || as[i] != al ||
		    ag != al)
			print_error("flow %d: want rule %u, batch %u/%#x, single %u/%#x, linear "
			            "%zu/%#x\n",
			            i, want[i], win[i], as[i], single, ag, linear, al);
		assert_int_equal(win[i], want[i]);
		assert_int_equal(single, want[i]);
		assert_int_equal(linear, want[i]);
		assert_int_equal(as[i], al);
	}
	nsgsim_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_engines_agree),
	        cmocka_unit_test(test_batch_contract),
	        cmocka_unit_test(test_wide_chain_every_word),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
