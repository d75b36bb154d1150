/* nsgsim-benchgen: realistic environments and flow traces for `make bench`.
 *
 *   nsgsim-benchgen OUTDIR [TAGS]
 *
 * writes
 *
 *   OUTDIR/hub/ (JSON)        a hub and three spokes: peered VNets, route tables
 *                            (one forcing 0.0.0.0/0 through the firewall), 200
 *                            NICs in ASGs, a 1,000-rule NSG per spoke and on
 *                            the hub's shared subnet, two 1,000-rule NIC NSGs,
 *                            and 100 admin rules from two network managers
 *                            (two levels)
 *   OUTDIR/hub-changed/      the same hub with ten rules changed (Allow and Deny
 *                            swapped): five inbound in nsg-hub-shared, five in
 *                            nsg-nic-a, the two NSGs in front of nic0; what
 *                            `nsgsim diff` is timed on
 *   OUTDIR/chain1000/ (JSON)  one NSG whose inbound chain has 1,000 rules
 *   OUTDIR/chain4000/ (JSON)  the 4,000-rule stress chain (3,997 custom rules,
 *                            all priorities 100-4096, and the 3 defaults)
 *   OUTDIR/flows-*.txt       one flow per line, as `nsgsim eval` takes them:
 *                            half aimed at the edges of rules (first and last
 *                            addresses of their sets and one beyond, first and
 *                            last ports and one beyond), half random
 *
 *   nsgsim-benchgen --estate N_RULES OUTDIR [TAGS]
 *
 * writes the estate issue 18 measures: a hub and three spokes, 8 subnets
 * and 40 NICs, each with an NSG of its own (48 NSGs sharing N_RULES custom
 * rules, 60% inbound), the hub's route tables and 100 admin rules, and
 * OUTDIR/flows.txt (200,000 flows made as the hub's are).
 *
 * Rules look like real ones: CIDR lists of partner and on-premises ranges,
 * spoke prefixes, ASGs, port lists and ranges; 15% name a real service tag
 * from TAGS (default: the trimmed fixture file), a few more VirtualNetwork,
 * Internet or AzureLoadBalancer.  Edges are taken from the compiled policy,
 * so tag ranges are aimed at too.  The output is deterministic (fixed seed).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench.h"
#include "eval/match.h"
#include "nsgsim.h"

void ns_ip_from_u128(nsgsim_ip *ip, int family, ns_u128 v);

#define SUB          "/subscriptions/11111111-2222-3333-4444-555555555555"
#define NET          SUB "/resourceGroups/rg-net/providers/Microsoft.Network"
#define DEFAULT_TAGS "fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json"

#define SEED 0xB3C4D5E6F7A81234ull
static uint64_t seed = SEED;
/* Set while hub-changed is written: the NSGs named in changed_rule() swap
 * the access of those rules, after the same random draws. */
static int writing_changed;

static uint64_t rnd(void)
{
	uint64_t x = (seed += 0x9E3779B97F4A7C15ull);
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
	return x ^ (x >> 31);
}

static uint32_t below(uint32_t n)
{
	return n ? (uint32_t)(rnd() % n) : 0;
}

static int chance(int pct)
{
	return (int)below(100) < pct;
}

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static FILE *open_out(const char *dir, const char *name)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f)
		die("cannot write %s: %s", path, strerror(errno));
	return f;
}

static void make_dir(const char *path)
{
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		die("cannot create %s: %s", path, strerror(errno));
}

/* ---- the hub and spokes ---------------------------------------------------------------- */

static const char *const real_tags[] = {"Storage",
                                        "Sql.WestEurope",
                                        "AzureCloud",
                                        "AzureKeyVault",
                                        "AzureMonitor",
                                        "EventHub",
                                        "GatewayManager",
                                        "AzureFrontDoor.Backend",
                                        "ApiManagement",
                                        "AzureActiveDirectory",
                                        "AppService.WestEurope",
                                        "Storage.WestEurope",
                                        "AzureContainerRegistry",
                                        "AzureCloud.westeurope",
                                        "Sql",
                                        "AzureKeyVault.WestEurope"};
static const int common_ports[] = {22,   25,   53,   80,   123,  135,  389,   443,  445,  636,
                                   1433, 1521, 2049, 3306, 3389, 5432, 5671,  5672, 5985, 5986,
                                   6379, 8080, 8443, 9000, 9093, 9200, 10250, 27017};

#define N_SPOKES        3
#define NICS_PER_SUBNET 20

static const char *const spoke_subnets[] = {"snet-web", "snet-app", "snet-db"};

/* A partner or on-premises range, or a spoke prefix. */
static void cidr(char *buf, size_t cap)
{
	uint32_t k = below(10);
	uint32_t a;
	int plen;
	if (k < 3) { /* on premises */
		a = (172u << 24) | ((16 + below(16)) << 16);
		a |= below(256) << 8;
		plen = 22 + (int)below(11);
	} else if (k < 5) {
		a = (192u << 24) | (168u << 16) | (below(256) << 8);
		plen = 24 + (int)below(9);
	} else if (k < 8) { /* partners: public */
		a = (uint32_t)rnd();
		plen = 20 + (int)below(13);
		if ((a >> 24) == 10 || (a >> 24) >= 224 || (a >> 24) == 127 || (a >> 24) == 0)
			a = (52u << 24) | (a & 0xFFFFFF);
	} else { /* the spokes */
		a = (10u << 24) | ((1 + below(N_SPOKES)) << 16);
		a |= below(3) << 8;
		a |= below(256);
		plen = 24 + (int)below(9);
	}
	a &= plen == 32 ? ~0u : ~((1u << (32 - plen)) - 1);
	snprintf(buf, cap, "%u.%u.%u.%u/%d", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255,
	         plen);
}

