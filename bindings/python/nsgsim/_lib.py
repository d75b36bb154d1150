"""The C side: finding libnsgsim, the struct mirrors and the one table of
every C function the bindings call.

Nothing outside this module touches ctypes' view of the library directly:
the rest of the package goes through ``lib`` (the loaded CDLL) whose
functions all received their argtypes, restype and errcheck from
``_FUNCTIONS`` below.  The structs mirror include/nsgsim.h field by field;
keep them in the header's order when it changes.
"""

import ctypes
import ctypes.util
import os

BINDINGS_VERSION = "0.1.0"

# ---- constants from include/nsgsim.h ---------------------------------------

NSGSIM_MAX_LAYERS = 16
NSGSIM_PORT_ANY = -1
NSGSIM_FOCUS_MAX = 4096  # nsgsim_loader_set_focus

NSGSIM_FORMAT_JSON = 0
NSGSIM_FORMAT_TABLE = 1

NSGSIM_ALLOW = 1
NSGSIM_DENY = 2

NSGSIM_ENGINE_LINEAR = 0
NSGSIM_ENGINE_COMPILED = 1

NSGSIM_INBOUND = 1
NSGSIM_OUTBOUND = 2

NSGSIM_E_OK = 0
NSGSIM_E_NOMEM = -1
NSGSIM_E_INVALID_ARG = -2
NSGSIM_E_BAD_PROTOCOL = -15
NSGSIM_E_BAD_FLOW = -24

LAYER_NAMES = {0: "None", 1: "AdminRule", 2: "SubnetNsg", 3: "NicNsg", 4: "Platform"}
ENDPOINT_NAMES = {0: None, 1: "source", 2: "destination"}
ACCESS_NAMES = {1: "Allow", 2: "Deny", 3: "AlwaysAllow"}
NOTE_KINDS = {1: "skipped", 2: "limit", 3: "warning"}
PROTOCOL_NAMES = {1: "icmp", 6: "tcp", 17: "udp", 50: "esp", 51: "ah"}

# ---- opaque handles ----------------------------------------------------------


class _LoaderPtr(ctypes.c_void_p):
    """nsgsim_loader *"""


class _PolicyPtr(ctypes.c_void_p):
    """nsgsim_policy * (const or not)"""


class _RegionsPtr(ctypes.c_void_p):
    """nsgsim_regions *"""


class _MatrixPtr(ctypes.c_void_p):
    """nsgsim_matrix *"""


class _FlowlogPtr(ctypes.c_void_p):
    """nsgsim_flowlog *"""


_CharPtr = ctypes.POINTER(ctypes.c_char)  # a library-allocated string, freed with nsgsim_free

# ---- structs -------------------------------------------------------------------

c_int = ctypes.c_int
c_size_t = ctypes.c_size_t
c_char_p = ctypes.c_char_p  # only for const char * fields that point into the policy


class nsgsim_error(ctypes.Structure):
    _fields_ = [
        ("code", c_int),
        ("line", c_int),
        ("column", c_int),
        ("message", ctypes.c_char * 512),
        ("file", ctypes.c_char * 512),
        ("pointer", ctypes.c_char * 512),
        ("resource", ctypes.c_char * 512),
    ]


class nsgsim_note(ctypes.Structure):
    _fields_ = [
        ("kind", c_int),
        ("message", c_char_p),
        ("file", c_char_p),
        ("pointer", c_char_p),
        ("resource", c_char_p),
    ]


class nsgsim_resource(ctypes.Structure):
    _fields_ = [
        ("name", c_char_p),
        ("id", c_char_p),
        ("file", c_char_p),
        ("pointer", c_char_p),
    ]


# nsgsim_resource_kind, by the names `nsgsim list` takes.
RESOURCE_KINDS = {"nics": 1, "subnets": 2, "nsgs": 3, "asgs": 4, "managers": 5}


class nsgsim_finding(ctypes.Structure):
    _fields_ = [
        ("id", c_char_p),
        ("level", c_int),
        ("resource", c_char_p),
        ("rule", c_char_p),
        ("file", c_char_p),
        ("pointer", c_char_p),
        ("message", c_char_p),
        ("evidence", c_char_p),
        ("line", c_int),
    ]


class _FindingsPtr(ctypes.c_void_p):
    pass


LEVELS = {1: "note", 2: "warning", 3: "error"}


