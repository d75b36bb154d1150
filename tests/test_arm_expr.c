/* Tests for the ARM template expression evaluator (lib/parse/arm_expr*.c,
 * arm_func_*.c): one table row per case -- the expression, the JSON it
 * must give (or "?origin" for an unknown), or the error code and a part of
 * the message.  A fake environment supplies parameters and variables from
 * JSON, copyIndex() and two user-defined functions.
 * uniqueString and guid: tests/test_arm_hash.c. */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nsgsim.h"
#include "parse/arm_expr.h"

static const char params_json[] =
        "{\"name\":\"Web01\",\"count\":3,\"flag\":true,\"list\":[1,2,3],"
        "\"obj\":{\"Alpha\":1,\"beta\":{\"gamma\":\"g\"}},\"empty\":\"\",\"nul\":null,"
        "\"prefixes\":[\"10.0.0.0/24\",\"10.0.1.0/24\"]}";
static const char vars_json[] = "{\"vnet\":\"hub-vnet\",\"rules\":[{\"name\":\"r1\","
                                "\"priority\":100},{\"name\":\"r2\",\"priority\":200}]}";
static const char funcs_json[] =
        "[{\"namespace\":\"contoso\",\"members\":{"
        "\"uniqueName\":{\"parameters\":[{\"name\":\"namePrefix\",\"type\":\"string\"}],"
        "\"output\":{\"type\":\"string\",\"value\":\"[concat(toLower(parameters('namePrefix')),"
        " 'x')]\"}},"
        "\"pair\":{\"parameters\":[{\"name\":\"a\",\"type\":\"int\"},{\"name\":\"b\","
        "\"type\":\"int\"}],\"output\":{\"type\":\"object\",\"value\":{\"sum\":\"[add("
        "parameters('a'), parameters('b'))]\",\"lit\":\"[[x]\"}}},"
        "\"usesVar\":{\"parameters\":[],\"output\":{\"type\":\"string\",\"value\":"
        "\"[variables('vnet')]\"}},"
        "\"loop\":{\"parameters\":[],\"output\":{\"type\":\"string\",\"value\":"
        "\"[contoso.loop()]\"}}}}]";

typedef struct fake {
	cJSON *params, *vars, *funcs;
	uint64_t budget;
} fake;

static int lookup(cJSON *from, const char *what, const char *name, cJSON **out, ns_arm_error *err)
{
	cJSON *v = cJSON_GetObjectItem(from, name);
	if (!v) {
		snprintf(err->msg, sizeof err->msg, "no %s '%s'", what, name);
		return NSGSIM_E_SHAPE;
	}
	*out = cJSON_Duplicate(v, true);
	return 0;
}

static int fake_param(void *user, const char *name, cJSON **out, ns_arm_error *err)
{
	return lookup(((fake *)user)->params, "parameter", name, out, err);
}

static int fake_var(void *user, const char *name, cJSON **out, ns_arm_error *err)
{
	return lookup(((fake *)user)->vars, "variable", name, out, err);
}

static int fake_copy(void *user, const char *loop, int64_t *out, ns_arm_error *err)
{
	(void)user;
	if (!loop || strcasecmp(loop, "loopA") == 0) {
		*out = loop ? 7 : 3;
		return 0;
	}
	snprintf(err->msg, sizeof err->msg, "no copy loop '%s'", loop);
	return NSGSIM_E_SHAPE;
}

static fake F;
static ns_arm_env E;

static int setup(void **state)
{
	(void)state;
	F.params = cJSON_Parse(params_json);
	F.vars = cJSON_Parse(vars_json);
	F.funcs = cJSON_Parse(funcs_json);
	assert_non_null(F.params);
	assert_non_null(F.vars);
	assert_non_null(F.funcs);
	E = (ns_arm_env){.user = &F,
	                 .parameter = fake_param,
	                 .variable = fake_var,
	                 .copy_index = fake_copy,
	                 .functions = F.funcs,
	                 .subscription_id = "11111111-2222-3333-4444-555555555555",
	                 .resource_group = "rg1",
	                 .location = "westeurope",
	                 .deployment_name = "dep1",
	                 .budget = &F.budget,
	                 .max_string = 4096};
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cJSON_Delete(F.params);
	cJSON_Delete(F.vars);
	cJSON_Delete(F.funcs);
	return 0;
}

typedef struct row {
	const char *expr;
	const char *want; /* JSON; "?..." an unknown with that origin; NULL an error */
	int code;         /* for an error */
	const char *msg;  /* part of the error message */
} row;

#define OK(e, w)                                                                                   \
	{                                                                                          \
		e, w, 0, NULL                                                                      \
	}
