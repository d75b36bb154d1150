#!/usr/bin/env python3
"""nsgsim replay against the real flow logs in fixtures/flow_logs and the
environments reconstructed for them (fixtures/flow_logs/README.md): golden
text, JSON and JUnit output, the exit status (0 all agree, 1 a disagreement,
2 an error), --after, gzip and a directory tree of hourly blobs, and errors
that name the file and the JSON pointer.

    NSGSIM=./build/nsgsim python3 tests/replay_golden.py     # make check-cli
    NSGSIM_UPDATE_GOLDEN=1 python3 tests/replay_golden.py     # rewrite tests/golden/replay/*
"""
import gzip
import json
import os
import shutil
import tempfile
import unittest

from goldens import ROOT, GoldenFiles, run

LOGS = "fixtures/flow_logs"
CASES = [  # (name, environment, log)
    ("danifitz", "danifitz", "nsg_v2_danifitz_trimmed_PT1H.json"),
    ("chshin9", "chshin9", "vnet_v4_chshin9_PT1H.json"),
    ("elastic_nsg_v2", "elastic_nsg_v2", "elastic_nsg_v2_testdata.json"),
    ("elastic_vnet_v4", "elastic_vnet_v4", "elastic_vnet_v4_testdata.json"),
]


def env(name):
    return ["--env", "%s/env/%s" % (LOGS, name), "-q"]