class nsgsim_stats(ctypes.Structure):
    _fields_ = [
        (name, c_size_t)
        for name in (
            "vnets",
            "subnets",
            "nics",
            "nsgs",
            "nsg_rules",
            "asgs",
            "route_tables",
            "network_managers",
            "admin_rules",
            "service_tags",
        )
    ]


class nsgsim_ip(ctypes.Structure):
    _fields_ = [("family", c_int), ("bytes", ctypes.c_uint8 * 16)]


class nsgsim_flow(ctypes.Structure):
    _fields_ = [
        ("protocol", c_int),
        ("src", nsgsim_ip),
        ("dst", nsgsim_ip),
        ("src_port", c_int),
        ("dst_port", c_int),
    ]


class nsgsim_flowlog_tuple(ctypes.Structure):
    _fields_ = [
        ("version", c_int),
        ("time_ms", ctypes.c_longlong),
        ("flow", nsgsim_flow),
        ("direction", c_int),
        ("decision", c_int),
        ("state", ctypes.c_char),
        ("rule", c_char_p),
        ("acl", c_char_p),
        ("target", c_char_p),
        ("mac", c_char_p),
        ("file", c_char_p),
        ("record", c_int),
        ("flow_index", c_int),
        ("group", c_int),
        ("index", c_int),
        ("offset", c_size_t),
        ("packets_out", ctypes.c_ulonglong),
        ("bytes_out", ctypes.c_ulonglong),
        ("packets_in", ctypes.c_ulonglong),
        ("bytes_in", ctypes.c_ulonglong),
    ]


FLOWLOG_FN = ctypes.CFUNCTYPE(c_int, ctypes.c_void_p, ctypes.POINTER(nsgsim_flowlog_tuple))


class nsgsim_rule_ref(ctypes.Structure):
    _fields_ = [
        ("name", c_char_p),
        ("id", c_char_p),
        ("priority", c_int),
        ("access", c_int),
        ("is_default", c_int),
    ]


class nsgsim_decision(ctypes.Structure):
    _fields_ = [
        ("status", c_int),
        ("verdict", c_int),
        ("decided_layer", c_int),
        ("decided_endpoint", c_int),
        ("decided_rule", nsgsim_rule_ref),
        ("decided_resource", c_char_p),
        ("assumptions", ctypes.c_uint),
        ("src_port", c_int),
    ]


class nsgsim_layer_result(ctypes.Structure):
    _fields_ = [
        ("layer", c_int),
        ("resource", c_char_p),
        ("applied_to", c_char_p),
        ("matched", c_int),
        ("rule", nsgsim_rule_ref),
        ("member_group", c_char_p),
        ("member_kind", c_char_p),
        ("member_by", c_char_p),
        ("member_assignment", c_char_p),
    ]


class nsgsim_side_result(ctypes.Structure):
    _fields_ = [
        ("endpoint", c_int),
        ("direction", c_int),
        ("nic", c_char_p),
        ("subnet", c_char_p),
        ("vnet", c_char_p),
        ("verdict", c_int),
        ("admin_skipped", c_char_p),
        ("n_layers", c_int),
        ("layers", nsgsim_layer_result * NSGSIM_MAX_LAYERS),
    ]


class nsgsim_result(ctypes.Structure):
    _fields_ = [
        ("verdict", c_int),
        ("decided_layer", c_int),
        ("decided_endpoint", c_int),
        ("decided_rule", nsgsim_rule_ref),
        ("decided_resource", c_char_p),
        ("n_sides", c_int),
        ("sides", nsgsim_side_result * 2),
        ("assumptions", ctypes.c_uint),
        ("src_port", c_int),
        ("src_modelled", c_int),
        ("dst_modelled", c_int),
        ("one_sided", c_int),
    ]


class nsgsim_port_outcome(ctypes.Structure):
    _fields_ = [
        ("lo", c_int),
        ("hi", c_int),
        ("verdict", c_int),
        ("decided_layer", c_int),
        ("decided_endpoint", c_int),
        ("decided_rule", nsgsim_rule_ref),
    ]


class nsgsim_rule_detail(ctypes.Structure):
    _fields_ = [
        ("rule", nsgsim_rule_ref),
        ("protocol_matched", c_int),
        ("source_matched", c_int),
        ("source_port_matched", c_int),
        ("destination_matched", c_int),
        ("destination_port_matched", c_int),
        ("source_matched_by", c_char_p),
        ("destination_matched_by", c_char_p),
    ]


