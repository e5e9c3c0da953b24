#!/usr/bin/env bash
# kprof collect against the real test kernel under KVM: both guest builds (frame pointers and
# DWARF-only), 2 and 4 vCPUs, 500 samples each; then output formats, early ends and bad input.
# sanitize: yes
set -u
. "$(dirname "$0")/lib.sh"

# The call chains guest/README.md documents, one table row per CPU ("| 0 (BSP) | hash | `a` > ...").
README="$(dirname "$0")/../../guest/README.md"
# check_trace.py FILE NCPUS SAMPLES ELF README: prints one "ok ..." line or the first problem
# (shared with test_remote.sh).
cp "$(dirname "$0")/check_trace.py" "$WORK/check_trace.py"

for elf in "$GUEST" "$GUEST_NOFP"; do
	for cpus in 2 4; do
		name="collect $(basename "$elf" .elf) --cpus $cpus"
		out="$WORK/$(basename "$elf" .elf)-$cpus.json"
		if ! timeout 300 "$KPROF" collect --samples 500 --interval 0.002 -o "$out" -- \
			--cpus "$cpus" --cmdline iterations=0 "$elf" 2>"$WORK/err"; then
			fail "$name" "exit status $?: $(tail -1 "$WORK/err")"
			continue
		fi
		result=$(python3 "$WORK/check_trace.py" "$out" "$cpus" 500 "$elf" "$README")
		if [ "${result#ok}" != "$result" ]; then
			pass "$name ($result; $(grep -o 'stop time median [0-9.]* us' "$WORK/err"))"
		else
			fail "$name" "$result"
		fi
	done
done

# The summary line names samples, rate and stop times (stderr is not a terminal here).
check "collect prints a one-line summary" \
	grep -q '^kprof: 500 samples in .* s (.*/s), stop time median .* us, p99 .* us' "$WORK/err"

# Build id and kernel path are recorded.
bid=$(readelf -n "$GUEST_NOFP" | sed -n 's/.*Build ID: //p')
check "trace.json records the build id" grep -q "\"build_id\":\"$bid\"" "$WORK/kprof-guest-nofp-2.json"

# Output formats: folded and svg from -o's extension, speedscope by --format.
timeout 120 "$KPROF" collect --samples 50 --interval 0.002 --cpu-mask 0x2 -o "$WORK/t.folded" -- \
	--cpus 2 --cmdline iterations=0 "$GUEST_NOFP" 2>/dev/null
check "folded output from the .folded extension, only CPU 1" \
	bash -c "grep -q '^start64_ap;ap_main;run_workload;cpu_work;sort_workload;quicksort' '$WORK/t.folded' &&
		! grep -q 'kernel_main' '$WORK/t.folded' &&
		[ \$(awk '{s += \$NF} END {print s}' '$WORK/t.folded') -eq 50 ]"
timeout 120 "$KPROF" collect --samples 20 --interval 0.002 -o "$WORK/t.svg" -- \
	--cpus 2 --cmdline iterations=0 "$GUEST" 2>/dev/null
check "svg output from the .svg extension" \
	bash -c "grep -q '<svg' '$WORK/t.svg' && grep -q 'cpu_work' '$WORK/t.svg'"
timeout 120 "$KPROF" collect --samples 20 --frequency 500 --format speedscope -o "$WORK/t.ss" -- \
	--cpus 2 --cmdline iterations=0 "$GUEST" 2>/dev/null
check "speedscope output" grep -q '"type":"sampled".*"name":"CPU 1"' "$WORK/t.ss"

# --inline: functions inlined into the chains (xorshift into the workloads) become frames.
# (Every chain's workload calls the inlined xorshift; a second of samples sees it.)
timeout 120 "$KPROF" collect --inline --samples 200 --interval 0.005 \
	-o "$WORK/inl.folded" -- --cpus 2 --cmdline iterations=0 "$GUEST_NOFP" 2>/dev/null
check "--inline shows inlined functions as frames" \
	grep -Eq ';(hash|sort)_workload;xorshift ' "$WORK/inl.folded"

# --symbols: boot a stripped kernel, name frames from the unstripped file.
strip -o "$WORK/stripped.elf" "$GUEST_NOFP"
timeout 120 "$KPROF" collect --symbols "$GUEST_NOFP" --samples 30 --interval 0.002 \
	-o "$WORK/sym.folded" -- --cpus 2 --cmdline iterations=0 "$WORK/stripped.elf" 2>/dev/null
check "--symbols names a stripped kernel's frames" \
	grep -q '^start64_bsp;kernel_main;run_workload;cpu_work;hash_workload' "$WORK/sym.folded"

