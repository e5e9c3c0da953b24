#!/usr/bin/env bash
# kprof parse and kprof diff end to end: SVG geometry against the input's counts, folded round
# trips, CPU masks, bad input, never overwriting the input, differential colours, and the
# SVG's script in headless Chromium.
# sanitize: yes
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

CHECK="python3 tests/integration/flamegraph_check.py"
IN=examples/kernel.folded

# -- SVG geometry: every frame's width and title follow the input's counts
"$KPROF" parse "$IN" -o "$WORK/k.svg"
check "svg: renders a folded file" test -s "$WORK/k.svg"
out=$($CHECK widths "$WORK/k.svg" "$IN" 1200 2>&1)
check "svg: frame widths and sample counts match the input ($out)" test $? -eq 0 -a -n "$out"
"$KPROF" parse "$IN" --width 800 -o "$WORK/k800.svg"
out=$($CHECK widths "$WORK/k800.svg" "$IN" 800 2>&1)
check "svg: --width 800 scales the frames ($out)" test $? -eq 0
"$KPROF" parse "$IN" -o "$WORK/k2.svg"
check "svg: same input, same bytes" cmp -s "$WORK/k.svg" "$WORK/k2.svg"
"$KPROF" parse "$IN" --minwidth 50 -o "$WORK/kmin.svg"
n_all=$($CHECK frames "$WORK/k.svg" | wc -l)
n_min=$($CHECK frames "$WORK/kmin.svg" | wc -l)
check "svg: --minwidth 50 leaves out narrow frames ($n_all -> $n_min)" test "$n_min" -lt "$n_all" -a "$n_min" -gt 0

# -- folded: merged, summed, in byte order; and a round trip through kprof is a fixed point
{ cat "$IN"; tac "$IN"; } >"$WORK/twice.folded"
"$KPROF" parse "$WORK/twice.folded" --format folded -o "$WORK/twice.out"
$CHECK fold "$WORK/twice.folded" >"$WORK/twice.want"
check "folded: duplicate stacks merge and counts sum" cmp -s "$WORK/twice.out" "$WORK/twice.want"
check "folded: lines are in LC_ALL=C sort order" env LC_ALL=C sort -c "$WORK/twice.out"
"$KPROF" parse "$WORK/twice.out" -o "$WORK/round.folded"
check "folded: round trip is unchanged" cmp -s "$WORK/twice.out" "$WORK/round.folded"
"$KPROF" parse - --format folded <"$WORK/twice.folded" >"$WORK/stdin.folded"
check "folded: read from standard input ('-') too" cmp -s "$WORK/stdin.folded" "$WORK/twice.want"
"$KPROF" parse "$IN" --reverse --format folded >"$WORK/rev.folded"
check "folded: --reverse puts the innermost frame first" \
	grep -qx 'is_prime;count_primes;worker_primes;run_task;sched_loop;kernel_main;_start 880' \
	"$WORK/rev.folded"

printf 'm;b 1\nm;a 2\nm;b 3\n' >"$WORK/time.folded"
"$KPROF" parse "$WORK/time.folded" --flamechart -o "$WORK/chart.svg"
check "flamechart: frames in input order, merged only when adjacent" \
	test "$($CHECK frames "$WORK/chart.svg" | tr '\n' '|')" = \
	"all (6 samples, 100.00%)|m (6 samples, 100.00%)|b (1 samples, 16.67%)|a (2 samples, 33.33%)|b (3 samples, 50.00%)|"
"$KPROF" parse "$WORK/time.folded" -o "$WORK/nochart.svg"
check "flamegraph: the same stacks merged and sorted by name" \
	test "$($CHECK frames "$WORK/nochart.svg" | tr '\n' '|')" = \
	"all (6 samples, 100.00%)|m (6 samples, 100.00%)|a (2 samples, 33.33%)|b (4 samples, 66.67%)|"

# -- trace.json (OSDK's schema): CPU masks, per-CPU graphs, JSON outputs
cat >"$WORK/trace.json" <<'EOF'
{"stack_traces":[
 {"0":["spin","work_a","kernel_main"],"1":["hash","work_b","ap_main"]},
 {"0":["spin","work_a","kernel_main"],"1":["hash","work_b","ap_main"]},
 {"0":["tick","kernel_main"],"1":["halt","ap_main"]}]}
