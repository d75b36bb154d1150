/* Loading and validation: every shape Azure hands people loads into the same
 * model, and every kind of bad input is rejected with its code, the file,
 * the JSON pointer and the resource. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>

#include "parse/parse.h"
#include "nsgsim.h"

#define SUB     "/subscriptions/00000000-0000-0000-0000-000000000000"
#define RG      SUB "/resourceGroups/rg/providers/Microsoft.Network"
#define NSG_ID  RG "/networkSecurityGroups/nsg1"
#define VNET_ID RG "/virtualNetworks/vnet1"

/* An NSG in REST shape with one rule whose properties are given. */
#define NSG_WITH_RULE(props)                                                                       \
	"{\"id\": \"" NSG_ID "\", \"name\": \"nsg1\", \"type\": "                                  \
	"\"Microsoft.Network/networkSecurityGroups\", \"properties\": {\"securityRules\": "        \
	"[{\"name\": \"r1\", \"properties\": {" props "}}]}}"

#define GOOD_RULE                                                                                  \
	"\"protocol\": \"Tcp\", \"sourcePortRange\": \"*\", \"destinationPortRange\": \"443\", "   \
	"\"sourceAddressPrefix\": \"*\", \"destinationAddressPrefix\": \"10.0.0.0/24\", "          \
	"\"access\": \"Allow\", \"priority\": 100, \"direction\": \"Inbound\""

typedef struct loaded {
	int rc;
	nsgsim_error err;
	nsgsim_policy *policy;
} loaded;

/* Loads one env buffer (and optionally tags), compiles, and keeps the
 * error of the first stage that failed. */
static loaded load2(const char *env, const char *tags)
{
	loaded r = {0};
	nsgsim_loader *l = nsgsim_loader_new();
	assert_non_null(l);
	r.rc = nsgsim_loader_add_env_buffer(l, "env.json", env, strlen(env), &r.err);
	if (r.rc == 0 && tags)
		r.rc = nsgsim_loader_add_service_tags_buffer(l, "tags.json", tags, strlen(tags),
		                                             &r.err);
	if (r.rc == 0)
		r.rc = nsgsim_compile(l, &r.policy, &r.err);
	nsgsim_loader_free(l);
	return r;
}

static loaded load(const char *env)
{
	return load2(env, NULL);
}

static void expect_error(const char *env, int code, const char *pointer, const char *resource)
{
	loaded r = load(env);
	if (r.rc != code) {
		char buf[3000];
		nsgsim_error_format(&r.err, buf, sizeof buf);
		print_error("expected %s, got %s: %s\n", nsgsim_error_name(code),
		            nsgsim_error_name(r.rc), buf);
	}
	assert_int_equal(r.rc, code);
	assert_int_equal(r.err.code, code);
	assert_string_equal(r.err.file, "env.json");
	if (pointer)
		assert_string_equal(r.err.pointer, pointer);
	if (resource)
		assert_string_equal(r.err.resource, resource);
	assert_true(strlen(r.err.message) > 10);
	assert_null(r.policy);
}

static void expect_ok(const char *env, nsgsim_stats *stats)
{
	loaded r = load(env);
	if (r.rc != 0) {
		char buf[3000];
		nsgsim_error_format(&r.err, buf, sizeof buf);
		print_error("unexpected error: %s\n", buf);
	}
	assert_int_equal(r.rc, 0);
	if (stats)
		nsgsim_policy_stats(r.policy, stats);
	nsgsim_policy_free(r.policy);
}

/* ---- the error table ---------------------------------------------------------- */

static void test_error_table(void **state)
{
	(void)state;
	assert_string_equal(nsgsim_error_name(NSGSIM_E_NOMEM), "NSGSIM_E_NOMEM");
	assert_string_equal(nsgsim_strerror(NSGSIM_E_HOST_BITS), "CIDR prefix has host bits set");
	assert_null(nsgsim_error_name(-999));
	assert_string_equal(nsgsim_strerror(-999), "unknown error code");
	/* Every code from 0 down to INTERNAL has a name and a message. */
	for (int c = 0; c >= NSGSIM_E_INTERNAL; c--) {
		assert_non_null(nsgsim_error_name(c));
		assert_string_not_equal(nsgsim_strerror(c), "unknown error code");
	}
}

/* ---- shapes -------------------------------------------------------------------- */

static void test_shapes_load_the_same(void **state)
{
	(void)state;
	const char *single = NSG_WITH_RULE(GOOD_RULE);
	char array[2048], list[2048], template_[2048];
	snprintf(array, sizeof array, "[%s]", single);
	snprintf(list, sizeof list, "{\"value\": [%s], \"nextLink\": null}", single);
	snprintf(template_, sizeof template_,
	         "{\"$schema\": \"x\", \"contentVersion\": \"1.0.0.0\", \"resources\": [%s]}",
	         single);
	const char *flattened =
	        "{\"id\": \"" NSG_ID "\", \"name\": \"nsg1\", \"type\": "
	        "\"Microsoft.Network/networkSecurityGroups\", \"securityRules\": [{\"name\": "
	        "\"r1\", "
	        "\"type\": \"Microsoft.Network/networkSecurityGroups/securityRules\", " GOOD_RULE
	        ", \"sourcePortRanges\": [], \"destinationPortRanges\": [], "
	        "\"sourceAddressPrefixes\": [], \"destinationAddressPrefixes\": []}]}";
	const char *docs[] = {single, array, list, template_, flattened};
	for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
		nsgsim_stats s;
		expect_ok(docs[i], &s);
		assert_int_equal(s.nsgs, 1);
		assert_int_equal(s.nsg_rules, 1 + 6); /* the rule and Azure's six defaults */
	}
}

static void test_standalone_children(void **state)
{
	(void)state;
	/* The rule as `az network nsg rule show` prints it, in a separate
	 * resource, before its NSG; and the same rule nested too. */
	const char *env = "[{\"id\": \"" NSG_ID "/securityRules/r2\", \"name\": \"r2\", \"type\": "
	                  "\"Microsoft.Network/networkSecurityGroups/securityRules\", "
	                  "\"properties\": {" GOOD_RULE "}}," NSG_WITH_RULE(GOOD_RULE) "]";
	nsgsim_stats s;
	/* r1 and r2 both have priority 100 inbound: a duplicate. */
	expect_error(env, NSGSIM_E_DUP_PRIORITY, "/1/properties/securityRules/0",
	             NSG_ID "/securityRules/r1");
	const char *env2 = "[{\"id\": \"" NSG_ID "/securityRules/r1\", \"name\": \"r1\", "
	                   "\"type\": \"Microsoft.Network/networkSecurityGroups/securityRules\", "
	                   "\"properties\": {" GOOD_RULE "}}," NSG_WITH_RULE(GOOD_RULE) "]";
	expect_ok(env2, &s); /* the same rule twice is one rule */
	assert_int_equal(s.nsg_rules, 7);
}

static void test_same_id_different_content(void **state)
{
	(void)state;
	const char *env = "[" NSG_WITH_RULE(GOOD_RULE) "," NSG_WITH_RULE(
	        "\"protocol\": \"Udp\", \"sourcePortRange\": \"*\", \"destinationPortRange\": "
	        "\"443\", \"sourceAddressPrefix\": \"*\", \"destinationAddressPrefix\": \"*\", "
	        "\"access\": \"Allow\", \"priority\": 100, \"direction\": \"Inbound\"") "]";
	expect_error(env, NSGSIM_E_DUPLICATE, "/1/properties/securityRules/0",
	             NSG_ID "/securityRules/r1");
}

