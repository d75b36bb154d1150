#!/usr/bin/env python3
"""make test's last line: what passed, and what was skipped and why.

Reads the logs of the test steps (build/test-logs/*.log) and counts
- cmocka's skipped tests ("[  SKIPPED ] N test(s), listed below:"),
- comparisons a C test could not make ("SKIPPED comparison: ..." lines),
- skipped Python tests ("OK (skipped=N)"),
- install checks tests/install_test.sh could not make ("SKIP  ..." lines),
so that a run without ../shared says so instead of looking complete.
"""
import glob
import re
import sys


def main(log_dir):
    c_tests = comparisons = python = install = 0
    reasons = []
    for path in sorted(glob.glob(log_dir + "/*.log")):
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = re.match(r"\[  SKIPPED \] (\d+) test\(s\), listed below:", line)
                if m:
                    c_tests += int(m.group(1))
                m = re.match(r"\[  SKIPPED \] (test_\w+): (.*)", line)
                if m:
                    reasons.append("%s (%s)" % (m.group(1), m.group(2).split(";")[0]))
                if line.startswith("SKIPPED comparison: "):
                    comparisons += 1
                    reasons.append(line[len("SKIPPED comparison: "):].split(":")[0].strip())
                if line.startswith("SKIP  "):
                    install += 1
                    reasons.append(line[len("SKIP  "):].strip())
                m = re.match(r"OK \(skipped=(\d+)\)", line)
                if m:
                    python += int(m.group(1))
    total = c_tests + comparisons + python + install
    if total == 0:
        print("make test: all passed, nothing skipped")
        return
    print("make test: all passed; %d skipped: %d C tests, %d comparisons, %d Python tests, "
          "%d install checks (see the SKIP lines above)"
          % (total, c_tests, comparisons, python, install))
    for r in dict.fromkeys(reasons):
        print("  skipped: " + r)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "build/test-logs")
