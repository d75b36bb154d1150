#!/usr/bin/env python3
"""Builds the seed corpora of the fuzz targets (fuzz/fuzz.mk, fuzz-seeds).

usage: make_corpus.py OUTDIR [SHARED_DATA_DIR]

Writes OUTDIR/{env,tags,flow,eval,json,query,reach,arm_expr,terraform,flowlog,template}/ from the repository's fixtures/ and,
when SHARED_DATA_DIR exists, from small files of the shared test data.
Run from the repository root.  The output is rebuilt from scratch.
"""
import gzip
import ipaddress
import json
import os
import shutil
import sys

ENV_MAX = 64 * 1024
FLOWLOG_MAX = 64 * 1024
TEMPLATE_MAX = 20 * 1024
TEMPLATES = 60  # ARM templates taken from the shared data, smallest first
PROTOS = ["tcp", "udp", "icmp", "esp", "ah"]  # the order fuzz_eval decodes


def seed_name(path):
    return path.strip("./").replace("/", "_")


def copy(dst, path):
    shutil.copyfile(path, os.path.join(dst, seed_name(path)))


def write(dst, name, data):
    with open(os.path.join(dst, name), "wb") as f:
        f.write(data)


def files_under(root, suffixes):
    out = []
    for d, dirs, names in os.walk(root):
        dirs.sort()
        for n in sorted(names):
            if n.endswith(suffixes):
                out.append(os.path.join(d, n))
    return out


def is_tags_file(path):
    n = os.path.basename(path)
    return n.startswith("ServiceTags") or n == "service_tags.json" or "servicetags" in n.lower() \
        or n == "internet_override_tags.json"


def cut_tags(path, n_tags, n_prefixes):
    """A small service-tags document: the first tags, the first prefixes of each."""
    with open(path, "rb") as f:
        doc = json.load(f)
    vals = doc.get("values", [])[:n_tags]
    for v in vals:
        props = v.get("properties", v)
        if isinstance(props.get("addressPrefixes"), list):
            props["addressPrefixes"] = props["addressPrefixes"][:n_prefixes]
    doc["values"] = vals
    return json.dumps(doc, indent=1).encode()


def resources(doc):
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        for k in ("value", "resources"):
            if isinstance(doc.get(k), list) and "type" not in doc:
                return doc[k]
    return [doc]


def combined_env(env_dir):
    """All resources of one fixture's env/ as one compact array: a document
    that compiles into a policy with NICs, so the fuzzer starts from there."""
    items = []
    for p in files_under(env_dir, (".json",)):
        with open(p, "rb") as f:
            items.extend(resources(json.load(f)))
    return json.dumps(items, separators=(",", ":")).encode()


def flow_rows(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].split("|", 1)[0].split()
            if len(line) >= 3:
                rows.append(line[:3])
    return rows


def endpoint(text):
    """'10.0.0.4:80' / '[fd00::1]:80' / '10.0.0.4' -> (ip, port or None)"""
    if text.startswith("["):
        addr, _, rest = text[1:].partition("]")
        return ipaddress.ip_address(addr), int(rest[1:]) if rest.startswith(":") else None
    if text.count(":") == 1:
        addr, port = text.split(":")
        return ipaddress.ip_address(addr), int(port)
    return ipaddress.ip_address(text), None


def eval_seed(row):
    """The bytes fuzz_eval decodes into this flow (raw addresses, no bias)."""
    proto = PROTOS.index(row[0].lower())
    (s, sp), (d, dp) = endpoint(row[1]), endpoint(row[2])
    flags = (1 if s.version == 6 else 0) | (8 if sp is None else 0)
    out = bytes([proto, flags]) + s.packed + d.packed
    if proto < 2:
        out += (sp or 0).to_bytes(2, "big") + (dp or 0).to_bytes(2, "big")
    return out + (1024).to_bytes(2, "big")


