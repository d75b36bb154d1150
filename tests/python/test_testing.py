"""nsgsim.testing: assert_allowed / assert_denied."""

import unittest

import nsgsim
from nsgsim.testing import assert_allowed, assert_denied, assert_verdict

from . import support

DENIED = "tcp 10.1.1.4:50000 10.2.1.4:22"  # AdminRule DenyProdToDev at the source
ALLOWED = "tcp 10.0.1.4:50000 10.1.1.5:22"  # SubnetNsg Allow-Bastion-Admin at the destination


class TestTesting(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.policy = support.load_fixture(support.EXAMPLE)

    @classmethod
    def tearDownClass(cls):
        cls.policy.close()

    def test_passing_assertions(self):
        p = self.policy
        r = assert_denied(p, DENIED)
        self.assertIsInstance(r, nsgsim.Result)
        assert_denied(p, DENIED, by=("AdminRule", "DenyProdToDev"))
        assert_denied(p, DENIED, by="AdminRule DenyProdToDev")
        assert_denied(p, DENIED, by="adminrule denyprodtodev SOURCE")
        assert_denied(p, DENIED, by="AdminRule")
        assert_denied(p, DENIED, by=["AdminRule", "DenyProdToDev", "source"])
        assert_allowed(p, ALLOWED, by=("SubnetNsg", "Allow-Bastion-Admin", "destination"))
        assert_allowed(p, dict(protocol="tcp", source="10.0.1.4", source_port=50000,
                               destination="10.1.1.5", destination_port=22),
                       by="SubnetNsg allow-bastion-admin")
        assert_allowed(p, "tcp 93.184.216.34:50000 10.1.1.4:443", at="vm-web1-nic",
                       direction="inbound", by="NicNsg Allow-HTTPS-In")
        assert_verdict(p, DENIED, "deny")

    def test_wrong_verdict_fails_with_the_trace(self):
        with self.assertRaises(AssertionError) as cm:
            assert_allowed(self.policy, DENIED)
        text = str(cm.exception)
        self.assertIn(DENIED, text)
        self.assertIn("expected Allow, got Deny", text)
        self.assertIn("Verdict: DENY by AdminRule DenyProdToDev", text)
        self.assertIn(self.policy.evaluate(DENIED).explain().rstrip("\n"), text)
        self.assertIs(type(cm.exception), AssertionError)

        with self.assertRaises(AssertionError) as cm:
            assert_denied(self.policy, ALLOWED, msg="bastion must not reach web2")
        text = str(cm.exception)
        self.assertTrue(text.startswith("bastion must not reach web2: " + ALLOWED), text)
        self.assertIn("Verdict: ALLOW", text)

    def test_wrong_rule_fails(self):
        with self.assertRaises(AssertionError) as cm:
            assert_denied(self.policy, DENIED, by=("AdminRule", "DenyHighRiskInbound"))
        text = str(cm.exception)
        self.assertIn("expected it decided by AdminRule DenyHighRiskInbound, "
                      "got AdminRule DenyProdToDev source", text)
        self.assertIn("Verdict: DENY", text)
        with self.assertRaises(AssertionError):
            assert_denied(self.policy, DENIED, by="SubnetNsg")
        with self.assertRaises(AssertionError):
            assert_denied(self.policy, DENIED, by="AdminRule DenyProdToDev destination")
        with self.assertRaises(AssertionError) as cm:
            assert_allowed(self.policy, "tcp 10.1.1.4:50000 10.2.1.4:443", at="vm-web1-nic",
                           direction="outbound")
        self.assertIn("at vm-web1-nic outbound", str(cm.exception))

    def test_errors_are_not_assertion_failures(self):
        with self.assertRaises(nsgsim.Error):
            assert_allowed(self.policy, "tcp 192.0.2.1:1 198.51.100.1:2")
        with self.assertRaises(ValueError):
            assert_allowed(self.policy, ALLOWED, by="a b c d")
        with self.assertRaises(ValueError):
            assert_verdict(self.policy, ALLOWED, "maybe")


if __name__ == "__main__":
    unittest.main()