static void test_unknown_type_is_skipped_with_a_note(void **state)
{
	(void)state;
	loaded r = load("[{\"id\": \"/x/vm1\", \"name\": \"vm1\", \"type\": "
	                "\"Microsoft.Compute/virtualMachines\"}]");
	assert_int_equal(r.rc, 0);
	assert_int_equal(nsgsim_policy_note_count(r.policy), 1);
	nsgsim_note n;
	assert_int_equal(nsgsim_policy_note(r.policy, 0, &n), 0);
	assert_int_equal(n.kind, NSGSIM_NOTE_SKIPPED);
	assert_non_null(strstr(n.message, "Microsoft.Compute/virtualMachines"));
	assert_string_equal(n.pointer, "/0");
	assert_int_equal(nsgsim_policy_note(r.policy, 1, &n), NSGSIM_E_INVALID_ARG);
	nsgsim_policy_free(r.policy);
}

static void test_ids_compare_case_insensitively(void **state)
{
	(void)state;
	/* The subnet refers to the NSG with different casing, as Azure's own
	 * outputs often do (resourceGroups vs resourcegroups). */
	const char *env = "[" NSG_WITH_RULE(
	        GOOD_RULE) ", {\"id\": \"" VNET_ID "\", \"name\": \"vnet1\", "
	                   "\"type\": \"Microsoft.Network/virtualNetworks\", \"properties\": "
	                   "{\"addressSpace\": "
	                   "{\"addressPrefixes\": [\"10.0.0.0/16\"]}, \"subnets\": [{\"name\": "
	                   "\"s1\", "
	                   "\"properties\": {\"addressPrefix\": \"10.0.1.0/24\", "
	                   "\"networkSecurityGroup\": "
	                   "{\"id\": "
	                   "\"/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/"
	                   "RG/"
	                   "providers/microsoft.network/networksecuritygroups/NSG1\"}}}]}}]";
	nsgsim_stats s;
	expect_ok(env, &s);
	assert_int_equal(s.subnets, 1);
	assert_int_equal(s.vnets, 1);
}

/* ---- JSON syntax ---------------------------------------------------------------- */

static void test_malformed_json_has_line_and_column(void **state)
{
	(void)state;
	loaded r = load("[\n  {\"id\": \"x\",\n   \"name\" \"oops\"}\n]");
	assert_int_equal(r.rc, NSGSIM_E_JSON);
	assert_int_equal(r.err.line, 3);
	assert_int_equal(r.err.column, 11);
	assert_string_equal(r.err.file, "env.json");
	assert_non_null(strstr(r.err.message, "line 3, column 11"));
	r = load("{\"value\": []} trailing");
	assert_int_equal(r.rc, NSGSIM_E_JSON);
	assert_int_equal(r.err.line, 1);
	assert_int_equal(r.err.column, 15);
}

static void test_document_shape(void **state)
{
	(void)state;
	expect_error("42", NSGSIM_E_SHAPE, "", NULL);
	expect_error("{\"name\": \"x\"}", NSGSIM_E_MISSING_FIELD, "/type", NULL);
	expect_error("[{\"type\": \"Microsoft.Network/networkSecurityGroups\"}]",
	             NSGSIM_E_MISSING_FIELD, "/0/id", NULL);
}

/* ---- NSG rules ------------------------------------------------------------------- */

#define RULE_PTR "/properties/securityRules/0/properties"

static void test_missing_required_field(void **state)
{
	(void)state;
	expect_error(NSG_WITH_RULE("\"protocol\": \"Tcp\", \"sourcePortRange\": \"*\", "
	                           "\"destinationPortRange\": \"443\", \"sourceAddressPrefix\": "
	                           "\"*\", \"destinationAddressPrefix\": \"*\", \"priority\": 100, "
	                           "\"direction\": \"Inbound\""),
	             NSGSIM_E_MISSING_FIELD, RULE_PTR "/access", NSG_ID "/securityRules/r1");
}

static void test_nsg_priority_range(void **state)
{
	(void)state;
	const char *lo = NSG_WITH_RULE(
	        "\"protocol\": \"Tcp\", \"sourcePortRange\": \"*\", \"destinationPortRange\": "
	        "\"443\", "
	        "\"sourceAddressPrefix\": \"*\", \"destinationAddressPrefix\": \"*\", "
	        "\"access\": \"Allow\", \"priority\": 99, \"direction\": \"Inbound\"");
	const char *hi = NSG_WITH_RULE(
	        "\"protocol\": \"Tcp\", \"sourcePortRange\": \"*\", \"destinationPortRange\": "
	        "\"443\", "
	        "\"sourceAddressPrefix\": \"*\", \"destinationAddressPrefix\": \"*\", "
	        "\"access\": \"Allow\", \"priority\": 4097, \"direction\": \"Inbound\"");
	expect_error(lo, NSGSIM_E_PRIORITY_RANGE, RULE_PTR "/priority", NSG_ID "/securityRules/r1");
	expect_error(hi, NSGSIM_E_PRIORITY_RANGE, RULE_PTR "/priority", NSG_ID "/securityRules/r1");
	const char *big = NSG_WITH_RULE(
	        "\"protocol\": \"Tcp\", \"sourcePortRange\": \"*\", \"destinationPortRange\": "
	        "\"443\", "
	        "\"sourceAddressPrefix\": \"*\", \"destinationAddressPrefix\": \"*\", "
	        "\"access\": \"Allow\", \"priority\": 2147483648, \"direction\": \"Inbound\"");
	expect_error(big, NSGSIM_E_PRIORITY_RANGE, RULE_PTR "/priority", NULL);
	const char *frac = NSG_WITH_RULE(
	        "\"protocol\": \"Tcp\", \"sourcePortRange\": \"*\", \"destinationPortRange\": "
	        "\"443\", "
	        "\"sourceAddressPrefix\": \"*\", \"destinationAddressPrefix\": \"*\", "
	        "\"access\": \"Allow\", \"priority\": 100.5, \"direction\": \"Inbound\"");
	expect_error(frac, NSGSIM_E_SHAPE, RULE_PTR "/priority", NULL);
}

#define TWO_RULES(dir2)                                                                            \
	"{\"id\": \"" NSG_ID "\", \"name\": \"nsg1\", \"type\": "                                  \
	"\"Microsoft.Network/networkSecurityGroups\", \"properties\": {\"securityRules\": "        \
	"[{\"name\": \"a\", \"properties\": {" GOOD_RULE "}}, {\"name\": \"b\", \"properties\": "  \
	"{\"protocol\": \"Udp\", \"sourcePortRange\": \"*\", \"destinationPortRange\": \"53\", "   \
	"\"sourceAddressPrefix\": \"*\", \"destinationAddressPrefix\": \"*\", \"access\": "        \
	"\"Deny\", \"priority\": 100, \"direction\": \"" dir2 "\"}}]}}"

static void test_nsg_duplicate_priority(void **state)
{
	(void)state;
	expect_error(TWO_RULES("Inbound"), NSGSIM_E_DUP_PRIORITY, "/properties/securityRules/1",
	             NSG_ID "/securityRules/b");
	/* Uniqueness is per direction (SEMANTICS.md T25). */
	expect_ok(TWO_RULES("Outbound"), NULL);
}

static void test_address_side_exactly_one(void **state)
{
	(void)state;
	expect_error(NSG_WITH_RULE("\"protocol\": \"Tcp\", \"sourcePortRange\": \"*\", "
	                           "\"destinationPortRange\": \"443\", \"sourceAddressPrefix\": "
	                           "\"*\", \"access\": \"Allow\", \"priority\": 100, "
	                           "\"direction\": \"Inbound\""),
	             NSGSIM_E_ADDRESS_SIDE, RULE_PTR "/destinationAddressPrefix", NULL);
	expect_error(
	        NSG_WITH_RULE("\"protocol\": \"Tcp\", \"sourcePortRange\": \"*\", "
	                      "\"destinationPortRange\": \"443\", \"sourceAddressPrefix\": \"*\", "
	                      "\"destinationAddressPrefix\": \"10.0.0.4\", "
	                      "\"destinationApplicationSecurityGroups\": [{\"id\": \"" RG
	                      "/applicationSecurityGroups/asg1\"}], \"access\": \"Allow\", "
	                      "\"priority\": 100, \"direction\": \"Inbound\""),
	        NSGSIM_E_ADDRESS_SIDE, RULE_PTR "/destinationAddressPrefix", NULL);
}