static void ports(FILE *f, const char *side, const char *after)
{
	int n = chance(75) ? 1 : 2 + (int)below(4);
	fprintf(f, "\"%sPortRanges\":[", side);
	for (int i = 0; i < n; i++) {
		int p = common_ports[below(sizeof common_ports / sizeof *common_ports)];
		if (chance(20))
			fprintf(f, "%s\"%d-%d\"", i ? "," : "", p, p + (int)below(1000));
		else if (chance(10)) {
			uint32_t lo = 49152 + below(1000);
			fprintf(f, "%s\"%u-%u\"", i ? "," : "", lo, 60000 + below(5535));
		} else
			fprintf(f, "%s\"%d\"", i ? "," : "", p);
	}
	fprintf(f, "]%s", after);
}

typedef struct sidectx {
	int spoke; /* the ASGs of this spoke may be named */
	const char *local_prefix;
} sidectx;

static void addrs(FILE *f, const char *side, const sidectx *c, int *tag_budget)
{
	char t[48];
	uint32_t k = below(100);
	if (*tag_budget > 0 && chance(16)) {
		(*tag_budget)--;
		fprintf(f, "\"%sAddressPrefix\":\"%s\",", side,
		        real_tags[below(sizeof real_tags / sizeof *real_tags)]);
	} else if (k < 8) {
		static const char *const computed[] = {"VirtualNetwork", "Internet",
		                                       "AzureLoadBalancer"};
		fprintf(f, "\"%sAddressPrefix\":\"%s\",", side, computed[below(3)]);
	} else if (k < 25) {
		fprintf(f, "\"%sAddressPrefix\":\"*\",", side);
	} else if (k < 35 && c->spoke >= 0) {
		fprintf(f,
		        "\"%sApplicationSecurityGroups\":[{\"id\":\"" NET
		        "/applicationSecurityGroups/asg-spoke%d-%u\"}],",
		        side, c->spoke, below(5));
	} else if (k < 45 && c->local_prefix) {
		fprintf(f, "\"%sAddressPrefix\":\"%s\",", side, c->local_prefix);
	} else {
		int n = chance(50) ? 1 : 2 + (int)below(6);
		fprintf(f, "\"%sAddressPrefixes\":[", side);
		for (int i = 0; i < n; i++) {
			cidr(t, sizeof t);
			fprintf(f, "%s\"%s\"", i ? "," : "", t);
		}
		fprintf(f, "],");
	}
}

/* The ten rules hub-changed changes: inbound rules 7, 127, ..., 487 of the
 * two NSGs in front of nic0. */
static int changed_rule(const char *nsg_name, int dir, int i)
{
	return writing_changed && dir == 0 && i % 120 == 7 && i < 600 &&
	       (strcmp(nsg_name, "nsg-hub-shared") == 0 || strcmp(nsg_name, "nsg-nic-a") == 0);
}

/* One NSG: n_in inbound and n_out outbound custom rules; 15% name a real
 * tag.  ASGs on both sides of a rule are kept in one spoke. */
static void nsg(FILE *f, const char *name, int n_in, int n_out, int spoke, const char *local,
                int last)
{
	fprintf(f,
	        "{\"name\":\"%s\",\"id\":\"" NET "/networkSecurityGroups/%s\","
	        "\"type\":\"Microsoft.Network/networkSecurityGroups\",\"location\":\"westeurope\","
	        "\"properties\":{\"securityRules\":[",
	        name, name);
	int first = 1;
	for (int dir = 0; dir < 2; dir++) {
		int n = dir ? n_out : n_in;
		int tag_budget = (n * 15 + 99) / 100;
		/* Spread the priorities over 100-4096; dense when the chain is long. */
		int step = n ? (3997 / n) : 1;
		for (int i = 0; i < n; i++) {
			int prio = 100 + i * step + (step > 1 ? (int)below((uint32_t)step) : 0);
			sidectx sc = {spoke, local};
			const char *proto = chance(70)   ? "Tcp"
			                    : chance(50) ? "Udp"
			                    : chance(50) ? "*"
			                                 : "Icmp";
			int deny = chance(30);
			if (changed_rule(name, dir, i))
				deny = !deny;
			const char *access = deny ? "Deny" : "Allow";
			fprintf(f,
			        "%s{\"name\":\"%s-%d\",\"id\":\"" NET
			        "/networkSecurityGroups/%s/securityRules/%s-%d\","
			        "\"properties\":{\"protocol\":\"%s\",\"access\":\"%s\","
			        "\"priority\":%d,"
			        "\"direction\":\"%s\",",
			        first ? "" : ",", dir ? "out" : "in", i, name, dir ? "out" : "in",
			        i, proto, access, prio, dir ? "Outbound" : "Inbound");
			first = 0;
			/* Tags mostly on the remote side: the source inbound, the
			 * destination outbound. */
			int no_tags = 0;
			addrs(f, "source", &sc, dir ? &no_tags : &tag_budget);
			addrs(f, "destination", &sc, dir ? &tag_budget : &no_tags);
			if (chance(90))
				fprintf(f, "\"sourcePortRange\":\"*\",");
			else
				ports(f, "source", ",");
			if (chance(8))
				fprintf(f, "\"destinationPortRange\":\"*\"");
			else
				ports(f, "destination", "");
			fprintf(f, "}}");
		}
	}
	fprintf(f, "]}}%s\n", last ? "" : ",");
}

