#!/usr/bin/env python3
"""Golden tests for `nsgsim reach` and `nsgsim diff` (Python standard library only).

    NSGSIM=./build/nsgsim python3 tests/reach_golden.py        # make check-cli
    NSGSIM_UPDATE_GOLDEN=1 python3 tests/reach_golden.py        # rewrite tests/golden/reach/*

What is checked, each time with the exit status:
- reach on the bundled example: the table and the --json document against
  the golden files in tests/golden/reach/; the JSON's schema (query, regions,
  the fields of each region); and every region against `nsgsim eval`: random
  flows drawn from inside each region, evaluated in one `eval --flows` batch,
  must get the region's verdict and deciding layer and rule.
- Random flows to the target lie in exactly one region (the regions are
  disjoint and cover the query), checked by interval arithmetic here.
- diff between the example and a copy whose web NIC NSG opens SSH and moves
  HTTPS to 8443: the table and JSON goldens, the summary counts, each change
  against eval on both inputs, and --fail-on opened|closed|any exit codes.
- diff of the example against itself under two real service-tags downloads
  (--service-tags 2025-10-13, --after-service-tags 2025-11-09): the flows
  the new download opens, checked against eval under each download.
- Usage and input errors exit 2 with a message on stderr and nothing on stdout.

The binary comes from $NSGSIM (default ./build/nsgsim); the commands run from
the repository root.  Read a regenerated golden before committing it.
"""

import ipaddress
import json
import os
import random
import shutil
import tempfile
import unittest

from goldens import ROOT, GoldenFiles, run

ENV = "fixtures/example/env"
TAGS = ["--service-tags", "fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json"]
EXAMPLE = ["--env", ENV] + TAGS

# name -> the reach options; each gets a .txt and a .json golden.
QUERIES = {
    "db1_from_web_subnet_tcp": ["--to", "vm-db1-nic", "--from", "10.1.1.0/24", "--protocol", "tcp"],
    "web1_from_internet_allowed": ["--to", "vm-web1-nic", "--from", "Internet", "--allowed-only"],
    "dev_subnet_from_prod": ["--to", "snet-app", "--from", "10.1.0.0/16"],
    "jump_ipv6": ["--to", "fd00:db8:0:3::4", "--protocol", "tcp,udp,icmp"],
    "db1_everything": ["--to", "vm-db1-nic"],
}
PROTOCOLS = ["Tcp", "Udp", "Icmp", "Esp", "Ah"]
REGION_KEYS = ["decidedBy", "destinationPorts", "destinations", "protocols", "sourcePorts",
               "sources", "verdict"]


def endpoint(addr, port):
    if port is None:
        return str(addr)
    return ("[%s]:%d" if addr.version == 6 else "%s:%d") % (addr, port)


def pick(rng, cidrs):
    net = ipaddress.ip_network(rng.choice(cidrs))
    return net[rng.randrange(net.num_addresses)]


def pick_port(rng, ranges):
    lo, _, hi = rng.choice(ranges).partition("-")
    return rng.randint(int(lo), int(hi or lo))


def flow_in(rng, region):
    proto = rng.choice(region["protocols"])
    ported = proto in ("Tcp", "Udp")
    sport = pick_port(rng, region["sourcePorts"]) if ported else None
    dport = pick_port(rng, region["destinationPorts"]) if ported else None
    return "%s %s %s" % (proto.lower(), endpoint(pick(rng, region["sources"]), sport),
                         endpoint(pick(rng, region["destinations"]), dport))


def in_ranges(value, ranges):
    for r in ranges:
        lo, _, hi = r.partition("-")
        if int(lo) <= value <= int(hi or lo):
            return True
    return False


def holds(region, proto, src, sport, dst, dport):
    """Whether the region holds the flow, by arithmetic on its JSON."""
    if proto not in region["protocols"]:
        return False
    if not any(src in ipaddress.ip_network(c) for c in region["sources"]):
        return False
    if not any(dst in ipaddress.ip_network(c) for c in region["destinations"]):
        return False
    if sport is None:
        return True
    return in_ranges(sport, region["sourcePorts"]) and in_ranges(dport, region["destinationPorts"])


def outcome(region):
    d = region["decidedBy"]
    return "%s\t%s\t%s\t%s" % (region["verdict"], d["layer"], d["rule"] or "-",
                               d["endpoint"] or "-")


