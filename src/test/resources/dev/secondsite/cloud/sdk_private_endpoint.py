"""Drives a private endpoint, its network interface and a two-zone DNS zone group with the official Python SDKs
(azure-mgmt-network, azure-mgmt-storage, azure-mgmt-privatedns).

Run by PythonSdkCompatibilityTest with SECONDSITE_URL, SECONDSITE_TOKEN, SECONDSITE_CA, SECONDSITE_SUB,
SECONDSITE_RG and SECONDSITE_HUB_RG (both groups exist) and SECONDSITE_ACCOUNT (a free storage account name).
Prints one JSON object with what the SDKs saw; any unexpected SDK error ends the script with a traceback.
"""
import json
import os
import time

from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.privatedns import PrivateDnsManagementClient
from azure.mgmt.storage import StorageManagementClient

ZONE = "privatelink.blob.core.windows.net"


class StaticToken:
    """A TokenCredential handing out the bearer token the test fetched."""

    def __init__(self, token):
        self._token = token

    def get_token(self, *scopes, **kwargs):
        return AccessToken(self._token, int(time.time()) + 3600)


def main():
    credential = StaticToken(os.environ["SECONDSITE_TOKEN"])
    sub = os.environ["SECONDSITE_SUB"]
    rg = os.environ["SECONDSITE_RG"]
    hub = os.environ["SECONDSITE_HUB_RG"]
    common = dict(base_url=os.environ["SECONDSITE_URL"], credential_scopes=["https://management.azure.com/.default"],
                  connection_verify=os.environ["SECONDSITE_CA"], polling_interval=0)
    network = NetworkManagementClient(credential, sub, **common)
    storage = StorageManagementClient(credential, sub, **common)
    dns = PrivateDnsManagementClient(credential, sub, **common)
    out = {}

    vnet = network.virtual_networks.begin_create_or_update(rg, "pe-vnet", {
        "location": "westus", "address_space": {"address_prefixes": ["10.80.0.0/16"]},
        "subnets": [{"name": "default", "address_prefix": "10.80.0.0/24"}]}).result()
    account = storage.storage_accounts.begin_create(rg, os.environ["SECONDSITE_ACCOUNT"], {
        "location": "westus", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}}).result()

    # The endpoint and the NIC Azure creates for it.
    pe = network.private_endpoints.begin_create_or_update(rg, "sdk-pe", {
        "location": "westus", "subnet": {"id": vnet.subnets[0].id},
        "private_link_service_connections": [{"name": "blob", "private_link_service_id": account.id,
                                              "group_ids": ["blob"]}]}).result()
    nic_name = pe.network_interfaces[0].id.rsplit("/", 1)[1]
    nic = network.network_interfaces.get(rg, nic_name)
    out["pe"] = {"fqdn": pe.custom_dns_configs[0].fqdn, "ip": pe.custom_dns_configs[0].ip_addresses[0],
                 "status": pe.private_link_service_connections[0].private_link_service_connection_state.status}
    out["nic"] = {"name": nic_name, "ip": nic.ip_configurations[0].private_ip_address,
                  "endpoint": nic.private_endpoint.id,
                  "fqdns": nic.ip_configurations[0].private_link_connection_properties.fqdns}
    try:
        network.network_interfaces.begin_delete(rg, nic_name).result()
        out["nic"]["delete_error"] = None
    except HttpResponseError as e:
        out["nic"]["delete_error"] = e.error.code

    # A zone group with the blob zone of the spoke group and the one of the hub group: both get the record.
    spoke_zone = dns.private_zones.begin_create_or_update(rg, ZONE, {"location": "global"}).result()
    hub_zone = dns.private_zones.begin_create_or_update(hub, ZONE, {"location": "global"}).result()
    group = network.private_dns_zone_groups.begin_create_or_update(rg, "sdk-pe", "default", {
        "private_dns_zone_configs": [{"name": "spoke", "private_dns_zone_id": spoke_zone.id},
                                     {"name": "hub", "private_dns_zone_id": hub_zone.id}]}).result()
    out["zone_group"] = {"configs": [c.name for c in group.private_dns_zone_configs],
                         "record_sets": [len(c.record_sets) for c in group.private_dns_zone_configs]}
    out["records"] = {name: [(r.name, r.a_records[0].ipv4_address) for r in dns.record_sets.list_by_type(g, ZONE, "A")]
                      for name, g in (("spoke", rg), ("hub", hub))}

    network.private_endpoints.begin_delete(rg, "sdk-pe").result()
    out["after_delete"] = {"records": len(list(dns.record_sets.list_by_type(hub, ZONE, "A"))),
                           "nics": [n.name for n in network.network_interfaces.list(rg)]}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
