#!/usr/bin/env bash
# The boot lab on the bundled guest: boot-latency distributions, the same boots under QEMU
# (TCG) side by side, and a snapshot restored instead of booted.  Output lands in build/bootlab/.
set -euo pipefail
cd "$(dirname "$0")/.."

KPROF=build/kprof
GUEST=build/guest/kprof-guest.elf
OUT=build/bootlab
mkdir -p "$OUT"

echo "== 50 boots on 2 vCPUs to the guest's ready stage, beside QEMU"
"$KPROF" boot --iterations 50 --cpus 2 --compare-qemu \
	--json "$OUT/boot.json" --histogram "$OUT/boot.svg" "$GUEST"

echo
echo "== a snapshot when the workloads start (port 0x80 code 0x60), then resumed from it"
"$KPROF" run --cpus 2 --cmdline iterations=5 --snapshot-on 0x60 --snapshot "$OUT/ready.snap" \
	"$GUEST" >/dev/null
"$KPROF" run --restore "$OUT/ready.snap" --boot-profile | grep checksum

echo
echo "written: $OUT/boot.json, $OUT/boot.svg, $OUT/ready.snap"