class nsgsim_tags_info(ctypes.Structure):
    _fields_ = [
        ("tags", c_size_t),
        ("prefixes", ctypes.c_uint64),
        ("ranges", c_size_t),
        ("change_number", ctypes.c_longlong),
        ("cloud", c_char_p),
        ("file", c_char_p),
        ("source", c_char_p),
        ("snapshot", c_int),
    ]


class nsgsim_query(ctypes.Structure):
    _fields_ = [
        ("to", c_char_p),
        ("from_", c_char_p),
        ("protocols", ctypes.c_uint),
        ("allowed_only", c_int),
        ("rules", c_int),
    ]


# Protocol bits of queries and regions (nsgsim_proto_bits).
PROTOCOL_BITS = {"icmp": 1, "tcp": 2, "udp": 4, "esp": 8, "ah": 16}

# ---- errors ----------------------------------------------------------------------


def text(value):
    """A C string (bytes or None) as str (or None)."""
    if value is None:
        return None
    return value.decode("utf-8", "replace")


class Error(Exception):
    """A failure reported by libnsgsim (or a misuse the bindings catch).

    ``code`` is the NSGSIM_E_* value (negative), ``name`` its name
    ("NSGSIM_E_PRIORITY_RANGE"); ``message``, ``file``, ``pointer`` (a JSON
    pointer), ``resource`` are "" when they do not apply, ``line`` and
    ``column`` 0 when unknown.  ``str(e)`` is the line the CLI prints after
    "nsgsim: error: ".
    """

    def __init__(self, code, message="", file="", pointer="", resource="", line=0, column=0):
        self.code = int(code)
        self.name = text(lib.nsgsim_error_name(self.code)) if lib is not None else None
        self.message = message or (text(lib.nsgsim_strerror(self.code)) if lib is not None else "")
        self.file = file or ""
        self.pointer = pointer or ""
        self.resource = resource or ""
        self.line = int(line)
        self.column = int(column)
        super().__init__(self._format())

    @classmethod
    def from_struct(cls, err, code=None):
        """From a filled nsgsim_error; code is the status when err.code is unset."""
        c = err.code if err.code else code
        return cls(
            c if c is not None else NSGSIM_E_INVALID_ARG,
            text(err.message),
            text(err.file),
            text(err.pointer),
            text(err.resource),
            err.line,
            err.column,
        )

    def _struct(self):
        err = nsgsim_error()
        err.code = self.code
        err.line = self.line
        err.column = self.column
        for field in ("message", "file", "pointer", "resource"):
            raw = getattr(self, field).encode("utf-8", "replace")[:511]
            setattr(err, field, raw)
        return err

    def _format(self):
        # Four fields of at most 511 bytes, the position and the name fit.
        buf = ctypes.create_string_buffer(2600)
        lib.nsgsim_error_format(self._struct(), buf, len(buf))
        return text(buf.value)

    def __reduce__(self):
        return (
            type(self),
            (self.code, self.message, self.file, self.pointer, self.resource, self.line,
             self.column),
        )

    def __repr__(self):
        return "nsgsim.Error(%s, %r)" % (self.name, self.message)


def _check_status(result, func, args):
    """errcheck for int statuses: < 0 raises Error from the nsgsim_error argument."""
    if result >= 0:
        return result
    for a in args:
        if isinstance(a, nsgsim_error):
            raise Error.from_struct(a, result)
    raise Error(result)


def _check_nonnull(result, func, args):
    """errcheck for constructors that return NULL when out of memory."""
    if not result:
        raise Error(NSGSIM_E_NOMEM, "%s returned NULL" % func.__name__)
    return result


# ---- the one table ------------------------------------------------------------------

P = ctypes.POINTER
_ERR = P(nsgsim_error)

