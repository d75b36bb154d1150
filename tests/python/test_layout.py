"""The ctypes struct mirrors against the library's own rendering.

There is no sizeof export, so the layout is checked by round-tripping: for
every fixture flow, each field read from the nsgsim_result struct (and from
nsgsim_rule_detail and nsgsim_port_outcome) must equal what
nsgsim_result_render put in the JSON.  A field out of place or of the wrong
size shifts everything after it and shows up here."""

import ipaddress
import json
import os
import unittest

import nsgsim
from nsgsim import _lib

from . import support

DEFAULT_RULES = {"AllowVnetInBound", "AllowAzureLoadBalancerInBound", "DenyAllInBound",
                 "AllowVnetOutBound", "AllowInternetOutBound", "DenyAllOutBound"}
ACCESS = _lib.ACCESS_NAMES


def rule_json(ref):
    if ref.name is None:
        return None
    return {"name": _lib.text(ref.name), "priority": ref.priority,
            "access": ACCESS[ref.access], "id": _lib.text(ref.id)}


def source_port_env():
    """The W3 fixture with an outbound NSG rule that denies source ports 1000-2000."""
    base = "fixtures/semantics/w3_ip_flow_verify_default_vm/env"
    docs = {}
    for name in sorted(os.listdir(base)):
        with open(os.path.join(base, name), encoding="utf-8") as f:
            docs[name] = json.load(f)
    nsg = docs["networkSecurityGroups.json"]["value"][0]
    nsg["properties"]["securityRules"] = [{
        "name": "Deny-Low-Source-Ports",
        "id": nsg["id"] + "/securityRules/Deny-Low-Source-Ports",
        "properties": {
            "protocol": "Tcp", "sourcePortRange": "1000-2000", "destinationPortRange": "*",
            "sourceAddressPrefix": "*", "destinationAddressPrefix": "*", "access": "Deny",
            "priority": 100, "direction": "Outbound",
        },
    }]
    return {name: json.dumps(doc) for name, doc in docs.items()}


