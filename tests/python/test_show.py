"""Policy.show: the model as REST JSON that loads back to the same answers,
or the text summary."""

import json
import unittest

import nsgsim

from . import support


class TestShow(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.policy = support.load_fixture(support.EXAMPLE)

    def test_json_loads_back_to_the_same_answers(self):
        doc = self.policy.show()
        self.assertEqual(sorted(doc), ["value"])
        types = [r["type"] for r in doc["value"]]
        self.assertIn("Microsoft.Network/networkSecurityGroups", types)
        self.assertIn("Microsoft.Network/networkManagers", types)
        for r in doc["value"]:
            self.assertTrue(r["id"].startswith("/subscriptions/"), r["id"])
            self.assertTrue(r["name"])
        again = nsgsim.load(env_json=json.dumps(doc),
                            service_tags=support.tags_for(support.EXAMPLE))
        self.assertEqual(again.show(), doc)
        self.assertEqual(again.effective(support.EXAMPLE_NIC),
                         self.policy.effective(support.EXAMPLE_NIC))
        rows = support.read_rows(support.EXAMPLE)
        self.assertGreater(len(rows), 10)
        for row in rows:
            a = self.policy.evaluate(row.flow, **row.kwargs())
            b = again.evaluate(row.flow, **row.kwargs())
            self.assertEqual((b.verdict, b.decided_by), (a.verdict, a.decided_by), str(row))

    def test_text_summary(self):
        text = self.policy.show(json=False)
        self.assertIsInstance(text, str)
        self.assertIn("Deployment\n", text)
        self.assertRegex(text, r"\n +5  network security groups\n")
        self.assertIn("Skipped: nothing", text)

    def test_json_must_be_a_bool(self):
        with self.assertRaises(TypeError):
            self.policy.show(json="yes")


if __name__ == "__main__":
    unittest.main()
