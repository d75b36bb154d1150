#!/usr/bin/env python3
"""The worked examples of SEMANTICS.md as reach tables (Python standard library only).

    NSGSIM=./build/nsgsim python3 tests/reach_tables.py         # make check-cli

Each fixtures/semantics/*/reach.txt holds `reach` queries, each followed by
hand-written expectations read like NSG rules: in order, first match.  A
flow's expected outcome is that of the first expectation whose box holds it.
The check is exact, by box arithmetic on the --json regions (no sampling):
every part of every region must fall to an expectation with the region's
verdict and deciding layer, rule and endpoint; every part must fall to some
expectation; and every expectation must receive part of the space (a line
that matches nothing is a mistake in the table).  The format is in
fixtures/semantics/README.md.
"""

import glob
import ipaddress
import json
import os
import subprocess
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NSGSIM = os.path.abspath(os.environ.get("NSGSIM", "./build/nsgsim"))
PORTED = {"Tcp", "Udp"}
PROTOCOLS = {"tcp": "Tcp", "udp": "Udp", "icmp": "Icmp", "esp": "Esp", "ah": "Ah"}
ALL_PORTS = ((0, 65535),)
V6_BASE = 1 << 33  # IPv6 addresses live above IPv4's in one number line


class TableError(ValueError):
    pass


# ---- interval lists: sorted, disjoint tuples of (lo, hi) -------------------------------

def normal(ranges):
    out = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return tuple(out)


def meet(a, b):
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def minus(a, b):
    out = []
    for lo, hi in a:
        for blo, bhi in b:
            if bhi < lo or blo > hi:
                continue
            if blo > lo:
                out.append((lo, blo - 1))
            lo = bhi + 1
            if lo > hi:
                break
        if lo <= hi:
            out.append((lo, hi))
    return tuple(out)


# ---- boxes: (protocols frozenset, sources, source ports, destinations, destination ports) --

def box_meet(a, b):
    p = a[0] & b[0]
    dims = [meet(x, y) for x, y in zip(a[1:], b[1:])]
    return (p, *dims) if p and all(dims) else None


def box_minus(a, b):
    """a without b, as disjoint boxes."""
    if box_meet(a, b) is None:
        return [a]
    out, keep = [], list(a)
    rest = a[0] - b[0]
    if rest:
        out.append((rest, *keep[1:]))
    keep[0] = a[0] & b[0]
    for k in range(1, 5):
        rest = minus(a[k], b[k])
        if rest:
            out.append(tuple(keep[:k]) + (rest,) + tuple(keep[k + 1:]))
        keep[k] = meet(a[k], b[k])
    return out


def witness(box):
    """One flow of a box, as text, for a failure message."""
    def addr(v):
        return ipaddress.ip_address(v - V6_BASE) if v >= V6_BASE else ipaddress.ip_address(v)
    proto = sorted(box[0])[0]
    s, d = addr(box[1][0][0]), addr(box[3][0][0])
    if proto in PORTED:
        return "%s %s:%d -> %s:%d" % (proto, s, box[2][0][0], d, box[4][0][0])
    return "%s %s -> %s" % (proto, s, d)


# ---- parsing -----------------------------------------------------------------------------

def cidr_range(text):
    net = ipaddress.ip_network(text, strict=True)
    base = V6_BASE if net.version == 6 else 0
    return (base + int(net.network_address), base + int(net.broadcast_address))


EVERY_ADDRESS = normal([cidr_range("0.0.0.0/0"), cidr_range("::/0")])


def addresses(text, names):
    if text == "*":
        return EVERY_ADDRESS
    out = []
    for item in text.split(","):
        if item in names:
            out.extend(names[item])
        else:
            try:
                out.append(cidr_range(item))
            except ValueError as e:
                raise TableError("%r is not a CIDR or a name defined with let (%s)" % (item, e))
    return normal(out)


def ports(text):
    if text == "*":
        return ALL_PORTS
    out = []
    for item in text.split(","):
        lo, _, hi = item.partition("-")
        out.append((int(lo), int(hi or lo)))
    return normal(out)