#define ERR(e, code, m)                                                                            \
	{                                                                                          \
		e, NULL, NSGSIM_E_##code, m                                                        \
	}

static void check_row(const row *r)
{
	cJSON *out = NULL;
	ns_arm_error err;
	F.budget = 100000;
	int rc = ns_arm_eval(&E, r->expr, &out, &err);
	if (!r->want) {
		if (rc != r->code || !strstr(err.msg, r->msg))
			fail_msg("%s: expected %s \"%s\", got %d \"%s\"", r->expr,
			         nsgsim_error_name(r->code), r->msg, rc, err.msg);
		assert_null(out);
		assert_true(err.offset <= strlen(r->expr));
		return;
	}
	if (rc != 0)
		fail_msg("%s: failed %s at %zu: %s", r->expr, nsgsim_error_name(rc), err.offset,
		         err.msg);
	if (r->want[0] == '?') {
		if (!ns_arm_is_unknown(out) || strcmp(out->valuestring, r->want + 1) != 0)
			fail_msg("%s: expected unknown '%s', got %s", r->expr, r->want + 1,
			         ns_arm_is_unknown(out) ? out->valuestring : "a known value");
	} else {
		cJSON *want = cJSON_Parse(r->want);
		assert_non_null(want);
		if (!cJSON_Compare(out, want, true)) {
			char *got = cJSON_PrintUnformatted(out);
			fail_msg("%s: expected %s, got %s", r->expr, r->want, got);
		}
		cJSON_Delete(want);
	}
	cJSON_Delete(out);
}

static void run_rows(const row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		check_row(&rows[i]);
}

#define RUN(rows) run_rows(rows, sizeof rows / sizeof rows[0])

static void test_syntax(void **state)
{
	(void)state;
	static const row rows[] = {
	        OK("plain", "\"plain\""),
	        OK("[[literal]", "\"[literal]\""),
	        OK("[[x", "\"[[x\""),
	        OK("[]x", "\"[]x\""),
	        OK("['it''s']", "\"it's\""),
	        OK("['']", "\"\""),
	        OK("[  concat ( 'a' , 'b' )  ]", "\"ab\""),
	        OK("[CONCAT('a','b')]", "\"ab\""),
	        OK("[-42]", "-42"),
	        OK("[9223372036854775807]", "9223372036854775807"),
	        OK("[true]", "true"),
	        OK("[null]", "null"),
	        OK("[parameters('obj').alpha]", "1"),
	        OK("[parameters('obj').BETA.gamma]", "\"g\""),
	        OK("[parameters('obj')['beta']['gamma']]", "\"g\""),
	        OK("[parameters('list')[1]]", "2"),
	        OK("[variables('rules')[1].priority]", "200"),
	        OK("[resourceGroup().location]", "\"westeurope\""),
	        OK("[split('a,b', ',')[0]]", "\"a\""),
	        ERR("[concat('a']", SHAPE, "expected ',' or ')'"),
	        ERR("['abc]", SHAPE, "unterminated string"),
	        ERR("[foo('a')]", SHAPE, "unknown function 'foo'"),
	        ERR("[concat]", SHAPE, "expected '('"),
	        ERR("[1.5]", SHAPE, "no decimals"),
	        ERR("[99999999999999999999]", SHAPE, "64-bit"),
	        ERR("[- 1]", SHAPE, "digit"),
	        ERR("[concat('a') x]", SHAPE, "unexpected text"),
	        ERR("[]", SHAPE, "expected a function call"),
	        ERR("[parameters('obj').]", SHAPE, "property name"),
	        ERR("[parameters('list')[1]", SHAPE, "expected ']'"),
	        ERR("[parameters('list')[5]]", SHAPE, "out of range"),
	        ERR("[parameters('list')['a']]", SHAPE, "array index is a string"),
	        ERR("[parameters('obj').missing]", SHAPE, "no property 'missing'"),
	        ERR("[parameters('name').x]", SHAPE, "expected an object"),
	        ERR("[parameters('nope')]", SHAPE, "no parameter 'nope'"),
	        ERR("[variables('nope')]", SHAPE, "no variable 'nope'"),
	        ERR("[concat(, 'a')]", SHAPE, "expected a function call"),
	        ERR("[@]", SHAPE, "expected a function call"),
	};
	RUN(rows);
}

