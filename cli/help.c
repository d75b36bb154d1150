/* What `nsgsim --help` and `nsgsim COMMAND --help` print, and the table of
 * commands: the options each takes (cli/options.c refuses the rest). */
#include <stddef.h>
#include <stdio.h>

#include "cli.h"

/* What infrastructure-as-code input is read for (ARM templates, Bicep
 * output, Terraform plans). */
#define IAC_OPTS                                                                                   \
	(OPT_BIT(OPT_PARAMETERS) | OPT_BIT(OPT_SUBSCRIPTION) | OPT_BIT(OPT_RESOURCE_GROUP) |       \
	 OPT_BIT(OPT_LOCATION))
#define ENV_OPTS                                                                                   \
	(OPT_BIT(OPT_ENV) | OPT_BIT(OPT_TAGS) | OPT_BIT(OPT_QUIET) | OPT_BIT(OPT_POLICY) | IAC_OPTS)
#define IAC_HELP                                                                                   \
	"  --parameters FILE|NAME=VALUE\n"                                                         \
	"                         template parameter values: a deployment parameters\n"            \
	"                         file (@FILE too), or one value (repeatable)\n"                   \
	"  --subscription GUID    subscription(), and the ids of template and Terraform\n"         \
	"                         resources\n"                                                     \
	"  --resource-group NAME  resourceGroup().name, and the ids of template resources\n"       \
	"  --location NAME        resourceGroup().location\n"
#define ENV_HELP                                                                                   \
	"  --env PATH...          environment JSON (REST, az, ARM templates, Bicep output,\n"      \
	"                         terraform show -json): files, or directories read\n"             \
	"                         recursively (repeatable)\n"                                      \
	"  --service-tags FILE    Microsoft's service-tags download, the REST list\n"              \
	"                         response, or a snapshot of either (snapshot-tags)\n"             \
	"  --policy FILE          a compiled policy file (nsgsim compile) instead of\n"            \
	"                         --env and --service-tags: the same answers\n"                    \
	"  -q, --quiet            do not print notes (skipped resources, limits, "                 \
	"warnings)\n" IAC_HELP

const char usage_text[] =
        "usage: nsgsim COMMAND [OPTIONS]\n"
        "\n"
        "Would this flow be allowed in Azure, and why?  Offline, from the JSON that\n"
        "az, the REST API or an ARM export print (NSGs, ASGs, NICs, subnets, VNets,\n"
        "peerings, route tables, Azure Virtual Network Manager admin rules).\n"
        "\n"
        "commands:\n"
        "  eval           one flow (or a file of flows): the verdict and the deciding rule\n"
        "  effective      a NIC's effective security rules, as az prints them\n"
        "  reach          every flow to a target, exactly, as regions\n"
        "  diff           the flows whose verdict a change flips\n"
        "  matrix         the segmentation matrix: what each source may reach, exactly\n"
        "  check          reachability assertions from files (JUnit, JSON)\n"
        "  list           the NICs, subnets, NSGs, ASGs or network managers of the input\n"
        "  lint           shadowed rules, unfiltered NICs, what affects nothing\n"
        "  show           the resolved input: a summary, or REST JSON (--json)\n"
        "  snapshot-tags  compile a service-tags download into a fast snapshot\n"
        "  compile        compile the input once into a policy file for --policy\n"
        "  replay         Azure's NSG / VNet flow logs against the model\n"
        "  version        the version\n"
        "\n"
        "Run 'nsgsim COMMAND --help' for a command's options and examples.\n"
        "Exit status: 0 allowed / passed, 1 denied / failed, 2 an error.\n";

