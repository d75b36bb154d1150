"""Policy.reach(), nsgsim.diff() and testing.assert_only_allowed on the example.

Every region is checked against Policy.evaluate() on random flows drawn from
inside it, and random flows to the target must each lie in exactly one
region: the answer is exact, so a sampled point can never disagree.
"""

import ipaddress
import json
import os
import random
import shutil
import tempfile
import unittest

import nsgsim
from nsgsim.testing import assert_only_allowed

from . import support

SAMPLES = 40


def pick_address(rng, cidrs):
    net = ipaddress.ip_network(rng.choice(cidrs))
    return net[rng.randrange(net.num_addresses)]


def pick_port(rng, ranges):
    lo, _, hi = rng.choice(ranges).partition("-")
    return rng.randint(int(lo), int(hi or lo))


def endpoint(addr, port):
    if port is None:
        return str(addr)
    return ("[%s]:%d" if addr.version == 6 else "%s:%d") % (addr, port)


def flow_in(rng, region):
    """A random flow text inside a region."""
    proto = rng.choice(region.protocols).lower()
    ported = proto in ("tcp", "udp")
    sport = pick_port(rng, region.source_ports) if ported else None
    dport = pick_port(rng, region.destination_ports) if ported else None
    return "%s %s %s" % (proto, endpoint(pick_address(rng, region.sources), sport),
                         endpoint(pick_address(rng, region.destinations), dport))


