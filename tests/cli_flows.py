#!/usr/bin/env python3
"""The fixture flow tables through the CLI, and golden explanations.

Every row of fixtures/semantics/*/flows.txt and fixtures/example/flows.txt (the
tables the C tests use) is evaluated with `nsgsim eval --json`: the verdict,
deciding layer, rule and endpoint must match and the exit status must be 0 for
Allow and 1 for Deny.  A few explanations (text and --verbose JSON) are
compared with golden files in tests/golden/eval/; NSGSIM_UPDATE_GOLDEN=1
rewrites them.  Every table also runs with its service tags as a snapshot
(`nsgsim snapshot-tags`), which must print exactly the same.
"""
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import unittest

NSGSIM = os.environ.get("NSGSIM", "./build/nsgsim")
DEFAULT_TAGS = "fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json"
GOLDEN = "tests/golden/eval"
UPDATE = os.environ.get("NSGSIM_UPDATE_GOLDEN") == "1"


def fixture_args(fixture):
    tags = os.path.join(fixture, "service_tags.json")
    if not os.path.exists(tags):
        tags = DEFAULT_TAGS
    return ["--env", os.path.join(fixture, "env"), "--service-tags", tags, "-q"]


def parse_table(path):
    """Rows of a flow table: (line, flow, expected, options)."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.split("#", 1)[0]
            opts = {}
            if "|" in line:
                line, extra = line.split("|", 1)
                opts = dict(kv.split("=", 1) for kv in extra.split())
            tok = line.split()
            if not tok:
                continue
            if len(tok) != 7:
                raise ValueError("%s:%d: malformed row" % (path, lineno))
            rows.append((lineno, tok[:3], tok[3:], opts))
    return rows


def fixtures_with_tables():
    root = "fixtures/semantics"
    dirs = [os.path.join(root, d) for d in sorted(os.listdir(root))]
    dirs.append("fixtures/example")
    return [d for d in dirs if os.path.exists(os.path.join(d, "flows.txt"))]


class FlowTablesThroughCli(unittest.TestCase):
    def test_every_row(self):
        count = 0
        for fixture in fixtures_with_tables():
            for lineno, flow, expected, opts in parse_table(os.path.join(fixture, "flows.txt")):
                count += 1
                with self.subTest(fixture=fixture, line=lineno):
                    args = [NSGSIM, "eval", "--json"] + fixture_args(fixture)
                    if opts:
                        args += ["--at", opts["at"], "--direction", opts["direction"]]
                    proc = subprocess.run(args + flow, capture_output=True, text=True)
                    self.assertIn(proc.returncode, (0, 1), proc.stderr)
                    out = json.loads(proc.stdout)
                    d = out["decidedBy"]
                    got = [out["verdict"], d["layer"], d["rule"] or "-", d["endpoint"] or "-"]
                    self.assertEqual([g.lower() for g in got], [e.lower() for e in expected],
                                     "%s:%d %s" % (fixture, lineno, " ".join(flow)))
                    self.assertEqual(proc.returncode, 0 if out["verdict"] == "Allow" else 1)
        self.assertGreaterEqual(count, 290)


class FlowsFile(unittest.TestCase):
    """eval --flows: every row of a table in one run, in input order, both engines."""

    def test_tables_through_flows_file(self):
        """Each answer is numbered with its input line and repeats the flow; blank and
        comment lines print nothing."""
        for fixture in fixtures_with_tables():
            rows = [r for r in parse_table(os.path.join(fixture, "flows.txt")) if not r[3]]
            text = "# a comment line is skipped\n" + "".join(" ".join(r[1]) + "\n\n" for r in rows)
            # row k is on line 2 + 2k: the comment first, a blank line after each row
            expected = [[str(2 + 2 * k), " ".join(r[1])] + [e.lower() for e in r[2]]
                        for k, r in enumerate(rows)]
            for engine in ("compiled", "linear"):
                with self.subTest(fixture=fixture, engine=engine):
                    proc = subprocess.run([NSGSIM, "eval", "--engine", engine, "--flows", "-"] +
                                          fixture_args(fixture), input=text,
                                          capture_output=True, text=True)
                    got = [line.split("\t") for line in proc.stdout.splitlines()]
                    self.assertEqual([g[:2] + [x.lower() for x in g[2:6]] for g in got], expected)
                    denied = any(r[2][0] == "Deny" for r in rows)
                    self.assertEqual(proc.returncode, 1 if denied else 0, proc.stderr)

    def test_csv_is_the_same_table(self):
        rows = [r for r in parse_table("fixtures/example/flows.txt") if not r[3]]
        text = "".join(" ".join(r[1]) + "\n" for r in rows)
        outs = {}
        for fmt in ("tsv", "csv"):
            proc = subprocess.run([NSGSIM, "eval", "--format", fmt, "--flows", "-"] +
                                  fixture_args("fixtures/example"), input=text,
                                  capture_output=True, text=True)
            self.assertIn(proc.returncode, (0, 1), proc.stderr)
            outs[fmt] = proc.stdout
        tsv = [line.split("\t") for line in outs["tsv"].splitlines()]
        parsed = list(csv.reader(io.StringIO(outs["csv"])))
        self.assertEqual(parsed[0], ["line", "flow", "verdict", "layer", "rule", "endpoint",
                                     "sourcePorts", "assumptions"])
        self.assertEqual(parsed[1:], tsv)
        self.assertEqual(len(tsv), len(rows))

    def test_at_with_flows_answers_as_single_eval(self):
        rows = [r for r in parse_table("fixtures/example/flows.txt") if r[3]]
        self.assertGreater(len(rows), 0)
        for lineno, flow, expected, opts in rows:
            with self.subTest(line=lineno):
                proc = subprocess.run([NSGSIM, "eval", "--flows", "-", "--at", opts["at"],
                                       "--direction", opts["direction"].upper()] +
                                      fixture_args("fixtures/example"),
                                      input=" ".join(flow) + "\n", capture_output=True, text=True)
                got = proc.stdout.split("\t")
                self.assertEqual([g.lower() for g in got[2:6]], [e.lower() for e in expected])
                self.assertEqual(proc.returncode, 0 if expected[0] == "Allow" else 1)
        proc = subprocess.run([NSGSIM, "eval", "--flows", "-", "--at", "vm-web1-nic",
                               "--direction", "inbound"] + fixture_args("fixtures/example"),
                              input="tcp 10.0.3.4 10.1.1.4:443\n", capture_output=True, text=True)
        self.assertEqual(proc.returncode, 2)  # --at needs a source port, as single eval
        self.assertIn("\terror\tNSGSIM_E_BAD_FLOW\t", proc.stdout)

    def test_tables_with_a_tags_snapshot_print_the_same(self):
        """--service-tags given `nsgsim snapshot-tags` output: byte-identical --json lines."""
        with tempfile.TemporaryDirectory(prefix="nsgsim-flows-") as tmp:
            for i, fixture in enumerate(fixtures_with_tables()):
                rows = [r for r in parse_table(os.path.join(fixture, "flows.txt")) if not r[3]]
                text = "".join(" ".join(r[1]) + "\n" for r in rows)
                args = fixture_args(fixture)
                snap = os.path.join(tmp, "%d.nst" % i)
                made = subprocess.run([NSGSIM, "snapshot-tags", args[3], snap], capture_output=True,
                                      text=True)
                self.assertEqual(made.returncode, 0, made.stderr)
                outs = []
                for tags in (args[3], snap):
                    argv = args[:3] + [tags] + args[4:]
                    proc = subprocess.run([NSGSIM, "eval", "--json", "--flows", "-"] + argv,
                                          input=text, capture_output=True, text=True)
                    outs.append((proc.returncode, proc.stdout, proc.stderr))
                with self.subTest(fixture=fixture):
                    self.assertEqual(outs[0], outs[1])
                    self.assertEqual(len(outs[0][1].splitlines()), len(rows))

    def test_json_lines_and_errors(self):
        flows = "tcp 10.1.1.4:50000 10.2.1.4:22\ntcp nowhere 10.1.1.4:443\n\nicmp 10.0.3.4 10.2.1.4\n"
        proc = subprocess.run([NSGSIM, "eval", "--format", "json", "--flows", "-"] +
                              fixture_args("fixtures/example"), input=flows,
                              capture_output=True, text=True)
        lines = [json.loads(line) for line in proc.stdout.splitlines()]
        self.assertEqual([o["line"] for o in lines], [1, 2, 4])
        self.assertEqual(lines[0]["input"], "tcp 10.1.1.4:50000 10.2.1.4:22")
        self.assertEqual(lines[0]["decidedBy"]["rule"], "DenyProdToDev")
        self.assertEqual(lines[1]["error"]["code"], "NSGSIM_E_BAD_FLOW")
        self.assertEqual(lines[2]["verdict"], "Allow")
        self.assertEqual(proc.returncode, 2)  # a bad line makes the run an error
        legacy = subprocess.run([NSGSIM, "eval", "--json", "--flows", "-"] +
                                fixture_args("fixtures/example"), input=flows,
                                capture_output=True, text=True)
        self.assertEqual(legacy.stdout, proc.stdout)  # --json is --format json

    def test_line_numbers_and_comments(self):
        """Every row carries its input line's number across the digits' carries (9 to 10,
        99 to 100, 999 to 1000, 9999 to 10000: the row's number is kept as text from the row
        before); a comment after a flow, or after a line that is not one, is not part of it:
        the error names the text before the '#', as for the line without the comment."""
        flow = "tcp 10.0.3.4:50000 10.1.1.4:443"
        bad = "tcp nowhere 10.1.1.4:443"
        lines = []
        for n in range(1, 10050):
            lines.append("" if n % 7 == 0 else "# c" if n % 11 == 0
                         else flow + "  # note" if n % 5 == 0 else flow)
        lines[98] = bad + " # why"  # line 99
        lines[99] = bad  # line 100
        proc = subprocess.run([NSGSIM, "eval", "--flows", "-"] + fixture_args("fixtures/example"),
                              input="\n".join(lines) + "\n", capture_output=True, text=True)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        rows = [r.split("\t") for r in proc.stdout.splitlines()]
        want = [str(n) for n in range(1, 10050) if n % 7 and (n % 11 or n in (99, 100))]
        self.assertEqual([r[0] for r in rows], want)
        by_line = {r[0]: r for r in rows}
        self.assertEqual(by_line["99"][1:], by_line["100"][1:])
        self.assertEqual(by_line["99"][1:3], [bad, "error"])
        self.assertEqual(by_line["10"][1], flow)  # "  # note" is not the flow's text
        self.assertEqual(len({tuple(r[1:]) for r in rows if r[0] not in ("99", "100")}), 1)

    def test_jobs_print_what_one_thread_prints(self):
        """--jobs N: the same bytes and exit status as --jobs 1, in input order, over an
        input of several blocks (about 1 MiB each) with comments, blank lines, errors, CRLF,
        flows whose answer depends on the source port, and a last line without a newline."""
        rows = [r for r in parse_table("fixtures/example/flows.txt") if not r[3]]
        lines = [" ".join(r[1]) for r in rows]
        lines += ["# a comment", "", "tcp nowhere 10.1.1.4:443", "  udp 10.0.3.4 10.1.1.4:53\r",
                  "tcp 93.184.216.34 10.1.1.4:443  # every source port", "icmp 10.0.3.4 10.2.1.4"]
        text = "\n".join(lines[i % len(lines)] for i in range(90000)) + "\ntcp 10.0.3.4 10.1.1.5:5986"
        self.assertGreater(len(text), 2 << 20)
        with tempfile.TemporaryDirectory(prefix="nsgsim-jobs-") as tmp:
            path = os.path.join(tmp, "flows.txt")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            for fmt in ("tsv", "csv"):
                outs = {}
                for jobs in ("1", "2", "3"):
                    proc = subprocess.run([NSGSIM, "eval", "--format", fmt, "--jobs", jobs,
                                           "--flows", path] + fixture_args("fixtures/example"),
                                          capture_output=True)
                    outs[jobs] = (proc.returncode, proc.stdout, proc.stderr)
                with self.subTest(format=fmt):
                    self.assertEqual(outs["1"][0], 2)  # the bad line
                    self.assertEqual(outs["2"], outs["1"])
                    self.assertEqual(outs["3"], outs["1"])
                    last = outs["1"][1].decode().splitlines()[-1]
                    self.assertTrue(last.startswith("90001" + ("\t" if fmt == "tsv" else ",")))
        one = "tcp 10.1.1.4:50000 10.2.1.4:22\n"
        for bad in ("0", "x", "65", "-1"):
            proc = subprocess.run([NSGSIM, "eval", "--jobs", bad, "--flows", "-"] +
                                  fixture_args("fixtures/example"), input=one,
                                  capture_output=True, text=True)
            self.assertEqual(proc.returncode, 2, bad)
            self.assertIn("--jobs", proc.stderr)
        proc = subprocess.run([NSGSIM, "eval", "--jobs", "2"] + fixture_args("fixtures/example") +
                              one.split(), capture_output=True, text=True)
        self.assertEqual(proc.returncode, 2)  # --jobs goes with --flows

    def test_engines_agree_on_a_single_flow(self):
        for engine in ("compiled", "linear"):
            proc = subprocess.run([NSGSIM, "eval", "--json", "--engine", engine] +
                                  fixture_args("fixtures/example") +
                                  ["tcp", "10.0.3.4:50000", "10.1.1.5:5986"],
                                  capture_output=True, text=True)
            self.assertEqual(json.loads(proc.stdout)["decidedBy"]["rule"], "AllowMonitoringAlways")
        proc = subprocess.run([NSGSIM, "eval", "--engine", "fast"] + fixture_args("fixtures/example") +
                              ["tcp", "10.0.3.4", "10.1.1.5:5986"], capture_output=True, text=True)
        self.assertEqual(proc.returncode, 2)


GOLDEN_FLOWS = [
    ("example_internet_to_web1", "fixtures/example", ["tcp", "93.184.216.34", "10.1.1.4:443"]),
    ("example_prod_to_dev", "fixtures/example", ["tcp", "10.1.1.4:50000", "10.2.1.4:22"]),
    ("example_always_allow", "fixtures/example", ["tcp", "10.0.3.4:50000", "10.1.1.5:5986"]),
    ("example_icmp", "fixtures/example", ["icmp", "10.0.3.4", "10.2.1.4"]),
    ("w4_bastion_denied", "fixtures/semantics/w4_nsg_diagnostics_bastion_denied", None),
    ("t13_platform_dns", "fixtures/semantics/t13_platform_traffic", None),
    ("t13_platform_dns_denied", "fixtures/semantics/t13_platform_traffic",
     ["udp", "10.0.2.4:50000", "168.63.129.16:53"]),
    # A VNet in a network group by Azure Policy: the trace names the definition.
    ("t27_policy_member", "fixtures/semantics/t27_policy_network_groups",
     ["tcp", "52.1.2.3:50000", "10.3.0.4:1007"]),
]


class GoldenExplanations(unittest.TestCase):
    def check_golden(self, name, text):
        path = os.path.join(GOLDEN, name)
        if UPDATE:
            os.makedirs(GOLDEN, exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
        with open(path, encoding="utf-8") as f:
            self.assertEqual(text, f.read(), "golden %s differs" % path)

    def test_goldens(self):
        for name, fixture, flow in GOLDEN_FLOWS:
            if flow is None:  # the first row of the fixture's table
                flow = parse_table(os.path.join(fixture, "flows.txt"))[0][1]
            for mode, extra in (("txt", []), ("verbose.json", ["--json", "--verbose"])):
                with self.subTest(name=name, mode=mode):
                    proc = subprocess.run([NSGSIM, "eval"] + extra + fixture_args(fixture) + flow,
                                          capture_output=True, text=True)
                    self.assertIn(proc.returncode, (0, 1), proc.stderr)
                    self.check_golden("%s.%s" % (name, mode), proc.stdout)

    def test_source_ports_that_differ(self):
        # An NSG rule restricted by source port: the answer differs by port.
        rg = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network"
        rule = lambda name, prio, access, sport: {
            "name": name, "properties": {
                "protocol": "Tcp", "sourcePortRange": sport, "destinationPortRange": "80",
                "sourceAddressPrefix": "*", "destinationAddressPrefix": "*",
                "access": access, "priority": prio, "direction": "Inbound"}}
        env = [
            {"id": rg + "/networkSecurityGroups/nsg", "name": "nsg",
             "type": "Microsoft.Network/networkSecurityGroups",
             "properties": {"securityRules": [rule("Deny-Low-Ports", 100, "Deny", "0-1023"),
                                              rule("Allow-Web", 110, "Allow", "*")]}},
            {"id": rg + "/virtualNetworks/v", "name": "v", "type": "Microsoft.Network/virtualNetworks",
             "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                            "subnets": [{"name": "s", "properties": {
                                "addressPrefix": "10.0.0.0/24",
                                "networkSecurityGroup": {"id": rg + "/networkSecurityGroups/nsg"}}}]}}]
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "env.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(env, f)
            base = [NSGSIM, "eval", "--env", path]
            proc = subprocess.run(base + ["--json", "tcp", "52.1.2.3", "10.0.0.4:80"],
                                  capture_output=True, text=True)
            self.assertEqual(proc.returncode, 1, proc.stderr)
            out = json.loads(proc.stdout)
            self.assertEqual(out["verdict"], "Deny")
            self.assertEqual(out["decidedBy"]["rule"], "Deny-Low-Ports")
            ranges = [(r["from"], r["to"], r["verdict"], r["decidedBy"]["rule"])
                      for r in out["sourcePorts"]]
            self.assertEqual(ranges, [(0, 1023, "Deny", "Deny-Low-Ports"),
                                      (1024, 65535, "Allow", "Allow-Web")])
            self.assertIn("source-ports-differ", [a["id"] for a in out["assumptions"]])
            text = subprocess.run(base + ["tcp", "52.1.2.3", "10.0.0.4:80"],
                                  capture_output=True, text=True).stdout
            self.assertIn("Not every source port gets the same answer", text)
            one = subprocess.run(base + ["--json", "tcp", "52.1.2.3:2000", "10.0.0.4:80"],
                                 capture_output=True, text=True)
            self.assertEqual(one.returncode, 0)
            self.assertEqual(json.loads(one.stdout)["decidedBy"]["rule"], "Allow-Web")
            # --flows prints every range too, each line numbered with the flow's line
            many = subprocess.run(base + ["--flows", "-"], capture_output=True, text=True,
                                  input="tcp 52.1.2.3 10.0.0.4:80\ntcp 52.1.2.3:2000 10.0.0.4:80\n")
            self.assertEqual(many.returncode, 1, many.stderr)
            self.assertEqual(many.stdout.splitlines(), [
                "1\ttcp 52.1.2.3 10.0.0.4:80\tDeny\tSubnetNsg\tDeny-Low-Ports\tdestination\t0-1023"
                "\tunassigned-address",
                "1\ttcp 52.1.2.3 10.0.0.4:80\tAllow\tSubnetNsg\tAllow-Web\tdestination\t1024-65535"
                "\tunassigned-address",
                "2\ttcp 52.1.2.3:2000 10.0.0.4:80\tAllow\tSubnetNsg\tAllow-Web\tdestination\t2000"
                "\tunassigned-address"])

    def test_neither_endpoint_modelled_is_an_error(self):
        proc = subprocess.run([NSGSIM, "eval"] + fixture_args("fixtures/example") +
                              ["tcp", "192.0.2.1:1", "192.0.2.2:2"], capture_output=True, text=True)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("NSGSIM_E_NOT_MODELLED", proc.stderr)
        self.assertEqual(proc.stdout, "")

    def test_bad_flows_are_usage_errors(self):
        for flow in (["tcp", "10.1.1.4", "10.1.2.4"], ["gre", "10.1.1.4", "10.1.2.4:1"],
                     ["icmp", "10.1.1.4:5", "10.1.2.4"], ["tcp", "2001:db8::1:443", "10.0.0.1:1"]):
            with self.subTest(flow=flow):
                proc = subprocess.run([NSGSIM, "eval"] + fixture_args("fixtures/example") + flow,
                                      capture_output=True, text=True)
                self.assertEqual(proc.returncode, 2)
                self.assertIn("NSGSIM_E_BAD_FLOW", proc.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=1)
