"""Policy.matrix(): the segmentation matrix of nsgsim_matrix_build as plain
Python objects (what `nsgsim matrix --json` prints)."""

import ctypes
import json

from . import _lib
from ._lib import lib

BY = {"subnet": 0, "nic": 1, "asg": 2}


class Matrix:
    """Rows are sources, columns destinations (dicts with name, id and kind:
    "subnet", "nic", "asg" or "tag"); cells a row-major list of dicts with
    from, to, allowed ([{"protocol", "ports"}]), summary ("tcp 22,443; udp
    53", "all" or "") and regions (the allowed regions with decidedBy).
    ``table`` is the text `nsgsim matrix` prints."""

    def __init__(self, doc, table):
        self.by = doc["by"]
        self.rows = doc["rows"]
        self.columns = doc["columns"]
        self.cells = doc["cells"]
        self.table = table
        self._index = {(c["from"], c["to"]): c for c in self.cells}

    def cell(self, source, destination):
        """The cell of a row and a column, by name; KeyError if there is none."""
        return self._index[(source, destination)]

    def to_dict(self):
        return {"by": self.by, "rows": self.rows, "columns": self.columns, "cells": self.cells}

    def __repr__(self):
        return "<nsgsim.Matrix by %s: %d rows x %d columns>" % (self.by, len(self.rows),
                                                               len(self.columns))


def _render(handle, fmt):
    out = _lib._CharPtr()
    try:
        lib.nsgsim_matrix_render(handle, fmt, ctypes.byref(out), _lib.nsgsim_error())
    finally:
        body = _lib.take_string(out)
    return body


def matrix(policy, by="subnet"):
    if by not in BY:
        raise _lib.Error(_lib.NSGSIM_E_INVALID_ARG,
                         "by must be 'subnet', 'nic' or 'asg', not %r" % (by,))
    handle = _lib._MatrixPtr()
    ptr = policy._enter()
    try:
        lib.nsgsim_matrix_build(ptr, BY[by], ctypes.byref(handle), _lib.nsgsim_error())
        try:
            doc = json.loads(_render(handle, _lib.NSGSIM_FORMAT_JSON))
            table = _render(handle, _lib.NSGSIM_FORMAT_TABLE)
        finally:
            lib.nsgsim_matrix_free(handle)
    finally:
        policy._leave()
    return Matrix(doc, table)
