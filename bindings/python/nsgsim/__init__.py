"""nsgsim -- would this flow be allowed in Azure?  Python bindings (ctypes)
for libnsgsim: Azure NSG and AVNM security admin rule evaluation, offline.

    import nsgsim
    with nsgsim.load(env=["fixtures/example/env"],
                     service_tags="ServiceTags_Public.json") as policy:
        r = policy.evaluate("tcp 10.1.1.4:50000 10.2.1.4:22")
        r.allowed        # False
        r.decided_by     # DecidedBy(layer='AdminRule', rule='DenyProdToDev', endpoint='source')
        print(r.explain())

        # Exactly what reaches a NIC, by protocol, source, port and rule:
        for region in policy.reach(to="vm-db1-nic", protocols="tcp"):
            print(region.verdict, region.sources, region.destination_ports)

    # Microsoft's 4 MB tags file loads in tens of milliseconds; a snapshot of it
    # in a few (service_tags= takes either):
    nsgsim.snapshot_service_tags("ServiceTags_Public.json", "tags.nst")

The shared library is NSGSIM_LIBRARY (a path) when set, else the one
shipped inside the package (nsgsim/libnsgsim.so.0, from pip install), else
the repository's build/libnsgsim.so.0 when running from the source tree,
else what ctypes.util.find_library("nsgsim") finds; ``nsgsim.library_path``
is the file actually loaded.
"""

from ._lib import BINDINGS_VERSION as __version__
from ._lib import ERROR_CODES, Error, library_path, library_version
from ._core import DecidedBy, Flow, Policy, Result, load, load_policy, snapshot_service_tags
from ._regions import Region, Regions, diff
from ._flowlog import read_flow_log
from ._matrix import Matrix
from ._packed import DECISION_SIZE, FLOW_FORMAT, FLOW_SIZE, Decisions, pack_flows

# The NSGSIM_E_* codes as module constants (nsgsim.NSGSIM_E_BAD_FLOW == -24).
globals().update(ERROR_CODES)

__all__ = [
    "load",
    "snapshot_service_tags",
    "load_policy",
    "Policy",
    "Result",
    "Flow",
    "DecidedBy",
    "Region",
    "Regions",
    "diff",
    "Matrix",
    "Decisions",
    "pack_flows",
    "FLOW_FORMAT",
    "FLOW_SIZE",
    "DECISION_SIZE",
    "read_flow_log",
    "Error",
    "ERROR_CODES",
    "library_path",
    "library_version",
    "__version__",
] + sorted(ERROR_CODES)