static void test_string_functions(void **state)
{
	(void)state;
	static const row rows[] = {
	        OK("[concat('a', 1, true, parameters('nul'))]", "\"a1true\""),
	        OK("[concat(parameters('list'), createArray(4))]", "[1,2,3,4]"),
	        ERR("[concat('a', parameters('obj'))]", SHAPE,
	            "concat: argument 2 is an object; expected strings or arrays"),
	        ERR("[concat(parameters('list'), 'a')]", SHAPE, "argument 2 is a string"),
	        OK("[toLower('AbC')]", "\"abc\""),
	        OK("[toUpper('AbC')]", "\"ABC\""),
	        ERR("[toLower(1)]", SHAPE, "toLower: argument 1 is an integer; expected a string"),
	        OK("[trim('  a b \t')]", "\"a b\""),
	        OK("[startsWith('abcdef', 'AB')]", "true"),
	        OK("[endsWith('abcdef', 'EF')]", "true"),
	        OK("[endsWith('ab', 'abc')]", "false"),
	        OK("[indexOf('abcdef', 'CD')]", "2"),
	        OK("[indexOf('abcdef', 'z')]", "-1"),
	        OK("[lastIndexOf('abcabc', 'b')]", "4"),
	        OK("[indexOf(createArray('a', 'b'), 'b')]", "1"),
	        OK("[substring('hello', 1, 3)]", "\"ell\""),
	        OK("[substring('hello', 2)]", "\"llo\""),
	        OK("[substring('hello', 5, 0)]", "\"\""),
	        ERR("[substring('hello', 4, 2)]", SHAPE, "outside the string"),
	        ERR("[substring('hello', -1)]", SHAPE, "outside the string"),
	        ERR("[substring('hello', 0, -1)]", SHAPE, "outside the string"),
	        ERR("[substring('hello')]", SHAPE, "substring: takes 2 to 3 arguments, got 1"),
	        OK("[padLeft('7', 3, '0')]", "\"007\""),
	        OK("[padLeft(123, 2)]", "\"123\""),
	        OK("[padLeft('ab', 4)]", "\"  ab\""),
	        ERR("[padLeft('a', 3, 'xy')]", SHAPE, "one character"),
	        ERR("[padLeft('a', 100000, 'x')]", LIMIT, "at most 4096"),
	        OK("[replace('a-b-c', '-', '+')]", "\"a+b+c\""),
	        OK("[replace('aaa', 'a', '')]", "\"\""),
	        ERR("[replace('a', '', 'b')]", SHAPE, "empty"),
	        OK("[split('a,b;c', createArray(',', ';'))]", "[\"a\",\"b\",\"c\"]"),
	        OK("[split('', ',')]", "[\"\"]"),
	        OK("[split('a,,b', ',')]", "[\"a\",\"\",\"b\"]"),
	        ERR("[split('a', 1)]", SHAPE, "a string or an array of strings"),
	        OK("[base64('one, two, three')]", "\"b25lLCB0d28sIHRocmVl\""),
	        OK("[base64ToString('b25lLCB0d28sIHRocmVl')]", "\"one, two, three\""),
	        OK("[base64('ab')]", "\"YWI=\""),
	        ERR("[base64ToString('abc')]", SHAPE, "not valid base64"),
	        OK("[base64ToJson('eyJhIjoxfQ==')]", "{\"a\":1}"),
	        OK("[dataUri('Hello')]", "\"data:text/plain;charset=utf8;base64,SGVsbG8=\""),
	        OK("[dataUriToString('data:;base64,SGVsbG8sIFdvcmxkIQ==')]", "\"Hello, World!\""),
	        OK("[uriComponent('http://contoso.com/resources/nested/azuredeploy.json')]",
	           "\"http%3A%2F%2Fcontoso.com%2Fresources%2Fnested%2Fazuredeploy.json\""),
	        OK("[uriComponentToString('http%3A%2F%2Fcontoso.com')]", "\"http://contoso.com\""),
	        OK("[uri('http://contoso.org/firstpath', 'myscript.sh')]",
	           "\"http://contoso.org/myscript.sh\""),
	        OK("[uri('http://contoso.org/firstpath/', '/myscript.sh')]",
	           "\"http://contoso.org/firstpath/myscript.sh\""),
	        OK("[uri('http://contoso.org', 'myscript.sh')]",
	           "\"http://contoso.orgmyscript.sh\""),
	        OK("[format('{0}-{1:D3}', 'vm', 7)]", "\"vm-007\""),
	        OK("[format('{0:N0} {0:X} {1}', 12345, true)]", "\"12,345 3039 True\""),
	        OK("[format('{{{0}}}', 'a')]", "\"{a}\""),
	        OK("[format('[{0,4}|{0,-4}]', 'ab')]", "\"[  ab|ab  ]\""),
	        ERR("[format('{1}', 'a')]", SHAPE, "item {1} but only 1 value"),
	        ERR("[format('{0', 'a')]", SHAPE, "expected {index"),
	        ERR("[format('a}', 'a')]", SHAPE, "without its"),
	        OK("[newGuid()]", "?newGuid()"),
	        OK("[utcNow('u')]", "?utcNow('u')"),
	};
	RUN(rows);
}