static void test_tag_or_star_in_plural(void **state)
{
	(void)state;
	expect_error(NSG_WITH_RULE("\"protocol\": \"Tcp\", \"sourcePortRange\": \"*\", "
	                           "\"destinationPortRange\": \"443\", \"sourceAddressPrefixes\": "
	                           "[\"10.0.0.0/24\", \"VirtualNetwork\"], "
	                           "\"destinationAddressPrefix\": \"*\", \"access\": \"Allow\", "
	                           "\"priority\": 100, \"direction\": \"Inbound\""),
	             NSGSIM_E_TAG_IN_PREFIXES, RULE_PTR "/sourceAddressPrefixes/1", NULL);
	expect_error(NSG_WITH_RULE("\"protocol\": \"Tcp\", \"sourcePortRange\": \"*\", "
	                           "\"destinationPortRange\": \"443\", \"sourceAddressPrefix\": "
	                           "\"*\", \"destinationAddressPrefixes\": [\"*\"], "
	                           "\"access\": \"Allow\", \"priority\": 100, "
	                           "\"direction\": \"Inbound\""),
	             NSGSIM_E_TAG_IN_PREFIXES, RULE_PTR "/destinationAddressPrefixes/0", NULL);
}

#define RULE_WITH_DST(dst)                                                                         \
	NSG_WITH_RULE(                                                                             \
	        "\"protocol\": \"Tcp\", \"sourcePortRange\": \"*\", \"destinationPortRange\": "    \
	        "\"443\", \"sourceAddressPrefix\": \"*\", \"destinationAddressPrefix\": \"" dst    \
	        "\", \"access\": \"Allow\", \"priority\": 100, \"direction\": \"Inbound\"")

static void test_malformed_prefixes(void **state)
{
	(void)state;
	const char *bad[] = {RULE_WITH_DST("10.1/16"),      RULE_WITH_DST("10.0.0.256"),
	                     RULE_WITH_DST("10.0.0.0/33"),  RULE_WITH_DST("2001:db8::/129"),
	                     RULE_WITH_DST("fe80::1%eth0"), RULE_WITH_DST("10.0.0.0/")};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect_error(bad[i], NSGSIM_E_BAD_PREFIX, RULE_PTR "/destinationAddressPrefix",
		             NSG_ID "/securityRules/r1");
}

static void test_host_bits_name_the_network(void **state)
{
	(void)state;
	loaded r = load(RULE_WITH_DST("10.0.0.1/16"));
	assert_int_equal(r.rc, NSGSIM_E_HOST_BITS);
	assert_string_equal(r.err.pointer, RULE_PTR "/destinationAddressPrefix");
	assert_non_null(strstr(r.err.message, "10.0.0.0/16"));
	r = load(RULE_WITH_DST("2001:db8::1/32"));
	assert_int_equal(r.rc, NSGSIM_E_HOST_BITS);
	assert_non_null(strstr(r.err.message, "2001:db8::/32"));
	expect_ok(RULE_WITH_DST("2001:db8::/32"), NULL);
	expect_ok(RULE_WITH_DST("10.0.0.1"), NULL);
}

#define RULE_WITH_DPORT(port)                                                                      \
	NSG_WITH_RULE(                                                                             \
	        "\"protocol\": \"Tcp\", \"sourcePortRange\": \"*\", \"destinationPortRanges\": "   \
	        "[\"80\", \"" port "\"], \"sourceAddressPrefix\": \"*\", "                         \
	        "\"destinationAddressPrefix\": \"*\", \"access\": \"Allow\", \"priority\": "       \
	        "100, \"direction\": \"Inbound\"")

static void test_malformed_ports(void **state)
{
	(void)state;
	const char *bad[] = {RULE_WITH_DPORT("any"),       RULE_WITH_DPORT("65536"),
	                     RULE_WITH_DPORT("-1"),        RULE_WITH_DPORT("80-"),
	                     RULE_WITH_DPORT("2000-1000"), RULE_WITH_DPORT("")};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		expect_error(bad[i], NSGSIM_E_BAD_PORT, RULE_PTR "/destinationPortRanges/1", NULL);
	loaded r = load(RULE_WITH_DPORT("2000-1000"));
	assert_non_null(strstr(r.err.message, "reversed"));
	assert_non_null(strstr(r.err.message, "1000-2000"));
}

static void test_unknown_enums(void **state)
{
	(void)state;
	expect_error(
	        NSG_WITH_RULE("\"protocol\": \"Gre\", \"sourcePortRange\": \"*\", "
	                      "\"destinationPortRange\": \"*\", \"sourceAddressPrefix\": \"*\", "
	                      "\"destinationAddressPrefix\": \"*\", \"access\": \"Allow\", "
	                      "\"priority\": 100, \"direction\": \"Inbound\""),
	        NSGSIM_E_BAD_PROTOCOL, RULE_PTR "/protocol", NULL);
	expect_error(
	        NSG_WITH_RULE("\"protocol\": \"Tcp\", \"sourcePortRange\": \"*\", "
	                      "\"destinationPortRange\": \"*\", \"sourceAddressPrefix\": \"*\", "
	                      "\"destinationAddressPrefix\": \"*\", \"access\": \"AlwaysAllow\", "
	                      "\"priority\": 100, \"direction\": \"Inbound\""),
	        NSGSIM_E_BAD_ACCESS, RULE_PTR "/access", NULL);
	expect_error(
	        NSG_WITH_RULE("\"protocol\": \"Tcp\", \"sourcePortRange\": \"*\", "
	                      "\"destinationPortRange\": \"*\", \"sourceAddressPrefix\": \"*\", "
	                      "\"destinationAddressPrefix\": \"*\", \"access\": \"Allow\", "
	                      "\"priority\": 100, \"direction\": \"Sideways\""),
	        NSGSIM_E_BAD_DIRECTION, RULE_PTR "/direction", NULL);
	/* Enum values compare case-insensitively, as templates write them. */
	expect_ok(
	        NSG_WITH_RULE("\"protocol\": \"TCP\", \"sourcePortRange\": \"*\", "
	                      "\"destinationPortRange\": \"*\", \"sourceAddressPrefix\": \"*\", "
	                      "\"destinationAddressPrefix\": \"INTERNET\", \"access\": \"allow\", "
	                      "\"priority\": 100, \"direction\": \"outbound\""),
	        NULL);
}

static void test_unknown_service_tag(void **state)
{
	(void)state;
	expect_error(RULE_WITH_DST("Storage.WestEurope"), NSGSIM_E_UNKNOWN_TAG,
	             RULE_PTR "/destinationAddressPrefix", NSG_ID "/securityRules/r1");
	loaded r = load(RULE_WITH_DST("VIRTUAL_NETWORK"));
	assert_int_equal(r.rc, NSGSIM_E_UNKNOWN_TAG);
	assert_non_null(strstr(r.err.message, "classic"));
	const char *tags = "{\"changeNumber\": 1, \"cloud\": \"Public\", \"values\": [{\"name\": "
	                   "\"Storage.WestEurope\", \"id\": \"Storage.WestEurope\", "
	                   "\"properties\": {\"region\": \"westeurope\", \"addressPrefixes\": "
	                   "[\"20.38.108.0/23\"], \"networkFeatures\": [\"NSG\"]}}]}";
	r = load2(RULE_WITH_DST("storage.westeurope"), tags);
	assert_int_equal(r.rc, 0);
	nsgsim_policy_free(r.policy);
}

