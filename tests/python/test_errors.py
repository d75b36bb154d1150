"""Failures raise nsgsim.Error with the library's code, name and position."""

import json
import os
import pickle
import tempfile
import unittest

import nsgsim

from . import support

SUB = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg"
NSG_ID = SUB + "/providers/Microsoft.Network/networkSecurityGroups/bad-nsg"
BAD_RULE_ID = NSG_ID + "/securityRules/Bad-Priority"
BAD_ENV = [{
    "name": "bad-nsg",
    "id": NSG_ID,
    "type": "Microsoft.Network/networkSecurityGroups",
    "location": "eastus",
    "properties": {"securityRules": [{
        "name": "Bad-Priority",
        "id": BAD_RULE_ID,
        "properties": {
            "protocol": "Tcp", "sourcePortRange": "*", "destinationPortRange": "22",
            "sourceAddressPrefix": "*", "destinationAddressPrefix": "*", "access": "Deny",
            "priority": 99, "direction": "Inbound",
        },
    }]},
}]


class TestErrors(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.policy = support.load_fixture(support.EXAMPLE)

    @classmethod
    def tearDownClass(cls):
        cls.policy.close()

    def assertError(self, name, fn, *args, **kwargs):
        with self.assertRaises(nsgsim.Error) as cm:
            fn(*args, **kwargs)
        e = cm.exception
        self.assertEqual(e.name, name, str(e))
        self.assertEqual(e.code, nsgsim.ERROR_CODES[name])
        self.assertLess(e.code, 0)
        self.assertTrue(str(e).endswith("[%s]" % name), str(e))
        self.assertIn(e.message, str(e))
        return e

    def test_priority_99(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "nsg.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(BAD_ENV, f, indent=2)
            e = self.assertError("NSGSIM_E_PRIORITY_RANGE", nsgsim.load, env=[path],
                                 service_tags=support.DEFAULT_TAGS)
        self.assertEqual(e.code, -8)
        self.assertEqual(e.file, path)
        self.assertEqual(e.pointer, "/0/properties/securityRules/0/properties/priority")
        self.assertEqual(e.resource, BAD_RULE_ID)
        self.assertIn("99", e.message)
        self.assertEqual(str(e), "%s: %s: %s: %s [NSGSIM_E_PRIORITY_RANGE]"
                         % (path, e.pointer, e.resource, e.message))
        self.assertIsInstance(e, Exception)
        # the same from memory
        e = self.assertError("NSGSIM_E_PRIORITY_RANGE", nsgsim.load,
                             env_json={"inline.json": json.dumps(BAD_ENV)})
        self.assertEqual(e.file, "inline.json")

    def test_malformed_json_has_a_position(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "broken.json")
            with open(path, "w", encoding="utf-8") as f:
                f.write('{\n  "value": [\n    1,,\n]}')
            e = self.assertError("NSGSIM_E_JSON", nsgsim.load, env=path)
        self.assertEqual((e.line, e.column), (3, 7))
        self.assertTrue(str(e).startswith("%s:3:7: " % path), str(e))

    def test_missing_file(self):
        e = self.assertError("NSGSIM_E_IO", nsgsim.load, env="/nonexistent/env.json")
        self.assertEqual(e.file, "/nonexistent/env.json")

    def test_unknown_tag_without_tags_file(self):
        e = self.assertError("NSGSIM_E_UNKNOWN_TAG", nsgsim.load, env=support.EXAMPLE + "/env")
        self.assertIn("AzureCloud.westeurope", e.message)

    def test_unknown_nic(self):
        e = self.assertError("NSGSIM_E_NOT_FOUND", self.policy.effective, "no-such-nic")
        self.assertEqual(e.code, -23)
        self.assertError("NSGSIM_E_NOT_FOUND", self.policy.effective, "no-such-nic",
                         format="table")
        self.assertError("NSGSIM_E_NOT_FOUND", self.policy.evaluate,
                         "tcp 10.1.1.4:50000 10.2.1.4:443", at="no-such-nic",
                         direction="outbound")

    def test_bad_flows(self):
        for text in ("tcp 10.0.0.1", "tcp 10.0.0.1 10.0.0.2", "gre 10.0.0.1 10.0.0.2",
                     "tcp 10.0.0.1:70000 10.0.0.2:80", "tcp 10.0.0.1 2001:db8::1:80",
                     "icmp 10.0.0.1 10.0.0.2:80", "tcp 10.0.0.300 10.0.0.2:80", ""):
            with self.subTest(flow=text):
                e = self.assertError("NSGSIM_E_BAD_FLOW", self.policy.evaluate, text)
                self.assertEqual(e.code, -24)
                self.assertError("NSGSIM_E_BAD_FLOW", nsgsim.Flow.parse, text)
        self.assertError("NSGSIM_E_BAD_FLOW", self.policy.evaluate, protocol="tcp",
                         source="10.1.1.4", destination="10.2.1.4")  # no destination port
        self.assertError("NSGSIM_E_BAD_FLOW", self.policy.evaluate, protocol="tcp",
                         source="10.1.1.4", destination="10.2.1.4", destination_port=65536)
        self.assertError("NSGSIM_E_BAD_FLOW", self.policy.evaluate, protocol="tcp",
                         source="10.1.1.4 10.0.0.1", destination="10.2.1.4",
                         destination_port=80)
        self.assertError("NSGSIM_E_BAD_PROTOCOL", self.policy.evaluate, protocol=47,
                         source="10.1.1.4", destination="10.2.1.4")
        # one side needs a source port
        self.assertError("NSGSIM_E_BAD_FLOW", self.policy.evaluate, "tcp 10.1.1.4 10.2.1.4:443",
                         at="vm-web1-nic", direction="outbound")

    def test_not_modelled(self):
        e = self.assertError("NSGSIM_E_NOT_MODELLED", self.policy.evaluate,
                             "tcp 192.0.2.1:50000 198.51.100.1:443")
        self.assertEqual(e.code, -25)
        self.assertError("NSGSIM_E_NOT_MODELLED", self.policy.evaluate_many,
                         ["tcp 10.1.1.4:50000 10.2.1.4:22", "udp 192.0.2.1:5 198.51.100.1:53"])

    def test_bad_arguments(self):
        flow = "tcp 10.1.1.4:50000 10.2.1.4:443"
        self.assertError("NSGSIM_E_INVALID_ARG", self.policy.evaluate, flow, at="vm-web1-nic")
        self.assertError("NSGSIM_E_INVALID_ARG", self.policy.evaluate, flow,
                         direction="inbound")
        self.assertError("NSGSIM_E_INVALID_ARG", self.policy.evaluate, flow,
                         at="vm-web1-nic", direction="sideways")
        self.assertError("NSGSIM_E_INVALID_ARG", self.policy.effective, "vm-web1-nic",
                         format="yaml")
        with self.assertRaises(TypeError):
            self.policy.evaluate(flow, protocol="tcp")
        with self.assertRaises(TypeError):
            self.policy.evaluate(42)
        with self.assertRaises(TypeError):
            self.policy.evaluate(protocol="tcp", source="10.1.1.4")
        with self.assertRaises(TypeError):
            self.policy.evaluate(protocol="tcp", source="10.1.1.4", destination="10.2.1.4",
                                 destination_port="443")
        with self.assertRaises(TypeError):
            nsgsim.Policy()

    def test_use_after_close(self):
        p = support.load_fixture(support.EXAMPLE)
        r = p.evaluate("tcp 10.1.1.4:50000 10.2.1.4:22")
        r.to_dict()
        p.close()
        p.close()  # twice is fine
        self.assertTrue(p.closed)
        self.assertIn("closed", repr(p))
        for fn, args in ((p.evaluate, ("tcp 10.1.1.4:50000 10.2.1.4:22",)),
                         (p.evaluate_many, (["tcp 10.1.1.4:50000 10.2.1.4:22"],)),
                         (p.effective, ("vm-web1-nic",)),
                         (p.source_ports, ("tcp 10.1.1.4 10.2.1.4:22",)),
                         (r.to_dict, ()), (r.explain, ()), (r.rule_details, ())):
            with self.subTest(fn=fn.__name__):
                e = self.assertError("NSGSIM_E_INVALID_ARG", fn, *args)
                self.assertIn("closed", e.message)
        with self.assertRaises(nsgsim.Error):
            with p:
                pass
        # what was read out of the struct stays
        self.assertFalse(r.allowed)
        self.assertEqual(r.decided_by.rule, "DenyProdToDev")
        self.assertEqual(p.stats["nics"], 5)

    def test_context_manager_closes(self):
        with support.load_fixture(support.EXAMPLE) as p:
            self.assertTrue(p.evaluate("tcp 10.0.1.4:50000 10.1.1.5:22").allowed)
        self.assertTrue(p.closed)
        self.assertError("NSGSIM_E_INVALID_ARG", p.evaluate, "tcp 10.0.1.4:50000 10.1.1.5:22")

    def test_error_pickles(self):
        with self.assertRaises(nsgsim.Error) as cm:
            self.policy.effective("no-such-nic")
        e = pickle.loads(pickle.dumps(cm.exception))
        self.assertEqual((e.code, e.name, e.message, e.resource, str(e)),
                         (cm.exception.code, cm.exception.name, cm.exception.message,
                          cm.exception.resource, str(cm.exception)))


if __name__ == "__main__":
    unittest.main()
