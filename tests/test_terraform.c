/* Terraform plans and state (`terraform show -json`) as environments: the
 * hub-and-spoke plan of fixtures/terraform/hub_spoke gives its flow table's
 * answers, and the same answers as the estate written as REST JSON on
 * random flows; a state and a plan over it; unknowns that matter are errors
 * naming the Terraform address and attribute; notes for what is skipped. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flowtable.h"
#include "nsgsim.h"
#include "xorshift.h"

#define HUB          "fixtures/terraform/hub_spoke"
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static nsgsim_policy *load(const char *path, nsgsim_error *err)
{
	nsgsim_loader *l = nsgsim_loader_new();
	nsgsim_policy *p = NULL;
	int rc = nsgsim_loader_add_env(l, path, err);
	if (rc == 0)
		rc = nsgsim_compile(l, &p, err);
	nsgsim_loader_free(l);
	if (rc != 0)
		err->code = rc;
	return p;
}

static nsgsim_policy *load_ok(const char *path)
{
	nsgsim_error err = {0};
	nsgsim_policy *p = load(path, &err);
	if (!p) {
		char buf[3000];
		nsgsim_error_format(&err, buf, sizeof buf);
		print_error("%s: %s\n", path, buf);
	}
	assert_non_null(p);
	return p;
}

static nsgsim_policy *load_text(const char *text, nsgsim_error *err)
{
	nsgsim_loader *l = nsgsim_loader_new();
	nsgsim_policy *p = NULL;
	int rc = nsgsim_loader_add_env_buffer(l, "plan.json", text, strlen(text), err);
	if (rc == 0)
		rc = nsgsim_compile(l, &p, err);
	nsgsim_loader_free(l);
	err->code = rc;
	return p;
}

static int run_table(const nsgsim_policy *p, const char *file)
{
	FILE *f = fopen(file, "r");
	assert_non_null(f);
	char line[1024];
	int lineno = 0, rows = 0, failures = 0;
	while (fgets(line, sizeof line, f)) {
		flow_row row;
		int k = flow_row_parse(line, ++lineno, &row);
		assert_true(k >= 0);
		if (k > 0) {
			rows++;
			failures += !flow_row_check(p, file, &row);
		}
	}
	fclose(f);
	assert_int_equal(failures, 0);
	return rows;
}

/* The plan and the REST estate both give the table's answers. */
static void test_hub_spoke_table(void **state)
{
	(void)state;
	const char *envs[] = {HUB "/plan.json", HUB "/rest.json"};
	for (size_t i = 0; i < 2; i++) {
		nsgsim_policy *p = load_ok(envs[i]);
		assert_true(run_table(p, HUB "/flows.txt") >= 13);
		nsgsim_policy_free(p);
	}
}

/* The same estate after apply: state, every id known, the db NIC's
 * address assigned. */
static void test_hub_spoke_state_table(void **state)
{
	(void)state;
	nsgsim_policy *p = load_ok(HUB "/state.json");
	assert_true(run_table(p, HUB "/flows_state.txt") >= 13);
	nsgsim_flow flow;
	nsgsim_error err = {0};
	nsgsim_result r;
	assert_int_equal(nsgsim_flow_parse("tcp 52.1.2.3:50000 10.2.1.4:22", &flow, &err), 0);
	assert_int_equal(nsgsim_eval(p, &flow, &r, &err), 0);
	assert_int_equal(r.assumptions & NSGSIM_ASSUME_UNKNOWN_NIC_ADDRESS, 0);
	nsgsim_policy_free(p);
}

/* Every link of the plan was recovered from the configuration: the same
 * verdict, deciding layer, rule, endpoint and NSG as the REST estate on
 * random flows between the estate's addresses and the Internet. */
