"""Packed flows: evaluate_many over a buffer (bytearray, bytes, array.array, memoryview)
answers every flow as evaluate() does, without a Python object per flow."""

import array
import ipaddress
import random
import struct
import unittest

import nsgsim

from . import support

PROTOS = ["tcp", "udp", "icmp", "esp", "ah"]


def random_flows(rng, n):
    """Flows around the example's address space (modelled NICs, peers, the Internet),
    every protocol, with and without a source port, and a few IPv6 ones."""
    hosts = ["10.0.3.4", "10.1.1.4", "10.1.1.5", "10.1.2.4", "10.2.1.4", "10.0.0.4",
             "93.184.216.34", "4.199.82.200", "168.63.129.16", "10.9.9.9"]
    out = []
    for _ in range(n):
        proto = rng.choice(PROTOS)
        if rng.random() < 0.05:
            src, dst = "2001:db8::%x" % rng.randrange(1, 9), "2001:db8::%x" % rng.randrange(1, 9)
        else:
            src = rng.choice(hosts) if rng.random() < 0.8 else str(
                ipaddress.IPv4Address(rng.getrandbits(32)))
            dst = rng.choice(hosts)
        if proto in ("tcp", "udp"):
            sport = rng.choice([None, rng.randrange(65536), 50000])
            dport = rng.choice([22, 80, 443, 1433, 3389, 5985, 5986, 8080, rng.randrange(65536)])
            fmt = (lambda a, p: "[%s]:%d" % (a, p)) if ":" in src else (lambda a, p: "%s:%d" % (a, p))
            s = src if sport is None else fmt(src, sport)
            out.append("%s %s %s" % (proto, s, fmt(dst, dport)))
        else:
            out.append("%s %s %s" % (proto, src, dst))
    return out


class TestPackedFlows(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.policy = support.load_fixture(support.EXAMPLE)

    @classmethod
    def tearDownClass(cls):
        cls.policy.close()

    def check_against_evaluate(self, texts, got):
        self.assertEqual(len(got), len(texts))
        for i, t in enumerate(texts):
            try:
                want = self.policy.evaluate(t)
            except nsgsim.Error as e:
                self.assertEqual(got.status[i], e.code, t)
                self.assertEqual(got.result(i)["status"], e.name, t)
                continue
            self.assertEqual(got.status[i], 0, t)
            r = got.result(i)
            self.assertEqual(r["verdict"], want.verdict, t)
            self.assertEqual(got.decided_by(i), want.decided_by, t)
            self.assertEqual(r["assumptions"], want.assumptions, t)
            self.assertEqual(r["sourcePort"], want.source_port, t)

    def test_random_flows_answer_as_evaluate(self):
        rng = random.Random(18)
        texts = random_flows(rng, 3000)
        packed = nsgsim.pack_flows(texts)
        self.assertEqual(len(packed), len(texts) * nsgsim.FLOW_SIZE)
        got = self.policy.evaluate_many(packed)
        self.assertIsInstance(got, nsgsim.Decisions)
        self.check_against_evaluate(texts, got)
        self.assertEqual(got.allowed_count(),
                         sum(1 for v in got.verdicts if v == 1))

    def test_every_buffer_kind_gives_the_same_bytes(self):
        texts = random_flows(random.Random(7), 500)
        packed = nsgsim.pack_flows(texts)
        want = self.policy.evaluate_many(packed).raw
        ints = array.array("i")
        ints.frombytes(bytes(packed))  # 13 int32 a flow
        self.assertEqual(len(ints), 13 * len(texts))
        for buf in (bytes(packed), memoryview(packed), ints, memoryview(ints)):
            with self.subTest(kind=type(buf).__name__):
                self.assertEqual(self.policy.evaluate_many(buf).raw, want)
        big = packed * 300  # 150,000 flows: three blocks of 65,536 over two threads
        self.assertEqual(self.policy.evaluate_many(big, jobs=2).raw, want * 300)
        with self.assertRaises(ValueError):
            self.policy.evaluate_many(packed, jobs=0)
        out = bytearray(len(texts) * nsgsim.DECISION_SIZE)
        got = self.policy.evaluate_many(packed, out=out)
        self.assertIs(got.raw, out)
        self.assertEqual(out, want)

    def test_the_documented_layout_packs_by_hand(self):
        """FLOW_FORMAT with struct alone, no pack_flows: tcp 10.1.1.4:50000 10.2.1.4:22."""
        rec = struct.pack(nsgsim.FLOW_FORMAT, 6, 4, bytes([10, 1, 1, 4]) + bytes(12), 4,
                          bytes([10, 2, 1, 4]) + bytes(12), 50000, 22)
        got = self.policy.evaluate_many(rec * 3)
        want = self.policy.evaluate("tcp 10.1.1.4:50000 10.2.1.4:22")
        self.assertEqual(len(got), 3)
        for i in range(3):
            self.assertEqual(got.decided_by(i), want.decided_by)
        self.assertEqual(list(got.verdicts), [2, 2, 2])
        self.assertEqual(len(set(got.rule_keys)), 1)

    def test_bad_buffers_and_flows(self):
        with self.assertRaises(ValueError):
            self.policy.evaluate_many(bytes(nsgsim.FLOW_SIZE + 1))
        with self.assertRaises(ValueError):
            self.policy.evaluate_many(bytes(nsgsim.FLOW_SIZE), out=bytearray(1))
        with self.assertRaises(nsgsim.Error):
            self.policy.evaluate_many(bytes(nsgsim.FLOW_SIZE), at="vm-web1-nic",
                                      direction="inbound")
        self.assertEqual(len(self.policy.evaluate_many(b"")), 0)
        zero = self.policy.evaluate_many(bytes(nsgsim.FLOW_SIZE))  # protocol 0: not a flow
        self.assertEqual(zero.status[0], nsgsim.NSGSIM_E_BAD_FLOW)
        with self.assertRaises(nsgsim.Error):
            nsgsim.pack_flows(["tcp nowhere 10.1.1.4:443"])
        # the list form still gives Results
        self.assertIsInstance(self.policy.evaluate_many(["icmp 10.0.3.4 10.2.1.4"])[0],
                              nsgsim.Result)


if __name__ == "__main__":
    unittest.main()
