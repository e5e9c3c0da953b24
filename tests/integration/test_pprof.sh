#!/usr/bin/env bash
# pprof end to end, held against the real reader: kprof's pprof files (from collect and from
# parse) read by Debian's `go tool pprof`, whose -top and -traces give the same functions,
# counts and stacks as kprof's folded output of the same trace; the kernel ELF and build id in
# the mapping, inlined functions as Lines of one Location; kprof reading pprof back (round
# trip, diff); malformed pprof files (one line, exit 2, no output left).
# sanitize: yes
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

CHECK="python3 tests/integration/pprof_check.py"
# go tool pprof offline and inside the work directory: no toolchain download, no module
# look-up, caches and temporary files here.
export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off GOPATH="$WORK/go" GOCACHE="$WORK/gocache" \
	HOME="$WORK" PPROF_TMPDIR="$WORK"
pprof() { timeout 120 go tool pprof "$@" 2>"$WORK/pprof.err"; }

# agree NAME PPROF FOLDED FOLDED_PER_CPU: -top and -traces against kprof's folded output.
agree() {
	local name=$1 pb=$2 folded=$3 percpu=$4 out
	pprof -top -nodecount=1000000 -nodefraction=0 -edgefraction=0 "$pb" >"$WORK/top.txt"
	out=$($CHECK top "$WORK/top.txt" "$folded" 2>&1)
	check "$name: go tool pprof -top agrees with kprof's folded output ($out)" test $? -eq 0
	pprof -traces "$pb" >"$WORK/traces.txt"
	out=$($CHECK traces "$WORK/traces.txt" "$percpu" 2>&1)
	check "$name: go tool pprof -traces gives kprof's stacks per CPU ($out)" test $? -eq 0
}

if ! command -v go >/dev/null; then
	fail "go is missing (make deps installs golang-go)"
	exit 0
fi

# -- a recorded profile of the bundled guest, converted by parse
G=examples/guest-trace.json
"$KPROF" parse "$G" -o "$WORK/guest.pb.gz"
check "parse: .pb.gz from -o's extension is gzip data" \
	test "$(head -c 2 "$WORK/guest.pb.gz" | od -An -tx1 | tr -d ' ')" = 1f8b
"$KPROF" parse "$G" --format folded -o "$WORK/guest.folded"
"$KPROF" parse "$G" --per-cpu --format folded -o "$WORK/guest-cpu.folded"
agree "guest-trace.json" "$WORK/guest.pb.gz" "$WORK/guest.folded" "$WORK/guest-cpu.folded"
pprof -raw "$WORK/guest.pb.gz" >"$WORK/guest.raw"
check "pprof: samples/count, period 10 ms of cpu time" \
	bash -c "grep -q '^samples/count' '$WORK/guest.raw' && grep -q '^PeriodType: cpu nanoseconds' '$WORK/guest.raw' &&
		grep -q '^Period: 10000000$' '$WORK/guest.raw'"
bid=$(sed -n 's/.*"build_id":"\([0-9a-f]*\)".*/\1/p' "$G")
check "pprof: the mapping is the kernel ELF with its build id ($bid)" \
	grep -Eq "^1: 0x[0-9a-f]+/0x[0-9a-f]+/0x0 .*kprof-guest.elf $bid \[FN\]" "$WORK/guest.raw"

# -- a live collection straight to pprof, with inlined functions
timeout 120 "$KPROF" collect --inline --samples 200 --interval 0.005 -o "$WORK/live.json" -- \
	--cpus 2 --cmdline iterations=0 "$GUEST_NOFP" 2>/dev/null
"$KPROF" parse "$WORK/live.json" -o "$WORK/live.pb.gz"
"$KPROF" parse "$WORK/live.json" --format folded -o "$WORK/live.folded"
"$KPROF" parse "$WORK/live.json" --per-cpu --format folded -o "$WORK/live-cpu.folded"
agree "collect --inline" "$WORK/live.pb.gz" "$WORK/live.folded" "$WORK/live-cpu.folded"
pprof -raw "$WORK/live.pb.gz" >"$WORK/live.raw"
out=$($CHECK inlined "$WORK/live.raw" 2>&1)
check "pprof: inlined functions are Lines of one Location ($out)" test $? -eq 0
timeout 120 "$KPROF" collect --samples 30 --interval 0.002 --format pprof -o "$WORK/direct.out" -- \
	--cpus 2 --cmdline iterations=0 "$GUEST_NOFP" 2>/dev/null
