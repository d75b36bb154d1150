/* How results and effective rules spell layers, accesses and protocols
 * (the names the JSON output, the tables and the assertion files use).
 *
 * May touch: lib/base and the model's enums. */
#include "report/report.h"

NSGSIM_EXPORT const char *nsgsim_layer_name(int layer)
{
	switch (layer) {
	case NSGSIM_LAYER_NONE:
		return "None";
	case NSGSIM_LAYER_ADMIN:
		return "AdminRule";
	case NSGSIM_LAYER_SUBNET_NSG:
		return "SubnetNsg";
	case NSGSIM_LAYER_NIC_NSG:
		return "NicNsg";
	case NSGSIM_LAYER_PLATFORM:
		return "Platform";
	}
	return NULL;
}

const char *ns_protocol_name(int proto)
{
	switch (proto) {
	case NS_PROTO_TCP:
		return "Tcp";
	case NS_PROTO_UDP:
		return "Udp";
	case NS_PROTO_ICMP:
		return "Icmp";
	case NS_PROTO_ESP:
		return "Esp";
	case NS_PROTO_AH:
		return "Ah";
	}
	return NULL;
}

const char *ns_protocol_text(int proto)
{
	const char *name = ns_protocol_name(proto);
	return name ? name
	            : "All"; /* '*' and Any print as All (SPEC EffectiveNetworkSecurityRule) */
}

const char *ns_access_text(int access)
{
	return access == NS_ACCESS_DENY           ? "Deny"
	       : access == NS_ACCESS_ALWAYS_ALLOW ? "AlwaysAllow"
	                                          : "Allow";
}