static void test_plan_equals_rest(void **state)
{
	(void)state;
	nsgsim_policy *tf = load_ok(HUB "/plan.json"), *rest = load_ok(HUB "/rest.json");
	static const char *hosts[] = {"10.0.1.10", "10.0.1.4", "10.1.1.4", "10.1.1.9",   "10.2.1.5",
	                              "10.2.1.9",  "52.1.2.3", "10.9.9.9", "192.168.1.1"};
	static const char *protos[] = {"tcp", "udp", "icmp", "esp", "ah"};
	static const int ports[] = {22, 443, 3389, 5432, 8080, 80, 0};
	static const char *nics[] = {"nic-app-0", "nic-db-0"};
	uint64_t seed = test_seed(0x7e77a);
	int compared = 0;
	for (int i = 0; i < 4000; i++) {
		const char *proto = protos[xs64(&seed) % 5];
		const char *src = hosts[xs64(&seed) % 9], *dst = hosts[xs64(&seed) % 9];
		int dport = ports[xs64(&seed) % 7];
		char text[128];
		if (strcmp(proto, "tcp") == 0 || strcmp(proto, "udp") == 0)
			snprintf(text, sizeof text, "%s %s:50000 %s:%d", proto, src, dst, dport);
		else
			snprintf(text, sizeof text, "%s %s %s", proto, src, dst);
		nsgsim_flow flow;
		nsgsim_error err = {0};
		assert_int_equal(nsgsim_flow_parse(text, &flow, &err), 0);
		nsgsim_result a, b;
		int at = (int)(xs64(&seed) % 3); /* 0: by address; 1, 2: --at a NIC */
		int dir = xs64(&seed) % 2 ? NSGSIM_INBOUND : NSGSIM_OUTBOUND;
		int ra = at ? nsgsim_eval_at(tf, &flow, nics[at - 1], dir, &a, &err)
		            : nsgsim_eval(tf, &flow, &a, &err);
		int rb = at ? nsgsim_eval_at(rest, &flow, nics[at - 1], dir, &b, &err)
		            : nsgsim_eval(rest, &flow, &b, &err);
		assert_int_equal(ra, rb);
		if (ra != 0)
			continue;
		compared++;
		if (a.verdict != b.verdict || a.decided_layer != b.decided_layer ||
		    a.decided_endpoint != b.decided_endpoint ||
		    strcmp(a.decided_rule.name ? a.decided_rule.name : "-",
		           b.decided_rule.name ? b.decided_rule.name : "-") != 0 ||
		    strcmp(a.decided_resource ? a.decided_resource : "-",
		           b.decided_resource ? b.decided_resource : "-") != 0) {
			print_error(
			        "%s (at %d): plan %s by %s, REST %s by %s\n", text, at,
			        a.verdict == NSGSIM_ALLOW ? "Allow" : "Deny", a.decided_rule.name,
			        b.verdict == NSGSIM_ALLOW ? "Allow" : "Deny", b.decided_rule.name);
			fail();
		}
		/* the plan's dynamic address is the one difference: an assumption */
		unsigned extra = NSGSIM_ASSUME_UNKNOWN_NIC_ADDRESS;
		assert_int_equal(a.assumptions & ~extra, b.assumptions);
		assert_int_equal(!!(a.assumptions & extra), at == 2);
	}
	assert_true(compared > 2000);
	nsgsim_policy_free(tf);
	nsgsim_policy_free(rest);
}

static bool has_note(const nsgsim_policy *p, int kind, const char *resource, const char *part)
{
	for (size_t i = 0; i < nsgsim_policy_note_count(p); i++) {
		nsgsim_note n;
		assert_int_equal(nsgsim_policy_note(p, i, &n), 0);
		if (n.kind == kind && n.resource && strcmp(n.resource, resource) == 0 &&
		    strstr(n.message, part))
			return true;
	}
	return false;
}