class TestLayout(unittest.TestCase):
    def check_result(self, r, row=None):
        c = r._c
        d = r.to_dict()
        self.assertEqual(d["verdict"], "Allow" if c.verdict == _lib.NSGSIM_ALLOW else "Deny")
        self.assertIn(c.verdict, (_lib.NSGSIM_ALLOW, _lib.NSGSIM_DENY))
        db = d["decidedBy"]
        self.assertEqual(db["layer"], _lib.LAYER_NAMES[c.decided_layer])
        self.assertEqual(db["rule"], _lib.text(c.decided_rule.name))
        self.assertEqual(db["endpoint"], _lib.ENDPOINT_NAMES[c.decided_endpoint])
        self.assertEqual(db["resource"], _lib.text(c.decided_resource))
        if c.decided_rule.name is not None:
            self.assertEqual(db["priority"], c.decided_rule.priority)
            self.assertEqual(db["access"], ACCESS[c.decided_rule.access])
            self.assertEqual(bool(c.decided_rule.is_default),
                             _lib.text(c.decided_rule.name) in DEFAULT_RULES)
        # the flow struct
        fl = d["flow"]
        self.assertEqual(fl["protocol"].lower(), r.flow.protocol)
        self.assertEqual(ipaddress.ip_address(fl["source"]), ipaddress.ip_address(r.flow.source))
        self.assertEqual(ipaddress.ip_address(fl["destination"]),
                         ipaddress.ip_address(r.flow.destination))
        self.assertEqual(fl["sourcePort"], None if c.src_port < 0 else c.src_port)
        self.assertEqual(fl["sourcePort"], r.source_port)
        self.assertEqual(fl["destinationPort"], r.flow.destination_port)
        # the sides
        self.assertIn(c.n_sides, (1, 2))
        self.assertEqual(len(d["evaluations"]), c.n_sides)
        for i, e in enumerate(d["evaluations"]):
            s = c.sides[i]
            self.assertEqual(e["endpoint"], _lib.ENDPOINT_NAMES[s.endpoint])
            self.assertEqual(e["direction"],
                             "Inbound" if s.direction == _lib.NSGSIM_INBOUND else "Outbound")
            self.assertEqual(e["nic"], _lib.text(s.nic))
            self.assertEqual(e["subnet"], _lib.text(s.subnet))
            vnet = _lib.text(s.vnet)
            self.assertTrue(e["subnet"].lower().startswith(vnet.lower() + "/subnets/"),
                            (vnet, e["subnet"]))
            self.assertEqual(e["verdict"], "Allow" if s.verdict == _lib.NSGSIM_ALLOW else "Deny")
            self.assertEqual(e["adminRulesSkipped"], _lib.text(s.admin_skipped))
            self.assertTrue(0 <= s.n_layers <= _lib.NSGSIM_MAX_LAYERS)
            self.assertEqual(len(e["layers"]), s.n_layers)
            for k, j in enumerate(e["layers"]):
                lay = s.layers[k]
                self.assertEqual(j["layer"], _lib.LAYER_NAMES[lay.layer])
                self.assertEqual(j["resource"], _lib.text(lay.resource))
                self.assertEqual(j["appliedTo"], _lib.text(lay.applied_to))
                self.assertEqual(j["matchedRule"], rule_json(lay.rule))
                self.assertEqual(bool(lay.matched), j["matchedRule"] is not None)
        # the tail of the struct
        self.assertEqual([a["id"] for a in d["assumptions"]], r.assumptions)
        self.assertEqual(bool(c.one_sided), r.one_sided)
        self.assertIn(c.src_modelled, (0, 1))
        self.assertIn(c.dst_modelled, (0, 1))
        self.assertTrue(c.src_modelled or c.dst_modelled)
        if row is not None:
            self.assertEqual(r.one_sided, row.at is not None)
            if not row.at and (c.verdict == _lib.NSGSIM_ALLOW
                               or c.decided_endpoint != 1):
                # both modelled sides were evaluated
                self.assertEqual(c.n_sides, c.src_modelled + c.dst_modelled)
            elif not row.at:
                self.assertEqual(c.n_sides, 1)  # the source denied: no second side
        # nsgsim_rule_detail against the verbose rendering
        v = r.to_dict(verbose=True)
        for i, e in enumerate(v["evaluations"]):
            for k, j in enumerate(e["layers"]):
                details = r.rule_details(i, k)
                for det in details:
                    self.assertEqual(det.pop("isDefault"), det["name"] in DEFAULT_RULES)
                self.assertEqual(details, j["rules"])
        return d

    def test_every_fixture_flow(self):
        n = 0
        for fixture in support.flow_tables():
            with support.load_fixture(fixture) as policy:
                for row in support.read_rows(fixture):
                    with self.subTest(row=str(row)):
                        self.check_result(policy.evaluate(row.flow, **row.kwargs()), row)
                        n += 1
        self.assertGreaterEqual(n, 290)

    def test_source_port_outcomes(self):
        with nsgsim.load(env_json=source_port_env(),
                         service_tags=support.DEFAULT_TAGS) as policy:
            r = policy.evaluate("tcp 10.0.0.4 13.107.21.200:80")
            self.assertIn("source-ports-differ", r.assumptions)
            self.assertFalse(r.allowed)
            self.assertEqual(r.source_port, 1000)
            self.assertEqual(r.decided_by, ("NicNsg", "Deny-Low-Source-Ports", "source"))
            d = self.check_result(r)
            ranges = policy.source_ports("tcp 10.0.0.4 13.107.21.200:80")
            self.assertEqual(ranges, d["sourcePorts"])
            self.assertEqual([(x["from"], x["to"], x["verdict"]) for x in ranges],
                             [(0, 999, "Allow"), (1000, 2000, "Deny"), (2001, 65535, "Allow")])
            self.assertEqual(policy.source_ports(protocol="tcp", source="10.0.0.4",
                                                 destination="13.107.21.200",
                                                 destination_port=80), ranges)
            ok = policy.evaluate("tcp 10.0.0.4:2001 13.107.21.200:80")
            self.assertTrue(ok.allowed)
            self.check_result(ok)


if __name__ == "__main__":
    unittest.main()
