"""The hub-and-spoke estate of hub_spoke.py written independently as ARM REST
JSON (what `az` and the REST API return once it is deployed), for the test
that both give identical answers.  python3 tests/terraform/hub_spoke_rest.py"""
import json
import os

SUB = "11111111-2222-3333-4444-555555555555"
P = f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network"
MGR = f"{P}/networkManagers/avnm-net"


def ref(i):
    return {"id": i}


def rule(name, priority, access, protocol, dport, src=None, srcs=None, dst="*", dst_asgs=None):
    p = {"priority": priority, "direction": "Inbound", "access": access, "protocol": protocol,
         "sourcePortRange": "*", "destinationPortRange": dport}
    if src:
        p["sourceAddressPrefix"] = src
    if srcs:
        p["sourceAddressPrefixes"] = srcs
    if dst_asgs:
        p["destinationApplicationSecurityGroups"] = [ref(a) for a in dst_asgs]
    else:
        p["destinationAddressPrefix"] = dst
    return {"name": name, "properties": p}


def nsg(name, rules):
    return {"type": "Microsoft.Network/networkSecurityGroups", "id": f"{P}/networkSecurityGroups/{name}",
            "name": name, "properties": {"securityRules": rules}}


def vnet(name, space, subnets, peerings):
    return {"type": "Microsoft.Network/virtualNetworks", "id": f"{P}/virtualNetworks/{name}",
            "name": name, "properties": {
                "addressSpace": {"addressPrefixes": [space]},
                "subnets": [{"name": s, "id": f"{P}/virtualNetworks/{name}/subnets/{s}",
                             "properties": props} for s, props in subnets],
                "virtualNetworkPeerings": [
                    {"name": pn, "id": f"{P}/virtualNetworks/{name}/virtualNetworkPeerings/{pn}",
                     "properties": {"remoteVirtualNetwork": ref(f"{P}/virtualNetworks/{remote}"),
                                    "allowVirtualNetworkAccess": True}}
                    for pn, remote in peerings]}}


def admin_rule(name, access, priority, dport, src, src_type):
    return {"type": "Microsoft.Network/networkManagers/securityAdminConfigurations/ruleCollections/rules",
            "id": f"{MGR}/securityAdminConfigurations/sac-baseline/ruleCollections/rc-baseline/rules/{name}",
            "name": name, "kind": "Custom", "properties": {
                "access": access, "direction": "Inbound", "priority": priority, "protocol": "Tcp",
                "destinationPortRanges": [dport],
                "sources": [{"addressPrefix": src, "addressPrefixType": src_type}],
                "destinations": [{"addressPrefix": "*", "addressPrefixType": "IPPrefix"}]}}