static void test_hub_spoke_notes(void **state)
{
	(void)state;
	nsgsim_policy *p = load_ok(HUB "/plan.json");
	assert_true(has_note(p, NSGSIM_NOTE_SKIPPED, "azurerm_resource_group.net", "not modelled"));
	assert_true(has_note(p, NSGSIM_NOTE_SKIPPED,
	                     "azurerm_network_manager_security_admin_configuration.draft",
	                     "deploys this configuration"));
	assert_true(has_note(p, NSGSIM_NOTE_WARNING,
	                     "module.spoke[\"db\"].azurerm_network_interface.vm[0]",
	                     "known only after apply"));
	nsgsim_stats st;
	nsgsim_policy_stats(p, &st);
	assert_int_equal(st.nsgs, 4);
	assert_int_equal(st.nics, 2);
	assert_int_equal(st.vnets, 3);
	assert_int_equal(st.asgs, 1);
	nsgsim_policy_free(p);
}

/* State before, the plan after: the NSG's rule replaced, the NIC's NSG and
 * its association deleted. */
static void test_state_then_plan(void **state)
{
	(void)state;
	static const struct {
		const char *env, *flow, *rule;
		int verdict;
	} rows[] = {
	        {"state", "tcp 52.1.2.3:50000 10.10.1.4:443", "Deny-All-In", NSGSIM_DENY},
	        {"state", "tcp 52.1.2.3:50000 10.10.1.5:443", "Allow-Https", NSGSIM_ALLOW},
	        {"plan", "tcp 52.1.2.3:50000 10.10.1.4:443", "DenyAllInBound", NSGSIM_DENY},
	        {"plan", "tcp 52.1.2.3:50000 10.10.1.4:8080", "Allow-Http-8080", NSGSIM_ALLOW},
	        {"plan", "tcp 52.1.2.3:50000 10.10.1.4:22", "Deny-Ssh", NSGSIM_DENY},
	};
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		char path[128];
		snprintf(path, sizeof path, "fixtures/terraform/small/%s.json", rows[i].env);
		nsgsim_policy *p = load_ok(path);
		nsgsim_flow flow;
		nsgsim_error err = {0};
		nsgsim_result r;
		assert_int_equal(nsgsim_flow_parse(rows[i].flow, &flow, &err), 0);
		assert_int_equal(nsgsim_eval(p, &flow, &r, &err), 0);
		assert_int_equal(r.verdict, rows[i].verdict);
		assert_string_equal(r.decided_rule.name, rows[i].rule);
		nsgsim_policy_free(p);
	}
}

/* Unknowns that matter: the file, the Terraform pointer, the address and
 * what the value depends on. */
static void test_unknowns_that_matter(void **state)
{
	(void)state;
	static const struct {
		const char *file, *pointer, *resource, *depends;
	} cases[] = {
	        {"fixtures/terraform/errors/unknown_prefix.json",
	         "/planned_values/root_module/resources/1/values/security_rule/0/"
	         "source_address_prefix",
	         "azurerm_network_security_group.edge", "azurerm_public_ip.lb.ip_address"},
	        {"fixtures/terraform/errors/local_subnet.json",
	         "/planned_values/root_module/resources/1/values/subnet_id",
	         "azurerm_subnet_network_security_group_association.edge", "local.subnet_id"},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		nsgsim_error err = {0};
		assert_null(load(cases[i].file, &err));
		assert_int_equal(err.code, NSGSIM_E_UNEVALUATED);
		assert_string_equal(err.file, cases[i].file);
		assert_string_equal(err.pointer, cases[i].pointer);
		assert_string_equal(err.resource, cases[i].resource);
		assert_non_null(strstr(err.message, cases[i].depends));
	}
}

#define PLAN_HEAD "{\"format_version\": \"1.2\", \"planned_values\": {\"root_module\": "

