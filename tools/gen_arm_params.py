#!/usr/bin/env python3
"""Write fixtures/arm_quickstart/params/<path>.parameters.json for every template
in fixtures/arm_quickstart/index.csv: the value a user would give for each
parameter that has no defaultValue, in the `az deployment` parameters file
format.  Deterministic (no randomness, no clock); run once, output committed.

    python3 tools/gen_arm_params.py [--check]

--check regenerates in memory and exits 1 if any committed file differs.
Templates whose parameters all have defaults get no file."""

import csv
import json
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "arm_quickstart")
SCHEMA = "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#"
PASSWORD = "Nsgsim-Passw0rd!2026"  # upper, lower, digit, symbol; 20 chars
SSH_KEY = ("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC" + "nsgsimPlaceholderKey0123456789" * 8 + " azureuser@nsgsim")
GUIDS = ["00000000-0000-4000-8000-0000000000%02d" % i for i in range(1, 100)]


def params_path(template_path):
	rel = template_path[len("templates/"):] if template_path.startswith("templates/") else template_path
	return os.path.join("params", rel[:-len(".json")] + ".parameters.json")


class Cidrs:
	"""Plausible, consistent address space per template: the VNet gets
	10.0.0.0/16 and each subnet-like parameter the next 10.0.N.0/24, in
	declaration order; other ranges (remote, on-premises) 192.168.N.0/24."""

	def __init__(self):
		self.subnet = 0
		self.other = 0

	def value(self, lname):
		if re.search(r"(remote|local|onprem|allowed|source|client)", lname) and "subnet" not in lname:
			self.other += 1
			return "192.168.%d.0/24" % self.other
		if re.search(r"(vnet|virtualnetwork)", lname) or lname in ("addressprefix", "addressspace"):
			return "10.0.0.0/16"
		self.subnet += 1
		return "10.0.%d.0/24" % self.subnet


def is_cidr_name(lname):
	return bool(re.search(r"(addressprefix|addressrange|addressspace|cidr|subnetprefix|subnet\d*prefix)", lname)) and not re.search(
		r"(dns|name|storage)", lname)


def string_value(name, spec, ctx):
	lname = name.lower().replace("-", "").replace("_", "")
	if is_cidr_name(lname):
		return ctx["cidrs"].value(lname)
	if re.search(r"(password|secret|passwd|pass$|adminkey|sharedkey|accountkey|apikey|token|masterkey|license)", lname):
		return PASSWORD
	if "passwordorkey" in lname or "sshkey" in lname or "publickey" in lname or "pubkey" in lname or "sshpub" in lname:
		return SSH_KEY
	if re.search(r"(ipaddress|staticip|^ip$|gatewayip)", lname) and not re.search(r"(name|dns|sku|type)", lname):
		ctx["ip"] += 1
		return "10.0.1.%d" % (3 + ctx["ip"])
	if re.search(r"(ingress|allowed?from|sourceip|from)(location)?$", lname):
		ctx["cidrs"].other += 1  # who may connect: a client range, not a region
		return "192.168.%d.0/24" % ctx["cidrs"].other
	if re.search(r"(location|region)$", lname):
		return "westeurope"
	if re.search(r"(user|login)", lname) and "password" not in lname:
		return "azureuser"
	if "email" in lname:
		return "admin@example.com"
	if re.search(r"(guid|tenantid|clientid|applicationid|subscriptionid|principalid|ownerid|appid)", lname):
		ctx["guid"] += 1
		return GUIDS[ctx["guid"] - 1]
	if re.search(r"(url|uri|endpoint)$", lname) or lname == "artifactslocation":
		return "https://example.com/nsgsim/"
	if re.search(r"(port)", lname):
		return "8080"
	if re.search(r"(count|number|num|size)ingb$|^num|count$", lname):
		return "2"
	if re.search(r"(^|[^a-z])id$|ref$|resourceid$", lname) or lname.endswith("id"):
		return "/subscriptions/%s/resourceGroups/nsgsim-rg/providers/Microsoft.Network/virtualNetworks/vnet1/subnets/subnet1" % GUIDS[0]
	# DNS labels, names, prefixes and the rest: a lowercase label unique per
	# template and parameter (DNS labels must be unique in a region).
	label = re.sub(r"[^a-z0-9]", "", name.lower())[:12] or "p"
	return "nsg%s%s" % (ctx["tag"], label)


def fit_string(value, spec):
	lo, hi = spec.get("minLength"), spec.get("maxLength")
	if hi is not None and len(value) > hi:
		value = value[:hi]
	if lo is not None and len(value) < lo:
		value = value + "x" * (lo - len(value))
	return value


def int_value(name, spec):
	lname = name.lower()
	v = 2
	if "port" in lname:
		v = 8080
	elif re.search(r"(size|gb)", lname):
		v = 128
	if "minValue" in spec and v < spec["minValue"]:
		v = spec["minValue"]
	if "maxValue" in spec and v > spec["maxValue"]:
		v = spec["maxValue"]
	return v


