"""Policy.matrix(): the segmentation matrix as plain objects, the same as
`nsgsim matrix --json`, and each allowed region's flows allowed by eval."""

import ipaddress
import json
import subprocess
import unittest

import nsgsim

from . import support


class MatrixTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.policy = support.load_fixture(support.EXAMPLE)

    def test_same_as_the_cli(self):
        for by in ("subnet", "nic", "asg"):
            m = self.policy.matrix(by=by)
            self.assertIsInstance(m, nsgsim.Matrix)
            out = subprocess.run(
                [support.cli_path(), "matrix", "-q", "--env", support.EXAMPLE + "/env",
                 "--service-tags", support.DEFAULT_TAGS, "--by", by, "--json"],
                check=True, capture_output=True, text=True).stdout
            self.assertEqual(m.to_dict(), json.loads(out))
            self.assertEqual(len(m.cells), len(m.rows) * len(m.columns))
            self.assertTrue(m.table.startswith("segmentation matrix by %s" % by))

    def test_cells(self):
        m = self.policy.matrix()
        self.assertEqual(m.by, "subnet")
        self.assertEqual([r["name"] for r in m.rows][-2:], ["Internet", "AzureLoadBalancer"])
        c = m.cell("hub-vnet/AzureBastionSubnet", "spoke-prod-vnet/snet-web")
        self.assertEqual(c["summary"], "tcp 22,80,3389,8080-8090")
        self.assertEqual(c["allowed"], [{"protocol": "tcp",
                                         "ports": ["22", "80", "3389", "8080-8090"]}])
        for g in c["regions"]:
            src = ipaddress.ip_network(g["sources"][0])[0]
            dst = ipaddress.ip_network(g["destinations"][-1])[-1]
            port = int(g["destinationPorts"][-1].split("-")[-1])
            r = self.policy.evaluate("tcp %s:40000 %s:%d" % (src, dst, port))
            self.assertEqual(r.verdict, "Allow")
            self.assertEqual(r.decided_by.rule, g["decidedBy"]["rule"])

    def test_bad_by(self):
        with self.assertRaises(nsgsim.Error) as e:
            self.policy.matrix(by="vnet")
        self.assertEqual(e.exception.code, nsgsim.NSGSIM_E_INVALID_ARG)


if __name__ == "__main__":
    unittest.main()
