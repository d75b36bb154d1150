#!/usr/bin/env python3
"""The command line as a new user meets it: help for every command, usage
errors that are one line and a pointer to --help, options a command does not
take refused (never ignored), a value option given twice refused, fixed values
in any case, `nsgsim list`, the closest names for a NIC that is not found, and
an --env that holds nothing to model.
"""
import json
import os
import subprocess
import tempfile
import unittest

NSGSIM = os.environ.get("NSGSIM", "./build/nsgsim")
ENV = ["--env", "fixtures/example/env", "--service-tags",
       "fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json", "-q"]
COMMANDS = ["eval", "effective", "reach", "diff", "matrix", "check", "list", "lint", "show",
            "snapshot-tags", "compile", "replay", "version"]


def run(*args, stdin=None):
    return subprocess.run([NSGSIM, *args], capture_output=True, text=True, input=stdin)


class Help(unittest.TestCase):
    def test_every_command_has_its_own_help(self):
        seen = set()
        for cmd in COMMANDS:
            for flag in ("--help", "-h"):
                with self.subTest(cmd=cmd, flag=flag):
                    p = run(cmd, flag)
                    self.assertEqual(p.returncode, 0, p.stderr)
                    self.assertEqual(p.stderr, "")
                    self.assertTrue(p.stdout.startswith("usage: nsgsim %s" % cmd), p.stdout)
                    if cmd != "version":
                        self.assertIn("example", p.stdout)
                    seen.add(p.stdout)
            self.assertEqual(run("help", cmd).stdout, run(cmd, "--help").stdout)
        self.assertEqual(len(seen), len(COMMANDS))  # no two commands share a text

    def test_help_wins_over_other_arguments(self):
        p = run("eval", "--env", "no/such/dir", "--bogus", "--help")
        self.assertEqual(p.returncode, 0)
        self.assertTrue(p.stdout.startswith("usage: nsgsim eval"))

    def test_top_level(self):
        p = run("--help")
        self.assertEqual(p.returncode, 0)
        for cmd in COMMANDS:
            self.assertIn("  %s " % cmd, p.stdout)
        p = run()
        self.assertEqual(p.returncode, 2)
        self.assertIn("usage: nsgsim COMMAND", p.stderr)


