"""Assertions for policy tests, usable from unittest, pytest or plain scripts.

    from nsgsim.testing import assert_allowed, assert_denied

    assert_denied(policy, "tcp 10.1.1.4:50000 10.2.1.4:22",
                  by=("AdminRule", "DenyProdToDev"))
    assert_allowed(policy, "tcp 10.0.1.4:50000 10.1.1.5:22", by="SubnetNsg Allow-Bastion-Admin")

A failure raises a plain AssertionError whose message holds the flow and
the full trace of Result.explain().  ``by`` names what must decide: a layer
("AdminRule", "SubnetNsg", "NicNsg", "Platform", "None"), optionally followed by a rule
name ("-" or None for no rule) and an endpoint ("source", "destination"),
as a tuple or a space-separated string; names compare case-insensitively.
Extra keyword arguments (at=, direction=) go to Policy.evaluate().
"""

from ._core import Flow

__all__ = ["assert_allowed", "assert_denied", "assert_verdict", "assert_only_allowed"]

_NO_RULE = (None, "-", "")


def _expected_by(by):
    if by is None:
        return None
    parts = by.split() if isinstance(by, str) else list(by)
    if not 1 <= len(parts) <= 3:
        raise ValueError("by is (layer[, rule[, endpoint]]) or 'LAYER [RULE [ENDPOINT]]', "
                         "not %r" % (by,))
    return parts


def _norm(value):
    return None if value in _NO_RULE else str(value).lower()


def _by_text(parts):
    return " ".join("-" if p in _NO_RULE else str(p) for p in parts)


def _decided_text(result):
    d = result.decided_by
    return "%s %s %s" % (d.layer, d.rule or "-", d.endpoint or "-")


def _evaluate(policy, flow, kwargs):
    if isinstance(flow, dict):
        return policy.evaluate(**dict(flow, **kwargs))
    return policy.evaluate(flow, **kwargs)


def _flow_text(flow):
    if isinstance(flow, dict):
        kw = {k: v for k, v in flow.items() if k not in ("at", "direction")}
        try:
            return str(Flow(**kw))
        except Exception:
            return repr(flow)
    return str(flow)


def assert_verdict(policy, flow, verdict, by=None, msg=None, **kwargs):
    """Asserts the verdict ("Allow" or "Deny") and, with by, what decided it.
    Returns the Result."""
    __tracebackhide__ = True  # pytest: report the caller's line
    want_allowed = str(verdict).lower() == "allow"
    if str(verdict).lower() not in ("allow", "deny"):
        raise ValueError("verdict is 'Allow' or 'Deny', not %r" % (verdict,))
    want = _expected_by(by)
    result = _evaluate(policy, flow, kwargs)
    d = result.decided_by
    problems = []
    if result.allowed != want_allowed:
        problems.append("expected %s, got %s" % ("Allow" if want_allowed else "Deny",
                                                 result.verdict))
    if want is not None:
        got = [d.layer, d.rule, d.endpoint][:len(want)]
        if [_norm(x) for x in want] != [_norm(x) for x in got]:
            problems.append("expected it decided by %s, got %s" % (_by_text(want),
                                                                   _decided_text(result)))
    if problems:
        where = ""
        if kwargs.get("at") is not None:
            where = " at %s %s" % (kwargs.get("at"), kwargs.get("direction"))
        head = "%s%s: %s" % (_flow_text(flow), where, "; ".join(problems))
        if msg:
            head = "%s: %s" % (msg, head)
        raise AssertionError("%s\n\n%s" % (head, result.explain().rstrip("\n")))
    return result


def assert_allowed(policy, flow, by=None, msg=None, **kwargs):
    """Asserts that policy allows flow (and, with by, what decided it)."""
    __tracebackhide__ = True
    return assert_verdict(policy, flow, "Allow", by=by, msg=msg, **kwargs)


def assert_denied(policy, flow, by=None, msg=None, **kwargs):
    """Asserts that policy denies flow (and, with by, what decided it)."""
    __tracebackhide__ = True
    return assert_verdict(policy, flow, "Deny", by=by, msg=msg, **kwargs)


# ---- sets of flows -----------------------------------------------------------------


def _allowed_entries(allowed):
    """[(protocol, [(lo, hi), ...] or None for any port)] from entries such
    as "tcp 1433", "tcp 80,443,8000-8100", "udp 53", "icmp", ("tcp", 22)."""
    out = []
    for entry in allowed:
        if isinstance(entry, str):
            parts = entry.split()
        else:
            parts = [str(p) for p in entry]
        if not 1 <= len(parts) <= 2:
            raise ValueError("an allowed entry is 'PROTO [PORTS]', not %r" % (entry,))
        proto = parts[0].lower()
        ports = None
        if len(parts) == 2 and parts[1] != "*":
            ports = []
            for item in parts[1].split(","):
                lo, _, hi = item.partition("-")
                ports.append((int(lo), int(hi or lo)))
        out.append((proto, ports))
    return out


def _ports_within(region_ports, listed):
    """Whether every port range ("22", "8000-8100") is inside the listed ones."""
    for text in region_ports:
        lo, _, hi = text.partition("-")
        cur, end = int(lo), int(hi or lo)
        while cur <= end:
            best = max((h for l, h in listed if l <= cur <= h), default=None)
            if best is None:
                return False
            cur = best + 1
    return True


def _region_permitted(region, entries):
    for proto in (p.lower() for p in region.protocols):
        lists = [ports for p, ports in entries if p in (proto, "*")]
        if not lists:
            return False
        if any(ports is None for ports in lists) or not region.destination_ports:
            continue
        if not _ports_within(region.destination_ports, [r for ports in lists for r in ports]):
            return False
    return True


def assert_only_allowed(policy, to, allowed, source=None):
    """Nothing but `allowed` from `source` (None: every address) reaches `to`:
    every allowed flow is one of the entries ("tcp 1433", "udp 53", "icmp",
    "tcp 80,443"), checked exactly over every source address and port by
    Policy.reach().  The entries need not all be allowed; this is the upper
    bound Zero Trust segmentation tests assert.  Raises AssertionError naming
    each region that breaks it, with the rule that lets it in."""
    entries = _allowed_entries(allowed)
    regions = policy.reach(to=to, source=source, allowed_only=True)
    bad = [r for r in regions if not _region_permitted(r, entries)]
    if bad:
        lines = ["%d allowed region(s) to %s from %s beyond %s:" % (
            len(bad), to, source or "*", ", ".join(str(a) for a in allowed))]
        for r in bad[:10]:
            d = r.decided_by
            lines.append("  %s to %s:%s from %s by %s %s (%s)" % (
                ",".join(r.protocols), ",".join(r.destinations[:3]),
                ",".join(r.destination_ports) or "-", ",".join(r.sources[:4]) +
                (" and more" if len(r.sources) > 4 else ""), d.layer, d.rule or "-",
                d.endpoint or "-"))
        raise AssertionError("\n".join(lines))
    return regions
