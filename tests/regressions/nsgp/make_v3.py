#!/usr/bin/env python3
"""Remakes this directory's damaged policy files in format version 3
(lib/compile/nsgp.h) from files `nsgsim compile` writes: each is a valid
file with one change a crafted file could make, resealed (the section's
and the directory's CRC-32C), so that only the reader's own checks stand
between it and compile.  Run from the repository root after `make`:

    python3 tests/regressions/nsgp/make_v3.py
"""
import struct
import subprocess
import sys
import tempfile

HEADER = 24
DIR_ENTRY = 20


def crc32c(data, crc=0):
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def sections(d):
    n = struct.unpack_from("<I", d, HEADER)[0]
    out = []
    for k in range(n):
        off, ln, _ = struct.unpack_from("<QQI", d, HEADER + 4 + k * DIR_ENTRY)
        out.append(bytearray(d[off:off + ln]))
    return out


def assemble(secs):
    n = len(secs)
    dir_size = 4 + n * DIR_ENTRY
    directory = bytearray(struct.pack("<I", n))
    at = HEADER + dir_size
    for s in secs:
        directory += struct.pack("<QQI", at, len(s), crc32c(s))
        at += len(s)
    body = bytes(directory) + b"".join(bytes(s) for s in secs)
    head = b"NSGSIMP\0" + struct.pack("<IIQ", 3, crc32c(directory), len(body))
    return head + body


def table_end(s):
    n, nbytes = struct.unpack_from("<IQ", s, 0)
    return 12, 12 + nbytes


class Rules:
    """The rules of a rule-block section, with where each side starts."""

    def __init__(self, s):
        self.s = s
        _, self.pos = table_end(s)
        self.sides = []  # (start, form, addrs [(offset of the addr record)], refs_at, n_refs)
        while self.pos < len(s):
            self.pos += 4 * 3 + 8 + 4 * 4 + 1
            for _ in range(2):
                self.side()

    def u32(self):
        v = struct.unpack_from("<I", self.s, self.pos)[0]
        self.pos += 4
        return v

    def side(self):
        start = self.pos
        form = self.u32()
        addrs = []
        for _ in range(self.u32()):
            addrs.append(self.pos)
            self.pos += 40
        refs_at = self.pos
        n_refs = self.u32()
        self.pos += 12 * n_refs
        n_ports = self.u32()
        self.pos += 8 * n_ports + 1
        self.sides.append((start, form, addrs, refs_at, n_refs))


def compile_env(env):
    out = tempfile.mktemp(suffix=".nsgp")
    subprocess.run(["./build/nsgsim", "compile", "-q", "--env", env, "-o", out], check=True)
    return open(out, "rb").read()


def host_bits():
    secs = sections(compile_env("fixtures/semantics/t12_protocols_without_ports/env"))
    for s in secs[2:]:
        for _, _, addrs, _, _ in Rules(s).sides:
            for a in addrs:
                kind, _, family = struct.unpack_from("<iIi", s, a)
                plen = struct.unpack_from("<i", s, a + 28)[0]
                if kind == 2 and family == 4 and plen < 32:
                    s[a + 12] |= 1  # the lowest bit of the address
                    return assemble(secs)
    sys.exit("no IPv4 prefix shorter than /32 in t12_protocols_without_ports")


def malformed_utf8():
    secs = sections(compile_env("fixtures/semantics/t12_protocols_without_ports/env"))
    s = secs[2]
    start, end = table_end(s)
    s[start] = 0xFF  # the first byte of the block's first string
    return assemble(secs)


def asg_side_naming_none():
    secs = sections(compile_env("fixtures/semantics/t10_asg_member_binding/env"))
    for i, s in enumerate(secs[2:]):
        for _, form, _, refs_at, n_refs in Rules(s).sides:
            if form == 3 and n_refs > 0:
                secs[2 + i] = s[:refs_at] + struct.pack("<I", 0) + s[refs_at + 4 + 12 * n_refs:]
                return assemble(secs)
    sys.exit("no side of the ASG form in t10_asg_member_binding")


for name, make in [("prefix_with_host_bits", host_bits),
                   ("malformed_utf8_string", malformed_utf8),
                   ("asg-side-naming-none", asg_side_naming_none)]:
    with open("tests/regressions/nsgp/%s.nsgp" % name, "wb") as f:
        f.write(make())
    print("wrote tests/regressions/nsgp/%s.nsgp" % name)