class UsageErrors(unittest.TestCase):
    def usage_error(self, cmd, args, needle):
        p = run(cmd, *args)
        self.assertEqual(p.returncode, 2, p.stdout)
        self.assertEqual(p.stdout, "")
        lines = p.stderr.splitlines()
        self.assertEqual(len(lines), 2, p.stderr)  # one line, then where to look
        self.assertTrue(lines[0].startswith("nsgsim %s: " % cmd), lines[0])
        self.assertIn(needle, lines[0])
        self.assertEqual(lines[1], "Try 'nsgsim %s --help'." % cmd)

    def test_options_a_command_does_not_take_are_refused(self):
        flow = ["tcp", "93.184.216.34", "10.1.1.4:443"]
        for cmd, args, needle in [
            ("eval", ["--format", "json"] + flow, "--format goes with --flows"),
            ("eval", ["--flows", "-", "--format", "bogus"], "--format takes tsv, csv or json, not 'bogus'"),
            ("effective", ["--verbose", "vm-web1-nic"], "--verbose is not an option of effective"),
            ("effective", ["--junit", "x.xml", "vm-web1-nic"], "--junit is not an option of effective"),
            ("effective", ["--json", "vm-web1-nic"], "--json is not an option of effective"),
            ("eval", ["--junit", "x.xml"] + flow, "--junit is not an option of eval"),
            ("check", ["--at", "vm-web1-nic", "a.txt"], "--at is not an option of check"),
            ("reach", ["--to", "vm-db1-nic", "--rules"], "--rules is not an option of reach"),
            ("diff", ["--env", "x", "--after", "y"], "--env is not an option of diff"),
            ("list", ["nics", "--verbose"], "--verbose is not an option of list"),
            ("snapshot-tags", ["-q", "a", "b"], "--quiet is not an option of snapshot-tags"),
            ("eval", ["--frobnicate"] + flow, "unknown option --frobnicate"),
        ]:
            with self.subTest(cmd=cmd, args=args):
                self.usage_error(cmd, ENV + args if cmd != "diff" and cmd != "snapshot-tags"
                                 else args, needle)

    def test_a_value_option_twice_is_refused(self):
        for opt, value in [("--service-tags", ENV[3]), ("--at", "vm-web1-nic"),
                           ("--direction", "inbound"), ("--engine", "linear")]:
            with self.subTest(opt=opt):
                self.usage_error("eval", ENV + [opt, value, opt, value, "tcp", "1.2.3.4:1",
                                                "10.1.1.4:443"], "%s was given twice" % opt)

    def test_bad_choices_name_the_choices(self):
        flow = ["tcp", "10.0.3.4:50000", "10.1.1.4:22"]
        self.usage_error("eval", ENV + ["--at", "vm-web1-nic", "--direction", "sideways"] + flow,
                         "--direction takes inbound or outbound, not 'sideways'")
        self.usage_error("eval", ENV + ["--engine", "fast"] + flow,
                         "--engine takes compiled or linear, not 'fast'")
        self.usage_error("list", ENV + ["vms"], "list takes nics, subnets, nsgs, asgs or managers")
        self.usage_error("eval", ENV + ["--at", "vm-web1-nic"] + flow, "--at and --direction go together")
        p = run("nosuch")
        self.assertEqual(p.stderr.splitlines(), ["nsgsim: unknown command 'nosuch'",
                                                 "Try 'nsgsim --help'."])

    def test_fixed_values_in_any_case(self):
        flow = ["TCP", "10.0.3.4:50000", "10.1.1.4:22"]
        ref = run("eval", *ENV, "--json", "--at", "vm-web1-nic", "--direction", "inbound",
                  "--engine", "compiled", *[f.lower() for f in flow])
        self.assertIn(ref.returncode, (0, 1), ref.stderr)
        for direction, engine in [("Inbound", "COMPILED"), ("INBOUND", "Compiled")]:
            p = run("eval", *ENV, "--json", "--at", "vm-web1-nic", "--direction", direction,
                    "--engine", engine, *flow)
            self.assertEqual((p.returncode, p.stdout), (ref.returncode, ref.stdout), p.stderr)
        for fmt in ("TABLE", "Json"):
            self.assertEqual(run("effective", *ENV, "--format", fmt, "vm-web1-nic").returncode, 0)
        p = run("reach", *ENV, "--to", "vm-db1-nic", "--protocol", "TCP,Udp", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["query"]["protocols"], ["Tcp", "Udp"])

    def test_option_equals_value(self):
        a = run("effective", *ENV, "--format=table", "vm-web1-nic")
        b = run("effective", *ENV, "--format", "table", "vm-web1-nic")
        self.assertEqual((a.returncode, a.stdout), (b.returncode, b.stdout))
        self.assertEqual(a.returncode, 0, a.stderr)


class List(unittest.TestCase):
    def test_lists_every_kind_with_ids(self):
        counts = {}
        for kind in ("nics", "subnets", "nsgs", "asgs", "managers"):
            with self.subTest(kind=kind):
                p = run("list", kind, *ENV, "--json")
                self.assertEqual(p.returncode, 0, p.stderr)
                rows = json.loads(p.stdout)
                counts[kind] = len(rows)
                for r in rows:
                    self.assertEqual(sorted(r), ["file", "id", "name", "pointer"])
                    self.assertTrue(r["id"].lower().startswith("/subscriptions/"), r)
                    self.assertTrue(r["id"].endswith("/" + r["name"]), r)
                    self.assertTrue(r["file"].startswith("fixtures/example/env"), r)
                table = run("list", kind.upper(), *ENV).stdout.splitlines()
                self.assertEqual(table[0].split(), ["NAME", "ID"])
                self.assertEqual([line.split()[-1] for line in table[1:]], [r["id"] for r in rows])
        self.assertEqual(counts["nics"], 5)
        self.assertGreater(counts["subnets"], 3)
        self.assertGreater(counts["managers"], 0)
        names = [r["name"] for r in json.loads(run("list", "nics", *ENV, "--json").stdout)]
        self.assertIn("vm-web1-nic", names)
        # every listed NIC is a name effective takes
        for name in names:
            self.assertEqual(run("effective", *ENV, "--format", "json", name).returncode, 0)