def split_ports(text):
    """ADDRESSES[:PORTS] (IPv4 and names; IPv6 addresses take no ports here)."""
    if text.count(":") == 1:
        a, p = text.split(":")
        return a, p
    return text, None


def protocols(text):
    if text == "*":
        return frozenset(PROTOCOLS.values())
    try:
        return frozenset(PROTOCOLS[p.lower()] for p in text.split(","))
    except KeyError as e:
        raise TableError("unknown protocol %s" % e)


def parse_let(tokens, names):
    # let NAME = CIDRS [except CIDRS]
    if len(tokens) not in (4, 6) or tokens[2] != "=" or (len(tokens) == 6 and tokens[4] != "except"):
        raise TableError("expected 'let NAME = CIDRS [except CIDRS]'")
    value = addresses(tokens[3], names)
    if len(tokens) == 6:
        value = minus(value, addresses(tokens[5], names))
    names[tokens[1]] = value


def parse_expectation(tokens, names):
    # VERDICT LAYER RULE ENDPOINT PROTOS SOURCES[:SPORTS] -> DESTINATIONS[:DPORTS]
    if len(tokens) != 8 or tokens[6] != "->":
        raise TableError("expected 'VERDICT LAYER RULE ENDPOINT PROTOS SRC[:PORTS] -> DST[:PORTS]'")
    verdict, layer, rule, endpoint = tokens[:4]
    outcome = (verdict, layer, None if rule == "-" else rule, None if endpoint == "-" else endpoint)
    protos = protocols(tokens[4])
    src, sports = split_ports(tokens[5])
    dst, dports = split_ports(tokens[7])
    if (sports or dports) and protos - PORTED:
        raise TableError("ports are given, so the protocols must be tcp and/or udp")
    box = (protos, addresses(src, names), ports(sports or "*"), addresses(dst, names),
           ports(dports or "*"))
    return outcome, box


def parse_table(path):
    """[(line, reach arguments, [(line, outcome, box)])]"""
    queries, names = [], {}
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            tokens = line.split("#", 1)[0].split()
            try:
                if not tokens:
                    continue
                if tokens[0] == "let":
                    parse_let(tokens, names)
                elif tokens[0] == "reach":
                    queries.append((n, tokens[1:], []))
                elif not queries:
                    raise TableError("an expectation before the first reach line")
                else:
                    queries[-1][2].append((n,) + parse_expectation(tokens, names))
            except (TableError, ValueError) as e:
                raise TableError("%s:%d: %s" % (os.path.relpath(path, ROOT), n, e))
    return queries


def region_box(r):
    protos = frozenset(r["protocols"])
    ported = bool(protos & PORTED)
    return (protos, addresses(",".join(r["sources"]), {}),
            ports(",".join(r["sourcePorts"])) if ported else ALL_PORTS,
            addresses(",".join(r["destinations"]), {}),
            ports(",".join(r["destinationPorts"])) if ported else ALL_PORTS)


def region_outcome(r):
    d = r["decidedBy"]
    return (r["verdict"], d["layer"], d["rule"], d["endpoint"])


def show(outcome):
    return "%s by %s %s (%s)" % (outcome[0], outcome[1], outcome[2] or "-", outcome[3] or "-")


def check_query(regions, expectations):
    """The problems, as text: every part of every region against first match."""
    problems, used = [], set()
    for r in regions:
        want = region_outcome(r)
        rest = [region_box(r)]
        for line, outcome, box in expectations:
            hits = [m for m in (box_meet(b, box) for b in rest) if m]
            if hits:
                used.add(line)
                if outcome != want:
                    problems.append("line %d expects %s for %s, but nsgsim says %s" %
                                    (line, show(outcome), witness(hits[0]), show(want)))
            rest = [piece for b in rest for piece in box_minus(b, box)]
            if not rest:
                break
        if rest:
            problems.append("no expectation holds %s (nsgsim: %s)" % (witness(rest[0]), show(want)))
    for line, outcome, _ in expectations:
        if line not in used:
            problems.append("line %d (%s) matches no flow of the query" % (line, show(outcome)))
    return problems


