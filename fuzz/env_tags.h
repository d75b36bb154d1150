/* The service tags fuzz_env loads beside every input: the 16 tags of
 * fixtures/service_tags/ServiceTags_Public_20251109_trimmed.json with their first
 * three prefixes each, so that fixture environments naming Storage.WestEurope
 * or AzureCloud.westeurope compile.  Generated once from that file (fuzz/README.md). */
#ifndef NSGSIM_FUZZ_ENV_TAGS_H
#define NSGSIM_FUZZ_ENV_TAGS_H

static const char fuzz_env_tags[] =
        "{\"changeNumber\":376,\"cloud\":\"Public\",\"values\":[{\"name\":\"AzureActiveDirectory\""
        ",\"properties\":{\"region\":\"\",\"addressPrefixes\":[\"4.149.98.192/27\",\"4.149.105.22"
        "4/27\",\"4.150.253.96/28\"],\"networkFeatures\":[\"API\",\"NSG\",\"UDR\",\"FW\",\"VSE\"]"
        "}},{\"name\":\"ApiManagement\",\"properties\":{\"region\":\"\",\"addressPrefixes\":[\"4."
        "198.207.152/31\",\"4.199.83.96/28\",\"4.232.28.0/28\"],\"networkFeatures\":[\"API\",\"NS"
        "G\",\"UDR\",\"FW\"]}},{\"name\":\"AzureContainerRegistry\",\"properties\":{\"region\":\""
        "\",\"addressPrefixes\":[\"4.145.75.128/25\",\"4.150.255.0/24\",\"4.172.217.128/25\"],\"n"
        "etworkFeatures\":[\"API\",\"NSG\",\"UDR\",\"FW\",\"VSE\"]}},{\"name\":\"EventHub\",\"pro"
        "perties\":{\"region\":\"\",\"addressPrefixes\":[\"4.150.33.0/24\",\"4.190.144.128/26\",\""
        "4.206.228.192/26\"],\"networkFeatures\":[\"API\",\"NSG\",\"UDR\",\"FW\",\"VSE\"]}},{\"na"
        "me\":\"AzureKeyVault\",\"properties\":{\"region\":\"\",\"addressPrefixes\":[\"4.190.147."
        "140/30\",\"4.199.88.12/30\",\"4.232.30.216/29\"],\"networkFeatures\":[\"API\",\"NSG\",\""
        "UDR\",\"FW\",\"VSE\"]}},{\"name\":\"AzureMonitor\",\"properties\":{\"region\":\"\",\"add"
        "ressPrefixes\":[\"4.144.10.32/27\",\"4.144.10.64/26\",\"4.145.79.224/27\"],\"networkFeat"
        "ures\":[\"API\",\"NSG\",\"UDR\",\"FW\"]}},{\"name\":\"Sql\",\"properties\":{\"region\":\""
        "\",\"addressPrefixes\":[\"4.144.9.0/26\",\"4.144.9.64/27\",\"4.144.55.88/30\"],\"network"
        "Features\":[\"API\",\"NSG\",\"UDR\",\"FW\",\"VSE\"]}},{\"name\":\"Storage\",\"properties"
        "\":{\"region\":\"\",\"addressPrefixes\":[\"13.65.107.32/28\",\"13.65.160.16/28\",\"13.65"
        ".160.48/28\"],\"networkFeatures\":[\"API\",\"NSG\",\"UDR\",\"FW\",\"VSE\"]}},{\"name\":\""
        "GatewayManager\",\"properties\":{\"region\":\"\",\"addressPrefixes\":[\"4.199.82.192/26\""
        ",\"4.232.24.64/26\",\"9.160.40.64/26\"],\"networkFeatures\":[\"API\",\"NSG\",\"UDR\",\"F"
        "W\"]}},{\"name\":\"AppService.WestEurope\",\"properties\":{\"region\":\"westeurope\",\"a"
        "ddressPrefixes\":[\"13.69.68.0/23\",\"13.80.19.74/32\",\"13.81.7.21/32\"],\"networkFeatu"
        "res\":[\"API\",\"NSG\",\"UDR\",\"FW\"]}},{\"name\":\"AzureKeyVault.WestEurope\",\"proper"
        "ties\":{\"region\":\"westeurope\",\"addressPrefixes\":[\"13.69.64.72/30\",\"13.69.111.19"
        "2/30\",\"20.61.103.224/29\"],\"networkFeatures\":[\"API\",\"NSG\",\"UDR\",\"FW\"]}},{\"n"
        "ame\":\"Sql.WestEurope\",\"properties\":{\"region\":\"westeurope\",\"addressPrefixes\":["
        "\"13.69.104.0/26\",\"13.69.104.192/26\",\"13.69.105.0/26\"],\"networkFeatures\":[\"API\""
        ",\"NSG\",\"UDR\",\"FW\"]}},{\"name\":\"Storage.WestEurope\",\"properties\":{\"region\":\""
        "westeurope\",\"addressPrefixes\":[\"13.69.40.16/28\",\"13.95.96.176/28\",\"13.95.240.16/"
        "28\"],\"networkFeatures\":[\"API\",\"NSG\",\"UDR\",\"FW\"]}},{\"name\":\"AzureFrontDoor."
        "Backend\",\"properties\":{\"region\":\"\",\"addressPrefixes\":[\"4.153.250.0/29\",\"4.15"
        "3.250.8/31\",\"4.189.206.22/31\"],\"networkFeatures\":[\"API\",\"NSG\",\"UDR\",\"FW\"]}}"
        ",{\"name\":\"AzureCloud.westeurope\",\"properties\":{\"region\":\"westeurope\",\"address"
        "Prefixes\":[\"4.175.0.0/16\",\"4.180.0.0/16\",\"4.210.128.0/17\"],\"networkFeatures\":[\""
        "API\",\"NSG\"]}},{\"name\":\"AzureCloud\",\"properties\":{\"region\":\"\",\"addressPrefi"
        "xes\":[\"4.144.0.0/17\",\"4.144.128.0/17\",\"4.145.0.0/16\"],\"networkFeatures\":[\"API\""
        ",\"NSG\"]}}]}";

#endif
