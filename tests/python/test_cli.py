"""Result.to_dict(), explain() and Policy.effective() against the CLI
(`nsgsim eval --json`, `nsgsim eval`, `nsgsim effective`).  The binary is
$NSGSIM, else the nsgsim beside $NSGSIM_LIBRARY, else ./build/nsgsim;
skipped when it is missing."""

import json
import subprocess
import unittest

from . import support

CLI = support.cli_path()
ENV = support.EXAMPLE + "/env"
TAGS = support.DEFAULT_TAGS

# (flow, extra CLI options / evaluate keyword arguments)
FLOWS = [
    ("tcp 10.1.1.4:50000 10.2.1.4:22", {}),  # admin deny at the source
    ("tcp 93.184.216.34:50000 10.1.1.4:443", {}),  # NIC NSG allow at the destination
    ("tcp 10.0.3.4 10.1.1.4:8443", {}),  # every source port
    ("icmp 10.1.2.4 10.2.1.4", {}),
    ("udp 10.0.3.4:50000 10.2.1.4:514", {}),
    ("tcp [2001:4860:4860::8888]:50000 [fd00:db8:0:3::4]:22", {}),
    ("tcp [fd00:db8:0:3::4]:50000 [2603:1020:200::10]:443", {}),
    ("tcp 10.1.1.4:50000 10.2.1.4:443", {"at": "vm-web1-nic", "direction": "outbound"}),
    ("tcp 93.184.216.34:50000 10.1.1.4:443", {"at": "vm-web1-nic", "direction": "inbound"}),
]


def run_cli(*args):
    p = subprocess.run([CLI, *args], capture_output=True, text=True, timeout=60)
    if p.returncode not in (0, 1):
        raise AssertionError("%s failed (%d): %s" % (args, p.returncode, p.stderr))
    return p.stdout


def eval_args(flow, kw, *options):
    args = ["eval", "-q", "--env", ENV, "--service-tags", TAGS, *options]
    if kw:
        args += ["--at", kw["at"], "--direction", kw["direction"]]
    return args + flow.split()


@unittest.skipIf(CLI is None, "the nsgsim CLI is not built (set NSGSIM)")
class TestAgainstCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.policy = support.load_fixture(support.EXAMPLE)

    @classmethod
    def tearDownClass(cls):
        cls.policy.close()

    def test_to_dict_is_the_cli_json(self):
        for flow, kw in FLOWS:
            with self.subTest(flow=flow, **kw):
                r = self.policy.evaluate(flow, **kw)
                self.assertEqual(r.to_dict(), json.loads(run_cli(*eval_args(flow, kw, "--json"))))

    def test_verbose_to_dict_is_the_cli_json(self):
        for flow, kw in FLOWS[:3]:
            with self.subTest(flow=flow):
                r = self.policy.evaluate(flow, **kw)
                self.assertEqual(r.to_dict(verbose=True),
                                 json.loads(run_cli(*eval_args(flow, kw, "--json", "-v"))))

    def test_explain_is_the_cli_text(self):
        for flow, kw in FLOWS:
            with self.subTest(flow=flow, **kw):
                r = self.policy.evaluate(flow, **kw)
                self.assertEqual(r.explain(), run_cli(*eval_args(flow, kw)))
        flow, kw = FLOWS[0]
        self.assertEqual(self.policy.evaluate(flow).explain(verbose=True),
                         run_cli(*eval_args(flow, kw, "-v")))

    def test_effective_is_the_cli(self):
        base = ["effective", "-q", "--env", ENV, "--service-tags", TAGS]
        for nic in ("vm-web1-nic", "vm-dev1-nic"):
            with self.subTest(nic=nic):
                self.assertEqual(self.policy.effective(nic),
                                 json.loads(run_cli(*base, "--format", "json", nic)))
                self.assertEqual(self.policy.effective(nic, format="table"),
                                 run_cli(*base, "--format", "table", nic))

    def test_error_text_is_the_cli_error_line(self):
        import nsgsim
        with self.assertRaises(nsgsim.Error) as cm:
            self.policy.effective("no-such-nic")
        p = subprocess.run([CLI, "effective", "-q", "--env", ENV, "--service-tags", TAGS,
                            "no-such-nic"], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stderr, "nsgsim: error: %s\n" % cm.exception)


if __name__ == "__main__":
    unittest.main()
