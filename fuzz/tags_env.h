/* Shared by fuzz_tags and fuzz_snapshot: a loaded tag's prefix set through
 * compile, evaluation and effective rules, in a small fixed environment (one
 * NIC, one NSG whose rules name the tag). */
#ifndef NSGSIM_FUZZ_TAGS_ENV_H
#define NSGSIM_FUZZ_TAGS_ENV_H

#include "fuzz_common.h"

#define SUB  "/subscriptions/00000000-0000-0000-0000-000000000000"
#define NET  SUB "/resourceGroups/rg/providers/Microsoft.Network"
#define VNET NET "/virtualNetworks/v"
#define NSG  NET "/networkSecurityGroups/g"

/* The environment around one tag name, built with cJSON so that any name is
 * quoted correctly. */
static inline char *env_with_tag(const char *tag)
{
	static const char *const fmt =
	        "[{\"id\": \"" VNET "\", \"name\": \"v\", \"type\": "
	        "\"Microsoft.Network/virtualNetworks\", \"properties\": {\"addressSpace\": "
	        "{\"addressPrefixes\": [\"10.0.0.0/16\", \"fd00::/48\"]}, \"subnets\": [{\"id\": "
	        "\"" VNET "/subnets/s\", \"name\": \"s\", \"properties\": {\"addressPrefixes\": "
	        "[\"10.0.1.0/24\", \"fd00:0:0:1::/64\"], \"networkSecurityGroup\": {\"id\": "
	        "\"" NSG "\"}}}]}},"
	        "{\"id\": \"" NSG "\", \"name\": \"g\", \"type\": "
	        "\"Microsoft.Network/networkSecurityGroups\", \"properties\": {\"securityRules\": ["
	        "{\"name\": \"out\", \"properties\": {\"protocol\": \"*\", \"sourcePortRange\": "
	        "\"*\", \"destinationPortRange\": \"*\", \"sourceAddressPrefix\": \"*\", "
	        "\"destinationAddressPrefix\": %s, \"access\": \"Deny\", \"priority\": 100, "
	        "\"direction\": \"Outbound\"}},"
	        "{\"name\": \"in\", \"properties\": {\"protocol\": \"Tcp\", \"sourcePortRange\": "
	        "\"*\", \"destinationPortRange\": \"443\", \"sourceAddressPrefix\": %s, "
	        "\"destinationAddressPrefix\": \"*\", \"access\": \"Allow\", \"priority\": 100, "
	        "\"direction\": \"Inbound\"}}]}},"
	        "{\"id\": \"" NET "/networkInterfaces/n\", \"name\": \"n\", \"type\": "
	        "\"Microsoft.Network/networkInterfaces\", \"properties\": {\"ipConfigurations\": "
	        "[{\"name\": \"c\", \"properties\": {\"privateIPAddress\": \"10.0.1.4\", "
	        "\"subnet\": {\"id\": \"" VNET "/subnets/s\"}}}, {\"name\": \"c6\", "
	        "\"properties\": {\"privateIPAddress\": \"fd00:0:0:1::4\", "
	        "\"privateIPAddressVersion\": \"IPv6\", \"subnet\": {\"id\": \"" VNET
	        "/subnets/s\"}}}]}}]";
	cJSON *s = cJSON_CreateString(tag);
	char *quoted = s ? cJSON_PrintUnformatted(s) : NULL;
	cJSON_Delete(s);
	if (!quoted)
		return NULL;
	size_t cap = strlen(fmt) + 2 * strlen(quoted) + 1;
	char *env = malloc(cap);
	if (env)
		snprintf(env, cap, fmt, quoted, quoted);
	cJSON_free(quoted);
	return env;
}

static inline void first_addresses(const ns_pset *s, ns_u128 *v4, int *has4, ns_u128 *v6, int *has6)
{
	*has4 = s->n4 > 0;
	*has6 = s->n6 > 0;
	if (*has4)
		*v4 = s->v4[s->n4 - 1].hi; /* the last address of the set: an edge */
	if (*has6)
		*v6 = s->v6[0].lo;
}

static inline void with_tag(const uint8_t *data, size_t size, const char *tag)
{
	char *env = env_with_tag(tag);
	FUZZ_CHECK(env != NULL);
	nsgsim_loader *l = nsgsim_loader_new();
	FUZZ_CHECK(l != NULL);
	nsgsim_error err;
	int rc = nsgsim_loader_add_service_tags_buffer(l, "tags.json", (const char *)data, size,
	                                               &err);
	FUZZ_CHECK(rc == 0); /* it loaded a moment ago */
	rc = nsgsim_loader_add_env_buffer(l, "env.json", env, strlen(env), &err);
	nsgsim_policy *p = NULL;
	if (rc == 0)
		rc = nsgsim_compile(l, &p, &err);
	nsgsim_loader_free(l);
	free(env);
	if (rc != 0) {
		/* A tag name can be anything: '*' or an address is not a tag. */
		fuzz_check_error(rc, &err);
		return;
	}
	fuzz_exercise_policy(p);
	const ns_tag *t = ns_map_get(&p->m.tag_index, tag);
	if (t) {
		ns_u128 a4 = 0, a6 = 0;
		int has4, has6;
		first_addresses(&t->set, &a4, &has4, &a6, &has6);
		nsgsim_flow f;
		memset(&f, 0, sizeof f);
		f.protocol = NSGSIM_PROTO_TCP;
		f.src_port = NSGSIM_PORT_ANY;
		f.dst_port = 443;
		if (has4) {
			fuzz_ip_of(&f.src, 4, a4);
			fuzz_ip_of(&f.dst, 4, 0x0A000104u);
			fuzz_eval_flow(p, &f, 1);
			nsgsim_flow g = f;
			g.src = f.dst;
			g.dst = f.src;
			fuzz_eval_flow(p, &g, 2);
		}
		if (has6) {
			fuzz_ip_of(&f.src, 6, a6);
			fuzz_ip_of(&f.dst, 6,
			           ((ns_u128)0xfd000000u << 96) | ((ns_u128)1 << 64) | 4);
			fuzz_eval_flow(p, &f, 3);
		}
	}
	nsgsim_policy_free(p);
}

#endif