static const char eval_help[] =
        "usage: nsgsim eval --env PATH... [--service-tags FILE] [--json] [--verbose]\n"
        "                   [--policy FILE]\n"
        "                   [--engine linear|compiled] [--at NIC --direction DIR]\n"
        "                   PROTO SRC[:PORT] DST[:PORT]\n"
        "       nsgsim eval --env PATH... [--service-tags FILE] --flows FILE\n"
        "                   [--format tsv|csv|json] [--at NIC --direction DIR] [--jobs N]\n"
        "\n"
        "Would this flow be allowed, and why?  The flow goes through Azure's chain:\n"
        "at the source (outbound: admin rules, NIC NSG, subnet NSG) and at the\n"
        "destination (inbound: admin rules, subnet NSG, NIC NSG).  PROTO is tcp,\n"
        "udp, icmp, esp or ah (any case); IPv6 with a port is [2001:db8::1]:443;\n"
        "without a source port every source port is evaluated and each range that\n"
        "differs is printed.  Exit status: 0 allowed, 1 denied, 2 error.\n"
        "\n"
        "options:\n" ENV_HELP "  --json                 the result as JSON (the README's schema)\n"
        "  -v, --verbose          every rule each layer looked at\n"
        "  --engine E             linear (the reference) or compiled (default)\n"
        "  --at NIC               one side only, as Network Watcher's IP flow verify\n"
        "  --direction DIR        with --at: inbound or outbound (any case)\n"
        "  --flows FILE           one flow a line ('-': standard input); '#' starts a\n"
        "                         comment; each answer is numbered with its input line\n"
        "  --format F             with --flows: tsv (default), csv or json (one object\n"
        "                         a line)\n"
        "  -j, --jobs N           with --flows: N threads over blocks of the input\n"
        "                         (default 1); the output is the same, in input order\n"
        "\n"
        "examples:\n"
        "  nsgsim eval --env env/ --service-tags tags.json tcp 93.184.216.34 10.1.1.4:443\n"
        "  nsgsim eval --env env/ --at vm-web1-nic --direction inbound \\\n"
        "              tcp 10.0.3.4:50000 10.1.1.4:22\n"
        "  nsgsim eval --env env/ --flows flows.txt --format csv > answers.csv\n";

static const char effective_help[] =
        "usage: nsgsim effective --env PATH... [--service-tags FILE]\n"
        "                        [--format json|table] NIC\n"
        "\n"
        "The effective security rules of a NIC (its name or id), as\n"
        "`az network nic list-effective-nsg` prints them: the NIC's and its subnet's\n"
        "NSG rules with service tags and ASGs expanded.\n"
        "\n"
        "options:\n" ENV_HELP
        "  --format F             json (az's shape; the default when not a terminal)\n"
        "                         or table (the default on a terminal)\n"
        "\n"
        "examples:\n"
        "  nsgsim effective --env env/ --service-tags tags.json vm-web1-nic\n"
        "  nsgsim effective --env env/ --format json vm-web1-nic > effective.json\n";

static const char reach_help[] =
        "usage: nsgsim reach --env PATH... [--service-tags FILE] --to TARGET\n"
        "                    [--from SOURCE] [--protocol P[,P...]] [--allowed-only]\n"
        "                    [--json]\n"
        "\n"
        "Every flow to TARGET, exactly: the flow space cut into regions (protocols x\n"
        "sources x source ports x destinations x destination ports) that share one\n"
        "verdict and one deciding rule.  Every flow in a region gets that answer from\n"
        "eval.  TARGET and SOURCE: an IP, a CIDR, a NIC (name or id), a subnet id or\n"
        "a service tag; TARGET must hold a NIC or subnet of the input.\n"
        "\n"
        "options:\n" ENV_HELP "  --to TARGET            where the flows go (required)\n"
        "  --from SOURCE          where they come from (default: every address of\n"
        "                         TARGET's family)\n"
        "  --protocol P,...       tcp, udp, icmp, esp, ah or all (any case)\n"
        "  --allowed-only         print only the allowed regions\n"
        "  --json                 {\"query\", \"regions\": [...]} (the README's schema)\n"
        "\n"
        "examples:\n"
        "  nsgsim reach --env env/ --service-tags tags.json --to vm-db1-nic\n"
        "  nsgsim reach --env env/ --to 10.1.2.0/24 --from Internet --allowed-only\n";

