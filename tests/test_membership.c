/* Network group membership by Azure Policy (lib/parse/load_policy.c,
 * lib/compile/membership.c): the trace names the membership, a group with
 * an assigned policy is not "empty", an unassigned definition adds nobody,
 * the ARM template shape loads, and bad definitions are refused with their
 * code and JSON pointer.  The flow table of each operator is
 * fixtures/semantics/t27_policy_network_groups. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nsgsim.h"

#define FIX  "fixtures/semantics/t27_policy_network_groups/env"
#define SUB  "/subscriptions/00000000-0000-0000-0000-000000000000"
#define MGR  SUB "/resourceGroups/rg/providers/Microsoft.Network/networkManagers/mgr"
#define DEFS SUB "/providers/Microsoft.Authorization/policyDefinitions/"

typedef struct loaded {
	int rc;
	nsgsim_error err;
	nsgsim_policy *policy;
} loaded;

/* The fixture's directory (when dir) and one more buffer. */
static loaded load(bool dir, const char *extra)
{
	loaded r = {0};
	nsgsim_loader *l = nsgsim_loader_new();
	assert_non_null(l);
	if (dir)
		r.rc = nsgsim_loader_add_env(l, FIX, &r.err);
	if (r.rc == 0 && extra)
		r.rc = nsgsim_loader_add_env_buffer(l, "extra.json", extra, strlen(extra), &r.err);
	if (r.rc == 0)
		r.rc = nsgsim_compile(l, &r.policy, &r.err);
	nsgsim_loader_free(l);
	return r;
}

static void eval(const nsgsim_policy *p, const char *flow, nsgsim_result *out)
{
	nsgsim_flow f;
	nsgsim_error err;
	assert_int_equal(nsgsim_flow_parse(flow, &f, &err), 0);
	assert_int_equal(nsgsim_eval(p, &f, out, &err), 0);
}

static size_t count_notes(const nsgsim_policy *p, const char *part)
{
	size_t k = 0;
	for (size_t i = 0; i < nsgsim_policy_note_count(p); i++) {
		nsgsim_note n;
		assert_int_equal(nsgsim_policy_note(p, i, &n), 0);
		if (strstr(n.message, part))
			k++;
	}
	return k;
}

static bool has_note(const nsgsim_policy *p, const char *part)
{
	return count_notes(p, part) > 0;
}

static void test_trace_names_the_membership(void **state)
{
	(void)state;
	loaded r = load(true, NULL);
	assert_int_equal(r.rc, 0);
	nsgsim_result res;
	eval(r.policy, "tcp 52.1.2.3:50000 10.1.0.4:1001", &res);
	assert_int_equal(res.verdict, NSGSIM_DENY);
	const nsgsim_layer_result *l = &res.sides[0].layers[0];
	assert_int_equal(l->layer, NSGSIM_LAYER_ADMIN);
	assert_string_equal(l->member_kind, "policy");
	assert_string_equal(l->member_group, MGR "/networkGroups/Equals");
	assert_string_equal(l->member_by, DEFS "ng-equals");
	assert_string_equal(l->member_assignment,
	                    SUB "/providers/Microsoft.Authorization/policyAssignments/ng-equals");
	eval(r.policy, "tcp 52.1.2.3:50000 10.6.0.4:1012", &res);
	l = &res.sides[0].layers[0];
	assert_string_equal(l->member_kind, "static");
	assert_string_equal(l->member_by, MGR "/networkGroups/Static/staticMembers/sm1");
	assert_null(l->member_assignment);
	/* No assumption about unknown members: every group has a member or a policy. */
	assert_false(res.assumptions & NSGSIM_ASSUME_EMPTY_NETWORK_GROUP);
	/* The JSON explanation carries it too. */
	nsgsim_flow f;
	assert_int_equal(nsgsim_flow_parse("tcp 52.1.2.3:50000 10.3.0.4:1007", &f, NULL), 0);
	eval(r.policy, "tcp 52.1.2.3:50000 10.3.0.4:1007", &res);
	char *json = NULL;
	assert_int_equal(
	        nsgsim_result_render(r.policy, &f, &res, NSGSIM_FORMAT_JSON, 0, &json, NULL), 0);
	assert_non_null(strstr(json, "\"membership\": {\"networkGroup\": \"" MGR
	                             "/networkGroups/In\", \"kind\": \"policy\", "
	                             "\"policyDefinition\": \"" DEFS "ng-in\""));
	nsgsim_free(json);
	nsgsim_policy_free(r.policy);
}

