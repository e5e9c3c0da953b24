#!/usr/bin/env bash
# In-process sampling against its floor (bench/kick_floor.c: stop and resume, nothing read):
# maximum rounds per second with 1, 2 and 4 vCPUs (--interval 0, from a snapshot saved inside
# the workload) and at 1 kHz, each round's phases (collect --timing), the
# stop time per round (median and p99 of the per-sample stop_ns kprof writes in trace.json),
# and the guest's slowdown at 100 Hz and 1 kHz: workload iterations per second of guest time
# (BOOT_TIME:work_start .. work_done, 40 iterations, 1 vCPU) with sampling against runs without it
# (at least 5 rounds, alternating), with the floor's slowdown at 1 kHz in the same alternation.
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

# The floor: bench/kick_floor.c stops and resumes every vCPU on the same schedule through the
# same target operations, reading nothing.  kprof's figures are given against it.
mkdir -p build/bench
if ! cc -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes -I. \
	-D_GNU_SOURCE -pthread -O2 -g -o build/bench/kick_floor bench/kick_floor.c build/libkprof-cli.a build/libkprof.a \
	-ldwarf -lelf -lz -lpcre2-8 -ljson-c -lpthread -lm 2>"$dir/err"; then
	echo "SKIP${tab}in-process sampling${tab}kick-only floor${tab}bench/kick_floor.c does not build: $(head -1 "$dir/err")"
	exit 0
fi
# floor ROUNDS INTERVAL ARGS...: sets frate fmed fp99 from one kick_floor run.
floor() {
	local out
	out=$(timeout 60 build/bench/kick_floor "$@" 2>"$dir/ferr") || return 1
	read -r _ _ _ _ _ frate _ fmed _ fp99 <<<"$out"
}
# kprof_rate ROUNDS ARGS...: kprof collect from a snapshot (at most 10 s: SIGINT writes what
# was sampled); sets rate med p99 n, and the per-round phases from --timing.
kprof_rate() {
	local rounds=$1
	shift
	timeout -s INT 10 "$KPROF" collect --timing --samples "$rounds" --symbols "$GUEST" -o "$dir/t.json" "$@" \
		2>"$dir/err"
	[ -s "$dir/t.json" ] || return 1
	read -r rate med p99 n < <(python3 bench/trace_stats.py rate "$dir/t.json" 2>>"$dir/err") || return 1
	phases=$(sed -n 's/^kprof: timing per round, median\/p99 us: //p' "$dir/err")
}
G="in-process sampling"
for cpus in 1 2 4; do
	if ! snapshot_in_workload "$cpus" "$dir/w$cpus.snap"; then
		echo "SKIP${tab}$G${tab}max rounds/s, ${cpus} vCPU${tab}no snapshot inside the workload: $(tail -1 "$dir/snap.err")"
		continue
	fi
	# Several vCPUs on 2 busy host cores: a round waits for each vCPU thread to be scheduled.
	rounds=$((cpus == 1 ? 3000 : 300))
	for ((r = 0; r < REPEATS; r++)); do
		if ! floor "$rounds" 0 --restore "$dir/w$cpus.snap"; then
			echo "SKIP${tab}$G${tab}max rounds/s, ${cpus} vCPU${tab}kick_floor failed: $(tail -1 "$dir/ferr")"
			continue 2
		fi
		if ! kprof_rate "$rounds" --interval 0 -- --restore "$dir/w$cpus.snap"; then
			echo "SKIP${tab}$G${tab}max rounds/s, ${cpus} vCPU${tab}kprof collect: $(tail -1 "$dir/err")"
			continue 2
		fi
		echo "BENCH${tab}$G${tab}max rounds/s, ${cpus} vCPU, vs kick-only floor${tab}${rate}${tab}${frate}${tab}rounds/s${tab}--interval 0 from a snapshot inside the workload, ${n} rounds counted; floor: stop + resume, nothing read (bench/kick_floor.c)"
		echo "BENCH${tab}$G${tab}stop median, ${cpus} vCPU, vs floor${tab}${med}${tab}${fmed}${tab}us${tab}per round, all vCPUs held (stop to resumed)"
		echo "BENCH${tab}$G${tab}stop p99, ${cpus} vCPU, vs floor${tab}${p99}${tab}${fp99}${tab}us${tab}per round"
		# --timing: "stop 20.1/39.6 registers 21.5/36.6 ..." (median/p99 of each phase)
		set -- $phases
		while [ $# -ge 2 ]; do
			echo "BENCH${tab}$G${tab}per round, ${cpus} vCPU: $1 (median)${tab}${2%/*}${tab}-${tab}us${tab}kprof collect --timing at interval 0"
			shift 2
		done
		# At 1 kHz, the schedule kprof is used at: rounds/s kept and stop time.
		floor 1000 0.001 --restore "$dir/w$cpus.snap" &&
			kprof_rate 1000 --frequency 1000 -- --restore "$dir/w$cpus.snap" &&
			echo "BENCH${tab}$G${tab}rounds/s at 1 kHz, ${cpus} vCPU, vs floor${tab}${rate}${tab}${frate}${tab}rounds/s${tab}1000 rounds due; slots a slow round overran are skipped" &&
			echo "BENCH${tab}$G${tab}stop median at 1 kHz, ${cpus} vCPU, vs floor${tab}${med}${tab}${fmed}${tab}us${tab}per round"
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
	# The kick-only floor at 1 kHz, in the same alternation.
	timeout 120 build/bench/kick_floor 0 0.001 --cpus 1 --cmdline "iterations=$ITER" \
		--serial "$dir/floor.txt" "$GUEST" >/dev/null 2>"$dir/err"
	w[floor]=$(work_rate "$dir/floor.txt" 2>"$dir/err2") ||
		echo "SKIP${tab}in-process sampling${tab}guest work/s, kick-only floor at 1 kHz${tab}$(tail -1 "$dir/err2")"
	after=$(base_run) || after=$before
	for hz in 100 1000; do
		[ -n "${w[$hz]:-}" ] || continue
		echo "BENCH${tab}in-process sampling${tab}guest work/s at ${hz} Hz, 1 vCPU${tab}${w[$hz]}${tab}${before}${tab}iter/s${tab}peer: unsampled runs alternating with these; ratio < 1 is the slowdown"
		echo "BENCH${tab}in-process sampling${tab}guest speed at ${hz} Hz, paired${tab}$(python3 -c "print(f'{2 * ${w[$hz]} / ($before + $after):.3f}')")${tab}-${tab}x unsampled${tab}each run over the mean of the unsampled runs around it; 1 - this = slowdown"
	done
	if [ -n "${w[1000]:-}" ] && [ -n "${w[floor]:-}" ]; then
		echo "BENCH${tab}in-process sampling${tab}guest speed at 1 kHz, paired, kprof vs kick-only floor${tab}$(python3 -c "print(f'{2 * ${w[1000]} / ($before + $after):.3f}')")${tab}$(python3 -c "print(f'{2 * ${w[floor]} / ($before + $after):.3f}')")${tab}x unsampled${tab}each over the unsampled runs around it; the floor stops and resumes at 1 kHz, reading nothing"
	fi
	before=$after
done
