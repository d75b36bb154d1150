"""nsgsim.read_flow_log: the library's flow-log reader from Python (the
real logs of fixtures/flow_logs, gzip from memory, errors as nsgsim.Error)."""
import gzip
import os
import unittest

import nsgsim

LOGS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                    "fixtures", "flow_logs")


class FlowLog(unittest.TestCase):
    def test_vnet_v4(self):
        tuples = nsgsim.read_flow_log(os.path.join(LOGS, "vnet_v4_chshin9_PT1H.json"))
        self.assertEqual(len(tuples), 76)
        t = tuples[0]
        self.assertEqual(t["version"], 4)
        self.assertEqual(t["rule"], "PlatformRule")
        self.assertEqual((t["protocol"], t["source"], t["destination"], t["destination_port"]),
                         ("tcp", "40.87.164.0", "10.0.5.4", 25800))
        self.assertEqual((t["direction"], t["decision"], t["state"]), ("inbound", "Allow", "B"))
        self.assertEqual(t["pointer"], "/records/0/flowRecords/flows/0/flowGroups/0/flowTuples/0")
        self.assertEqual(sum(1 for t in tuples if t["decision"] == "Deny"), 66)

    def test_nsg_v2_from_gzip_bytes(self):
        with open(os.path.join(LOGS, "elastic_nsg_v2_testdata.json"), "rb") as fh:
            data = gzip.compress(fh.read())
        tuples = nsgsim.read_flow_log(None, data=data, name="sample.json.gz")
        self.assertEqual(len(tuples), 11)
        self.assertEqual(tuples[0]["file"], "sample.json.gz")
        self.assertEqual(tuples[0]["mac"], "000D3AF87856")
        self.assertEqual(tuples[4]["packets_out"], 1)

    def test_errors(self):
        with self.assertRaises(nsgsim.Error) as cm:
            nsgsim.read_flow_log(None, data=b'{"records": [{"flowRecords": {}}]}', name="x.json")
        self.assertEqual(cm.exception.code, nsgsim.NSGSIM_E_MISSING_FIELD)
        self.assertEqual(cm.exception.pointer, "/records/0/flowRecords")
        with self.assertRaises(nsgsim.Error) as cm:
            nsgsim.read_flow_log("no/such/PT1H.json")
        self.assertEqual(cm.exception.code, nsgsim.NSGSIM_E_IO)


if __name__ == "__main__":
    unittest.main()