class NotFound(unittest.TestCase):
    def test_a_misspelt_nic_gets_the_closest_names(self):
        p = run("effective", *ENV, "vm-web1-nci")
        self.assertEqual(p.returncode, 2)
        self.assertIn("(did you mean 'vm-web1-nic'?)", p.stderr)  # a swap is one edit
        p = run("effective", *ENV, "vm-web-nic")
        self.assertIn("(did you mean 'vm-web1-nic' or 'vm-web2-nic'?)", p.stderr)  # ties
        self.assertIn("it has 5 NICs (`nsgsim list nics` lists them)", p.stderr)
        self.assertIn("NSGSIM_E_NOT_FOUND", p.stderr)
        p = run("eval", *ENV, "--at", "VM-DB1-NIK", "--direction", "inbound", "tcp",
                "10.1.1.4:5", "10.1.2.4:1433")
        self.assertIn("did you mean 'vm-db1-nic'?", p.stderr)  # case does not count
        p = run("effective", *ENV, "completely-unrelated-name")
        self.assertNotIn("did you mean", p.stderr)
        self.assertIn("`nsgsim list nics`", p.stderr)


class EmptyInput(unittest.TestCase):
    def test_an_empty_directory_says_so(self):
        with tempfile.TemporaryDirectory() as tmp:
            p = run("eval", "--env", tmp, "tcp", "1.2.3.4", "10.0.0.4:80")
            self.assertEqual(p.returncode, 2)
            self.assertIn("%s: the directory holds no .json file" % tmp, p.stderr)
            self.assertIn("NSGSIM_E_IO", p.stderr)

    def test_no_network_resource_says_so(self):
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "vm.json"), "w", encoding="utf-8") as f:
                json.dump({"value": [{"type": "Microsoft.Compute/virtualMachines", "name": "x",
                                      "id": "/subscriptions/1/resourceGroups/r/providers/"
                                            "Microsoft.Compute/virtualMachines/x"}]}, f)
            for cmd in (["eval", "tcp", "1.2.3.4", "10.0.0.4:80"], ["list", "nics"],
                        ["reach", "--to", "10.0.0.4"]):
                with self.subTest(cmd=cmd[0]):
                    p = run(cmd[0], "--env", tmp, "-q", *cmd[1:])
                    self.assertEqual(p.returncode, 2)
                    self.assertEqual(p.stdout, "")
                    self.assertIn("no file of %s holds a network resource" % tmp, p.stderr)
                    self.assertIn("What to export", p.stderr)


class Ipv6(unittest.TestCase):
    def test_addresses_with_ports_are_bracketed(self):
        p = run("eval", *ENV, "tcp", "[fd00:db8:0:3::4]:50000", "[2603:1020:200::10]:443")
        self.assertIn(p.returncode, (0, 1), p.stderr)
        self.assertEqual(p.stdout.splitlines()[0],
                         "Flow: Tcp [fd00:db8:0:3::4]:50000 -> [2603:1020:200::10]:443")
        p = run("eval", *ENV, "tcp", "fd00:db8:0:3::4", "[2603:1020:200::10]:443")
        self.assertEqual(p.stdout.splitlines()[0],
                         "Flow: Tcp [fd00:db8:0:3::4]:any -> [2603:1020:200::10]:443")
        p = run("eval", *ENV, "icmp", "fd00:db8:0:3::4", "2603:1020:200::10")
        self.assertEqual(p.stdout.splitlines()[0], "Flow: Icmp fd00:db8:0:3::4 -> 2603:1020:200::10")


class Citations(unittest.TestCase):
    """What nsgsim prints cites docs/SEMANTICS.md, which ships with it: every section
    and decision cited there exists."""

    def test_cited_sections_exist(self):
        import glob
        import re
        with open("docs/SEMANTICS.md", encoding="utf-8") as f:
            doc = f.read()
        sections = set(re.findall(r"^#+ (\d+(?:\.\d+)?)[. ]", doc, re.M))
        decisions = set(re.findall(r"^\| (\d+)\. ", doc[doc.index("## 11."):], re.M))
        cited = 0
        for path in ["include/nsgsim.h"] + glob.glob("lib/*/*.c") + glob.glob("cli/*.c"):
            with open(path, encoding="utf-8") as f:
                text = re.sub(r'"\s*\\?\n\s*"', "", f.read())  # join split string literals
            for sec, dec in re.findall(r'docs/SEMANTICS\.md §(\d+(?:\.\d+)?)(?: decision (\d+))?', text):
                cited += 1
                self.assertIn(sec, sections, path)
                if dec:
                    self.assertEqual(sec, "11", path)
                    self.assertIn(dec, decisions, path)
        self.assertGreaterEqual(cited, 9)
        p = run("eval", *ENV, "tcp", "93.184.216.34", "10.1.1.4:443")
        self.assertIn("(docs/SEMANTICS.md §11 decision 8)", p.stdout)
        self.assertNotRegex(p.stdout, r"\(§")  # no bare section numbers


