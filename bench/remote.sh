#!/usr/bin/env bash
# Remote sampling against QEMU's gdbstub (TCG, 2 vCPUs, the nofp guest running its workload):
# rounds per second of `kprof collect --remote` at interval 0 against the loop OSDK drives
# through one gdb process (`thread apply all bt`, `continue`, SIGINT; bench/gdb_loop.py), and
# the frames per stack each gets.
#
#   bench/remote.sh [REPEATS]      prints BENCH/SKIP lines (see bench/run.sh)
set -uo pipefail
cd "$(dirname "$0")/.."

KPROF=${KPROF:-build/kprof}
GUEST=build/guest/kprof-guest-nofp.elf
REPEATS=${1:-3}
ROUNDS=${BENCH_REMOTE_ROUNDS:-200}
dir=$(mktemp -d /tmp/kprof-bench-remote.XXXXXX)
. bench/lib_qemu.sh
trap 'qemu_stop; rm -rf "$dir"' EXIT
tab=$'\t'
G="remote sampling"

for tool in qemu-system-x86_64 gdb; do
	if ! command -v $tool >/dev/null; then
		echo "SKIP${tab}$G${tab}rounds/s vs gdb loop${tab}$tool is not installed"
		exit 0
	fi
done
mkdir -p build/bench
if ! cc -std=gnu11 -Wall -Wextra -Werror -O2 -o build/bench/stub_floor bench/stub_floor.c 2>"$dir/err"; then
	echo "SKIP${tab}$G${tab}stub floor${tab}bench/stub_floor.c does not build: $(head -1 "$dir/err")"
	exit 0
fi
have_remote=0
"$KPROF" collect --help 2>&1 | grep -q -- --remote && have_remote=1

