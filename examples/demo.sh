#!/usr/bin/env bash
# make demo: boot the bundled test kernel on 2 vCPUs with its boot profile, then profile it
# and write a flame graph.  Everything lands in build/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."

KPROF=build/kprof
GUEST=build/guest/kprof-guest.elf
GUEST_NOFP=build/guest/kprof-guest-nofp.elf
OUT=build/demo
mkdir -p "$OUT"

echo "== kprof run --cpus 2 --boot-profile $GUEST"
"$KPROF" run --cpus 2 --boot-profile "$GUEST"

if "$KPROF" collect --help >/dev/null 2>&1; then
	echo
	echo "== kprof collect: 200 samples of both vCPUs (no frame pointers: DWARF CFI unwinding)"
	"$KPROF" collect --samples 200 --interval 0.01 -o "$OUT/trace.json" \
		-- --cpus 2 --cmdline iterations=0 "$GUEST_NOFP"
	"$KPROF" parse "$OUT/trace.json" --format folded -o "$OUT/trace.folded"
	"$KPROF" parse "$OUT/trace.json" --format svg --title "kprof-guest, 2 vCPUs" -o "$OUT/flame.svg"
	echo
	echo "hottest stacks:"
	sort -t' ' -k2 -nr "$OUT/trace.folded" | head -5
	echo
	echo "flame graph: $OUT/flame.svg (open it in a browser)"
fi
