"""Drives SecondSite's local cloud with the official Python SDKs (azure-mgmt-network, azure-mgmt-storage).

Run by PythonSdkCompatibilityTest with SECONDSITE_URL, SECONDSITE_TOKEN, SECONDSITE_CA, SECONDSITE_SUB and
SECONDSITE_RG set (the resource group exists). Prints one JSON object with what the SDKs saw; any SDK error
ends the script with a traceback and a non-zero exit code.
"""
import json
import os
import sys
import time

from azure.core.credentials import AccessToken
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.storage import StorageManagementClient


class StaticToken:
    """A TokenCredential handing out the bearer token the test fetched."""

    def __init__(self, token):
        self._token = token

    def get_token(self, *scopes, **kwargs):
        return AccessToken(self._token, int(time.time()) + 3600)


def main():
    url = os.environ["SECONDSITE_URL"]
    credential = StaticToken(os.environ["SECONDSITE_TOKEN"])
    sub = os.environ["SECONDSITE_SUB"]
    rg = os.environ["SECONDSITE_RG"]
    common = dict(base_url=url, credential_scopes=["https://management.azure.com/.default"],
                  connection_verify=os.environ["SECONDSITE_CA"], polling_interval=0)
    network = NetworkManagementClient(credential, sub, **common)
    out = {}

    vnet = network.virtual_networks.begin_create_or_update(rg, "sdk-vnet", {
        "location": "westus",
        "address_space": {"address_prefixes": ["10.60.0.0/16"]},
        "subnets": [{"name": "default", "address_prefix": "10.60.0.0/24"}],
    }).result()
    out["vnet"] = {"name": vnet.name, "prefixes": vnet.address_space.address_prefixes,
                   "subnets": [s.name for s in vnet.subnets], "state": vnet.provisioning_state}

    subnet = network.subnets.begin_create_or_update(rg, "sdk-vnet", "small", {
        "address_prefix": "10.60.1.0/28",
        "service_endpoints": [{"service": "Microsoft.Storage"}],
    }).result()
    out["subnet"] = {"id": subnet.id, "prefix": subnet.address_prefix}

    nic = network.network_interfaces.begin_create_or_update(rg, "sdk-nic", {
        "location": "westus",
        "ip_configurations": [{"name": "ipconfig1", "subnet": {"id": subnet.id}}],
    }).result()
    out["nic"] = {"ip": nic.ip_configurations[0].private_ip_address,
                  "method": nic.ip_configurations[0].private_ip_allocation_method}

    check = network.virtual_networks.check_ip_address_availability(rg, "sdk-vnet", "10.60.1.4")
    out["check"] = {"available": check.available, "free": check.available_ip_addresses}
    out["listed"] = sorted(v.name for v in network.virtual_networks.list(rg))
    out["nics"] = sorted(n.name for n in network.network_interfaces.list_all())

    storage = StorageManagementClient(credential, sub, **common)
    account = storage.storage_accounts.begin_create(rg, os.environ["SECONDSITE_ACCOUNT"], {
        "location": "westus", "kind": "StorageV2", "sku": {"name": "Standard_GRS"},
        "network_rule_set": {"default_action": "Deny", "bypass": "AzureServices",
                             "virtual_network_rules": [{"virtual_network_resource_id": subnet.id}]},
    }).result()
    keys = storage.storage_accounts.list_keys(rg, account.name)
    out["storage"] = {"kind": account.kind, "sku": account.sku.name, "blob": account.primary_endpoints.blob,
                      "secondary": account.secondary_location, "default_action": account.network_rule_set.default_action,
                      "bypass": account.network_rule_set.bypass, "keys": [k.key_name for k in keys.keys]}
    storage.storage_accounts.delete(rg, account.name)

    network.network_interfaces.begin_delete(rg, "sdk-nic").result()
    network.subnets.begin_delete(rg, "sdk-vnet", "small").result()
    network.virtual_networks.begin_delete(rg, "sdk-vnet").result()
    out["after_delete"] = sorted(v.name for v in network.virtual_networks.list(rg))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
