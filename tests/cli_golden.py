#!/usr/bin/env python3
"""Golden tests for the nsgsim command line (Python standard library only).

    NSGSIM=./build/nsgsim python3 tests/cli_golden.py        # make check-cli
    NSGSIM_UPDATE_GOLDEN=1 python3 tests/cli_golden.py        # rewrite tests/golden/*

What is checked:
- `effective` for the myers lab (fixtures/effective_myers/, scenarios 0-4, hub
  and spoke NIC) against REAL `az network nic list-effective-nsg` outputs:
  everything but `tagMap` must be equal.  The real `tagMap` is a Python-repr
  string (an az bug); it is parsed with ast.literal_eval and compared too, and
  ours must be a JSON object whose keys are exactly the tags the group's
  rules use, each equal to the rules' expanded lists.
- `effective` (table and JSON) for three NICs of the bundled example, against
  the golden files in tests/golden/.  Read a regenerated golden before
  committing it.
- Errors: exit status 2 and a stderr naming the file, the JSON pointer and the
  error (tests/golden/bad/ holds the bad inputs).
- `snapshot-tags`: its line on stderr and the hash of its output
  (tests/golden/snapshot/), written atomically and deterministically; with
  the snapshot as --service-tags, `effective` matches the same goldens and
  `eval` prints exactly what it prints with the JSON; a damaged snapshot is a
  clear error.
- `compile`: its line on stderr and the hash of its output (tests/golden/nsgp/);
  with --policy every command prints exactly what it prints with --env (and
  `eval --json --verbose` matches a golden); diff takes the file as
  --before/--after; a damaged file is a clear error.

The binary comes from $NSGSIM (default ./build/nsgsim, relative to the
current directory); the commands run from the repository root.
"""

import ast
import hashlib
import ipaddress
import json
import os
import re
import struct
import sys
import tempfile
import unittest

from goldens import GOLDEN, NSGSIM, ROOT, UPDATE, GoldenFiles, run

MYERS = "fixtures/effective_myers"
MYERS_TAGS = MYERS + "/internet_override_tags.json"
EXAMPLE_ENV = "fixtures/example/env"
EXAMPLE_TAGS = "fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json"
EXAMPLE_NICS = ["vm-web1-nic", "vm-db1-nic", "vm-jump-nic"]
ALL_EXAMPLE_NICS = EXAMPLE_NICS + ["vm-web2-nic", "vm-dev1-nic"]

EXIT_ERROR = 2


def effective(env, tags, nic, fmt):
    args = ["effective", "--env", env]
    if tags:
        args += ["--service-tags", tags]
    return run(*args, "--format", fmt, nic)


def is_cidr(text):
    try:
        ipaddress.ip_network(text, strict=False)
        return True
    except ValueError:
        return False


def asg_names(env_dir):
    """The names of the ASGs an environment mentions (leaf of any ASG id)."""
    names = set()

    def walk(v):
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
        elif isinstance(v, str):
            m = re.search(r"/applicationSecurityGroups/([^/]+)$", v, re.I)
            if m:
                names.add(m.group(1))

    for dirpath, _, files in os.walk(os.path.join(ROOT, env_dir)):
        for f in files:
            if f.endswith(".json"):
                with open(os.path.join(dirpath, f), encoding="utf-8") as fh:
                    walk(json.load(fh))
    return names


def rule_label(group_index, rules, i):
    name = rules[i].get("name", "?") if isinstance(rules[i], dict) else "?"
    return "value[%d].effectiveSecurityRules[%d] (%s)" % (group_index, i, name)


def short(v, limit=12):
    if isinstance(v, list) and len(v) > limit:
        return "[%s, ... %d items]" % (", ".join(json.dumps(x) for x in v[:limit]), len(v))
    return json.dumps(v)


def explain_list(ours, theirs):
    """Extra detail for two different lists of strings (prefix lists)."""
    if not (isinstance(ours, list) and isinstance(theirs, list)):
        return ""
    if set(map(str, ours)) == set(map(str, theirs)):
        return "\n    same items, different order"
    missing = [x for x in theirs if x not in ours]
    extra = [x for x in ours if x not in theirs]
    return "\n    missing from ours: %s\n    extra in ours: %s" % (short(missing), short(extra))


