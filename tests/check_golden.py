#!/usr/bin/env python3
"""Golden tests for `nsgsim check` (Python standard library only).

    NSGSIM=./build/nsgsim python3 tests/check_golden.py
    NSGSIM_UPDATE_GOLDEN=1 python3 tests/check_golden.py    # rewrite tests/golden/check/*.out|.err

What is checked, each time with the exit status:
- fixtures/example/assertions.txt: every assertion passes (exit 0), and each
  one agrees with what `nsgsim eval` says about the same flow.
- tests/golden/check/failures.txt: deliberate failures (exit 1); each FAIL line
  shows the verdict and rule actually found; an unmodelled address is a
  failure with its error, not a crash.
- tests/golden/check/srcport/: without a source port, an assertion must hold
  for every source port, and a FAIL names the range that breaks it.
- tests/golden/check/sets.txt: allow-only and deny-all (exit 1 for its
  deliberate failures); the flow each FAIL names is evaluated again with
  `nsgsim eval` and must be allowed by the layer and rule it names.
- tests/golden/check/syntax.txt: syntax errors (exit 2), each reported as
  file:line:column on stderr, and nothing evaluated.
- --junit: the XML parses, and its counts, names and failure traces are right,
  including the escaping of odd bytes.

stdout (and stderr for syntax errors) is compared in full against the golden
files beside the inputs.  Read a regenerated golden before committing it.

The binary comes from $NSGSIM (default ./build/nsgsim, relative to the
current directory); the commands run from the repository root.
"""

import json
import os
import re
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

from goldens import NSGSIM, ROOT, UPDATE, GoldenFiles, run

EXAMPLE_ENV = ["--env", "fixtures/example/env", "--service-tags",
               "fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json"]
EXAMPLE = "fixtures/example/assertions.txt"
FAILURES = "tests/golden/check/failures.txt"
SYNTAX = "tests/golden/check/syntax.txt"
SETS = "tests/golden/check/sets.txt"
SRCPORT_ENV = ["--env", "tests/golden/check/srcport/env"]
SRCPORT = "tests/golden/check/srcport/assertions.txt"

SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed$")
RESULT = re.compile(r"^(PASS|FAIL) (\S+):(\d+)  (.*)$")


