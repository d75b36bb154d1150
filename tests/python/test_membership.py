"""Network groups filled by Azure Policy: the evaluation says which
membership brought an admin rule (fixtures/semantics/t27_policy_network_groups)."""

import unittest

from . import support

FIXTURE = "fixtures/semantics/t27_policy_network_groups"


class TestPolicyMembership(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.policy = support.load_fixture(FIXTURE)

    @classmethod
    def tearDownClass(cls):
        cls.policy.close()

    def test_policy_member(self):
        r = self.policy.evaluate("tcp 52.1.2.3:50000 10.2.0.4:1001")
        self.assertEqual(r.verdict, "Deny")
        m = r.evaluations[0]["layers"][0]["membership"]
        self.assertEqual(m["kind"], "policy")
        self.assertTrue(m["networkGroup"].endswith("/networkGroups/Equals"))
        self.assertTrue(m["policyDefinition"].endswith("/policyDefinitions/ng-equals"))
        self.assertTrue(m["policyAssignment"].endswith("/policyAssignments/ng-equals"))

    def test_static_member(self):
        r = self.policy.evaluate("tcp 52.1.2.3:50000 10.6.0.4:1012")
        m = r.evaluations[0]["layers"][0]["membership"]
        self.assertEqual(m["kind"], "static")
        self.assertTrue(m["staticMember"].endswith("/staticMembers/sm1"))
        self.assertNotIn("policyDefinition", m)

    def test_out_of_scope_is_not_a_member(self):
        r = self.policy.evaluate("tcp 52.1.2.3:50000 10.4.0.4:1001")
        self.assertEqual(r.verdict, "Allow")
        self.assertEqual(r.decided_by.layer, "None")


if __name__ == "__main__":
    unittest.main()
