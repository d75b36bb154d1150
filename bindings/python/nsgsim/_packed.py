"""Packed flows: Policy.evaluate_many over a buffer, without a Python object per flow.

A packed flow is the C struct nsgsim_flow (include/nsgsim.h), FLOW_SIZE (52) bytes in
native byte order, as struct format FLOW_FORMAT = "i i16s i16s i i":

    protocol        int32   6 tcp, 17 udp, 1 icmp, 50 esp, 51 ah
    source family   int32   4 or 6
    source address  16 B    network order; IPv4 in the first 4, the rest 0
    dest. family    int32   4 or 6 (the same as the source's)
    dest. address   16 B
    source port     int32   0-65535, or -1: every source port
    dest. port      int32   0-65535 (tcp, udp), -1 (icmp, esp, ah)

Any buffer-protocol object holding n of them back to back is accepted: bytes,
bytearray, memoryview, array.array (e.g. array("i") of 13 ints a flow), mmap, or
what pack_flows() returns.  The answers come back as Decisions: one nsgsim_decision
record (DECISION_SIZE, 64, bytes) a flow in one bytearray, read through int32
memoryviews of its fields (verdicts, layers, ...), again with no object per flow.
"""

import ctypes
import struct

from . import _lib
from ._lib import Error, lib, text
from ._values import DecidedBy

FLOW_FORMAT = "i i16s i16s i i"
FLOW_SIZE = ctypes.sizeof(_lib.nsgsim_flow)
DECISION_SIZE = ctypes.sizeof(_lib.nsgsim_decision)
assert struct.calcsize(FLOW_FORMAT) == FLOW_SIZE
_INTS = DECISION_SIZE // 4  # int32 fields a decision record
_CHUNK = 1 << 16  # flows a nsgsim_eval_batch call (well under NSGSIM_LIMIT_BATCH_FLOWS)
_OFF = {name: getattr(_lib.nsgsim_decision, name).offset // 4 for name in (
    "status", "verdict", "decided_layer", "decided_endpoint", "assumptions", "src_port")}
_RULE_NAME = (_lib.nsgsim_decision.decided_rule.offset +
              _lib.nsgsim_rule_ref.name.offset) // ctypes.sizeof(ctypes.c_void_p)


def pack_flows(flows):
    """Packs flows (texts, nsgsim.Flow objects) into a bytearray of nsgsim_flow records,
    for evaluate_many and for reuse (packing is the per-flow Python work, done once).
    Raises nsgsim.Error at the first flow that does not parse."""
    from ._core import Flow, _encode_text

    flows = list(flows)
    buf = bytearray(len(flows) * FLOW_SIZE)
    recs = (_lib.nsgsim_flow * len(flows)).from_buffer(buf) if flows else ()
    err = _lib.nsgsim_error()
    for i, f in enumerate(flows):
        if isinstance(f, Flow):
            ctypes.pointer(recs[i])[0] = f._c
        else:
            lib.nsgsim_flow_parse(_encode_text(f), recs[i], err)
    return buf


def _address(mv):
    """A writable or read-only contiguous buffer's address (a copy when it has none)."""
    if mv.readonly:
        keep = ctypes.create_string_buffer(mv.tobytes(), mv.nbytes)
        return ctypes.addressof(keep), keep
    keep = (ctypes.c_char * mv.nbytes).from_buffer(mv)
    return ctypes.addressof(keep), keep


def as_flow_buffer(flows):
    """A contiguous byte view of a packed-flows buffer, or None when flows is not one."""
    if isinstance(flows, (str, list, tuple, dict)):
        return None
    try:
        mv = memoryview(flows)
    except TypeError:
        return None
    if not mv.c_contiguous:
        raise ValueError("packed flows must be a contiguous buffer")
    mv = mv.cast("B") if mv.format != "B" or mv.ndim != 1 else mv
    if mv.nbytes % FLOW_SIZE:
        raise ValueError("packed flows are %d-byte nsgsim_flow records; %d bytes is not a "
                         "whole number of them" % (FLOW_SIZE, mv.nbytes))
    return mv