class ReachTables(unittest.TestCase):
    maxDiff = None

    def test_worked_examples(self):
        tables = sorted(glob.glob(os.path.join(ROOT, "fixtures", "semantics", "*", "reach.txt")))
        self.assertGreaterEqual(len(tables), 5)
        for path in tables:
            fixture = os.path.dirname(path)
            env = ["--env", os.path.join(fixture, "env")]
            own = os.path.join(fixture, "service_tags.json")
            if os.path.exists(own):
                env += ["--service-tags", own]
            for line, args, expectations in parse_table(path):
                where = "%s:%d" % (os.path.relpath(path, ROOT), line)
                with self.subTest(query=where):
                    self.assertTrue(expectations, where + ": a reach line with no expectations")
                    p = subprocess.run([NSGSIM, "reach", *env, *args, "--json"], cwd=ROOT,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       encoding="utf-8", timeout=60)
                    self.assertEqual(p.returncode, 0, p.stderr)
                    problems = check_query(json.loads(p.stdout)["regions"], expectations)
                    self.assertEqual(problems, [], "\n%s: reach %s" % (where, " ".join(args)))


class Arithmetic(unittest.TestCase):
    """The checker itself: a wrong table must fail."""

    REGIONS = [
        {"verdict": "Allow", "protocols": ["Tcp"], "sources": ["10.0.0.0/8"],
         "sourcePorts": ["0-65535"], "destinations": ["10.1.0.4/32"], "destinationPorts": ["22"],
         "decidedBy": {"layer": "NicNsg", "rule": "A", "endpoint": "destination"}},
        {"verdict": "Deny", "protocols": ["Tcp"], "sources": ["0.0.0.0/5", "8.0.0.0/7",
                                                              "11.0.0.0/8", "12.0.0.0/6",
                                                              "16.0.0.0/4", "32.0.0.0/3",
                                                              "64.0.0.0/2", "128.0.0.0/1"],
         "sourcePorts": ["0-65535"], "destinations": ["10.1.0.4/32"], "destinationPorts": ["22"],
         "decidedBy": {"layer": "NicNsg", "rule": "D", "endpoint": "destination"}},
    ]

    def expectations(self, *lines):
        return [(i,) + parse_expectation(l.split(), {}) for i, l in enumerate(lines, 1)]

    def test_right_table_passes(self):
        e = self.expectations("Allow NicNsg A destination tcp 10.0.0.0/8 -> *:22",
                              "Deny NicNsg D destination tcp * -> *:22")
        self.assertEqual(check_query(self.REGIONS, e), [])

    def test_wrong_tables_fail(self):
        for lines, needle in [
            (("Allow NicNsg A destination tcp 10.0.0.0/9 -> *:22",
              "Deny NicNsg D destination tcp * -> *:22"), "line 2 expects Deny"),
            (("Allow NicNsg A destination tcp 10.0.0.0/8 -> *:22",), "no expectation holds"),
            (("Allow NicNsg A destination tcp 10.0.0.0/8 -> *:22",
              "Deny NicNsg D destination tcp * -> *:22",
              "Deny NicNsg D destination udp * -> *"), "line 3 (Deny by NicNsg D (destination)) "
                                                       "matches no flow"),
            (("Allow NicNsg A source tcp 10.0.0.0/8 -> *:22",
              "Deny NicNsg D destination tcp * -> *:22"), "line 1 expects Allow by NicNsg A "
                                                          "(source) for Tcp 10.0.0.0:0 -> "
                                                          "10.1.0.4:22"),
        ]:
            with self.subTest(lines=lines):
                problems = check_query(self.REGIONS, self.expectations(*lines))
                self.assertTrue(any(needle in p for p in problems), problems)

    def test_bad_lines(self):
        for line in ("Allow NicNsg A destination icmp * -> *:22",
                     "Allow NicNsg A destination tcp nowhere -> *",
                     "Allow NicNsg A destination tcp * => *"):
            with self.subTest(line=line):
                with self.assertRaises(TableError):
                    parse_expectation(line.split(), {})


if __name__ == "__main__":
    unittest.main()