static void test_array_functions(void **state)
{
	(void)state;
	static const row rows[] = {
	        OK("[array('a')]", "[\"a\"]"),
	        OK("[array(parameters('list'))]", "[1,2,3]"),
	        OK("[createArray()]", "[]"),
	        OK("[createObject('a', 1, 'b', createArray(2))]", "{\"a\":1,\"b\":[2]}"),
	        ERR("[createObject('a')]", SHAPE, "pairs"),
	        ERR("[createObject(1, 2)]", SHAPE, "a string (a key)"),
	        OK("[contains('OneTwo', 'Two')]", "true"),
	        OK("[contains('OneTwo', 'two')]", "false"),
	        OK("[contains(parameters('obj'), 'ALPHA')]", "true"),
	        OK("[contains(parameters('list'), 2)]", "true"),
	        OK("[contains(parameters('list'), '2')]", "false"),
	        ERR("[contains(1, 2)]", SHAPE, "an array, object or string"),
	        OK("[empty('')]", "true"),
	        OK("[empty(parameters('nul'))]", "true"),
	        OK("[empty(createObject())]", "true"),
	        OK("[empty(parameters('list'))]", "false"),
	        ERR("[empty(1)]", SHAPE, "empty: argument 1 is an integer"),
	        OK("[length('héllo')]", "5"),
	        OK("[length(parameters('obj'))]", "2"),
	        OK("[length(parameters('list'))]", "3"),
	        OK("[first(parameters('list'))]", "1"),
	        OK("[last('abc')]", "\"c\""),
	        OK("[first(createArray())]", "null"),
	        OK("[first('')]", "\"\""),
	        OK("[skip(parameters('list'), 2)]", "[3]"),
	        OK("[skip('abc', -1)]", "\"abc\""),
	        OK("[take('abc', 5)]", "\"abc\""),
	        OK("[take(parameters('list'), 2)]", "[1,2]"),
	        ERR("[take(parameters('list'), 'x')]", SHAPE, "argument 2 is a string"),
	        OK("[range(5, 3)]", "[5,6,7]"),
	        OK("[range(0, 0)]", "[]"),
	        ERR("[range(0, 10001)]", SHAPE, "0 to 10000"),
	        ERR("[range(2147483647, 2)]", SHAPE, "2147483647"),
	        OK("[union(createArray(1, 2), createArray(2, 3))]", "[1,2,3]"),
	        OK("[union(createObject('a', 1, 'n', createObject('x', 1)), createObject('b', 2,"
	           " 'n', createObject('y', 2)))]",
	           "{\"a\":1,\"n\":{\"x\":1,\"y\":2},\"b\":2}"),
	        OK("[union(createObject('a', 1), createObject('a', 2))]", "{\"a\":2}"),
	        ERR("[union(createArray(1), createObject())]", SHAPE, "an array like argument 1"),
	        OK("[intersection(createArray(1, 2, 3), createArray(3, 2))]", "[2,3]"),
	        OK("[intersection(createObject('a', 1, 'b', 2), createObject('a', 1, 'b', 3))]",
	           "{\"a\":1}"),
	        OK("[join(createArray('a', 'b', 'c'), '-')]", "\"a-b-c\""),
	        OK("[join(createArray(), '-')]", "\"\""),
	        ERR("[join('a', '-')]", SHAPE, "an array"),
	        OK("[items(createObject('b', 2, 'a', 1))]",
	           "[{\"key\":\"a\",\"value\":1},{\"key\":\"b\",\"value\":2}]"),
	        OK("[objectKeys(createObject('b', 2, 'a', 1))]", "[\"b\",\"a\"]"),
	        OK("[tryGet(parameters('obj'), 'beta', 'gamma')]", "\"g\""),
	        OK("[tryGet(parameters('obj'), 'missing')]", "null"),
	        OK("[tryGet(parameters('list'), 9)]", "null"),
	        OK("[flatten(createArray(createArray(1), createArray(2, 3)))]", "[1,2,3]"),
	        OK("[max(1, 5, 3)]", "5"),
	        OK("[min(parameters('list'))]", "1"),
	        ERR("[max(createArray())]", SHAPE, "empty"),
	        ERR("[max('a')]", SHAPE, "integers or an array of integers"),
	};
	RUN(rows);
}