class TestReach(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.policy = support.load_fixture(support.EXAMPLE)

    @classmethod
    def tearDownClass(cls):
        cls.policy.close()

    def assert_region_agrees(self, policy, region, flow):
        got = policy.evaluate(flow)
        self.assertEqual((got.verdict, tuple(got.decided_by)),
                         (region.verdict, tuple(region.decided_by)), flow)
        self.assertTrue(region.contains(flow), flow)

    def test_every_region_agrees_with_evaluate(self):
        rng = random.Random(12)
        for to in ("vm-db1-nic", "vm-web1-nic", "snet-app", "10.0.3.4", "fd00:db8:0:3::4"):
            with self.subTest(to=to):
                regions = self.policy.reach(to)
                self.assertGreater(len(regions), 1)
                for region in regions:
                    for _ in range(5):
                        self.assert_region_agrees(self.policy, region, flow_in(rng, region))

    def test_random_flows_lie_in_exactly_one_region(self):
        rng = random.Random(13)
        regions = self.policy.reach("vm-db1-nic")
        for _ in range(SAMPLES):
            proto = rng.choice(["tcp", "udp", "icmp", "esp", "ah"])
            ported = proto in ("tcp", "udp")
            src = ipaddress.IPv4Address(rng.getrandbits(32))
            flow = "%s %s %s" % (proto, endpoint(src, rng.randrange(65536) if ported else None),
                                 endpoint(ipaddress.IPv4Address("10.1.2.4"),
                                          rng.randrange(65536) if ported else None))
            holding = [r for r in regions if r.contains(flow)]
            self.assertEqual(len(holding), 1, flow)
            self.assert_region_agrees(self.policy, holding[0], flow)
            self.assertIs(regions.region_of(flow), holding[0])

    def test_known_regions_of_the_example(self):
        regions = self.policy.reach("vm-db1-nic", source="10.1.1.4", protocols="tcp")
        sql = regions.region_of("tcp 10.1.1.4:50000 10.1.2.4:1433")
        self.assertEqual(tuple(sql.decided_by), ("SubnetNsg", "Allow-Web-To-Sql", "destination"))
        self.assertEqual(sql.protocols, ["Tcp"])
        self.assertEqual(sql.sources, ["10.1.1.4/32"])
        self.assertIn("1433", sql.destination_ports)
        self.assertTrue(all(p == "Tcp" for r in regions for p in r.protocols))

    def test_allowed_only_keeps_the_allowed_regions(self):
        every = self.policy.reach("vm-db1-nic", source="10.1.0.0/16")
        allowed = self.policy.reach("vm-db1-nic", source="10.1.0.0/16", allowed_only=True)
        self.assertTrue(allowed)
        self.assertTrue(all(r.allowed for r in allowed))
        self.assertLess(len(allowed), len(every))
        doc = allowed.to_dict()
        self.assertEqual(sorted(doc), ["query", "regions"])
        self.assertEqual(len(doc["regions"]), len(allowed))
        self.assertIn("Allow-Web-To-Sql", allowed.table())

    def test_errors(self):
        with self.assertRaises(nsgsim.Error) as e:
            self.policy.reach("no-such-nic")
        self.assertEqual(e.exception.code, nsgsim.NSGSIM_E_NOT_FOUND)
        self.assertIn("'no-such-nic'", str(e.exception))
        with self.assertRaises(nsgsim.Error):
            self.policy.reach("vm-db1-nic", source="fd00::/8")  # no family in common
        with self.assertRaises(nsgsim.Error):
            self.policy.reach("vm-db1-nic", protocols="tcp,gre")

    def test_assert_only_allowed(self):
        p = self.policy
        regions = assert_only_allowed(p, "vm-web1-nic", ["tcp 443"], source="93.184.216.0/24")
        self.assertEqual([tuple(r.decided_by) for r in regions],
                         [("NicNsg", "Allow-HTTPS-In", "destination")])
        assert_only_allowed(p, "vm-web1-nic", ["tcp 80,443", "udp"], source="93.184.216.0/24")
        # The Internet holds 168.63.129.16, which VirtualNetwork holds too (the
        # host's virtual IP): AllowVnetInBound lets it in on every other port.
        with self.assertRaises(AssertionError) as e:
            assert_only_allowed(p, "vm-web1-nic", ["tcp 443"], source="Internet")
        self.assertIn("168.63.129.16/32", str(e.exception))
        self.assertIn("by NicNsg AllowVnetInBound (destination)", str(e.exception))


class TestDiff(unittest.TestCase):
    """A copy of the example whose NIC NSG turns Deny-SSH-From-Vnet into Allow."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="nsgsim-diff-")
        env = os.path.join(cls.tmp, "env")
        shutil.copytree(os.path.join(support.EXAMPLE, "env"), env)
        path = os.path.join(env, "nsg-web-nic-rules.json")
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
        rule = [r for r in doc["value"] if r["name"] == "Deny-SSH-From-Vnet"][0]
        rule["properties"]["access"] = "Allow"
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(doc, fh)
        cls.before = support.load_fixture(support.EXAMPLE)
        cls.after = nsgsim.load(env=[env], service_tags=support.DEFAULT_TAGS)

    @classmethod
    def tearDownClass(cls):
        cls.before.close()
        cls.after.close()
        shutil.rmtree(cls.tmp)

    def test_changes_agree_with_both_policies(self):
        rng = random.Random(14)
        changes = nsgsim.diff(self.before, self.after, to="vm-web1-nic")
        self.assertTrue(changes)
        self.assertEqual(changes.opened, len(changes))
        self.assertEqual(changes.closed, 0)
        for region in changes:
            self.assertEqual(region.before.verdict, "Deny")
            self.assertEqual(region.after.verdict, "Allow")
            self.assertEqual(region.destination_ports, ["22"])
            for _ in range(SAMPLES // len(changes) + 1):
                flow = flow_in(rng, region)
                for policy, side in ((self.before, region.before), (self.after, region.after)):
                    got = policy.evaluate(flow)
                    self.assertEqual((got.verdict, tuple(got.decided_by)),
                                     (side.verdict, tuple(side.decided_by)), flow)
        opened = changes.region_of("tcp 10.0.1.4:50000 10.1.1.4:22")
        self.assertEqual(tuple(opened.after.decided_by), ("NicNsg", "Deny-SSH-From-Vnet",
                                                           "destination"))
        self.assertEqual(sorted(changes.to_dict()), ["changes", "query", "summary"])

    def test_no_change_elsewhere(self):
        self.assertEqual(len(nsgsim.diff(self.before, self.after, to="vm-db1-nic")), 0)
        self.assertEqual(len(nsgsim.diff(self.before, self.before)), 0)


if __name__ == "__main__":
    unittest.main()