static void test_unevaluated_expression(void **state)
{
	(void)state;
	expect_error("{\"resources\": [{\"type\": \"Microsoft.Network/networkSecurityGroups\", "
	             "\"name\": \"[parameters('nsgName')]\", \"location\": \"x\"}]}",
	             NSGSIM_E_UNEVALUATED, "/resources/0/name", NULL);
	loaded r = load(RULE_WITH_DST("[variables('subnet')]"));
	assert_int_equal(r.rc, NSGSIM_E_UNEVALUATED);
	assert_non_null(strstr(r.err.message, "[variables('subnet')]"));
	/* "[[" escapes a literal bracket: not an expression (and no address). */
	r = load(RULE_WITH_DST("[[x]"));
	assert_int_equal(r.rc, NSGSIM_E_UNKNOWN_TAG);
}

/* ---- references and ASGs ----------------------------------------------------------- */

#define VNET_WITH_SUBNET(nsg_ref)                                                                  \
	"{\"id\": \"" VNET_ID "\", \"name\": \"vnet1\", \"type\": "                                \
	"\"Microsoft.Network/virtualNetworks\", \"properties\": {\"addressSpace\": "               \
	"{\"addressPrefixes\": [\"10.0.0.0/16\"]}, \"subnets\": [{\"name\": \"s1\", "              \
	"\"properties\": {\"addressPrefix\": \"10.0.1.0/24\"" nsg_ref "}}]}}"

static void test_dangling_reference(void **state)
{
	(void)state;
	expect_error(VNET_WITH_SUBNET(", \"networkSecurityGroup\": {\"id\": \"" RG
	                              "/networkSecurityGroups/missing\"}"),
	             NSGSIM_E_DANGLING_REF,
	             "/properties/subnets/0/properties/networkSecurityGroup/id",
	             VNET_ID "/subnets/s1");
	expect_error("{\"id\": \"" RG "/networkInterfaces/nic1\", \"name\": \"nic1\", \"type\": "
	             "\"Microsoft.Network/networkInterfaces\", \"properties\": "
	             "{\"ipConfigurations\": [{\"name\": \"ip1\", \"properties\": "
	             "{\"privateIPAddress\": \"10.0.1.4\", \"subnet\": {\"id\": \"" VNET_ID
	             "/subnets/nope\"}}}]}}",
	             NSGSIM_E_DANGLING_REF, "/properties/ipConfigurations/0/properties/subnet/id",
	             RG "/networkInterfaces/nic1");
}

#define NIC(name, subnet_id, ip, asg)                                                              \
	"{\"id\": \"" RG "/networkInterfaces/" name "\", \"name\": \"" name "\", \"type\": "       \
	"\"Microsoft.Network/networkInterfaces\", \"properties\": {\"ipConfigurations\": "         \
	"[{\"name\": \"ip1\", \"properties\": {\"privateIPAddress\": \"" ip "\", \"subnet\": "     \
	"{\"id\": \"" subnet_id "\"}, \"applicationSecurityGroups\": [{\"id\": \"" RG              \
	"/applicationSecurityGroups/" asg "\"}]}}]}}"

#define ASG(name)                                                                                  \
	"{\"id\": \"" RG "/applicationSecurityGroups/" name "\", \"name\": \"" name "\", "         \
	"\"type\": \"Microsoft.Network/applicationSecurityGroups\"}"

#define VNET2                                                                                      \
	"{\"id\": \"" RG "/virtualNetworks/vnet2\", \"name\": \"vnet2\", \"type\": "               \
	"\"Microsoft.Network/virtualNetworks\", \"properties\": {\"addressSpace\": "               \
	"{\"addressPrefixes\": [\"10.1.0.0/16\"]}, \"subnets\": [{\"name\": \"s1\", "              \
	"\"properties\": {\"addressPrefix\": \"10.1.1.0/24\"}}]}}"

static void test_asg_members_in_two_vnets(void **state)
{
	(void)state;
	expect_error("[" VNET_WITH_SUBNET("") "," VNET2 "," ASG("asg1") "," NIC(
	                     "nic1", VNET_ID "/subnets/s1", "10.0.1.4",
	                     "asg1") "," NIC("nic2", RG "/virtualNetworks/vnet2/subnets/s1",
	                                     "10.1.1.4", "asg1") "]",
	             NSGSIM_E_ASG_VNETS,
	             "/4/properties/ipConfigurations/0/properties/applicationSecurityGroups/0/id",
	             RG "/networkInterfaces/nic2");
	nsgsim_stats s;
	expect_ok("[" VNET_WITH_SUBNET("") "," ASG("asg1") "," NIC("nic1", VNET_ID "/subnets/s1",
	                                                           "10.0.1.4", "asg1") "]",
	          &s);
	assert_int_equal(s.asgs, 1);
	assert_int_equal(s.nics, 1);
	expect_error("[" VNET_WITH_SUBNET("") "," NIC("nic1", VNET_ID "/subnets/s1", "10.0.1.4",
	                                              "nope") "]",
	             NSGSIM_E_DANGLING_REF, NULL, NULL);
}

/* ---- AVNM ---------------------------------------------------------------------------- */

#define NM   RG "/networkManagers/nm1"
#define COLL NM "/securityAdminConfigurations/cfg/ruleCollections/rc1"
#define AVNM_BASE                                                                                  \
	"{\"id\": \"" NM                                                                           \
	"\", \"name\": \"nm1\", \"type\": \"Microsoft.Network/networkManagers\", "                 \
	"\"properties\": {\"networkManagerScopes\": {\"subscriptions\": [\"" SUB "\"]}}},"         \
	"{\"id\": \"" NM "/networkGroups/g1\", \"name\": \"g1\", \"type\": "                       \
	"\"Microsoft.Network/networkManagers/networkGroups\", \"properties\": {}},"                \
	"{\"id\": \"" NM "/securityAdminConfigurations/cfg\", \"name\": \"cfg\", \"type\": "       \
	"\"Microsoft.Network/networkManagers/securityAdminConfigurations\", \"properties\": {}},"  \
	"{\"id\": \"" COLL "\", \"name\": \"rc1\", \"type\": "                                     \
	"\"Microsoft.Network/networkManagers/securityAdminConfigurations/ruleCollections\", "      \
	"\"properties\": {\"appliesToGroups\": [{\"networkGroupId\": \"" NM                        \
	"/networkGroups/g1\"}]}}"

#define ADMIN_RULE(name, props)                                                                    \
	"{\"id\": \"" COLL "/rules/" name "\", \"name\": \"" name "\", \"kind\": \"Custom\", "     \
	"\"type\": "                                                                               \
	"\"Microsoft.Network/networkManagers/securityAdminConfigurations/ruleCollections/"         \
	"rules\", "                                                                                \
	"\"properties\": {" props "}}"

#define ADMIN_PROPS(prio)                                                                          \
	"\"protocol\": \"Tcp\", \"sources\": [{\"addressPrefixType\": \"ServiceTag\", "            \
	"\"addressPrefix\": \"Internet\"}], \"destinations\": [{\"addressPrefixType\": "           \
	"\"IPPrefix\", \"addressPrefix\": \"*\"}], \"destinationPortRanges\": [\"22\"], "          \
	"\"access\": \"Deny\", \"priority\": " prio ", \"direction\": \"Inbound\""