static const char matrix_help[] =
        "usage: nsgsim matrix --env PATH... [--service-tags FILE] [--by subnet|nic|asg]\n"
        "                     [--json] [--html FILE]\n"
        "\n"
        "The segmentation picture: rows are sources, columns destinations (the\n"
        "subnets, NICs or ASGs of the input; Internet and AzureLoadBalancer as\n"
        "sources too), each cell the protocols and destination ports on which some\n"
        "flow from the row to the column is allowed ('tcp 22,443; udp 53', 'all', or\n"
        "'-' for nothing), computed exactly by reach.  A port outside a cell is\n"
        "denied for every flow from the row to the column; one inside it is allowed\n"
        "for every flow unless the cell is partial ('*': for some sources or\n"
        "destinations only).\n"
        "\n"
        "options:\n" ENV_HELP
        "  --by KIND              subnet (default), nic or asg (an ASG's cell is the\n"
        "                         union over its member NICs)\n"
        "  --json                 {\"rows\", \"columns\", \"cells\"} (the README's schema)\n"
        "  --html FILE            also write one self-contained page (inline CSS and\n"
        "                         JS, no network access): cells coloured by openness,\n"
        "                         a click shows the cell's regions and deciding rules\n"
        "\n"
        "examples:\n"
        "  nsgsim matrix --env env/ --service-tags tags.json\n"
        "  nsgsim matrix --env env/ --by nic --html matrix.html\n";

static const char diff_help[] =
        "usage: nsgsim diff --before PATH... --after PATH... [--service-tags FILE]\n"
        "                   [--after-service-tags FILE] [--to TARGET] [--from SOURCE]\n"
        "                   [--protocol P[,P...]] [--rules] [--json]\n"
        "                   [--fail-on opened|closed|any]\n"
        "\n"
        "The flows whose verdict a change flips, as regions with both answers.  The\n"
        "two snapshots are loaded and compiled independently.  Without --to, every\n"
        "flow with an endpoint modelled in either snapshot.\n"
        "\n"
        "options:\n"
        "  --before PATH...       the environment before the change (or one compiled\n"
        "                         policy file, nsgsim compile: told by its magic)\n"
        "  --after PATH...        the environment after it (likewise)\n"
        "  --service-tags FILE    service tags for both (or before only, with\n"
        "                         --after-service-tags)\n"
        "  --after-service-tags FILE  the service tags after the change\n" IAC_HELP
        "  --to, --from, --protocol   limit the flow space, as reach does\n"
        "  --rules                also list regions where only the deciding rule changed\n"
        "  --json                 {\"changes\": [...], \"summary\"} (the README's schema)\n"
        "  --fail-on WHAT         exit 1 when a flow is opened, closed, or either (any)\n"
        "  -q, --quiet            do not print notes\n"
        "\n"
        "examples:\n"
        "  nsgsim diff --before main/env --after pr/env --fail-on opened\n"
        "  nsgsim diff --before env/ --after env/ --service-tags old.json \\\n"
        "              --after-service-tags new.json --to snet-db-id --json\n";

