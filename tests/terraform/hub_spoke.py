"""Hub and spokes in one plan: a hub VNet with a shared subnet whose NSG has
standalone rules (found by NSG name and resource group), two spokes made by
one module with for_each (VNet, subnet, NSG with inline rules, associations,
a peering to the hub, a NIC made with count), hub-to-spoke peerings with
for_each over the module, a route table, an ASG and a NIC-level NSG
associated to the app spoke's NIC, and an AVNM manager whose deployed
configuration denies SSH from the Internet and always allows RDP from the
hub, plus a configuration no deployment lists.  Ids of resources to be
created are unknown (after_unknown), as in a real plan; the db NIC's
address is dynamic (unknown)."""
from build_fixtures import RG, SUB, UNKNOWN, Ref, Res, plan, state, write

RGREF = Ref("azurerm_resource_group.net.name", value=RG)
VARRG = Ref("var.resource_group_name", value=RG)


def rule(name, priority, access, protocol, src, dport, direction="Inbound", dst="*", **extra):
    r = {"name": name, "priority": priority, "direction": direction, "access": access,
         "protocol": protocol, "source_port_range": "*", "source_port_ranges": [],
         "destination_port_range": dport, "destination_port_ranges": [],
         "source_address_prefix": src if isinstance(src, str) else "",
         "source_address_prefixes": src if isinstance(src, list) else [],
         "destination_address_prefix": dst, "destination_address_prefixes": [],
         "source_application_security_group_ids": [],
         "destination_application_security_group_ids": [], "description": ""}
    r.update(extra)
    return r


def spoke(key, prefix, vm_ip):
    m = f'module.spoke["{key}"]'
    nic_ip = {"private_ip_address_allocation": "Static", "private_ip_address": vm_ip} if vm_ip else \
        {"private_ip_address_allocation": "Dynamic", "private_ip_address": UNKNOWN}
    return [
        Res(m, "azurerm_virtual_network", "this", {
            "name": f"vnet-{key}", "resource_group_name": VARRG, "location": "westeurope",
            "address_space": [f"{prefix}.0.0/16"], "subnet": UNKNOWN, "id": UNKNOWN}),
        Res(m, "azurerm_subnet", "workload", {
            "name": "snet-workload", "resource_group_name": VARRG,
            "virtual_network_name": Ref("azurerm_virtual_network.this.name", value=f"vnet-{key}"),
            "address_prefixes": [f"{prefix}.1.0/24"], "id": UNKNOWN}),
        Res(m, "azurerm_network_security_group", "this", {
            "name": f"nsg-{key}", "resource_group_name": VARRG, "location": "westeurope",
            "security_rule": [
                rule("Allow-Hub-Https", 100, "Allow", "Tcp", "10.0.0.0/16", "443"),
                rule("Deny-Rdp", 300, "Deny", "Tcp", "*", "3389"),
            ], "id": UNKNOWN}),
        Res(m, "azurerm_subnet_network_security_group_association", "this", {
            "subnet_id": Ref("azurerm_subnet.workload.id"),
            "network_security_group_id": Ref("azurerm_network_security_group.this.id"),
            "id": UNKNOWN}),
        Res(m, "azurerm_subnet_route_table_association", "this", {
            "subnet_id": Ref("azurerm_subnet.workload.id"),
            "route_table_id": Ref("var.route_table_id"), "id": UNKNOWN}),
        Res(m, "azurerm_virtual_network_peering", "to_hub", {
            "name": "to-hub", "resource_group_name": VARRG,
            "virtual_network_name": Ref("azurerm_virtual_network.this.name", value=f"vnet-{key}"),
            "remote_virtual_network_id": Ref("var.hub_vnet_id"),
            "allow_virtual_network_access": True, "allow_forwarded_traffic": True,
            "id": UNKNOWN}),
        Res(m, "azurerm_network_interface", "vm", {
            "name": f"nic-{key}-0", "resource_group_name": VARRG, "location": "westeurope",
            "ip_configuration": [{
                "name": "ipconfig1", "subnet_id": Ref("azurerm_subnet.workload.id"),
                "private_ip_address_version": "IPv4", "primary": True, **nic_ip}],
            "private_ip_address": UNKNOWN, "id": UNKNOWN}, index=0, count=1),
    ]


