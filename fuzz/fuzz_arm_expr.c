/* libFuzzer target: arbitrary bytes as one ARM template string value
 * (ns_arm_eval, lib/parse/arm_expr*.c), in a small fixed environment:
 * parameters of every JSON type, variables, copyIndex() and user-defined
 * functions (one of them recursive).  The work budget and max_string are
 * small so that every input ends quickly.
 *
 * Checks: a success gives a value and evaluating again gives the same one;
 * a failure gives no value and a well-formed error (a code the evaluator
 * may return, a message, an offset inside the text); a literal gives a
 * string. */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nsgsim.h"
#include "parse/arm_expr.h"

#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__,       \
			        #cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char params_json[] =
        "{\"s\":\"Web01\",\"n\":3,\"b\":true,\"a\":[1,\"x\",[2]],\"o\":{\"k\":{\"v\":\"w\"}},"
        "\"z\":null,\"e\":\"\",\"cidr\":\"10.0.0.0/24\"}";
static const char funcs_json[] =
        "[{\"namespace\":\"f\",\"members\":{"
        "\"id\":{\"parameters\":[{\"name\":\"x\"}],\"output\":{\"value\":\"[parameters('x')]\"}},"
        "\"rec\":{\"parameters\":[],\"output\":{\"value\":\"[f.rec()]\"}},"
        "\"obj\":{\"parameters\":[{\"name\":\"a\"},{\"name\":\"b\"}],\"output\":{\"value\":"
        "{\"s\":\"[concat(parameters('a'), parameters('b'))]\",\"l\":[\"[[x]\",1]}}}}}]";

static cJSON *params, *funcs;

static int get(void *user, const char *name, cJSON **out, ns_arm_error *err)
{
	(void)user;
	cJSON *v = cJSON_GetObjectItem(params, name);
	if (!v) {
		snprintf(err->msg, sizeof err->msg, "no parameter '%s'", name);
		return NSGSIM_E_SHAPE;
	}
	*out = cJSON_Duplicate(v, true);
	return *out ? 0 : NSGSIM_E_NOMEM;
}

static int copy_index(void *user, const char *loop, int64_t *out, ns_arm_error *err)
{
	(void)user;
	if (loop && strcasecmp(loop, "l") != 0) {
		snprintf(err->msg, sizeof err->msg, "no copy loop '%s'", loop);
		return NSGSIM_E_SHAPE;
	}
	*out = loop ? 5 : 2;
	return 0;
}

static int eval_once(const char *text, uint64_t *budget, cJSON **out, ns_arm_error *err)
{
	ns_arm_env env = {.parameter = get,
	                  .variable = get,
	                  .copy_index = copy_index,
	                  .functions = funcs,
	                  .subscription_id = "00000000-0000-0000-0000-000000000001",
	                  .resource_group = "rg",
	                  .budget = budget,
	                  .max_string = 4096};
	return ns_arm_eval(&env, text, out, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!params) {
		params = cJSON_Parse(params_json);
		funcs = cJSON_Parse(funcs_json);
		FUZZ_CHECK(params && funcs);
	}
	char *text = malloc(size + 1);
	FUZZ_CHECK(text);
	memcpy(text, data, size);
	text[size] = '\0';
	size_t len = strlen(text);
	uint64_t budget = 20000;
	cJSON *out = NULL;
	ns_arm_error err;
	int rc = eval_once(text, &budget, &out, &err);
	if (rc == 0) {
		FUZZ_CHECK(out != NULL);
		if (!ns_arm_is_expression(text))
			FUZZ_CHECK(cJSON_IsString(out));
		uint64_t again = 20000;
		cJSON *out2 = NULL;
		FUZZ_CHECK(eval_once(text, &again, &out2, &err) == 0);
		FUZZ_CHECK(again == budget);
		FUZZ_CHECK(cJSON_Compare(out, out2, true));
		cJSON_Delete(out2);
	} else {
		FUZZ_CHECK(out == NULL);
		FUZZ_CHECK(rc == NSGSIM_E_SHAPE || rc == NSGSIM_E_LIMIT || rc == NSGSIM_E_NOMEM ||
		           rc == NSGSIM_E_UNEVALUATED);
		FUZZ_CHECK(err.code == rc);
		FUZZ_CHECK(memchr(err.msg, '\0', sizeof err.msg) != NULL && err.msg[0] != '\0');
		FUZZ_CHECK(err.offset <= len);
	}
	cJSON_Delete(out);
	free(text);
	return 0;
}