/* Errors the REST readers raise name the Terraform attribute they came from. */
static void test_errors_name_terraform_attributes(void **state)
{
	(void)state;
	static const struct {
		const char *text, *pointer, *resource;
		int code;
	} cases[] = {
	        {PLAN_HEAD "{\"resources\": [{\"address\": \"azurerm_network_security_group.x\", "
	                   "\"mode\": \"managed\", \"type\": \"azurerm_network_security_group\", "
	                   "\"name\": \"x\", \"values\": {\"name\": \"nsg-x\", "
	                   "\"resource_group_name\": \"rg\", \"security_rule\": [{\"name\": \"r\", "
	                   "\"priority\": 100, \"direction\": \"Inbound\", \"access\": \"Allow\", "
	                   "\"protocol\": \"Tcp\", \"source_port_range\": \"*\", "
	                   "\"destination_port_range\": \"443\", \"source_address_prefix\": "
	                   "\"10.0.0.0/33\", \"destination_address_prefix\": \"*\"}]}}]}}}",
	         "/planned_values/root_module/resources/0/values/security_rule/0/"
	         "source_address_prefix",
	         "azurerm_network_security_group.x", NSGSIM_E_BAD_PREFIX},
	        {PLAN_HEAD
	         "{\"resources\": [{\"address\": \"azurerm_subnet.s\", \"mode\": "
	         "\"managed\", \"type\": \"azurerm_subnet\", \"name\": \"s\", \"values\": "
	         "{\"name\": \"s\", \"resource_group_name\": \"rg\", "
	         "\"virtual_network_name\": \"v\", \"address_prefixes\": [\"10.0.0.0/24\"], "
	         "\"id\": 7}}]}}}",
	         "/planned_values/root_module/resources/0/values/id", "azurerm_subnet.s",
	         NSGSIM_E_SHAPE},
	        {PLAN_HEAD "{\"resources\": {}}}}", "/planned_values/root_module/resources", "",
	         NSGSIM_E_SHAPE},
	        {PLAN_HEAD "{\"resources\": [{\"type\": \"azurerm_subnet\"}]}}}",
	         "/planned_values/root_module/resources/0", "", NSGSIM_E_MISSING_FIELD},
	        {PLAN_HEAD "{\"resources\": [{\"address\": \"a.b\", \"type\": \"a\", \"name\": "
	                   "\"b\", \"values\": []}]}}}",
	         "/planned_values/root_module/resources/0/values", "", NSGSIM_E_SHAPE},
	        {PLAN_HEAD "{\"resources\": [{\"address\": \"azurerm_subnet.s\", \"mode\": "
	                   "\"managed\", \"type\": \"azurerm_subnet\", \"name\": \"s\", "
	                   "\"values\": {\"name\": \"s\", \"virtual_network_name\": \"v\"}}]}}}",
	         "/planned_values/root_module/resources/0/values", "azurerm_subnet.s",
	         NSGSIM_E_UNEVALUATED},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		nsgsim_error err = {0};
		assert_null(load_text(cases[i].text, &err));
		if (err.code != cases[i].code || strcmp(err.pointer, cases[i].pointer) != 0 ||
		    strcmp(err.resource, cases[i].resource) != 0) {
			char buf[3000];
			nsgsim_error_format(&err, buf, sizeof buf);
			print_error("case %zu: %s\n", i, buf);
			fail();
		}
	}
}

/* A state document with nothing, and one whose resources are not azurerm's. */
static void test_empty_and_foreign(void **state)
{
	(void)state;
	nsgsim_error err = {0};
	nsgsim_policy *p =
	        load_text("{\"format_version\": \"1.0\", \"terraform_version\": \"1.9.8\"}", &err);
	assert_non_null(p);
	nsgsim_policy_free(p);
	p = load_text(
	        "{\"format_version\": \"1.0\", \"values\": {\"root_module\": {\"resources\": "
	        "[{\"address\": \"random_pet.x\", \"mode\": \"managed\", \"type\": "
	        "\"random_pet\", \"name\": \"x\", \"values\": {}}, {\"address\": "
	        "\"data.azurerm_subnet.y\", \"mode\": \"data\", \"type\": \"azurerm_subnet\", "
	        "\"name\": \"y\", \"values\": {}}]}}}",
	        &err);
	assert_non_null(p);
	assert_true(has_note(p, NSGSIM_NOTE_SKIPPED, "random_pet.x", "not modelled"));
	assert_int_equal(nsgsim_policy_note_count(p), 1); /* the data source is not a resource */
	nsgsim_policy_free(p);
}

