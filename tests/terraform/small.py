"""A small estate as state (every id known, azurerm 3's subnet address_prefix)
and a plan over it (azurerm 4's address_prefixes) that replaces the NSG's
HTTPS rule with one for 8080 and deletes the NIC's NSG and its association:
the pull-request question `nsgsim diff --before state.json --after plan.json`.
And plans whose unknowns matter: a rule prefix from a public IP created by
the same plan, an association whose subnet comes from a local."""
from build_fixtures import SUB, UNKNOWN, Ref, Res, plan, state, write

RG = "rg-small"
BASE = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network"


def rule(name, priority, access, dport, src="*"):
    return {"name": name, "priority": priority, "direction": "Inbound", "access": access,
            "protocol": "Tcp", "source_port_range": "*", "source_port_ranges": [],
            "destination_port_range": dport, "destination_port_ranges": [],
            "source_address_prefix": src, "source_address_prefixes": [],
            "destination_address_prefix": "*", "destination_address_prefixes": [],
            "source_application_security_group_ids": [],
            "destination_application_security_group_ids": [], "description": ""}


def estate(rules, prefix_key, with_nic_nsg):
    subnet = {"name": "snet-a", prefix_key: "10.10.1.0/24" if prefix_key == "address_prefix"
              else ["10.10.1.0/24"], "security_group": f"{BASE}/networkSecurityGroups/nsg-a",
              "id": f"{BASE}/virtualNetworks/vnet-a/subnets/snet-a"}
    res = [
        Res("", "azurerm_network_security_group", "a", {
            "name": "nsg-a", "resource_group_name": RG, "location": "westeurope",
            "security_rule": rules}, state_id=f"{BASE}/networkSecurityGroups/nsg-a",
            actions=("update",)),
        Res("", "azurerm_virtual_network", "a", {
            "name": "vnet-a", "resource_group_name": RG, "location": "westeurope",
            "address_space": ["10.10.0.0/16"], "subnet": [subnet]},
            state_id=f"{BASE}/virtualNetworks/vnet-a", actions=("no-op",)),
        Res("", "azurerm_network_interface", "a", {
            "name": "nic-a", "resource_group_name": RG, "location": "westeurope",
            "ip_configuration": [{
                "name": "ipconfig1", "subnet_id": subnet["id"], "private_ip_address": "10.10.1.4",
                "private_ip_address_allocation": "Static", "private_ip_address_version": "IPv4",
                "primary": True}]}, state_id=f"{BASE}/networkInterfaces/nic-a", actions=("no-op",)),
    ]
    nic_nsg = [
        Res("", "azurerm_network_security_group", "nic", {
            "name": "nsg-nic", "resource_group_name": RG, "location": "westeurope",
            "security_rule": [{**rule("Deny-All-In", 100, "Deny", "*"), "protocol": "*"}]},
            state_id=f"{BASE}/networkSecurityGroups/nsg-nic"),
        Res("", "azurerm_network_interface_security_group_association", "nic", {
            "network_interface_id": f"{BASE}/networkInterfaces/nic-a",
            "network_security_group_id": f"{BASE}/networkSecurityGroups/nsg-nic"},
            state_id=f"{BASE}/networkInterfaces/nic-a|{BASE}/networkSecurityGroups/nsg-nic"),
    ]
    return res + (nic_nsg if with_nic_nsg else []), nic_nsg


def build():
    before, _ = estate([rule("Allow-Https", 100, "Allow", "443"),
                        rule("Deny-Ssh", 200, "Deny", "22", src="Internet")],
                       "address_prefix", True)
    write("small/state.json", state(before))
    after, deleted = estate([rule("Allow-Http-8080", 100, "Allow", "8080"),
                             rule("Deny-Ssh", 200, "Deny", "22", src="Internet")],
                            "address_prefixes", False)
    for r in after:
        r.attrs = {"id": r.state_id, **r.attrs}
    write("small/plan.json", plan(after, deleted=deleted, subscription=None))

    pip = Res("", "azurerm_public_ip", "lb", {"name": "pip-lb", "resource_group_name": RG,
                                              "ip_address": UNKNOWN, "id": UNKNOWN})
    nsg = Res("", "azurerm_network_security_group", "edge", {
        "name": "nsg-edge", "resource_group_name": RG, "location": "westeurope",
        "security_rule": [{**rule("Allow-From-Lb", 100, "Allow", "443"),
                           "source_address_prefix": Ref("azurerm_public_ip.lb.ip_address")}],
        "id": UNKNOWN})
    write("errors/unknown_prefix.json", plan([pip, nsg]))
    assoc = Res("", "azurerm_subnet_network_security_group_association", "edge", {
        "subnet_id": Ref("local.subnet_id"),
        "network_security_group_id": Ref("azurerm_network_security_group.edge.id"),
        "id": UNKNOWN})
    nsg2 = Res("", "azurerm_network_security_group", "edge", {
        "name": "nsg-edge", "resource_group_name": RG, "location": "westeurope",
        "security_rule": [rule("Allow-Https", 100, "Allow", "443")], "id": UNKNOWN})
    write("errors/local_subnet.json", plan([nsg2, assoc]))