static void test_logic_functions(void **state)
{
	(void)state;
	static const row rows[] = {
	        OK("[add(1, 2)]", "3"),
	        OK("[sub(1, 5)]", "-4"),
	        OK("[mul(-3, 4)]", "-12"),
	        OK("[div(7, 2)]", "3"),
	        OK("[div(-7, 2)]", "-3"),
	        OK("[mod(7, 3)]", "1"),
	        ERR("[div(1, 0)]", SHAPE, "div: division by zero"),
	        ERR("[mod(1, 0)]", SHAPE, "mod: division by zero"),
	        ERR("[add(4611686018427387904, 4611686018427387904)]", SHAPE, "overflows"),
	        ERR("[mul(4611686018427387904, 2)]", SHAPE, "overflows"),
	        ERR("[sub(-4611686018427387904, 6917529027641081856)]", SHAPE, "overflows"),
	        ERR("[add('1', 2)]", SHAPE, "add: argument 1 is a string; expected an integer"),
	        ERR("[add(1)]", SHAPE, "add: takes 2 arguments, got 1"),
	        OK("[equals('a', 'a')]", "true"),
	        OK("[equals('a', 'A')]", "false"),
	        OK("[equals(1, '1')]", "false"),
	        OK("[equals(createArray(1, createObject('a', 1)), createArray(1, createObject('A', "
	           "1)))]",
	           "true"),
	        OK("[equals(parameters('nul'), null())]", "true"),
	        OK("[greater(2, 1)]", "true"),
	        OK("[greater('b', 'a')]", "true"),
	        OK("[greaterOrEquals(1, 1)]", "true"),
	        OK("[less(1, 2)]", "true"),
	        OK("[lessOrEquals(3, 2)]", "false"),
	        ERR("[less(1, 'a')]", SHAPE, "expected an integer"),
	        OK("[and(true, true, false)]", "false"),
	        OK("[or(false, true)]", "true"),
	        OK("[and(false, reference('x').enabled)]", "false"),
	        OK("[or(true, reference('x').enabled)]", "true"),
	        OK("[and(true, reference('x').enabled)]", "?and(true, reference('x').enabled)"),
	        OK("[and(reference('x').on, false)]", "false"),
	        ERR("[and(true, 1)]", SHAPE, "and: argument 2 is an integer; expected a boolean"),
	        OK("[not(false)]", "true"),
	        ERR("[not('false')]", SHAPE, "expected a boolean"),
	        OK("[if(true, 'a', reference('x').y)]", "\"a\""),
	        OK("[if(false, div(1, 0), 'b')]", "\"b\""),
	        OK("[if(reference('x').on, 'a', 'b')]", "?if(reference('x').on, 'a', 'b')"),
	        ERR("[if('yes', 1, 2)]", SHAPE, "if: argument 1 is a string; expected a boolean"),
	        OK("[coalesce(null(), parameters('nul'), 'c', div(1, 0))]", "\"c\""),
	        OK("[coalesce(null())]", "null"),
	        OK("[bool('TRUE')]", "true"),
	        OK("[bool(0)]", "false"),
	        ERR("[bool('yes')]", SHAPE, "'true'/'false'"),
	        OK("[int('42')]", "42"),
	        OK("[int('-7')]", "-7"),
	        OK("[int(3)]", "3"),
	        ERR("[int('4x')]", SHAPE, "int: argument 1 is a string"),
	        OK("[string(true)]", "\"True\""),
	        OK("[string(12)]", "\"12\""),
	        OK("[string(createObject('a', 1))]", "\"{\\\"a\\\":1}\""),
	        OK("[string(createArray('a'))]", "\"[\\\"a\\\"]\""),
	        OK("[json('{\"a\": [1, null]}')]", "{\"a\":[1,null]}"),
	        OK("[json('null')]", "null"),
	        OK("[json('1.5')]", "1.5"),
	        ERR("[json('{')]", SHAPE, "not valid JSON"),
	        ERR("[add(json('1.5'), 1)]", SHAPE,
	            "add: argument 1 is a decimal number; expected an integer"),
	        ERR("[range(json('1e300'), 1)]", SHAPE, "expected an integer"),
	        OK("[true()]", "true"),
	        OK("[false()]", "false"),
	        OK("[null()]", "null"),
	};
	RUN(rows);
}

