"""Azure flow logs (NSG flow logs v1/v2, VNet flow logs v4) through the
library's reader: nsgsim_flowlog_read / _read_buffer (include/nsgsim.h)."""

import os

from . import _lib
from ._lib import lib, text

__all__ = ["read_flow_log"]

_DIRECTION = {_lib.NSGSIM_INBOUND: "inbound", _lib.NSGSIM_OUTBOUND: "outbound"}
_DECISION = {1: "Allow", 2: "Deny"}


def _tuple_dict(t):
    from ._core import _ip_text  # one address formatter for the package

    f = t.flow
    ports = f.dst_port >= 0
    return {
        "version": t.version,
        "time_ms": t.time_ms,
        "protocol": _lib.PROTOCOL_NAMES.get(f.protocol, f.protocol),
        "source": _ip_text(f.src),
        "source_port": f.src_port if ports else None,
        "destination": _ip_text(f.dst),
        "destination_port": f.dst_port if ports else None,
        "direction": _DIRECTION[t.direction],
        "decision": _DECISION[t.decision],
        "state": t.state.decode("ascii"),
        "rule": text(t.rule),
        "acl": text(t.acl),
        "target": text(t.target),
        "mac": text(t.mac),
        "file": text(t.file),
        "pointer": "/records/%d/%s/%d/%s/%d/flowTuples/%d" % (
            t.record, "flowRecords/flows" if t.version == 4 else "properties/flows",
            t.flow_index, "flowGroups" if t.version == 4 else "flows", t.group, t.index),
        "packets_out": t.packets_out,
        "bytes_out": t.bytes_out,
        "packets_in": t.packets_in,
        "bytes_in": t.bytes_in,
    }


def read_flow_log(source, *, data=None, name=None):
    """The tuples of a flow log, as a list of dicts (protocol, source,
    source_port, destination, destination_port, direction, decision, state,
    rule, acl, target, mac, file, pointer, time_ms, counters).  source is a
    file (JSON or gzip) or a directory tree of PT1H.json blobs; or give
    data= (bytes) and name= instead.  A bad log raises nsgsim.Error with the
    file, line, column and JSON pointer."""
    out = []
    failure = []

    def on_tuple(_ctx, tp):
        try:
            out.append(_tuple_dict(tp.contents))
            return 0
        except BaseException as e:  # noqa: BLE001 -- re-raised below, never swallowed
            failure.append(e)
            return 1

    fn = _lib.FLOWLOG_FN(on_tuple)
    reader = lib.nsgsim_flowlog_new()
    err = _lib.nsgsim_error()
    try:
        if data is not None:
            if not isinstance(data, (bytes, bytearray)):
                raise TypeError("data is bytes")
            label = (name or "<buffer>").encode("utf-8")
            lib.nsgsim_flowlog_read_buffer(reader, label, bytes(data), len(data), fn, None, err)
        else:
            lib.nsgsim_flowlog_read(reader, os.fsencode(os.fspath(source)), fn, None, err)
    finally:
        lib.nsgsim_flowlog_free(reader)
    if failure:
        raise failure[0]
    return out

