"""Drives SecondSite with the official Python SDKs azure-mgmt-compute, azure-mgmt-privatedns,
azure-mgmt-authorization and azure-mgmt-msi (Debian's python3-azure), as automation written for Azure would.

Run by PythonSdkCompatibilityTest with SECONDSITE_URL, SECONDSITE_TOKEN, SECONDSITE_CA, SECONDSITE_SUB,
SECONDSITE_RG (an existing group in westus) and SECONDSITE_PRINCIPAL (an object id to assign a role to). Prints
one JSON object with what the SDKs saw; any SDK error ends the script with a traceback and a non-zero exit code.
"""
import json
import os
import time
import uuid

from azure.core.credentials import AccessToken
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient
from azure.mgmt.network import NetworkManagementClient
from azure.mgmt.privatedns import PrivateDnsManagementClient

READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


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
    compute = ComputeManagementClient(credential, sub, **common)
    network = NetworkManagementClient(credential, sub, **common)
    dns = PrivateDnsManagementClient(credential, sub, **common)
    auth = AuthorizationManagementClient(credential, sub, **common)
    msi = ManagedServiceIdentityClient(credential, sub, **common)
    out = {}

    # Compute: sizes, a managed disk, a VM on it, deallocate, delete.
    out["sizes"] = [s.name for s in compute.virtual_machine_sizes.list("westus")]
    disk = compute.disks.begin_create_or_update(rg, "sdk-os", {
        "location": "westus", "sku": {"name": "Standard_LRS"}, "os_type": "Linux",
        "creation_data": {"create_option": "Empty"}, "disk_size_gb": 4}).result()
    out["disk"] = {"size": disk.disk_size_gb, "state": disk.disk_state, "id": disk.id}
    vnet = network.virtual_networks.begin_create_or_update(rg, "sdk-cvnet", {
        "location": "westus", "address_space": {"address_prefixes": ["10.70.0.0/16"]},
        "subnets": [{"name": "default", "address_prefix": "10.70.0.0/24"}]}).result()
    nic = network.network_interfaces.begin_create_or_update(rg, "sdk-cnic", {
        "location": "westus", "ip_configurations": [{"name": "ipconfig1", "subnet": {"id": vnet.subnets[0].id}}]}).result()
    vm = compute.virtual_machines.begin_create_or_update(rg, "sdk-vm", {
        "location": "westus",
        "hardware_profile": {"vm_size": "Standard_B2s"},
        "storage_profile": {"os_disk": {"create_option": "Attach", "os_type": "Linux",
                                        "managed_disk": {"id": disk.id}}},
        "network_profile": {"network_interfaces": [{"id": nic.id, "primary": True}]}}).result()
    out["vm"] = {"size": vm.hardware_profile.vm_size, "state": vm.provisioning_state,
                 "os_disk": vm.storage_profile.os_disk.managed_disk.id}
    compute.virtual_machines.begin_deallocate(rg, "sdk-vm").result()
    view = compute.virtual_machines.instance_view(rg, "sdk-vm")
    out["power"] = [s.code for s in view.statuses if s.code.startswith("PowerState/")]
    out["vms"] = [v.name for v in compute.virtual_machines.list(rg)]
    compute.virtual_machines.begin_delete(rg, "sdk-vm").result()
    out["vms_after_delete"] = [v.name for v in compute.virtual_machines.list(rg)]

    # Private DNS: the zone ASR private endpoints use, a virtual network link and an A record.
    zone_name = "privatelink.siterecovery.windowsazure.com"
    zone = dns.private_zones.begin_create_or_update(rg, zone_name, {"location": "global"}).result()
    link = dns.virtual_network_links.begin_create_or_update(rg, zone_name, "sdk-link", {
        "location": "global", "virtual_network": {"id": vnet.id}, "registration_enabled": False}).result()
    dns.record_sets.create_or_update(rg, zone_name, "A", "vault1-asr-pod01-srs1", {
        "ttl": 10, "a_records": [{"ipv4_address": "10.70.0.9"}]})
    record = dns.record_sets.get(rg, zone_name, "A", "vault1-asr-pod01-srs1")
    out["dns"] = {"zone": zone.name, "link": link.name, "record": record.a_records[0].ipv4_address, "ttl": record.ttl}

    # Authorization: assign Reader on the group, list it, delete it.
    scope = "/subscriptions/%s/resourceGroups/%s" % (sub, rg)
    name = str(uuid.uuid4())
    assignment = auth.role_assignments.create(scope, name, {
        "role_definition_id": "/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s" % (sub, READER),
        "principal_id": os.environ["SECONDSITE_PRINCIPAL"]})
    listed = [a.name for a in auth.role_assignments.list_for_scope(scope)]
    auth.role_assignments.delete(scope, name)
    out["role"] = {"created": assignment.name, "listed": name in listed,
                   "role": assignment.role_definition_id.rsplit("/", 1)[-1],
                   "after_delete": name in [a.name for a in auth.role_assignments.list_for_scope(scope)]}

    # Managed identity: a user-assigned identity, a role for it, list, delete.
    identity = msi.user_assigned_identities.create_or_update(rg, "sdk-identity", {"location": "westus"})
    again = msi.user_assigned_identities.get(rg, "sdk-identity")
    auth.role_assignments.create(scope, str(uuid.uuid4()), {
        "role_definition_id": "/subscriptions/%s/providers/Microsoft.Authorization/roleDefinitions/%s" % (sub, READER),
        "principal_id": identity.principal_id})
    listed_ids = [i.name for i in msi.user_assigned_identities.list_by_resource_group(rg)]
    msi.user_assigned_identities.delete(rg, "sdk-identity")
    out["identity"] = {"name": identity.name, "same_principal": again.principal_id == identity.principal_id,
                       "client_id": identity.client_id, "listed": listed_ids,
                       "after_delete": [i.name for i in msi.user_assigned_identities.list_by_resource_group(rg)]}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
