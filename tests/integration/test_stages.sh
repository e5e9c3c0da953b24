#!/usr/bin/env bash
# A boot profiled from its first instruction, by stage: kprof collect --by-stage on the test
# kernel (2 vCPUs), its trace.json held against the guest's own markers (the BOOT_TIME lines
# of its serial output, and the port-0x80 codes of a boot profile of the same kernel), and
# kprof parse --per-stage (SVG and folded) against the trace; then the inputs that have no
# stages and --remote, each one line and a non-zero exit.  Linux: test_linux_stages.sh.
# sanitize: yes
set -u
. "$(dirname "$0")/lib.sh"
CHECK="$(dirname "$0")/stages_check.py"

# The guest's marker order: a boot profile of the same kernel (markers all come from CPU 0).
timeout 120 "$KPROF" run --cpus 2 --boot-profile=json --cmdline iterations=2 "$GUEST_NOFP" \
	>/dev/null 2>"$WORK/profile.err"
grep '^{' "$WORK/profile.err" | tail -1 >"$WORK/profile.json"

# Enough samples that the guest ends first: the run ends at its debug-exit (status 1: the
# guest ended before the last sample; what was sampled is written).
timeout 300 "$KPROF" collect --by-stage --samples 100000 --interval 0.002 -o "$WORK/stages.json" \
	-- --cpus 2 --serial "$WORK/serial.log" --cmdline iterations=40 "$GUEST_NOFP" \
	2>"$WORK/collect.err"
st=$?
if [ "$st" -eq 1 ] && grep -q 'sampling ended after .*: guest wrote 0x0 to the debug-exit port' \
	"$WORK/collect.err"; then
	pass "collect --by-stage: sampled until the guest's exit"
else
	fail "collect --by-stage" "status $st: $(tail -1 "$WORK/collect.err")"
fi

ok=1
"$KPROF" parse "$WORK/stages.json" --per-stage -o "$WORK/stages.svg" 2>"$WORK/parse.err" || ok=0
"$KPROF" parse "$WORK/stages.json" --per-stage -o "$WORK/stages.folded" 2>>"$WORK/parse.err" || ok=0
"$KPROF" parse "$WORK/stages.json" -o "$WORK/plain.folded" 2>>"$WORK/parse.err" || ok=0
[ $ok -eq 1 ] || fail "parse --per-stage" "$(head -1 "$WORK/parse.err")"
result=$(python3 "$CHECK" "$WORK/stages.json" "$WORK/serial.log" "$WORK/profile.json" \
	"$GUEST_NOFP" "$WORK/stages.svg" "$WORK/stages.folded" "$WORK/plain.folded")
if [ "${result#ok}" != "$result" ]; then
	pass "by stage: first instruction, the guest's stages in its order, SVG and folded ($result)"
else
	fail "by stage" "$result"
fi

# collect writes the per-stage SVG itself from -o's extension.
if timeout 300 "$KPROF" collect --by-stage --samples 30 --interval 0.01 -o "$WORK/direct.svg" \
	-- --cpus 2 --cmdline iterations=0 "$GUEST_NOFP" 2>"$WORK/direct.err" &&
	grep -q '<text class="heading"[^>]*>stage kernel: 1 samples' "$WORK/direct.svg"; then
	pass "collect --by-stage -o x.svg: one graph per stage, the first instruction's alone"
else
	fail "collect --by-stage -o x.svg" "$(tail -1 "$WORK/direct.err")"
fi

# Only the AP: before it starts the samples have no stack (not an error), then it has its own.
timeout 300 "$KPROF" collect --by-stage --cpu-mask 0x2 --samples 100000 --interval 0.002 \
	-o "$WORK/ap.json" -- --cpus 2 --cmdline iterations=10 "$GUEST_NOFP" 2>"$WORK/ap.err"
st=$?
if [ "$st" -eq 1 ] && grep -q 'guest wrote 0x0 to the debug-exit port' "$WORK/ap.err" &&
	python3 -c '
import json, sys
t = json.load(open(sys.argv[1]))["stack_traces"]
keys = [tuple(s) for s in t]
assert keys[0] == () and keys[-1] == ("1",), keys
assert keys == sorted(keys, key=len) and set(keys) <= {(), ("1",)}, keys
' "$WORK/ap.json"; then
	pass "collect --by-stage --cpu-mask 0x2: no stack until the AP starts, then CPU 1's"
else
	fail "collect --by-stage --cpu-mask 0x2" "status $st: $(tail -1 "$WORK/ap.err")"
fi

# A trace without stages (collected without --by-stage, or OSDK's) still parses, but has no
# stage to draw; folded stacks, backtraces and pprof carry none.
one_line_exit() {	# NAME STATUS PATTERN COMMAND...
	local name=$1 want=$2 pat=$3 got
	shift 3
	"$@" >/dev/null 2>"$WORK/one.err"
	got=$?
	if [ "$got" -eq "$want" ] && [ "$(wc -l <"$WORK/one.err")" -eq 1 ] &&
		grep -q "$pat" "$WORK/one.err"; then
		pass "$name"
	else
		fail "$name" "exit $got (wanted $want): $(head -2 "$WORK/one.err" | tr '\n' ' ')"
	fi
}
timeout 120 "$KPROF" collect --samples 5 --interval 0.01 -o "$WORK/old.json" -- --cpus 2 \
	--cmdline iterations=0 "$GUEST_NOFP" 2>/dev/null
check "a trace without stages parses as before" \
	"$KPROF" parse "$WORK/old.json" -o "$WORK/old.svg"
check "... and names no stage" bash -c "! grep -q 'stage' '$WORK/old.json' && ! grep -q 'class=\"heading\"' '$WORK/old.svg'"
one_line_exit "parse --per-stage of a trace without stages" 1 'no sample has a boot stage' \
	"$KPROF" parse "$WORK/old.json" --per-stage -o "$WORK/x.svg"
one_line_exit "parse --per-stage of folded stacks" 1 'folded stacks carry no boot stages' \
	"$KPROF" parse "$WORK/plain.folded" --per-stage -o "$WORK/x.svg"
check "no output file left by a refused --per-stage" test ! -e "$WORK/x.svg"

# --remote: a gdb stub cannot tell the guest's stage.
one_line_exit "collect --remote --by-stage" 2 'by-stage needs kprof.s own VM' \
	"$KPROF" collect --remote 127.0.0.1:1 --symbols "$GUEST_NOFP" --by-stage -o "$WORK/r.json"
check "no output file from --remote --by-stage" test ! -e "$WORK/r.json"