EOF
"$KPROF" parse "$WORK/trace.json" --cpu-mask 0x2 --format folded >"$WORK/mask.folded"
check "cpu-mask: 0x2 keeps only CPU 1's stacks" \
	test "$(cat "$WORK/mask.folded")" = "$(printf 'ap_main;halt 1\nap_main;work_b;hash 2')"
"$KPROF" parse "$WORK/trace.json" --cpu-mask 1 --format folded >"$WORK/mask0.folded"
check "cpu-mask: decimal 1 keeps only CPU 0's stacks" \
	test "$(cat "$WORK/mask0.folded")" = "$(printf 'kernel_main;tick 1\nkernel_main;work_a;spin 2')"
"$KPROF" parse "$WORK/trace.json" --per-cpu -o "$WORK/percpu.svg"
check "per-cpu: one section with a heading per CPU" \
	test "$(grep -c '<g class="sec"' "$WORK/percpu.svg")" -eq 2 -a \
	"$(grep -c '>CPU [01]: 3 samples (50.00% of all)<' "$WORK/percpu.svg")" -eq 2
"$KPROF" parse "$WORK/trace.json" --per-cpu --cpu-mask 0x1 -o "$WORK/percpu1.svg"
check "per-cpu: with a mask, only the masked CPU's graph" \
	test "$(grep -c '<g class="sec"' "$WORK/percpu1.svg")" -eq 1
"$KPROF" parse "$WORK/trace.json" -o "$WORK/out.speedscope.json"
check "speedscope: one profile per CPU" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert [p["name"] for p in d["profiles"]] == ["CPU 0", "CPU 1"], d["profiles"]
assert len(d["profiles"][1]["samples"]) == 3' "$WORK/out.speedscope.json"
"$KPROF" parse "$WORK/trace.json" --cpu-mask 0x1 -o "$WORK/cpu0.json"
"$KPROF" parse "$WORK/cpu0.json" --format folded >"$WORK/cpu0.folded"
check "json: a masked trace.json reads back with the same stacks" cmp -s "$WORK/cpu0.folded" \
	"$WORK/mask0.folded"

# kprof's flags say which frames ran in user mode (8) or are unknown (4): --colors kernel.
cat >"$WORK/user.json" <<'EOF'
{"stack_traces":[{"0":["user_fn","syscall_entry","kernel_main"]},{"0":["??","kernel_main"]}],
 "kprof":{"format_version":1,"cpus":1,"samples":[
  {"time_ns":0,"stop_ns":0,"pcs":{"0":["0x401000","0xffffffff81000000","0xffffffff81000100"]},
   "flags":{"0":[8,0,0]}},
  {"time_ns":1,"stop_ns":0,"pcs":{"0":["0x0","0xffffffff81000100"]},"flags":{"0":[4,0]}}]}}
EOF
"$KPROF" parse "$WORK/user.json" --colors kernel -o "$WORK/user.svg"
check "colors kernel: user frames aqua, unknown grey, kernel warm" python3 -c '
import re, subprocess, sys
def rgb(name):
    out = subprocess.run([sys.executable, "tests/integration/flamegraph_check.py", "fill",
                          sys.argv[1], name], capture_output=True, text=True, check=True).stdout
    return tuple(int(v) for v in re.findall(r"\d+", out))
u, q, k = rgb("user_fn"), rgb("??"), rgb("syscall_entry")
assert u[0] < 120 and u[1] == u[2] and u[1] > 150, u
assert q[0] == q[1] == q[2], q
assert k[0] >= 220 and k[2] <= 70, k' "$WORK/user.svg"

