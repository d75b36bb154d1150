"""nsgsim.load(parameters=..., subscription=...): ARM templates from Python."""

import json
import os
import tempfile
import unittest

import nsgsim

WALKER = "fixtures/arm/walker.json"


class TestTemplates(unittest.TestCase):
    def test_parameters_as_dict_and_file(self):
        sub = "11111111-2222-3333-4444-555555555555"
        p = nsgsim.load(WALKER, parameters={"prefix": "app", "ports": [25]},
                        subscription=sub, resource_group="rg1")
        doc = p.show()
        nsg = [r for r in doc["value"] if r["name"] == "app-nsg"][0]
        self.assertEqual(nsg["id"], "/subscriptions/%s/resourceGroups/rg1/providers/"
                                    "Microsoft.Network/networkSecurityGroups/app-nsg" % sub)
        self.assertEqual([r["name"] for r in nsg["properties"]["securityRules"]], ["allow-25"])
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"parameters": {"prefix": {"value": "web"}}}, f)
        try:
            names = [r["name"] for r in nsgsim.load(WALKER, parameters=f.name).show()["value"]]
            self.assertIn("web-nsg", names)
        finally:
            os.unlink(f.name)

    def test_missing_parameter_and_bad_subscription(self):
        with self.assertRaises(nsgsim.Error) as cm:
            nsgsim.load(WALKER)
        self.assertIn("prefix", str(cm.exception))
        with self.assertRaises(ValueError):
            nsgsim.load(WALKER, parameters={"prefix": "a"}, subscription="not-a-guid")


if __name__ == "__main__":
    unittest.main()