static void test_deployment_functions(void **state)
{
	(void)state;
	static const row rows[] = {
	        OK("[parameters('NAME')]", "\"Web01\""),
	        OK("[copyIndex()]", "3"),
	        OK("[copyIndex(1)]", "4"),
	        OK("[copyIndex('loopA')]", "7"),
	        OK("[copyIndex('loopA', 10)]", "17"),
	        ERR("[copyIndex('other')]", SHAPE, "no copy loop 'other'"),
	        ERR("[copyIndex(1, 2)]", SHAPE, "loop name"),
	        OK("[subscription().subscriptionId]", "\"11111111-2222-3333-4444-555555555555\""),
	        OK("[subscription().id]",
	           "\"/subscriptions/11111111-2222-3333-4444-555555555555\""),
	        OK("[resourceGroup().id]", "\"/subscriptions/11111111-2222-3333-4444-555555555555"
	                                   "/resourceGroups/rg1\""),
	        OK("[resourceGroup().name]", "\"rg1\""),
	        OK("[deployment().name]", "\"dep1\""),
	        OK("[deployment().properties.templateLink.uri]",
	           "?deployment().properties.templateLink.uri"),
	        OK("[environment().name]", "\"AzureCloud\""),
	        OK("[environment().suffixes.storage]", "\"core.windows.net\""),
	        OK("[tenant().tenantId]", "\"00000000-0000-0000-0000-000000000000\""),
	        OK("[resourceId('Microsoft.Network/virtualNetworks', 'vnet1')]",
	           "\"/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg1/"
	           "providers/Microsoft.Network/virtualNetworks/vnet1\""),
	        OK("[resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet1', 'sn1')]",
	           "\"/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg1/"
	           "providers/Microsoft.Network/virtualNetworks/vnet1/subnets/sn1\""),
	        OK("[resourceId('otherRg', 'Microsoft.Network/networkSecurityGroups', 'nsg')]",
	           "\"/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/otherRg/"
	           "providers/Microsoft.Network/networkSecurityGroups/nsg\""),
	        OK("[resourceId('sub2', 'rg2', 'Microsoft.Network/publicIPAddresses', 'ip')]",
	           "\"/subscriptions/sub2/resourceGroups/rg2/providers/"
	           "Microsoft.Network/publicIPAddresses/ip\""),
	        OK("[resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet1/sn1')]",
	           "\"/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg1/"
	           "providers/Microsoft.Network/virtualNetworks/vnet1/subnets/sn1\""),
	        OK("[resourceId('Microsoft.Network/virtualNetworks/', 'vnet1')]",
	           "\"/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg1/"
	           "providers/Microsoft.Network/virtualNetworks/vnet1\""),
	        ERR("[resourceId('Microsoft.Network/', 'vnet1')]", SHAPE, "needs 0 name segments"),
	        ERR("[resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet1')]", SHAPE,
	            "needs 2 name segments, got 1"),
	        ERR("[resourceId('a', 'b', 'c', 'Microsoft.Network/x', 'n')]", SHAPE, "at most 2"),
	        ERR("[resourceId('vnet1', 'x')]", SHAPE, "expected a resource type"),
	        ERR("[resourceId(1, 'Microsoft.Network/x')]", SHAPE, "argument 1 is an integer"),
	        OK("[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'r1')]",
	           "\"/subscriptions/11111111-2222-3333-4444-555555555555/providers/"
	           "Microsoft.Authorization/roleDefinitions/r1\""),
	        OK("[subscriptionResourceId('s9', 'Microsoft.Resources/resourceGroups', 'g')]",
	           "\"/subscriptions/s9/providers/Microsoft.Resources/resourceGroups/g\""),
	        OK("[tenantResourceId('Microsoft.Billing/billingAccounts', 'b')]",
	           "\"/providers/Microsoft.Billing/billingAccounts/b\""),
	        OK("[extensionResourceId('/subscriptions/s/resourceGroups/g', "
	           "'Microsoft.Authorization/locks', 'l')]",
	           "\"/subscriptions/s/resourceGroups/g/providers/Microsoft.Authorization/locks/"
	           "l\""),
	        OK("[managementGroupResourceId('mg1', 'Microsoft.Authorization/policyDefinitions',"
	           " 'p')]",
	           "\"/providers/Microsoft.Management/managementGroups/mg1/providers/"
	           "Microsoft.Authorization/policyDefinitions/p\""),
	        OK("[reference('vnet1').outputs.id]", "?reference('vnet1').outputs.id"),
	        OK("[reference(resourceId('Microsoft.Network/publicIPAddresses', 'ip'), "
	           "'2020-01-01').ipAddress]",
	           "?reference(resourceId('Microsoft.Network/publicIPAddresses', 'ip'), "
	           "'2020-01-01').ipAddress"),
	        OK("[listKeys('sa', '2021-01-01').keys[0].value]",
	           "?listKeys('sa', '2021-01-01').keys[0].value"),
	        OK("[concat('x', reference('a').b)]", "?concat('x', reference('a').b)"),
	        OK("[length(reference('a').list)]", "?length(reference('a').list)"),
	        OK("[length(createArray(reference('a')))]", "1"),
	        OK("[equals(createArray(reference('a')), createArray(reference('b')))]",
	           "?equals(createArray(reference('a')), createArray(reference('b')))"),
	        OK("[contains(createArray(reference('a')), 1)]",
	           "?contains(createArray(reference('a')), 1)"),
	        OK("[join(createArray('x', reference('a').n), ',')]",
	           "?join(createArray('x', reference('a').n), ',')"),
	        OK("[string(createObject('k', reference('a')))]",
	           "?string(createObject('k', reference('a')))"),
	        OK("[toObject(createArray(1), lambda('x', reference('a').k))]",
	           "?toObject(createArray(1), lambda('x', reference('a').k))"),
	        OK("[pickZones('Microsoft.Compute', 'virtualMachines', 'westus2')]",
	           "?pickZones('Microsoft.Compute', 'virtualMachines', 'westus2')"),
	        OK("[contoso.uniqueName('ABC')]", "\"abcx\""),
	        OK("[CONTOSO.UNIQUENAME('Q')]", "\"qx\""),
	        OK("[contoso.pair(2, 3)]", "{\"sum\":5,\"lit\":\"[x]\"}"),
	        ERR("[contoso.pair(2)]", SHAPE, "takes 2 arguments, got 1"),
	        ERR("[contoso.usesVar()]", SHAPE,
	            "in contoso.usesVar: a user-defined function cannot read variables"),
	        ERR("[concat('abc', contoso.pair(1, 'x'))]", SHAPE,
	            "in contoso.pair: add: argument 2 is a string"),
	        ERR("[contoso.nothere()]", SHAPE, "not in the template's functions"),
	        ERR("[contoso.loop()]", LIMIT, "nested too deeply"),
	};
	RUN(rows);
}