def evaluate_packed(policy, ptr, mv, engine, out, jobs=1):
    n = mv.nbytes // FLOW_SIZE
    if out is None:
        out = bytearray(n * DECISION_SIZE)
    dst = memoryview(out).cast("B")
    if dst.readonly or dst.nbytes < n * DECISION_SIZE:
        raise ValueError("out must be a writable buffer of at least %d bytes" %
                         (n * DECISION_SIZE))
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise ValueError("jobs is a number of threads, at least 1")
    if n == 0:
        return Decisions(policy, out, 0)
    src_addr, src_keep = _address(mv)
    dst_keep = (ctypes.c_char * dst.nbytes).from_buffer(dst)
    dst_addr = ctypes.addressof(dst_keep)

    def run(at):  # ctypes lets go of the GIL for the call: threads run side by side
        k = min(_CHUNK, n - at)
        lib.nsgsim_eval_batch(ptr, src_addr + at * FLOW_SIZE, k, engine,
                              dst_addr + at * DECISION_SIZE, _lib.nsgsim_error())

    try:
        starts = range(0, n, _CHUNK)
        if jobs == 1 or len(starts) == 1:
            for at in starts:
                run(at)
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=min(jobs, len(starts))) as pool:
                for done in pool.map(run, starts):
                    pass
    finally:
        del dst_keep, src_keep  # the exports end here, so out can be resized again
    return Decisions(policy, out, n)


class Decisions:
    """Policy.evaluate_many's answers for packed flows, in input order: ``raw`` holds one
    nsgsim_decision record a flow; the properties are int32 memoryviews of one field
    each (``list()``, ``array("i", ...)``, ``.count()``-free sums, all without an
    object per flow); ``result(i)`` and ``decided_by(i)`` read one flow.  Rule names
    point into the policy: decided_by() and rule_name() need it open."""

    __slots__ = ("_policy", "raw", "_n", "_ints")

    def __init__(self, policy, raw, n):
        self._policy = policy
        self.raw = raw
        self._n = n
        self._ints = memoryview(raw).cast("B")[:n * DECISION_SIZE].cast("i")

    def __len__(self):
        return self._n

    def _field(self, name):
        return self._ints[_OFF[name]::_INTS]

    @property
    def status(self):
        """0, or the NSGSIM_E_* code of a flow that could not be evaluated
        (NSGSIM_E_BAD_FLOW, NSGSIM_E_NOT_MODELLED); its other fields are then 0."""
        return self._field("status")

    @property
    def verdicts(self):
        """1 Allow, 2 Deny (0 with a status)."""
        return self._field("verdict")

    @property
    def layers(self):
        """The deciding layer: 0 None, 1 AdminRule, 2 SubnetNsg, 3 NicNsg, 4 Platform."""
        return self._field("decided_layer")

    @property
    def endpoints(self):
        """Where it was decided: 0 none, 1 source, 2 destination."""
        return self._field("decided_endpoint")

    @property
    def assumptions(self):
        """The assumption bits (Result.assumptions names them)."""
        return self._field("assumptions")

    @property
    def source_ports(self):
        """The source port evaluated (-1: every source port), as Result.source_port."""
        return self._field("src_port")

    @property
    def rule_keys(self):
        """An opaque key a flow for its deciding rule (0: none): equal keys, the same
        rule of the same policy.  rule_name(key) gives its name."""
        width = "Q" if ctypes.sizeof(ctypes.c_void_p) == 8 else "I"
        ptrs = memoryview(self.raw).cast("B")[:self._n * DECISION_SIZE].cast(width)
        return ptrs[_RULE_NAME::DECISION_SIZE // ctypes.sizeof(ctypes.c_void_p)]

    def allowed_count(self):
        """How many flows are allowed."""
        return self.verdicts.tolist().count(_lib.NSGSIM_ALLOW)

    def rule_name(self, key):
        self._policy._check_open()
        return text(ctypes.cast(ctypes.c_void_p(key), ctypes.c_char_p).value) if key else None

    def decided_by(self, i):
        """Flow i's DecidedBy(layer, rule, endpoint), as Result.decided_by."""
        return DecidedBy(_lib.LAYER_NAMES.get(self.layers[i], "None"),
                         self.rule_name(self.rule_keys[i]),
                         _lib.ENDPOINT_NAMES.get(self.endpoints[i]))

    def result(self, i):
        """Flow i as a dict: status (an error name, or None), verdict, decidedBy,
        assumptions (ids), sourcePort."""
        from ._core import _assumption_ids

        if not -self._n <= i < self._n:
            raise IndexError("decision index out of range")
        i %= self._n
        status = self.status[i]
        if status:
            name = lib.nsgsim_error_name(status)
            return {"status": text(name) if name else str(status)}
        d = self.decided_by(i)
        port = self.source_ports[i]
        return {
            "status": None,
            "verdict": "Allow" if self.verdicts[i] == _lib.NSGSIM_ALLOW else "Deny",
            "decidedBy": {"layer": d.layer, "rule": d.rule, "endpoint": d.endpoint},
            "assumptions": _assumption_ids(self.assumptions[i]),
            "sourcePort": None if port < 0 else port,
        }

    def __repr__(self):
        return "<nsgsim.Decisions of %d flows>" % self._n


__all__ = ["pack_flows", "Decisions", "FLOW_FORMAT", "FLOW_SIZE", "DECISION_SIZE", "Error"]