/* A VNet, a manager, a group used by a Deny rule, and what is given. */
#define BASE(more)                                                                                 \
	"[{\"id\": \"" SUB "/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v1\", " \
	"\"type\": \"Microsoft.Network/virtualNetworks\", \"tags\": {\"env\": \"prod\"}, "         \
	"\"properties\": {\"addressSpace\": {\"addressPrefixes\": [\"10.9.0.0/16\"]}, "            \
	"\"subnets\": [{\"name\": \"s\", \"properties\": {\"addressPrefix\": "                     \
	"\"10.9.0.0/24\"}}]}},"                                                                    \
	"{\"id\": \"" MGR "\", \"type\": \"Microsoft.Network/networkManagers\", \"properties\": "  \
	"{\"networkManagerScopes\": {\"subscriptions\": [\"" SUB "\"]}}},"                         \
	"{\"id\": \"" MGR "/networkGroups/g\", \"type\": "                                         \
	"\"Microsoft.Network/networkManagers/networkGroups\"},"                                    \
	"{\"id\": \"" MGR "/securityAdminConfigurations/c\", \"type\": "                           \
	"\"Microsoft.Network/networkManagers/securityAdminConfigurations\"},"                      \
	"{\"id\": \"" MGR "/securityAdminConfigurations/c/ruleCollections/rc\", \"type\": "        \
	"\"Microsoft.Network/networkManagers/securityAdminConfigurations/ruleCollections\", "      \
	"\"appliesToGroups\": [{\"networkGroupId\": \"" MGR "/networkGroups/g\"}]},"               \
	"{\"id\": \"" MGR "/securityAdminConfigurations/c/ruleCollections/rc/rules/d\", "          \
	"\"type\": "                                                                               \
	"\"Microsoft.Network/networkManagers/securityAdminConfigurations/ruleCollections/"         \
	"rules\", "                                                                                \
	"\"kind\": \"Custom\", \"protocol\": \"Tcp\", \"access\": \"Deny\", \"priority\": 1, "     \
	"\"direction\": \"Inbound\", \"destinationPortRanges\": [\"22\"]}" more "]"

/* A definition (flattened) whose condition is cond. */
#define DEF(cond, params)                                                                          \
	",{\"id\": \"" DEFS "d\", \"name\": \"d\", \"type\": "                                     \
	"\"Microsoft.Authorization/policyDefinitions\", \"mode\": \"Microsoft.Network.Data\", "    \
	"\"parameters\": {" params "}, \"policyRule\": {\"if\": " cond ", \"then\": {\"effect\": " \
	"\"addToNetworkGroup\", \"details\": {\"networkGroupId\": \"" MGR "/networkGroups/g\"}}}}"
#define ASG(params)                                                                                \
	",{\"id\": \"" SUB "/providers/Microsoft.Authorization/policyAssignments/a\", \"type\": "  \
	"\"Microsoft.Authorization/policyAssignments\", \"policyDefinitionId\": \"" DEFS "d\", "   \
	"\"scope\": \"" SUB "\", \"parameters\": {" params "}}"