static void test_lambda_functions(void **state)
{
	(void)state;
	static const row rows[] = {
	        OK("[map(range(0, 3), lambda('i', mul(lambdaVariables('i'), 2)))]", "[0,2,4]"),
	        OK("[map(createArray('a', 'b'), lambda('x', 'i', concat(lambdaVariables('x'), "
	           "string(lambdaVariables('i')))))]",
	           "[\"a0\",\"b1\"]"),
	        OK("[map(variables('rules'), lambda('r', lambdaVariables('r').name))]",
	           "[\"r1\",\"r2\"]"),
	        OK("[filter(parameters('list'), lambda('x', greater(lambdaVariables('x'), 1)))]",
	           "[2,3]"),
	        ERR("[filter(parameters('list'), lambda('x', 1))]", SHAPE, "expected a boolean"),
	        OK("[reduce(parameters('list'), 10, lambda('cur', 'next', add(lambdaVariables("
	           "'cur'), lambdaVariables('next'))))]",
	           "16"),
	        OK("[sort(createArray(3, 1, 2), lambda('a', 'b', less(lambdaVariables('a'), "
	           "lambdaVariables('b'))))]",
	           "[1,2,3]"),
	        OK("[sort(createArray(), lambda('a', 'b', true()))]", "[]"),
	        OK("[toObject(variables('rules'), lambda('r', lambdaVariables('r').name))]",
	           "{\"r1\":{\"name\":\"r1\",\"priority\":100},\"r2\":{\"name\":\"r2\","
	           "\"priority\":200}}"),
	        OK("[toObject(variables('rules'), lambda('r', lambdaVariables('r').name), "
	           "lambda('r', lambdaVariables('r').priority))]",
	           "{\"r1\":100,\"r2\":200}"),
	        OK("[mapValues(createObject('a', 1), lambda('v', add(lambdaVariables('v'), 1)))]",
	           "{\"a\":2}"),
	        OK("[groupBy(createArray('ab', 'ac', 'b'), lambda('s', "
	           "first(lambdaVariables('s'))))]",
	           "{\"a\":[\"ab\",\"ac\"],\"b\":[\"b\"]}"),
	        OK("[map(createArray(1), lambda('x', map(createArray(2), lambda('y', "
	           "add(lambdaVariables('x'), lambdaVariables('y'))))))]",
	           "[[3]]"),
	        OK("[map(reference('a').list, lambda('x', 1))]",
	           "?map(reference('a').list, lambda('x', 1))"),
	        OK("[map(createArray(1), lambda('x', reference('a')))]", "[\"?\"]"),
	        ERR("[map(createArray(1), 'x')]", SHAPE, "must be lambda() with 1 variable"),
	        ERR("[map(createArray(1), lambda(1, 2))]", SHAPE, "string literals"),
	        ERR("[map(1, lambda('x', 1))]", SHAPE, "map: argument 1 is an integer"),
	        ERR("[lambda('x', 1)]", SHAPE, "only an argument"),
	        ERR("[lambdaVariables('x')]", SHAPE, "no lambda variable 'x'"),
	        ERR("[toObject(createArray(1), lambda('x', lambdaVariables('x')))]", SHAPE,
	            "expected a string"),
	};
	/* The unknown inside a known array: checked apart. */
	run_rows(rows, 14);
	run_rows(rows + 15, sizeof rows / sizeof rows[0] - 15);
	cJSON *out = NULL;
	ns_arm_error err;
	F.budget = 1000;
	assert_int_equal(ns_arm_eval(&E, rows[14].expr, &out, &err), 0);
	assert_true(cJSON_IsArray(out));
	assert_true(ns_arm_is_unknown(cJSON_GetArrayItem(out, 0)));
	assert_string_equal(cJSON_GetArrayItem(out, 0)->valuestring, "reference('a')");
	cJSON_Delete(out);
}