# name: (restype, argtypes, errcheck)
_FUNCTIONS = {
    "nsgsim_version": (c_char_p, [], None),
    "nsgsim_struct_size": (c_size_t, [ctypes.c_char_p], None),
    "nsgsim_layer_name": (c_char_p, [c_int], None),
    "nsgsim_strerror": (c_char_p, [c_int], None),
    "nsgsim_error_name": (c_char_p, [c_int], None),
    "nsgsim_error_format": (c_int, [P(nsgsim_error), ctypes.c_char_p, c_size_t], None),
    "nsgsim_assumption_key": (c_char_p, [ctypes.c_uint], None),
    "nsgsim_assumption_text": (c_char_p, [ctypes.c_uint], None),
    # loading
    "nsgsim_loader_new": (_LoaderPtr, [], _check_nonnull),
    "nsgsim_loader_free": (None, [_LoaderPtr], None),
    "nsgsim_loader_add_env": (c_int, [_LoaderPtr, ctypes.c_char_p, _ERR], _check_status),
    "nsgsim_loader_add_env_buffer": (
        c_int,
        [_LoaderPtr, ctypes.c_char_p, ctypes.c_char_p, c_size_t, _ERR],
        _check_status,
    ),
    "nsgsim_loader_add_service_tags": (
        c_int,
        [_LoaderPtr, ctypes.c_char_p, _ERR],
        _check_status,
    ),
    "nsgsim_loader_add_service_tags_buffer": (
        c_int,
        [_LoaderPtr, ctypes.c_char_p, ctypes.c_char_p, c_size_t, _ERR],
        _check_status,
    ),
    "nsgsim_loader_service_tags_snapshot": (
        c_int,
        [_LoaderPtr, P(ctypes.c_void_p), P(c_size_t), _ERR],
        _check_status,
    ),
    "nsgsim_loader_service_tags_info": (c_int, [_LoaderPtr, P(nsgsim_tags_info)], _check_status),
    "nsgsim_loader_add_parameters": (c_int, [_LoaderPtr, ctypes.c_char_p, _ERR], _check_status),
    "nsgsim_loader_add_parameters_buffer": (
        c_int,
        [_LoaderPtr, ctypes.c_char_p, ctypes.c_char_p, c_size_t, _ERR],
        _check_status,
    ),
    "nsgsim_loader_set_parameter": (
        c_int,
        [_LoaderPtr, ctypes.c_char_p, ctypes.c_char_p, _ERR],
        _check_status,
    ),
    "nsgsim_loader_set_deployment": (
        c_int,
        [_LoaderPtr, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p],
        None,
    ),
    "nsgsim_compile": (c_int, [_LoaderPtr, P(_PolicyPtr), _ERR], _check_status),
    "nsgsim_policy_free": (None, [_PolicyPtr], None),
    # notes and stats
    "nsgsim_policy_note_count": (c_size_t, [_PolicyPtr], None),
    "nsgsim_policy_note": (c_int, [_PolicyPtr, c_size_t, P(nsgsim_note)], _check_status),
    "nsgsim_policy_stats": (None, [_PolicyPtr, P(nsgsim_stats)], None),
    "nsgsim_loader_set_build": (c_int, [_LoaderPtr, c_int], None),
    "nsgsim_loader_set_focus": (c_int, [_LoaderPtr, P(nsgsim_ip), c_size_t], None),
    "nsgsim_lint": (c_int, [_PolicyPtr, P(_FindingsPtr), _ERR], _check_status),
    "nsgsim_lint_progress": (c_int, [_PolicyPtr, ctypes.c_void_p, ctypes.c_void_p,
                                     P(_FindingsPtr), _ERR], _check_status),
    "nsgsim_findings_count": (c_size_t, [_FindingsPtr], None),
    "nsgsim_findings_get": (c_int, [_FindingsPtr, c_size_t, P(nsgsim_finding)], _check_status),
    "nsgsim_findings_free": (None, [_FindingsPtr], None),
    "nsgsim_policy_resource_count": (c_size_t, [_PolicyPtr, c_int], None),
    "nsgsim_policy_resource": (c_int, [_PolicyPtr, c_int, c_size_t, P(nsgsim_resource)],
                               _check_status),
    # effective rules
    "nsgsim_effective": (c_int, [_PolicyPtr, ctypes.c_char_p, c_int, P(_CharPtr), _ERR],
                         _check_status),
    "nsgsim_free": (None, [ctypes.c_void_p], None),
    # flow logs (nsgsim replay's reader)
    "nsgsim_flowlog_new": (_FlowlogPtr, [], _check_nonnull),
    "nsgsim_flowlog_free": (None, [_FlowlogPtr], None),
    "nsgsim_flowlog_read": (
        c_int, [_FlowlogPtr, ctypes.c_char_p, FLOWLOG_FN, ctypes.c_void_p, _ERR], _check_status),
    "nsgsim_flowlog_read_buffer": (
        c_int, [_FlowlogPtr, ctypes.c_char_p, ctypes.c_char_p, c_size_t, FLOWLOG_FN,
                ctypes.c_void_p, _ERR], _check_status),
    # the resolved model
    "nsgsim_policy_show": (c_int, [_PolicyPtr, c_int, P(_CharPtr), _ERR], _check_status),
    # compiled policy files
    "nsgsim_policy_save_buffer": (
        c_int,
        [_PolicyPtr, P(ctypes.c_void_p), P(c_size_t), _ERR],
        _check_status,
    ),
    "nsgsim_loader_add_policy_file": (c_int, [_LoaderPtr, ctypes.c_char_p, _ERR], _check_status),
    "nsgsim_loader_add_policy_buffer": (
        c_int,
        [_LoaderPtr, ctypes.c_char_p, ctypes.c_char_p, c_size_t, _ERR],
        _check_status,
    ),
    "nsgsim_policy_file_detect": (c_int, [ctypes.c_char_p, c_size_t], None),
    # flows and evaluation
    "nsgsim_flow_parse": (c_int, [ctypes.c_char_p, P(nsgsim_flow), _ERR], _check_status),
    "nsgsim_eval": (c_int, [_PolicyPtr, P(nsgsim_flow), P(nsgsim_result), _ERR],
                    _check_status),
    # packed flows (Policy.evaluate_many of a buffer): raw addresses, no per-flow objects
    "nsgsim_eval_batch": (
        c_int, [_PolicyPtr, ctypes.c_void_p, c_size_t, c_int, ctypes.c_void_p, _ERR],
        _check_status,
    ),
    "nsgsim_eval_at": (
        c_int,
        [_PolicyPtr, P(nsgsim_flow), ctypes.c_char_p, c_int, P(nsgsim_result), _ERR],
        _check_status,
    ),
    "nsgsim_eval_source_ports": (
        c_int,
        [_PolicyPtr, P(nsgsim_flow), P(nsgsim_port_outcome), c_size_t, P(c_size_t), _ERR],
        _check_status,
    ),
    "nsgsim_explain": (
        c_int,
        [_PolicyPtr, P(nsgsim_flow), P(nsgsim_result), c_int, c_int, P(nsgsim_rule_detail),
         c_size_t, P(c_size_t), _ERR],
        _check_status,
    ),
    "nsgsim_result_render": (
        c_int,
        [_PolicyPtr, P(nsgsim_flow), P(nsgsim_result), c_int, c_int, P(_CharPtr), _ERR],
        _check_status,
    ),
    # sets of flows
    "nsgsim_reach": (c_int, [_PolicyPtr, P(nsgsim_query), P(_RegionsPtr), _ERR], _check_status),
    "nsgsim_diff": (
        c_int,
        [_PolicyPtr, _PolicyPtr, P(nsgsim_query), P(_RegionsPtr), _ERR],
        _check_status,
    ),
    "nsgsim_regions_free": (None, [_RegionsPtr], None),
    "nsgsim_regions_count": (c_size_t, [_RegionsPtr], None),
    "nsgsim_region_contains": (c_int, [_RegionsPtr, c_size_t, P(nsgsim_flow)], None),
    "nsgsim_regions_render": (c_int, [_RegionsPtr, c_int, P(_CharPtr), _ERR], _check_status),
    # the segmentation matrix
    "nsgsim_matrix_build": (c_int, [_PolicyPtr, c_int, P(_MatrixPtr), _ERR], _check_status),
    "nsgsim_matrix_free": (None, [_MatrixPtr], None),
    "nsgsim_matrix_render": (c_int, [_MatrixPtr, c_int, P(_CharPtr), _ERR], _check_status),
}

