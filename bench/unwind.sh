#!/usr/bin/env bash
# Unwinding: stops of the nofp guest under QEMU TCG (2 vCPUs) are captured through gdb
# (registers, an 8 KiB stack window and gdb's own frames; gdb's `bt` timed on each, the first
# unwind of that stop).  kprof's DWARF unwinder and symbolizer then unwind the same captured
# stacks offline (bench/unwind_bench.c); frames per second against gdb's, and how many stacks
# name the same functions as gdb.  gdb's time includes reading registers and stack memory
# from QEMU's stub over the loopback; kprof's is the unwinding itself, as collect does it after
# the copy (the stop time is measured by the sampling rows).
#
#   bench/unwind.sh [REPEATS]      prints BENCH/SKIP lines (see bench/run.sh)
set -uo pipefail
cd "$(dirname "$0")/.."

GUEST=build/guest/kprof-guest-nofp.elf
REPEATS=${1:-3}
STOPS=${BENCH_UNWIND_STOPS:-30}
dir=$(mktemp -d /tmp/kprof-bench-unwind.XXXXXX)
. bench/lib_qemu.sh
trap 'qemu_stop; rm -rf "$dir"' EXIT
tab=$'\t'
G="unwinding"

for tool in qemu-system-x86_64 gdb; do
	if ! command -v $tool >/dev/null; then
		echo "SKIP${tab}$G${tab}frames/s vs gdb bt${tab}$tool is not installed"
		exit 0
	fi
done
mkdir -p build/bench
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory "$@"; }
if ! cc -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes -I. \
	$(mk print-LIB_CFLAGS) -D_GNU_SOURCE -pthread -O2 -g \
	-o build/bench/unwind_bench bench/unwind_bench.c build/libkprof.a \
	$(mk print-LDLIBS) 2>"$dir/err"; then
	echo "SKIP${tab}$G${tab}frames/s vs gdb bt${tab}bench/unwind_bench.c does not build: $(head -1 "$dir/err")"
	exit 0
fi

for ((r = 0; r < REPEATS; r++)); do
	qemu_start "$GUEST" || { echo "SKIP${tab}$G${tab}frames/s vs gdb bt${tab}QEMU did not reach its workload (BOOT_TIME:ready)"; exit 0; }
	gdb_run capture "$STOPS" "$dir/gdb.json" "$dir/cap.bin"
	qemu_stop
	if ! read -r gfps < <(python3 -c 'import json, sys; print("%.0f" % json.load(open(sys.argv[1]))["frames_per_s"])' "$dir/gdb.json" 2>/dev/null); then
		echo "SKIP${tab}$G${tab}frames/s vs gdb bt${tab}the gdb capture did not finish"
		continue
	fi
	# "frames F stacks S seconds T frames_per_s R depth D equal E of N"
	read -r _ _ _ _ _ _ _ kfps _ depth _ equal _ n < <(build/bench/unwind_bench "$GUEST" "$dir/cap.bin" 0.5)
	echo "BENCH${tab}$G${tab}frames/s, kprof offline vs gdb bt${tab}${kfps}${tab}${gfps}${tab}frames/s${tab}nofp guest (DWARF CFI), ${STOPS} stops x 2 vCPUs under QEMU TCG, mean depth ${depth}"
	echo "BENCH${tab}$G${tab}stacks naming gdb's functions${tab}${equal}${tab}${n}${tab}stacks${tab}same captured stops"
done