def first_difference(ours, theirs, path=""):
    """A readable description of the first place ours and theirs differ."""
    if type(ours) is not type(theirs) and not (ours is None or theirs is None):
        return "%s: type %s (ours) vs %s (Azure)" % (
            path or "/",
            type(ours).__name__,
            type(theirs).__name__,
        )
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for k in sorted(set(ours) | set(theirs)):
            if k not in ours:
                return "%s.%s: missing from ours (Azure: %s)" % (path, k, short(theirs[k]))
            if k not in theirs:
                return "%s.%s: not in Azure's output (ours: %s)" % (path, k, short(ours[k]))
            d = first_difference(ours[k], theirs[k], "%s.%s" % (path, k))
            if d:
                return d
        return None
    if isinstance(ours, list) and isinstance(theirs, list):
        # A list of rules: say which rule, by name.
        if path.endswith("effectiveSecurityRules"):
            g = int(re.search(r"value\[(\d+)\]", path).group(1))
            for i in range(max(len(ours), len(theirs))):
                if i >= len(ours):
                    return "%s: missing from ours" % rule_label(g, theirs, i)
                if i >= len(theirs):
                    return "%s: not in Azure's output" % rule_label(g, ours, i)
                d = first_difference(ours[i], theirs[i], "")
                if d:
                    return rule_label(g, theirs, i) + d
            return None
        if ours != theirs:
            if all(not isinstance(x, (dict, list)) for x in ours + theirs):
                return "%s:\n    ours:  %s\n    Azure: %s%s" % (
                    path,
                    short(ours),
                    short(theirs),
                    explain_list(ours, theirs),
                )
            if len(ours) != len(theirs):
                return "%s: %d items (ours) vs %d (Azure)" % (path, len(ours), len(theirs))
            for i, (a, b) in enumerate(zip(ours, theirs)):
                d = first_difference(a, b, "%s[%d]" % (path, i))
                if d:
                    return d
        return None
    if ours != theirs:
        return "%s: %s (ours) vs %s (Azure)" % (path, short(ours), short(theirs))
    return None


class TagMapChecks:
    """Checks that a group's tagMap agrees with its rules."""

    def check_tag_maps(self, doc, asgs, context):
        for gi, group in enumerate(doc["value"]):
            where = "%s value[%d]" % (context, gi)
            tag_map = group.get("tagMap")
            self.assertIsInstance(tag_map, dict, "%s: tagMap is not a JSON object" % where)
            used = set()
            for rule in group["effectiveSecurityRules"]:
                for side in ("source", "destination"):
                    values = list(rule.get(side + "AddressPrefixes") or [])
                    single = rule.get(side + "AddressPrefix")
                    if single:
                        values.append(single)
                    tags = {v for v in values if not is_cidr(v) and v not in asgs}
                    used |= tags
                    # A side that is exactly one tag expands to that tag's list.
                    if len(values) and set(values) == tags and len(tags) == 1:
                        (tag,) = tags
                        expanded = rule.get("expanded%sAddressPrefix" % side.capitalize())
                        self.assertIn(tag, tag_map, "%s: tag %s of rule %s not in tagMap" % (where, tag, rule["name"]))
                        self.assertEqual(
                            expanded,
                            tag_map[tag],
                            "%s: rule %s: expanded %s differs from tagMap[%s]" % (where, rule["name"], side, tag),
                        )
            self.assertEqual(
                set(tag_map),
                used,
                "%s: tagMap keys are not exactly the tags the rules use" % where,
            )
            for tag, prefixes in tag_map.items():
                self.assertIsInstance(prefixes, list, "%s: tagMap[%s]" % (where, tag))
                for p in prefixes:
                    self.assertTrue(is_cidr(p), "%s: tagMap[%s] holds %r" % (where, tag, p))


# ---- the myers lab: real Azure outputs ---------------------------------------