#define STATE_HEAD "{\"format_version\": \"1.0\", \"values\": {\"root_module\": {\"resources\": ["
#define RGP                                                                                        \
	"/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg/providers/"         \
	"Microsoft.Network"
#define TF_RES(type, name, values)                                                                 \
	"{\"address\": \"" type "." name "\", \"mode\": \"managed\", \"type\": \"" type "\", "     \
	"\"name\": \"" name "\", \"values\": {" values "}}"
#define TF_NSG(name, rule)                                                                         \
	TF_RES("azurerm_network_security_group", name,                                             \
	       "\"id\": \"" RGP "/networkSecurityGroups/" name "\", \"name\": \"" name "\", "      \
	       "\"resource_group_name\": \"rg\", \"security_rule\": [{\"name\": \"" rule "\", "    \
	       "\"priority\": 100, \"direction\": \"Inbound\", \"access\": \"Deny\", "             \
	       "\"protocol\": \"*\", \"source_port_range\": \"*\", \"destination_port_range\": "   \
	       "\"*\", \"source_address_prefix\": \"*\", \"destination_address_prefix\": \"*\"}]")

/* The older spellings: a subnet's address_prefix and network_security_group_id,
 * a NIC's network_security_group_id (azurerm 2 and 3). */
static void test_older_spellings(void **state)
{
	(void)state;
	const char *doc = STATE_HEAD
	        TF_NSG("nsg-s", "Deny-At-Subnet") "," TF_NSG("nsg-n", "Deny-At-Nic") "," TF_RES(
	                "azurerm_virtual_network", "v",
	                "\"id\": \"" RGP "/virtualNetworks/v\", "
	                "\"name\": \"v\", \"resource_group_name\": \"rg\", "
	                "\"address_space\": "
	                "[\"10.0.0.0/16\"]") "," TF_RES("azurerm_subnet", "s",
	                                                "\"id\": \"" RGP "/virtualNetworks/v/"
	                                                "subnets/s\", "
	                                                "\"name\": \"s\", "
	                                                "\"resource_group_name\":"
	                                                " \"rg\", "
	                                                "\"virtual_network_"
	                                                "name\": "
	                                                "\"v\", "
	                                                "\"address_prefix\": "
	                                                "\"10.0.1.0/24\", "
	                                                "\"network_security_"
	                                                "group_id\": \"" RGP
	                                                "/networkSecurityGroups/"
	                                                "nsg-s\"") "," TF_RES("az"
	                                                                      "ur"
	                                                                      "er"
	                                                                      "m_"
	                                                                      "ne"
	                                                                      "tw"
	                                                                      "or"
	                                                                      "k_"
	                                                                      "in"
	                                                                      "te"
	                                                                      "rf"
	                                                                      "ac"
	                                                                      "e",
	                                                                      "n",
	                                                                      "\""
	                                                                      "id"
	                                                                      "\""
	                                                                      ": "
	                                                                      "\"" RGP "/n"
	                                                                      "et"
	                                                                      "wo"
	                                                                      "rk"
	                                                                      "In"
	                                                                      "te"
	                                                                      "rf"
	                                                                      "ac"
	                                                                      "es"
	                                                                      "/n"
	                                                                      "\""
	                                                                      ", "
	                                                                      "\""
	                                                                      "na"
	                                                                      "me"
	                                                                      "\""
	                                                                      ": "
	                                                                      "\""
	                                                                      "n"
	                                                                      "\""
	                                                                      ", "
	                                                                      "\""
	                                                                      "re"
	                                                                      "so"
	                                                                      "ur"
	                                                                      "ce"
	                                                                      "_g"
	                                                                      "ro"
	                                                                      "up"
	                                                                      "_n"
	                                                                      "am"
	                                                                      "e"
	                                                                      "\""
	                                                                      ": "
	                                                                      "\""
	                                                                      "rg"
	                                                                      "\""
	                                                                      ", "
	                                                                      "\""
	                                                                      "ne"
	                                                                      "tw"
	                                                                      "or"
	                                                                      "k_"
	                                                                      "se"
	                                                                      "cu"
	                                                                      "ri"
	                                                                      "ty"
	                                                                      "_g"
	                                                                      "ro"
	                                                                      "up"
	                                                                      "_i"
	                                                                      "d"
	                                                                      "\""
	                                                                      ": "
	                                                                      "\"" RGP "/n"
	                                                                      "et"
	                                                                      "wo"
	                                                                      "rk"
	                                                                      "Se"
	                                                                      "cu"
	                                                                      "ri"
	                                                                      "ty"
	                                                                      "Gr"
	                                                                      "ou"
	                                                                      "ps"
	                                                                      "/n"
	                                                                      "sg"
	                                                                      "-n"
	                                                                      "\""
	                                                                      ", "
	                                                                      "\""
	                                                                      "ip"
	                                                                      "_c"
	                                                                      "on"
	                                                                      "fi"
	                                                                      "gu"
	                                                                      "ra"
	                                                                      "ti"
	                                                                      "on"
	                                                                      "\""
	                                                                      ": "
	                                                                      "[{"
	                                                                      "\""
	                                                                      "na"
	                                                                      "me"
	                                                                      "\""
	                                                                      ": "
	                                                                      "\""
	                                                                      "c"
	                                                                      "\""
	                                                                      ", "
	                                                                      "\""
	                                                                      "su"
	                                                                      "bn"
	                                                                      "et"
	                                                                      "_i"
	                                                                      "d"
	                                                                      "\""
	                                                                      ": "
	                                                                      "\"" RGP "/v"
	                                                                      "ir"
	                                                                      "tu"
	                                                                      "al"
	                                                                      "Ne"
	                                                                      "tw"
	                                                                      "or"
	                                                                      "ks"
	                                                                      "/v"
	                                                                      "/s"
	                                                                      "ub"
	                                                                      "ne"
	                                                                      "ts"
	                                                                      "/s"
	                                                                      "\""
	                                                                      ", "
	                                                                      "\""
	                                                                      "pr"
	                                                                      "iv"
	                                                                      "at"
	                                                                      "e_"
	                                                                      "ip"
	                                                                      "_a"
	                                                                      "dd"
	                                                                      "re"
	                                                                      "ss"
	                                                                      "\""
	                                                                      ": "
	                                                                      "\""
	                                                                      "10"
	                                                                      ".0"
	                                                                      ".1"
	                                                                      ".4"
	                                                                      "\""
	                                                                      "}"
	                                                                      "]") "]}}}";
	nsgsim_error err = {0};
	nsgsim_policy *p = load_text(doc, &err);
	assert_non_null(p);
	nsgsim_flow flow;
	nsgsim_result r;
	assert_int_equal(nsgsim_flow_parse("tcp 10.0.1.9:5 10.0.1.4:80", &flow, &err), 0);
	assert_int_equal(nsgsim_eval_at(p, &flow, "n", NSGSIM_INBOUND, &r, &err), 0);
	assert_string_equal(r.decided_rule.name, "Deny-At-Subnet"); /* the subnet's NSG, first in */
	/* the NIC's own NSG is attached too: named by the NSG and by the NIC */
	char *json = NULL;
	assert_int_equal(nsgsim_policy_show(p, NSGSIM_SHOW_JSON, &json, &err), 0);
	int refs = 0;
	for (const char *q = json; (q = strstr(q, "networkSecurityGroups/nsg-n\"")); q++)
		refs++;
	assert_int_equal(refs, 2);
	nsgsim_free(json);
	nsgsim_policy_free(p);
}