static void vnet(FILE *f, const char *name, int octet, const char *const *subnets, int n_sub,
                 const char *const *nsgs, const char *rt, int peer_hub, int last)
{
	fprintf(f,
	        "{\"name\":\"%s\",\"id\":\"" NET "/virtualNetworks/%s\","
	        "\"type\":\"Microsoft.Network/virtualNetworks\",\"location\":\"westeurope\","
	        "\"properties\":{\"addressSpace\":{\"addressPrefixes\":[\"10.%d.0.0/16\","
	        "\"fd00:db8:%x::/48\"]},\"subnets\":[",
	        name, name, octet, octet);
	for (int s = 0; s < n_sub; s++) {
		fprintf(f,
		        "%s{\"name\":\"%s\",\"id\":\"" NET "/virtualNetworks/%s/subnets/%s\","
		        "\"properties\":{\"addressPrefixes\":[\"10.%d.%d.0/24\",\"fd00:db8:%x:%x::/"
		        "64\"]",
		        s ? "," : "", subnets[s], name, subnets[s], octet, s, octet, s);
		if (nsgs[s])
			fprintf(f,
			        ",\"networkSecurityGroup\":{\"id\":\"" NET
			        "/networkSecurityGroups/%s\"}",
			        nsgs[s]);
		if (rt && s == n_sub - 1)
			fprintf(f, ",\"routeTable\":{\"id\":\"" NET "/routeTables/%s\"}", rt);
		fprintf(f, "}}");
	}
	fprintf(f, "],\"virtualNetworkPeerings\":[");
	if (peer_hub > 0) {
		fprintf(f,
		        "{\"name\":\"to-hub\",\"id\":\"" NET "/virtualNetworks/%s/"
		        "virtualNetworkPeerings/to-hub\",\"properties\":{\"remoteVirtualNetwork\":{"
		        "\"id\":\"" NET
		        "/virtualNetworks/vnet-hub\"},\"peeringState\":\"Connected\","
		        "\"allowVirtualNetworkAccess\":true}}",
		        name);
	} else if (peer_hub == 0) {
		for (int s = 1; s <= N_SPOKES; s++)
			fprintf(f,
			        "%s{\"name\":\"to-spoke%d\",\"id\":\"" NET "/virtualNetworks/%s/"
			        "virtualNetworkPeerings/to-spoke%d\",\"properties\":{"
			        "\"remoteVirtualNetwork\":{\"id\":\"" NET
			        "/virtualNetworks/vnet-spoke%d\"},\"peeringState\":\"Connected\","
			        "\"allowVirtualNetworkAccess\":true}}",
			        s > 1 ? "," : "", s, name, s, s);
	}
	fprintf(f, "]}}%s\n", last ? "" : ",");
}

/* The end of a NIC: a spoke's NIC is in one of its spoke's five ASGs. */
static void nic_end(FILE *f, int spoke, int i)
{
	if (spoke)
		fprintf(f,
		        ",\"applicationSecurityGroups\":[{\"id\":\"" NET
		        "/applicationSecurityGroups/asg-spoke%d-%d\"}]",
		        spoke, i % 5);
	fprintf(f, "}}]}}");
}

/* The spokes' ASGs, after the NICs, and the end of the file. */
static void spoke_asgs_end(FILE *f)
{
	for (int s = 1; s <= N_SPOKES; s++)
		for (int a = 0; a < 5; a++)
			fprintf(f,
			        ",\n{\"name\":\"asg-spoke%d-%d\",\"id\":\"" NET
			        "/applicationSecurityGroups/asg-spoke%d-%d\","
			        "\"type\":\"Microsoft.Network/applicationSecurityGroups\"}",
			        s, a, s, a);
	fprintf(f, "\n]}\n");
}

