#!/usr/bin/env bash
# `make bench`: runs the row scripts bench/*.sh (every one but this file and bench/lib_*.sh),
# each with BENCH_REPEATS runs of its measurements, prints one table of medians with their
# spread and kprof/peer ratios, and writes bench/results.json.  Under ten minutes on a 2-core
# machine.  Rows print BENCH/SKIP lines (format in bench/report.py); anything else they print
# goes to the log named at the end.  Timings are never asserted: this is not a test.
#
#   BENCH_REPEATS=3 BENCH_ONLY="sampling boot" bash bench/run.sh
set -uo pipefail
cd "$(dirname "$0")/.."

REPEATS=${BENCH_REPEATS:-3}
ROW_TIMEOUT=${BENCH_ROW_TIMEOUT:-480}
FG_LINES=${BENCH_FG_LINES:-1000000}
export KPROF=${KPROF:-build/kprof}
log=$(mktemp /tmp/kprof-bench-log.XXXXXX)
lines=$(mktemp /tmp/kprof-bench-lines.XXXXXX)
tab=$'\t'

for need in "$KPROF" build/guest/kprof-guest-nofp.elf; do
	[ -e "$need" ] || { echo "bench: $need is missing: run make all first" >&2; exit 2; }
done

rows=(sampling remote unwind flamegraph boot_qemu boot memory)
[ -n "${BENCH_ONLY:-}" ] && read -r -a rows <<<"$BENCH_ONLY"
for f in bench/*.sh; do
	name=$(basename "$f" .sh)
	[[ $name == run || $name == lib_* ]] && continue
	[[ " ${rows[*]} " == *" $name "* ]] || [ -n "${BENCH_ONLY:-}" ] || rows+=("$name")
done
plain=$(mktemp /tmp/kprof-bench-plain.XXXXXX)
trap 'rm -f "$lines" "$plain"' EXIT

start=$(date +%s.%N)
for name in "${rows[@]}"; do
	[ -f "bench/$name.sh" ] || continue
	args=("$REPEATS")
	[ "$name" = flamegraph ] && args=("$FG_LINES" "$REPEATS")
	[ "$name" = boot ] && args=(10)	# the boot lab's script: boots per figure
	t0=$(date +%s)
	echo "bench: $name ..." >&2
	timeout -k 5 "$ROW_TIMEOUT" bash "bench/$name.sh" "${args[@]}" >"$lines.row" 2>>"$log"
	rc=$?
	grep -E "^(BENCH|SKIP)$tab" "$lines.row" >>"$lines"
	grep -vE "^(BENCH|SKIP)$tab" "$lines.row" >>"$log"
	# A row script with figures only in its own words (bench/boot.sh of the boot lab): shown as is.
	grep -qE "^(BENCH|SKIP)$tab" "$lines.row" || sed "s/^/  /" "$lines.row" >>"$plain"
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		echo "SKIP${tab}$name${tab}(row script)${tab}stopped after ${ROW_TIMEOUT} s" >>"$lines"
	elif [ $rc -ne 0 ]; then
		echo "SKIP${tab}$name${tab}(row script)${tab}exited $rc (see $log)" >>"$lines"
	fi
	echo "bench: $name done in $(($(date +%s) - t0)) s" >&2
	rm -f "$lines.row"
done
elapsed=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.0f}')" "$start" "$(date +%s.%N)")

echo
echo "kprof benchmarks: $(uname -n), $(nproc) cores, ${REPEATS} runs per figure, medians (min-max), ${elapsed} s"
echo
python3 bench/report.py "$lines" bench/results.json "$elapsed"
if [ -s "$plain" ]; then
	echo
	echo "Also measured (rows in their own format, not in results.json):"
	cat "$plain"
fi
echo
echo "bench/results.json written; row scripts' other output: $log"
