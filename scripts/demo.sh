#!/usr/bin/env bash
# SecondSite demo, end to end: start a server with a fresh data directory, protect a raw disk image with the
# agent, change the disk, export the newest recovery point and check it is byte-identical to the disk.
# Everything lives in a temporary directory (kept for inspection unless DEMO_KEEP=0); the server is stopped
# at the end. Exits non-zero if any step fails or the restored image differs from the disk.
#
# Needs qemu-img and qemu-io (apt-get install qemu-utils). Override the CLI with SECONDSITE="java -jar ...".
set -euo pipefail

# shellcheck source=demo-common.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/demo-common.sh"
demo_start demo

step "Create group, vault, VMware fabric, container, InMageAzureV2 policy and mapping"
V=(-g rg-demo --vault vault-demo)
ss group create rg-demo -l westus
ss vault create vault-demo -g rg-demo -l westus
ss fabric create cs01 --type VMware "${V[@]}"
ss container create cs01-container --fabric cs01 "${V[@]}"
ss policy create demo-policy --type InMageAzureV2 --retention-hours 24 --crash-consistent-minutes 5 "${V[@]}"
ss mapping create demo-mapping --fabric cs01 --container cs01-container --policy demo-policy \
    --target-container "Microsoft Azure" "${V[@]}"

step "Registration key for the fabric"
ss fabric registration-key cs01 "${V[@]}" --file key.json

step "A 256 MiB disk, and the agent's first run (registers machine web01)"
qemu-img create -f raw disk.img 256M
AGENT=(agent --once --server "$URL" --data-dir data --state-dir agent-state --disk disk.img)
ss "${AGENT[@]}" --registration-key-file key.json --name web01
ss provider list --fabric cs01 "${V[@]}"

step "Enable replication, initial replication"
ss item enable web01 --fabric cs01 --container cs01-container --machine web01 --policy demo-policy "${V[@]}"
ss "${AGENT[@]}"
ss item wait-protected web01 --timeout-seconds 120 "${V[@]}"

step "Change the disk and replicate the change"
qemu-io -f raw -c 'write -P 0x5a 1M 64k' disk.img
ss "${AGENT[@]}"
ss point list --item web01 "${V[@]}"

step "Export the newest recovery point and compare it with the disk"
POINT=$(ss point latest --item web01 "${V[@]}")
ss point export "$POINT" --item web01 --disk disk0 --format raw --path restored.img "${V[@]}"
cp data/exports/restored.img restored.img
qemu-img compare disk.img restored.img
echo "demo OK"
