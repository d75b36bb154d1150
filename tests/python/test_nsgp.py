"""Compiled policy files from Python: Policy.save() and nsgsim.load_policy()
(Policy.load), which must answer exactly as the policy that was saved."""

import os
import struct
import tempfile
import unittest

import nsgsim

from . import support

ENV = "fixtures/example/env"
FLOWS = [
    "tcp 93.184.216.34 10.1.1.4:443",
    "tcp 10.1.1.4:50000 10.2.1.4:22",
    "udp 10.1.1.4 10.1.2.4:53",
    "icmp 10.1.2.4 10.1.1.4",
    "tcp 10.0.3.4:50000 10.1.1.4:22",
]


class TestCompiledPolicy(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="nsgsim-py-nsgp-")
        self.path = os.path.join(self.tmp.name, "example.nsgp")
        self.policy = nsgsim.load(env=ENV, service_tags=support.DEFAULT_TAGS)

    def tearDown(self):
        self.policy.close()
        self.tmp.cleanup()

    def test_save_and_load_answer_the_same(self):
        self.assertIsNone(self.policy.save(self.path))
        self.assertEqual(os.listdir(self.tmp.name), ["example.nsgp"], "no temporary file is left")
        with open(self.path, "rb") as f:
            data = f.read()
        self.assertEqual(data[:8], b"NSGSIMP\0")
        self.assertEqual(self.policy.save(), data)
        for loaded in (nsgsim.load_policy(self.path), nsgsim.Policy.load(data=data),
                       nsgsim.load_policy(self.path, build="minimal")):
            with loaded:
                self.assertEqual(loaded.save(), data)
                self.assertEqual(loaded.show(), self.policy.show())
                self.assertEqual(loaded.show(json=False), self.policy.show(json=False))
                self.assertEqual(loaded.notes, self.policy.notes)
                self.assertEqual(loaded.stats, self.policy.stats)
                for flow in FLOWS:
                    a, b = self.policy.evaluate(flow), loaded.evaluate(flow)
                    self.assertEqual(a.to_dict(verbose=True), b.to_dict(verbose=True), flow)
                    self.assertEqual(a.explain(verbose=True), b.explain(verbose=True))
                self.assertEqual(loaded.effective("vm-web1-nic"),
                                 self.policy.effective("vm-web1-nic"))
                self.assertEqual([(r.verdict, r.decided_by) for r in loaded.reach("vm-db1-nic")],
                                 [(r.verdict, r.decided_by) for r in
                                  self.policy.reach("vm-db1-nic")])
                self.assertEqual([f.__dict__ if hasattr(f, "__dict__") else f
                                  for f in loaded.lint()],
                                 [f.__dict__ if hasattr(f, "__dict__") else f
                                  for f in self.policy.lint()])

    def test_focus_answers_its_flows_and_refuses_the_rest(self):
        # Each flow's two addresses as the focus: the same answer and trace;
        # a flow elsewhere and the set queries raise NSGSIM_E_OUT_OF_FOCUS.
        self.assertIsNone(self.policy.save(self.path))
        refused = 0
        for flow in FLOWS:
            ends = flow.split()[1:]
            addrs = [e.rsplit(":", 1)[0] if e.count(".") == 3 and ":" in e else e
                     for e in ends]
            for focused in (nsgsim.load(env=ENV, service_tags=support.DEFAULT_TAGS,
                                        build="query", focus=addrs),
                            nsgsim.load_policy(self.path, build="minimal", focus=addrs),
                            # a query build reads only the focus's NSGs from the file
                            nsgsim.load_policy(self.path, build="query", focus=addrs)):
                with focused:
                    self.assertEqual(focused.notes, self.policy.notes)
                    a, b = self.policy.evaluate(flow), focused.evaluate(flow)
                    self.assertEqual(a.to_dict(verbose=True), b.to_dict(verbose=True), flow)
                    with self.assertRaises(nsgsim.Error) as cm:
                        focused.reach("vm-db1-nic")
                    self.assertEqual(cm.exception.code, nsgsim.NSGSIM_E_OUT_OF_FOCUS)
                    for other in FLOWS:
                        try:
                            got = focused.evaluate(other).to_dict(verbose=True)
                        except nsgsim.Error as e:
                            self.assertEqual(e.code, nsgsim.NSGSIM_E_OUT_OF_FOCUS)
                            refused += 1
                            continue
                        self.assertEqual(got, self.policy.evaluate(other).to_dict(verbose=True))
        self.assertGreater(refused, 0)
        with self.assertRaises(ValueError):
            nsgsim.load(env=ENV, build="query", focus=["not an address"])
        # show lists every rule, which a focused query load of the file did not read
        with nsgsim.load_policy(self.path, build="query", focus=["10.1.1.4"]) as lazy:
            with self.assertRaises(nsgsim.Error) as cm:
                lazy.show()
            self.assertEqual(cm.exception.code, nsgsim.NSGSIM_E_OUT_OF_FOCUS)
            with self.assertRaises(nsgsim.Error):
                lazy.save()

    def test_query_build_answers_the_same_and_cannot_save(self):
        self.assertIsNone(self.policy.save(self.path))
        with nsgsim.load_policy(self.path, build="query") as loaded:
            self.assertEqual(loaded.show(), self.policy.show())
            for flow in FLOWS:
                a, b = self.policy.evaluate(flow), loaded.evaluate(flow)
                self.assertEqual(a.to_dict(verbose=True), b.to_dict(verbose=True), flow)
            self.assertEqual([(r.verdict, r.decided_by) for r in loaded.reach("vm-db1-nic")],
                             [(r.verdict, r.decided_by) for r in
                              self.policy.reach("vm-db1-nic")])
            # The input-lines map was not read: no line numbers, and no saving
            # what would lose them.
            self.assertTrue(all(f["line"] is None for f in loaded.lint()))
            with self.assertRaises(nsgsim.Error):
                loaded.save()

    def test_damaged_files_are_errors(self):
        data = self.policy.save()
        for bad, code, pointer in [
            (data[:100], "NSGSIM_E_POLICY_FILE", "/header/length"),
            (data[:8] + b"\x09" + data[9:], "NSGSIM_E_POLICY_FILE_VERSION", "/header/version"),
            (data[:30] + bytes([data[30] ^ 1]) + data[31:], "NSGSIM_E_POLICY_FILE",
             "/header/checksum"),
            # the last byte is in the last section, the last NSG's rules
            (data[:-1] + bytes([data[-1] ^ 1]), "NSGSIM_E_POLICY_FILE",
             "/sections/%d" % (struct.unpack_from("<I", data, 24)[0] - 1)),
            (b"{}", "NSGSIM_E_POLICY_FILE", "/header/magic"),
        ]:
            with self.subTest(code=code, pointer=pointer):
                with self.assertRaises(nsgsim.Error) as cm:
                    nsgsim.load_policy(data=bad)
                self.assertEqual(cm.exception.name, code)
                self.assertEqual(cm.exception.pointer, pointer)
        self.assertEqual(nsgsim.NSGSIM_E_POLICY_FILE, -30)
        self.assertEqual(nsgsim.NSGSIM_E_POLICY_FILE_VERSION, -31)
        with self.assertRaises(nsgsim.Error) as cm:
            nsgsim.load_policy(os.path.join(self.tmp.name, "missing.nsgp"))
        self.assertEqual(cm.exception.name, "NSGSIM_E_IO")
        with self.assertRaises(TypeError):
            nsgsim.load_policy()
        with self.assertRaises(ValueError):
            nsgsim.load_policy(self.path, build="fast")


if __name__ == "__main__":
    unittest.main()