# ---- finding and loading the library ---------------------------------------------------

_HERE = os.path.dirname(os.path.abspath(__file__))
# pip install ./bindings/python builds the library and ships it here (setup.py).
PACKAGE_LIBRARY = os.path.join(_HERE, "libnsgsim.so.0")
# bindings/python/nsgsim -> the repository root, when the package runs from a checkout.
_REPO_ROOT = os.path.normpath(os.path.join(_HERE, os.pardir, os.pardir, os.pardir))
REPO_BUILD_LIBRARY = os.path.join(_REPO_ROOT, "build", "libnsgsim.so.0")


def _in_source_tree():
    """Whether this package is bindings/python/nsgsim of an nsgsim checkout (and
    not, say, a copy in site-packages, where ../../../build means nothing)."""
    return os.path.isfile(os.path.join(_REPO_ROOT, "include", "nsgsim.h")) and os.path.isfile(
        os.path.join(_REPO_ROOT, "bindings", "python", "nsgsim", "_lib.py")
    )


def _mapped_file(cdll):
    """The file the dynamic loader mapped for cdll (from /proc/self/maps), or None."""
    try:
        addr = ctypes.cast(cdll.nsgsim_version, ctypes.c_void_p).value
        with open("/proc/self/maps", "r", encoding="utf-8", errors="replace") as f:
            for line in f:
                parts = line.split(None, 5)
                if len(parts) < 6:
                    continue
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                if lo <= addr < hi and parts[5].strip().startswith("/"):
                    return parts[5].strip()
    except (OSError, ValueError, AttributeError):
        pass
    return None