# -- gdb backtraces ("thread apply all bt") as input
cat >"$WORK/bt.txt" <<'EOF'
Thread 2 (Thread 1.2 (CPU#1 [running])):
#0  0xffffffff81001234 in hash (p=0x1) at src/hash.c:10
#1  0xffffffff81002000 in work_b () at src/work.c:3
#2  ap_main () at src/main.c:1

Thread 1 (Thread 1.1 (CPU#0 [halted ])):
#0  0xffffffff81000100 in spin ()
#1  0xffffffff81000010 in kernel_main ()
EOF
"$KPROF" parse "$WORK/bt.txt" --cpu-mask 0x2 --format folded >"$WORK/bt.folded"
check "gdb bt: parsed, and CPU#1 kept by --cpu-mask 0x2" \
	test "$(cat "$WORK/bt.folded")" = "ap_main;work_b;hash 1"

# -- names that need escaping still give valid XML and UTF-8
printf 'main;Vec<T>::push&"x"\x27;caf\xc3\xa9\xff\x01 3\nmain;a<b> 1\n' >"$WORK/odd.folded"
"$KPROF" parse "$WORK/odd.folded" --title 'A & <B>' -o "$WORK/odd.svg"
check "xml: odd names are escaped, bytes repaired, the SVG parses" python3 -c '
import sys, xml.etree.ElementTree as ET
raw = open(sys.argv[1], "rb").read(); raw.decode("utf-8")
titles = [t.text for t in ET.fromstring(raw).iter("{http://www.w3.org/2000/svg}title")]
assert "Vec<T>::push&\"x\"\x27 (3 samples, 75.00%)" in titles, titles
assert "caf\u00e9\ufffd\ufffd (3 samples, 75.00%)" in titles, titles' "$WORK/odd.svg"

# -- bad input: one line naming the file (and line), exit 1
bad() {
	local name=$1 file=$2 want=$3 err status
	err=$("$KPROF" parse "$file" -o "$WORK/bad.svg" 2>&1 >/dev/null)
	status=$?
	if [ "$status" -eq 1 ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] &&
		printf '%s' "$err" | grep -qF -- "$want"; then
		pass "bad input: $name"
	else
		fail "bad input: $name" "exit $status: $err"
	fi
}
: >"$WORK/empty.folded"
bad "empty file" "$WORK/empty.folded" "empty.folded: no stacks"
printf 'a;b 3\na;b;c\n' >"$WORK/trunc.folded"
bad "truncated line" "$WORK/trunc.folded" "trunc.folded: line 2: missing count"
printf 'a;b -3\n' >"$WORK/neg.folded"
bad "negative count" "$WORK/neg.folded" "neg.folded: line 1: negative count"
printf 'a;b 123456789012345678901234567890\n' >"$WORK/huge.folded"
bad "huge count" "$WORK/huge.folded" "huge.folded: line 1: count"
printf 'a 18446744073709551615\nb 1\n' >"$WORK/ovf.folded"
bad "counts overflowing 64 bits" "$WORK/ovf.folded" "ovf.folded: line 2: sample counts overflow"
head -c 4096 "$KPROF" >"$WORK/garbage.bin"
bad "binary garbage" "$WORK/garbage.bin" "garbage.bin: line"
printf '{"stack_traces":[{"0":["a"' >"$WORK/trunc.json"
bad "truncated JSON" "$WORK/trunc.json" "trunc.json: line 1"
bad "missing file" "$WORK/nonexistent.folded" "nonexistent.folded: No such file"
test ! -e "$WORK/bad.svg"
check "bad input: no output file is left behind" test $? -eq 0
expect_status "usage: unknown option exits 2" 2 "$KPROF" parse --no-such-option "$IN" 2>/dev/null
expect_status "usage: unknown palette exits 2" 2 "$KPROF" parse --colors plaid "$IN" 2>/dev/null

# -- never overwrite the input, by its own name or through a link
cp "$IN" "$WORK/in.folded"
ln -sf "$WORK/in.folded" "$WORK/link.svg"
sum=$(md5sum <"$WORK/in.folded")
"$KPROF" parse "$WORK/in.folded" -o "$WORK/in.folded" 2>"$WORK/ow.err"
s1=$?
"$KPROF" parse "$WORK/in.folded" -o "$WORK/link.svg" 2>>"$WORK/ow.err"
s2=$?
"$KPROF" diff "$WORK/in.folded" "$IN" -o "$WORK/in.folded" 2>>"$WORK/ow.err"
s3=$?
check "overwrite: refused (exit $s1 $s2 $s3) and the input is intact" \
	test "$s1" -eq 1 -a "$s2" -eq 1 -a "$s3" -eq 1 -a "$(md5sum <"$WORK/in.folded")" = "$sum"
check "overwrite: the refusal names the file" grep -q 'refusing to overwrite' "$WORK/ow.err"

# -- differential flame graph: red grew, blue shrank, widths from AFTER
printf 'main;steady 50\nmain;grows 10\nmain;shrinks 40\n' >"$WORK/before.folded"
printf 'main;steady 50\nmain;grows 40\nmain;shrinks 10\n' >"$WORK/after.folded"
"$KPROF" diff "$WORK/before.folded" "$WORK/after.folded" -o "$WORK/diff.svg"
grows=$($CHECK fill "$WORK/diff.svg" grows)
shrinks=$($CHECK fill "$WORK/diff.svg" shrinks)
steady=$($CHECK fill "$WORK/diff.svg" steady)
check "diff: grown frame is red ($grows)" test "$grows" = "rgb(255,40,40)"
check "diff: shrunk frame is blue ($shrinks)" test "$shrinks" = "rgb(40,40,255)"
check "diff: unchanged frame is white ($steady)" test "$steady" = "rgb(245,245,245)"
check "diff: tooltip has both counts and the change" \
	grep -q '<title>grows (40 samples, 40.00%; before 10, change +30, self +30)' "$WORK/diff.svg"
"$KPROF" diff "$WORK/trace.json" "$WORK/after.folded" --normalize -o "$WORK/diff2.svg"
check "diff: inputs of different kinds, --normalize" grep -q 'Differential Flame Graph' \
	"$WORK/diff2.svg"

# -- the SVG's script in a real browser (zoom, search, Ctrl-F, no script errors)
chromium=${CHROMIUM:-/usr/bin/chromium}
if ! command -v node >/dev/null || [ ! -x "$chromium" ]; then
	echo "browser test not run: node or $chromium is missing (make deps installs them)"
elif [ ! -d tests/browser/node_modules/playwright-core ]; then
	echo "browser test not run: playwright-core is missing (make deps installs it)"
else
	# A real profile of the bundled guest (2 vCPUs), one graph per CPU.
	G=examples/guest-trace.json
	"$KPROF" parse "$G" --per-cpu --hash --title "kprof: the bundled test kernel on 2 vCPUs" \
		--subtitle "kprof parse examples/guest-trace.json --per-cpu --hash" -o "$WORK/browser.svg"
	"$KPROF" parse "$G" --per-cpu --format folded -o "$WORK/guest.folded"
	cat >"$WORK/checks.json" <<EOF
{"zoom": "hash_block", "child": "hash_mix", "hiddenAfterZoom": "lapic_wake_others", "fullWidth": 1180,
 "search": "^quicksort\$", "matched": $($CHECK matched "$WORK/guest.folded" '^quicksort$'),
 "search2": "hash", "matched2": $($CHECK matched "$WORK/guest.folded" 'hash')}
EOF
	shot=
	# The screenshot for the README comes from the plain build's run.
	[ "${BUILD:-build}" = build ] && shot=$PWD/docs/flamegraph.png && mkdir -p docs
	browser_test browser "$WORK/browser.svg" "$WORK/checks.json" $shot

	# The same interactions on an icicle graph, where deeper frames sit lower.
	"$KPROF" parse "$IN" --inverted -o "$WORK/icicle.svg"
	cat >"$WORK/icicle.json" <<EOF
{"zoom": "worker_copy", "child": "copy_pages", "hiddenAfterZoom": "worker_primes", "fullWidth": 1180,
 "search": "^sha256", "matched": $($CHECK matched "$IN" '^sha256'),
 "search2": "list", "matched2": $($CHECK matched "$IN" 'list')}
EOF
	browser_test "browser (icicle)" "$WORK/icicle.svg" "$WORK/icicle.json"
fi