static void nics(FILE *f)
{
	int k = 0;
	fprintf(f, "{\"value\":[\n");
	for (int s = 0; s <= N_SPOKES; s++) {
		const char *vn = s ? "spoke" : "hub";
		int n_sub = s ? 3 : 1;
		for (int sub = 0; sub < n_sub; sub++) {
			const char *sn = s ? spoke_subnets[sub] : "snet-shared";
			for (int i = 0; i < NICS_PER_SUBNET; i++, k++) {
				char vname[32];
				snprintf(vname, sizeof vname, s ? "vnet-%s%d" : "vnet-%s", vn, s);
				fprintf(f,
				        "%s{\"name\":\"nic%d\",\"id\":\"" NET
				        "/networkInterfaces/nic%d\","
				        "\"type\":\"Microsoft.Network/"
				        "networkInterfaces\",\"properties\":{",
				        k ? ",\n" : "", k, k);
				if (i % 2 == 0)
					fprintf(f,
					        "\"networkSecurityGroup\":{\"id\":\"" NET
					        "/networkSecurityGroups/nsg-nic-%s\"},",
					        i % 4 == 0 ? "a" : "b");
				fprintf(f,
				        "\"ipConfigurations\":[{\"name\":\"ipconfig1\",\"id\":"
				        "\"" NET
				        "/networkInterfaces/nic%d/ipConfigurations/ipconfig1\","
				        "\"properties\":{\"privateIPAddress\":\"10.%d.%d.%d\","
				        "\"subnet\":{\"id\":\"" NET
				        "/virtualNetworks/%s/subnets/%s\"}",
				        k, s, s ? sub : 2, 4 + i, vname, sn);
				nic_end(f, s, i);
			}
		}
	}
	spoke_asgs_end(f);
}

/* Two managers, 50 rules each: a management-group-scoped corporate baseline
 * and a subscription-scoped platform team, both on every spoke. */
static void admin(FILE *f)
{
	static const char *const names[2] = {"nm-corp", "nm-platform"};
	char t[48];
	fprintf(f, "{\"value\":[\n");
	for (int m = 0; m < 2; m++) {
		const char *mg = names[m];
		fprintf(f,
		        "%s{\"name\":\"%s\",\"id\":\"" NET "/networkManagers/%s\",\"type\":"
		        "\"Microsoft.Network/"
		        "networkManagers\",\"properties\":{\"networkManagerScopes\":"
		        "{\"managementGroups\":[%s],\"subscriptions\":[\"" SUB "\"]},"
		        "\"networkManagerScopeAccesses\":[\"SecurityAdmin\"]}},\n",
		        m ? ",\n" : "", mg, mg,
		        m ? "" : "\"/providers/Microsoft.Management/managementGroups/corp\"");
		fprintf(f,
		        "{\"name\":\"ng-spokes\",\"id\":\"" NET "/networkManagers/%s/networkGroups/"
		        "ng-spokes\",\"type\":\"Microsoft.Network/networkManagers/networkGroups\","
		        "\"properties\":{\"memberType\":\"VirtualNetwork\"}}",
		        mg);
		for (int s = 1; s <= N_SPOKES; s++)
			fprintf(f,
			        ",\n{\"name\":\"sm%d\",\"id\":\"" NET
			        "/networkManagers/%s/networkGroups/"
			        "ng-spokes/staticMembers/sm%d\",\"type\":\"Microsoft.Network/"
			        "networkManagers/networkGroups/staticMembers\",\"properties\":{"
			        "\"resourceId\":\"" NET "/virtualNetworks/vnet-spoke%d\"}}",
			        s, mg, s, s);
		fprintf(f,
		        ",\n{\"name\":\"sac\",\"id\":\"" NET "/networkManagers/%s/"
		        "securityAdminConfigurations/sac\",\"type\":\"Microsoft.Network/"
		        "networkManagers/"
		        "securityAdminConfigurations\",\"properties\":{"
		        "\"applyOnNetworkIntentPolicyBasedServices\":[\"None\"]}}",
		        mg);
		fprintf(f,
		        ",\n{\"name\":\"rc\",\"id\":\"" NET "/networkManagers/%s/"
		        "securityAdminConfigurations/sac/ruleCollections/rc\",\"type\":"
		        "\"Microsoft.Network/networkManagers/securityAdminConfigurations/"
		        "ruleCollections\",\"properties\":{\"appliesToGroups\":[{"
		        "\"networkGroupId\":"
		        "\"" NET "/networkManagers/%s/networkGroups/ng-spokes\"}]}}",
		        mg, mg);
		for (int i = 0; i < 50; i++) {
			/* Deny risky ports from outside; always allow monitoring. */
			int deny = chance(60);
			const char *proto = chance(80) ? "Tcp" : "Any";
			const char *access = deny ? "Deny" : chance(50) ? "AlwaysAllow" : "Allow";
			const char *dir = chance(70) ? "Inbound" : "Outbound";
			fprintf(f,
			        ",\n{\"name\":\"a%d\",\"id\":\"" NET "/networkManagers/%s/"
			        "securityAdminConfigurations/sac/ruleCollections/rc/rules/a%d\","
			        "\"type\":\"Microsoft.Network/networkManagers/"
			        "securityAdminConfigurations/"
			        "ruleCollections/rules\",\"kind\":\"Custom\",\"properties\":{"
			        "\"protocol\":\"%s\",\"access\":\"%s\",\"priority\":%d,"
			        "\"direction\":\"%s\","
			        "\"sources\":[",
			        i, mg, i, proto, access, 10 + i * 20, dir);
			if (chance(30)) {
				fprintf(f,
				        "{\"addressPrefixType\":\"ServiceTag\",\"addressPrefix\":"
				        "\"%s\"}",
				        chance(50) ? "Internet"
				                   : real_tags[below(sizeof real_tags /
				                                     sizeof *real_tags)]);
			} else {
				int n = 1 + (int)below(4);
				for (int k = 0; k < n; k++) {
					cidr(t, sizeof t);
					fprintf(f,
					        "%s{\"addressPrefixType\":\"IPPrefix\","
					        "\"addressPrefix\":\"%s\"}",
					        k ? "," : "", t);
				}
			}
			fprintf(f, "],\"destinations\":[{\"addressPrefixType\":\"IPPrefix\","
			           "\"addressPrefix\":\"*\"}],\"sourcePortRanges\":[\"0-65535\"],"
			           "\"destinationPortRanges\":[");
			int n = 1 + (int)below(3);
			for (int k = 0; k < n; k++)
				fprintf(f, "%s\"%d\"", k ? "," : "",
				        common_ports[below(sizeof common_ports /
				                           sizeof *common_ports)]);
			fprintf(f, "]}}");
		}
	}
	fprintf(f, "\n]}\n");
}