def build():
    spoke_call = {
        "for_each": ["local.spokes"],
        "expressions": {
            "resource_group_name": Ref("azurerm_resource_group.net.name"),
            "hub_vnet_id": Ref("azurerm_virtual_network.hub.id"),
            "route_table_id": Ref("azurerm_route_table.spokes.id"),
            "name": Ref("each.key"), "address_space": Ref("each.value"),
        },
    }
    outputs = {("spoke",): {"vnet_id": ["azurerm_virtual_network.this.id"],
                            "nic_id": ["azurerm_network_interface.vm[0].id"],
                            "nsg_name": ["azurerm_network_security_group.this.name"]}}
    hub = [
        Res("", "azurerm_resource_group", "net", {"name": RG, "location": "westeurope", "id": UNKNOWN}),
        Res("", "azurerm_virtual_network", "hub", {
            "name": "vnet-hub", "resource_group_name": RGREF, "location": "westeurope",
            "address_space": ["10.0.0.0/16"], "subnet": UNKNOWN, "id": UNKNOWN}),
        Res("", "azurerm_subnet", "shared", {
            "name": "snet-shared", "resource_group_name": RGREF,
            "virtual_network_name": Ref("azurerm_virtual_network.hub.name", value="vnet-hub"),
            "address_prefixes": ["10.0.1.0/24"], "id": UNKNOWN}),
        Res("", "azurerm_network_security_group", "shared", {
            "name": "nsg-shared", "resource_group_name": RGREF, "location": "westeurope",
            "security_rule": UNKNOWN, "id": UNKNOWN}),
        Res("", "azurerm_network_security_rule", "shared_https", {
            "name": "Allow-Spokes-Https", "resource_group_name": RGREF,
            "network_security_group_name": Ref("azurerm_network_security_group.shared.name",
                                               value="nsg-shared"),
            "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
            "source_port_range": "*", "destination_port_range": "443",
            "source_address_prefixes": ["10.1.0.0/16", "10.2.0.0/16"],
            "source_address_prefix": None, "destination_address_prefix": "*",
            "id": UNKNOWN}),
        Res("", "azurerm_network_security_rule", "shared_deny_db", {
            "name": "Deny-Db-To-Shared", "resource_group_name": RGREF,
            "network_security_group_name": Ref("azurerm_network_security_group.shared.name",
                                               value="nsg-shared"),
            "priority": 200, "direction": "Inbound", "access": "Deny", "protocol": "*",
            "source_port_range": "*", "destination_port_range": "*",
            "source_address_prefix": "10.2.0.0/16", "destination_address_prefix": "*",
            "id": UNKNOWN}),
        Res("", "azurerm_subnet_network_security_group_association", "shared", {
            "subnet_id": Ref("azurerm_subnet.shared.id"),
            "network_security_group_id": Ref("azurerm_network_security_group.shared.id"),
            "id": UNKNOWN}),
        Res("", "azurerm_route_table", "spokes", {
            "name": "rt-spokes", "resource_group_name": RGREF, "location": "westeurope",
            "route": [{"name": "to-firewall", "address_prefix": "0.0.0.0/0",
                       "next_hop_type": "VirtualAppliance", "next_hop_in_ip_address": "10.0.1.4"}],
            "id": UNKNOWN}),
        Res("", "azurerm_route", "onprem", {
            "name": "to-onprem", "resource_group_name": RGREF,
            "route_table_name": Ref("azurerm_route_table.spokes.name", value="rt-spokes"),
            "address_prefix": "192.168.0.0/16", "next_hop_type": "VirtualNetworkGateway",
            "next_hop_in_ip_address": None, "id": UNKNOWN}),
        Res("", "azurerm_application_security_group", "web", {
            "name": "asg-web", "resource_group_name": RGREF, "location": "westeurope",
            "id": UNKNOWN}),
        Res("", "azurerm_network_security_group", "web", {
            "name": "nsg-web", "resource_group_name": RGREF, "location": "westeurope",
            "security_rule": [
                rule("Allow-Web-8080", 100, "Allow", "Tcp", "VirtualNetwork", "8080", dst="",
                     destination_application_security_group_ids=Ref(
                         "azurerm_application_security_group.web.id")),
                rule("Deny-Db-Spoke", 200, "Deny", "*", "10.2.0.0/16", "*"),
            ], "id": UNKNOWN}),
        Res("", "azurerm_network_interface_security_group_association", "web", {
            "network_interface_id": Ref('module.spoke["app"].nic_id'),
            "network_security_group_id": Ref("azurerm_network_security_group.web.id"),
            "id": UNKNOWN}),
        Res("", "azurerm_network_interface_application_security_group_association", "web", {
            "network_interface_id": Ref('module.spoke["app"].nic_id'),
            "application_security_group_id": Ref("azurerm_application_security_group.web.id"),
            "id": UNKNOWN}),
    ]
    peerings = [Res("", "azurerm_virtual_network_peering", "hub_to_spoke", {
        "name": f"to-{k}", "resource_group_name": RGREF,
        "virtual_network_name": Ref("azurerm_virtual_network.hub.name", value="vnet-hub"),
        "remote_virtual_network_id": Ref("each.value.vnet_id"),
        "allow_virtual_network_access": True, "id": UNKNOWN},
        index=k, for_each=["module.spoke"]) for k in ("app", "db")]
    mgr = Ref("azurerm_network_manager.avnm.id")
    group = Ref("azurerm_network_manager_network_group.spokes.id")

    def admin_rule(name, tf_name, coll, action, priority, protocol, dports, src, src_type, dst="*",
                   dst_type="IPPrefix"):
        return Res("", "azurerm_network_manager_admin_rule", tf_name, {
            "name": name, "admin_rule_collection_id": Ref(coll), "action": action,
            "direction": "Inbound", "priority": priority, "protocol": protocol,
            "source_port_ranges": [], "destination_port_ranges": dports,
            "source": [{"address_prefix": src, "address_prefix_type": src_type}],
            "destination": [{"address_prefix": dst, "address_prefix_type": dst_type}],
            "description": "", "id": UNKNOWN})

    avnm = [
        Res("", "azurerm_network_manager", "avnm", {
            "name": "avnm-net", "resource_group_name": RGREF, "location": "westeurope",
            "scope": [{"subscription_ids": [f"/subscriptions/{SUB}"], "management_group_ids": []}],
            "scope_accesses": ["SecurityAdmin"], "id": UNKNOWN}),
        Res("", "azurerm_network_manager_network_group", "spokes", {
            "name": "ng-spokes", "network_manager_id": mgr, "id": UNKNOWN}),
    ] + [Res("", "azurerm_network_manager_static_member", "spokes", {
        "name": f"sm-{k}", "network_group_id": group,
        "target_virtual_network_id": Ref("each.value.vnet_id"), "id": UNKNOWN},
        index=k, for_each=["module.spoke"]) for k in ("app", "db")] + [
        Res("", "azurerm_network_manager_security_admin_configuration", "baseline", {
            "name": "sac-baseline", "network_manager_id": mgr,
            "apply_on_network_intent_policy_based_services": ["None"], "id": UNKNOWN}),
        Res("", "azurerm_network_manager_admin_rule_collection", "baseline", {
            "name": "rc-baseline",
            "security_admin_configuration_id": Ref(
                "azurerm_network_manager_security_admin_configuration.baseline.id"),
            "network_group_ids": Ref("azurerm_network_manager_network_group.spokes.id"),
            "id": UNKNOWN}),
        admin_rule("Deny-Ssh-Internet", "deny_ssh",
                   "azurerm_network_manager_admin_rule_collection.baseline.id", "Deny", 10, "Tcp",
                   ["22"], "Internet", "ServiceTag"),
        admin_rule("AlwaysAllow-Hub-Rdp", "hub_rdp",
                   "azurerm_network_manager_admin_rule_collection.baseline.id", "AlwaysAllow", 20,
                   "Tcp", ["3389"], "10.0.1.0/24", "IPPrefix"),
        Res("", "azurerm_network_manager_security_admin_configuration", "draft", {
            "name": "sac-draft", "network_manager_id": mgr, "id": UNKNOWN}),
        Res("", "azurerm_network_manager_admin_rule_collection", "draft", {
            "name": "rc-draft",
            "security_admin_configuration_id": Ref(
                "azurerm_network_manager_security_admin_configuration.draft.id"),
            "network_group_ids": Ref("azurerm_network_manager_network_group.spokes.id"),
            "id": UNKNOWN}),
        admin_rule("Deny-Everything-Draft", "draft_all",
                   "azurerm_network_manager_admin_rule_collection.draft.id", "Deny", 1, "Any",
                   [], "*", "IPPrefix"),
        Res("", "azurerm_network_manager_deployment", "baseline", {
            "network_manager_id": mgr, "location": "westeurope", "scope_access": "SecurityAdmin",
            "configuration_ids": Ref(
                "azurerm_network_manager_security_admin_configuration.baseline.id"),
            "id": UNKNOWN}),
    ]
    legacy = Res("", "azurerm_network_security_rule", "legacy_any", {
        "name": "Allow-Any-Legacy", "resource_group_name": RG,
        "network_security_group_name": "nsg-shared", "priority": 150, "direction": "Inbound",
        "access": "Allow", "protocol": "*", "source_port_range": "*",
        "destination_port_range": "*", "source_address_prefix": "*",
        "destination_address_prefix": "*"})
    resources = hub + spoke("app", "10.1", "10.1.1.4") + spoke("db", "10.2", None) + peerings + avnm
    write("hub_spoke/plan.json",
          plan(resources, module_calls={(): {"spoke": spoke_call}}, outputs=outputs,
               deleted=[legacy]))
    write("hub_spoke/state.json", state(applied(resources, "10.2.1.4")))