def _candidates():
    """(how, what, why) to try, in order; what is None when there is nothing to try,
    and why then says so."""
    env = os.environ.get("NSGSIM_LIBRARY")
    if env:
        # An explicit choice is not silently replaced by another library.
        return [("NSGSIM_LIBRARY", env, None)]
    out = [("the library shipped in the package", PACKAGE_LIBRARY, None)]
    if _in_source_tree():
        out.append(("the repository build directory", REPO_BUILD_LIBRARY, None))
    else:
        out.append(("the repository build directory", None, "not running from a source tree"))
    found = ctypes.util.find_library("nsgsim")
    out.append(("ctypes.util.find_library('nsgsim')", found, "not found"))
    return out


def _load():
    tried = []
    for how, what, why in _candidates():
        if not what:
            tried.append("%s: %s" % (how, why))
            continue
        if os.sep in what and not os.path.exists(what):
            tried.append("%s: %s does not exist" % (how, what))
            continue
        try:
            cdll = ctypes.CDLL(what)
        except OSError as e:
            tried.append("%s: %s: %s" % (how, what, e))
            continue
        path = _mapped_file(cdll) or (os.path.abspath(what) if os.sep in what else what)
        return cdll, path
    raise ImportError(
        "nsgsim: cannot load libnsgsim; tried:\n  "
        + "\n  ".join(tried)
        + "\ninstall the package with `pip install ./bindings/python` (it builds and ships"
        " the library), build it with `make`, or set NSGSIM_LIBRARY to the path of"
        " libnsgsim.so.0"
    )


def _declare(cdll):
    for name, (restype, argtypes, errcheck) in _FUNCTIONS.items():
        try:
            fn = getattr(cdll, name)
        except AttributeError:
            raise ImportError("nsgsim: %s does not export %s" % (library_path, name)) from None
        fn.restype = restype
        fn.argtypes = argtypes
        if errcheck is not None:
            fn.errcheck = errcheck


class _Declared:
    """Only the functions of _FUNCTIONS are reachable through ``lib``."""

    def __init__(self, cdll):
        for name in _FUNCTIONS:
            setattr(self, name, getattr(cdll, name))


lib = None
_cdll, library_path = _load()
_declare(_cdll)
lib = _Declared(_cdll)

library_version = text(lib.nsgsim_version())
if library_version.split(".")[:2] != BINDINGS_VERSION.split(".")[:2]:
    raise ImportError(
        "nsgsim: %s is version %s; these bindings mirror the 0.1 structs (%s)"
        % (library_path, library_version, BINDINGS_VERSION)
    )


# The structs are mirrored by hand: check each against the library's sizeof
# now, rather than let a mismatch corrupt memory later.
for _struct in (nsgsim_error, nsgsim_note, nsgsim_resource, nsgsim_finding, nsgsim_stats, nsgsim_ip, nsgsim_flow, nsgsim_rule_ref,
                nsgsim_layer_result,
                nsgsim_side_result, nsgsim_result, nsgsim_port_outcome, nsgsim_rule_detail,
                nsgsim_tags_info, nsgsim_query, nsgsim_flowlog_tuple, nsgsim_decision):
    _expected = lib.nsgsim_struct_size(_struct.__name__.encode())
    if _expected != ctypes.sizeof(_struct):
        raise ImportError(
            "nsgsim: %s is %d bytes in %s but %d in these bindings"
            % (_struct.__name__, _expected, library_path, ctypes.sizeof(_struct))
        )


def _codes():
    out = {}
    for code in range(0, -128, -1):
        name = lib.nsgsim_error_name(code)
        if name is not None:
            out[text(name)] = code
    return out


# "NSGSIM_E_BAD_FLOW" -> -24, from the library's own table.
ERROR_CODES = _codes()


def take_string(ptr):
    """Copies a library-allocated string and frees it (ptr may be NULL)."""
    try:
        if not ptr:
            return None
        return text(ctypes.string_at(ptr))
    finally:
        lib.nsgsim_free(ptr)