static void test_admin_rules(void **state)
{
	(void)state;
	nsgsim_stats s;
	expect_ok("[" AVNM_BASE "," ADMIN_RULE("deny22", ADMIN_PROPS("1")) "]", &s);
	assert_int_equal(s.admin_rules, 1);
	assert_int_equal(s.network_managers, 1);
	expect_error("[" AVNM_BASE "," ADMIN_RULE("deny22", ADMIN_PROPS("0")) "]",
	             NSGSIM_E_PRIORITY_RANGE, "/4/properties/priority", COLL "/rules/deny22");
	expect_error("[" AVNM_BASE "," ADMIN_RULE("deny22", ADMIN_PROPS("4097")) "]",
	             NSGSIM_E_PRIORITY_RANGE, "/4/properties/priority", NULL);
	expect_error("[" AVNM_BASE "," ADMIN_RULE("a", ADMIN_PROPS("10")) "," ADMIN_RULE(
	                     "b", ADMIN_PROPS("10")) "]",
	             NSGSIM_E_DUP_PRIORITY, "/5", COLL "/rules/b");
	expect_error("[" AVNM_BASE ",{\"id\": \"" COLL
	             "/rules/d\", \"name\": \"d\", \"kind\": \"Default\", "
	             "\"type\": \"Microsoft.Network/networkManagers/securityAdminConfigurations/"
	             "ruleCollections/rules\", \"properties\": {\"flag\": \"AllowVnet\"}}]",
	             NSGSIM_E_UNSUPPORTED, "/4/kind", NULL);
	expect_error("[" AVNM_BASE
	             "," ADMIN_RULE("x", "\"protocol\": \"Tcp\", \"access\": \"Deny\", "
	                                 "\"priority\": 5, \"direction\": \"Inbound\", "
	                                 "\"sources\": [{\"addressPrefixType\": "
	                                 "\"ServiceTag\", \"addressPrefix\": "
	                                 "\"AzurePlatformDNS\"}]") "]",
	             NSGSIM_E_UNSUPPORTED, "/4/properties/sources/0/addressPrefix", NULL);
	/* A rule collection naming a group that is not in the input. */
	expect_error("[{\"id\": \"" COLL "\", \"name\": \"rc1\", \"type\": "
	             "\"Microsoft.Network/networkManagers/securityAdminConfigurations/"
	             "ruleCollections\", \"properties\": {\"appliesToGroups\": []}}]",
	             NSGSIM_E_DANGLING_REF, "/0", COLL);
}

/* ---- limits are warnings, not errors --------------------------------------------------- */

static void test_limits_warn(void **state)
{
	(void)state;
	char *doc = malloc(1 << 20);
	assert_non_null(doc);
	size_t n = (size_t)snprintf(doc, 1 << 20,
	                            "{\"id\": \"" NSG_ID "\", \"name\": \"nsg1\", \"type\": "
	                            "\"Microsoft.Network/networkSecurityGroups\", "
	                            "\"properties\": {\"securityRules\": [");
	for (int i = 0; i < 1001; i++)
		n += (size_t)snprintf(
		        doc + n, (1 << 20) - n,
		        "%s{\"name\": \"r%d\", \"properties\": {\"protocol\": \"Tcp\", "
		        "\"sourcePortRange\": \"*\", \"destinationPortRange\": \"%d\", "
		        "\"sourceAddressPrefix\": \"*\", \"destinationAddressPrefix\": "
		        "\"*\", \"access\": \"Allow\", \"priority\": %d, \"direction\": "
		        "\"%s\"}}",
		        i ? "," : "", i, i, 100 + i % 3000,
		        i < 3000 && i >= 1000 ? "Outbound" : "Inbound");
	snprintf(doc + n, (1 << 20) - n, "]}}");
	loaded r = load(doc);
	free(doc);
	assert_int_equal(r.rc, 0);
	assert_int_equal(nsgsim_policy_note_count(r.policy), 1);
	nsgsim_note note;
	nsgsim_policy_note(r.policy, 0, &note);
	assert_int_equal(note.kind, NSGSIM_NOTE_LIMIT);
	assert_non_null(strstr(note.message, "1,000"));
	nsgsim_policy_free(r.policy);
}

/* ---- the loader keeps what it had when a file fails ------------------------------------- */

static void test_failed_file_rolls_back(void **state)
{
	(void)state;
	nsgsim_loader *l = nsgsim_loader_new();
	nsgsim_error err;
	const char *good = NSG_WITH_RULE(GOOD_RULE);
	const char *bad =
	        "[" VNET_WITH_SUBNET("") ", {\"type\": \"Microsoft.Network/"
	                                 "virtualNetworks\", \"name\": \"v\", \"properties\": {}}]";
	assert_int_equal(nsgsim_loader_add_env_buffer(l, "good.json", good, strlen(good), &err), 0);
	assert_int_equal(nsgsim_loader_add_env_buffer(l, "bad.json", bad, strlen(bad), &err),
	                 NSGSIM_E_MISSING_FIELD);
	assert_string_equal(err.file, "bad.json");
	assert_string_equal(err.pointer, "/1/properties/addressSpace");
	nsgsim_policy *p = NULL;
	assert_int_equal(nsgsim_compile(l, &p, &err), 0);
	nsgsim_stats s;
	nsgsim_policy_stats(p, &s);
	assert_int_equal(s.vnets, 0); /* the good VNet of the bad file is gone too */
	assert_int_equal(s.nsgs, 1);
	nsgsim_policy_free(p);
	nsgsim_loader_free(l);
}

/* The input lines a failed file recorded go with it: the policy saved after
 * it is the one a loader that never saw the file saves, byte for byte, and
 * a line the failed file put again under a key already known is restored
 * (the same file name, read before and failed now). */
static void *saved_policy(nsgsim_loader *l, size_t *len)
{
	nsgsim_error err;
	nsgsim_policy *p = NULL;
	void *buf = NULL;
	assert_int_equal(nsgsim_compile(l, &p, &err), 0);
	assert_int_equal(nsgsim_policy_save_buffer(p, &buf, len, &err), 0);
	nsgsim_policy_free(p);
	return buf;
}

static void test_failed_file_takes_its_lines(void **state)
{
	(void)state;
	nsgsim_error err;
	const char *good = "[\n" NSG_WITH_RULE(GOOD_RULE) "\n]";
	/* the same NSG two lines lower, then a VNet without its address space */
	const char *bad = "[\n\n\n" NSG_WITH_RULE(
	        GOOD_RULE) ",\n{\"type\": \"Microsoft.Network/"
	                   "virtualNetworks\", \"name\": \"v\", \"properties\": {}}]";
	nsgsim_loader *alone = nsgsim_loader_new(), *l = nsgsim_loader_new();
	assert_int_equal(nsgsim_loader_add_env_buffer(alone, "a.json", good, strlen(good), &err),
	                 0);
	assert_int_equal(nsgsim_loader_add_env_buffer(l, "a.json", good, strlen(good), &err), 0);
	assert_int_equal(nsgsim_loader_add_env_buffer(l, "a.json", bad, strlen(bad), &err),
	                 NSGSIM_E_MISSING_FIELD);
	assert_int_equal(nsgsim_loader_add_env_buffer(l, "b.json", bad, strlen(bad), &err),
	                 NSGSIM_E_MISSING_FIELD);
	size_t n_alone, n;
	void *want = saved_policy(alone, &n_alone), *got = saved_policy(l, &n);
	assert_int_equal(n, n_alone);
	assert_memory_equal(got, want, n);
	nsgsim_free(want);
	nsgsim_free(got);
	nsgsim_loader_free(alone);
	nsgsim_loader_free(l);
}

static void test_env_directory_and_io_errors(void **state)
{
	(void)state;
	nsgsim_loader *l = nsgsim_loader_new();
	nsgsim_error err;
	assert_int_equal(nsgsim_loader_add_env(l, "fixtures/example/env", &err), 0);
	assert_int_equal(
	        nsgsim_loader_add_service_tags(
	                l, "fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json", &err),
	        0);
	assert_int_equal(nsgsim_loader_add_env(l, "/nonexistent/x.json", &err), NSGSIM_E_IO);
	assert_string_equal(err.file, "/nonexistent/x.json");
	nsgsim_policy *p = NULL;
	assert_int_equal(nsgsim_compile(l, &p, &err), 0);
	nsgsim_stats s;
	nsgsim_policy_stats(p, &s);
	assert_true(s.vnets == 3 && s.nics >= 5 && s.admin_rules >= 4);
	nsgsim_policy_free(p);
	nsgsim_loader_free(l);
	nsgsim_policy_free(NULL);
	nsgsim_loader_free(NULL);
}

