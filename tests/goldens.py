"""Shared by the CLI golden scripts (cli_golden.py, check_golden.py,
reach_golden.py): running the binary from the repository root, and comparing
output with a golden file (NSGSIM_UPDATE_GOLDEN=1 rewrites it instead).

The binary comes from $NSGSIM (default ./build/nsgsim, relative to the
current directory).  Python standard library only.
"""

import difflib
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NSGSIM = os.path.abspath(os.environ.get("NSGSIM", "./build/nsgsim"))
UPDATE = os.environ.get("NSGSIM_UPDATE_GOLDEN", "") not in ("", "0")
GOLDEN = os.path.join(ROOT, "tests", "golden")
SHOWN = 80  # diff lines a failure shows


def run(*args, stdin=None, timeout=120):
    """Runs nsgsim from the repository root; returns the CompletedProcess
    (text, invalid UTF-8 replaced)."""
    return subprocess.run([NSGSIM, *args], cwd=ROOT, input=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, encoding="utf-8", errors="replace",
                          timeout=timeout)


class GoldenFiles:
    """A unittest.TestCase mixin: golden(name, text) against
    tests/golden/<golden_dir>/name; check_run(p, status) with the output in
    the message."""

    golden_dir = ""

    def golden(self, name, text):
        rel = os.path.join("tests", "golden", self.golden_dir, name)
        path = os.path.join(ROOT, rel)
        if UPDATE:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
            return
        if not os.path.exists(path):
            self.fail("%s is missing; create it with NSGSIM_UPDATE_GOLDEN=1 and read it" % rel)
        with open(path, encoding="utf-8", newline="") as fh:
            want = fh.read()
        if text != want:
            diff = list(difflib.unified_diff(want.splitlines(True), text.splitlines(True), rel,
                                             "nsgsim output"))
            shown = "".join(diff[:SHOWN])
            if len(diff) > SHOWN:
                shown += "... (%d more diff lines)\n" % (len(diff) - SHOWN)
            self.fail("output differs from %s (if the change is intended, regenerate with "
                      "NSGSIM_UPDATE_GOLDEN=1 and review it):\n%s" % (rel, shown))

    def check_run(self, p, status):
        self.assertEqual(p.returncode, status,
                         "exit %d, stdout:\n%s\nstderr:\n%s" % (p.returncode, p.stdout, p.stderr))
