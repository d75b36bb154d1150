"""The fixture flow tables the C tests use (tests/test_flows.c), through the
Python bindings: every row's verdict, deciding layer, rule and endpoint."""

import unittest

from . import support

MIN_ROWS = 290


class TestFlowTables(unittest.TestCase):
    def test_every_row(self):
        rows = 0
        tables = support.flow_tables()
        self.assertGreaterEqual(len(tables), 31)
        for fixture in tables:
            with support.load_fixture(fixture) as policy:
                for row in support.read_rows(fixture):
                    rows += 1
                    with self.subTest(row=str(row)):
                        r = policy.evaluate(row.flow, **row.kwargs())
                        d = r.decided_by
                        got = (r.verdict, d.layer, (d.rule or "-").lower(), d.endpoint or "-")
                        want = (row.verdict, row.layer, row.rule.lower(), row.endpoint)
                        self.assertEqual(got, want, "\n" + r.explain())
                        self.assertEqual(r.allowed, row.verdict == "Allow")
        self.assertGreaterEqual(rows, MIN_ROWS)


if __name__ == "__main__":
    unittest.main()
