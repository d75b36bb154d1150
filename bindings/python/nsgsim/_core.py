"""Policy, Result and Flow over the C API (see _lib for the declarations)."""

import ctypes
import ipaddress
import json
import json as _json  # show(json=...) shadows the module name
import os
import secrets
import threading

from . import _lib
from ._lib import Error, lib, text
from ._values import DecidedBy

__all__ = ["load", "load_policy", "snapshot_service_tags", "Policy", "Result", "Flow", "DecidedBy", "Error"]

# cJSON keeps its error position in a process-wide global: one load at a time.
_LOAD_LOCK = threading.Lock()

_DIRECTIONS = {"inbound": _lib.NSGSIM_INBOUND, "outbound": _lib.NSGSIM_OUTBOUND}
_FORMATS = {"json": _lib.NSGSIM_FORMAT_JSON, "table": _lib.NSGSIM_FORMAT_TABLE}
_PROTOCOLS_BY_NAME = {v: k for k, v in _lib.PROTOCOL_NAMES.items()}
_PORTLESS = {"icmp", "esp", "ah"}


def _invalid(message):
    return Error(_lib.NSGSIM_E_INVALID_ARG, message)


def _encode_path(path):
    return os.fsencode(os.fspath(path))


def _encode_text(value):
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


# ---- flows -----------------------------------------------------------------------


class Flow:
    """A parsed flow: ``Flow.parse("tcp 10.0.1.4:50000 10.0.2.5:443")`` or
    ``Flow(protocol="tcp", source="10.0.1.4", source_port=50000,
    destination="10.0.2.5", destination_port=443)``.  Leaving out
    source_port means every source port.  Immutable and hashable; ``str()``
    gives the flow text back."""

    __slots__ = ("_c", "protocol", "source", "source_port", "destination", "destination_port")

    def __init__(self, *, protocol, source, destination, destination_port=None, source_port=None):
        self._init(Flow._parse_c(_flow_text(protocol, source, source_port, destination,
                                            destination_port)))

    @classmethod
    def parse(cls, flow_text):
        """Parses "PROTO SRC[:PORT] DST[:PORT]" (IPv6 with a port in brackets)."""
        if not isinstance(flow_text, (str, bytes)):
            raise TypeError("a flow is a str, not %s" % type(flow_text).__name__)
        self = cls.__new__(cls)
        self._init(cls._parse_c(flow_text))
        return self

    @staticmethod
    def _parse_c(flow_text):
        c = _lib.nsgsim_flow()
        lib.nsgsim_flow_parse(_encode_text(flow_text), c, _lib.nsgsim_error())
        return c

    def _init(self, c):
        set_ = object.__setattr__
        set_(self, "_c", c)
        set_(self, "protocol", _lib.PROTOCOL_NAMES.get(c.protocol, str(c.protocol)))
        set_(self, "source", _ip_text(c.src))
        set_(self, "destination", _ip_text(c.dst))
        set_(self, "source_port", None if c.src_port < 0 else c.src_port)
        set_(self, "destination_port", None if c.dst_port < 0 else c.dst_port)

    def __setattr__(self, name, value):
        raise AttributeError("nsgsim.Flow is immutable")

    def _key(self):
        return (self.protocol, self.source, self.source_port, self.destination,
                self.destination_port)

    def __eq__(self, other):
        return isinstance(other, Flow) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __str__(self):
        return "%s %s %s" % (
            self.protocol,
            _endpoint_text(self.source, self.source_port),
            _endpoint_text(self.destination, self.destination_port),
        )

    def __repr__(self):
        return "nsgsim.Flow(%r)" % str(self)


def _ip_text(ip):
    n = 4 if ip.family == 4 else 16
    return str(ipaddress.ip_address(bytes(ip.bytes[:n])))


def _endpoint_text(address, port):
    if port is None:
        return address
    return "[%s]:%d" % (address, port) if ":" in address else "%s:%d" % (address, port)


