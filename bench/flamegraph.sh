#!/usr/bin/env bash
# Flame-graph rendering speed and memory against input size.
#
#   bench/flamegraph.sh [LINES] [REPEATS]   (default 1000000 lines, about 180 MB of folded
#                                            stacks; 1 repeat)
#
# Besides the readable line per render it prints machine-readable BENCH lines for bench/run.sh.
# Generates a synthetic folded file (bench/gen_folded.py, fixed seed), then times
# `kprof parse` to SVG and to folded text and reports lines/s, MB/s and peak RSS as a multiple
# of the input size.  No peer is measured: flamegraph.pl and inferno are not installed here.
set -euo pipefail
cd "$(dirname "$0")/.."

KPROF=${KPROF:-build/kprof}
LINES=${1:-1000000}
REPEATS=${2:-1}
dir=$(mktemp -d /tmp/kprof-bench-fg.XXXXXX)
trap 'rm -rf "$dir"' EXIT

python3 bench/gen_folded.py "$LINES" "$dir/in.folded"
bytes=$(stat -c %s "$dir/in.folded")

# run LABEL OUTPUT: time one render, print one line of figures.
run() {
	local label=$1 out=$2 secs rss_kb
	/usr/bin/time -f '%e %M' -o "$dir/time" "$KPROF" parse "$dir/in.folded" -o "$dir/$out"
	read -r secs rss_kb <"$dir/time"
	python3 - "$label" "$LINES" "$bytes" "$secs" "$rss_kb" "$(stat -c %s "$dir/$out")" <<'PY'
import sys
label, lines, size, secs, rss_kb, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
mb = size / 1e6
secs = max(secs, 0.01)
print(f"BENCH\tflame graph\t{lines // 1000}k lines to {label}: time\t{secs:.2f}\t-\ts\t"
      f"{mb:.0f} MB folded input; no peer installed (flamegraph.pl, inferno)")
print(f"BENCH\tflame graph\t{lines // 1000}k lines to {label}: peak RSS\t{rss_kb / 1024:.0f}\t-\tMiB\t"
      f"{rss_kb * 1024 / size:.2f}x the input")
print(f"flamegraph {label}: {lines} lines, {mb:.1f} MB in {secs:.2f} s "
      f"({lines / secs / 1e3:.0f}k lines/s, {mb / secs:.1f} MB/s), "
      f"peak RSS {rss_kb / 1024:.0f} MB ({rss_kb * 1024 / size:.2f}x input), output {out / 1e6:.1f} MB")
PY
}

for ((r = 0; r < REPEATS; r++)); do
	run svg out.svg
	run folded out.folded
done