# fuzz_query: (protocol bits, flags, "TARGET[\nSOURCE]") over the bundled example.
QUERIES = [
    (0, 2, "vm-db1-nic"), (2, 0, "vm-db1-nic\n10.1.1.0/24"), (0, 1, "vm-web1-nic\nInternet"),
    (31, 0, "snet-app\n10.1.0.0/16"), (6, 4, "fd00:db8:0:3::4"), (1, 0, "10.0.0.0/8\n*"),
    (0, 0, "AzureCloud.westeurope\nvm-jump-nic"), (0, 0, "10.1.2.4/32\n168.63.129.16"),
    (0, 0, "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-prod/providers/"
           "Microsoft.Network/virtualNetworks/spoke-prod-vnet/subnets/snet-db"),
    (8, 0, "::/0\nAzureCloud"), (16, 2, "0.0.0.0/0"), (0, 0, "no-such-nic"),
    (0, 0, "vm-db1-nic\nfd00::/8"),
]


# fuzz_arm_expr: template string values (fuzz/fuzz_arm_expr.c's environment).
ARM_EXPRS = [
    "[concat(parameters('s'), '-', string(copyIndex(1)))]", "[[literal]", "plain",
    "[format('{0}-{1:D3}', parameters('s'), parameters('n'))]",
    "[resourceId('Microsoft.Network/virtualNetworks/subnets', 'v', 's')]",
    "[if(equals(parameters('b'), true()), parameters('o').k.v, reference('x').y)]",
    "[map(range(0, 3), lambda('i', mul(lambdaVariables('i'), 2)))]",
    "[reduce(parameters('a'), '', lambda('c', 'n', concat(lambdaVariables('c'), "
    "string(lambdaVariables('n')))))]",
    "[union(createObject('a', 1), parameters('o'))]", "[f.obj('a', 'b')]", "[f.rec()]",
    "[uniqueString(resourceGroup().id, deployment().name)]", "[guid(subscription().id)]",
    "[split(parameters('cidr'), '/')[0]]", "[tryGet(parameters('o'), 'k', 'v')]",
    "[sort(createArray(3, 1, 2), lambda('a', 'b', less(lambdaVariables('a'), "
    "lambdaVariables('b'))))]",
]
ARM_MAX_SEEDS = 600


def template_expressions(root):
    seen = []
    def walk(v):
        if isinstance(v, dict):
            for k, x in v.items():
                walk(k)
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, str) and v.startswith("[") and not v.startswith("[[") \
                and v.endswith("]") and v not in seen and len(v) <= 4096:
            seen.append(v)
    for p in files_under(root, (".json",)):
        try:
            with open(p, "rb") as f:
                walk(json.load(f))
        except ValueError:
            pass
        if len(seen) >= ARM_MAX_SEEDS:
            break
    return seen[:ARM_MAX_SEEDS]


