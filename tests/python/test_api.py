"""The Python API: flows in every form, IPv6, batches, effective rules,
notes and stats."""

import json
import os
import subprocess
import unittest

import nsgsim

from . import support


class TestApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.policy = support.load_fixture(support.EXAMPLE)

    @classmethod
    def tearDownClass(cls):
        cls.policy.close()

    def test_resources_match_the_cli_list(self):
        nics = self.policy.resources("nics")
        self.assertEqual(len(nics), self.policy.stats["nics"])
        self.assertIn("vm-web1-nic", [n["name"] for n in nics])
        for kind in ("nics", "subnets", "nsgs", "asgs", "managers"):
            with self.subTest(kind=kind):
                got = self.policy.resources(kind.upper())
                for r in got:
                    self.assertEqual(sorted(r), ["file", "id", "name", "pointer"])
                    self.assertTrue(r["id"].endswith("/" + r["name"]))
                cli = support.cli_path()
                if cli:
                    p = subprocess.run([cli, "list", kind, "--json", "-q", "--env",
                                        os.path.join(support.EXAMPLE, "env"), "--service-tags",
                                        support.tags_for(support.EXAMPLE)],
                                       capture_output=True, text=True)
                    self.assertEqual(json.loads(p.stdout), got, p.stderr)
        with self.assertRaises(ValueError):
            self.policy.resources("vms")

    def test_minimal_build_gives_the_same_answers(self):
        minimal = nsgsim.load(env=[os.path.join(support.EXAMPLE, "env")],
                              service_tags=support.tags_for(support.EXAMPLE), build="minimal")
        try:
            for flow in ("tcp 10.1.1.4:50000 10.2.1.4:22", "tcp 93.184.216.34 10.1.1.4:443",
                         "icmp 10.0.3.4 10.2.1.4", "tcp 10.0.3.4:50000 10.1.1.5:5986"):
                a, b = self.policy.evaluate(flow), minimal.evaluate(flow)
                self.assertEqual(a.to_dict(verbose=True), b.to_dict(verbose=True), flow)
        finally:
            minimal.close()
        with self.assertRaises(ValueError):
            nsgsim.load(env_json="[]", build="lazy")

    def test_lint_matches_the_cli(self):
        fixture = "fixtures/semantics/t12_protocols_without_ports"
        policy = nsgsim.load(env=[os.path.join(fixture, "env")], service_tags=support.tags_for(fixture))
        try:
            findings = policy.lint()
        finally:
            policy.close()
        self.assertEqual([(f["id"], f["level"]) for f in findings],
                         [("shadowed-rule", "warning"), ("exposed-port", "warning"),
                          ("exposed-port", "warning")])
        self.assertTrue(findings[0]["rule"].endswith("/Allow-Esp-Port-500"))
        self.assertEqual(findings[0]["evidence"]["kind"], "matches-nothing")
        cli = support.cli_path()
        if cli:
            p = subprocess.run([cli, "lint", "--json", "-q", "--env", os.path.join(fixture, "env"),
                                "--service-tags", support.tags_for(fixture)],
                               capture_output=True, text=True)
            doc = json.loads(p.stdout)
            self.assertEqual(doc["findings"], findings)  # the same keys, line included
        self.assertEqual(list(findings[0]), ["id", "level", "resource", "rule", "file", "pointer",
                                             "line", "message", "evidence"])
        self.assertIsInstance(findings[0]["line"], int)

    def test_result(self):
        r = self.policy.evaluate("tcp 10.1.1.4:50000 10.2.1.4:22")
        self.assertFalse(r.allowed)
        self.assertEqual(r.verdict, "Deny")
        self.assertEqual(r.decided_by, ("AdminRule", "DenyProdToDev", "source"))
        self.assertEqual(r.decided_by.layer, "AdminRule")
        self.assertEqual(r.assumptions, ["admin-configuration-deployed"])
        self.assertEqual(r.source_port, 50000)
        self.assertFalse(r.one_sided)
        self.assertEqual(r.evaluations, r.to_dict()["evaluations"])
        self.assertEqual(len(r.evaluations), 1)  # the source denied
        self.assertEqual(r.to_dict()["decidedBy"]["priority"], 200)
        self.assertIn("rules", r.to_dict(verbose=True)["evaluations"][0]["layers"][0])
        self.assertNotIn("rules", r.to_dict()["evaluations"][0]["layers"][0])
        d = r.to_dict()
        d["verdict"] = "mutated"
        self.assertEqual(r.to_dict()["verdict"], "Deny")  # a fresh dict each time
        self.assertTrue(r.explain().startswith("Flow: Tcp 10.1.1.4:50000 -> 10.2.1.4:22\n"))
        self.assertIn("Verdict: DENY", r.explain())
        self.assertIn("DenyProdToDev", repr(r))

        a = self.policy.evaluate("tcp 10.0.1.4:50000 10.1.1.5:22")
        self.assertTrue(a.allowed)
        self.assertEqual(a.verdict, "Allow")
        self.assertEqual(len(a.evaluations), 2)

    def test_no_rule_decided(self):
        fixture = "fixtures/semantics/t3_no_nsg_means_allow"
        rows = [r for r in support.read_rows(fixture) if r.layer == "None"]
        self.assertTrue(rows)
        with support.load_fixture(fixture) as p:
            r = p.evaluate(rows[0].flow)
            self.assertTrue(r.allowed)
            self.assertEqual(r.decided_by, ("None", None, None))
            self.assertEqual(r.to_dict()["decidedBy"]["layer"], "None")
            self.assertIsNone(r.to_dict()["decidedBy"]["rule"])
            self.assertIsNone(r.to_dict()["decidedBy"]["endpoint"])

    def test_platform_layer(self):
        """The host's services pass a deny-all NSG by the Platform layer (SEMANTICS.md §3.7)."""
        with support.load_fixture("fixtures/semantics/t13_platform_traffic") as p:
            r = p.evaluate("udp 10.0.1.4:50000 168.63.129.16:53")
            self.assertTrue(r.allowed)
            self.assertEqual(r.decided_by, ("Platform", "PlatformRule", "source"))
            self.assertEqual(r.assumptions, ["platform-services"])
            self.assertEqual(r.to_dict()["evaluations"][0]["layers"][0]["layer"], "Platform")
            d = p.evaluate("udp 10.0.2.4:50000 168.63.129.16:53")
            self.assertEqual(d.decided_by, ("SubnetNsg", "Deny-PlatformDNS", "source"))
            n = p.evaluate("tcp 10.0.1.4:50000 168.63.129.16:443")
            self.assertEqual(n.decided_by.layer, "SubnetNsg")
            self.assertNotIn("platform-services", n.assumptions)

    def test_flow_forms_agree(self):
        p = self.policy
        text = "tcp 10.1.1.4:50000 10.2.1.4:22"
        kw = dict(protocol="tcp", source="10.1.1.4", source_port=50000,
                  destination="10.2.1.4", destination_port=22)
        want = p.evaluate(text).to_dict()
        self.assertEqual(p.evaluate(**kw).to_dict(), want)
        self.assertEqual(p.evaluate(nsgsim.Flow(**kw)).to_dict(), want)
        self.assertEqual(p.evaluate(nsgsim.Flow.parse(text)).to_dict(), want)
        self.assertEqual(p.evaluate(protocol="TCP", source="10.1.1.4", source_port=50000,
                                    destination="10.2.1.4", destination_port=22).to_dict(),
                         want)
        self.assertEqual(p.evaluate(protocol=6, **{k: v for k, v in kw.items()
                                                   if k != "protocol"}).to_dict(), want)
        # without a source port: every source port
        r = p.evaluate(protocol="tcp", source="10.0.3.4", destination="10.1.1.4",
                       destination_port=8443)
        self.assertIsNone(r.source_port)
        self.assertIsNone(r.flow.source_port)
        self.assertIsNone(r.to_dict()["flow"]["sourcePort"])
        self.assertEqual(r.to_dict(), p.evaluate("tcp 10.0.3.4 10.1.1.4:8443").to_dict())
        icmp = p.evaluate(protocol="icmp", source="10.1.2.4", destination="10.2.1.4")
        self.assertEqual(icmp.decided_by, ("AdminRule", "DenyProdToDev", "source"))

    def test_ipv6(self):
        p = self.policy
        r = p.evaluate(protocol="tcp", source="fd00:db8:0:3::4", source_port=50000,
                       destination="2603:1020:200::10", destination_port=443)
        self.assertTrue(r.allowed)
        self.assertEqual(r.decided_by,
                         ("SubnetNsg", "Allow-AzureCloud-WE-Https-Out", "source"))
        self.assertEqual(r.to_dict(),
                         p.evaluate("tcp [fd00:db8:0:3::4]:50000 [2603:1020:200::10]:443")
                         .to_dict())
        self.assertEqual(str(r.flow), "tcp [fd00:db8:0:3::4]:50000 [2603:1020:200::10]:443")
        self.assertEqual(r.flow.source, "fd00:db8:0:3::4")
        # bracketed input and no source port
        r2 = p.evaluate(protocol="tcp", source="[2001:4860:4860::8888]",
                        destination="fd00:db8:0:3::4", destination_port=22)
        self.assertEqual(r2.decided_by, ("SubnetNsg", "DenyAllInBound", "destination"))
        self.assertEqual(str(r2.flow), "tcp 2001:4860:4860::8888 [fd00:db8:0:3::4]:22")

    def test_flow_object(self):
        f = nsgsim.Flow.parse("UDP 10.0.3.4:50000 10.2.1.4:514")
        self.assertEqual((f.protocol, f.source, f.source_port, f.destination,
                          f.destination_port), ("udp", "10.0.3.4", 50000, "10.2.1.4", 514))
        self.assertEqual(str(f), "udp 10.0.3.4:50000 10.2.1.4:514")
        self.assertEqual(f, nsgsim.Flow.parse(str(f)))
        self.assertEqual(len({f, nsgsim.Flow.parse(str(f))}), 1)
        with self.assertRaises(AttributeError):
            f.source = "10.0.0.1"
        self.assertEqual(nsgsim.Flow.parse("icmp 10.0.0.1 10.0.0.2").destination_port, None)

    def test_one_sided(self):
        r = self.policy.evaluate("tcp 10.1.1.4:50000 10.2.1.4:443", at="vm-web1-nic",
                                 direction="outbound")
        self.assertTrue(r.one_sided)
        self.assertEqual(len(r.evaluations), 1)
        self.assertEqual(r.decided_by, ("AdminRule", "DenyProdToDev", "source"))
        nic_id = r.evaluations[0]["nic"]
        by_id = self.policy.evaluate("tcp 10.1.1.4:50000 10.2.1.4:443", at=nic_id,
                                     direction="Outbound")
        self.assertEqual(by_id.to_dict(), r.to_dict())
        r = self.policy.evaluate(protocol="tcp", source="93.184.216.34", source_port=50000,
                                 destination="10.1.1.4", destination_port=443,
                                 at="vm-web1-nic", direction="inbound")
        self.assertEqual(r.decided_by, ("NicNsg", "Allow-HTTPS-In", "destination"))

    def test_evaluate_many(self):
        rows = support.read_rows(support.EXAMPLE)
        flows = []
        for i, row in enumerate(rows):
            if row.at:
                flows.append(dict(flow=row.flow, at=row.at, direction=row.direction))
            elif i % 3 == 0:
                flows.append(nsgsim.Flow.parse(row.flow))
            elif i % 3 == 1:
                f = nsgsim.Flow.parse(row.flow)
                flows.append(dict(protocol=f.protocol, source=f.source,
                                  source_port=f.source_port, destination=f.destination,
                                  destination_port=f.destination_port))
            else:
                flows.append(row.flow)
        results = self.policy.evaluate_many(flows)
        self.assertEqual(len(results), len(rows))
        for row, r in zip(rows, results):
            with self.subTest(row=str(row)):
                self.assertEqual((r.verdict, r.decided_by.layer, r.decided_by.rule.lower()),
                                 (row.verdict, row.layer, row.rule.lower()))
        self.assertEqual(self.policy.evaluate_many([]), [])
        self.assertEqual(self.policy.evaluate_many(iter(["tcp 10.1.1.4:50000 10.2.1.4:22"]))[0]
                         .verdict, "Deny")

    def test_effective(self):
        eff = self.policy.effective("vm-web1-nic")
        self.assertIsInstance(eff, dict)
        self.assertIn("value", eff)
        self.assertEqual(json.loads(json.dumps(eff)), eff)
        table = self.policy.effective("vm-web1-nic", format="table")
        self.assertIsInstance(table, str)
        self.assertTrue(table.startswith("Effective security rules of vm-web1-nic"))
        nic_id = self.policy.evaluate("tcp 93.184.216.34:50000 10.1.1.4:443") \
            .evaluations[-1]["nic"]
        self.assertEqual(self.policy.effective(nic_id.upper()), eff)  # ids: any case

    def test_stats_and_notes(self):
        s = self.policy.stats
        self.assertEqual(s, {"vnets": 3, "subnets": 6, "nics": 5, "nsgs": 5, "nsg_rules": 50,
                             "asgs": 2, "route_tables": 1, "network_managers": 1,
                             "admin_rules": 4, "service_tags": 16})
        s["nics"] = 0
        self.assertEqual(self.policy.stats["nics"], 5)
        self.assertEqual(self.policy.notes, [])
        with support.load_fixture("fixtures/semantics/t19_equal_admin_priorities") as p:
            notes = p.notes
            self.assertGreaterEqual(len(notes), 1)
            for n in notes:
                self.assertEqual(set(n), {"kind", "message", "file", "pointer", "resource"})
                self.assertIn(n["kind"], ("skipped", "limit", "warning"))
            self.assertEqual(notes[0]["kind"], "warning")
            self.assertIn("ties are ordered", notes[0]["message"])
            self.assertTrue(notes[0]["file"].endswith("securityAdminRules.json"))
            self.assertEqual(notes[0]["pointer"], "/value/1")

    def test_load_forms(self):
        env = support.EXAMPLE + "/env"
        tags = support.DEFAULT_TAGS
        one = nsgsim.load(env=env, service_tags=tags)  # a single path
        files = sorted(os.path.join(dp, f) for dp, _, fs in os.walk(env) for f in fs
                       if f.endswith(".json"))
        many = nsgsim.load(env=files, service_tags=tags)  # a list of files
        texts = {}
        for path in files:
            with open(path, encoding="utf-8") as f:
                texts[path] = f.read()
        with open(tags, "rb") as f:
            from_memory = nsgsim.load(env_json=texts, service_tags_json=f.read())
        flow = "tcp 10.1.1.4:50000 10.2.1.4:1433"
        want = self.policy.evaluate(flow).to_dict()
        for p in (one, many, from_memory):
            with p:
                self.assertEqual(p.stats, self.policy.stats)
                self.assertEqual(p.evaluate(flow).to_dict(), want)
        with self.assertRaises(TypeError):
            nsgsim.load(env=env, service_tags=tags, service_tags_json="{}")

    def test_result_keeps_its_policy_alive(self):
        r = support.load_fixture(support.EXAMPLE).evaluate("tcp 10.1.1.4:50000 10.2.1.4:22")
        import gc
        gc.collect()
        self.assertIn("DenyProdToDev", r.explain())


if __name__ == "__main__":
    unittest.main()
