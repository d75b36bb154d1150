"""One Policy shared by 8 threads: every answer equals the single-threaded one."""

import itertools
import threading
import unittest

import nsgsim

from . import support

THREADS = 8

V4 = ["10.1.1.4", "10.1.1.5", "10.1.2.4", "10.2.1.4", "10.0.3.4", "10.0.1.4", "93.184.216.34",
      "168.63.129.16", "4.199.82.200", "20.38.108.10"]
V6 = ["fd00:db8:0:3::4", "2001:4860:4860::8888", "2603:1020:200::10"]
PORTS = [22, 80, 443, 1433, 3389, 5985, 5986, 8080, 65300]


def flows():
    out = []
    for src, dst in itertools.permutations(V4, 2):
        for port in PORTS:
            out.append("tcp %s:50000 %s:%d" % (src, dst, port))
            out.append("tcp %s %s:%d" % (src, dst, port))
            out.append("udp %s:50000 %s:%d" % (src, dst, port))
        out.append("icmp %s %s" % (src, dst))
    for src, dst in itertools.permutations(V6, 2):
        for port in PORTS:
            out.append("tcp [%s]:50000 [%s]:%d" % (src, dst, port))
    return out


def answer(policy, flow, full):
    try:
        r = policy.evaluate(flow)
    except nsgsim.Error as e:
        return ("error", e.name, e.message)
    key = (r.verdict, r.decided_by, tuple(r.assumptions), r.source_port)
    return key + (r.to_dict(),) if full else key


class TestThreads(unittest.TestCase):
    def test_eight_threads_agree_with_one(self):
        all_flows = flows()
        self.assertGreater(len(all_flows), 2500)
        with support.load_fixture(support.EXAMPLE) as policy:
            expected = [answer(policy, f, i % 7 == 0) for i, f in enumerate(all_flows)]
            self.assertGreater(sum(1 for e in expected if e[0] == "Allow"), 100)
            self.assertGreater(sum(1 for e in expected if e[0] == "Deny"), 100)
            self.assertGreater(sum(1 for e in expected if e[0] == "error"), 10)
            n = len(all_flows)
            barrier = threading.Barrier(THREADS)
            failures = []
            done = [0] * THREADS

            def work(t):
                try:
                    barrier.wait()
                    start = t * n // THREADS  # each thread its own order
                    for k in range(n):
                        i = (start + k) % n
                        got = answer(policy, all_flows[i], i % 7 == 0)
                        if got != expected[i]:
                            failures.append((t, all_flows[i], got, expected[i]))
                        done[t] += 1
                    # and in one batch
                    ok = [f for f, e in zip(all_flows, expected) if e[0] != "error"]
                    batch = policy.evaluate_many(ok)
                    want = [e for e in expected if e[0] != "error"]
                    for f, r, e in zip(ok, batch, want):
                        if (r.verdict, r.decided_by) != e[:2]:
                            failures.append((t, f, "batch", r.verdict, e[0]))
                except Exception as exc:  # reported below
                    failures.append((t, "exception", repr(exc)))

            threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            self.assertEqual(failures, [])
            self.assertEqual(done, [n] * THREADS)

    def test_close_while_other_threads_evaluate(self):
        policy = support.load_fixture(support.EXAMPLE)
        started = threading.Barrier(THREADS + 1)
        outcomes = []

        def work():
            started.wait()
            count = 0
            try:
                while True:
                    r = policy.evaluate("tcp 10.0.3.4:50000 10.1.1.4:8443")
                    assert not r.allowed
                    r.to_dict()
                    count += 1
            except nsgsim.Error as e:
                outcomes.append(("closed" in e.message, count))
            except Exception as e:
                outcomes.append((repr(e), count))

        threads = [threading.Thread(target=work) for _ in range(THREADS)]
        for th in threads:
            th.start()
        started.wait()
        while policy._users == 0:
            pass  # until the threads are in
        policy.close()
        for th in threads:
            th.join()
        self.assertEqual([o[0] for o in outcomes], [True] * THREADS)
        self.assertIsNone(policy._ptr)  # the last user freed it
        self.assertEqual(policy._users, 0)

    def test_loading_on_many_threads(self):
        # cJSON's error state is global: load() serialises the loader calls.
        errors, policies = [], []

        def work(bad):
            try:
                if bad:
                    nsgsim.load(env_json='{"value": [1,,]}')
                else:
                    policies.append(support.load_fixture(support.EXAMPLE))
            except nsgsim.Error as e:
                errors.append((e.name, e.line, e.column))

        threads = [threading.Thread(target=work, args=(i % 2,)) for i in range(THREADS)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        self.assertEqual(errors, [("NSGSIM_E_JSON", 1, 14)] * (THREADS // 2))
        self.assertEqual(len(policies), THREADS // 2)
        for p in policies:
            self.assertEqual(p.evaluate("tcp 10.1.1.4:50000 10.2.1.4:22").decided_by.rule,
                             "DenyProdToDev")
            p.close()


if __name__ == "__main__":
    unittest.main()
