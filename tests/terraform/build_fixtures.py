#!/usr/bin/env python3
"""Writes the Terraform fixtures in fixtures/terraform/ in the shape
`terraform show -json` prints (format 1.2; see
https://developer.hashicorp.com/terraform/internals/json-format): for a plan,
planned_values (the state after apply, unknown values left out),
resource_changes (after, after_unknown) and configuration (each attribute's
constant_value or references, module_calls); for state, values with every id.

The environments are written here once, compactly; run it again after
changing them (python3 tests/terraform/build_fixtures.py)."""
import copy
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "fixtures", "terraform")
SUB = "11111111-2222-3333-4444-555555555555"
RG = "rg-net"
PROVIDER = "registry.terraform.io/hashicorp/azurerm"

UNKNOWN = object()  # a value known only after apply


class Ref:
    """An expression that references other objects (configuration)."""

    def __init__(self, *refs, value=UNKNOWN):
        self.refs = list(refs)
        self.value = value


def expand_refs(refs):
    """Terraform lists a.b.c, then a.b (and a["k"] then a) for each traversal."""
    out = []
    for r in refs:
        parts = [r]
        head = r
        while True:
            if head.endswith("]"):
                head = head[: head.rindex("[")]
            elif head.count(".") > 1:
                head = head[: head.rindex(".")]
            else:
                break
            parts.append(head)
        for p in parts:
            if p not in out:
                out.append(p)
    return out


def split(attrs):
    """attrs -> (after values, after_unknown, configuration expressions)."""
    vals, unk, expr = {}, {}, {}
    for k, v in attrs.items():
        if isinstance(v, Ref):
            expr[k] = {"references": expand_refs(v.refs)}
            if v.value is UNKNOWN:
                unk[k] = True
            else:
                vals[k] = v.value
        elif isinstance(v, list) and v and all(isinstance(b, dict) for b in v):
            bv, bu, be = [], [], []
            for b in v:
                x, y, z = split(b)
                bv.append(x)
                bu.append(y)
                be.append(z)
            vals[k], expr[k] = bv, be
            if any(bu):
                unk[k] = bu
        elif v is UNKNOWN:
            unk[k] = True
        else:
            vals[k] = v
            expr[k] = {"constant_value": v}
    return vals, unk, expr


class Res:
    def __init__(self, module, type_, name, attrs, index=None, state_id=None, actions=("create",),
                 count=None, for_each=None):
        self.module, self.type, self.name, self.attrs = module, type_, name, attrs
        self.index, self.state_id, self.actions = index, state_id, list(actions)
        self.count, self.for_each = count, for_each

    @property
    def address(self):
        a = f"{self.type}.{self.name}"
        if self.index is not None:
            a += f'["{self.index}"]' if isinstance(self.index, str) else f"[{self.index}]"
        return f"{self.module}.{a}" if self.module else a


def module_tree(resources, values_of):
    root = {"resources": []}
    mods = {"": root}

    def node(addr):
        if addr in mods:
            return mods[addr]
        parent = addr[: addr.rindex(".module.")] if ".module." in addr else ""
        n = {"address": addr, "resources": []}
        node(parent).setdefault("child_modules", []).append(n)
        mods[addr] = n
        return n

    for r in resources:
        entry = {"address": r.address, "mode": "managed", "type": r.type, "name": r.name}
        if r.index is not None:
            entry["index"] = r.index
        entry.update({"provider_name": PROVIDER, "schema_version": 0,
                      "values": values_of(r), "sensitive_values": {}})
        node(r.module)["resources"].append(entry)
    return root


def config_module_key(module):
    """module.a["x"].module.b -> ["a", "b"]"""
    out = []
    for seg in module.split(".module.") if module else []:
        seg = seg[len("module."):] if seg.startswith("module.") else seg
        out.append(seg.split("[")[0])
    return out


def configuration(resources, module_calls, outputs, subscription):
    root = {"resources": []}
    seen = set()

    def cfg_node(path):
        n = root
        for name in path:
            n = n.setdefault("module_calls", {}).setdefault(name, {"source": f"./modules/{name}", "module": {"resources": []}})["module"]
        return n

    for path, calls in module_calls.items():
        n = cfg_node(path)
        for name, call in calls.items():
            c = n.setdefault("module_calls", {}).setdefault(name, {"source": f"./modules/{name}", "module": {"resources": []}})
            c["expressions"] = {k: split({k: v})[2][k] for k, v in call["expressions"].items()}
            if "for_each" in call:
                c["for_each_expression"] = {"references": expand_refs(call["for_each"])}
    for path, outs in outputs.items():
        n = cfg_node(path)
        n["outputs"] = {k: {"expression": {"references": expand_refs(v)}} for k, v in outs.items()}
    for r in resources:
        path = config_module_key(r.module)
        key = (tuple(path), r.type, r.name)
        if key in seen:
            continue
        seen.add(key)
        entry = {"address": f"{r.type}.{r.name}", "mode": "managed", "type": r.type, "name": r.name,
                 "provider_config_key": "azurerm", "expressions": split(r.attrs)[2], "schema_version": 0}
        if r.count:
            entry["count_expression"] = {"constant_value": r.count}
        if r.for_each:
            entry["for_each_expression"] = {"references": expand_refs(r.for_each)}
        cfg_node(path)["resources"].append(entry)
    prov = {"name": "azurerm", "full_name": PROVIDER, "expressions": {"features": [{}]}}
    if subscription:
        prov["expressions"]["subscription_id"] = {"constant_value": subscription}
    return {"provider_config": {"azurerm": prov}, "root_module": root}


def plan(resources, module_calls=None, outputs=None, deleted=(), subscription=SUB):
    live = [r for r in resources]
    doc = {
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "planned_values": {"root_module": module_tree(live, lambda r: split(r.attrs)[0])},
        "resource_changes": [],
        "configuration": configuration(live, module_calls or {}, outputs or {}, subscription),
    }
    for r in live + list(deleted):
        vals, unk, _ = split(r.attrs)
        ch = {"address": r.address}
        if r.module:
            ch["module_address"] = r.module
        ch.update({"mode": "managed", "type": r.type, "name": r.name})
        if r.index is not None:
            ch["index"] = r.index
        deleting = r in deleted
        ch["provider_name"] = PROVIDER
        ch["change"] = {"actions": ["delete"] if deleting else r.actions,
                        "before": copy.deepcopy(vals) if deleting or r.actions != ["create"] else None,
                        "after": None if deleting else vals,
                        "after_unknown": {} if deleting else unk,
                        "before_sensitive": False, "after_sensitive": {}}
        doc["resource_changes"].append(ch)
    return doc


def state(resources):
    def values(r):
        vals = split(r.attrs)[0]
        if r.state_id:
            vals = {"id": r.state_id, **vals}
        return vals
    return {"format_version": "1.0", "terraform_version": "1.9.8",
            "values": {"root_module": module_tree(resources, values)}}


def write(name, doc):
    os.makedirs(os.path.dirname(os.path.join(OUT, name)), exist_ok=True)
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    import hub_spoke
    import small

    hub_spoke.build()
    small.build()