class InvalidUtf8(unittest.TestCase):
    """An environment or service-tags file that is not UTF-8 is refused at the byte
    (issue 16), the same way on both JSON paths."""

    def test_refused_at_the_byte(self):
        with tempfile.TemporaryDirectory() as tmp:
            env = os.path.join(tmp, "env.json")
            with open(env, "wb") as f:
                f.write(b'[{"id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/'
                        b'networkSecurityGroups/n\xe9", "name": "n\xe9",\n'
                        b'  "type": "Microsoft.Network/networkSecurityGroups"}]')
            p = run("list", "nsgs", "--env", env)
            self.assertEqual(p.returncode, 2)
            self.assertEqual(p.stdout, "")
            self.assertIn("%s:1:95: malformed UTF-8 (byte 0xE9" % env, p.stderr)
            self.assertIn("[NSGSIM_E_JSON]", p.stderr)
            tags = os.path.join(tmp, "tags.json")
            with open(tags, "wb") as f:
                f.write(b'{"changeNumber": 1, "cloud": "Public", "values": [\n'
                        b' {"name": "T\xff", "id": "T", "properties": {"addressPrefixes": []}}]}')
            p = run("snapshot-tags", tags, os.path.join(tmp, "t.nst"))
            self.assertEqual(p.returncode, 2)
            self.assertIn("%s:2:13: malformed UTF-8 (byte 0xFF" % tags, p.stderr)


class UnassignedAddresses(unittest.TestCase):
    """An address no NIC holds is answered at its subnet, and says so (issue 16)."""

    def test_every_output_says_so(self):
        flow = ["tcp", "10.1.1.4:5000", "10.1.2.44:1433"]
        text = run("eval", *ENV, *flow).stdout
        self.assertIn("Assumption: an address inside a subnet that no NIC's ipConfiguration "
                      "holds is evaluated at the subnet alone", text)
        js = json.loads(run("eval", *ENV, "--json", *flow).stdout)
        self.assertIn("unassigned-address", [a["id"] for a in js["assumptions"]])
        self.assertIsNone(js["evaluations"][1]["nic"])
        line = run("eval", *ENV, "--flows", "-", stdin=" ".join(flow) + "\n").stdout
        self.assertEqual(line.rstrip("\n").split("\t")[-1], "unassigned-address")
        # ... even when the source denies first and the subnet is never walked
        line = run("eval", *ENV, "--flows", "-", stdin="tcp 10.1.2.44:5 10.2.1.4:22\n").stdout
        self.assertIn("unassigned-address", line.split("\t")[-1])
        # a NIC's own address carries no such assumption
        line = run("eval", *ENV, "--flows", "-", stdin="tcp 10.1.1.4:5 10.1.2.4:1433\n").stdout
        self.assertNotIn("unassigned-address", line)

    def test_at_nic_takes_only_its_addresses(self):
        p = run("eval", *ENV, "--at", "vm-web1-nic", "--direction", "inbound",
                "tcp", "10.0.3.4:5", "10.1.1.9:443")
        self.assertEqual(p.returncode, 2)
        self.assertIn("the destination address is not one of NIC vm-web1-nic's (10.1.1.4)",
                      p.stderr)
        p = run("eval", *ENV, "--at", "vm-web1-nic", "--direction", "outbound",
                "tcp", "10.1.1.9:5", "10.0.3.4:443")
        self.assertIn("the source address is not one of NIC vm-web1-nic's", p.stderr)
        p = run("eval", *ENV, "--at", "vm-web1-nic", "--direction", "inbound",
                "tcp", "10.0.3.4:5", "10.1.1.4:443")
        self.assertIn(p.returncode, (0, 1), p.stderr)


