"""Sets of flows: Policy.reach() and nsgsim.diff() (nsgsim_reach, nsgsim_diff).

A result is a list of Region objects.  Each is a product of protocols x
sources x source ports x destinations x destination ports with one verdict
and one deciding rule; every flow inside it gets exactly that answer from
Policy.evaluate(), and the regions of a result are disjoint.
"""

import ctypes
import json

from . import _lib
from ._lib import lib
from ._values import DecidedBy

__all__ = ["Region", "Regions", "reach", "diff"]


class Outcome:
    """A region's answer: verdict ("Allow", "Deny", "Unmodelled") and
    decided_by (layer, rule, endpoint), as nsgsim eval --json names them."""

    __slots__ = ("verdict", "decided_by")

    def __init__(self, verdict, decided_by):
        self.verdict = verdict
        self.decided_by = DecidedBy(decided_by["layer"], decided_by["rule"],
                                    decided_by["endpoint"])

    @property
    def allowed(self):
        return self.verdict == "Allow"

    def __repr__(self):
        d = self.decided_by
        return "<%s by %s %s (%s)>" % (self.verdict, d.layer, d.rule or "-", d.endpoint or "-")


class Region:
    """One region: ``protocols`` (["Tcp", "Udp"] ...), ``sources`` and
    ``destinations`` (CIDR strings), ``source_ports`` and
    ``destination_ports`` ("22", "8000-8100"; empty for ICMP, ESP, AH), and
    ``verdict``/``decided_by`` (for a diff, ``before`` and ``after`` too)."""

    __slots__ = ("_regions", "_index", "protocols", "sources", "source_ports", "destinations",
                 "destination_ports", "outcome", "before", "after")

    def __init__(self, regions, index, obj, is_diff):
        self._regions = regions
        self._index = index
        self.protocols = obj["protocols"]
        self.sources = obj["sources"]
        self.source_ports = obj["sourcePorts"]
        self.destinations = obj["destinations"]
        self.destination_ports = obj["destinationPorts"]
        if is_diff:
            self.before = Outcome(obj["before"]["verdict"], obj["before"]["decidedBy"])
            self.after = Outcome(obj["after"]["verdict"], obj["after"]["decidedBy"])
            self.outcome = self.after
        else:
            self.outcome = Outcome(obj["verdict"], obj["decidedBy"])
            self.before = self.after = None

    @property
    def verdict(self):
        return self.outcome.verdict

    @property
    def decided_by(self):
        return self.outcome.decided_by

    @property
    def allowed(self):
        return self.outcome.allowed

    def contains(self, flow=None, **kwargs):
        """Whether a flow (text, nsgsim.Flow or keyword arguments, with a
        source port for TCP and UDP) lies in this region."""
        f = self._regions._keep[0]._coerce_flow(flow, kwargs)
        return bool(self._regions._contains(self._index, f))

    def __repr__(self):
        return "<nsgsim.Region %s %s from %s to %s:%s>" % (
            self.verdict, ",".join(self.protocols), _short(self.sources),
            _short(self.destinations), ",".join(self.destination_ports) or "-")


def _short(items):
    return ",".join(items[:3]) + (" (+%d)" % (len(items) - 3) if len(items) > 3 else "")


class Regions(list):
    """The regions of one query, in the library's order (destination,
    destination port, source).  ``to_dict()`` is the documented --json
    object; ``opened``/``closed`` count a diff's changes."""

    def __init__(self, handle, keep, is_diff):
        self._handle = handle
        self._keep = keep  # the policies whose strings the regions point into
        self._is_diff = is_diff
        self._json = self._render(_lib.NSGSIM_FORMAT_JSON)
        obj = json.loads(self._json)
        self._dict = obj
        items = obj["changes"] if is_diff else obj["regions"]
        super().__init__(Region(self, i, o, is_diff) for i, o in enumerate(items))
        summary = obj.get("summary", {})
        self.opened = summary.get("opened", 0)
        self.closed = summary.get("closed", 0)

    def _render(self, fmt):
        out = _lib._CharPtr()
        try:
            lib.nsgsim_regions_render(self._handle, fmt, ctypes.byref(out), _lib.nsgsim_error())
        finally:
            body = _lib.take_string(out)
        return body

    def _contains(self, index, flow):
        if self._handle is None:
            raise _lib.Error(_lib.NSGSIM_E_INVALID_ARG, "the regions are closed")
        return lib.nsgsim_region_contains(self._handle, index, flow._c)

    def to_dict(self):
        return json.loads(self._json)

    def table(self):
        """The readable table `nsgsim reach` prints."""
        return self._render(_lib.NSGSIM_FORMAT_TABLE)

    def region_of(self, flow=None, **kwargs):
        """The region holding a flow, or None."""
        for r in self:
            if r.contains(flow, **kwargs):
                return r
        return None

    def close(self):
        if self._handle is not None:
            lib.nsgsim_regions_free(self._handle)
            self._handle = None

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


def _protocol_bits(protocols):
    if protocols is None:
        return 0
    if isinstance(protocols, str):
        protocols = [p for p in protocols.replace(" ", ",").split(",") if p]
    bits = 0
    for p in protocols:
        key = str(p).lower()
        if key in ("*", "all", "any"):
            bits |= 31
        elif key in _lib.PROTOCOL_BITS:
            bits |= _lib.PROTOCOL_BITS[key]
        else:
            raise _lib.Error(_lib.NSGSIM_E_INVALID_ARG,
                             "unknown protocol %r (tcp, udp, icmp, esp, ah)" % (p,))
    return bits


def _query(to, source, protocols, allowed_only=False, rules=False):
    enc = (lambda v: None if v is None else str(v).encode("utf-8"))
    return _lib.nsgsim_query(enc(to), enc(source), _protocol_bits(protocols), int(allowed_only),
                             int(rules))


def reach(policy, to, source=None, protocols=None, allowed_only=False):
    q = _query(to, source, protocols, allowed_only)
    handle = _lib._RegionsPtr()
    ptr = policy._enter()
    try:
        lib.nsgsim_reach(ptr, q, ctypes.byref(handle), _lib.nsgsim_error())
    finally:
        policy._leave()
    return Regions(handle, (policy,), False)


def diff(before, after, to=None, source=None, protocols=None, rules=False):
    """The regions whose verdict differs between two policies (with rules,
    also those where only the deciding rule changed)."""
    q = _query(to, source, protocols, False, rules)
    handle = _lib._RegionsPtr()
    pb = before._enter()
    try:
        pa = after._enter()
        try:
            lib.nsgsim_diff(pb, pa, q, ctypes.byref(handle), _lib.nsgsim_error())
        finally:
            after._leave()
    finally:
        before._leave()
    return Regions(handle, (before, after), True)