static void test_unassigned_definition_adds_nobody(void **state)
{
	(void)state;
	/* The same definition twice (two listings of it): one warning. */
	loaded r = load(false, BASE(DEF("{\"field\": \"name\", \"equals\": \"v1\"}", "")
	                                    DEF("{\"field\": \"name\", \"equals\": \"v1\"}", "")));
	assert_int_equal(r.rc, 0);
	assert_int_equal(count_notes(r.policy, "has no assignment in the input"), 1);
	assert_true(has_note(r.policy, "no static members and no Azure Policy"));
	nsgsim_result res;
	eval(r.policy, "tcp 52.1.2.3:50000 10.9.0.4:22", &res);
	assert_int_equal(res.verdict, NSGSIM_ALLOW);
	assert_true(res.assumptions & NSGSIM_ASSUME_EMPTY_NETWORK_GROUP);
	nsgsim_policy_free(r.policy);
}

static void test_assigned_policy_that_matches_nobody_is_not_empty(void **state)
{
	(void)state;
	loaded r =
	        load(false, BASE(DEF("{\"field\": \"name\", \"equals\": \"other\"}", "") ASG("")));
	assert_int_equal(r.rc, 0);
	assert_false(has_note(r.policy, "no static members and no Azure Policy"));
	nsgsim_result res;
	eval(r.policy, "tcp 52.1.2.3:50000 10.9.0.4:22", &res);
	assert_int_equal(res.verdict, NSGSIM_ALLOW);
	assert_false(res.assumptions & NSGSIM_ASSUME_EMPTY_NETWORK_GROUP);
	nsgsim_policy_free(r.policy);
	/* The same with a parameter the assignment sets to the VNet's tag value. */
	r = load(false, BASE(DEF("{\"field\": \"tags['ENV']\", \"equals\": \"[parameters('e')]\"}",
	                         "\"e\": {\"type\": \"String\", \"defaultValue\": \"dev\"}")
	                             ASG("\"e\": {\"value\": \"PROD\"}")));
	assert_int_equal(r.rc, 0);
	eval(r.policy, "tcp 52.1.2.3:50000 10.9.0.4:22", &res);
	assert_int_equal(res.verdict, NSGSIM_DENY);
	assert_string_equal(res.sides[0].layers[0].member_kind, "policy");
	nsgsim_policy_free(r.policy);
}

static void test_arm_template_shape(void **state)
{
	(void)state;
	/* A template deploys both; "[[" escapes the definition's own expression. */
	const char *tpl =
	        "{\"$schema\": \"https://schema.management.azure.com/schemas/2019-04-01/"
	        "deploymentTemplate.json#\", \"contentVersion\": \"1.0.0.0\", \"resources\": ["
	        "{\"type\": \"Microsoft.Authorization/policyDefinitions\", \"apiVersion\": "
	        "\"2021-06-01\", \"name\": \"d\", \"properties\": {\"mode\": "
	        "\"Microsoft.Network.Data\", \"parameters\": {\"e\": {\"type\": \"String\"}}, "
	        "\"policyRule\": {\"if\": {\"allOf\": [{\"field\": \"type\", \"equals\": "
	        "\"Microsoft.Network/virtualNetworks\"}, {\"field\": \"tags.env\", \"equals\": "
	        "\"[[parameters('e')]\"}]}, \"then\": {\"effect\": \"addToNetworkGroup\", "
	        "\"details\": {\"networkGroupId\": \"" MGR "/networkGroups/g\"}}}}},"
	        "{\"type\": \"Microsoft.Authorization/policyAssignments\", \"apiVersion\": "
	        "\"2022-06-01\", \"name\": \"a\", \"properties\": {\"policyDefinitionId\": "
	        "\"[resourceId('Microsoft.Authorization/policyDefinitions', 'd')]\", "
	        "\"parameters\": {\"e\": {\"value\": \"prod\"}}}}]}";
	nsgsim_loader *l = nsgsim_loader_new();
	nsgsim_error err;
	const char *base = BASE("");
	assert_int_equal(nsgsim_loader_add_env_buffer(l, "base.json", base, strlen(base), &err), 0);
	/* Deployed into the VNet's resource group, the assignment covers it:
	 * its scope is the deployment's (the part of its id before the provider). */
	assert_int_equal(nsgsim_loader_set_deployment(l, NULL, "rg", NULL), 0);
	int rc = nsgsim_loader_add_env_buffer(l, "tpl.json", tpl, strlen(tpl), &err);
	if (rc != 0)
		fail_msg("%s %s", err.pointer, err.message);
	nsgsim_policy *p;
	rc = nsgsim_compile(l, &p, &err);
	if (rc != 0)
		fail_msg("%s %s", err.pointer, err.message);
	nsgsim_loader_free(l);
	nsgsim_result res;
	eval(p, "tcp 52.1.2.3:50000 10.9.0.4:22", &res);
	assert_int_equal(res.verdict, NSGSIM_DENY);
	assert_string_equal(res.sides[0].layers[0].member_kind, "policy");
	nsgsim_policy_free(p);
}