def build():
    spoke_rules = [rule("Allow-Hub-Https", 100, "Allow", "Tcp", "443", src="10.0.0.0/16"),
                   rule("Deny-Rdp", 300, "Deny", "Tcp", "3389", src="*")]
    rt = f"{P}/routeTables/rt-spokes"
    res = [
        nsg("nsg-shared", [
            rule("Allow-Spokes-Https", 100, "Allow", "Tcp", "443", srcs=["10.1.0.0/16", "10.2.0.0/16"]),
            rule("Deny-Db-To-Shared", 200, "Deny", "*", "*", src="10.2.0.0/16")]),
        nsg("nsg-app", spoke_rules),
        nsg("nsg-db", spoke_rules),
        nsg("nsg-web", [
            rule("Allow-Web-8080", 100, "Allow", "Tcp", "8080", src="VirtualNetwork",
                 dst_asgs=[f"{P}/applicationSecurityGroups/asg-web"]),
            rule("Deny-Db-Spoke", 200, "Deny", "*", "*", src="10.2.0.0/16")]),
        {"type": "Microsoft.Network/applicationSecurityGroups",
         "id": f"{P}/applicationSecurityGroups/asg-web", "name": "asg-web"},
        {"type": "Microsoft.Network/routeTables", "id": rt, "name": "rt-spokes", "properties": {
            "routes": [{"name": "to-firewall", "properties": {
                "addressPrefix": "0.0.0.0/0", "nextHopType": "VirtualAppliance",
                "nextHopIpAddress": "10.0.1.4"}}]}},
        {"type": "Microsoft.Network/routeTables/routes", "id": f"{rt}/routes/to-onprem",
         "name": "to-onprem", "properties": {"addressPrefix": "192.168.0.0/16",
                                             "nextHopType": "VirtualNetworkGateway"}},
        vnet("vnet-hub", "10.0.0.0/16",
             [("snet-shared", {"addressPrefixes": ["10.0.1.0/24"],
                               "networkSecurityGroup": ref(f"{P}/networkSecurityGroups/nsg-shared")})],
             [("to-app", "vnet-app"), ("to-db", "vnet-db")]),
    ]
    for key, prefix in (("app", "10.1"), ("db", "10.2")):
        res.append(vnet(f"vnet-{key}", f"{prefix}.0.0/16",
                        [("snet-workload", {"addressPrefixes": [f"{prefix}.1.0/24"],
                                            "networkSecurityGroup": ref(f"{P}/networkSecurityGroups/nsg-{key}"),
                                            "routeTable": ref(rt)})],
                        [("to-hub", "vnet-hub")]))
    res.append({"type": "Microsoft.Network/networkInterfaces", "id": f"{P}/networkInterfaces/nic-app-0",
                "name": "nic-app-0", "properties": {
                    "networkSecurityGroup": ref(f"{P}/networkSecurityGroups/nsg-web"),
                    "ipConfigurations": [{"name": "ipconfig1", "properties": {
                        "privateIPAddress": "10.1.1.4",
                        "subnet": ref(f"{P}/virtualNetworks/vnet-app/subnets/snet-workload"),
                        "applicationSecurityGroups": [ref(f"{P}/applicationSecurityGroups/asg-web")]}}]}})
    res.append({"type": "Microsoft.Network/networkInterfaces", "id": f"{P}/networkInterfaces/nic-db-0",
                "name": "nic-db-0", "properties": {
                    "ipConfigurations": [{"name": "ipconfig1", "properties": {
                        "subnet": ref(f"{P}/virtualNetworks/vnet-db/subnets/snet-workload")}}]}})
    res += [
        {"type": "Microsoft.Network/networkManagers", "id": MGR, "name": "avnm-net", "properties": {
            "networkManagerScopes": {"subscriptions": [f"/subscriptions/{SUB}"]}}},
        {"type": "Microsoft.Network/networkManagers/networkGroups", "id": f"{MGR}/networkGroups/ng-spokes",
         "name": "ng-spokes", "properties": {}},
    ]
    for key in ("app", "db"):
        res.append({"type": "Microsoft.Network/networkManagers/networkGroups/staticMembers",
                    "id": f"{MGR}/networkGroups/ng-spokes/staticMembers/sm-{key}", "name": f"sm-{key}",
                    "properties": {"resourceId": f"{P}/virtualNetworks/vnet-{key}"}})
    res += [
        {"type": "Microsoft.Network/networkManagers/securityAdminConfigurations",
         "id": f"{MGR}/securityAdminConfigurations/sac-baseline", "name": "sac-baseline",
         "properties": {"applyOnNetworkIntentPolicyBasedServices": ["None"]}},
        {"type": "Microsoft.Network/networkManagers/securityAdminConfigurations/ruleCollections",
         "id": f"{MGR}/securityAdminConfigurations/sac-baseline/ruleCollections/rc-baseline",
         "name": "rc-baseline", "properties": {
             "appliesToGroups": [{"networkGroupId": f"{MGR}/networkGroups/ng-spokes"}]}},
        admin_rule("Deny-Ssh-Internet", "Deny", 10, "22", "Internet", "ServiceTag"),
        admin_rule("AlwaysAllow-Hub-Rdp", "AlwaysAllow", 20, "3389", "10.0.1.0/24", "IPPrefix"),
    ]
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures",
                       "terraform", "hub_spoke", "rest.json")
    with open(out, "w") as f:
        json.dump({"value": res}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    build()
