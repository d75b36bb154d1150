"""Assertions for policy tests, usable from unittest, pytest or plain scripts.

    from nsgsim.testing import assert_allowed, assert_denied

    assert_denied(policy, "tcp 10.1.1.4:50000 10.2.1.4:22",
                  by=("AdminRule", "DenyProdToDev"))
    assert_allowed(policy, "tcp 10.0.1.4:50000 10.1.1.5:22", by="SubnetNsg Allow-Bastion-Admin")

A failure raises a plain AssertionError whose message holds the flow and
the full trace of Result.explain().  ``by`` names what must decide: a layer
("AdminRule", "SubnetNsg", "NicNsg", "None"), optionally followed by a rule
name ("-" or None for no rule) and an endpoint ("source", "destination"),
as a tuple or a space-separated string; names compare case-insensitively.
Extra keyword arguments (at=, direction=) go to Policy.evaluate().
"""

from ._core import Flow

__all__ = ["assert_allowed", "assert_denied", "assert_verdict"]

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