class MyersAgainstAzure(unittest.TestCase, TagMapChecks):
    """nsgsim effective vs real `az network nic list-effective-nsg` outputs."""

    maxDiff = None

    def check(self, scenario, side):
        nic = "%s-vnet-nic" % side
        env = "%s/scenario%d/env" % (MYERS, scenario)
        p = effective(env, MYERS_TAGS, nic, "json")
        self.assertEqual(p.returncode, 0, "exit %d, stderr:\n%s" % (p.returncode, p.stderr))
        ours = json.loads(p.stdout)
        with open(os.path.join(ROOT, MYERS, "scenario%d" % scenario, "expected_%s.json" % side), encoding="utf-8") as fh:
            azure = json.load(fh)

        self.check_tag_maps(ours, asg_names(env), "scenario%d %s" % (scenario, side))

        our_maps = [g.pop("tagMap", None) for g in ours["value"]]
        their_maps = [g.pop("tagMap", None) for g in azure["value"]]
        if ours != azure:
            self.fail(
                "scenario%d %s: effective rules differ from Azure's at\n  %s"
                % (scenario, side, first_difference(ours, azure).lstrip("."))
            )
        # Azure's tagMap is a Python-repr string (an az bug): parse it.
        for gi, (mine, theirs) in enumerate(zip(our_maps, their_maps)):
            if isinstance(theirs, str):
                theirs = ast.literal_eval(theirs)
            self.assertEqual(
                mine,
                theirs,
                "scenario%d %s value[%d]: tagMap differs from Azure's at\n  %s"
                % (scenario, side, gi, (first_difference(mine, theirs) or "").lstrip(".")),
            )

    def check_by_id(self, scenario, side):
        """A NIC given by its id (in any case) gives the same output."""
        env = "%s/scenario%d/env" % (MYERS, scenario)
        nic_id = (
            "/subscriptions/6fd2b24c-1ffa-43ca-abc1-8127c30dcb39/resourceGroups/NSG/"
            "providers/Microsoft.Network/networkInterfaces/%s-vnet-nic" % side
        )
        by_name = effective(env, MYERS_TAGS, "%s-vnet-nic" % side, "json")
        for ident in (nic_id, nic_id.upper()):
            by_id = effective(env, MYERS_TAGS, ident, "json")
            self.assertEqual(by_id.returncode, 0, by_id.stderr)
            self.assertEqual(by_id.stdout, by_name.stdout, ident)


def _add_myers_tests():
    for n in range(5):
        for side in ("hub", "spoke"):
            setattr(
                MyersAgainstAzure,
                "test_scenario%d_%s" % (n, side),
                lambda self, n=n, side=side: self.check(n, side),
            )
    setattr(MyersAgainstAzure, "test_nic_by_id_hub", lambda self: self.check_by_id(4, "hub"))
    setattr(MyersAgainstAzure, "test_nic_by_id_spoke", lambda self: self.check_by_id(3, "spoke"))


_add_myers_tests()


# ---- the bundled example: golden files --------------------------------------


class ExampleGolden(unittest.TestCase, TagMapChecks, GoldenFiles):
    """nsgsim effective on the bundled example vs tests/golden/."""

    def check(self, nic, fmt):
        p = effective(EXAMPLE_ENV, EXAMPLE_TAGS, nic, fmt)
        self.assertEqual(p.returncode, 0, "exit %d, stderr:\n%s" % (p.returncode, p.stderr))
        if fmt == "json":
            doc = json.loads(p.stdout)
            self.check_tag_maps(doc, asg_names(EXAMPLE_ENV), nic)
        self.golden("example_%s.%s" % (nic, "json" if fmt == "json" else "txt"), p.stdout)

    def test_every_nic_json_is_valid(self):
        """--format json prints one valid JSON document for every NIC."""
        for nic in ALL_EXAMPLE_NICS:
            with self.subTest(nic=nic):
                p = effective(EXAMPLE_ENV, EXAMPLE_TAGS, nic, "json")
                self.assertEqual(p.returncode, 0, p.stderr)
                doc = json.loads(p.stdout)
                self.assertEqual(sorted(doc), ["nextLink", "value"])
                self.assertIsInstance(doc["value"], list)
                self.check_tag_maps(doc, asg_names(EXAMPLE_ENV), nic)


def _add_example_tests():
    for nic in EXAMPLE_NICS:
        for fmt in ("table", "json"):
            setattr(
                ExampleGolden,
                "test_%s_%s" % (nic.replace("-", "_"), fmt),
                lambda self, nic=nic, fmt=fmt: self.check(nic, fmt),
            )


_add_example_tests()