def member_uses(text, name):
	"""The member paths a template reads of parameters('name'): .a.b and ['a']."""
	paths = {}
	pat = re.compile(r"parameters\(\s*'%s'\s*\)((?:\.[A-Za-z_][A-Za-z0-9_]*|\['[^']*'\])+)(\[)?" % re.escape(name),
	                 re.IGNORECASE)
	for m in pat.finditer(text):
		parts = re.findall(r"\.([A-Za-z_][A-Za-z0-9_]*)|\['([^']*)'\]", m.group(1))
		path = tuple(a or b for a, b in parts)
		# ARM compares member names without case: one spelling per member
		paths.setdefault(tuple(k.lower() for k in path), (path, bool(m.group(2))))
	return sorted(paths.values())


def leaf_value(path, ctx, indexed):
	name = path[-1]
	lname = name.lower()
	if lname == "prefix" and re.search(r"(subnet|vnet|network|address)", " ".join(path).lower()):
		return ctx["cidrs"].value("subnet")  # networkSettings.subnet.prefix
	if indexed:  # read as x[copyIndex()]: an array, one item per copy
		return [string_value(name, {}, ctx) + str(i) for i in range(2)]
	if re.search(r"(count$|^num|number)", lname):
		return 2
	if re.search(r"(switch|enabled|flag)$|^(is|enable|use|has)[a-z]", lname):
		return False
	return string_value(name, {}, ctx)


def object_value(name, ctx):
	"""An object with every member the template reads, each a plausible value
	for its name (a count is an integer)."""
	obj = {}
	for path, indexed in member_uses(ctx["text"], name):
		node = obj
		for k in path[:-1]:
			if not isinstance(node.get(k), dict):
				node[k] = {}
			node = node[k]
		if path[-1] not in node:
			node[path[-1]] = leaf_value(path, ctx, indexed)
	return obj


def value_for(name, spec, ctx):
	if "allowedValues" in spec and spec["allowedValues"]:
		return spec["allowedValues"][0]
	t = str(spec.get("type", "string")).lower()
	lname = name.lower()
	if t in ("string", "securestring"):
		return fit_string(string_value(name, spec, ctx), spec)
	if t == "int":
		return int_value(name, spec)
	if t == "bool":
		return False
	if t == "array":
		if re.search(r"(ips|prefixes|cidrs|addresses)$", lname):
			return ["10.0.0.0/16"]
		return []
	return object_value(name, ctx)  # object, secureobject


def default_fits(name, spec):
	"""A default of the declared type (or an expression): a user need not
	give a value.  Some nested templates default an object to "" or an int to
	"4"; their parent always passes one, and so would a user."""
	v, t = spec["defaultValue"], str(spec.get("type", "string")).lower()
	if isinstance(v, str) and v.startswith("[") and not v.startswith("[["):
		return True
	if v == "" and "port" in name.lower():
		return False  # a port left empty for the parent template to give
	return {"int": isinstance(v, int) and not isinstance(v, bool), "bool": isinstance(v, bool),
	        "object": isinstance(v, dict), "secureobject": isinstance(v, dict),
	        "array": isinstance(v, list)}.get(t, isinstance(v, str))


def generate(template_path, index):
	with open(os.path.join(ROOT, template_path), encoding="utf-8-sig") as f:
		text = f.read()
	t = json.loads(text)
	ctx = {"cidrs": Cidrs(), "ip": 0, "guid": 0, "tag": "%03d" % index, "text": text}
	out = {}
	for name, spec in (t.get("parameters") or {}).items():
		if not isinstance(spec, dict) or ("defaultValue" in spec and default_fits(name, spec)):
			continue
		out[name] = {"value": value_for(name, spec, ctx)}
	return out


def render(params):
	doc = {"$schema": SCHEMA, "contentVersion": "1.0.0.0", "parameters": params}
	return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def main(argv):
	check = "--check" in argv
	with open(os.path.join(ROOT, "index.csv"), newline="") as f:
		rows = list(csv.DictReader(f))
	written = diff = nvalues = 0
	for i, row in enumerate(rows):
		params = generate(row["template_path"], i)
		if not params:
			continue
		written += 1
		nvalues += len(params)
		path = os.path.join(ROOT, params_path(row["template_path"]))
		text = render(params)
		if check:
			try:
				with open(path, encoding="utf-8") as f:
					diff += f.read() != text
			except FileNotFoundError:
				diff += 1
			continue
		os.makedirs(os.path.dirname(path), exist_ok=True)
		with open(path, "w", encoding="utf-8") as f:
			f.write(text)
	print("%d templates in index.csv, %d need parameters (%d values), %d without" %
	      (len(rows), written, nvalues, len(rows) - written))
	if check and diff:
		print("%d parameter files differ from the generator" % diff)
		return 1
	return 0


if __name__ == "__main__":
	sys.exit(main(sys.argv[1:]))