# gdb_figures KEY: grate and gdepth (the figure KEY) from the gdb loop's JSON; fails when the
# loop did not finish.
gdb_figures() {
	read -r grate gdepth < <(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print("%.1f %.2f" % (d["rate"], d[sys.argv[2]]))' "$dir/gdb.json" "$1" 2>/dev/null)
}

# kprof_runs START WHAT: a fresh VM from START (a function), then kprof at interval 0 for the
# rate and, over as long a stretch of the workloads as the gdb loop's (at interval 0 kprof is
# done within one phase of them) and with --inline (gdb's bt shows inlined calls), for the
# depth, into $dir/k.json.  Before them, the stub floor (bench/stub_floor.c) on the same VM.
# Sets krate and frate; fails with a SKIP line naming WHAT.
kprof_runs() {
	local rc out
	"$1" || { qemu_stop; return 1; }
	# The stub's floor on the same QEMU, just before: interrupt, stop reply, continue.
	frate=
	out=$(timeout 60 build/bench/stub_floor 127.0.0.1 "$QEMU_PORT" "$ROUNDS" 2>/dev/null) &&
		read -r _ _ _ _ _ frate <<<"$out"
	timeout 120 "$KPROF" collect --timing --remote "tcp:127.0.0.1:$QEMU_PORT" --symbols "$GUEST" \
		--samples "$ROUNDS" --interval 0 -o "$dir/k0.json" 2>"$dir/err"
	rc=$?
	timeout 120 "$KPROF" collect --remote "tcp:127.0.0.1:$QEMU_PORT" --symbols "$GUEST" \
		--inline --samples "$ROUNDS" --interval "$(python3 -c "print(1 / $grate)")" \
		-o "$dir/k.json" 2>/dev/null
	qemu_stop
	krate=$(sed -n 's/.* samples in .* (\([0-9.]*\)\/s).*/\1/p' "$dir/err" | tail -1)
	[ -n "$krate" ] && return 0
	echo "SKIP${tab}$G${tab}$2${tab}kprof collect --remote exited $rc: $(tail -1 "$dir/err")"
	return 1
}
guest_start() { qemu_start "$GUEST"; }

# breakdown: kprof's --timing lines of the interval-0 run as rows: each phase's median, and per
# round the batches written (round trips where replies follow), packets and bytes received.
breakdown() {
	python3 - "$dir/err" "${1:-}" <<'PY'
import re, sys
t = open(sys.argv[1], errors="replace").read()
pre = sys.argv[2]
m = re.search(r"timing per round, median/p99 us: (.*)", t)
if m:
    f = m.group(1).split()
    for name, v in zip(f[0::2], f[1::2]):
        print(f"BENCH\tremote sampling\t{pre}per round: {name} (median)\t{v.split('/')[0]}\t-\tus\tkprof collect --remote --timing at interval 0")
m = re.search(r"wire per round \(writes, packets, bytes out/in, wait us\): (.*?); stack windows read with the registers: (\d+), holding the stack: (\d+)", t)
if m:
    for part in m.group(1).split(", "):
        name, writes, packets, io, wait = part.split()
        print(f"BENCH\tremote sampling\t{pre}per round: {name}: writes, packets, bytes in\t{writes}\t-\twrites\t{packets} packets, {io.split('/')[1]} bytes received, {wait} us waiting for replies (mean)")
    print(f"BENCH\tremote sampling\t{pre}stack windows read with the registers that held the stack\t{m.group(3)}\t{m.group(2)}\twindows\tthe rest cost a second batch")
PY
}

for ((r = 0; r < REPEATS; r++)); do
	qemu_start "$GUEST" || { echo "SKIP${tab}$G${tab}rounds/s vs gdb loop${tab}QEMU did not reach its workload (BOOT_TIME:ready)"; exit 0; }
	gdb_run loop "$ROUNDS" "$dir/gdb.json"
	qemu_stop
	if ! gdb_figures frames_per_stack; then
		echo "SKIP${tab}$G${tab}rounds/s vs gdb loop${tab}the gdb loop did not finish"
		continue
	fi
	if ((!have_remote)); then
		echo "BENCH${tab}$G${tab}gdb loop rounds/s (OSDK's)${tab}-${tab}${grate}${tab}rounds/s${tab}kprof collect has no --remote yet (gdbstub branch): peer only"
		echo "BENCH${tab}$G${tab}gdb loop frames/stack${tab}-${tab}${gdepth}${tab}frames${tab}peer only"
		continue
	fi
	kprof_runs guest_start "rounds/s vs gdb loop" || continue
	read -r kdepth _ < <(python3 bench/trace_stats.py depth "$dir/k.json")
	echo "BENCH${tab}$G${tab}rounds/s at interval 0, kprof --remote vs gdb loop${tab}${krate}${tab}${grate}${tab}rounds/s${tab}QEMU TCG -smp 2, nofp guest; gdb: thread apply all bt, continue, SIGINT (1 ms after resume)"
	echo "BENCH${tab}$G${tab}frames per stack, kprof vs gdb${tab}${kdepth}${tab}${gdepth}${tab}frames${tab}both with inlined calls, over the same stretch of the workload, different moments"
	[ -n "$frate" ] && echo "BENCH${tab}$G${tab}rounds/s at interval 0, kprof --remote vs stub floor${tab}${krate}${tab}${frate}${tab}rounds/s${tab}floor: interrupt, stop reply, continue, nothing read (bench/stub_floor.c), on the same QEMU just before"
	breakdown
done

# The same against a real Linux kernel (Debian's cloud kernel, the fixture make deps fetches):
# gdb unwinds it with DWARF and stops at the entry code; kprof uses its ORC tables.
LINUX=build/linux
if [ ! -s "$LINUX/vmlinux" ]; then
	echo "SKIP${tab}$G${tab}Linux: rounds/s vs gdb loop${tab}no Linux fixture (make deps fetches it into $LINUX)"
	exit 0
fi
linux_start() {
	qemu_boot KPROF_LINUX_READY -m 256M -kernel "$LINUX/vmlinuz" -initrd "$LINUX/initramfs.cpio" \
		-append "console=ttyS0 nokaslr panic=-1 quiet" -no-reboot
}
GUEST=$LINUX/vmlinux
for ((r = 0; r < REPEATS; r++)); do
	linux_start || { echo "SKIP${tab}$G${tab}Linux: rounds/s vs gdb loop${tab}Linux did not reach its workloads"; qemu_stop; exit 0; }
	gdb_run loop "$ROUNDS" "$dir/gdb.json"
	if ! gdb_figures named_frames_per_kernel_stack; then
		qemu_stop
		echo "SKIP${tab}$G${tab}Linux: rounds/s vs gdb loop${tab}the gdb loop did not finish"
		continue
	fi
	qemu_stop	# the gdb loop ends its session with kill, as the guest row's does
	kprof_runs linux_start "Linux: rounds/s vs gdb loop" || continue
	read -r kdepth _ < <(python3 bench/trace_stats.py kdepth "$dir/k.json")
	echo "BENCH${tab}$G${tab}Linux 6.1: rounds/s at interval 0, kprof --remote vs gdb loop${tab}${krate}${tab}${grate}${tab}rounds/s${tab}QEMU TCG -smp 2, Debian cloud kernel, user loop + dd; same gdb loop"
	echo "BENCH${tab}$G${tab}Linux 6.1: named kernel frames per kernel stack, kprof vs gdb${tab}${kdepth}${tab}${gdepth}${tab}frames${tab}both with inlined calls, user-mode stacks left out; gdb stops at entry code but counts frames it invents past it, tail calls, and inlined calls beginning at a stop pc that kprof leaves out"
	[ -n "$frate" ] && echo "BENCH${tab}$G${tab}Linux 6.1: rounds/s at interval 0, kprof --remote vs stub floor${tab}${krate}${tab}${frate}${tab}rounds/s${tab}floor: bench/stub_floor.c on the same QEMU just before"
	breakdown "Linux 6.1: "
done
