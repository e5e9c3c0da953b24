#!/usr/bin/env bash
# kprof report: the numbers on known inputs (the bundled folded example and the recorded guest
# profile), held against an independent count from the stacks; perf report's layout in 80
# columns; --per-cpu, --sort, --limit, --children, --json; pprof and trace.json inputs agree;
# bad input and bad usage.
# sanitize: yes
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

F=examples/kernel.folded
G=examples/guest-trace.json

# row FILE SYMBOL: the report's row for SYMBOL, columns squeezed to one space.
row() { grep -E "\] $2\$" "$1" | tr -s ' ' | sed 's/^ //'; }

"$KPROF" report "$F" >"$WORK/f.txt"
check "folded: header counts 4480 samples" grep -q '^# Samples: 4480;' "$WORK/f.txt"
check "folded: perf's column heads" grep -qx '#     Self     Total  Samples  Symbol' "$WORK/f.txt"
check "folded: is_prime first, 19.64% self and total, 880 samples" \
	test "$(grep -m1 '\[k\]' "$WORK/f.txt" | tr -s ' ' | sed 's/^ //')" = "19.64% 19.64% 880 [k] is_prime"
check "folded: cpu_halt sums both idle loops (600 + 240)" \
	test "$(row "$WORK/f.txt" cpu_halt)" = "18.75% 18.75% 840 [k] cpu_halt"
check "folded: count_primes 9.38% self, 29.02% total (420 + 880 below it)" \
	test "$(row "$WORK/f.txt" count_primes)" = "9.38% 29.02% 420 [k] count_primes"
check "folded: only functions with samples of their own are rows (14)" \
	test "$(grep -c '\[k\]' "$WORK/f.txt")" -eq 14 -a -z "$(row "$WORK/f.txt" sched_loop)"
check "folded: every line fits 80 columns" test "$(awk '{ if (length($0) > m) m = length($0) } END { print m }' "$WORK/f.txt")" -le 80

"$KPROF" report "$F" --sort total --limit 4 >"$WORK/ft.txt"
check "--sort total --limit 4: count_primes, is_prime, cpu_halt, sha256_update" \
	test "$(grep '\[k\]' "$WORK/ft.txt" | awk '{print $NF}' | tr '\n' ' ')" = \
	"count_primes is_prime cpu_halt sha256_update "
"$KPROF" report "$F" --children --limit 4 >"$WORK/fc.txt"
check "--children: perf's heads, Children first" grep -qx '# Children      Self  Samples  Symbol' "$WORK/fc.txt"
check "--children: callers are rows, sorted by children (sched_loop 93.97%, 4210)" \
	test "$(grep -m1 '\[k\]' "$WORK/fc.txt" | tr -s ' ' | sed 's/^ //')" = "93.97% 0.00% 4210 [k] sched_loop"
check "--children --limit 4: sched_loop, run_task, _start, kernel_main" \
	test "$(grep '\[k\]' "$WORK/fc.txt" | awk '{print $NF}' | tr '\n' ' ')" = \
	"sched_loop run_task _start kernel_main "

# An independent count of self and total per function, from the folded text itself.
oracle() {
	python3 - "$1" "$2" <<'PY'
import collections, json, sys
selfc, total = collections.Counter(), collections.Counter()
for line in open(sys.argv[1]):
    stack, n = line.rsplit(" ", 1)
    frames = stack.split(";")
    selfc[frames[-1]] += int(n)
    for f in set(frames):
        total[f] += int(n)
rep = json.load(open(sys.argv[2]))
(table,) = rep["tables"]
got = {f["symbol"]: (f["self"], f["total"]) for f in table["functions"]}
want = {f: (selfc[f], total[f]) for f in total}
assert got == want, set(got.items()) ^ set(want.items())
assert table["samples"] == sum(selfc.values())
for f in table["functions"]:
    assert abs(f["total_share"] - f["total"] / table["samples"]) < 1e-6, f
print(f"{len(want)} functions, {table['samples']} samples")
PY
}
"$KPROF" report "$F" --children --json >"$WORK/f.json"
out=$(oracle "$F" "$WORK/f.json" 2>&1)
check "--json --children: every function's self and total match a count of the stacks ($out)" test $? -eq 0

"$KPROF" report "$G" >"$WORK/g.txt"
check "guest: 300 samples on 2 CPUs" grep -q '^# Samples: 300 on 2 CPUs;' "$WORK/g.txt"
check "guest: work_leaf 56.33% self, 59.67% total, 169 samples" \
	test "$(row "$WORK/g.txt" work_leaf)" = "56.33% 59.67% 169 [k] work_leaf"
check "guest: hash_workload 11.00% self, 49.67% total" \
	test "$(row "$WORK/g.txt" hash_workload)" = "11.00% 49.67% 33 [k] hash_workload"
"$KPROF" parse "$G" --format folded -o "$WORK/g.folded"
"$KPROF" report "$G" --children --json >"$WORK/g.json"
out=$(oracle "$WORK/g.folded" "$WORK/g.json" 2>&1)
check "guest --json: self and total match a count of the stacks ($out)" test $? -eq 0
"$KPROF" report "$G" --per-cpu --limit 2 >"$WORK/gc.txt"
check "--per-cpu: a section per CPU with its share" \
	test "$(grep -c '^# CPU [01]: 150 samples (50.00% of all)$' "$WORK/gc.txt")" -eq 2