# ---- the same estate after apply: state, every id known ------------------------------------

TYPES = {
    "azurerm_network_security_group": "networkSecurityGroups",
    "azurerm_application_security_group": "applicationSecurityGroups",
    "azurerm_virtual_network": "virtualNetworks",
    "azurerm_network_interface": "networkInterfaces",
    "azurerm_route_table": "routeTables",
    "azurerm_network_manager": "networkManagers",
}
CHILDREN = {  # type: (parent name attribute, parent type segment, own segment)
    "azurerm_route": ("route_table_name", "routeTables", "routes"),
    "azurerm_network_security_rule": ("network_security_group_name", "networkSecurityGroups", "securityRules"),
    "azurerm_subnet": ("virtual_network_name", "virtualNetworks", "subnets"),
    "azurerm_virtual_network_peering": ("virtual_network_name", "virtualNetworks", "virtualNetworkPeerings"),
}
BY_PARENT_ID = {
    "azurerm_network_manager_network_group": ("network_manager_id", "networkGroups"),
    "azurerm_network_manager_static_member": ("network_group_id", "staticMembers"),
    "azurerm_network_manager_security_admin_configuration": ("network_manager_id", "securityAdminConfigurations"),
    "azurerm_network_manager_admin_rule_collection": ("security_admin_configuration_id", "ruleCollections"),
    "azurerm_network_manager_admin_rule": ("admin_rule_collection_id", "rules"),
}
# references that cross a module boundary: (module of the referrer, reference) -> (module, reference)
CROSSING = {
    'module.spoke["app"]': {"var.route_table_id": ("", "azurerm_route_table.spokes.id"),
                            "var.hub_vnet_id": ("", "azurerm_virtual_network.hub.id")},
    'module.spoke["db"]': {"var.route_table_id": ("", "azurerm_route_table.spokes.id"),
                           "var.hub_vnet_id": ("", "azurerm_virtual_network.hub.id")},
}