def main():
    out = sys.argv[1]
    shared = sys.argv[2] if len(sys.argv) > 2 else ""
    dirs = {t: os.path.join(out, t) for t in ("env", "tags", "flow", "eval", "json",
                                                       "query", "reach", "arm_expr",
                                                       "terraform", "flowlog", "template")}
    shutil.rmtree(out, ignore_errors=True)
    for d in dirs.values():
        os.makedirs(d)

    # env: every fixture JSON but service tags
    for p in files_under("fixtures", (".json",)):
        if is_tags_file(p) or os.path.getsize(p) > ENV_MAX:
            continue
        copy(dirs["env"], p)
    # env: each fixture's env/ as one document
    for d, dirs_, _ in sorted(os.walk("fixtures")):
        if os.path.basename(d) == "env":
            dirs_.clear()
            data = combined_env(d)
            if len(data) <= ENV_MAX:
                write(dirs["env"], seed_name(d) + ".combined.json", data)
            else:
                print("make_corpus: %s is %d bytes combined, above %d" % (d, len(data), ENV_MAX))
    # tags: the small fixtures whole, the trimmed download cut down
    for p in files_under("fixtures", (".json",)):
        if not is_tags_file(p):
            continue
        if os.path.getsize(p) <= ENV_MAX:
            copy(dirs["tags"], p)
        else:
            write(dirs["tags"], seed_name(p) + ".cut", cut_tags(p, 16, 6))
    # flow and eval: the flow tables
    for p in files_under("fixtures", ("flows.txt",)):
        for i, row in enumerate(flow_rows(p)):
            name = "%s.%03d" % (seed_name(p), i)
            write(dirs["flow"], name, " ".join(row).encode())
            try:
                write(dirs["eval"], name, eval_seed(row))
            except ValueError:
                pass

    if shared and os.path.isdir(shared):
        sd = lambda *p: os.path.join(shared, *p)
        for p in files_under(sd("rest_api_examples"), (".json",)):
            if os.path.getsize(p) <= ENV_MAX:
                copy(dirs["tags" if "ServiceTags" in p else "env"], p)
        for p in files_under(sd("avnm"), (".json", ".jsonc")):
            if os.path.getsize(p) <= ENV_MAX:
                copy(dirs["env"], p)
        for p in files_under(sd("nsg", "effective_nsg_myers-dev"), (".json",)):
            if os.path.getsize(p) <= ENV_MAX:
                copy(dirs["env"], p)
        templates = [p for p in files_under(sd("nsg", "arm_quickstart_templates", "templates"),
                                            (".json",)) if os.path.getsize(p) <= TEMPLATE_MAX]
        templates.sort(key=lambda p: (os.path.getsize(p), p))
        for p in templates[:TEMPLATES]:
            copy(dirs["env"], p)
        for p in files_under(sd("service_tags"), (".json",)):
            try:
                write(dirs["tags"], seed_name(p) + ".cut", cut_tags(p, 12, 4))
            except (ValueError, OSError):
                pass

    # json: both JSON readers (fuzz_json) start from the env and tags seeds
    for t in ("env", "tags"):
        for n in sorted(os.listdir(dirs[t])):
            shutil.copyfile(os.path.join(dirs[t], n), os.path.join(dirs["json"], t + "." + n))

    # template: the walker's fixtures and the smallest quickstart templates
    for p in files_under(os.path.join("fixtures", "arm"), (".json",)):
        copy(dirs["template"], p)
    quick = [p for p in files_under(os.path.join("fixtures", "arm_quickstart", "templates"),
                                    (".json",)) if os.path.getsize(p) <= TEMPLATE_MAX]
    quick.sort(key=lambda p: (os.path.getsize(p), p))
    for p in quick[:TEMPLATES]:
        copy(dirs["template"], p)

    # terraform: the plan and state fixtures, whole and minified
    for p in files_under(os.path.join("fixtures", "terraform"), (".json",)):
        copy(dirs["terraform"], p)
        with open(p, "rb") as f:
            doc = json.load(f)
        write(dirs["terraform"], seed_name(p) + ".min.json",
              json.dumps(doc, separators=(",", ":")).encode())

    # reach: the contract on every env seed (fuzz_reach reads them as fuzz_env does)
    for n in sorted(os.listdir(dirs["env"])):
        shutil.copyfile(os.path.join(dirs["env"], n), os.path.join(dirs["reach"], n))
    for i, (protos, flags, text) in enumerate(QUERIES):
        write(dirs["query"], "query.%02d" % i, bytes([protos, flags]) + text.encode())

    # arm_expr: a few expressions of every kind, and the distinct expressions
    # of the quickstart templates when the shared data is there
    exprs = list(ARM_EXPRS)
    if shared and os.path.isdir(shared):
        exprs += template_expressions(sd("nsg", "arm_quickstart_templates", "templates"))
    for i, e in enumerate(exprs):
        write(dirs["arm_expr"], "expr.%04d" % i, e.encode())

    # flowlog: the flow logs of fixtures/flow_logs (the trimmed real ones, whole) and
    # one gzip'd, the bad ones of the CLI tests
    for p in files_under("fixtures/flow_logs", (".json",)) + \
            files_under("tests/golden/replay", (".json",)):
        if "/env/" in p or os.path.getsize(p) > FLOWLOG_MAX:
            continue
        copy(dirs["flowlog"], p)
        if "chshin9" in p:
            with open(p, "rb") as f:
                write(dirs["flowlog"], seed_name(p) + ".gz", gzip.compress(f.read(), mtime=0))

    for t, d in sorted(dirs.items()):
        print("seeds %-4s %4d files in %s" % (t, len(os.listdir(d)), d))


if __name__ == "__main__":
    main()