def assertions(path):
    """(line number, tokens) of every assertion in a file, comments and blanks dropped."""
    out = []
    with open(os.path.join(ROOT, path), encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            tokens = line.split("#", 1)[0].split()
            if tokens:
                out.append((n, tokens))
    return out


class Golden(unittest.TestCase, GoldenFiles):
    golden_dir = "check"

    def check_report(self, p, path, passed, failed):
        """Every assertion of path has one PASS/FAIL line, in order; then the summary."""
        lines = p.stdout.splitlines()
        self.assertRegex(lines[-1], SUMMARY)
        self.assertEqual(lines[-1], "%d passed, %d failed" % (passed, failed))
        results = [RESULT.match(l) for l in lines[:-1]]
        self.assertTrue(all(results), lines)
        self.assertEqual([(m.group(2), int(m.group(3))) for m in results],
                         [(path, n) for n, _ in assertions(path)])
        self.assertEqual(sum(m.group(1) == "FAIL" for m in results), failed)
        return results


class Check(Golden):
    def test_example_all_pass(self):
        p = run("check", *EXAMPLE_ENV, EXAMPLE)
        self.check_run(p, 0)
        self.assertEqual(p.stderr, "")
        n = len(assertions(EXAMPLE))
        self.assertGreaterEqual(n, 20)
        self.check_report(p, EXAMPLE, n, 0)
        self.golden("example.out", p.stdout)

    def test_example_agrees_with_eval(self):
        """Each example assertion, checked again with `nsgsim eval` rather than check."""
        for n, tok in assertions(EXAMPLE):
            if tok[0] in ("allow-only", "deny-all"):
                continue  # sets: tests/reach_golden.py checks reach against eval
            with self.subTest(line=n):
                expect, flow = tok[0], tok[1:4]
                by = [t for t in tok[4:] if t.lower() != "unassigned"]
                p = run("eval", "-q", *EXAMPLE_ENV, *flow)
                self.assertIn(p.returncode, (0, 1), p.stderr)
                verdict = [l for l in p.stdout.splitlines() if l.startswith("Verdict: ")][0]
                self.assertTrue(verdict.startswith("Verdict: %s " % expect.upper()), verdict)
                self.assertEqual(p.returncode, 0 if expect == "allow" else 1)
                if by == ["by", "None", "-"]:
                    self.assertIn("(no rule matched", verdict)
                elif by:
                    self.assertRegex(verdict, r" by %s (default rule )?%s \(" %
                                     (re.escape(by[1]), re.escape(by[2])))

    def test_failures(self):
        p = run("check", *EXAMPLE_ENV, FAILURES)
        self.check_run(p, 1)
        self.assertEqual(p.stderr, "")
        self.check_report(p, FAILURES, 2, 7)
        self.assertIn("FAIL %s:7  deny tcp 10.1.1.4 10.1.2.4:1433 : got Allow by SubnetNsg "
                      "Allow-Web-To-Sql (destination)\n" % FAILURES, p.stdout)
        self.assertRegex(p.stdout, r"FAIL \S+:21  .* : error: neither the source nor")
        self.golden("failures.out", p.stdout)

    def test_sets(self):
        p = run("check", *EXAMPLE_ENV, SETS)
        self.check_run(p, 1)
        self.assertEqual(p.stderr, "")
        results = self.check_report(p, SETS, 3, 6)
        got = re.compile(r"^got Allow for (\S+) (\S+?)( and more)? -> (\S+?)( and more)? "
                         r"by (\S+) (\S+) \((source|destination)\)$")
        witnesses = 0
        for m in results:
            if m.group(1) == "PASS":
                continue
            reason = m.group(4).rsplit(" : ", 1)[1]
            if reason.startswith("error: "):
                continue
            w = got.match(reason)
            self.assertTrue(w, reason)
            proto, src, dst, layer, rule = w.group(1), w.group(2), w.group(4), w.group(6), w.group(7)
            with self.subTest(line=m.group(3)):
                e = run("eval", "-q", *EXAMPLE_ENV, proto, src, dst)
                self.assertEqual(e.returncode, 0, e.stdout + e.stderr)
                self.assertRegex(e.stdout, r"Verdict: ALLOW by %s (default rule )?%s \(" %
                                 (re.escape(layer), re.escape(rule)))
                witnesses += 1
        self.assertEqual(witnesses, 5)
        self.golden("sets.out", p.stdout)

    def test_verbose_prints_the_trace(self):
        p = run("check", "-v", *EXAMPLE_ENV, FAILURES)
        self.check_run(p, 1)
        self.assertIn("    Verdict: DENY by NicNsg Deny-SSH-From-Vnet", p.stdout)
        self.assertEqual(p.stdout.splitlines()[-1], "2 passed, 7 failed")

    def test_source_ports(self):
        p = run("check", *SRCPORT_ENV, SRCPORT)
        self.check_run(p, 1)
        self.check_report(p, SRCPORT, 3, 3)
        self.assertIn("got Allow by SubnetNsg AllowVnetInBound (destination, source ports "
                      "1024-49151)", p.stdout)
        self.golden("srcport.out", p.stdout)

    def test_syntax_errors(self):
        p = run("check", *EXAMPLE_ENV, SYNTAX)
        self.check_run(p, 2)
        self.assertEqual(p.stdout, "", "nothing may be evaluated")
        errors = p.stderr.splitlines()
        # Every assertion line but the first is wrong, and each is reported.
        self.assertEqual([int(re.match(r"nsgsim: error: %s:(\d+):\d+: " % re.escape(SYNTAX),
                                       e).group(1)) for e in errors],
                         [n for n, _ in assertions(SYNTAX)][1:])
        self.assertIn("%s:13:11: '10.1.1.0/24': allow and deny take one IP address; for sets of "
                      "addresses write allow-only or deny-all PROTOS SOURCE -> TARGET[:PORTS]\n"
                      % SYNTAX, p.stderr)
        self.golden("syntax.err", p.stderr)

    def test_syntax_error_stops_all_files(self):
        with tempfile.TemporaryDirectory() as tmp:
            junit = os.path.join(tmp, "junit.xml")
            p = run("check", *EXAMPLE_ENV, "--junit", junit, EXAMPLE, SYNTAX)
            self.check_run(p, 2)
            self.assertEqual(p.stdout, "")
            self.assertFalse(os.path.exists(junit))

    def test_usage_errors(self):
        for args, needle in [((), "at least one assertion file"),
                             ((EXAMPLE,), "--env"),
                             (("--at", "vm-web1-nic", EXAMPLE), "--at"),
                             (("no/such/file.txt",), "cannot read no/such/file.txt")]:
            with self.subTest(args=args):
                env = EXAMPLE_ENV if args != (EXAMPLE,) else []
                p = run("check", *env, *args)
                self.check_run(p, 2)
                self.assertEqual(p.stdout, "")
                self.assertIn(needle, p.stderr)

    def test_empty_file(self):
        with tempfile.NamedTemporaryFile("w", suffix=".txt") as fh:
            fh.write("# nothing here\n\n")
            fh.flush()
            p = run("check", *EXAMPLE_ENV, fh.name)
            self.check_run(p, 0)
            self.assertEqual(p.stdout, "0 passed, 0 failed\n")
            self.assertIn("has no assertions", p.stderr)


class JUnit(unittest.TestCase):
    def junit(self, *files, status):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "junit.xml")
            p = run("check", *EXAMPLE_ENV, "--junit", path, *files)
            self.assertEqual(p.returncode, status, p.stderr)
            return p, ET.parse(path).getroot()

    def test_counts_names_and_traces(self):
        p, root = self.junit(EXAMPLE, FAILURES, status=1)
        n_example = len(assertions(EXAMPLE))
        self.assertEqual(root.tag, "testsuites")
        self.assertEqual((root.get("tests"), root.get("failures"), root.get("errors")),
                         (str(n_example + 9), "7", "0"))
        suites = root.findall("testsuite")
        self.assertEqual(len(suites), 2)
        for suite, path, tests, failures in [(suites[0], EXAMPLE, n_example, 0),
                                             (suites[1], FAILURES, 9, 7)]:
            self.assertEqual(suite.get("name"), path)  # named after the assertions file
            self.assertEqual((suite.get("tests"), suite.get("failures"), suite.get("errors")),
                             (str(tests), str(failures), "0"))
            float(suite.get("time"))
            cases = suite.findall("testcase")
            self.assertEqual(len(cases), tests)
            self.assertEqual({c.get("classname") for c in cases}, {path})
            self.assertEqual(sum(c.find("failure") is not None for c in cases), failures)
        # The names and failure messages are the stdout lines'.
        cases = root.iter("testcase")
        for line, case in zip(p.stdout.splitlines(), cases):
            m = RESULT.match(line)
            text, _, got = m.group(4).partition(" : ")
            self.assertEqual(case.get("name"), "%s: %s" % (m.group(3), text))
            failure = case.find("failure")
            self.assertEqual(failure is not None, m.group(1) == "FAIL")
            if failure is not None:
                self.assertEqual(failure.get("message"), got)
                self.assertTrue(failure.text.startswith("expected: %s\n%s\n" % (text, got)))
        # A failed evaluation carries the trace; an evaluation error its code.
        by_name = {c.get("name"): c.find("failure") for c in root.iter("testcase")}
        trace = by_name["9: deny tcp 10.0.1.4 10.1.1.4:22 by SubnetNsg Allow-Bastion-Admin"].text
        self.assertIn("\nFlow: Tcp 10.0.1.4:any -> 10.1.1.4:22\n", trace)
        self.assertIn("  3. NicNsg     NSG nsg-web-nic: Deny-SSH-From-Vnet", trace)
        self.assertIn("Verdict: DENY by NicNsg Deny-SSH-From-Vnet", trace)
        error = by_name["21: allow tcp 10.9.1.4 10.9.2.4:1433"]
        self.assertEqual(error.get("type"), "NSGSIM_E_NOT_MODELLED")

    def test_all_pass(self):
        _, root = self.junit(EXAMPLE, status=0)
        self.assertEqual(root.get("failures"), "0")
        self.assertEqual(len(list(root.iter("failure"))), 0)

    def test_escaping(self):
        """XML specials are escaped; control characters and malformed UTF-8 become U+FFFD."""
        rule = b"a&b<c>\"d'e\x01f\xffg\xc3\xa9\x7f"
        with tempfile.NamedTemporaryFile("wb", suffix=".txt") as fh:
            fh.write(b"deny tcp 10.1.1.4 10.1.2.4:1433 by SubnetNsg " + rule + b"\n")
            fh.flush()
            _, root = self.junit(fh.name, status=1)
        case = root.find("testsuite/testcase")
        want = "a&b<c>\"d'e\ufffdf\ufffdg\u00e9\ufffd"
        self.assertEqual(case.get("name"),
                         "1: deny tcp 10.1.1.4 10.1.2.4:1433 by SubnetNsg " + want)
        self.assertIn(want, case.find("failure").text)


