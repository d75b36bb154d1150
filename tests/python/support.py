"""Shared by the Python tests: fixture paths and the flow-table reader
(the same format as tests/flowtable.h)."""

import glob
import os

import nsgsim

DEFAULT_TAGS = "fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json"
EXAMPLE = "fixtures/example"
EXAMPLE_NIC = "vm-web1-nic"


def tags_for(fixture):
    own = os.path.join(fixture, "service_tags.json")
    return own if os.path.exists(own) else DEFAULT_TAGS


def load_fixture(fixture):
    return nsgsim.load(env=[os.path.join(fixture, "env")], service_tags=tags_for(fixture))


def flow_tables():
    """Every fixture directory with a flows.txt, in the C tests' order."""
    dirs = sorted(os.path.dirname(p) for p in glob.glob("fixtures/semantics/*/flows.txt"))
    return dirs + [EXAMPLE]


class Row:
    __slots__ = ("file", "line", "flow", "verdict", "layer", "rule", "endpoint", "at",
                 "direction")

    def kwargs(self):
        return {"at": self.at, "direction": self.direction} if self.at else {}

    def __str__(self):
        where = " | at=%s direction=%s" % (self.at, self.direction) if self.at else ""
        return "%s:%d: %s%s" % (self.file, self.line, self.flow, where)


def parse_row(line, lineno, file):
    """A Row, None for a blank or comment line; ValueError when malformed."""
    line = line.split("#", 1)[0]
    opts = {}
    if "|" in line:
        line, rest = line.split("|", 1)
        for tok in rest.split():
            key, sep, value = tok.partition("=")
            if not sep or key not in ("at", "direction"):
                raise ValueError("%s:%d: bad option %r" % (file, lineno, tok))
            opts[key] = value
    toks = line.split()
    if not toks:
        return None
    if len(toks) != 7:
        raise ValueError("%s:%d: expected 7 fields, got %d" % (file, lineno, len(toks)))
    r = Row()
    r.file, r.line = file, lineno
    r.flow = " ".join(toks[:3])
    r.verdict, r.layer, r.rule, r.endpoint = toks[3:]
    r.at = opts.get("at")
    r.direction = opts.get("direction")
    return r


def read_rows(fixture):
    path = os.path.join(fixture, "flows.txt")
    rows = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            r = parse_row(line, i, path)
            if r is not None:
                rows.append(r)
    return rows


def cli_path():
    """The CLI binary: $NSGSIM; else the nsgsim built beside $NSGSIM_LIBRARY
    (the same build); else ./build/nsgsim.  None when missing."""
    path = os.environ.get("NSGSIM")
    if not path:
        lib = os.environ.get("NSGSIM_LIBRARY")
        beside = os.path.join(os.path.dirname(lib), "nsgsim") if lib else None
        path = beside if beside and os.path.isfile(beside) else "./build/nsgsim"
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