pprof -raw "$WORK/direct.out" >"$WORK/direct.raw"
check "collect --format pprof: go tool pprof reads 60 samples (2 CPUs x 30)" \
	test "$(awk '/^Samples:/ {s = 1; next} /^Locations/ {s = 0} s && /^ *[0-9]+:/ {n += $1} END {print n}' \
		"$WORK/direct.raw")" = 60
check "collect --format pprof: time and duration recorded" \
	bash -c "grep -q '^Time: ' '$WORK/direct.raw' && grep -Eq '^Duration: [0-9.]+' '$WORK/direct.raw'"

# -- kprof reads pprof back: the same stacks, per CPU too; trace.json keeps pcs and flags
"$KPROF" parse "$WORK/live.pb.gz" --format folded -o "$WORK/rt.folded"
check "round trip: folded from the pprof file is the trace's" cmp -s "$WORK/rt.folded" "$WORK/live.folded"
"$KPROF" parse "$WORK/live.pb.gz" --per-cpu --format folded -o "$WORK/rt-cpu.folded"
check "round trip: per CPU too (cpu labels)" cmp -s "$WORK/rt-cpu.folded" "$WORK/live-cpu.folded"
"$KPROF" parse "$WORK/live.pb.gz" --cpu-mask 0x2 --format folded -o "$WORK/rt-cpu1.folded"
check "round trip: --cpu-mask 0x2 keeps CPU 1's stacks" \
	test "$(sed 's/^CPU 1;//' "$WORK/live-cpu.folded" | grep -v '^CPU 0;' | sort)" = "$(sort "$WORK/rt-cpu1.folded")"
"$KPROF" parse "$WORK/live.pb.gz" -o "$WORK/rt.json"
check "round trip: trace.json from pprof keeps the kernel, build id, pcs and inline flags" python3 -c '
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
ka, kb = a["kprof"], b["kprof"]
assert kb["kernel"] == ka["kernel"] and kb["build_id"] == ka["build_id"], kb
def frames(d):
    out = {}
    for st, smp in zip(d["stack_traces"], d["kprof"]["samples"]):
        for cpu, names in st.items():
            flags = smp.get("flags", {}).get(cpu, [0] * len(names))
            for n, pc, fl in zip(names, smp["pcs"][cpu], flags):
                out[(n, pc)] = fl & 2
    return out
fa, fb = frames(a), frames(b)
assert fa == fb, set(fa.items()) ^ set(fb.items())
assert any(fb.values()), "no inlined frame"' "$WORK/live.json" "$WORK/rt.json"
"$KPROF" diff "$WORK/guest.pb.gz" "$WORK/live.pb.gz" -o "$WORK/diff.svg"
check "diff: pprof inputs" grep -q 'Differential Flame Graph' "$WORK/diff.svg"

# -- a pprof file of another producer: Go's runtime/pprof profiling a Go program (two sample
# types, samples/count and cpu/nanoseconds; no cpu labels) reads as go tool pprof reads it.
cat >"$WORK/burn.go" <<'GO'
package main

import (
	"os"
	"runtime/pprof"
	"time"
)

//go:noinline
func burn(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += i * i % 7
	}
	return s
}

func main() {
	f, _ := os.Create(os.Args[1])
	pprof.StartCPUProfile(f)
	s := 0
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); {
		s += burn(1000000)
	}
	pprof.StopCPUProfile()
	f.Close()
	os.Exit(s & 0)
}
GO
(cd "$WORK" && GO111MODULE=off timeout 300 go run burn.go "$WORK/go.pb.gz") 2>"$WORK/go.err"
check "Go's runtime/pprof wrote a profile" test -s "$WORK/go.pb.gz"
"$KPROF" parse "$WORK/go.pb.gz" --format folded -o "$WORK/go.folded"
check "Go's profile: kprof reads it, main.burn on its stacks" grep -q ';main.burn' "$WORK/go.folded"
pprof -top -sample_index=samples -nodecount=1000000 -nodefraction=0 -edgefraction=0 "$WORK/go.pb.gz" \
	>"$WORK/go-top.txt"
