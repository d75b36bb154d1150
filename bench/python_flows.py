#!/usr/bin/env python3
"""Flows/s from Python on the bench hub: evaluate_many over packed flows (a buffer of
nsgsim_flow records, answered into one buffer) beside the per-flow path (evaluate() a
flow, and evaluate_many of a list, which makes a Result each).  Best of REPEAT runs;
nothing asserted.  `make bench-python` runs it:

    PYTHONPATH=bindings/python NSGSIM_LIBRARY=build/libnsgsim.so.0 \\
        python3 bench/python_flows.py build/bench-data [TAGS]
"""
import os
import sys
import time

import nsgsim

REPEAT = 3
PER_FLOW = 20000  # the per-flow paths are slow: a slice


def best(fn):
    times = []
    for _ in range(REPEAT):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    data = sys.argv[1] if len(sys.argv) > 1 else "build/bench-data"
    tags = sys.argv[2] if len(sys.argv) > 2 else \
        "fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json"
    with open(os.path.join(data, "flows-hub.txt"), encoding="utf-8") as f:
        texts = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    texts *= 5  # 1,000,000 flows: 16 blocks for the threads
    policy = nsgsim.load(env=[os.path.join(data, "hub")], service_tags=tags)
    try:
        t = time.perf_counter()
        packed = nsgsim.pack_flows(texts)
        pack = time.perf_counter() - t
        out = bytearray(len(texts) * nsgsim.DECISION_SIZE)
        n = len(texts)
        packed_s = best(lambda: policy.evaluate_many(packed, out=out))
        fresh_s = best(lambda: policy.evaluate_many(packed))
        jobs_s = best(lambda: policy.evaluate_many(packed, out=out, jobs=2))
        some = texts[:PER_FLOW]
        one_s = best(lambda: [policy.evaluate(t) for t in some])
        list_s = best(lambda: policy.evaluate_many(some))
        print("python: %d hub flows (%d per-flow), best of %d" % (n, len(some), REPEAT))
        print("python: evaluate_many(packed, out=buffer): %.2f M flows/s (%.0f ns/flow)"
              % (n / packed_s / 1e6, packed_s / n * 1e9))
        print("python: evaluate_many(packed), new Decisions: %.2f M flows/s"
              % (n / fresh_s / 1e6))
        print("python: evaluate_many(packed, out=buffer, jobs=2): %.2f M flows/s (%.2fx jobs=1)"
              % (n / jobs_s / 1e6, packed_s / jobs_s))
        print("python: evaluate(flow) a flow: %.3f M flows/s (packed is %.0fx)"
              % (len(some) / one_s / 1e6, (len(some) / one_s) and (one_s / len(some)) /
                 (packed_s / n)))
        print("python: evaluate_many(list of texts) -> Results: %.3f M flows/s"
              % (len(some) / list_s / 1e6))
        print("python: pack_flows (once, reusable): %.3f M flows/s" % (n / pack / 1e6))
    finally:
        policy.close()


if __name__ == "__main__":
    main()