#define PLAN_NSG(sub_expr)                                                                         \
	"{\"format_version\": \"1.2\", \"planned_values\": {\"root_module\": {\"resources\": ["    \
	"{\"address\": \"azurerm_network_security_group.x\", \"mode\": \"managed\", \"type\": "    \
	"\"azurerm_network_security_group\", \"name\": \"x\", \"values\": {\"name\": \"nsg-x\", "  \
	"\"resource_group_name\": \"rg\"}}, {\"address\": "                                        \
	"\"azurerm_subnet_network_security_group_association.a\", \"mode\": \"managed\", "         \
	"\"type\": \"azurerm_subnet_network_security_group_association\", \"name\": \"a\", "       \
	"\"values\": {\"subnet_id\": \"/subscriptions/s/resourceGroups/g/providers/"               \
	"Microsoft.Network/virtualNetworks/v/subnets/elsewhere\", \"network_security_group_id\": " \
	"\"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/"  \
	"nsg-x\"}}]}}, \"configuration\": {\"provider_config\": {\"azurerm\": {\"expressions\": "  \
	"{" sub_expr "}}}}}"

static const char *first_nsg_id(const nsgsim_policy *p, char *buf, size_t cap)
{
	char *json = NULL;
	nsgsim_error err;
	assert_int_equal(nsgsim_policy_show(p, NSGSIM_SHOW_JSON, &json, &err), 0);
	const char *id = strstr(json, "\"id\": \"");
	assert_non_null(id);
	snprintf(buf, cap, "%.*s", (int)strcspn(id + 7, "\""), id + 7);
	nsgsim_free(json);
	return buf;
}

