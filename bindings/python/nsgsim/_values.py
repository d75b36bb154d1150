"""Plain values shared by the bindings' modules (no ctypes, no policy)."""

import collections

DecidedBy = collections.namedtuple("DecidedBy", ["layer", "rule", "endpoint"])
DecidedBy.__doc__ = """What decided a verdict: layer "AdminRule", "SubnetNsg", "NicNsg",
"Platform" or "None"; rule the deciding rule's name or None; endpoint "source",
"destination" or None."""