out=$($CHECK top "$WORK/go-top.txt" "$WORK/go.folded" 2>&1)
check "Go's profile: go tool pprof -top and kprof agree ($out)" test $? -eq 0
pprof -traces -sample_index=samples "$WORK/go.pb.gz" >"$WORK/go-traces.txt"
out=$($CHECK traces "$WORK/go-traces.txt" "$WORK/go.folded" 2>&1)
check "Go's profile: go tool pprof -traces and kprof agree ($out)" test $? -eq 0
"$KPROF" report "$WORK/go.pb.gz" --per-cpu >"$WORK/go-report.txt"
check "Go's profile: kprof report names no CPU it does not know" \
	bash -c "grep -q '^# Samples: [0-9]*;' '$WORK/go-report.txt' && grep -q '^# No CPU id: ' '$WORK/go-report.txt'"

# -- malformed pprof files: one line naming the file, exit 2, no output left behind
python3 - "$WORK" <<'PY'
import gzip, os, sys
w = sys.argv[1]
def varint(n):
    out = b""
    while True:
        b, n = n & 0x7F, n >> 7
        if not n:
            return out + bytes([b])
        out += bytes([b | 0x80])
def field(num, data):
    return varint(num << 3 | 2) + varint(len(data)) + data
strings = field(6, b"") + field(6, b"samples") + field(6, b"count")
vtype = field(1, b"\x08\x01\x10\x02")
def write(name, msg):
    open(os.path.join(w, name), "wb").write(gzip.compress(msg))
write("dangling.pb.gz", vtype + field(2, field(1, b"\x07") + field(2, b"\x01")) + strings)
write("nostrings.pb.gz", vtype + field(6, b"samples"))
write("values.pb.gz", vtype + field(2, field(2, b"\x01\x02")) + strings)
write("notproto.pb.gz", b"\xff" * 64)
write("types.pb.gz", field(1, b"\x08\x09\x10\x02") + strings)
# Three samples of 2^63 - 1 each of one function: the sums overflow 64 bits.
big = varint((1 << 63) - 1)
sample = field(2, field(1, b"\x01") + field(2, big))
write("overflow.pb.gz", vtype + sample * 3 + field(5, b"\x08\x01\x10\x03") +
      field(4, b"\x08\x01" + field(4, b"\x08\x01")) + strings + field(6, b"f"))
good = open(os.path.join(w, "live.pb.gz"), "rb").read()
open(os.path.join(w, "truncated.pb.gz"), "wb").write(good[: len(good) // 2])
open(os.path.join(w, "bomb.pb.gz"), "wb").write(gzip.compress(b"\x00" * (600 << 20)))
PY
badpb() {
	local file=$1 want=$2 err status
	err=$("$KPROF" parse "$WORK/$file" -o "$WORK/bad.folded" 2>&1 >/dev/null)
	status=$?
	if [ "$status" -eq 2 ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] &&
		printf '%s' "$err" | grep -qF -- "$file: $want"; then
		pass "bad pprof: $file ($err)"
	else
		fail "bad pprof: $file" "exit $status: $err"
	fi
}
badpb dangling.pb.gz "not a valid pprof profile: a sample refers to location 7, which is absent"
badpb nostrings.pb.gz "not a valid pprof profile: the string table does not begin with"
badpb values.pb.gz "not a valid pprof profile: sample 0 has 2 values for 1 sample types"
badpb types.pb.gz "not a valid pprof profile: sample type 0 names no string"
badpb notproto.pb.gz "not a pprof profile (gzip data that holds no profile.proto message)"
badpb truncated.pb.gz "not a pprof profile (damaged or truncated gzip data)"
badpb bomb.pb.gz "more than 512 MiB once decompressed"
check "bad pprof: no output file is left behind" test ! -e "$WORK/bad.folded"
for cmd in parse report; do
	err=$("$KPROF" $cmd "$WORK/overflow.pb.gz" 2>&1 >/dev/null)
	check "pprof counts overflowing 64 bits: $cmd says so in one line, exit 1" \
		test $? -eq 1 -a "$err" = "kprof: $WORK/overflow.pb.gz: sample counts overflow 64 bits"
done
err=$("$KPROF" diff "$WORK/dangling.pb.gz" "$WORK/live.pb.gz" -o "$WORK/bad.svg" 2>&1)
check "bad pprof: diff exits 2 too" test $? -eq 2 -a ! -e "$WORK/bad.svg"