static const char check_help[] =
        "usage: nsgsim check --env PATH... [--service-tags FILE] [--junit FILE]\n"
        "                    [--json] [-v] [--allow-unassigned] ASSERTIONS...\n"
        "\n"
        "Reachability assertions, one a line, in files:\n"
        "  allow tcp 10.1.1.4 10.1.2.4:1433\n"
        "  deny tcp 10.1.1.4 10.2.1.4:22 by AdminRule DenyProdToDev\n"
        "  allow-only tcp 10.1.0.0/16 -> vm-db1-nic:1433\n"
        "  deny-all * Internet -> snet-db\n"
        "  allow tcp 10.1.1.4 10.1.2.9:443 unassigned    (a private endpoint's address)\n"
        "(the full grammar is in the README).  An address inside a subnet that no NIC\n"
        "holds fails its assertion unless the line ends with 'unassigned' or\n"
        "--allow-unassigned is given: it is a typo until proven otherwise.\n"
        "Exit status: 0 all pass, 1 one fails, 2 an error.\n"
        "\n"
        "options:\n" ENV_HELP
        "  --junit FILE           also write a JUnit XML report (a testsuite per file)\n"
        "  --json                 one JSON object per assertion and a summary\n"
        "  -v, --verbose          the trace of each failure\n"
        "  --allow-unassigned     accept addresses no NIC holds (evaluated at the subnet)\n"
        "\n"
        "examples:\n"
        "  nsgsim check --env env/ --service-tags tags.json assertions.txt\n"
        "  nsgsim check --env env/ --junit report.xml tests/*.txt\n";

static const char list_help[] =
        "usage: nsgsim list nics|subnets|nsgs|asgs|managers --env PATH...\n"
        "                   [--service-tags FILE] [--json]\n"
        "\n"
        "The resources of one kind in the input, in input order: name, id, and the\n"
        "file and JSON pointer they came from.  The names are what --at, effective\n"
        "and reach take.\n"
        "\n"
        "options:\n" ENV_HELP
        "  --json                 [{\"name\", \"id\", \"file\", \"pointer\"}]\n"
        "\n"
        "examples:\n"
        "  nsgsim list nics --env env/\n"
        "  nsgsim list subnets --env env/ --json\n";

static const char show_help[] =
        "usage: nsgsim show --env PATH... [--service-tags FILE] [--json]\n"
        "\n"
        "What nsgsim read.  By default a summary: the subscription, resource group\n"
        "and location the ids were made in, how many resources of each kind, the\n"
        "notes (assumptions and warnings, with the file and JSON pointer) and every\n"
        "skipped resource with the reason.  With --json, the whole model as one\n"
        "REST-shaped {\"value\": [...]} document with Azure's property names: NSGs\n"
        "with their rules as written (without Azure's six defaults), ASGs, route\n"
        "tables, VNets with subnets and peerings, NICs, network manager resources.\n"
        "Given back as --env (with the same --service-tags) it gives the same\n"
        "answers.\n"
        "\n"
        "options:\n" ENV_HELP
        "  --json                 the model as REST JSON instead of the summary\n"
        "\n"
        "examples:\n"
        "  nsgsim show --env env/\n"
        "  nsgsim show --env template.json --json > resolved.json\n";

static const char lint_help[] =
        "usage: nsgsim lint --env PATH... [--service-tags FILE] [--json] [--sarif FILE]\n"
        "                   [--only ID,...] [--skip ID,...] [--fail-on error|warning|note]\n"
        "                   [--jobs N]\n"
        "\n"
        "Findings about the policy, each computed from the whole chain of rules, not\n"
        "read off one rule's text:\n"
        "  shadowed-rule        an NSG rule never the first match at any subnet or NIC\n"
        "                       its NSG is attached to (redundant, or conflicting: error)\n"
        "  never-decides        a rule (NSG or admin) that decides no flow end to end: an\n"
        "                       earlier layer or rule ends every flow it matches first\n"
        "  unattached-nsg       an NSG on no subnet and no NIC\n"
        "  unused-asg           an ASG no rule names, or with no members\n"
        "  empty-network-group  a network group with no static members (nor policy)\n"
        "  no-filtering         a NIC or subnet with no NSG and no admin rule\n"
        "  broad-always-allow   an AlwaysAllow admin rule from the Internet or anywhere\n"
        "  exposed-port         a NIC the Internet reaches on a high-risk port (22, 3389...)\n"
        "  open-to-any          ports of a NIC that every source address reaches\n"
        "Exit status: 1 when a finding is at the --fail-on level or above (default\n"
        "error), 0 otherwise, 2 an error.\n"
        "\n"
        "options:\n" ENV_HELP
        "  --json                 {\"findings\": [...], \"summary\"} (the README's schema)\n"
        "  --sarif FILE           also write the findings as SARIF 2.1.0 (code scanning)\n"
        "  --only ID,...          only these checks\n"
        "  --skip ID,...          all checks but these\n"
        "  --fail-on LEVEL        error (default), warning or note\n"
        "  -j, --jobs N           N threads for the costly checks (default 1); the same\n"
        "                         findings in the same order for every N\n"
        "\n"
        "examples:\n"
        "  nsgsim lint --env env/ --service-tags tags.json\n"
        "  nsgsim lint --env env/ --json --skip unused-asg --fail-on warning\n"
        "  nsgsim lint --env env/ --sarif nsgsim.sarif\n";