/* azurerm_policy_definition (policy_rule and parameters as JSON text) and
 * azurerm_subscription_policy_assignment in a Terraform state. */
static void test_terraform_state(void **state)
{
	(void)state;
	nsgsim_loader *l = nsgsim_loader_new();
	nsgsim_error err;
	nsgsim_policy *p;
	assert_int_equal(nsgsim_loader_add_env(l, "fixtures/terraform/policy/state.json", &err), 0);
	int rc = nsgsim_compile(l, &p, &err);
	if (rc != 0)
		fail_msg("%s %s", err.pointer, err.message);
	nsgsim_loader_free(l);
	nsgsim_result res;
	eval(p, "tcp 52.1.2.3:50000 10.1.0.5:22", &res);
	assert_int_equal(res.verdict, NSGSIM_DENY);
	assert_string_equal(res.sides[0].layers[0].member_kind, "policy");
	assert_string_equal(res.sides[0].layers[0].member_by,
	                    "/subscriptions/11111111-2222-3333-4444-555555555555/providers/"
	                    "Microsoft.Authorization/policyDefinitions/ng-prod-members");
	eval(p, "tcp 52.1.2.3:50000 10.2.0.5:22", &res); /* tag env=dev: not a member */
	assert_int_equal(res.verdict, NSGSIM_ALLOW);
	nsgsim_policy_free(p);
}

