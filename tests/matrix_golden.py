#!/usr/bin/env python3
"""Golden tests for `nsgsim matrix` (Python standard library only).

    NSGSIM=./build/nsgsim python3 tests/matrix_golden.py        # make check-cli
    NSGSIM_UPDATE_GOLDEN=1 python3 tests/matrix_golden.py        # rewrite tests/golden/matrix/*

- The table and the --json document of the bundled example, by subnet, nic
  and asg, against tests/golden/matrix/; the JSON's schema.
- The page --html writes: self-contained (no URL it could fetch, no
  external script, style or image; a Content-Security-Policy of 'none'),
  and the JSON it embeds is the --json document.
- The first and last flow of every allowed region of every cell, evaluated
  by `nsgsim eval --flows` in one batch, are allowed (the exact check on
  random points is tests/test_matrix.c; the browser test is
  tests/matrix_browser.py).
- Usage errors exit 2 with a message on stderr and nothing on stdout.
"""

import ipaddress
import json
import os
import re
import tempfile
import unittest

from goldens import GoldenFiles, run

EXAMPLE = ["--env", "fixtures/example/env", "--service-tags",
           "fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json"]
CELL_KEYS = ["allowed", "from", "partial", "regions", "summary", "to"]
REGION_KEYS = ["decidedBy", "destinationPorts", "destinations", "protocols", "sourcePorts",
               "sources"]


def endpoint(cidr, first, port):
    net = ipaddress.ip_network(cidr)
    addr = net[0] if first else net[-1]
    if port is None:
        return str(addr)
    return ("[%s]:%d" if addr.version == 6 else "%s:%d") % (addr, port)


class Matrix(unittest.TestCase, GoldenFiles):
    golden_dir = "matrix"

    def matrix(self, *args):
        p = run("matrix", "-q", *EXAMPLE, *args)
        self.check_run(p, 0)
        return p.stdout

    def test_goldens_and_schema(self):
        for by in ("subnet", "nic", "asg"):
            self.golden("example_%s.txt" % by, self.matrix("--by", by))
            text = self.matrix("--by", by, "--json")
            self.golden("example_%s.json" % by, text)
            doc = json.loads(text)
            self.assertEqual(sorted(doc), ["by", "cells", "columns", "rows"])
            self.assertEqual(doc["by"], by)
            self.assertEqual(len(doc["cells"]), len(doc["rows"]) * len(doc["columns"]))
            self.assertEqual([r["name"] for r in doc["rows"]][-2:],
                             ["Internet", "AzureLoadBalancer"])
            for c in doc["cells"]:
                self.assertEqual(sorted(c), CELL_KEYS)
                self.assertEqual(bool(c["allowed"]), bool(c["summary"]))
                self.assertEqual(bool(c["allowed"]), bool(c["regions"]))
                self.assertIsInstance(c["partial"], bool)
                self.assertFalse(c["partial"] and not c["allowed"])
                for a in c["allowed"]:
                    self.assertIn(a["protocol"], ["tcp", "udp", "icmp", "esp", "ah"])
                    self.assertEqual(bool(a["ports"]), a["protocol"] in ("tcp", "udp"))
                for g in c["regions"]:
                    self.assertEqual(sorted(g), REGION_KEYS)
        self.assertEqual(self.matrix(), self.matrix("--by", "subnet"))

    def test_known_cells(self):
        doc = json.loads(self.matrix("--json"))
        cells = {(c["from"], c["to"]): c for c in doc["cells"]}
        bastion_web = cells["hub-vnet/AzureBastionSubnet", "spoke-prod-vnet/snet-web"]
        self.assertEqual(bastion_web["summary"], "tcp 22,80,3389,8080-8090")
        self.assertIn("Allow-Bastion-Admin",
                      {g["decidedBy"]["rule"] for g in bastion_web["regions"]})
        # The Internet reaches the jump box only from 168.63.129.16 (in
        # VirtualNetwork, SEMANTICS.md): all of it, for some sources only.
        jump = cells["Internet", "hub-vnet/snet-shared"]
        self.assertEqual((jump["summary"], jump["partial"]), ("all", True))
        # The spokes are not peered: nothing from the dev subnet reaches prod.
        self.assertEqual(cells["spoke-dev-vnet/snet-app", "spoke-prod-vnet/snet-web"]["summary"],
                         "")

    def test_html_is_self_contained_and_embeds_the_json(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "m.html")
            out = self.matrix("--by", "nic", "--html", path)
            self.assertEqual(out, self.matrix("--by", "nic"))
            with open(path, encoding="utf-8") as fh:
                page = fh.read()
        self.assertIn("default-src 'none'", page)
        self.assertNotRegex(page, r"(?i)<(link|img|iframe|object|embed)\b")
        self.assertNotRegex(page, r"(?i)<script[^>]*\bsrc=")
        self.assertNotRegex(page, r"(?i)url\(|@import|https?://|//cdn")
        m = re.search(r'<script type="application/json" id="matrix-data">\n(.*?)</script>',
                      page, re.S)
        self.assertIsNotNone(m)
        self.assertEqual(json.loads(m.group(1)), json.loads(self.matrix("--by", "nic", "--json")))

    def test_regions_are_allowed_by_eval(self):
        flows = []
        for by in ("subnet", "nic"):
            for c in json.loads(self.matrix("--by", by, "--json"))["cells"]:
                for g in c["regions"]:
                    for first in (True, False):
                        proto = g["protocols"][0 if first else -1]
                        src, dst = g["sources"][0 if first else -1], g["destinations"][-1]
                        if proto in ("tcp", "udp"):
                            port = g["destinationPorts"][0 if first else -1].split("-")
                            flows.append("%s %s %s" % (proto, endpoint(src, first, 40000),
                                                       endpoint(dst, first, int(port[-1]))))
                        else:
                            flows.append("%s %s %s" % (proto, endpoint(src, first, None),
                                                       endpoint(dst, first, None)))
        self.assertGreater(len(flows), 100)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "flows.txt")
            with open(path, "w") as fh:
                fh.write("\n".join(flows) + "\n")
            p = run("eval", "-q", *EXAMPLE, "--flows", path, "--format", "json")
        answers = [json.loads(line) for line in p.stdout.splitlines()]
        self.assertEqual(len(answers), len(flows))
        denied = [(f, a) for f, a in zip(flows, answers) if a.get("verdict") != "Allow"]
        self.assertEqual(denied[:5], [])

    def test_errors(self):
        for args in (["--by", "vnet"], ["--to", "x"], ["--html"], ["extra"]):
            p = run("matrix", *EXAMPLE, *args)
            self.check_run(p, 2)
            self.assertEqual(p.stdout, "")
            self.assertIn("matrix", p.stderr)
        p = run("matrix", "-q", *EXAMPLE, "--html", "/nonexistent/dir/m.html")
        self.check_run(p, 2)
        self.assertIn("cannot write", p.stderr)


if __name__ == "__main__":
    unittest.main()