class ShowGolden(unittest.TestCase, GoldenFiles):
    """nsgsim show on the bundled example: the summary and the REST JSON vs
    tests/golden/show/, and the JSON given back as --env shows the same."""

    golden_dir = "show"

    def show(self, *extra, env=EXAMPLE_ENV):
        p = run("show", "--env", env, "--service-tags", EXAMPLE_TAGS, *extra)
        self.assertEqual(p.returncode, 0, "exit %d, stderr:\n%s" % (p.returncode, p.stderr))
        return p.stdout

    def test_text(self):
        self.golden("example.txt", self.show())

    def test_json(self):
        text = self.show("--json")
        doc = json.loads(text)
        self.assertEqual(sorted(doc), ["value"])
        self.golden("example.json", text)

    def test_json_shows_itself(self):
        text = self.show("--json")
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "shown.json")
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
            self.assertEqual(self.show("--json", env=path), text)


class TerraformGolden(unittest.TestCase, GoldenFiles):
    """Terraform plans and state (fixtures/terraform/): show's summary of a
    plan, the pull-request diff from state to plan, the error of an unknown
    that matters, and show --json of a plan read back as REST."""

    golden_dir = "terraform"
    HUB = "fixtures/terraform/hub_spoke/plan.json"

    def test_show_plan(self):
        p = run("show", "--env", self.HUB)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.golden("show_plan.txt", p.stdout)

    def test_diff_state_to_plan(self):
        p = run("diff", "--before", "fixtures/terraform/small/state.json",
                "--after", "fixtures/terraform/small/plan.json")
        self.golden("diff_small.txt", p.stdout)

    def test_unknown_prefix_error(self):
        p = run("eval", "--env", "fixtures/terraform/errors/unknown_prefix.json",
                "tcp", "1.2.3.4", "10.0.0.4:443")
        self.assertEqual(p.returncode, 2)
        self.golden("unknown_prefix.err", p.stderr)

    def test_plan_shown_as_rest_answers_the_same(self):
        p = run("show", "--json", "--env", self.HUB)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open("fixtures/terraform/hub_spoke/flows.txt", encoding="utf-8") as fh:
            rows = [" ".join(line.split()[:3]) for line in fh
                    if line.strip() and not line.startswith("#") and "|" not in line]
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "shown.json")
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(p.stdout)
            flows = os.path.join(d, "flows.txt")
            with open(flows, "w", encoding="utf-8") as fh:
                fh.write("\n".join(rows) + "\n")
            a = run("eval", "-q", "--env", self.HUB, "--flows", flows)
            b = run("eval", "-q", "--env", path, "--flows", flows)
        self.assertEqual(a.returncode, b.returncode)
        self.assertGreaterEqual(len(a.stdout.splitlines()), 10)
        self.assertEqual(a.stdout, b.stdout)


# ---- service-tags snapshots ---------------------------------------------------