def value(v):
    return v.value if isinstance(v, Ref) else v


def find(resources, module, ref, index=None):
    type_, name = ref.split(".")[:2]
    name = name.split("[")[0]
    for r in resources:
        if r.module == module and r.type == type_ and r.name == name and (index is None or r.index == index):
            return r
    raise KeyError((module, ref))


def resolve(resources, r, ref):
    """The id a reference of r stands for."""
    module = r.module
    if ref in CROSSING.get(module, {}):
        module, ref = CROSSING[module][ref]
    if ref.startswith('module.spoke["'):
        key = ref.split('"')[1]
        return azure_id(resources, find(resources, f'module.spoke["{key}"]', "azurerm_network_interface.vm", 0))
    if ref == "each.value.vnet_id":
        return azure_id(resources, find(resources, f'module.spoke["{r.index}"]', "azurerm_virtual_network.this"))
    index = 0 if "[0]" in ref else None
    return azure_id(resources, find(resources, module, ref, index))


def azure_id(resources, r):
    a = r.attrs
    group = f"/subscriptions/{SUB}/resourceGroups/{value(a.get('resource_group_name', RG))}"
    if r.type == "azurerm_resource_group":
        return group
    if r.type in TYPES:
        return f"{group}/providers/Microsoft.Network/{TYPES[r.type]}/{a['name']}"
    if r.type in CHILDREN:
        attr, ptype, seg = CHILDREN[r.type]
        return f"{group}/providers/Microsoft.Network/{ptype}/{value(a[attr])}/{seg}/{a['name']}"
    if r.type in BY_PARENT_ID:
        attr, seg = BY_PARENT_ID[r.type]
        return f"{resolve(resources, r, a[attr].refs[0])}/{seg}/{a['name']}"
    raise KeyError(r.type)