static void write_routes(const char *dir)
{
	FILE *f = open_out(dir, "routes.json");
	fprintf(f,
	        "{\"value\":[{\"name\":\"rt-force-fw\",\"id\":\"" NET "/routeTables/rt-force-fw\","
	        "\"type\":\"Microsoft.Network/routeTables\",\"properties\":{\"routes\":[{"
	        "\"name\":\"default\",\"id\":\"" NET "/routeTables/rt-force-fw/routes/default\","
	        "\"properties\":{\"addressPrefix\":\"0.0.0.0/0\",\"nextHopType\":"
	        "\"VirtualAppliance\",\"nextHopIpAddress\":\"10.0.0.4\"}}]}},\n"
	        "{\"name\":\"rt-onprem\",\"id\":\"" NET "/routeTables/rt-onprem\","
	        "\"type\":\"Microsoft.Network/routeTables\",\"properties\":{\"routes\":[{"
	        "\"name\":\"onprem\",\"id\":\"" NET "/routeTables/rt-onprem/routes/onprem\","
	        "\"properties\":{\"addressPrefix\":\"172.16.0.0/12\",\"nextHopType\":"
	        "\"VirtualNetworkGateway\"}}]}}]}\n");
	fclose(f);
}

static void write_hub(const char *dir)
{
	make_dir(dir);
	FILE *f = open_out(dir, "vnets.json");
	fprintf(f, "{\"value\":[\n");
	const char *hub_sub[] = {"AzureFirewallSubnet", "GatewaySubnet", "snet-shared"};
	const char *hub_nsg[] = {NULL, NULL, "nsg-hub-shared"};
	vnet(f, "vnet-hub", 0, hub_sub, 3, hub_nsg, NULL, 0, 0);
	for (int s = 1; s <= N_SPOKES; s++) {
		char name[32], g[32];
		snprintf(name, sizeof name, "vnet-spoke%d", s);
		snprintf(g, sizeof g, "nsg-spoke%d", s);
		const char *ng[] = {g, g, g};
		vnet(f, name, s, spoke_subnets, 3, ng, s == 1 ? "rt-force-fw" : "rt-onprem", 1,
		     s == N_SPOKES);
	}
	fprintf(f, "]}\n");
	fclose(f);
	write_routes(dir);
	f = open_out(dir, "nsgs.json");
	fprintf(f, "{\"value\":[\n");
	for (int s = 1; s <= N_SPOKES; s++) {
		char name[32], local[32];
		snprintf(name, sizeof name, "nsg-spoke%d", s);
		snprintf(local, sizeof local, "10.%d.0.0/16", s);
		nsg(f, name, 600, 394, s, local, 0);
	}
	nsg(f, "nsg-hub-shared", 600, 394, -1, "10.0.2.0/24", 0);
	nsg(f, "nsg-nic-a", 600, 394, -1, NULL, 0);
	nsg(f, "nsg-nic-b", 600, 394, -1, NULL, 1);
	fprintf(f, "]}\n");
	fclose(f);
	f = open_out(dir, "nics.json");
	nics(f);
	fclose(f);
	f = open_out(dir, "admin.json");
	admin(f);
	fclose(f);
}

/* One VNet, one subnet, one NSG with n inbound custom rules. */
static void write_chain(const char *dir, int n)
{
	make_dir(dir);
	FILE *f = open_out(dir, "env.json");
	fprintf(f, "{\"value\":[\n");
	const char *sub[] = {"snet-app"};
	const char *g[] = {"nsg-chain"};
	vnet(f, "vnet-spoke1", 1, sub, 1, g, NULL, -1, 0);
	nsg(f, "nsg-chain", n, 0, -1, "10.1.0.0/24", 1);
	fprintf(f, "]}\n");
	fclose(f);
}

/* ---- the estate: issue 18's 48 NSGs on 8 subnets and 40 NICs ---------------------------- */

#define ESTATE_NSGS            48
#define ESTATE_NICS_PER_SUBNET 5

/* A hub (snet-shared, snet-mgmt) and N_SPOKES spokes (snet-web, snet-app),
 * every subnet with its own NSG and the spokes' last subnets routed as in
 * the hub above. */