class SnapshotTags(unittest.TestCase, GoldenFiles):
    """`nsgsim snapshot-tags IN OUT`, and --service-tags given the snapshot."""

    maxDiff = None

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="nsgsim-snapshot-")
        self.snap = os.path.join(self.tmp.name, "tags.nst")

    def tearDown(self):
        self.tmp.cleanup()

    def snapshot(self, src=EXAMPLE_TAGS, out=None):
        return run("snapshot-tags", src, out or self.snap)

    def test_writes_the_snapshot_and_says_so(self):
        p = self.snapshot()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "")
        with open(self.snap, "rb") as fh:
            data = fh.read()
        # One line on stderr; the snapshot's bytes are pinned by their hash
        # (the format is little-endian and deterministic on every machine).
        text = p.stderr.replace(self.snap, "OUT") + "sha256 %s\n" % hashlib.sha256(data).hexdigest()
        self.golden("snapshot/trimmed.out", text)
        self.assertEqual(data[:8], b"NSGSIMT\0")
        self.assertEqual(os.listdir(self.tmp.name), ["tags.nst"], "no temporary file is left")

    def test_same_bytes_every_time_and_from_a_snapshot(self):
        self.assertEqual(self.snapshot().returncode, 0)
        again = os.path.join(self.tmp.name, "again.nst")
        of_snapshot = os.path.join(self.tmp.name, "of-snapshot.nst")
        self.assertEqual(self.snapshot(out=again).returncode, 0)
        self.assertEqual(self.snapshot(src=self.snap, out=of_snapshot).returncode, 0)
        with open(self.snap, "rb") as a, open(again, "rb") as b, open(of_snapshot, "rb") as c:
            first = a.read()
            self.assertEqual(first, b.read())
            self.assertEqual(first, c.read())

    def test_replaces_an_existing_file(self):
        with open(self.snap, "w", encoding="utf-8") as fh:
            fh.write("old")
        p = self.snapshot()
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(self.snap, "rb") as fh:
            self.assertEqual(fh.read(8), b"NSGSIMT\0")
        self.assertEqual(os.listdir(self.tmp.name), ["tags.nst"])

    def test_effective_with_the_snapshot_matches_the_goldens(self):
        self.assertEqual(self.snapshot().returncode, 0)
        for nic in EXAMPLE_NICS:
            for fmt, ext in (("table", "txt"), ("json", "json")):
                with self.subTest(nic=nic, fmt=fmt):
                    p = effective(EXAMPLE_ENV, self.snap, nic, fmt)
                    self.assertEqual(p.returncode, 0, p.stderr)
                    with open(os.path.join(GOLDEN, "example_%s.%s" % (nic, ext)), encoding="utf-8") as fh:
                        self.assertEqual(p.stdout, fh.read())

    def test_eval_with_the_snapshot_prints_the_same(self):
        self.assertEqual(self.snapshot().returncode, 0)
        flows = [["tcp", "10.1.1.4:50000", "10.2.1.4:22"], ["tcp", "10.1.2.4:50000", "20.38.108.10:443"],
                 ["tcp", "10.0.3.4", "4.175.0.10:443"], ["tcp", "93.184.216.34", "10.1.1.4:443"]]
        for flow in flows:
            for extra in ([], ["--json", "--verbose"]):
                with self.subTest(flow=flow, extra=extra):
                    a = run("eval", "--env", EXAMPLE_ENV, "--service-tags", EXAMPLE_TAGS, *extra, *flow)
                    b = run("eval", "--env", EXAMPLE_ENV, "--service-tags", self.snap, *extra, *flow)
                    self.assertIn(a.returncode, (0, 1), a.stderr)
                    self.assertEqual((a.returncode, a.stdout, a.stderr), (b.returncode, b.stdout, b.stderr))

    def test_errors(self):
        p = run("snapshot-tags", EXAMPLE_TAGS)
        self.assertEqual(p.returncode, EXIT_ERROR)
        self.assertIn("nsgsim snapshot-tags: give IN (a service-tags file) and OUT", p.stderr)
        p = run("snapshot-tags", "--quiet", EXAMPLE_TAGS, self.snap)
        self.assertEqual(p.returncode, EXIT_ERROR)
        self.assertIn("--quiet is not an option of snapshot-tags", p.stderr)
        p = self.snapshot(src="tests/golden/bad/malformed.json")
        self.assertEqual(p.returncode, EXIT_ERROR)
        self.assertIn("tests/golden/bad/malformed.json", p.stderr)
        self.assertIn("NSGSIM_E_", p.stderr)
        p = self.snapshot(out=os.path.join(self.tmp.name, "no-such-dir", "tags.nst"))
        self.assertEqual(p.returncode, EXIT_ERROR)
        self.assertIn("cannot write", p.stderr)
        self.assertFalse(os.path.exists(self.snap))

    def test_damaged_snapshot(self):
        self.assertEqual(self.snapshot().returncode, 0)
        with open(self.snap, "rb") as fh:
            data = bytearray(fh.read())
        cases = [
            ("truncated", bytes(data[:1000]), "/header/length", "truncated", "NSGSIM_E_SNAPSHOT]"),
            ("version", bytes(data[:8]) + b"\x02" + bytes(data[9:]), "/header/version",
             "rebuild the snapshot with `nsgsim snapshot-tags`", "NSGSIM_E_SNAPSHOT_VERSION]"),
            ("checksum", bytes(data[:500]) + bytes([data[500] ^ 1]) + bytes(data[501:]),
             "/header/checksum", "CRC-32", "NSGSIM_E_SNAPSHOT]"),
        ]
        for name, content, pointer, needle, code in cases:
            with self.subTest(name=name):
                bad = os.path.join(self.tmp.name, name + ".nst")
                with open(bad, "wb") as fh:
                    fh.write(content)
                p = run("eval", "--env", EXAMPLE_ENV, "--service-tags", bad, "tcp", "10.1.1.4:1", "10.2.1.4:22")
                self.assertEqual(p.returncode, EXIT_ERROR)
                self.assertEqual(p.stdout, "")
                self.assertTrue(p.stderr.startswith("nsgsim: error: %s: %s: at byte offset " % (bad, pointer)),
                                p.stderr)
                self.assertIn(needle, p.stderr)
                self.assertIn(code, p.stderr)