class Replay(GoldenFiles, unittest.TestCase):
    golden_dir = "replay"

    def test_real_logs_agree(self):
        for name, e, log in CASES:
            with self.subTest(log=log):
                p = run("replay", *env(e), "%s/%s" % (LOGS, log))
                self.check_run(p, 0)
                self.golden(name + ".txt", p.stdout)
                self.assertIn(" 0 (decision 0, rule 0)", p.stdout)

    def test_json_summary_adds_up(self):
        for name, e, log in CASES:
            with self.subTest(log=log):
                p = run("replay", *env(e), "--json", "%s/%s" % (LOGS, log))
                self.check_run(p, 0)
                doc = json.loads(p.stdout)
                s = doc["summary"]
                self.assertEqual(s["tuples"], s["agree"] + s["disagree"] + s["not_modelled"])
                self.assertEqual(s["not_modelled"], sum(s["not_modelled_by_reason"].values()))
                self.assertEqual(s["tuples"], sum(g["count"] for g in doc["groups"]))

    def test_a_missing_rule_disagrees(self):
        """Without Supplier-API the two tuples the log allowed by it are denied."""
        junit = os.path.join(tempfile.mkdtemp(), "replay.xml")
        try:
            p = run("replay", *env("chshin9_no_supplier"), "--json", "--junit", junit,
                    "%s/vnet_v4_chshin9_PT1H.json" % LOGS)
            self.check_run(p, 1)
            self.golden("chshin9_no_supplier.json", p.stdout)
            with open(junit, encoding="utf-8") as fh:
                self.golden("chshin9_no_supplier.xml", fh.read())
            p = run("replay", *env("chshin9_no_supplier"), "%s/vnet_v4_chshin9_PT1H.json" % LOGS)
            self.check_run(p, 1)
            self.golden("chshin9_no_supplier.txt", p.stdout)
        finally:
            shutil.rmtree(os.path.dirname(junit))

    def test_another_rule_decides(self):
        """An earlier rule allowing the same flows: the decision agrees, the rule does not."""
        p = run("replay", *env("chshin9_rule"), "%s/vnet_v4_chshin9_PT1H.json" % LOGS)
        self.check_run(p, 1)
        self.golden("chshin9_rule.txt", p.stdout)
        self.assertIn("disagree      2 (decision 0, rule 2)", p.stdout)

    def test_a_tuple_under_two_nsgs(self):
        """Each NSG's record is compared with that NSG's layer; the example says which NSG
        decides at the NIC (generated/two_nsgs: the subnet NSG allows SSH, the NIC's denies)."""
        args = ["replay", "--env", "%s/generated/two_nsgs_env" % LOGS, "-q",
                "%s/generated/two_nsgs_PT1H.json" % LOGS]
        p = run(*args)
        self.check_run(p, 0)
        self.golden("two_nsgs.txt", p.stdout)
        groups = json.loads(run(*args, "--json").stdout)["groups"]
        ssh = [g for g in groups if g["logged_rule"] == "UserRule_AllowSsh"]
        self.assertEqual(len(ssh), 1)
        self.assertTrue(ssh[0]["logged_by"].endswith("/NSG-SUBNET"))
        self.assertTrue(ssh[0]["example"]["decided_by"].endswith("/nsg-nic"))
        self.assertEqual(ssh[0]["example"]["decided_rule"], "UserRule_DenySsh")

    def test_after_flips(self):
        p = run("replay", *env("chshin9"), "--after", "%s/env/chshin9_no_supplier" % LOGS,
                "%s/vnet_v4_chshin9_PT1H.json" % LOGS)
        self.check_run(p, 0)
        self.golden("chshin9_after.txt", p.stdout)
        p = run("replay", *env("chshin9"), "--after", "%s/env/chshin9_no_supplier" % LOGS,
                "--json", "%s/vnet_v4_chshin9_PT1H.json" % LOGS)
        after = json.loads(p.stdout)["after"]
        self.assertEqual(after["flipped"], 2)
        self.assertEqual(after["groups"][0]["nsgsim_rule"], "DefaultRule_DenyAllInBound")

    def test_gzip_and_directory_tree(self):
        """A tree of hourly blobs (one gzip'd) counts what the files count."""
        tmp = tempfile.mkdtemp()
        try:
            src = os.path.join(ROOT, LOGS, "nsg_v2_danifitz_trimmed_PT1H.json")
            for h in ("h=00", "h=01"):
                d = os.path.join(tmp, "y=2020", "m=07", "d=08", h, "m=00", "macAddress=X")
                os.makedirs(d)
                with open(src, "rb") as fh:
                    data = fh.read()
                if h == "h=01":
                    with gzip.open(os.path.join(d, "PT1H.json.gz"), "wb") as out:
                        out.write(data)
                else:
                    with open(os.path.join(d, "PT1H.json"), "wb") as out:
                        out.write(data)
            p = run("replay", *env("danifitz"), "--json", tmp)
            self.check_run(p, 0)
            s = json.loads(p.stdout)["summary"]
            one = json.loads(run("replay", *env("danifitz"), "--json", src).stdout)["summary"]
            self.assertEqual(s["tuples"], 2 * one["tuples"])
            self.assertEqual(s["agree"], 2 * one["agree"])
        finally:
            shutil.rmtree(tmp)

    def test_one_group_files_keep_their_own_rule(self):
        """Hourly blobs of one record and one rule group each: every file's tuples carry
        that file's rule, never the previous file's."""
        nsg = ("/subscriptions/71d310bf-1718-4d11-87d1-99a7d4e2053f/resourceGroups/"
               "Student-RG-2236587/providers/Microsoft.Network/networkSecurityGroups/"
               "shopstream-supplier-vm-nsg")
        tmp = tempfile.mkdtemp()
        try:
            for h, rule, tup in (
                    ("h=00", "DefaultRule_DenyAllInBound",
                     "1786653103883,147.185.132.143,10.0.5.4,50648,9881,6,I,D,NX,0,0,0,0"),
                    ("h=01", "UserRule_Supplier-API",
                     "1786653162636,173.34.158.146,10.0.5.4,59350,8001,6,I,B,NX,0,0,0,0")):
                d = os.path.join(tmp, h)
                os.makedirs(d)
                doc = {"records": [{"flowLogVersion": 4, "targetResourceID": "/vnet",
                                    "macAddress": "0022486DBA37", "flowRecords": {"flows": [
                                        {"aclID": nsg, "flowGroups": [
                                            {"rule": rule, "flowTuples": [tup]}]}]}}]}
                with open(os.path.join(d, "PT1H.json"), "w", encoding="utf-8") as fh:
                    json.dump(doc, fh)
            p = run("replay", *env("chshin9"), "--json", tmp)
            self.check_run(p, 0)
            self.assertEqual(json.loads(p.stdout)["summary"]["agree"], 2)
        finally:
            shutil.rmtree(tmp)

    def test_platform_tuples_the_model_explains(self):
        """PlatformRule tuples of the supplier VM's DNS and IMDS requests agree with the
        Platform layer (SEMANTICS.md §3.7); the real log's inbound ones from 40.87.x.0 it does
        not explain, and a PlatformRule on another port is not modelled either."""
        tmp = tempfile.mkdtemp()
        try:
            tuples = [
                "1786653106963,10.0.5.4,168.63.129.16,50000,53,17,O,B,NX,0,0,0,0",
                "1786653106964,10.0.5.4,168.63.129.16,50001,53,6,O,B,NX,0,0,0,0",
                "1786653106965,10.0.5.4,169.254.169.254,50002,80,6,O,B,NX,0,0,0,0",
                "1786653106966,10.0.5.4,168.63.129.16,50003,32526,6,O,E,NX,1,128,1,54",
                "1786653106967,40.87.164.0,10.0.5.4,23456,25800,6,I,B,NX,0,0,0,0",
                "1786653106968,10.0.5.4,168.63.129.16,50004,443,6,O,B,NX,0,0,0,0",
            ]
            doc = {"records": [{"flowLogVersion": 4, "targetResourceID": "/vnet",
                                "macAddress": "0022486DBA37", "flowRecords": {"flows": [
                                    {"aclID": "00000000-0000-0000-0000-000000000000",
                                     "flowGroups": [{"rule": "PlatformRule",
                                                     "flowTuples": tuples}]}]}}]}
            log = os.path.join(tmp, "PT1H.json")
            with open(log, "w", encoding="utf-8") as fh:
                json.dump(doc, fh)
            p = run("replay", *env("chshin9"), "--json", log)
            self.check_run(p, 0)
            out = json.loads(p.stdout)
            self.assertEqual(out["summary"]["agree"], 4)
            self.assertEqual(out["summary"]["not_modelled_by_reason"]["platform"], 2)
            agree = [g for g in out["groups"] if g["class"] == "agree"]
            self.assertEqual([(g["nsgsim_rule"], g["count"]) for g in agree],
                             [("PlatformRule", 4)])
            self.assertEqual(agree[0]["example"]["decided_by"], "AzurePlatform")
        finally:
            shutil.rmtree(tmp)

    def test_endpoint_not_in_the_environment(self):
        p = run("replay", *env("chshin9"), "--json", "%s/elastic_vnet_v4_testdata.json" % LOGS)
        self.check_run(p, 0)
        s = json.loads(p.stdout)["summary"]
        self.assertEqual(s["not_modelled_by_reason"]["endpoint"], 19)

    def test_the_nic_named_by_mac(self):
        """The Microsoft sample logs its NIC by MAC 000D3AF87856: an input whose
        NIC has that macAddress but no private IP is still where the tuples
        are evaluated (by address they would be 'endpoint not in the
        environment')."""
        with open(os.path.join(ROOT, LOGS, "env/elastic_nsg_v2/env.json")) as f:
            doc = json.load(f)
        nic = [r for r in doc["value"] if r["type"].endswith("networkInterfaces")][0]
        del nic["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"]
        tmp = tempfile.mkdtemp()
        try:
            path = os.path.join(tmp, "env.json")
            for mac, want_endpoint in (("00-0D-3A-F8-78-56", 0), (None, 1)):
                if mac:
                    nic["properties"]["macAddress"] = mac
                else:
                    nic["properties"].pop("macAddress", None)
                with open(path, "w") as f:
                    json.dump(doc, f)
                p = run("replay", "--env", path, "-q", "--json",
                        "%s/elastic_nsg_v2_testdata.json" % LOGS)
                self.check_run(p, 0)
                s = json.loads(p.stdout)["summary"]
                self.assertEqual(s["not_modelled_by_reason"]["endpoint"] > 0, bool(want_endpoint),
                                 p.stdout)
                if mac:  # as with the address: all agree but the ends of unseen sessions
                    self.assertEqual(s["disagree"], 0, p.stdout)
                    self.assertEqual(s["agree"] + s["not_modelled_by_reason"]["no-begin"],
                                     s["tuples"], p.stdout)
            nic["properties"]["macAddress"] = "00-0D-3A"
            with open(path, "w") as f:
                json.dump(doc, f)
            p = run("replay", "--env", path, "%s/elastic_nsg_v2_testdata.json" % LOGS)
            self.check_run(p, 2)
            self.assertIn("/value/2/properties/macAddress", p.stderr)
            self.assertIn("is not a MAC address", p.stderr)
        finally:
            shutil.rmtree(tmp)

    def test_jobs_print_what_one_thread_prints(self):
        """--jobs 2 reads the logs on a second thread: the same output and status, for every
        log at once (batches of 4,096 tuples cross files), with --after and --json, and for
        a log that is not there."""
        logs = ["%s/%s" % (LOGS, log) for _, _, log in CASES]
        for args in ([*env("chshin9"), *logs], [*env("chshin9"), "--json", *logs],
                     [*env("chshin9_no_supplier"), "--after", "%s/env/chshin9" % LOGS,
                      "%s/vnet_v4_chshin9_PT1H.json" % LOGS],
                     [*env("danifitz"), "%s/nope.json" % LOGS, logs[0]],
                     [*env("danifitz"), logs[0], "%s/nope.json" % LOGS]):
            with self.subTest(args=args):
                one = run("replay", *args)
                two = run("replay", "--jobs", "2", *args)
                self.assertEqual((two.returncode, two.stdout, two.stderr),
                                 (one.returncode, one.stdout, one.stderr))

    def test_policy_file_replays_as_its_env(self):
        """replay --policy FILE.nsgp (nsgsim compile of the environment) prints what
        --env prints, for every real log."""
        with tempfile.TemporaryDirectory(prefix="nsgsim-replay-nsgp-") as tmp:
            for name, e, log in CASES:
                with self.subTest(log=log):
                    nsgp = os.path.join(tmp, name + ".nsgp")
                    self.check_run(run("compile", *env(e), "-o", nsgp), 0)
                    by_env = run("replay", *env(e), "%s/%s" % (LOGS, log))
                    by_file = run("replay", "--policy", nsgp, "-q", "%s/%s" % (LOGS, log))
                    self.assertEqual((by_file.returncode, by_file.stdout),
                                     (by_env.returncode, by_env.stdout))

    def test_errors(self):
        p = run("replay", *env("danifitz"), "tests/golden/replay/bad_port.json")
        self.check_run(p, 2)
        self.assertEqual(p.stdout, "")
        self.assertIn("tests/golden/replay/bad_port.json:3:4: "
                      "/records/0/properties/flows/0/flows/0/flowTuples/1", p.stderr)
        self.assertIn("the destination port, is '99999'", p.stderr)
        p = run("replay", *env("danifitz"), "no/such/log.json")
        self.check_run(p, 2)
        self.assertIn("no/such/log.json", p.stderr)
        p = run("replay", *env("danifitz"))
        self.check_run(p, 2)
        self.assertIn("give at least one flow log", p.stderr)


if __name__ == "__main__":
    unittest.main()