/* Where the subscription of built ids comes from: --subscription, else the
 * provider's subscription_id, else the zero GUID with a warning; and an
 * association to a subnet the input does not hold is a warning. */
static void test_subscription_and_stray_association(void **state)
{
	(void)state;
	char buf[300];
	nsgsim_error err = {0};
	nsgsim_policy *p = load_text(PLAN_NSG("\"subscription_id\": {\"constant_value\": "
	                                      "\"aaaaaaaa-0000-0000-0000-000000000001\"}"),
	                             &err);
	assert_non_null(p);
	assert_non_null(strstr(first_nsg_id(p, buf, sizeof buf),
	                       "/subscriptions/aaaaaaaa-0000-0000-0000-000000000001/"));
	assert_true(has_note(p, NSGSIM_NOTE_WARNING,
	                     "azurerm_subnet_network_security_group_association.a",
	                     "which the input does not hold"));
	nsgsim_policy_free(p);

	nsgsim_loader *l = nsgsim_loader_new();
	const char *doc = PLAN_NSG("\"subscription_id\": {\"constant_value\": "
	                           "\"aaaaaaaa-0000-0000-0000-000000000001\"}");
	assert_int_equal(
	        nsgsim_loader_set_deployment(l, "bbbbbbbb-0000-0000-0000-000000000002", NULL, NULL),
	        0);
	assert_int_equal(nsgsim_loader_add_env_buffer(l, "plan.json", doc, strlen(doc), &err), 0);
	assert_int_equal(nsgsim_compile(l, &p, &err), 0);
	nsgsim_loader_free(l);
	assert_non_null(strstr(first_nsg_id(p, buf, sizeof buf),
	                       "/subscriptions/bbbbbbbb-0000-0000-0000-000000000002/"));
	nsgsim_policy_free(p);

	p = load_text(PLAN_NSG(""), &err);
	assert_non_null(p);
	assert_non_null(strstr(first_nsg_id(p, buf, sizeof buf),
	                       "/subscriptions/00000000-0000-0000-0000-000000000000/"));
	assert_true(has_note(p, NSGSIM_NOTE_WARNING, "azurerm_network_security_group.x",
	                     "give --subscription"));
	nsgsim_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_hub_spoke_table),
	        cmocka_unit_test(test_hub_spoke_state_table),
	        cmocka_unit_test(test_plan_equals_rest),
	        cmocka_unit_test(test_hub_spoke_notes),
	        cmocka_unit_test(test_state_then_plan),
	        cmocka_unit_test(test_unknowns_that_matter),
	        cmocka_unit_test(test_errors_name_terraform_attributes),
	        cmocka_unit_test(test_empty_and_foreign),
	        cmocka_unit_test(test_older_spellings),
	        cmocka_unit_test(test_subscription_and_stray_association),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