# ---- compiled policy files ------------------------------------------------------


class CompiledPolicy(unittest.TestCase, GoldenFiles):
    """`nsgsim compile ... -o FILE`, and --policy FILE on every command: the
    same output as --env, byte for byte."""

    maxDiff = None

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="nsgsim-nsgp-")
        self.out = os.path.join(self.tmp.name, "example.nsgp")

    def tearDown(self):
        self.tmp.cleanup()

    def compile(self, *extra):
        return run("compile", "--env", EXAMPLE_ENV, "--service-tags", EXAMPLE_TAGS, *extra,
                   "-o", self.out)

    def test_compile_writes_the_file_and_says_so(self):
        p = self.compile()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "")
        with open(self.out, "rb") as fh:
            data = fh.read()
        self.assertEqual(data[:8], b"NSGSIMP\0")
        text = p.stderr.replace(self.out, "OUT") + "sha256 %s\n" % hashlib.sha256(data).hexdigest()
        self.golden("nsgp/compile.out", text)
        self.assertEqual(os.listdir(self.tmp.name), ["example.nsgp"], "no temporary file is left")
        again = os.path.join(self.tmp.name, "again.nsgp")
        self.assertEqual(run("compile", "--policy", self.out, "-o", again, "-q").returncode, 0)
        with open(again, "rb") as fh:
            self.assertEqual(fh.read(), data)

    def test_eval_with_the_policy_matches_the_golden(self):
        self.assertEqual(self.compile().returncode, 0)
        p = run("eval", "--policy", self.out, "--json", "--verbose", "tcp", "93.184.216.34",
                "10.1.1.4:443")
        self.assertIn(p.returncode, (0, 1), p.stderr)
        self.golden("nsgp/eval_internet_to_web1.verbose.json", p.stdout)
        q = run("eval", "--env", EXAMPLE_ENV, "--service-tags", EXAMPLE_TAGS, "--json", "--verbose",
                "tcp", "93.184.216.34", "10.1.1.4:443")
        self.assertEqual((p.returncode, p.stdout, p.stderr), (q.returncode, q.stdout, q.stderr))

    def test_every_command_prints_the_same(self):
        self.assertEqual(self.compile().returncode, 0)
        env = ["--env", EXAMPLE_ENV, "--service-tags", EXAMPLE_TAGS]
        pol = ["--policy", self.out]
        cases = [
            (["eval"], ["tcp", "10.1.1.4:50000", "10.2.1.4:22"]),
            (["eval"], ["--verbose", "tcp", "10.1.2.4", "20.38.108.10:443"]),
            (["eval"], ["--at", "vm-web1-nic", "--direction", "inbound", "tcp", "10.0.3.4:5",
                        "10.1.1.4:22"]),
            (["eval"], ["--flows", "fixtures/example/flows.txt", "--format", "json"]),
            (["effective"], ["--format", "json", "vm-web1-nic"]),
            (["reach"], ["--to", "vm-db1-nic", "--json"]),
            (["matrix"], ["--json"]),
            (["check"], ["fixtures/example/assertions.txt"]),
            (["list", "nics"], ["--json"]),
            (["lint"], ["--json"]),
            (["show"], ["--json"]),
            (["show"], []),
        ]
        for cmd, args in cases:
            with self.subTest(cmd=cmd, args=args):
                a = run(*cmd, *env, *args)
                b = run(*cmd, *pol, *args)
                self.assertEqual((a.returncode, a.stdout, a.stderr), (b.returncode, b.stdout, b.stderr))
        # diff and replay take the file where the input goes.
        a = run("diff", "--before", EXAMPLE_ENV, "--after", EXAMPLE_ENV, "--service-tags",
                EXAMPLE_TAGS, "--json")
        b = run("diff", "--before", self.out, "--after", self.out, "--json")
        self.assertEqual((a.returncode, a.stdout), (b.returncode, b.stdout))
        self.assertEqual(b.returncode, 0, b.stderr)

    def test_errors(self):
        p = run("compile", "--env", EXAMPLE_ENV)
        self.assertEqual(p.returncode, EXIT_ERROR)
        self.assertIn("give -o FILE", p.stderr)
        self.assertEqual(self.compile().returncode, 0)
        p = run("eval", "--policy", self.out, "--env", EXAMPLE_ENV, "tcp", "10.1.1.4:1", "10.2.1.4:22")
        self.assertEqual(p.returncode, EXIT_ERROR)
        self.assertIn("--policy replaces --env", p.stderr)
        with open(self.out, "rb") as fh:
            data = fh.read()
        cases = [
            ("truncated", data[:1000], "/header/length", "truncated", "NSGSIM_E_POLICY_FILE]"),
            ("version", data[:8] + b"\x09" + data[9:], "/header/version",
             "compile the policy again", "NSGSIM_E_POLICY_FILE_VERSION]"),
            ("directory", data[:30] + bytes([data[30] ^ 1]) + data[31:], "/header/checksum",
             "the directory's CRC-32C", "NSGSIM_E_POLICY_FILE]"),
            ("checksum", data[:500] + bytes([data[500] ^ 1]) + data[501:], "/sections/0",
             "section 0's CRC-32C", "NSGSIM_E_POLICY_FILE]"),
            ("json", b"{}", "/header/magic", "not a compiled policy file", "NSGSIM_E_POLICY_FILE]"),
        ]
        # The last byte is in the last rule block; the one-flow eval below does not decode
        # it (neither of its NSGs), but checks its checksum: the file is refused all the same.
        last = struct.unpack_from("<I", data, 24)[0] - 1
        cases.append(("block", data[:-1] + bytes([data[-1] ^ 1]), "/sections/%d" % last,
                      "section %d's CRC-32C" % last, "NSGSIM_E_POLICY_FILE]"))
        for name, content, pointer, needle, code in cases:
            with self.subTest(name=name):
                bad = os.path.join(self.tmp.name, name + ".nsgp")
                with open(bad, "wb") as fh:
                    fh.write(content)
                p = run("eval", "--policy", bad, "tcp", "10.1.1.4:1", "10.2.1.4:22")
                self.assertEqual(p.returncode, EXIT_ERROR)
                self.assertEqual(p.stdout, "")
                self.assertTrue(p.stderr.startswith("nsgsim: error: %s: %s: at byte offset " % (bad, pointer)),
                                p.stderr)
                self.assertIn(needle, p.stderr)
                self.assertIn(code, p.stderr)