/* fixtures/semantics/invalid: one file per invalid-input trap (T1, T9, T10). */
static void test_invalid_fixtures(void **state)
{
	(void)state;
	static const struct {
		const char *file;
		int code;
		const char *pointer;
	} cases[] = {
	        {"t1_nsg_priority_99.json", NSGSIM_E_PRIORITY_RANGE,
	         "/0/properties/securityRules/1/properties/priority"},
	        {"t1_nsg_priority_4097.json", NSGSIM_E_PRIORITY_RANGE,
	         "/0/properties/securityRules/1/properties/priority"},
	        {"t1_admin_priority_0.json", NSGSIM_E_PRIORITY_RANGE, "/4/properties/priority"},
	        {"t1_admin_priority_4097.json", NSGSIM_E_PRIORITY_RANGE, "/4/properties/priority"},
	        {"t1_nsg_duplicate_priority_same_direction.json", NSGSIM_E_DUP_PRIORITY,
	         "/0/properties/securityRules/1"},
	        {"valid_same_priority_other_direction.json", 0, ""},
	        {"t9_service_tag_in_source_prefixes.json", NSGSIM_E_TAG_IN_PREFIXES,
	         "/0/properties/securityRules/0/properties/sourceAddressPrefixes/1"},
	        {"t9_star_in_destination_prefixes.json", NSGSIM_E_TAG_IN_PREFIXES,
	         "/0/properties/securityRules/0/properties/destinationAddressPrefixes/1"},
	        {"t9_asg_and_prefix_same_side.json", NSGSIM_E_ADDRESS_SIDE,
	         "/1/properties/securityRules/0/properties/sourceAddressPrefix"},
	        {"t10_asg_members_two_vnets.json", NSGSIM_E_ASG_VNETS,
	         "/4/properties/ipConfigurations/0/properties/applicationSecurityGroups/0/id"},
	        {"t10_asg_rule_source_dest_different_vnets.json", NSGSIM_E_ASG_VNETS,
	         "/6/properties/securityRules/0/properties/destinationApplicationSecurityGroups/0/"
	         "id"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char path[256];
		snprintf(path, sizeof path, "fixtures/semantics/invalid/%s", cases[i].file);
		nsgsim_loader *l = nsgsim_loader_new();
		nsgsim_error err = {0};
		nsgsim_policy *p = NULL;
		int rc = nsgsim_loader_add_env(l, path, &err);
		if (rc == 0)
			rc = nsgsim_compile(l, &p, &err);
		if (rc != cases[i].code)
			print_error("%s: expected %d, got %d (%s)\n", path, cases[i].code, rc,
			            err.message);
		assert_int_equal(rc, cases[i].code);
		if (rc != 0) {
			assert_string_equal(err.file, path);
			assert_string_equal(err.pointer, cases[i].pointer);
			assert_true(err.resource[0] != '\0');
		}
		nsgsim_policy_free(p);
		nsgsim_loader_free(l);
	}
}

/* ---- hostile input: limits and odd JSON ----------------------------------------- */

static int load_with_limit(const char *json, size_t len, int limit, uint64_t value,
                           nsgsim_error *err)
{
	nsgsim_loader *l = nsgsim_loader_new();
	if (limit >= 0)
		assert_int_equal(nsgsim_loader_set_limit(l, limit, value), 0);
	nsgsim_policy *p = NULL;
	int rc = nsgsim_loader_add_env_buffer(l, "env.json", json, len, err);
	if (rc == 0)
		rc = nsgsim_compile(l, &p, err);
	nsgsim_policy_free(p);
	nsgsim_loader_free(l);
	return rc;
}

static void test_limits(void **state)
{
	(void)state;
	nsgsim_error err;
	const char *nsg = NSG_WITH_RULE(GOOD_RULE);
	assert_int_equal(nsgsim_limit_default(NSGSIM_LIMIT_JSON_DEPTH), 64);
	assert_int_equal(nsgsim_loader_set_limit(NULL, 0, 1), NSGSIM_E_INVALID_ARG);
	/* Over the size limit. */
	assert_int_equal(load_with_limit(nsg, strlen(nsg), NSGSIM_LIMIT_FILE_BYTES, 100, &err),
	                 NSGSIM_E_LIMIT);
	assert_non_null(strstr(err.message, "NSGSIM_LIMIT_FILE_BYTES"));
	/* Nested deeper than the limit: the error names line and column. */
	char deep[400];
	memset(deep, '[', 200);
	memset(deep + 200, ']', 200);
	assert_int_equal(load_with_limit(deep, sizeof deep, -1, 0, &err), NSGSIM_E_LIMIT);
	assert_int_equal(err.line, 1);
	assert_int_equal(err.column, 65);
	/* Resources and rules per NSG. */
	assert_int_equal(load_with_limit(nsg, strlen(nsg), NSGSIM_LIMIT_RULES_PER_NSG, 1, &err), 0);
	assert_int_equal(load_with_limit(TWO_RULES("Outbound"), strlen(TWO_RULES("Outbound")),
	                                 NSGSIM_LIMIT_RULES_PER_NSG, 1, &err),
	                 NSGSIM_E_LIMIT);
	const char *two = "[" NSG_WITH_RULE(GOOD_RULE) ", " VNET2 "]";
	assert_int_equal(load_with_limit(two, strlen(two), NSGSIM_LIMIT_RESOURCES, 2, &err),
	                 NSGSIM_E_LIMIT);
	assert_string_equal(err.pointer, "/1");
}

static void test_a_million_prefixes(void **state)
{
	(void)state;
	size_t cap = 20u << 20, n = 0;
	char *doc = malloc(cap);
	assert_non_null(doc);
	n += (size_t)snprintf(doc, cap,
	                      "{\"id\": \"" NSG_ID "\", \"name\": \"nsg1\", \"type\": "
	                      "\"Microsoft.Network/networkSecurityGroups\", \"properties\": "
	                      "{\"securityRules\": [{\"name\": \"r1\", \"properties\": {"
	                      "\"protocol\": \"Tcp\", \"sourcePortRange\": \"*\", "
	                      "\"destinationPortRange\": \"443\", \"destinationAddressPrefix\": "
	                      "\"*\", \"access\": \"Allow\", \"priority\": 100, \"direction\": "
	                      "\"Inbound\", \"sourceAddressPrefixes\": [");
	for (unsigned i = 0; i < 1000000; i++)
		n += (size_t)snprintf(doc + n, cap - n, "%s\"10.%u.%u.%u\"", i ? "," : "",
		                      (i >> 16) & 255, (i >> 8) & 255, i & 255);
	n += (size_t)snprintf(doc + n, cap - n, "]}}]}}");
	nsgsim_error err;
	assert_int_equal(load_with_limit(doc, n, -1, 0, &err), NSGSIM_E_LIMIT);
	assert_string_equal(err.pointer, RULE_PTR "/sourceAddressPrefixes");
	assert_non_null(strstr(err.message, "1000000 addresses"));
	free(doc);
}

static void test_odd_json(void **state)
{
	(void)state;
	nsgsim_error err;
	/* A NUL byte inside a string, raw and escaped. */
	const char raw[] = "[{\"type\": \"Microsoft.Network/network\0SecurityGroups\"}]";
	assert_int_equal(load_with_limit(raw, sizeof raw - 1, -1, 0, &err), NSGSIM_E_JSON);
	assert_non_null(strstr(err.message, "NUL"));
	assert_int_equal(err.column, 37);
	const char *esc = "[{\"type\": \"x\\u0000y\"}]";
	assert_int_equal(load_with_limit(esc, strlen(esc), -1, 0, &err), NSGSIM_E_JSON);
	/* cJSON reads a \u without four hex digits as U+0000 too: refused, with
	 * the escape's column. */
	const char *bad_u = "[{\"type\": \"ab\\u0}1f\"}]";
	assert_int_equal(load_with_limit(bad_u, strlen(bad_u), -1, 0, &err), NSGSIM_E_JSON);
	assert_int_equal(err.column, 14);
	assert_non_null(strstr(err.message, "invalid escape"));
	/* A duplicate key (keys compare case-insensitively, as ARM's do). */
	const char *dup = "{\"id\": \"" NSG_ID "\", \"name\": \"nsg1\", \"type\": "
	                  "\"Microsoft.Network/networkSecurityGroups\", \"Name\": \"other\"}";
	assert_int_equal(load_with_limit(dup, strlen(dup), -1, 0, &err), NSGSIM_E_SHAPE);
	assert_string_equal(err.pointer, "/Name");
	/* In a large object (sorted, not compared pairwise) the first repeat in
	 * document order is named; a repeat inside an earlier member comes
	 * first, as a depth-first walk meets it. */
	char big[12000] = "{\"type\": \"Microsoft.Foo/bar\"";
	for (int i = 0; i < 300; i++)
		snprintf(big + strlen(big), sizeof big - strlen(big), ", \"%s%d\": %d",
		         i == 120 ? "KEY" : "key",
		         i == 120   ? 40
		         : i == 250 ? 7
		                    : i,
		         i);
	strcat(big, "}");
	assert_int_equal(load_with_limit(big, strlen(big), -1, 0, &err), NSGSIM_E_SHAPE);
	assert_string_equal(err.pointer, "/KEY40");
	const char *nested = "{\"type\": \"Microsoft.Foo/bar\", \"a\": [{\"x\": 1, \"X\": 2}], "
	                     "\"b\": 1, \"B\": 2}";
	assert_int_equal(load_with_limit(nested, strlen(nested), -1, 0, &err), NSGSIM_E_SHAPE);
	assert_string_equal(err.pointer, "/a/0/X");
	/* An IPv6 address with a zone id, a port of -1, a priority of 2^31. */
	expect_error(RULE_WITH_DST("fe80::1%25eth0"), NSGSIM_E_BAD_PREFIX, NULL, NULL);
	expect_error(RULE_WITH_DPORT("-1"), NSGSIM_E_BAD_PORT, NULL, NULL);
}

/* ns_parse_prefix against the rules it documents, written out here with
 * inet_pton: random strings near the IPv4 syntax (leading zeros, 256,
 * missing parts, odd lengths) and some IPv6.  The IPv4 fast path must
 * agree with the general path on every one. */
static int reference_prefix(const char *text, int *family, ns_u128 *addr, int *plen)
{
	char tmp[128];
	if (!*text || strlen(text) >= sizeof tmp || strchr(text, '%'))
		return NSGSIM_E_BAD_PREFIX;
	strcpy(tmp, text);
	char *slash = strchr(tmp, '/');
	if (slash)
		*slash = '\0';
	unsigned char b[16];
	int max;
	if (inet_pton(AF_INET, tmp, b) == 1) {
		*family = 4, max = 32;
		*addr = (ns_u128)b[0] << 24 | (ns_u128)b[1] << 16 | (ns_u128)b[2] << 8 | b[3];
	} else if (inet_pton(AF_INET6, tmp, b) == 1) {
		*family = 6, max = 128;
		*addr = 0;
		for (int i = 0; i < 16; i++)
			*addr = *addr << 8 | b[i];
	} else {
		return NSGSIM_E_BAD_PREFIX;
	}
	*plen = max;
	if (slash) {
		const char *l = slash + 1;
		size_t n = strlen(l);
		if (n == 0 || n > 3 || strspn(l, "0123456789") != n || atoi(l) > max)
			return NSGSIM_E_BAD_PREFIX;
		*plen = atoi(l);
	}
	ns_u128 host = *plen == max ? 0
	               : *plen == 0 ? ~(ns_u128)0
	                            : ((ns_u128)1 << (max - *plen)) - 1;
	return (*addr & host) ? NSGSIM_E_HOST_BITS : 0;
}

static void test_prefix_parser_matches_inet_pton(void **state)
{
	(void)state;
	static const char *parts[] = {"0",   "00",  "01",  "1",    "9",  "10", "99",  "127",
	                              "255", "256", "999", "1000", ".",  ".",  ".",   "/",
	                              "/",   "8",   "16",  "24",   "32", "33", "032", "08",
	                              ":",   "::",  "a",   " ",    "-"};
	uint64_t x = 0x9e3779b97f4a7c15ull;
	int accepted = 0, host_bits = 0;
	for (int round = 0; round < 200000; round++) {
		char s[96] = "";
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint64_t r = x;
		if (round % 2) { /* near a well-formed dotted quad */
			snprintf(s, sizeof s, "%s.%s.%s.%s%s%s", parts[r % 13],
			         parts[(r >> 5) % 13], parts[(r >> 10) % 13], parts[(r >> 15) % 13],
			         (r >> 20) % 3 ? "/" : "",
			         (r >> 22) % 3 ? parts[17 + (r >> 24) % 7] : "");
		} else {
			for (int k = 0, n = 1 + (int)(r % 9); k < n; k++)
				strcat(s, parts[(r >> (4 + 5 * k)) %
				                (sizeof parts / sizeof parts[0])]);
		}
		int f1 = 0, f2 = 0, l1 = 0, l2 = 0;
		ns_u128 a1 = 0, a2 = 0;
		int got = ns_parse_prefix(s, &f1, &a1, &l1, NULL, NULL, NULL);
		int want = reference_prefix(s, &f2, &a2, &l2);
		if (got != want ||
		    (want != NSGSIM_E_BAD_PREFIX && (f1 != f2 || a1 != a2 || l1 != l2)))
			fail_msg("'%s': ns_parse_prefix %d (family %d /%d), the rules say %d "
			         "(family "
			         "%d /%d)",
			         s, got, f1, l1, want, f2, l2);
		accepted += got == 0;
		host_bits += got == NSGSIM_E_HOST_BITS;
	}
	printf("prefixes: 200000 strings, %d accepted, %d with host bits\n", accepted, host_bits);
	assert_true(accepted > 1000 && host_bits > 1000);
}

/* nsgsim_policy_resource lists what was read, in input order, with the
 * file and pointer; an unknown kind or index is refused. */
static void test_resources_by_kind(void **state)
{
	(void)state;
	const char *env = "[" NSG_WITH_RULE(
	        GOOD_RULE) ", {\"id\": \"" RG
	                   "/applicationSecurityGroups/asg-b\", \"name\": \"asg-b\", \"type\": "
	                   "\"Microsoft.Network/applicationSecurityGroups\"}, {\"id\": \"" RG
	                   "/applicationSecurityGroups/asg-a\", \"name\": \"asg-a\", \"type\": "
	                   "\"Microsoft.Network/applicationSecurityGroups\"}]";
	loaded r = load(env);
	assert_int_equal(r.rc, 0);
	assert_int_equal(nsgsim_policy_resource_count(r.policy, NSGSIM_RESOURCE_NSG), 1);
	assert_int_equal(nsgsim_policy_resource_count(r.policy, NSGSIM_RESOURCE_ASG), 2);
	assert_int_equal(nsgsim_policy_resource_count(r.policy, NSGSIM_RESOURCE_NIC), 0);
	assert_int_equal(nsgsim_policy_resource_count(r.policy, 99), 0);
	nsgsim_resource res;
	assert_int_equal(nsgsim_policy_resource(r.policy, NSGSIM_RESOURCE_ASG, 1, &res), 0);
	assert_string_equal(res.name, "asg-a");
	assert_string_equal(res.id, RG "/applicationSecurityGroups/asg-a");
	assert_string_equal(res.file, "env.json");
	assert_string_equal(res.pointer, "/2");
	assert_int_equal(nsgsim_policy_resource(r.policy, NSGSIM_RESOURCE_NSG, 0, &res), 0);
	assert_string_equal(res.name, "nsg1");
	assert_string_equal(res.pointer, "/0");
	assert_int_equal(nsgsim_policy_resource(r.policy, NSGSIM_RESOURCE_ASG, 2, &res),
	                 NSGSIM_E_INVALID_ARG);
	assert_int_equal(nsgsim_policy_resource(r.policy, 0, 0, &res), NSGSIM_E_INVALID_ARG);
	nsgsim_policy_free(r.policy);
}

/* The distance behind "did you mean": case does not count, a swap of
 * neighbours is one edit. */
static void test_edit_distance(void **state)
{
	(void)state;
	assert_int_equal(ns_edit_distance("vm-web1-nic", "VM-WEB1-NIC"), 0);
	assert_int_equal(ns_edit_distance("vm-web1-nci", "vm-web1-nic"), 1);
	assert_int_equal(ns_edit_distance("vm-web1-nic", "vm-web2-nic"), 1);
	assert_int_equal(ns_edit_distance("kitten", "sitting"), 3);
	assert_int_equal(ns_edit_distance("", "abc"), 3);
	assert_int_equal(ns_edit_distance("ca", "abc"), 3); /* OSA, not Damerau: no edit twice */
	char long_name[NS_EDIT_MAX + 2];
	memset(long_name, 'a', sizeof long_name - 1);
	long_name[sizeof long_name - 1] = '\0';
	assert_true(ns_edit_distance(long_name, "a") == SIZE_MAX);
}

/* nsgsim_locate: the NIC and subnet an address is evaluated at; a subnet
 * without a NIC for an address no ipConfiguration holds; nothing outside. */
/* A NIC by its macAddress, as flow logs name it: separators and case do not
 * matter; a malformed macAddress is an error at its pointer. */
static void test_nic_by_mac(void **state)
{
	(void)state;
	const char *env = "[{\"id\": \"" RG "/networkInterfaces/nic1\", \"name\": \"nic1\", "
	                  "\"type\": \"Microsoft.Network/networkInterfaces\", \"properties\": "
	                  "{\"macAddress\": \"00-0d-3A-F8-78-56\"}}]";
	loaded r = load(env);
	assert_int_equal(r.rc, 0);
	static const char *const same[] = {"000D3AF87856", "00:0D:3A:F8:78:56", "000d3af87856",
	                                   "00-0D-3A-F8-78-56"};
	for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
		assert_string_equal(nsgsim_nic_by_mac(r.policy, same[i]),
		                    RG "/networkInterfaces/nic1");
	assert_null(nsgsim_nic_by_mac(r.policy, "000D3AF87857"));
	assert_null(nsgsim_nic_by_mac(r.policy, "000D3AF8785600"));
	assert_null(nsgsim_nic_by_mac(r.policy, "000D3AF878"));
	assert_null(nsgsim_nic_by_mac(NULL, "000D3AF87856"));
	nsgsim_policy_free(r.policy);
	loaded bad = load("{\"id\": \"" RG "/networkInterfaces/nic1\", \"type\": "
	                  "\"Microsoft.Network/networkInterfaces\", \"properties\": "
	                  "{\"macAddress\": \"00-0D-3A-F8-78\"}}");
	assert_int_equal(bad.rc, NSGSIM_E_SHAPE);
	assert_string_equal(bad.err.pointer, "/properties/macAddress");
}

static void test_locate(void **state)
{
	(void)state;
	const char *env =
	        "[{\"id\": \"" VNET_ID "\", \"name\": \"vnet1\", \"type\": "
	        "\"Microsoft.Network/virtualNetworks\", \"properties\": {\"addressSpace\": "
	        "{\"addressPrefixes\": [\"10.0.0.0/16\"]}, \"subnets\": [{\"name\": \"s1\", "
	        "\"properties\": {\"addressPrefix\": \"10.0.1.0/24\"}}]}}, {\"id\": \"" RG
	        "/networkInterfaces/nic1\", \"name\": \"nic1\", \"type\": "
	        "\"Microsoft.Network/networkInterfaces\", \"properties\": {\"ipConfigurations\": "
	        "[{\"name\": \"c\", \"properties\": {\"privateIPAddress\": \"10.0.1.4\", "
	        "\"subnet\": {\"id\": \"" VNET_ID "/subnets/s1\"}}}]}}]";
	loaded r = load(env);
	assert_int_equal(r.rc, 0);
	nsgsim_location loc;
	nsgsim_ip ip = {.family = 4, .bytes = {10, 0, 1, 4}};
	assert_int_equal(nsgsim_locate(r.policy, &ip, &loc), 0);
	assert_string_equal(loc.nic_name, "nic1");
	assert_string_equal(loc.nic, RG "/networkInterfaces/nic1");
	assert_string_equal(loc.subnet_name, "s1");
	assert_int_equal(loc.ambiguous, 0);
	ip.bytes[3] = 44; /* in s1, no NIC's */
	assert_int_equal(nsgsim_locate(r.policy, &ip, &loc), 0);
	assert_null(loc.nic);
	assert_string_equal(loc.subnet, VNET_ID "/subnets/s1");
	ip.bytes[2] = 9; /* in the VNet's space, in no subnet: external */
	assert_int_equal(nsgsim_locate(r.policy, &ip, &loc), 0);
	assert_null(loc.nic);
	assert_null(loc.subnet);
	ip.family = 5;
	assert_int_equal(nsgsim_locate(r.policy, &ip, &loc), NSGSIM_E_INVALID_ARG);
	assert_int_equal(nsgsim_locate(NULL, &ip, &loc), NSGSIM_E_INVALID_ARG);
	nsgsim_policy_free(r.policy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_error_table),
	        cmocka_unit_test(test_prefix_parser_matches_inet_pton),
	        cmocka_unit_test(test_shapes_load_the_same),
	        cmocka_unit_test(test_standalone_children),
	        cmocka_unit_test(test_same_id_different_content),
	        cmocka_unit_test(test_unknown_type_is_skipped_with_a_note),
	        cmocka_unit_test(test_ids_compare_case_insensitively),
	        cmocka_unit_test(test_malformed_json_has_line_and_column),
	        cmocka_unit_test(test_document_shape),
	        cmocka_unit_test(test_missing_required_field),
	        cmocka_unit_test(test_nsg_priority_range),
	        cmocka_unit_test(test_nsg_duplicate_priority),
	        cmocka_unit_test(test_address_side_exactly_one),
	        cmocka_unit_test(test_tag_or_star_in_plural),
	        cmocka_unit_test(test_malformed_prefixes),
	        cmocka_unit_test(test_host_bits_name_the_network),
	        cmocka_unit_test(test_malformed_ports),
	        cmocka_unit_test(test_unknown_enums),
	        cmocka_unit_test(test_unknown_service_tag),
	        cmocka_unit_test(test_unevaluated_expression),
	        cmocka_unit_test(test_dangling_reference),
	        cmocka_unit_test(test_asg_members_in_two_vnets),
	        cmocka_unit_test(test_admin_rules),
	        cmocka_unit_test(test_limits_warn),
	        cmocka_unit_test(test_failed_file_rolls_back),
	        cmocka_unit_test(test_failed_file_takes_its_lines),
	        cmocka_unit_test(test_env_directory_and_io_errors),
	        cmocka_unit_test(test_invalid_fixtures),
	        cmocka_unit_test(test_limits),
	        cmocka_unit_test(test_a_million_prefixes),
	        cmocka_unit_test(test_odd_json),
	        cmocka_unit_test(test_resources_by_kind),
	        cmocka_unit_test(test_edit_distance),
	        cmocka_unit_test(test_locate),
	        cmocka_unit_test(test_nic_by_mac),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