/* ---- limits ---- */

static void test_limits(void **state)
{
	(void)state;
	char deep[600] = "[";
	for (int i = 0; i < 70; i++)
		strcat(deep, "not(");
	strcat(deep, "true");
	for (int i = 0; i < 70; i++)
		strcat(deep, ")");
	strcat(deep, "]");
	cJSON *out = NULL;
	ns_arm_error err;
	F.budget = 100000;
	assert_int_equal(ns_arm_eval(&E, deep, &out, &err), NSGSIM_E_LIMIT);
	assert_non_null(strstr(err.msg, "nested too deeply"));
	assert_null(out);

	/* 60 levels are fine */
	strcpy(deep, "[");
	for (int i = 0; i < 60; i++)
		strcat(deep, "not(");
	strcat(deep, "true");
	for (int i = 0; i < 60; i++)
		strcat(deep, ")");
	strcat(deep, "]");
	assert_int_equal(ns_arm_eval(&E, deep, &out, &err), 0);
	assert_true(cJSON_IsTrue(out));
	cJSON_Delete(out);

	/* the budget: 4000 items cost more than 50 units */
	F.budget = 50;
	assert_int_equal(ns_arm_eval(&E, "[map(range(0, 4000), lambda('x', 1))]", &out, &err),
	                 NSGSIM_E_LIMIT);
	assert_non_null(strstr(err.msg, "budget"));
	assert_int_equal(F.budget, 0);
	/* and it stays exhausted for the next evaluation */
	assert_int_equal(ns_arm_eval(&E, "[concat('a')]", &out, &err), NSGSIM_E_LIMIT);

	/* max_string on a built string and array */
	F.budget = 1000000;
	assert_int_equal(ns_arm_eval(&E, "[padLeft('', 5000)]", &out, &err), NSGSIM_E_LIMIT);
	assert_int_equal(ns_arm_eval(&E, "[range(0, 5000)]", &out, &err), NSGSIM_E_LIMIT);
	assert_int_equal(ns_arm_eval(&E,
	                             "[reduce(range(0, 13), 'ab', lambda('c', 'n', "
	                             "concat(lambdaVariables('c'), lambdaVariables('c'))))]",
	                             &out, &err),
	                 NSGSIM_E_LIMIT);
	assert_null(out);

	/* no budget and no max_string: defaults, no crash */
	ns_arm_env e2 = E;
	e2.budget = NULL;
	e2.max_string = 0;
	assert_int_equal(ns_arm_eval(&e2, "[length(padLeft('', 100000))]", &out, &err), 0);
	assert_int_equal(out->valueint, 100000);
	cJSON_Delete(out);
}

static void test_is_expression(void **state)
{
	(void)state;
	assert_true(ns_arm_is_expression("[a()]"));
	assert_true(ns_arm_is_expression("[]"));
	assert_false(ns_arm_is_expression("[[a()]"));
	assert_false(ns_arm_is_expression("[a()"));
	assert_false(ns_arm_is_expression("a()]"));
	assert_false(ns_arm_is_expression("["));
	assert_false(ns_arm_is_expression(""));
	assert_false(ns_arm_is_expression(NULL));
	cJSON *u = ns_arm_unknown("x");
	assert_true(ns_arm_is_unknown(u));
	assert_false(ns_arm_is_unknown(NULL));
	cJSON_Delete(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_syntax),
	        cmocka_unit_test(test_string_functions),
	        cmocka_unit_test(test_array_functions),
	        cmocka_unit_test(test_logic_functions),
	        cmocka_unit_test(test_deployment_functions),
	        cmocka_unit_test(test_lambda_functions),
	        cmocka_unit_test(test_limits),
	        cmocka_unit_test(test_is_expression),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
