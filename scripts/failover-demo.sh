#!/usr/bin/env bash
# SecondSite failover demo, end to end: protect a disk with the agent, change it, test failover into an isolated
# network, clean up, planned failover (the agent shuts the source down after a last pass), commit, reprotect (the
# recovered VM replicates back), failback (the agent writes the changes back onto the disk), commit, and protect
# the disk again. At each failover the recovered disk is downloaded through beginGetAccess and compared with the
# source by `qemu-img compare`. Everything lives in a temporary directory (kept unless DEMO_KEEP=0); the server is
# stopped at the end. Exits non-zero if any step fails or any comparison differs.
#
# Needs qemu-img and qemu-io (apt-get install qemu-utils). Override the CLI with SECONDSITE="java -jar ...".
set -euo pipefail

# shellcheck source=demo-common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/demo-common.sh"
json() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {"d": d}))' "$1"; }
demo_start failover-demo

step "Vault (recovery region westus), configuration-server fabric, InMageAzureV2 policy (and its -failback twin)"
V=(-g rg-demo --vault vault-demo)
ss group create rg-demo -l westus
ss vault create vault-demo -g rg-demo -l westus
ss fabric create cs01 --type VMware "${V[@]}"
ss container create cs01-container --fabric cs01 "${V[@]}"
ss policy create demo-policy --type InMageAzureV2 --retention-hours 24 --crash-consistent-minutes 5 "${V[@]}"
ss mapping create demo-mapping --fabric cs01 --container cs01-container --policy demo-policy \
    --target-container "Microsoft Azure" "${V[@]}"

step "The Azure target: resource group, production and isolated test networks, storage account"
ss group create rg-target -l westus
ss network vnet create prod-vnet -g rg-target -l westus --address-prefix 10.1.0.0/16 --subnet default=10.1.0.0/24
ss network vnet create test-vnet -g rg-target -l westus --address-prefix 10.2.0.0/16 --subnet default=10.2.0.0/24
STORAGE=$(ss storage create stdemotarget -g rg-target -l westus -o json | json 'd["id"]')
TARGET=$(ss group show rg-target -o json | json 'd["id"]')
PROD=$(ss network vnet show prod-vnet -g rg-target -o json | json 'd["id"]')

step "A 64 MiB disk with data, and the agent's first run (registers machine web01)"
qemu-img create -f raw disk.img 64M
qemu-io -f raw -c 'write -P 0x11 0 4M' disk.img > /dev/null
ss fabric registration-key cs01 "${V[@]}" --file key.json
AGENT=(agent --once --server "$URL" --data-dir data --state-dir agent-state --disk disk.img)
ss "${AGENT[@]}" --registration-key-file key.json --name web01

step "Enable replication into the target, initial replication"
ss item enable web01 --fabric cs01 --container cs01-container --machine web01 --policy demo-policy \
    --target-resource-group "$TARGET" --network "$PROD" --subnet default --storage-account "$STORAGE" \
    --target-vm-name web01-vm --vm-size Standard_B2s "${V[@]}"
ss "${AGENT[@]}"
ss item wait-protected web01 --timeout-seconds 120 "${V[@]}"

# Deallocates a VM (Azure exports no disk of a running VM) and downloads its OS disk as a raw image.
download_os_disk() {
    local vm=$1 out=$2 disk
    ss vm deallocate "$vm" -g rg-target
    disk=$(ss vm show "$vm" -g rg-target -o json | json 'd["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"].split("/")[-1]')
    ss disk download "$disk" "$out" -g rg-target --raw
}

step "Change the disk and replicate the change (a new recovery point)"
qemu-io -f raw -c 'write -P 0x5a 1M 64k' disk.img > /dev/null
ss "${AGENT[@]}"
cp disk.img at-test-point.img
ss point list --item web01 "${V[@]}"

step "Test failover into the isolated test network, from the latest processed point"
ss item test-failover web01 --network test-vnet "${V[@]}"
download_os_disk web01-vm-test test-failover.img
qemu-img compare at-test-point.img test-failover.img

step "Production is untouched: the source keeps replicating during the test"
qemu-io -f raw -c 'write -P 0x6b 8M 128k' disk.img > /dev/null
ss "${AGENT[@]}"

step "Clean up the test failover (notes kept on the job)"
ss item cleanup-test-failover web01 --comments "boots, disk identical" "${V[@]}"
ss vm list -g rg-target

step "Planned failover: the agent makes a last pass, shuts the source down, the VM starts from the latest point"
qemu-io -f raw -c 'write -P 0x7c 12M 64k' disk.img > /dev/null
JOB=$(ss item failover web01 --planned --no-wait "${V[@]}")
ss "${AGENT[@]}"          # sees the shutdown request: last pass, then reports the shutdown
ss job wait "$JOB" --timeout-seconds 300 "${V[@]}"
ss job show "$JOB" "${V[@]}"
download_os_disk web01-vm failover.img
qemu-img compare disk.img failover.img

step "Commit: the recovered VM is the production machine now"
ss item commit web01 "${V[@]}"

step "The recovered VM writes (the local cloud runs no guest: qemu-io writes into its managed disk)"
VMDISK=$(ss vm show web01-vm -g rg-target -o json | json 'd["properties"]["storageProfile"]["osDisk"]["managedDisk"]["id"].split("/")[-1]')
UNIQUE=$(ss disk show "$VMDISK" -g rg-target -o json | json 'd["properties"]["uniqueId"]')
qemu-io -f vpc -c 'write -P 0x3e 20M 64k' "data/cloud/disks/$UNIQUE.vhd" > /dev/null

step "Reprotect: the recovered VM replicates back (a delta from the failover's point)"
ss item reprotect web01 "${V[@]}"
ss item show web01 -o json "${V[@]}" | json 'd["properties"]["providerSpecificDetails"]["reverseReplication"]'

step "Failback: the VM is shut down, a last pass, and the agent writes what changed back onto disk.img"
download_os_disk web01-vm recovered.img
JOB=$(ss item failover web01 --planned --no-wait "${V[@]}")
ss "${AGENT[@]}"          # sees the failback request: fetches and writes only the chunks that differ
ss job wait "$JOB" --timeout-seconds 300 "${V[@]}"
qemu-img compare recovered.img disk.img

step "Commit the failback (the recovered VM is deleted) and protect the disk again"
ss item commit web01 "${V[@]}"
ss item reprotect web01 "${V[@]}"
ss "${AGENT[@]}"
ss item wait-protected web01 --timeout-seconds 120 "${V[@]}"
ss item show web01 "${V[@]}"
echo "failover demo OK"
