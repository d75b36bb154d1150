"""ARM templates through the CLI (issue 15): parameters, variables, copy
loops, conditions, child resources, nested deployments, comments, and the
messages for files that are JSON but not an environment."""

import json
import os
import subprocess
import tempfile
import unittest

NSGSIM = os.environ.get("NSGSIM", "./build/nsgsim")
WALKER = "fixtures/arm/walker.json"


def run(*args):
    return subprocess.run([NSGSIM, *args], capture_output=True, text=True)


def show(*args):
    p = run("show", "--json", "-q", "--env", *args)
    if p.returncode != 0:
        raise AssertionError(p.stderr)
    return {r["name"]: r for r in json.loads(p.stdout)["value"]}


class Walker(unittest.TestCase):
    def test_property_copy_variables_and_parameters(self):
        res = show(WALKER, "--parameters", "prefix=app")
        rules = res["app-nsg"]["properties"]["securityRules"]
        self.assertEqual([(r["name"], r["properties"]["priority"],
                           r["properties"]["destinationPortRange"]) for r in rules],
                         [("allow-22", 100, "22"), ("allow-443", 110, "443"),
                          ("allow-8080", 120, "8080")])
        self.assertEqual(rules[0]["properties"]["sourceAddressPrefix"], "*")

    def test_condition_false_is_skipped_and_true_deploys(self):
        self.assertNotIn("extra-nsg", show(WALKER, "--parameters", "prefix=app"))
        self.assertIn("extra-nsg",
                      show(WALKER, "--parameters", "prefix=app", "--parameters", "deployExtra=true"))

    def test_resource_copy_child_resources_and_inner_deployment(self):
        res = show(WALKER, "--parameters", "prefix=app")
        self.assertIn("app-nic1", res)
        self.assertIn("app-nic2", res)
        self.assertNotIn("app-nic3", res)
        ip = res["app-nic2"]["properties"]["ipConfigurations"][0]["properties"]
        self.assertEqual(ip["privateIPAddress"], "10.1.1.5")
        subnets = res["app-vnet"]["properties"]["subnets"]
        self.assertEqual([s["name"] for s in subnets], ["snet1"])
        self.assertIn("app-asg", res)  # from the inner-scope nested deployment

    def test_ids_use_the_deployment(self):
        sub = "11111111-2222-3333-4444-555555555555"
        res = show(WALKER, "--parameters", "prefix=app", "--subscription", sub,
                   "--resource-group", "rg-web")
        self.assertEqual(res["app-nsg"]["id"],
                         "/subscriptions/%s/resourceGroups/rg-web/providers/"
                         "Microsoft.Network/networkSecurityGroups/app-nsg" % sub)

    def test_allowed_values_and_parameters_file(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write('{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/'
                    'deploymentParameters.json#", "contentVersion": "1.0.0.0",\n'
                    '// a comment, as Azure allows\n'
                    '"parameters": {"prefix": {"value": "web"}, "env": {"value": "prod"}}}')
        try:
            res = show(WALKER, "--parameters", f.name)
            rule = res["web-nsg"]["properties"]["securityRules"][0]["properties"]
            self.assertEqual(rule["sourceAddressPrefix"], "10.0.0.0/8")
            p = run("show", "--env", WALKER, "--parameters", f.name, "--parameters", "env=test")
            self.assertEqual(p.returncode, 2)
            self.assertIn("/parameters/env", p.stderr)
            self.assertIn("allowedValues", p.stderr)
            p = run("show", "--env", f.name)
            self.assertEqual(p.returncode, 2)
            self.assertIn("give it with --parameters", p.stderr)
        finally:
            os.unlink(f.name)

    def test_eval_decides_by_the_generated_rule(self):
        p = run("eval", "--json", "-q", "--env", WALKER, "--parameters", "prefix=app",
                "tcp", "8.8.8.8", "10.1.1.4:443")
        self.assertEqual(p.returncode, 0, p.stderr)
        d = json.loads(p.stdout)
        self.assertEqual(d["verdict"], "Allow")
        self.assertEqual(d["decidedBy"]["layer"], "SubnetNsg")
        self.assertEqual(d["decidedBy"]["rule"], "allow-443")
        p = run("eval", "--json", "-q", "--env", WALKER, "--parameters", "prefix=app",
                "tcp", "8.8.8.8", "10.1.1.4:3389")
        self.assertEqual(json.loads(p.stdout)["decidedBy"]["rule"], "DenyAllInBound")


    def test_integer_where_a_string_is_taken(self):
        with open(WALKER) as f:
            text = f.read()
        text = text.replace('"destinationPortRange": "[string(parameters(\'ports\')[copyIndex(\'securityRules\')])]"',
                            '"destinationPortRange": "[parameters(\'ports\')[copyIndex(\'securityRules\')]]"')
        self.assertNotIn("[string(", text)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write(text)
        try:
            rules = show(f.name, "--parameters", "prefix=app")["app-nsg"]["properties"]["securityRules"]
            self.assertEqual([r["properties"]["destinationPortRange"] for r in rules],
                             ["22", "443", "8080"])
        finally:
            os.unlink(f.name)


class Errors(unittest.TestCase):
    def test_missing_parameter_is_named(self):
        p = run("show", "--env", WALKER)
        self.assertEqual(p.returncode, 2)
        self.assertIn("/parameters/prefix", p.stderr)
        self.assertIn("parameter 'prefix' has no value and no default", p.stderr)
        self.assertIn("NSGSIM_E_MISSING_FIELD", p.stderr)

    def test_unknown_value_where_it_matters(self):
        with open(WALKER) as f:
            text = f.read()
        text = text.replace('"destinationAddressPrefix": "*",\n                "destinationPortRange"',
                            '"destinationAddressPrefix": "[reference(\'pip\').ipAddress]",\n'
                            '                "destinationPortRange"')
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write(text)
        try:
            p = run("show", "--env", f.name, "--parameters", "prefix=app")
            self.assertEqual(p.returncode, 2)
            self.assertIn("NSGSIM_E_UNEVALUATED", p.stderr)
            self.assertIn("destinationAddressPrefix", p.stderr)
            self.assertIn("cannot be known before deployment", p.stderr)
        finally:
            os.unlink(f.name)

    def write(self, doc):
        f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        json.dump(doc, f)
        f.close()
        self.addCleanup(os.unlink, f.name)
        return f.name

    def test_limits_and_cycles(self):
        nsg = {"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-09-01",
               "name": "[concat('n', copyIndex())]", "properties": {}}
        p = run("show", "--env", self.write({"resources": [dict(nsg, copy={"name": "c", "count": 801})]}))
        self.assertEqual(p.returncode, 2)
        self.assertIn("/resources/0/copy/count", p.stderr)
        self.assertIn("NSGSIM_E_LIMIT", p.stderr)
        self.assertEqual(run("show", "-q", "--env", self.write(
            {"resources": [dict(nsg, copy={"name": "c", "count": 800})]})).returncode, 0)
        cyc = {"variables": {"a": "[variables('b')]", "b": "[variables('a')]"},
               "resources": [dict(nsg, name="[variables('a')]")]}
        p = run("show", "--env", self.write(cyc))
        self.assertEqual(p.returncode, 2)
        self.assertIn("/resources/0/name", p.stderr)
        self.assertIn("refers to itself", p.stderr)

    def test_parameter_bounds(self):
        tpl = self.write({"parameters": {
            "n": {"type": "int", "minValue": 1, "maxValue": 3},
            "s": {"type": "string", "minLength": 3, "maxLength": 5, "defaultValue": "abcd"}},
            "resources": [{"type": "Microsoft.Network/networkSecurityGroups",
                           "apiVersion": "2023-09-01", "name": "[parameters('s')]"}]})
        self.assertEqual(run("show", "-q", "--env", tpl, "--parameters", "n=3").returncode, 0)
        for given, want in ((["n=4"], "parameter 'n': the value 4 is above its maxValue 3"),
                            (["n=0"], "parameter 'n': the value 0 is below its minValue 1"),
                            (["n=2", "s=ab"], "parameter 's': the length 2 is below its minLength 3")):
            args = sum((["--parameters", g] for g in given), [])
            p = run("show", "--env", tpl, *args)
            self.assertEqual(p.returncode, 2, given)
            self.assertIn(want, p.stderr)
            self.assertIn("/parameters/" + want.split("'")[1], p.stderr)

    def test_nic_into_an_existing_network_is_left_out(self):
        nic = {"type": "Microsoft.Network/networkInterfaces", "apiVersion": "2023-09-01",
               "name": "nic1", "properties": {"ipConfigurations": [{"name": "ip", "properties": {
                   "subnet": {"id": "[resourceId('Microsoft.Network/virtualNetworks/subnets', "
                                    "'existing-vnet', 'default')]"}}}]}}
        nsg = {"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-09-01",
               "name": "nsg1", "properties": {}}
        tpl = self.write({"$schema": "https://schema.management.azure.com/schemas/2019-04-01/"
                                     "deploymentTemplate.json#", "resources": [nsg, nic]})
        p = run("show", "--env", tpl)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("which the input does not create", p.stdout)
        self.assertIn("existing-vnet/subnets/default", p.stdout)
        self.assertIn("1  network security groups", p.stdout)
        # the same NIC in a REST export: a missing subnet is an error
        rest = self.write({"value": [{"type": "Microsoft.Network/networkInterfaces",
                                      "id": "/subscriptions/s/resourceGroups/g/providers/"
                                            "Microsoft.Network/networkInterfaces/nic1",
                                      "properties": {"ipConfigurations": [{"name": "ip",
                                                     "properties": {"subnet": {"id": "/x/subnets/y"}}}]}}]})
        p = run("show", "--env", rest)
        self.assertEqual(p.returncode, 2)
        self.assertIn("NSGSIM_E_DANGLING_REF", p.stderr)

    def test_bicep_source_and_other_documents(self):
        with tempfile.TemporaryDirectory() as d:
            bicep = os.path.join(d, "main.bicep")
            with open(bicep, "w") as f:
                f.write("param location string = resourceGroup().location\n")
            p = run("show", "--env", bicep)
            self.assertEqual(p.returncode, 2)
            self.assertIn("az bicep build", p.stderr)
            for doc, needle in [({"records": [{"properties": {"flows": []}}]}, "flow log"),
                                ({"changeNumber": 1, "values": []}, "--service-tags"),
                                ({"value": [{"effectiveSecurityRules": []}]}, "list-effective-nsg")]:
                path = os.path.join(d, "x.json")
                with open(path, "w") as f:
                    json.dump(doc, f)
                p = run("show", "--env", path)
                self.assertEqual(p.returncode, 2, doc)
                self.assertIn(needle, p.stderr)


if __name__ == "__main__":
    unittest.main()