static const char snapshot_help[] =
        "usage: nsgsim snapshot-tags IN OUT\n"
        "\n"
        "Compile a service-tags file (Microsoft's download or the REST list\n"
        "response) into a snapshot that --service-tags loads in a few milliseconds.\n"
        "OUT is written atomically; rebuild it when nsgsim says the snapshot is of\n"
        "another version.\n"
        "\n"
        "example:\n"
        "  nsgsim snapshot-tags ServiceTags_Public_20251109.json tags.nst\n";

static const char compile_help[] =
        "usage: nsgsim compile --env PATH... [--service-tags FILE] -o FILE\n"
        "\n"
        "Compile the input once into a compiled policy file (.nsgp): the resolved\n"
        "model with its names, ids, rule texts, input locations, notes and the\n"
        "service tags, versioned and checksummed.  Every command that takes --env\n"
        "takes --policy FILE instead and answers exactly the same, without reading\n"
        "or parsing the input again; diff and replay take it as --before/--after.\n"
        "FILE is written atomically.  A damaged file is an error (never a wrong\n"
        "answer); one of another format version says to compile again.\n"
        "\n"
        "options:\n" ENV_HELP
        "  -o, --output FILE      the compiled policy file to write (required)\n"
        "\n"
        "examples:\n"
        "  nsgsim compile --env env/ --service-tags tags.json -o estate.nsgp\n"
        "  nsgsim eval --policy estate.nsgp tcp 93.184.216.34 10.1.1.4:443\n";

static const char replay_help[] =
        "usage: nsgsim replay --env PATH... [--service-tags FILE] [--after PATH...]\n"
        "                     [--json] [--junit FILE] [--jobs N] LOG...\n"
        "\n"
        "Does the model match production?  Every tuple of Azure's flow logs (NSG\n"
        "flow logs v1/v2, VNet flow logs v4; a PT1H.json, .json.gz, or a directory\n"
        "tree of them) is evaluated where Azure logged it, as IP flow verify does\n"
        "(the NIC holding the local address, in the logged direction), and nsgsim's\n"
        "decision and rule are compared with the logged ones.  Prints a summary\n"
        "(agree, disagree, not modelled by reason: PlatformRule traffic, a C/E\n"
        "record whose begin is not in the log, an endpoint not in the environment)\n"
        "and each distinct disagreement (logged rule -> nsgsim's rule) with an\n"
        "example tuple.  Exit status: 1 when a tuple disagrees, 0 otherwise, 2 an\n"
        "error.\n"
        "\n"
        "options:\n" ENV_HELP
        "  --after PATH...        a changed environment: the observed tuples whose\n"
        "                         verdict it flips, by the rule that now decides\n"
        "                         (repeatable)\n"
        "  --json                 {\"summary\", \"groups\", \"after\"} (the README's schema)\n"
        "  --junit FILE           also a JUnit report, one test case per group\n"
        "  -j, --jobs N           2 or more: the logs are read on a second thread\n"
        "                         (default 1); the output is the same\n"
        "\n"
        "examples:\n"
        "  nsgsim replay --env env/ --service-tags tags.json insights-logs-flowlogflowevent/\n"
        "  nsgsim replay --env env/ --after env-changed/ --json PT1H.json.gz\n";