class DocsFollowTheCli(unittest.TestCase):
    """The man page and the bash completion know every option each command's --help
    shows, and the completion offers nothing the command refuses."""

    def test_every_option_is_documented_and_completed(self):
        import re
        with open("docs/nsgsim.1", encoding="utf-8") as f:
            man = f.read().replace("\\-", "-")
        script = ('. completion/nsgsim.bash; for c in %s; do echo "$c:$(_nsgsim_options $c)"; done'
                  % " ".join(COMMANDS))
        out = subprocess.run(["bash", "-c", script], capture_output=True, text=True).stdout
        completed = {line.split(":", 1)[0]: set(line.split(":", 1)[1].split())
                     for line in out.splitlines()}
        for cmd in COMMANDS:
            with self.subTest(cmd=cmd):
                help_text = run(cmd, "--help").stdout
                usage = help_text.split("\n\n", 1)[0]  # the usage lines
                listed = "\n".join(l for l in help_text.splitlines() if l.startswith("  -"))
                shown = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*|-[a-z])\b", usage + "\n" + listed))
                shown.add("--help")
                self.assertLessEqual(shown - {"--option"}, completed[cmd] | {"--help"}, cmd)
                for opt in shown:
                    self.assertIn(opt, man, "%s %s is not in docs/nsgsim.1" % (cmd, opt))
                for opt in completed[cmd] - {"--help"}:
                    if opt.startswith("--"):
                        p = run(cmd, opt, "x") if opt not in ("--json", "--verbose", "--quiet",
                                                             "--allowed-only", "--rules",
                                                             "--allow-unassigned") else run(cmd, opt)
                        self.assertNotIn("is not an option of", p.stderr, (cmd, opt))


class UnknownNetworkGroup(unittest.TestCase):
    """A network group used by admin rules with no static members (and no Azure Policy)
    has unknown members: a warning at load, and the empty-network-group assumption in
    every answer at a VNet its manager reaches (issue 16)."""

    def test_warning_and_assumption(self):
        import shutil
        with tempfile.TemporaryDirectory() as tmp:
            env = os.path.join(tmp, "env")
            shutil.copytree("fixtures/example/env", env)
            path = os.path.join(env, "avnm", "static-members.json")
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
            doc = [m for m in doc if "/networkGroups/ng-prod/" not in m["id"]]  # a JSON array
            with open(path, "w", encoding="utf-8") as f:
                json.dump(doc, f)
            args = ["--env", env, "--service-tags", ENV[3]]
            p = run("eval", *args, "--json", "tcp", "10.1.1.4:50000", "10.2.1.4:22")
            self.assertIn(p.returncode, (0, 1), p.stderr)
            self.assertIn("network group 'ng-prod' has no static members", p.stderr)
            out = json.loads(p.stdout)
            self.assertIn("empty-network-group", [a["id"] for a in out["assumptions"]])
            # DenyProdToDev (a collection applied to ng-prod) no longer decides
            self.assertNotEqual(out["decidedBy"]["rule"], "DenyProdToDev")
        p = run("eval", *ENV, "--json", "tcp", "10.1.1.4:50000", "10.2.1.4:22")
        out = json.loads(p.stdout)
        self.assertEqual(out["decidedBy"]["rule"], "DenyProdToDev")
        self.assertNotIn("empty-network-group", [a["id"] for a in out["assumptions"]])