static void estate_vnets(FILE *f)
{
	fprintf(f, "{\"value\":[\n");
	const char *hub_sub[] = {"snet-shared", "snet-mgmt"};
	const char *hub_nsg[] = {"nsg-hub-shared", "nsg-hub-mgmt"};
	vnet(f, "vnet-hub", 0, hub_sub, 2, hub_nsg, NULL, 0, 0);
	for (int s = 1; s <= N_SPOKES; s++) {
		char name[32], g0[32], g1[32];
		snprintf(name, sizeof name, "vnet-spoke%d", s);
		snprintf(g0, sizeof g0, "nsg-spoke%d-web", s);
		snprintf(g1, sizeof g1, "nsg-spoke%d-app", s);
		const char *sub[] = {"snet-web", "snet-app"};
		const char *ng[] = {g0, g1};
		vnet(f, name, s, sub, 2, ng, s == 1 ? "rt-force-fw" : "rt-onprem", 1, s == N_SPOKES);
	}
	fprintf(f, "]}\n");
}

/* Five NICs in each subnet, each with an NSG of its own; the spokes' NICs
 * in their spoke's ASGs. */
static void estate_nics(FILE *f)
{
	static const char *const hub_sub[] = {"snet-shared", "snet-mgmt"};
	static const char *const spoke_sub[] = {"snet-web", "snet-app"};
	int k = 0;
	fprintf(f, "{\"value\":[\n");
	for (int s = 0; s <= N_SPOKES; s++)
		for (int sub = 0; sub < 2; sub++)
			for (int i = 0; i < ESTATE_NICS_PER_SUBNET; i++, k++) {
				char vname[32];
				snprintf(vname, sizeof vname, s ? "vnet-spoke%d" : "vnet-hub", s);
				fprintf(f,
				        "%s{\"name\":\"nic%d\",\"id\":\"" NET
				        "/networkInterfaces/nic%d\",\"type\":\"Microsoft.Network/"
				        "networkInterfaces\",\"properties\":{\"networkSecurityGroup\":{"
				        "\"id\":\"" NET "/networkSecurityGroups/nsg-nic%d\"},"
				        "\"ipConfigurations\":[{\"name\":\"ipconfig1\",\"id\":\"" NET
				        "/networkInterfaces/nic%d/ipConfigurations/ipconfig1\","
				        "\"properties\":{\"privateIPAddress\":\"10.%d.%d.%d\","
				        "\"subnet\":{\"id\":\"" NET "/virtualNetworks/%s/subnets/%s\"}",
				        k ? ",\n" : "", k, k, k, k, s, sub, 4 + i, vname,
				        s ? spoke_sub[sub] : hub_sub[sub]);
				nic_end(f, s, i);
			}
	spoke_asgs_end(f);
}

/* The 48 NSGs with n_rules custom rules between them (60% inbound). */
static void estate_nsgs(FILE *f, int n_rules)
{
	int per = n_rules / ESTATE_NSGS, n_in = per * 6 / 10, n_out = per - n_in;
	char name[40], local[40];
	fprintf(f, "{\"value\":[\n");
	for (int s = 0; s <= N_SPOKES; s++)
		for (int sub = 0; sub < 2; sub++) {
			if (s)
				snprintf(name, sizeof name, "nsg-spoke%d-%s", s, sub ? "app" : "web");
			else
				snprintf(name, sizeof name, "nsg-hub-%s", sub ? "mgmt" : "shared");
			snprintf(local, sizeof local, "10.%d.%d.0/24", s, sub);
			nsg(f, name, n_in, n_out, s ? s : -1, local, 0);
		}
	int n_nics = (N_SPOKES + 1) * 2 * ESTATE_NICS_PER_SUBNET;
	for (int k = 0; k < n_nics; k++) {
		int s = k / (2 * ESTATE_NICS_PER_SUBNET), sub = k / ESTATE_NICS_PER_SUBNET % 2;
		snprintf(name, sizeof name, "nsg-nic%d", k);
		snprintf(local, sizeof local, "10.%d.%d.%d/32", s, sub, 4 + k % ESTATE_NICS_PER_SUBNET);
		nsg(f, name, n_in, n_out, s ? s : -1, local, k == n_nics - 1);
	}
	fprintf(f, "]}\n");
}

static void write_estate(const char *dir, int n_rules)
{
	make_dir(dir);
	FILE *f = open_out(dir, "vnets.json");
	estate_vnets(f);
	fclose(f);
	write_routes(dir);
	f = open_out(dir, "nsgs.json");
	estate_nsgs(f, n_rules);
	fclose(f);
	f = open_out(dir, "nics.json");
	estate_nics(f);
	fclose(f);
	f = open_out(dir, "admin.json");
	admin(f);
	fclose(f);
}

/* ---- flow traces ------------------------------------------------------------------------- */

static int proto_of(int rule_proto)
{
	static const int any[] = {NSGSIM_PROTO_TCP, NSGSIM_PROTO_UDP, NSGSIM_PROTO_ICMP};
	return rule_proto ? rule_proto : any[below(3)];
}

static const char *proto_name(int p)
{
	return p == NSGSIM_PROTO_TCP ? "tcp" : p == NSGSIM_PROTO_UDP ? "udp" : "icmp";
}

