"""Terraform plans and state from Python: nsgsim.load reads them like any
environment, and the plan's unknowns show as assumptions and errors."""

import unittest

import nsgsim

HUB = "fixtures/terraform/hub_spoke"


class TestTerraform(unittest.TestCase):
    def test_plan_answers_like_rest(self):
        plan = nsgsim.load(env=[HUB + "/plan.json"])
        rest = nsgsim.load(env=[HUB + "/rest.json"])
        for flow in ("tcp 10.0.1.10:50000 10.1.1.4:3389", "tcp 10.2.1.5:50000 10.1.1.4:8080",
                     "tcp 10.2.1.5:50000 10.0.1.10:22"):
            a, b = plan.evaluate(flow), rest.evaluate(flow)
            self.assertEqual((a.verdict, a.decided_by.layer, a.decided_by.rule),
                             (b.verdict, b.decided_by.layer, b.decided_by.rule), flow)
        r = plan.evaluate("tcp 10.0.1.10:50000 10.1.1.4:3389")
        self.assertEqual((r.verdict, r.decided_by.rule), ("Allow", "AlwaysAllow-Hub-Rdp"))

    def test_dynamic_address_is_an_assumption(self):
        plan = nsgsim.load(env=[HUB + "/plan.json"])
        r = plan.evaluate("tcp 52.1.2.3:50000 10.2.1.9:22", at="nic-db-0", direction="inbound")
        self.assertEqual((r.verdict, r.decided_by.rule), ("Deny", "Deny-Ssh-Internet"))
        self.assertIn("unknown-nic-address", r.assumptions)
        r = plan.evaluate("tcp 52.1.2.3:50000 10.1.1.4:22", at="nic-app-0", direction="inbound")
        self.assertNotIn("unknown-nic-address", r.assumptions)

    def test_unknown_that_matters(self):
        with self.assertRaises(nsgsim.Error) as cm:
            nsgsim.load(env=["fixtures/terraform/errors/unknown_prefix.json"])
        e = cm.exception
        self.assertEqual(e.name, "NSGSIM_E_UNEVALUATED")
        self.assertEqual(e.resource, "azurerm_network_security_group.edge")
        self.assertTrue(e.pointer.endswith("/security_rule/0/source_address_prefix"), e.pointer)
        self.assertIn("azurerm_public_ip.lb.ip_address", e.message)


if __name__ == "__main__":
    unittest.main()