class Json(unittest.TestCase):
    """--json: one object per assertion, in order, and a summary; the same answers as
    the text output."""

    def test_objects_and_summary(self):
        text = run("check", *EXAMPLE_ENV, EXAMPLE, FAILURES)
        p = run("check", *EXAMPLE_ENV, "--json", EXAMPLE, FAILURES)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(text.returncode, 1)
        doc = json.loads(p.stdout)
        lines = text.stdout.splitlines()[:-1]
        self.assertEqual(len(doc["assertions"]), len(lines))
        for a, line in zip(doc["assertions"], lines):
            m = RESULT.match(line)
            said, _, got = m.group(4).partition(" : ")
            self.assertEqual((a["file"], str(a["line"]), a["assertion"]),
                             (m.group(2), m.group(3), said))
            self.assertEqual(a["pass"], m.group(1) == "PASS")
            self.assertEqual(a["got"], got or None)
            self.assertIn(a["kind"], ("allow", "deny", "allow-only", "deny-all"))
            self.assertEqual(a["kind"], said.split()[0].lower())
            if a["error"] is None and a["kind"] in ("allow", "deny"):
                self.assertIn(a["verdict"], ("Allow", "Deny"))
                self.assertIn(a["decidedBy"]["layer"], ("AdminRule", "SubnetNsg", "NicNsg", "None"))
        failed = sum(not a["pass"] for a in doc["assertions"])
        self.assertEqual(doc["summary"], {"assertions": len(lines), "passed": len(lines) - failed,
                                          "failed": failed})
        self.assertEqual(failed, 7)
        self.assertTrue(any(a["error"] for a in doc["assertions"]))


