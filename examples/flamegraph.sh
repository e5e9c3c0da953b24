#!/usr/bin/env bash
# Flame graphs from the example profiles: run from the top of the tree after `make`.
#
#   bash examples/flamegraph.sh [OUTDIR]      (default: a new directory under /tmp)
set -euo pipefail
cd "$(dirname "$0")/.."
KPROF=${KPROF:-build/kprof}
out=${1:-$(mktemp -d /tmp/kprof-flamegraphs.XXXXXX)}
mkdir -p "$out"

# A profile of the bundled guest on 2 vCPUs (kprof collect's trace.json): one graph per CPU.
$KPROF parse examples/guest-trace.json --per-cpu -o "$out/guest-per-cpu.svg"
# Only CPU 1, as folded stacks (flamegraph.pl and inferno read these too).
$KPROF parse examples/guest-trace.json --cpu-mask 0x2 -o "$out/guest-cpu1.folded"
# speedscope's format, one profile per CPU: open it at speedscope or in the Firefox profiler.
$KPROF parse examples/guest-trace.json -o "$out/guest.speedscope.json"
# Folded stacks, an icicle graph coloured by name, and a time-ordered flame chart.
$KPROF parse examples/kernel.folded --inverted --hash --title "Icicle" -o "$out/kernel-icicle.svg"
$KPROF parse examples/guest-trace.json --flamechart --per-cpu --colors kernel -o "$out/guest-chart.svg"
# gdb's "thread apply all bt" output, as OSDK's profiler collected it.
$KPROF parse examples/gdb-bt.txt --format folded -o "$out/gdb-bt.folded"
# What changed: red grew, blue shrank, widths from the second profile.
$KPROF diff examples/kernel.folded examples/kernel-after.folded -o "$out/kernel-diff.svg"

ls -l "$out"