# ---- errors -------------------------------------------------------------------


class FocusedEval(unittest.TestCase):
    """A one-flow eval compiles with a focus on the flow's two addresses
    (nsgsim_loader_set_focus); it prints what the full build prints
    (--engine compiled), notes included -- also for --at a NIC whose address
    the input does not give, where the focus cannot find it and the CLI
    compiles again without one."""

    FLOWS = [
        ["tcp", "10.1.1.4:50000", "10.2.1.4:22"],
        ["--verbose", "tcp", "10.1.2.4", "20.38.108.10:443"],
        ["--json", "--verbose", "tcp", "93.184.216.34", "10.1.1.4:443"],
        ["udp", "10.1.1.4", "10.1.2.4:53"],
        ["--at", "vm-web1-nic", "--direction", "inbound", "tcp", "10.0.3.4:5", "10.1.1.4:22"],
    ]

    def same(self, env, args):
        base = ["--env", env, "--service-tags", EXAMPLE_TAGS]
        a = run("eval", *base, *args)
        b = run("eval", "--engine", "compiled", *base, *args)
        self.assertEqual((a.returncode, a.stdout, a.stderr), (b.returncode, b.stdout, b.stderr))
        self.assertIn(a.returncode, (0, 1), a.stderr)
        return a

    def test_one_flow_prints_what_the_full_build_prints(self):
        for args in self.FLOWS:
            with self.subTest(args=args):
                self.same(EXAMPLE_ENV, args)

    def test_at_a_nic_without_an_address_compiles_again(self):
        with tempfile.TemporaryDirectory(prefix="nsgsim-focus-") as tmp:
            env = os.path.join(tmp, "env")
            os.mkdir(env)
            for name in os.listdir(EXAMPLE_ENV):
                src = os.path.join(EXAMPLE_ENV, name)
                if os.path.isdir(src):
                    continue
                with open(src, encoding="utf-8") as fh:
                    doc = json.load(fh)
                if name == "nics-rg-prod.json":  # vm-web1-nic, which has an NSG of its own
                    ipc = doc["value"][0]["properties"]["ipConfigurations"][0]["properties"]
                    del ipc["privateIPAddress"]
                    ipc["privateIPAllocationMethod"] = "Dynamic"
                with open(os.path.join(env, name), "w", encoding="utf-8") as fh:
                    json.dump(doc, fh)
            p = self.same(env, ["--verbose", "--at", "vm-web1-nic", "--direction", "inbound",
                                "tcp", "10.0.3.4:5000", "10.1.1.9:80"])
            self.assertIn("NIC vm-web1-nic", p.stdout)
            self.assertIn("nsg-web-nic", p.stdout)