# Frame-pointer fallback: the frame-pointer build with its CFI sections removed unwinds through
# the rbp chain alone; the chains still hold and those frames say how they were found.
objcopy --remove-section .eh_frame --remove-section .eh_frame_hdr --remove-section .debug_frame \
	"$GUEST" "$WORK/nocfi.elf"
timeout 300 "$KPROF" collect --symbols "$WORK/nocfi.elf" --samples 200 --interval 0.002 \
	-o "$WORK/fp.json" -- --cpus 2 --cmdline iterations=0 "$GUEST" 2>"$WORK/err"
result=$(python3 "$WORK/check_trace.py" "$WORK/fp.json" 2 200 "$GUEST" "$README")
if [ "${result#ok}" != "$result" ] && grep -q 'frame pointers only' "$WORK/err" &&
	grep -q '"flags":{"0":\[0,1,1' "$WORK/fp.json"; then
	pass "frame-pointer fallback without CFI ($result)"
else
	fail "frame-pointer fallback without CFI" "$result"
fi

# --kaslr-offset moves every lookup: told the kernel sits 1 GiB higher than it does, no pc
# falls in a function, and each stack is one honest "??" rather than invented frames.
timeout 120 "$KPROF" collect --kaslr-offset 0x40000000 --samples 20 --interval 0.002 \
	-o "$WORK/kaslr.folded" -- --cpus 2 --cmdline iterations=0 "$GUEST_NOFP" 2>/dev/null
check "--kaslr-offset applies to every lookup" \
	bash -c "[ \"\$(cat '$WORK/kaslr.folded')\" = '?? 40' ]"

# kprof parse reads what collect wrote.
"$KPROF" parse "$WORK/kprof-guest-2.json" --format folded -o "$WORK/re.folded" 2>/dev/null
check "parse re-renders a collected trace.json" grep -q 'cpu_work;hash_workload' "$WORK/re.folded"

# The guest ends mid-run: what was sampled is written, exit status 1, the reason named.
timeout 120 "$KPROF" collect --samples 100000 --interval 0.002 -o "$WORK/short.json" -- \
	--cpus 2 --cmdline iterations=2 "$GUEST_NOFP" 2>"$WORK/err"
status=$?
n=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['stack_traces']))" \
	"$WORK/short.json" 2>/dev/null || echo 0)
if [ "$status" -eq 1 ] && [ "$n" -gt 0 ] && grep -q 'sampling ended after .*debug-exit' "$WORK/err"; then
	pass "guest exit mid-run: $n samples written, exit 1"
else
	fail "guest exit mid-run" "status $status, $n samples, $(tail -1 "$WORK/err")"
fi

# Ctrl-C ends sampling and still writes the file.
timeout --preserve-status -s INT 3 "$KPROF" collect --samples 1000000 --interval 0.01 -o "$WORK/int.json" -- \
	--cpus 2 --cmdline iterations=0 "$GUEST_NOFP" 2>"$WORK/err"
status=$?
n=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['stack_traces']))" \
	"$WORK/int.json" 2>/dev/null || echo 0)
if [ "$status" -eq 0 ] && [ "$n" -gt 0 ] && grep -q 'interrupted' "$WORK/err"; then
	pass "SIGINT ends collection, $n samples written"
else
	fail "SIGINT ends collection" "status $status, $n samples"
fi

# Bad input: one line naming the problem, exit status 2, nothing booted.
bad_input() {
	local name=$1 want=$2
	shift 2
	"$KPROF" collect "$@" 2>"$WORK/err" >/dev/null
	local status=$?
	if [ "$status" -eq 2 ] && [ "$(wc -l <"$WORK/err")" -eq 1 ] && grep -q "$want" "$WORK/err"; then
		pass "$name"
	else
		fail "$name" "status $status: $(cat "$WORK/err")"
	fi
}
bad_input "rejects --samples 0" "samples" --samples 0 -o "$WORK/x.json" -- "$GUEST"
bad_input "rejects a bad --cpu-mask" "cpu-mask" --cpu-mask 0xzz -- "$GUEST"
bad_input "rejects --interval with --frequency" "not both" --interval 1 --frequency 5 -- "$GUEST"
bad_input "rejects a missing kernel" "nonexistent.elf" -o "$WORK/x.json" -- "$WORK/nonexistent.elf"
bad_input "rejects a --symbols file that is not ELF" "not an ELF" --symbols "$WORK/check_trace.py" \
	-o "$WORK/x.json" -- "$GUEST"
bad_input "rejects a stripped kernel without --symbols" "no function symbols" \
	-o "$WORK/x.json" -- "$WORK/stripped.elf"
bad_input "rejects an unknown format" "format" --format pdf -- "$GUEST"
bad_input "rejects a mask with no vCPU" "cpu-mask" --cpu-mask 0x100 -o "$WORK/x.json" -- \
	--cpus 2 "$GUEST"