/* An address on an edge of a set: first, last, one before, one after. */
static int edge4(const ns_pset *s, uint32_t *out)
{
	if (!s || s->n4 == 0)
		return 0;
	const ns_range4 *r = &s->v4[below((uint32_t)s->n4)];
	switch (below(4)) {
	case 0:
		*out = r->lo;
		break;
	case 1:
		*out = r->hi;
		break;
	case 2:
		*out = r->lo ? r->lo - 1 : r->lo;
		break;
	default:
		*out = r->hi < UINT32_MAX ? r->hi + 1 : r->hi;
	}
	return 1;
}

static int edge_port(const ns_cside *s)
{
	if (s->n_ports == 0)
		return common_ports[below(sizeof common_ports / sizeof *common_ports)];
	const ns_port_range *r = &s->ports[below((uint32_t)s->n_ports)];
	int p;
	switch (below(4)) {
	case 0:
		p = r->lo;
		break;
	case 1:
		p = r->hi;
		break;
	case 2:
		p = r->lo - 1;
		break;
	default:
		p = r->hi + 1;
	}
	return p < 0 ? 0 : p > 65535 ? 65535 : p;
}

static uint32_t random_public(void)
{
	for (;;) {
		uint32_t a = (uint32_t)rnd();
		uint32_t o = a >> 24;
		if (o != 10 && o != 127 && o < 224 && o != 0 && o != 172 && o != 192)
			return a;
	}
}

static void put_flow(FILE *f, int proto, uint32_t src, int sport, uint32_t dst, int dport)
{
	char s[20], d[20];
	snprintf(s, sizeof s, "%u.%u.%u.%u", src >> 24, (src >> 16) & 255, (src >> 8) & 255,
	         src & 255);
	snprintf(d, sizeof d, "%u.%u.%u.%u", dst >> 24, (dst >> 16) & 255, (dst >> 8) & 255,
	         dst & 255);
	if (proto == NSGSIM_PROTO_ICMP)
		fprintf(f, "icmp %s %s\n", s, d);
	else
		fprintf(f, "%s %s:%d %s:%d\n", proto_name(proto), s, sport, d, dport);
}


/* Chain flows: half at the edges of a random rule, half random. */
static void chain_flows(const char *dir, const char *name, const nsgsim_policy *p, int n)
{
	const ns_chain *ch = &p->nsgs[0].in;
	FILE *f = open_out(dir, name);
	for (int i = 0; i < n; i++) {
		uint32_t src, dst;
		int proto, dport;
		if (i % 2 == 0) {
			const ns_crule *r = &ch->rules[below((uint32_t)ch->n)];
			proto = proto_of(r->protocol);
			if (!edge4(ns_side_set(&r->src, &p->subnets[0]), &src))
				src = chance(50) ? random_public() : 0x0A010000u | below(65536);
			if (!edge4(ns_side_set(&r->dst, &p->subnets[0]), &dst))
				dst = 0x0A010000u | below(256);
			dport = edge_port(&r->dst);
		} else {
			proto = chance(80)   ? NSGSIM_PROTO_TCP
			        : chance(60) ? NSGSIM_PROTO_UDP
			                     : NSGSIM_PROTO_ICMP;
			src = chance(50) ? random_public() : (uint32_t)rnd();
			dst = chance(70) ? 0x0A010000u | below(256) : (uint32_t)rnd();
			dport = chance(50) ? common_ports[below(sizeof common_ports /
			                                        sizeof *common_ports)]
			                   : (int)below(65536);
		}
		put_flow(f, proto, src, 1024 + (int)below(64000), dst, dport);
	}
	fclose(f);
}

/* The NICs' addresses, sorted by family and address (the order the policy
 * used to keep them in, so that the generated flows stay the same). */
typedef struct nic_addr {
	int family;
	ns_u128 ip;
	const ns_cnic *nic;
	const ns_csubnet *subnet;
} nic_addr;

static nic_addr *nic_addrs;
static size_t n_nic_addrs;

static int cmp_nic_addr(const void *pa, const void *pb)
{
	const nic_addr *a = pa, *b = pb;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return a->ip < b->ip ? -1 : a->ip > b->ip;
}

static void collect_nic_addrs(const nsgsim_policy *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_nics; i++)
		n += p->nics[i].n->n_ipconfigs;
	nic_addrs = calloc(n + 1, sizeof *nic_addrs);
	if (!nic_addrs)
		abort();
	for (size_t i = 0; i < p->n_nics; i++) {
		const ns_cnic *cn = &p->nics[i];
		for (size_t k = 0; k < cn->n->n_ipconfigs; k++) {
			const ns_ipconfig *ipc = &cn->n->ipconfigs[k];
			if (!ipc->has_ip)
				continue;
			const ns_csubnet *cs = ipc->subnet_id
			                               ? ns_map_get(&p->subnet_by_id, ipc->subnet_id)
			                               : cn->subnet;
			nic_addrs[n_nic_addrs++] = (nic_addr){ipc->family, ipc->ip, cn, cs};
		}
	}
	qsort(nic_addrs, n_nic_addrs, sizeof *nic_addrs, cmp_nic_addr);
}

static uint32_t nic_ip(void)
{
	for (;;) {
		const nic_addr *e = &nic_addrs[below((uint32_t)n_nic_addrs)];
		if (e->family == 4)
			return (uint32_t)e->ip;
	}
}