check "--per-cpu: CPU 1's work_leaf is 63.33% of CPU 1 (95 samples)" \
	bash -c "sed -n '/^# CPU 1:/,\$p' '$WORK/gc.txt' | grep -q '^    63.33%    68.00%       95  \[k\] work_leaf\$'"
"$KPROF" report "$G" --per-cpu --json >"$WORK/gc.json"
check "--per-cpu --json: one table per CPU, shares of its own samples" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert [t["cpu"] for t in r["tables"]] == [0, 1] and r["cpus"] == 2, r["tables"]
assert all(t["samples"] == 150 for t in r["tables"])
wl = [f for f in r["tables"][1]["functions"] if f["symbol"] == "work_leaf"][0]
assert wl["self"] == 95 and abs(wl["self_share"] - 95 / 150) < 1e-6, wl' "$WORK/gc.json"

# The same profile as pprof reports the same numbers.
"$KPROF" parse "$G" -o "$WORK/g.pb.gz"
"$KPROF" report "$WORK/g.pb.gz" --per-cpu --json >"$WORK/gp.json"
check "pprof input: the same tables as trace.json" python3 -c '
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["tables"] == b["tables"]' "$WORK/gc.json" "$WORK/gp.json"

# User-mode frames are perf's [.]; long names end in ... within 80 columns.
long=$(printf 'x%.0s' $(seq 150))
printf 'main;%s 3\nmain;syscall 1\n' "$long" >"$WORK/long.folded"
"$KPROF" report "$WORK/long.folded" >"$WORK/long.txt"
check "long names: cut with ... at 80 columns" \
	bash -c "grep -q 'xxx\.\.\.\$' '$WORK/long.txt' && [ \$(awk '{ if (length(\$0) > m) m = length(\$0) } END { print m }' '$WORK/long.txt') -le 80 ]"
cat >"$WORK/user.json" <<'JSON'
{"stack_traces":[{"0":["[user]"]},{"0":["syscall_entry","kernel_main"]}],
 "kprof":{"format_version":1,"cpus":1,"samples":[
  {"time_ns":0,"stop_ns":0,"pcs":{"0":["0x401000"]},"flags":{"0":[8]}},
  {"time_ns":1,"stop_ns":0,"pcs":{"0":["0xffffffff81000000","0xffffffff81000100"]}}]}}
JSON
"$KPROF" report "$WORK/user.json" >"$WORK/user.txt"
check "user mode: [.] as perf marks it, kernel [k]" \
	bash -c "grep -q '50.00%  *1  \[\.\] \[user\]\$' '$WORK/user.txt' && grep -q '\[k\] syscall_entry\$' '$WORK/user.txt'"
printf 'main;a 1\n' | "$KPROF" report - >"$WORK/stdin.txt"
check "standard input ('-') too" grep -q '100.00%   100.00%        1  \[k\] a$' "$WORK/stdin.txt"

# -- bad input and bad usage: one line, non-zero, nothing on stdout
badrep() {
	local name=$1 want_status=$2 want=$3 err status out
	shift 3
	out=$("$KPROF" report "$@" 2>"$WORK/err")
	status=$?
	err=$(cat "$WORK/err")
	if [ "$status" -eq "$want_status" ] && [ -z "$out" ] && printf '%s' "$err" | grep -qF -- "$want" &&
		{ [ "$want_status" -eq 2 ] || [ "$(wc -l <"$WORK/err")" -eq 1 ]; }; then
		pass "bad: $name"
	else
		fail "bad: $name" "exit $status: $err"
	fi
}
: >"$WORK/empty.folded"
printf 'a;b 1\na;b\n' >"$WORK/trunc.folded"
printf '\x1f\x8b\x08junk' >"$WORK/junk.pb.gz"
badrep "missing file" 1 "nonexistent.json: No such file" "$WORK/nonexistent.json"
badrep "empty file" 1 "empty.folded: no stacks" "$WORK/empty.folded"
badrep "truncated folded line" 1 "trunc.folded: line 2: missing count" "$WORK/trunc.folded"
printf 'a 18446744073709551615\nb 1\n' >"$WORK/ovf.folded"
badrep "counts overflowing 64 bits" 1 "ovf.folded: line 2: sample counts overflow 64 bits" "$WORK/ovf.folded"
badrep "--per-cpu on folded stacks" 1 "folded stacks carry no CPU ids" --per-cpu "$F"
badrep "damaged pprof (exit 2)" 2 "junk.pb.gz: not a pprof profile" "$WORK/junk.pb.gz"
badrep "unknown --sort" 2 "--sort: 'name' is not self or total" --sort name "$F"
badrep "--limit 0" 2 "--limit: '0' is not a count" --limit 0 "$F"
badrep "no input" 2 "report: no input file given"
badrep "two inputs" 2 "report: one input file only" "$F" "$G"
"$KPROF" report --help >"$WORK/help.txt"
check "--help: exit 0, every option described" \
	bash -c "for o in --per-cpu --sort --limit --children --json --help; do grep -q -- \"\$o\" '$WORK/help.txt' || exit 1; done"

# The README shows the bundled guest's report: it is what kprof prints today.
"$KPROF" report "$G" --limit 8 >"$WORK/readme-now.txt"
sed -n '/^## Reports and formats/,/^## /p' README.md | sed -n '/^    # kprof report/,/^$/p' |
	sed -n '1,/^$/p' | sed '/^$/d; s/^    //' >"$WORK/readme-shown.txt"
check "README: the report shown is kprof's output of examples/guest-trace.json --limit 8" \
	cmp -s "$WORK/readme-now.txt" "$WORK/readme-shown.txt"