static const char version_help[] = "usage: nsgsim version\n\nPrints nsgsim's version.\n";

static int cmd_version(const options *o)
{
	(void)o;
	printf("nsgsim %s\n", nsgsim_version());
	return 0;
}

const command_spec commands[] = {
        {"eval",
         ENV_OPTS | OPT_BIT(OPT_JSON) | OPT_BIT(OPT_VERBOSE) | OPT_BIT(OPT_ENGINE) |
                 OPT_BIT(OPT_AT) | OPT_BIT(OPT_DIRECTION) | OPT_BIT(OPT_FLOWS) |
                 OPT_BIT(OPT_FORMAT) | OPT_BIT(OPT_JOBS),
         3, eval_help, cmd_eval},
        {"effective", ENV_OPTS | OPT_BIT(OPT_FORMAT), 1, effective_help, cmd_effective},
        {"reach",
         ENV_OPTS | OPT_BIT(OPT_TO) | OPT_BIT(OPT_FROM) | OPT_BIT(OPT_PROTOCOL) |
                 OPT_BIT(OPT_ALLOWED_ONLY) | OPT_BIT(OPT_JSON),
         0, reach_help, cmd_reach},
        {"diff",
         OPT_BIT(OPT_BEFORE) | OPT_BIT(OPT_AFTER) | OPT_BIT(OPT_TAGS) | OPT_BIT(OPT_AFTER_TAGS) |
                 OPT_BIT(OPT_QUIET) | IAC_OPTS | OPT_BIT(OPT_TO) | OPT_BIT(OPT_FROM) |
                 OPT_BIT(OPT_PROTOCOL) | OPT_BIT(OPT_RULES) | OPT_BIT(OPT_JSON) |
                 OPT_BIT(OPT_FAIL_ON),
         0, diff_help, cmd_diff},
        {"matrix", ENV_OPTS | OPT_BIT(OPT_BY) | OPT_BIT(OPT_JSON) | OPT_BIT(OPT_HTML), 0,
         matrix_help, cmd_matrix},
        {"check",
         ENV_OPTS | OPT_BIT(OPT_JUNIT) | OPT_BIT(OPT_JSON) | OPT_BIT(OPT_VERBOSE) |
                 OPT_BIT(OPT_ALLOW_UNASSIGNED),
         MAX_ARGS, check_help, cmd_check},
        {"list", ENV_OPTS | OPT_BIT(OPT_JSON), 1, list_help, cmd_list},
        {"lint",
         ENV_OPTS | OPT_BIT(OPT_JSON) | OPT_BIT(OPT_ONLY) | OPT_BIT(OPT_SKIP) |
                 OPT_BIT(OPT_FAIL_ON) | OPT_BIT(OPT_SARIF) | OPT_BIT(OPT_JOBS),
         0, lint_help, cmd_lint},
        {"show", ENV_OPTS | OPT_BIT(OPT_JSON), 0, show_help, cmd_show},
        {"snapshot-tags", 0, 2, snapshot_help, cmd_snapshot_tags},
        {"compile", ENV_OPTS | OPT_BIT(OPT_OUTPUT), 0, compile_help, cmd_compile},
        {"replay",
         ENV_OPTS | OPT_BIT(OPT_AFTER) | OPT_BIT(OPT_JSON) | OPT_BIT(OPT_JUNIT) | OPT_BIT(OPT_JOBS),
         MAX_ARGS, replay_help, cmd_replay},
        {"version", 0, 0, version_help, cmd_version},
};
const size_t n_commands = sizeof commands / sizeof commands[0];