class Errors(unittest.TestCase):
    """Bad input: exit status 2 and a stderr that says where and what."""

    def check_error(self, p, *needles):
        self.assertEqual(p.returncode, EXIT_ERROR, "exit %d, stderr:\n%s" % (p.returncode, p.stderr))
        self.assertEqual(p.stdout, "", "nothing on stdout after an error")
        for needle in needles:
            self.assertIn(needle, p.stderr)

    def bad(self, name, fmt="json", nic="nic"):
        return effective("tests/golden/bad/" + name, None, nic, fmt)

    def test_priority_99(self):
        self.check_error(
            self.bad("priority_99.json"),
            "tests/golden/bad/priority_99.json",
            "/properties/securityRules/0/properties/priority",
            "NSGSIM_E_PRIORITY_RANGE",
            "99",
        )

    def test_host_bits(self):
        self.check_error(
            self.bad("host_bits.json"),
            "tests/golden/bad/host_bits.json",
            "/properties/securityRules/0/properties/sourceAddressPrefix",
            "NSGSIM_E_HOST_BITS",
            "10.0.0.1/16",
            "10.0.0.0/16",
        )

    def test_malformed_json_line_column(self):
        # Line 7: `      {"name": "r" "properties": ...`; a ',' is missing
        # before "properties", column 20.
        self.check_error(
            self.bad("malformed.json"),
            "tests/golden/bad/malformed.json:7:20:",
            "line 7, column 20",
            "NSGSIM_E_JSON",
        )

    def test_trailing_comma_line(self):
        # Line 7: `... {"priority": 100,}}`; the stray '}' is column 52.  Only
        # the line is asserted: cJSON reports trailing commas in objects one
        # column late (53).
        p = self.bad("trailing_comma.json")
        self.check_error(p, "tests/golden/bad/trailing_comma.json:7:", "NSGSIM_E_JSON")
        self.assertRegex(p.stderr, r"line 7, column \d+")

    def test_unknown_nic(self):
        p = effective(EXAMPLE_ENV, EXAMPLE_TAGS, "no-such-nic", "json")
        self.check_error(p, "no-such-nic", "NSGSIM_E_NOT_FOUND")

    def test_missing_env(self):
        p = run("effective", "--format", "json", "vm-web1-nic")
        self.check_error(p, "--env")

    def test_env_path_does_not_exist(self):
        p = effective("tests/golden/bad/no-such-dir", None, "nic", "json")
        self.check_error(p, "tests/golden/bad/no-such-dir", "NSGSIM_E_IO")

    def test_unknown_tag_without_tags_file(self):
        p = effective(EXAMPLE_ENV, None, "vm-jump-nic", "json")
        self.check_error(
            p,
            "fixtures/example/env/nsg-shared.json",
            "/securityRules/2/destinationAddressPrefix",
            "AzureCloud.westeurope",
            "NSGSIM_E_UNKNOWN_TAG",
        )

    def test_bad_format(self):
        p = effective(EXAMPLE_ENV, EXAMPLE_TAGS, "vm-web1-nic", "yaml")
        self.check_error(p, "--format")


if __name__ == "__main__":
    if not os.access(NSGSIM, os.X_OK):
        sys.stderr.write("cli_golden.py: %s is not an executable; build it first (make all)\n" % NSGSIM)
        sys.exit(2)
    if UPDATE:
        sys.stderr.write("cli_golden.py: NSGSIM_UPDATE_GOLDEN set: rewriting tests/golden/*; review the diff\n")
    unittest.main(verbosity=2)