class Golden(unittest.TestCase, GoldenFiles):
    maxDiff = None
    golden_dir = "reach"

    def eval_batch(self, env, flows):
        p = run("eval", *env, "--flows", "-", stdin="".join(f + "\n" for f in flows))
        self.assertIn(p.returncode, (0, 1), p.stderr)
        rows = [line.split("\t") for line in p.stdout.splitlines()]
        self.assertEqual(len(rows), len(flows))
        for i, (row, flow) in enumerate(zip(rows, flows)):
            self.assertEqual(row[:2], [str(i + 1), flow])  # numbered, the flow repeated
        return ["\t".join(row[2:6]) for row in rows]

    def check_regions_against_eval(self, env, regions, key=outcome, per_region=6, seed=7):
        rng = random.Random(seed)
        flows, want = [], []
        for region in regions:
            for _ in range(per_region):
                flows.append(flow_in(rng, region))
                want.append(key(region))
        got = self.eval_batch(env, flows)
        for f, w, g in zip(flows, want, got):
            self.assertEqual(g, w, f)


class Reach(Golden):
    def reach(self, name):
        text = run("reach", *EXAMPLE, *QUERIES[name])
        self.check_run(text, 0)
        self.assertEqual(text.stderr, "")
        js = run("reach", *EXAMPLE, *QUERIES[name], "--json")
        self.check_run(js, 0)
        return text.stdout, json.loads(js.stdout), js.stdout

    def test_goldens_and_schema(self):
        for name, args in QUERIES.items():
            with self.subTest(query=name):
                text, doc, raw = self.reach(name)
                self.golden(name + ".txt", text)
                self.golden(name + ".json", raw)
                self.assertEqual(sorted(doc), ["query", "regions"])
                q = doc["query"]
                self.assertEqual(q["to"], args[args.index("--to") + 1])
                self.assertEqual(q["allowedOnly"], "--allowed-only" in args)
                self.assertTrue(set(q["protocols"]) <= set(PROTOCOLS))
                self.assertTrue(doc["regions"])
                self.assertRegex(text.splitlines()[0], r"^%d regions? to " % len(doc["regions"]))
                # The table: one region a line, the verdict first, the rule last.
                self.assertEqual(len(text.splitlines()), 1 + len(doc["regions"]))
                for line, r in zip(text.splitlines()[1:], doc["regions"]):
                    self.assertTrue(line.startswith("  " + r["verdict"].upper()), line)
                    if r["decidedBy"]["rule"]:
                        self.assertTrue(line.endswith(" by %s %s (%s)" % (
                            r["decidedBy"]["layer"], r["decidedBy"]["rule"],
                            line.rsplit("(", 1)[1][:-1])), line)
                for r in doc["regions"]:
                    self.assertEqual(sorted(r), REGION_KEYS)
                    self.assertIn(r["verdict"], ("Allow", "Deny"))
                    self.assertTrue(set(r["protocols"]) <= set(q["protocols"]))
                    ported = {"Tcp", "Udp"} & set(r["protocols"])
                    self.assertEqual(bool(r["destinationPorts"]), bool(ported))
                    if q["allowedOnly"]:
                        self.assertEqual(r["verdict"], "Allow")

    def test_regions_agree_with_eval(self):
        for name in QUERIES:
            with self.subTest(query=name):
                _, doc, _ = self.reach(name)
                self.check_regions_against_eval(EXAMPLE, doc["regions"])

    def test_random_flows_lie_in_exactly_one_region(self):
        rng = random.Random(11)
        _, doc, _ = self.reach("db1_everything")
        db1 = ipaddress.ip_address("10.1.2.4")
        flows, want = [], []
        for _ in range(150):
            proto = rng.choice(PROTOCOLS)
            ported = proto in ("Tcp", "Udp")
            src = ipaddress.IPv4Address(rng.getrandbits(32))
            sport = rng.randrange(65536) if ported else None
            dport = rng.randrange(65536) if ported else None
            holding = [r for r in doc["regions"] if holds(r, proto, src, sport, db1, dport)]
            self.assertEqual(len(holding), 1, (proto, src, sport, dport))
            flows.append("%s %s %s" % (proto.lower(), endpoint(src, sport), endpoint(db1, dport)))
            want.append(outcome(holding[0]))
        self.assertEqual(self.eval_batch(EXAMPLE, flows), want)

    def test_known_answers(self):
        text, doc, _ = self.reach("db1_from_web_subnet_tcp")
        rules = {(r["decidedBy"]["rule"], r["verdict"]) for r in doc["regions"]}
        self.assertEqual(rules, {("Allow-Web-To-Sql", "Allow"), ("Deny-Sql-Others", "Deny"),
                                 ("AllowVnetInBound", "Allow")})
        sql = [r for r in doc["regions"] if r["decidedBy"]["rule"] == "Allow-Web-To-Sql"][0]
        self.assertEqual(sql["sources"], ["10.1.1.4/31"])  # web1 and web2, asg-web
        self.assertEqual(sql["destinationPorts"], ["1433"])
        # Prod's subnets die at the admin rule on their way out; the rest of
        # prod's space is no endpoint, so only dev's NSG is read for it.
        _, doc, _ = self.reach("dev_subnet_from_prod")
        self.assertTrue(all(r["verdict"] == "Deny" for r in doc["regions"]))
        by_rule = {}
        for r in doc["regions"]:
            d = r["decidedBy"]
            by_rule.setdefault((d["layer"], d["rule"], d["endpoint"]), set()).update(r["sources"])
        self.assertEqual(by_rule[("AdminRule", "DenyProdToDev", "source")],
                         {"10.1.1.0/24", "10.1.2.0/24"})
        self.assertEqual(sorted(by_rule), [("AdminRule", "DenyProdToDev", "source"),
                                           ("SubnetNsg", "DenyAllInBound", "destination")])

    def test_errors(self):
        for args, needle in [
            (["--to", "no-such-nic"], "'no-such-nic' is not a NIC"),
            (["--to", "8.8.8.8"], "no address of the target (to) '8.8.8.8' belongs to a NIC"),
            (["--to", "AzureCloud", "--from", "vm-web1-nic"], "belongs to a NIC or subnet"),
            (["--to", "vm-db1-nic", "--from", "fd00::/8"], "share no address family"),
            (["--to", "vm-db1-nic", "--protocol", "gre"], "'gre' is not tcp"),
            ([], "nsgsim reach: give --to TARGET\nTry 'nsgsim reach --help'."),
            (["--to", "vm-db1-nic", "--fail-on", "opened"], "--fail-on is not an option of reach"),
        ]:
            with self.subTest(args=args):
                p = run("reach", *EXAMPLE, *args)
                self.check_run(p, 2)
                self.assertEqual(p.stdout, "")
                self.assertIn(needle, p.stderr)