class Unassigned(unittest.TestCase):
    """An address inside a subnet that no NIC holds (10.1.2.44 in snet-db) is a typo
    until the assertion says 'unassigned' or the run --allow-unassigned (issue 16)."""

    LINES = ["allow tcp 10.1.1.4 10.1.2.44:1433",             # fails: the typo case
             "allow tcp 10.1.1.4 10.1.2.44:1433 unassigned",  # passes: meant
             "allow tcp 10.1.1.4 10.1.2.4:1433 unassigned",   # fails: a NIC's address
             "deny tcp 10.1.2.44:5000 10.2.1.4:22 by AdminRule DenyProdToDev"]  # fails

    def check(self, *extra):
        with tempfile.NamedTemporaryFile("w", suffix=".txt") as fh:
            fh.write("\n".join(self.LINES) + "\n")
            fh.flush()
            p = run("check", *EXAMPLE_ENV, *extra, fh.name)
            return p, p.stdout.splitlines()

    def test_fails_unless_said(self):
        p, out = self.check()
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertTrue(out[0].startswith("FAIL "), out[0])
        self.assertIn(": 10.1.2.44 is held by no NIC, only by subnet snet-db (unassigned-address)",
                      out[0])
        self.assertIn("'unassigned'", out[0])
        self.assertTrue(out[1].startswith("PASS "), out[1])
        self.assertIn("says 'unassigned', but every address of the flow is a NIC's", out[2])
        self.assertIn("10.1.2.44 is held by no NIC, only by subnet snet-db", out[3])
        self.assertEqual(out[-1], "1 passed, 3 failed")

    def test_allow_unassigned(self):
        p, out = self.check("--allow-unassigned")
        self.assertEqual(out[-1], "3 passed, 1 failed", p.stdout)
        self.assertTrue(out[2].startswith("FAIL "))  # a stale 'unassigned' still fails

    def test_twice_is_a_syntax_error(self):
        with tempfile.NamedTemporaryFile("w", suffix=".txt") as fh:
            fh.write("allow tcp 10.1.1.4 10.1.2.44:1433 unassigned unassigned\n")
            fh.flush()
            p = run("check", *EXAMPLE_ENV, fh.name)
        self.assertEqual(p.returncode, 2)
        self.assertIn(":1:46: 'unassigned' is given twice", p.stderr)


if __name__ == "__main__":
    if not os.access(NSGSIM, os.X_OK):
        sys.stderr.write("check_golden.py: %s is not an executable; build it first (make all)\n"
                         % NSGSIM)
        sys.exit(2)
    if UPDATE:
        sys.stderr.write("check_golden.py: NSGSIM_UPDATE_GOLDEN set: rewriting "
                         "tests/golden/check/*; review the diff\n")
    unittest.main(verbosity=2)