/* End-to-end flows: to a NIC from the rules' sources (inbound edges), from
 * a NIC to the rules' destinations (outbound edges), and random flows
 * between NICs, subnets and the Internet. */
static void hub_flows(const char *dir, const char *name, int n)
{
	FILE *f = open_out(dir, name);
	for (int i = 0; i < n; i++) {
		uint32_t src, dst;
		int proto, dport;
		if (i % 2 == 0) {
			const nic_addr *e;
			do
				e = &nic_addrs[below((uint32_t)n_nic_addrs)];
			while (e->family != 4);
			int inbound = chance(60);
			const ns_cnsg *g = chance(50) && e->nic->nsg ? e->nic->nsg : e->subnet->nsg;
			const ns_chain *ch = NULL;
			if (e->subnet->n_levels && chance(20)) {
				const ns_admin_level *l =
				        &e->subnet->levels[below((uint32_t)e->subnet->n_levels)];
				ch = inbound ? &l->in : &l->out;
			} else if (g) {
				ch = inbound ? &g->in : &g->out;
			}
			if (!ch || ch->n == 0) {
				i--;
				continue;
			}
			const ns_crule *r = &ch->rules[below((uint32_t)ch->n)];
			proto = proto_of(r->protocol);
			uint32_t remote;
			if (!edge4(ns_side_set(inbound ? &r->src : &r->dst, e->subnet), &remote))
				remote = chance(50) ? random_public() : nic_ip();
			src = inbound ? remote : (uint32_t)e->ip;
			dst = inbound ? (uint32_t)e->ip : remote;
			dport = edge_port(&r->dst);
		} else {
			proto = chance(80)   ? NSGSIM_PROTO_TCP
			        : chance(60) ? NSGSIM_PROTO_UDP
			                     : NSGSIM_PROTO_ICMP;
			uint32_t k = below(10);
			src = k < 5   ? nic_ip()
			      : k < 8 ? random_public()
			              : 0x0A000000u | below(1 << 18);
			dst = k >= 5 || chance(50) ? nic_ip() : random_public();
			dport = chance(60) ? common_ports[below(sizeof common_ports /
			                                        sizeof *common_ports)]
			                   : (int)below(65536);
		}
		put_flow(f, proto, src, 1024 + (int)below(64000), dst, dport);
	}
	fclose(f);
}

/* nsgsim-benchgen --estate N_RULES OUTDIR [TAGS]: the estate and 200,000
 * flows (OUTDIR/flows.txt) aimed at its rules as the hub's are. */
static int estate_main(int argc, char **argv)
{
	if (argc < 4 || argc > 5)
		die("usage: nsgsim-benchgen --estate N_RULES OUTDIR [SERVICE_TAGS]");
	char *end;
	long n = strtol(argv[2], &end, 10);
	if (*end || n < ESTATE_NSGS || n > 1000000)
		die("nsgsim-benchgen: --estate takes %d to 1000000 rules, not '%s'", ESTATE_NSGS,
		    argv[2]);
	const char *out = argv[3], *tags = argc > 4 ? argv[4] : DEFAULT_TAGS;
	write_estate(out, (int)n);
	nsgsim_policy *p = bench_load(out, tags, NULL);
	collect_nic_addrs(p);
	hub_flows(out, "flows.txt", 200000);
	nsgsim_policy_free(p);
	free(nic_addrs);
	printf("nsgsim-benchgen: wrote %s ({vnets,routes,nsgs,nics,admin}.json, flows.txt): %ld "
	       "NSG rules in %d NSGs, 100 admin rules\n",
	       out, n / ESTATE_NSGS * ESTATE_NSGS, ESTATE_NSGS);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--estate") == 0)
		return estate_main(argc, argv);
	if (argc < 2 || argc > 3)
		die("usage: nsgsim-benchgen OUTDIR [SERVICE_TAGS]");
	const char *out = argv[1], *tags = argc > 2 ? argv[2] : DEFAULT_TAGS;
	char path[1024];
	make_dir(out);
	snprintf(path, sizeof path, "%s/hub", out);
	write_hub(path);
	nsgsim_policy *p = bench_load(path, tags, NULL);
	collect_nic_addrs(p);
	hub_flows(out, "flows-hub.txt", 200000);
	nsgsim_policy_free(p);
	free(nic_addrs);
	/* The changed copy from the same seed; the chains keep theirs. */
	uint64_t saved = seed;
	seed = SEED;
	writing_changed = 1;
	snprintf(path, sizeof path, "%s/hub-changed", out);
	write_hub(path);
	writing_changed = 0;
	seed = saved;
	snprintf(path, sizeof path, "%s/chain1000", out);
	write_chain(path, 997);
	p = bench_load(path, tags, NULL);
	chain_flows(out, "flows-chain1000.txt", p, 100000);
	nsgsim_policy_free(p);
	snprintf(path, sizeof path, "%s/chain4000", out);
	write_chain(path, 3997);
	p = bench_load(path, tags, NULL);
	chain_flows(out, "flows-chain4000.txt", p, 100000);
	nsgsim_policy_free(p);
	printf("nsgsim-benchgen: wrote %s/{hub,hub-changed,chain1000,chain4000} and flows-*.txt\n",
	       out);
	return 0;
}
