#!/usr/bin/env bash
# In-process sampling: maximum rounds per second with 1, 2 and 4 vCPUs (--interval 0, from a
# snapshot saved inside the workload), the
# stop time per round (median and p99 of the per-sample stop_ns kprof writes in trace.json),
# and the guest's slowdown at 100 Hz and 1 kHz: workload iterations per second of guest time
# (BOOT_TIME:work_start .. work_done, 40 iterations, 1 vCPU) with sampling against runs without it
# (at least 5 rounds, alternating).
#
#   bench/sampling.sh [REPEATS]      prints BENCH/SKIP lines (see bench/run.sh)
set -uo pipefail
cd "$(dirname "$0")/.."

KPROF=${KPROF:-build/kprof}
GUEST=build/guest/kprof-guest-nofp.elf
REPEATS=${1:-3}
ITER=${BENCH_ITERATIONS:-40}
dir=$(mktemp -d /tmp/kprof-bench-sampling.XXXXXX)
trap 'rm -rf "$dir"' EXIT
tab=$'\t'

# snapshot_in_workload CPUS FILE: boot the guest (iterations=0: it works until stopped), save a
# snapshot once every CPU is in its workload (BOOT_TIME:ready), stop.  Sampling at interval 0
# starves an emulated guest's progress, so the rate is measured from there, not from boot.
snapshot_in_workload() {
	local pid
	rm -f "$2" "$dir/snap.txt" "$dir/snap.err"
	"$KPROF" run --cpus "$1" --cmdline iterations=0 --snapshot-on SIGUSR2 --snapshot "$2" \
		--serial "$dir/snap.txt" "$GUEST" 2>"$dir/snap.err" &
	pid=$!
	for _ in $(seq 300); do
		grep -q BOOT_TIME:ready "$dir/snap.txt" 2>/dev/null && break
		sleep 0.1
	done
	kill -USR2 "$pid" 2>/dev/null
	for _ in $(seq 100); do
		grep -q "snapshot $2" "$dir/snap.err" && break
		sleep 0.1
	done
	kill -INT "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	grep -q "snapshot $2" "$dir/snap.err"
}

for cpus in 1 2 4; do
	if ! snapshot_in_workload "$cpus" "$dir/w$cpus.snap"; then
		echo "SKIP${tab}in-process sampling${tab}max rounds/s, ${cpus} vCPU${tab}no snapshot inside the workload: $(tail -1 "$dir/snap.err")"
		continue
	fi
	for ((r = 0; r < REPEATS; r++)); do
		if ! timeout 60 "$KPROF" collect --samples 3000 --interval 0 --symbols "$GUEST" -o "$dir/t.json" \
			-- --restore "$dir/w$cpus.snap" 2>"$dir/err"; then
			echo "SKIP${tab}in-process sampling${tab}max rounds/s, ${cpus} vCPU${tab}kprof collect failed: $(tail -1 "$dir/err")"
			continue 2
		fi
		if ! read -r rate med p99 n < <(python3 bench/trace_stats.py rate "$dir/t.json" 2>"$dir/err"); then
			echo "SKIP${tab}in-process sampling${tab}max rounds/s, ${cpus} vCPU${tab}$(tail -1 "$dir/err")"
			continue 2
		fi
		echo "BENCH${tab}in-process sampling${tab}max rounds/s, ${cpus} vCPU${tab}${rate}${tab}-${tab}rounds/s${tab}--interval 0 from a snapshot inside the workload, ${n} rounds counted"
		echo "BENCH${tab}in-process sampling${tab}stop median, ${cpus} vCPU${tab}${med}${tab}-${tab}us${tab}per round, all vCPUs held"
		echo "BENCH${tab}in-process sampling${tab}stop p99, ${cpus} vCPU${tab}${p99}${tab}-${tab}us${tab}per round"
	done
done

# work_rate SERIAL: iterations per second of guest time (all vCPUs: 1 here).
work_rate() {
	python3 - "$1" "$ITER" <<'PY'
import re, sys
t = dict(re.findall(r"BOOT_TIME:(\w+):(\d+)", open(sys.argv[1], errors="replace").read()))
if "work_done" not in t:
    sys.exit("no BOOT_TIME:work_done in the guest's output")
print(f"{int(sys.argv[2]) / ((int(t['work_done']) - int(t['work_start'])) / 1e9):.2f}")
PY
}

# The machine's other load moves these figures more than sampling does, so the runs alternate
# (unsampled, 100 Hz, 1 kHz, unsampled, ...) and each sampled run is also reported against the
# mean of the unsampled runs just before and after it.  One vCPU: fewer threads competing.
SLOW_REPEATS=$((REPEATS < 5 ? 5 : REPEATS))
base_run() {
	timeout 120 "$KPROF" run --cpus 1 --cmdline "iterations=$ITER" --serial "$dir/base.txt" "$GUEST" \
		>/dev/null 2>"$dir/err"
	work_rate "$dir/base.txt" 2>"$dir/err2"
}
if ! before=$(base_run); then
	echo "SKIP${tab}in-process sampling${tab}guest slowdown${tab}kprof run: $(tail -1 "$dir/err2")"
	exit 0
fi
for ((r = 0; r < SLOW_REPEATS; r++)); do
	unset w; declare -A w=()
	for hz in 100 1000; do
		# Samples enough to outlast the workload; collect ends (status 1) when the guest exits.
		timeout 120 "$KPROF" collect --frequency "$hz" --samples 1000000 -o "$dir/s.json" -- \
			--cpus 1 --cmdline "iterations=$ITER" --serial "$dir/s$hz.txt" "$GUEST" 2>"$dir/err"
		w[$hz]=$(work_rate "$dir/s$hz.txt" 2>"$dir/err2") ||
			echo "SKIP${tab}in-process sampling${tab}guest work/s at ${hz} Hz${tab}$(tail -1 "$dir/err2")"
	done
	after=$(base_run) || after=$before
	for hz in 100 1000; do
		[ -n "${w[$hz]:-}" ] || continue
		echo "BENCH${tab}in-process sampling${tab}guest work/s at ${hz} Hz, 1 vCPU${tab}${w[$hz]}${tab}${before}${tab}iter/s${tab}peer: unsampled runs alternating with these; ratio < 1 is the slowdown"
		echo "BENCH${tab}in-process sampling${tab}guest speed at ${hz} Hz, paired${tab}$(python3 -c "print(f'{2 * ${w[$hz]} / ($before + $after):.3f}')")${tab}-${tab}x unsampled${tab}each run over the mean of the unsampled runs around it; 1 - this = slowdown"
	done
	before=$after
done