class Diff(Golden):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nsgsim-reach-golden-")
        cls.after_env = os.path.join(cls.tmp, "env")
        shutil.copytree(os.path.join(ROOT, ENV), cls.after_env)
        path = os.path.join(cls.after_env, "nsg-web-nic-rules.json")
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
        for rule in doc["value"]:
            if rule["name"] == "Deny-SSH-From-Vnet":
                rule["properties"]["access"] = "Allow"
            if rule["name"] == "Allow-HTTPS-In":
                rule["properties"]["destinationPortRange"] = "8443"
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1)
        cls.args = ["--before", ENV, "--after", cls.after_env] + TAGS

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_goldens_and_summary(self):
        p = run("diff", *self.args)
        self.check_run(p, 0)
        self.golden("diff_web_nic.txt", p.stdout)
        self.assertEqual(p.stdout.splitlines()[0], "2 regions changed (1 opened, 1 closed):")
        j = run("diff", *self.args, "--json")
        self.check_run(j, 0)
        self.golden("diff_web_nic.json", j.stdout)
        doc = json.loads(j.stdout)
        self.assertEqual(sorted(doc), ["changes", "query", "summary"])
        opened = [c for c in doc["changes"] if c["after"]["verdict"] == "Allow"]
        closed = [c for c in doc["changes"] if c["before"]["verdict"] == "Allow"]
        self.assertEqual((doc["summary"]["opened"], doc["summary"]["closed"]),
                         (len(opened), len(closed)))
        self.assertEqual(opened[0]["sources"], ["10.0.1.0/26"])  # only Bastion reaches SSH
        self.assertEqual(opened[0]["destinationPorts"], ["22"])
        # 8443 opens nothing: the subnet NSG nsg-web never let it in.
        self.assertEqual(closed[0]["destinationPorts"], ["443"])

    def test_changes_agree_with_eval_on_both_sides(self):
        doc = json.loads(run("diff", *self.args, "--json").stdout)
        after = ["--env", self.after_env] + TAGS
        for side, env in (("before", EXAMPLE), ("after", after)):
            with self.subTest(side=side):
                self.check_regions_against_eval(
                    env, doc["changes"],
                    key=lambda c: outcome({"verdict": c[side]["verdict"],
                                           "decidedBy": c[side]["decidedBy"]}))

    def test_fail_on(self):
        for fail_on, status in (("opened", 1), ("closed", 1), ("any", 1)):
            with self.subTest(fail_on=fail_on):
                self.check_run(run("diff", *self.args, "--fail-on", fail_on), status)
        only_db = ["--to", "vm-db1-nic"]
        for fail_on in ("opened", "closed", "any"):
            with self.subTest(fail_on=fail_on, to="vm-db1-nic"):
                p = run("diff", *self.args, *only_db, "--fail-on", fail_on)
                self.check_run(p, 0)
                self.assertEqual(p.stdout, "0 regions changed (0 opened, 0 closed)\n")

    def test_same_input_has_no_change(self):
        p = run("diff", "--before", ENV, "--after", ENV, *TAGS, "--fail-on", "any", "--json")
        self.check_run(p, 0)
        doc = json.loads(p.stdout)
        self.assertEqual(doc["changes"], [])
        self.assertEqual(doc["summary"], {"opened": 0, "closed": 0})

    def test_new_service_tags_download(self):
        old_tags = ["--service-tags", "fixtures/service_tags/ServiceTags_Public_20251013_example_tags.json"]
        new_tags = ["--after-service-tags", TAGS[1]]
        args = ["--before", ENV, "--after", ENV] + old_tags + new_tags
        p = run("diff", *args)
        self.check_run(p, 0)
        self.golden("diff_service_tags.txt", p.stdout)
        doc = json.loads(run("diff", *args, "--json").stdout)
        self.assertEqual(doc["summary"], {"opened": 2, "closed": 0})
        rules = sorted(c["after"]["decidedBy"]["rule"] for c in doc["changes"])
        self.assertEqual(rules, ["Allow-AzureCloud-WE-Https-Out", "Allow-Storage-Out"])
        for side, tags in (("before", old_tags), ("after", TAGS)):
            with self.subTest(side=side):
                self.check_regions_against_eval(
                    ["--env", ENV] + tags, doc["changes"],
                    key=lambda c: outcome({"verdict": c[side]["verdict"],
                                           "decidedBy": c[side]["decidedBy"]}))

    def test_rules_lists_a_rule_only_change(self):
        """Renaming the deciding rule changes no verdict: only --rules lists it."""
        renamed = os.path.join(self.tmp, "renamed")
        shutil.copytree(os.path.join(ROOT, ENV), renamed)
        path = os.path.join(renamed, "nsg-web-nic-rules.json")
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
        for rule in doc["value"]:
            if rule["name"] == "Allow-HTTPS-In":
                rule["name"] = "Allow-HTTPS-In-Renamed"
                rule["id"] = rule["id"].replace("Allow-HTTPS-In", "Allow-HTTPS-In-Renamed")
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(doc, fh)
        args = ["--before", ENV, "--after", renamed] + TAGS + ["--json"]
        plain = json.loads(run("diff", *args, "--fail-on", "any").stdout)
        self.assertEqual(plain["changes"], [])
        p = run("diff", *args, "--rules")
        self.check_run(p, 0)
        doc = json.loads(p.stdout)
        self.assertTrue(doc["query"]["rules"])
        self.assertTrue(doc["changes"])
        for c in doc["changes"]:
            self.assertEqual(c["before"]["verdict"], c["after"]["verdict"])
            self.assertEqual((c["before"]["decidedBy"]["rule"], c["after"]["decidedBy"]["rule"]),
                             ("Allow-HTTPS-In", "Allow-HTTPS-In-Renamed"))
            self.assertEqual(c["destinationPorts"], ["443"])
        self.assertEqual(doc["summary"], {"opened": 0, "closed": 0})

    def test_errors(self):
        for args, needle in [
            (["--before", ENV] + TAGS, "nsgsim diff: give --before PATH... and --after"),
            (self.args + ["--fail-on", "sometimes"], "--fail-on takes opened, closed or any"),
            (["--env", ENV] + TAGS, "--env is not an option of diff"),
        ]:
            with self.subTest(args=args):
                p = run("diff", *args)
                self.check_run(p, 2)
                self.assertEqual(p.stdout, "")
                self.assertIn(needle, p.stderr)


if __name__ == "__main__":
    unittest.main()
