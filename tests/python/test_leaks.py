"""Many load/evaluate/render/effective/close cycles keep the memory flat:
every string the library allocates is freed, every policy and loader too,
on the success and on the error paths."""

import gc
import unittest

import nsgsim

from . import support

CYCLES = 300
WARMUP = 30
MAX_GROWTH = 4 * 1024 * 1024

FLOWS = [
    "tcp 10.1.1.4:50000 10.2.1.4:22",
    "tcp 93.184.216.34:50000 10.1.1.4:443",
    "tcp 10.0.3.4 10.1.1.4:8443",
    "icmp 10.1.2.4 10.2.1.4",
    "tcp [fd00:db8:0:3::4]:50000 [2603:1020:200::10]:443",
]
NICS = ["vm-web1-nic", "vm-web2-nic", "vm-db1-nic", "vm-dev1-nic", "vm-jump-nic"]


def use(policy):
    for r in policy.evaluate_many(FLOWS):
        r.to_dict()
        r.to_dict(verbose=True)
        r.explain()
        r.explain(verbose=True)
        r.rule_details(0, 0)
    policy.evaluate("tcp 10.1.1.4:50000 10.2.1.4:443", at="vm-web1-nic",
                    direction="outbound").to_dict()
    policy.source_ports("tcp 10.0.3.4 10.1.1.4:8443")
    policy.effective(NICS[0])
    for nic in NICS:
        policy.effective(nic, format="table")
    for bad in (lambda: policy.effective("no-such-nic"),
                lambda: policy.evaluate("tcp 192.0.2.1:1 198.51.100.1:2"),
                lambda: policy.evaluate("tcp nonsense")):
        try:
            bad()
        except nsgsim.Error:
            pass


def cycle(i):
    if i % 2:
        with support.load_fixture(support.EXAMPLE) as policy:
            use(policy)
    else:
        use(support.load_fixture(support.EXAMPLE))  # dropped without close(): __del__ frees
    bad_loads = [lambda: nsgsim.load(env_json='{"value": [1,,]}'),
                 lambda: nsgsim.load(env="/nonexistent")]
    if i % 10 == 0:
        bad_loads.append(lambda: nsgsim.load(env=support.EXAMPLE + "/env"))  # fails to compile
    for bad in bad_loads:
        try:
            bad()
        except nsgsim.Error:
            pass


class TestLeaks(unittest.TestCase):
    def test_memory_stays_flat(self):
        for i in range(WARMUP):
            cycle(i)
        gc.collect()
        before = support.rss_bytes()
        for i in range(CYCLES):
            cycle(i)
        gc.collect()
        growth = support.rss_bytes() - before
        self.assertLess(growth, MAX_GROWTH,
                        "RSS grew by %.1f MiB over %d cycles" % (growth / 2**20, CYCLES))


if __name__ == "__main__":
    unittest.main()
