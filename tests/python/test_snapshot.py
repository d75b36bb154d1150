"""Service-tags snapshots from Python: nsgsim.snapshot_service_tags() and
load() given a snapshot (a path or bytes), which must answer exactly as the
JSON does."""

import os
import tempfile
import unittest

import nsgsim

from . import support


class TestSnapshot(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="nsgsim-py-snapshot-")
        self.snap = os.path.join(self.tmp.name, "tags.nst")

    def tearDown(self):
        self.tmp.cleanup()

    def test_snapshot_and_describe(self):
        info = nsgsim.snapshot_service_tags(support.DEFAULT_TAGS, self.snap)
        self.assertEqual(info["tags"], 16)
        self.assertEqual(info["prefixes"], 22113)  # fixtures/service_tags/README.md
        self.assertLessEqual(info["ranges"], info["prefixes"])
        self.assertEqual(info["cloud"], "Public")
        self.assertEqual(info["change_number"], 376)
        self.assertEqual(info["source"], os.path.basename(support.DEFAULT_TAGS))
        with open(self.snap, "rb") as f:
            data = f.read()
        self.assertEqual(len(data), info["bytes"])
        self.assertEqual(data[:8], b"NSGSIMT\0")
        self.assertEqual(os.listdir(self.tmp.name), ["tags.nst"], "no temporary file is left")
        # Deterministic, and the same from a snapshot of the snapshot.
        again = os.path.join(self.tmp.name, "again.nst")
        self.assertEqual(nsgsim.snapshot_service_tags(self.snap, again), info)
        with open(again, "rb") as f:
            self.assertEqual(f.read(), data)

    def test_rest_list_string_change_number(self):
        info = nsgsim.snapshot_service_tags("fixtures/service_tags/rest_servicetags_list.json",
                                            self.snap)
        self.assertEqual((info["tags"], info["change_number"]), (5, 63))

    def test_every_flow_table_answers_the_same(self):
        rows = 0
        for fixture in support.flow_tables():
            snap = os.path.join(self.tmp.name, os.path.basename(fixture) + ".nst")
            nsgsim.snapshot_service_tags(support.tags_for(fixture), snap)
            env = [os.path.join(fixture, "env")]
            with support.load_fixture(fixture) as a, \
                    nsgsim.load(env=env, service_tags=snap) as b:
                self.assertEqual(a.stats, b.stats)
                self.assertEqual(a.notes, b.notes)
                for row in support.read_rows(fixture):
                    ra = a.evaluate(row.flow, **row.kwargs())
                    rb = b.evaluate(row.flow, **row.kwargs())
                    self.assertEqual(ra.to_dict(verbose=True), rb.to_dict(verbose=True), str(row))
                    rows += 1
        self.assertGreater(rows, 100)

    def test_snapshot_bytes_through_service_tags_json(self):
        nsgsim.snapshot_service_tags(support.DEFAULT_TAGS, self.snap)
        with open(self.snap, "rb") as f:
            data = f.read()
        env = [os.path.join(support.EXAMPLE, "env")]
        with nsgsim.load(env=env, service_tags_json=data) as p, support.load_fixture(support.EXAMPLE) as q:
            self.assertEqual(p.effective(support.EXAMPLE_NIC), q.effective(support.EXAMPLE_NIC))

    def test_damaged_snapshots_raise(self):
        nsgsim.snapshot_service_tags(support.DEFAULT_TAGS, self.snap)
        with open(self.snap, "rb") as f:
            data = f.read()
        env = [os.path.join(support.EXAMPLE, "env")]
        cases = [
            (data[:100], "NSGSIM_E_SNAPSHOT", "/header/length", "truncated"),
            (data[:8] + b"\x09" + data[9:], "NSGSIM_E_SNAPSHOT_VERSION", "/header/version",
             "nsgsim snapshot-tags"),
            (data[:-1] + bytes([data[-1] ^ 0x80]), "NSGSIM_E_SNAPSHOT", "/header/checksum",
             "CRC-32"),
        ]
        for content, name, pointer, needle in cases:
            with self.subTest(name=name, pointer=pointer):
                bad = os.path.join(self.tmp.name, "bad.nst")
                with open(bad, "wb") as f:
                    f.write(content)
                with self.assertRaises(nsgsim.Error) as cm:
                    nsgsim.load(env=env, service_tags=bad)
                e = cm.exception
                self.assertEqual(e.name, name)
                self.assertEqual(e.code, getattr(nsgsim, name))
                self.assertEqual(e.file, bad)
                self.assertEqual(e.pointer, pointer)
                self.assertIn(needle, e.message)
                self.assertTrue(e.message.startswith("at byte offset "), e.message)
        self.assertEqual(nsgsim.NSGSIM_E_SNAPSHOT, -28)
        self.assertEqual(nsgsim.NSGSIM_E_SNAPSHOT_VERSION, -29)

    def test_errors(self):
        with self.assertRaises(nsgsim.Error) as cm:
            nsgsim.snapshot_service_tags(os.path.join(self.tmp.name, "missing.json"), self.snap)
        self.assertEqual(cm.exception.name, "NSGSIM_E_IO")
        with self.assertRaises(nsgsim.Error) as cm:
            nsgsim.snapshot_service_tags("tests/golden/bad/malformed.json", self.snap)
        self.assertEqual(cm.exception.name, "NSGSIM_E_JSON")
        with self.assertRaises(OSError):
            nsgsim.snapshot_service_tags(support.DEFAULT_TAGS,
                                         os.path.join(self.tmp.name, "no-dir", "tags.nst"))
        self.assertFalse(os.path.exists(self.snap))
        self.assertEqual(os.listdir(self.tmp.name), [])


if __name__ == "__main__":
    unittest.main()