static const struct bad {
	const char *what, *doc;
	int code;
	const char *pointer, *message;
} bad[] = {
        {"unsupported operator",
         BASE(DEF("{\"allOf\": [{\"field\": \"name\", \"equals\": \"x\"}, {\"field\": \"name\", "
                  "\"match\": \"x\"}]}",
                  "") ASG("")),
         NSGSIM_E_UNSUPPORTED, "/6/policyRule/if/allOf/1/match", "'match' is not supported"},
        {"unsupported field",
         BASE(DEF("{\"field\": \"Microsoft.Network/virtualNetworks/addressSpace\", "
                  "\"exists\": true}",
                  "") ASG("")),
         NSGSIM_E_UNSUPPORTED, "/6/policyRule/if/field", "is not supported"},
        {"in takes an array", BASE(DEF("{\"field\": \"name\", \"in\": \"v1\"}", "") ASG("")),
         NSGSIM_E_SHAPE, "/6/policyRule/if/in", "an array of values"},
        {"two wildcards", BASE(DEF("{\"field\": \"name\", \"like\": \"*a*\"}", "") ASG("")),
         NSGSIM_E_SHAPE, "/6/policyRule/if/like", "at most one '*'"},
        {"exists takes a bool", BASE(DEF("{\"field\": \"name\", \"exists\": \"yes\"}", "")),
         NSGSIM_E_SHAPE, "/6/policyRule/if/exists", "true or false"},
        {"no operator", BASE(DEF("{\"not\": {\"field\": \"name\"}}", "")), NSGSIM_E_MISSING_FIELD,
         "/6/policyRule/if/not", "has no operator"},
        {"two operators",
         BASE(DEF("{\"field\": \"name\", \"equals\": \"a\", \"like\": \"b\"}", "")), NSGSIM_E_SHAPE,
         "/6/policyRule/if/like", "one operator"},
        {"subscription name is not in the input",
         BASE(DEF("{\"value\": \"[subscription().displayName]\", \"equals\": \"x\"}", "")),
         NSGSIM_E_UNEVALUATED, "/6/policyRule/if/value", "is not in the input"},
        {"anyOf takes an array", BASE(DEF("{\"anyOf\": {\"field\": \"name\"}}", "")),
         NSGSIM_E_SHAPE, "/6/policyRule/if/anyOf", "an array of conditions"},
        {"parameter without a value",
         BASE(DEF("{\"field\": \"name\", \"equals\": \"[parameters('n')]\"}",
                  "\"n\": {\"type\": \"String\"}") ASG("")),
         NSGSIM_E_UNEVALUATED, "/6/policyRule/if/equals", "parameter 'n'"},
        {"a group not in the input",
         "[{\"id\": \"" DEFS "d\", \"type\": \"Microsoft.Authorization/policyDefinitions\", "
         "\"mode\": \"Microsoft.Network.Data\", \"policyRule\": {\"if\": {\"field\": \"name\", "
         "\"equals\": \"x\"}, \"then\": {\"effect\": \"addToNetworkGroup\", \"details\": "
         "{\"networkGroupId\": \"" MGR "/networkGroups/nope\"}}}}]",
         NSGSIM_E_DANGLING_REF, "/0/policyRule/then/details/networkGroupId", "nope"},
        {"no networkGroupId",
         "[{\"id\": \"" DEFS "d\", \"type\": \"Microsoft.Authorization/policyDefinitions\", "
         "\"properties\": {\"mode\": \"Microsoft.Network.Data\", \"policyRule\": {\"if\": "
         "{\"field\": \"name\", \"equals\": \"x\"}, \"then\": {\"effect\": "
         "\"addToNetworkGroup\", \"details\": {}}}}}]",
         NSGSIM_E_MISSING_FIELD, "/0/properties/policyRule/then/details/networkGroupId",
         "networkGroupId"},
        {"assignment without a definition id",
         "{\"value\": [{\"id\": \"" SUB "/providers/Microsoft.Authorization/policyAssignments/a\", "
         "\"type\": \"Microsoft.Authorization/policyAssignments\", \"properties\": {}}]}",
         NSGSIM_E_MISSING_FIELD, "/value/0/properties/policyDefinitionId", "policyDefinitionId"},
};

static void test_bad_input(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		loaded r = load(false, bad[i].doc);
		if (r.rc != bad[i].code || strcmp(r.err.pointer, bad[i].pointer) != 0 ||
		    !strstr(r.err.message, bad[i].message))
			fail_msg("%s: got %s at '%s': %s", bad[i].what, nsgsim_error_name(r.rc),
			         r.err.pointer, r.err.message);
		assert_string_equal(r.err.file, "extra.json");
		nsgsim_policy_free(r.policy);
	}
}

static void test_other_definitions_are_skipped(void **state)
{
	(void)state;
	loaded r = load(false, "[{\"id\": \"" DEFS "t\", \"type\": "
	                       "\"Microsoft.Authorization/policyDefinitions\", \"mode\": \"All\", "
	                       "\"policyRule\": {\"if\": {\"field\": \"x\", \"match\": \"y\"}, "
	                       "\"then\": {\"effect\": \"deny\"}}}]");
	assert_int_equal(r.rc, 0);
	assert_true(has_note(r.policy, "does not add to a network group"));
	nsgsim_policy_free(r.policy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_trace_names_the_membership),
	        cmocka_unit_test(test_unassigned_definition_adds_nobody),
	        cmocka_unit_test(test_assigned_policy_that_matches_nobody_is_not_empty),
	        cmocka_unit_test(test_arm_template_shape),
	        cmocka_unit_test(test_terraform_state),
	        cmocka_unit_test(test_bad_input),
	        cmocka_unit_test(test_other_definitions_are_skipped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