def applied(resources, db_ip):
    """Every Ref and unknown of the plan, as state after apply holds them."""
    out = []
    for r in resources:
        def concrete(k, v, r=r):
            if isinstance(v, Ref):
                if v.value is not UNKNOWN:
                    return v.value
                ids = [resolve(resources, r, ref) for ref in v.refs]
                return ids if k.endswith("_ids") else ids[0]
            if isinstance(v, list) and v and all(isinstance(b, dict) for b in v):
                return [{bk: concrete(bk, bv) for bk, bv in b.items()} for b in v]
            if v is UNKNOWN:
                return db_ip if k == "private_ip_address" else []
            return v
        attrs = {k: concrete(k, v) for k, v in r.attrs.items() if k != "id"}
        if r.type == "azurerm_network_interface":
            attrs["private_ip_address"] = attrs["ip_configuration"][0]["private_ip_address"]
        assoc = {"azurerm_subnet_network_security_group_association": "subnet_id",
                 "azurerm_subnet_route_table_association": "subnet_id"}
        if r.type in assoc:
            sid = attrs[assoc[r.type]]
        elif r.type.startswith("azurerm_network_interface_") or r.type == "azurerm_network_manager_deployment":
            sid = "|".join(str(v) for v in attrs.values() if isinstance(v, str) and v.startswith("/"))
        else:
            sid = azure_id(resources, r)
        out.append(Res(r.module, r.type, r.name, attrs, index=r.index, state_id=sid))
    return out