class Lint(unittest.TestCase):
    """nsgsim lint: findings as text and JSON, filtered, with an exit status for CI."""
    T14 = ["--env", "fixtures/semantics/t14_admin_allow_not_terminal/env", "--service-tags",
           ENV[3], "-q"]

    def test_json_schema_and_exit_status(self):
        p = run("lint", *self.T14, "--json")
        self.assertEqual(p.returncode, 1, p.stderr)  # errors fail by default
        doc = json.loads(p.stdout)
        keys = ["id", "level", "resource", "rule", "file", "pointer", "line", "message", "evidence"]
        for f in doc["findings"]:
            self.assertEqual(list(f), keys)
            self.assertIn(f["level"], ("note", "warning", "error"))
        ids = [f["id"] for f in doc["findings"]]
        self.assertEqual(ids.count("broad-always-allow"), 2)
        self.assertEqual(doc["summary"], {"findings": 9, "error": 2, "warning": 7, "note": 0})
        self.assertEqual(sorted(set(ids)),
                         ["broad-always-allow", "exposed-port", "never-decides", "open-to-any"])
        # The NSG Denies that the admin AlwaysAllow rules pre-empt (SEMANTICS.md T14).
        nd = {f["rule"].rsplit("/", 1)[1]: f for f in doc["findings"] if f["id"] == "never-decides"}
        self.assertEqual(sorted(nd), ["Nic-Deny-9090", "Subnet-Deny-8080"])
        self.assertEqual([b["name"] for b in nd["Subnet-Deny-8080"]["evidence"]["endedFirstBy"]],
                         ["AlwaysAllow-8080"])
        p = run("lint", *self.T14, "--skip", "broad-always-allow")
        self.assertEqual(p.returncode, 0)
        self.assertIn("0 errors", p.stdout)
        p = run("lint", *self.T14, "--only", "unattached-nsg,no-filtering", "--json")
        self.assertEqual(json.loads(p.stdout)["findings"], [])

    def test_lines_and_sarif(self):
        """Each finding's line is where its rule's or resource's object starts; --sarif
        writes the same findings as SARIF 2.1.0, valid against OASIS's schema."""
        import jsonschema
        sarif = os.path.join(tempfile.mkdtemp(), "lint.sarif")
        p = run("lint", *self.T14, "--json", "--sarif", sarif)
        self.assertEqual(p.returncode, 1, p.stderr)
        findings = json.loads(p.stdout)["findings"]
        for f in findings:
            self.assertIsInstance(f["line"], int, f)
            with open(f["file"]) as fh:
                lines = fh.read().split("\n")
            self.assertIn("{", lines[f["line"] - 1], f)
            if f["id"] in ("shadowed-rule", "never-decides", "broad-always-allow"):
                # located at the rule's own object: its name follows
                name = f["rule"].rsplit("/", 1)[1]
                self.assertIn('"%s"' % name, "\n".join(lines[f["line"] - 1:f["line"] + 3]), f)
        with open("fixtures/sarif/sarif-schema-2.1.0.json") as fh:
            schema = json.load(fh)
        with open(sarif) as fh:
            log = json.load(fh)
        jsonschema.validate(log, schema, cls=jsonschema.Draft4Validator)
        run0 = log["runs"][0]
        driver = run0["tool"]["driver"]
        self.assertEqual(driver["name"], "nsgsim")
        rule_ids = [r["id"] for r in driver["rules"]]
        self.assertIn("never-decides", rule_ids)
        for r in driver["rules"]:
            self.assertTrue(r["shortDescription"]["text"] and r["help"]["text"], r)
            self.assertIn(r["defaultConfiguration"]["level"], ("note", "warning", "error"))
        self.assertEqual(len(run0["results"]), len(findings))
        for res, f in zip(run0["results"], findings):
            self.assertEqual((res["ruleId"], res["level"], res["message"]["text"]),
                             (f["id"], f["level"], f["message"]))
            self.assertEqual(rule_ids[res["ruleIndex"]], f["id"])
            loc = res["locations"][0]
            self.assertEqual(loc["physicalLocation"]["artifactLocation"]["uri"], f["file"])
            self.assertFalse(os.path.isabs(f["file"]))
            self.assertEqual(loc["physicalLocation"]["region"]["startLine"], f["line"])
            self.assertEqual(loc["logicalLocations"][0]["fullyQualifiedName"],
                             f["rule"] or f["resource"])
        # An absolute input path is still written relative to the working directory.
        absolute = ["--env", os.path.abspath(self.T14[1])] + self.T14[2:]
        run("lint", *absolute, "--sarif", sarif)
        with open(sarif) as fh:
            uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    for r in json.load(fh)["runs"][0]["results"]}
        self.assertTrue(uris and all(u.startswith("fixtures/semantics/") for u in uris), uris)
        p = run("lint", *self.T14, "--sarif", "/nonexistent/dir/x.sarif")
        self.assertEqual(p.returncode, 2)
        self.assertIn("cannot write /nonexistent/dir/x.sarif", p.stderr)

    def test_fail_on_and_bad_ids(self):
        t12 = ["--env", "fixtures/semantics/t12_protocols_without_ports/env", "-q"]
        self.assertEqual(run("lint", *t12).returncode, 0)  # a warning only
        self.assertEqual(run("lint", *t12, "--fail-on", "warning").returncode, 1)
        self.assertEqual(run("lint", *t12, "--fail-on", "ERROR").returncode, 0)
        p = run("lint", *t12, "--only", "shadowed-rules")
        self.assertEqual(p.returncode, 2)
        self.assertIn("--only: no check 'shadowed-rules'", p.stderr)
        text = run("lint", *t12).stdout
        self.assertIn("warning shadowed-rule  fixtures/semantics/t12_protocols_without_ports/env/"
                      "networkSecurityGroups.json:/value/0/properties/securityRules/3", text)
        self.assertIn("matches no flow: an ICMP, ESP or AH flow", text)
        self.assertIn("warning exposed-port  ", text)  # no NSG on the NICs' subnet: open
        self.assertTrue(text.endswith("3 findings: 0 errors, 3 warnings, 0 notes\n"))


if __name__ == "__main__":
    unittest.main()