def _flow_text(protocol, source, source_port, destination, destination_port):
    if protocol is None or source is None or destination is None:
        raise TypeError("a flow needs protocol, source and destination")
    if isinstance(protocol, int) and not isinstance(protocol, bool):
        if protocol not in _lib.PROTOCOL_NAMES:
            raise Error(_lib.NSGSIM_E_BAD_PROTOCOL, "protocol %d is not tcp, udp, icmp, esp or ah" % protocol)
        protocol = _lib.PROTOCOL_NAMES[protocol]
    parts = [str(protocol)]
    for address, port, what in ((source, source_port, "source"),
                                (destination, destination_port, "destination")):
        if isinstance(address, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
            address = str(address)
        if not isinstance(address, str):
            raise TypeError("%s is an IP address str, not %s" % (what, type(address).__name__))
        if port is not None and (not isinstance(port, int) or isinstance(port, bool)):
            raise TypeError("%s_port is an int, not %s" % (what, type(port).__name__))
        if address.startswith("[") and address.endswith("]"):
            address = address[1:-1]
        parts.append(_endpoint_text(address, port))
    if any(not p or any(ch.isspace() for ch in p) for p in parts):
        raise Error(_lib.NSGSIM_E_BAD_FLOW, "a flow part is empty or contains white space: %r" % (parts,))
    return " ".join(parts)


def _coerce_flow(flow, kwargs):
    """A Flow from a Flow, flow text, or keyword arguments."""
    given = {k: v for k, v in kwargs.items() if v is not None}
    if flow is None:
        return Flow(**kwargs)
    if given:
        raise TypeError("give the flow either as text/Flow or as keyword arguments, not both")
    if isinstance(flow, Flow):
        return flow
    if isinstance(flow, (str, bytes)):
        return Flow.parse(flow)
    raise TypeError("a flow is a str, an nsgsim.Flow or keyword arguments, not %s"
                    % type(flow).__name__)


# ---- results -----------------------------------------------------------------------


class Result:
    """The answer for one flow.

    ``allowed``, ``verdict``, ``decided_by``, ``assumptions``, ``flow``,
    ``source_port`` and ``one_sided`` are plain values, kept after the policy
    is closed.  ``to_dict()``, ``evaluations``, ``explain()`` and
    ``rule_details()`` render through the policy, which must still be open.
    """

    __slots__ = ("_policy", "_c", "flow", "allowed", "verdict", "decided_by", "assumptions",
                 "source_port", "one_sided", "_json")

    def __init__(self, policy, flow, c):
        self._policy = policy
        self._c = c
        self.flow = flow
        self.allowed = c.verdict == _lib.NSGSIM_ALLOW
        self.verdict = "Allow" if self.allowed else "Deny"
        self.decided_by = DecidedBy(
            _lib.LAYER_NAMES.get(c.decided_layer, "None"),
            text(c.decided_rule.name),
            _lib.ENDPOINT_NAMES.get(c.decided_endpoint),
        )
        self.assumptions = _assumption_ids(c.assumptions)
        self.source_port = None if c.src_port < 0 else c.src_port
        self.one_sided = bool(c.one_sided)
        self._json = None

    def to_dict(self, verbose=False):
        """The documented --json object (what `nsgsim eval --json` prints);
        with verbose, each layer also lists its rules as `-v` shows them."""
        if verbose:
            return json.loads(self._policy._render(self, _lib.NSGSIM_FORMAT_JSON, True))
        self._policy._check_open()
        if self._json is None:
            self._json = self._policy._render(self, _lib.NSGSIM_FORMAT_JSON, False)
        return json.loads(self._json)

    @property
    def evaluations(self):
        """The per-endpoint evaluations, as in to_dict()["evaluations"]."""
        return self.to_dict()["evaluations"]

    def explain(self, verbose=False):
        """The readable trace `nsgsim eval` prints (with verbose, as -v)."""
        return self._policy._render(self, _lib.NSGSIM_FORMAT_TABLE, bool(verbose))

    def rule_details(self, side=0, layer=0):
        """nsgsim_explain: the rules of evaluations[side]["layers"][layer] in
        order, up to the one that matched, as to_dict(verbose=True) lists them."""
        return self._policy._rule_details(self, side, layer)

    def __repr__(self):
        d = self.decided_by
        by = "" if d.layer == "None" else " by %s %s" % (d.layer, d.rule or "-")
        at = " at the %s" % d.endpoint if d.endpoint else ""
        return "<nsgsim.Result %s%s%s: %s>" % (self.verdict, by, at, self.flow)


def _assumption_ids(bits):
    out = []
    bit = 1
    while bit <= bits:
        if bits & bit:
            key = lib.nsgsim_assumption_key(bit)
            if key is not None:
                out.append(text(key))
        bit <<= 1
    return out


# ---- the policy ----------------------------------------------------------------------


def _paths(value, what):
    if value is None:
        return []
    if isinstance(value, (str, bytes, os.PathLike)):
        return [value]
    try:
        return list(value)
    except TypeError:
        raise TypeError("%s is a path or a list of paths" % what) from None


_BUILDS = {"full": 0, "minimal": 1, "query": 2}


def _add_parameters(loader, parameters, err):
    """parameters: a parameters file's path, a dict NAME -> value (a str is
    typed by the template's declaration, as NAME=VALUE on the command line;
    anything else is JSON), or a list of those, applied in order."""
    items = parameters if isinstance(parameters, (list, tuple)) else [parameters]
    for item in items:
        if isinstance(item, dict):
            for name, value in item.items():
                if isinstance(value, str):
                    lib.nsgsim_loader_set_parameter(loader, _encode_text(name),
                                                    _encode_text(value), err)
                else:
                    raw = _json.dumps({name: {"value": value}}).encode()
                    lib.nsgsim_loader_add_parameters_buffer(loader, b"<parameters>", raw,
                                                            len(raw), err)
        else:
            lib.nsgsim_loader_add_parameters(loader, _encode_path(item), err)


def _set_deployment(loader, subscription, resource_group, location):
    def enc(v):
        return None if v is None else _encode_text(v)
    if lib.nsgsim_loader_set_deployment(loader, enc(subscription), enc(resource_group),
                                        enc(location)) != 0:
        raise ValueError("subscription is a GUID; resource_group and location non-empty names")


def _set_build(loader, build, focus):
    """The build and the focus (addresses: str or ipaddress objects) of a load."""
    if build not in _BUILDS:
        raise ValueError("build is 'full', 'minimal' or 'query', not %r" % (build,))
    lib.nsgsim_loader_set_build(loader, _BUILDS[build])
    if focus is None:
        return
    addrs = [a if isinstance(a, (ipaddress.IPv4Address, ipaddress.IPv6Address))
             else ipaddress.ip_address(a) for a in focus]
    arr = (_lib.nsgsim_ip * max(len(addrs), 1))()
    for i, a in enumerate(addrs):
        arr[i].family = a.version
        ctypes.memmove(arr[i].bytes, a.packed, len(a.packed))
    if lib.nsgsim_loader_set_focus(loader, arr, len(addrs)) != 0:
        raise ValueError("focus is at most %d addresses" % _lib.NSGSIM_FOCUS_MAX)


def load(env=None, service_tags=None, *, env_json=None, service_tags_json=None, build="full",
         parameters=None, subscription=None, resource_group=None, location=None, focus=None):
    """Loads environment JSON and a service-tags file and compiles them.

    env: a path (file or directory, read recursively) or a list of them;
    service_tags: the path of ServiceTags_*.json, of the REST list, or of a
    snapshot of either (snapshot_service_tags());
    env_json / service_tags_json: the same from memory (a JSON str/bytes, or
    for env_json a list of them or a dict name -> JSON; service_tags_json may
    also be a snapshot's bytes).
    build: "full" (the classifiers, for many evaluations) or "minimal" (none:
    the same answers from the reference scan, sooner for a few questions) or
    "query" (minimal, and the input-lines map left out: findings have no
    line, and the policy cannot be saved).
    focus: with build "minimal" or "query", addresses (str or ipaddress) whose
    endpoints' NSGs alone get address sets (nsgsim_loader_set_focus): flows
    between them answer exactly as a full compile; any other flow, and
    reach/diff/lint/matrix/effective, raise nsgsim.Error
    NSGSIM_E_OUT_OF_FOCUS; the errors and notes are the full compile's.
    parameters: values for ARM templates and Bicep output in env: a
    parameters file's path, a dict NAME -> value, or a list of those;
    subscription, resource_group, location: the deployment templates are
    evaluated for (nsgsim_loader_set_deployment).
    Returns an immutable Policy; raises nsgsim.Error."""
    buffers = []
    if env_json is not None:
        if isinstance(env_json, (str, bytes)):
            buffers = [("<env_json>", env_json)]
        elif isinstance(env_json, dict):
            buffers = list(env_json.items())
        else:
            buffers = [("<env_json[%d]>" % i, j) for i, j in enumerate(env_json)]
    if service_tags is not None and service_tags_json is not None:
        raise TypeError("give service_tags or service_tags_json, not both")
    env_paths = _paths(env, "env")
    err = _lib.nsgsim_error()
    with _LOAD_LOCK:
        loader = lib.nsgsim_loader_new()
        try:
            _set_build(loader, build, focus)
            _set_deployment(loader, subscription, resource_group, location)
            if parameters is not None:
                _add_parameters(loader, parameters, err)
            for path in env_paths:
                lib.nsgsim_loader_add_env(loader, _encode_path(path), err)
            for name, data in buffers:
                raw = _encode_text(data)
                lib.nsgsim_loader_add_env_buffer(loader, _encode_text(name), raw, len(raw), err)
            if service_tags is not None:
                lib.nsgsim_loader_add_service_tags(loader, _encode_path(service_tags), err)
            if service_tags_json is not None:
                raw = _encode_text(service_tags_json)
                lib.nsgsim_loader_add_service_tags_buffer(loader, b"<service_tags_json>", raw,
                                                          len(raw), err)
            ptr = _lib._PolicyPtr()
            lib.nsgsim_compile(loader, ctypes.byref(ptr), err)
        finally:
            lib.nsgsim_loader_free(loader)
    return Policy._adopt(ptr)


def load_policy(path=None, *, data=None, build="full", focus=None):
    """Loads a compiled policy file (Policy.save(), `nsgsim compile -o`):
    the same Policy as the one saved, every answer identical, without
    reading or parsing its input again.

    path: the .nsgp file; or data: its bytes.  build, focus: as for load().
    Raises nsgsim.Error: NSGSIM_E_POLICY_FILE for a damaged or truncated
    file, NSGSIM_E_POLICY_FILE_VERSION for one of another format version
    (compile it again)."""
    if (path is None) == (data is None):
        raise TypeError("give path or data")
    err = _lib.nsgsim_error()
    with _LOAD_LOCK:
        loader = lib.nsgsim_loader_new()
        try:
            _set_build(loader, build, focus)
            if path is not None:
                lib.nsgsim_loader_add_policy_file(loader, _encode_path(path), err)
            else:
                raw = bytes(data)
                lib.nsgsim_loader_add_policy_buffer(loader, b"<data>", raw, len(raw), err)
            ptr = _lib._PolicyPtr()
            lib.nsgsim_compile(loader, ctypes.byref(ptr), err)
        finally:
            lib.nsgsim_loader_free(loader)
    return Policy._adopt(ptr)


def _write_atomically(path, data):
    """Writes data to path through a new file beside it and os.replace: a
    reader of path sees the old file or the new one, never a part."""
    path = os.fspath(path)
    tmp = "%s.%d.%s.tmp" % (path, os.getpid(), secrets.token_hex(4))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def snapshot_service_tags(service_tags, out_path):
    """Compiles a service-tags file into a snapshot that load() (and
    `nsgsim --service-tags`) reads in a few milliseconds instead of tens; what
    `nsgsim snapshot-tags IN OUT` does.

    service_tags: the path of ServiceTags_*.json, of the REST list, or of a
    snapshot; out_path: where to write it (atomically).  The bytes depend only
    on the tags and the source file's base name.  Returns a dict: "tags",
    "prefixes" (as listed in the source), "ranges" (merged), "bytes",
    "cloud", "change_number" (None when the source has none) and "source"
    (the JSON file's base name).  Raises nsgsim.Error for a bad input and
    OSError when out_path cannot be written."""
    err = _lib.nsgsim_error()
    buf = ctypes.c_void_p()
    size = ctypes.c_size_t()
    info = _lib.nsgsim_tags_info()
    with _LOAD_LOCK:
        loader = lib.nsgsim_loader_new()
        try:
            lib.nsgsim_loader_add_service_tags(loader, _encode_path(service_tags), err)
            lib.nsgsim_loader_service_tags_snapshot(loader, ctypes.byref(buf), ctypes.byref(size),
                                                    err)
            try:
                data = ctypes.string_at(buf, size.value)
            finally:
                lib.nsgsim_free(buf)
            lib.nsgsim_loader_service_tags_info(loader, ctypes.byref(info))
            described = {
                "tags": info.tags,
                "prefixes": info.prefixes,
                "ranges": info.ranges,
                "bytes": len(data),
                "cloud": text(info.cloud),
                "change_number": None if info.change_number == -1 else info.change_number,
                "source": text(info.source),
            }
        finally:
            lib.nsgsim_loader_free(loader)
    _write_atomically(out_path, data)
    return described


class Policy:
    """A compiled, immutable policy (from nsgsim.load()).

    Safe to use from many threads at once.  A context manager; close()
    frees it (closing twice is fine; any later use raises nsgsim.Error).
    """

    __slots__ = ("_ptr", "_guard", "_users", "_closed", "_notes", "_stats", "__weakref__")

    # How a Region (nsgsim._regions, which does not import this module)
    # turns what contains() is given into a Flow.
    _coerce_flow = staticmethod(_coerce_flow)

    def __init__(self):
        raise TypeError("use nsgsim.load() to make a Policy")

    @classmethod
    def _adopt(cls, ptr):
        self = object.__new__(cls)
        self._ptr = ptr
        self._guard = threading.Lock()
        self._users = 0
        self._closed = False
        try:
            self._notes = self._read_notes()
            st = _lib.nsgsim_stats()
            lib.nsgsim_policy_stats(ptr, st)
            self._stats = {name: getattr(st, name) for name, _ in _lib.nsgsim_stats._fields_}
        except BaseException:
            self._free()
            raise
        return self

    def _read_notes(self):
        notes = []
        for i in range(lib.nsgsim_policy_note_count(self._ptr)):
            n = _lib.nsgsim_note()
            lib.nsgsim_policy_note(self._ptr, i, n)
            notes.append({
                "kind": _lib.NOTE_KINDS.get(n.kind, str(n.kind)),
                "message": text(n.message) or "",
                "file": text(n.file) or "",
                "pointer": text(n.pointer) or "",
                "resource": text(n.resource) or "",
            })
        return notes

    # -- lifetime: close() waits for no one; the last user frees ---------------

    def _check_open(self):
        if self._closed:
            raise Error(_lib.NSGSIM_E_INVALID_ARG, "the policy is closed")

    def _enter(self):
        with self._guard:
            if self._closed:
                raise Error(_lib.NSGSIM_E_INVALID_ARG, "the policy is closed")
            self._users += 1
            return self._ptr

    def _leave(self):
        with self._guard:
            self._users -= 1
            if self._closed and self._users == 0:
                self._free()

    def _free(self):
        ptr, self._ptr = self._ptr, None
        if ptr:
            lib.nsgsim_policy_free(ptr)

    def close(self):
        """Frees the policy; calls in flight on other threads finish first."""
        with self._guard:
            if self._closed:
                return
            self._closed = True
            if self._users == 0:
                self._free()

    @property
    def closed(self):
        return self._closed

    def __enter__(self):
        self._check_open()
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self):
        if self._closed:
            return "<nsgsim.Policy closed>"
        s = self._stats
        return "<nsgsim.Policy %d NICs, %d NSGs, %d admin rules>" % (
            s["nics"], s["nsgs"], s["admin_rules"])

    # -- what the policy holds ----------------------------------------------------

    @property
    def notes(self):
        """Skipped resources, limits and warnings: dicts with kind ("skipped",
        "limit", "warning"), message, file, pointer and resource."""
        return [dict(n) for n in self._notes]

    @property
    def stats(self):
        """Counts: vnets, subnets, nics, nsgs, nsg_rules, asgs, route_tables,
        network_managers, admin_rules, service_tags."""
        return dict(self._stats)

    def resources(self, kind):
        """The resources of one kind ("nics", "subnets", "nsgs", "asgs" or
        "managers", as `nsgsim list`), in input order: dicts with name, id, file
        and pointer."""
        code = _lib.RESOURCE_KINDS.get(kind.lower()) if isinstance(kind, str) else None
        if code is None:
            raise ValueError("resources() takes one of %s, not %r"
                             % (", ".join(_lib.RESOURCE_KINDS), kind))
        self._enter()
        try:
            out = []
            for i in range(lib.nsgsim_policy_resource_count(self._ptr, code)):
                r = _lib.nsgsim_resource()
                lib.nsgsim_policy_resource(self._ptr, code, i, r)
                out.append({"name": text(r.name), "id": text(r.id), "file": text(r.file),
                            "pointer": text(r.pointer)})
            return out
        finally:
            self._leave()

    def lint(self):
        """Findings about the policy, as `nsgsim lint --json` lists them: dicts with
        id, level ("note", "warning", "error"), resource, rule (None for a finding
        about a resource), file, pointer, line (of the rule's or resource's object in
        file; None when unknown), message and evidence (a dict)."""
        self._enter()
        try:
            err = _lib.nsgsim_error()
            ptr = _lib._FindingsPtr()
            lib.nsgsim_lint(self._ptr, ctypes.byref(ptr), err)
            try:
                out = []
                for i in range(lib.nsgsim_findings_count(ptr)):
                    f = _lib.nsgsim_finding()
                    lib.nsgsim_findings_get(ptr, i, f)
                    out.append({"id": text(f.id), "level": _lib.LEVELS.get(f.level),
                                "resource": text(f.resource), "rule": text(f.rule),
                                "file": text(f.file), "pointer": text(f.pointer),
                                "line": f.line or None, "message": text(f.message),
                                "evidence": json.loads(text(f.evidence))})
                return out
            finally:
                lib.nsgsim_findings_free(ptr)
        finally:
            self._leave()

    def effective(self, nic, format="json"):
        """The effective security rules of a NIC (name or id): the parsed
        `az network nic list-effective-nsg` JSON, or with format="table"
        the readable table (a str)."""
        if not isinstance(nic, (str, bytes)):
            raise TypeError("nic is a name or id str, not %s" % type(nic).__name__)
        if format not in _FORMATS:
            raise _invalid("format must be 'json' or 'table', not %r" % (format,))
        out = _lib._CharPtr()
        ptr = self._enter()
        try:
            lib.nsgsim_effective(ptr, _encode_text(nic), _FORMATS[format], ctypes.byref(out),
                                 _lib.nsgsim_error())
        finally:
            try:
                body = _lib.take_string(out)
            finally:
                self._leave()
        return json.loads(body) if format == "json" else body

    def save(self, path=None):
        """Saves the policy as a compiled policy file (.nsgp) that
        nsgsim.load_policy() and `nsgsim --policy` load: written atomically
        to path, or, with no path, returned as bytes."""
        buf = ctypes.c_void_p()
        size = ctypes.c_size_t()
        ptr = self._enter()
        try:
            lib.nsgsim_policy_save_buffer(ptr, ctypes.byref(buf), ctypes.byref(size),
                                          _lib.nsgsim_error())
            try:
                data = ctypes.string_at(buf, size.value)
            finally:
                lib.nsgsim_free(buf)
        finally:
            self._leave()
        if path is None:
            return data
        _write_atomically(path, data)
        return None

    load = staticmethod(load_policy)

    def show(self, json=True):
        """The model nsgsim read: with json=True the REST-shaped
        {"value": [...]} document (parsed) that loads back to the same
        answers; with json=False the text summary (a str: the deployment,
        counts per kind, notes and skipped resources)."""
        if not isinstance(json, bool):
            raise TypeError("json is True or False, not %s" % type(json).__name__)
        out = _lib._CharPtr()
        ptr = self._enter()
        try:
            lib.nsgsim_policy_show(ptr, 1 if json else 0, ctypes.byref(out),
                                   _lib.nsgsim_error())
        finally:
            try:
                body = _lib.take_string(out)
            finally:
                self._leave()
        return _json.loads(body) if json else body

    # -- evaluation ----------------------------------------------------------------

    def evaluate(self, flow=None, *, protocol=None, source=None, source_port=None,
                 destination=None, destination_port=None, at=None, direction=None):
        """Evaluates one flow end to end, or with at=NIC and
        direction="inbound"|"outbound" at one NIC only (as IP flow verify).
        The flow is text ("tcp 10.0.1.4:50000 10.0.2.5:443"), an nsgsim.Flow,
        or keyword arguments; without source_port every source port is
        evaluated.  Returns a Result; raises nsgsim.Error."""
        f = _coerce_flow(flow, dict(protocol=protocol, source=source, source_port=source_port,
                                    destination=destination,
                                    destination_port=destination_port))
        where = _where(at, direction)
        ptr = self._enter()
        try:
            return self._evaluate(ptr, f, where)
        finally:
            self._leave()

    def evaluate_many(self, flows, *, at=None, direction=None, out=None, jobs=1):
        """Evaluates each flow (text, nsgsim.Flow, or a dict of evaluate()'s
        keyword arguments, which may include at and direction) in order;
        returns the list of Results.  The first failure raises.

        flows may instead be a buffer of packed flows (bytes, bytearray,
        memoryview, array.array, what nsgsim.pack_flows returns: nsgsim_flow
        records, see nsgsim.FLOW_FORMAT): they are evaluated in batches
        (nsgsim_eval_batch) without a Python object per flow, into an
        nsgsim.Decisions (out: a writable buffer of DECISION_SIZE bytes a
        flow to fill instead of a new one), with jobs threads over blocks
        of 65,536 flows.  A flow that cannot be evaluated has a status there
        instead of raising; at and direction are not taken then."""
        from . import _packed

        packed = _packed.as_flow_buffer(flows)
        if packed is not None:
            if at is not None or direction is not None:
                raise _invalid("packed flows are evaluated end to end: no at or direction")
            ptr = self._enter()
            try:
                return _packed.evaluate_packed(self, ptr, packed, _lib.NSGSIM_ENGINE_COMPILED,
                                               out, jobs)
            finally:
                self._leave()
        if out is not None or jobs != 1:
            raise TypeError("out and jobs go with packed flows")
        items = []
        for flow in flows:
            if isinstance(flow, dict):
                kw = dict(flow)
                where = _where(kw.pop("at", at), kw.pop("direction", direction))
                items.append((_coerce_flow(kw.pop("flow", None), kw), where))
            else:
                items.append((_coerce_flow(flow, {}), _where(at, direction)))
        ptr = self._enter()
        try:
            return [self._evaluate(ptr, f, where) for f, where in items]
        finally:
            self._leave()

    def _evaluate(self, ptr, f, where):
        res = _lib.nsgsim_result()
        err = _lib.nsgsim_error()
        if where is None:
            lib.nsgsim_eval(ptr, f._c, res, err)
        else:
            lib.nsgsim_eval_at(ptr, f._c, where[0], where[1], res, err)
        return Result(self, f, res)

    def source_ports(self, flow=None, **kwargs):
        """For a flow without a source port: the source-port ranges with the
        same outcome, as to_dict()["sourcePorts"] lists them:
        [{"from", "to", "verdict", "decidedBy": {layer, rule, endpoint}}]."""
        f = _coerce_flow(flow, {k: kwargs.get(k) for k in (
            "protocol", "source", "source_port", "destination", "destination_port")})
        if set(kwargs) - {"protocol", "source", "source_port", "destination",
                          "destination_port"}:
            raise TypeError("unexpected keyword arguments %s" % sorted(kwargs))
        ptr = self._enter()
        try:
            cap = 64
            while True:
                buf = (_lib.nsgsim_port_outcome * cap)()
                n = ctypes.c_size_t()
                lib.nsgsim_eval_source_ports(ptr, f._c, buf, cap, ctypes.byref(n),
                                             _lib.nsgsim_error())
                if n.value <= cap:
                    break
                cap = n.value
            return [{
                "from": o.lo,
                "to": o.hi,
                "verdict": "Allow" if o.verdict == _lib.NSGSIM_ALLOW else "Deny",
                "decidedBy": {
                    "layer": _lib.LAYER_NAMES.get(o.decided_layer, "None"),
                    "rule": text(o.decided_rule.name),
                    "endpoint": _lib.ENDPOINT_NAMES.get(o.decided_endpoint),
                },
            } for o in buf[:n.value]]
        finally:
            self._leave()

    # -- sets of flows -------------------------------------------------------------

    def reach(self, to, source=None, protocols=None, allowed_only=False):
        """Every flow to `to` (an IP, CIDR, NIC name or id, subnet, service tag),
        from `source` (the same forms; None: every address), exactly: a list of
        nsgsim.Region with one verdict and deciding rule each.  protocols: None
        (all), "tcp,udp" or a list.  Raises nsgsim.Error."""
        from . import _regions

        return _regions.reach(self, to, source, protocols, allowed_only)

    def matrix(self, by="subnet"):
        """The segmentation matrix, as `nsgsim matrix --json` prints it: an
        nsgsim.Matrix with rows, columns (dicts: name, id, kind) and cells
        (dicts: from, to, allowed, summary, regions), computed exactly by
        reach.  by: "subnet", "nic" or "asg".  Raises nsgsim.Error."""
        from . import _matrix

        return _matrix.matrix(self, by)

    def _render(self, result, fmt, verbose):
        out = _lib._CharPtr()
        ptr = self._enter()
        try:
            lib.nsgsim_result_render(ptr, result.flow._c, result._c, fmt, int(verbose),
                                     ctypes.byref(out), _lib.nsgsim_error())
        finally:
            try:
                body = _lib.take_string(out)
            finally:
                self._leave()
        return body

    def _rule_details(self, result, side, layer):
        ptr = self._enter()
        try:
            n = ctypes.c_size_t()
            lib.nsgsim_explain(ptr, result.flow._c, result._c, side, layer, None, 0,
                               ctypes.byref(n), _lib.nsgsim_error())
            cap = n.value
            buf = (_lib.nsgsim_rule_detail * max(cap, 1))()
            lib.nsgsim_explain(ptr, result.flow._c, result._c, side, layer, buf, cap,
                               ctypes.byref(n), _lib.nsgsim_error())
            return [{
                "name": text(d.rule.name),
                "priority": d.rule.priority,
                "access": _lib.ACCESS_NAMES.get(d.rule.access, str(d.rule.access)),
                "isDefault": bool(d.rule.is_default),
                "protocolMatched": bool(d.protocol_matched),
                "sourceMatched": bool(d.source_matched),
                "sourcePortMatched": bool(d.source_port_matched),
                "destinationMatched": bool(d.destination_matched),
                "destinationPortMatched": bool(d.destination_port_matched),
                "sourceMatchedBy": text(d.source_matched_by),
                "destinationMatchedBy": text(d.destination_matched_by),
            } for d in buf[:min(n.value, cap)]]
        finally:
            self._leave()


def _where(at, direction):
    """(nic bytes, direction int) for nsgsim_eval_at, or None."""
    if at is None and direction is None:
        return None
    if at is None or direction is None:
        raise _invalid("at and direction go together")
    if isinstance(direction, str) and direction.lower() in _DIRECTIONS:
        d = _DIRECTIONS[direction.lower()]
    elif direction in (_lib.NSGSIM_INBOUND, _lib.NSGSIM_OUTBOUND) and not isinstance(
            direction, bool):
        d = direction
    else:
        raise _invalid("direction must be 'inbound' or 'outbound', not %r" % (direction,))
    return (_encode_text(at), d)
