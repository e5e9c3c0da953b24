#!/usr/bin/env bash
# kprof run --snapshot-on/--snapshot and --restore: a restored guest finishes with exit 0 and
# the same per-CPU checksums and iteration counts as a plain run (1 and 4 vCPUs, a snapshot at a
# port-0x80 code and one by signal in the middle of the workload); bad snapshot files fail with
# one line and a non-zero status.
# sanitize: yes
set -u
. "$(dirname "$0")/lib.sh"

# The per-CPU results a run prints: checksums and iteration counts (timer ticks vary).
results() {
	grep -oE 'cpu [0-9]+: (chain [a-z]+ done, checksum 0x[0-9a-f]+|[0-9]+ iterations)' "$1" | sort
}

round_trip() {
	local cpus=$1 iters=$2 name="snapshot round trip, $1 vCPU(s)"
	local d="$WORK/rt$cpus"
	mkdir -p "$d"
	timeout 120 "$KPROF" run --cpus "$cpus" --cmdline "iterations=$iters" \
		"$GUEST" >"$d/plain.out" 2>&1 || { fail "$name" "plain run failed"; return; }
	timeout 120 "$KPROF" run --cpus "$cpus" --cmdline "iterations=$iters" \
		--snapshot-on 0x60 --snapshot "$d/s.snap" "$GUEST" >"$d/snap.out" 2>"$d/snap.err" ||
		{ fail "$name" "snapshot run failed: $(cat "$d/snap.err")"; return; }
	[ -s "$d/s.snap" ] || { fail "$name" "no snapshot written"; return; }
	timeout 120 "$KPROF" run --restore "$d/s.snap" --boot-profile >"$d/restore.out" \
		2>"$d/restore.err"
	local st=$?
	[ "$st" -eq 0 ] || { fail "$name" "restore exited $st: $(head -3 "$d/restore.err")"; return; }
	results "$d/plain.out" >"$d/plain.res"
	results "$d/restore.out" >"$d/restore.res"
	local want=$((cpus * 2))
	if [ "$(wc -l <"$d/plain.res")" -eq "$want" ] && cmp -s "$d/plain.res" "$d/restore.res" &&
		! grep -q 'kprof-guest: freestanding' "$d/restore.out"; then
		pass "$name"
	else
		fail "$name" "results differ: $(diff "$d/plain.res" "$d/restore.res" | tr '\n' ' ')"
	fi
	if grep -q '^restore profile' "$d/restore.err" &&
		grep -q 'memory_state_write' "$d/restore.err" &&
		grep -q 'total with resume' "$d/restore.err"; then
		pass "restore profile, $cpus vCPU(s)"
	else
		fail "restore profile, $cpus vCPU(s)"
	fi
}

round_trip 1 3
round_trip 4 3

# A snapshot by signal in the middle of the workload (the hash chain has started).
d="$WORK/sig"
mkdir -p "$d"
rm -f "$d/run.out" "$d/s.snap"	# the wait below must see this run's output
"$KPROF" run --cpus 2 --cmdline iterations=40 --serial "$d/run.out" --snapshot-on SIGUSR2 --snapshot "$d/s.snap" \
	"$GUEST" 2>"$d/run.err" &
pid=$!
for _ in $(seq 200); do
	grep -q 'chain hash start' "$d/run.out" 2>/dev/null && break
	sleep 0.05
done
kill -USR2 "$pid" 2>/dev/null
wait "$pid"
st=$?
if [ "$st" -eq 0 ] && [ -s "$d/s.snap" ] && grep -q "snapshot $d/s.snap" "$d/run.err"; then
	timeout 120 "$KPROF" run --restore "$d/s.snap" --serial "$d/restore.out" 2>"$d/restore.err"
	rst=$?
	results "$d/run.out" >"$d/run.res"
	results "$d/restore.out" >"$d/restore.res"
	if [ "$rst" -eq 0 ] && [ "$(wc -l <"$d/run.res")" -eq 4 ] && cmp -s "$d/run.res" "$d/restore.res" &&
		! grep -q 'chain hash start' "$d/restore.out"; then
		pass "snapshot by signal mid-workload resumes where it stopped"
	else
		fail "snapshot by signal mid-workload resumes where it stopped" "restore status $rst"
	fi
else
	fail "snapshot by signal mid-workload resumes where it stopped" "run status $st"
fi

# Bad files: one line naming the file, status 2, nothing run.
good="$WORK/rt1/s.snap"
bad="$WORK/bad.snap"
bad_file() {
	local name=$1 want=$2 out st
	out=$(timeout 60 "$KPROF" run --restore "$bad" 2>&1 >/dev/null)
	st=$?
	if [ "$st" -eq 2 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] && echo "$out" | grep -q "$bad: .*$want"; then
		pass "bad snapshot: $name"
	else
		fail "bad snapshot: $name" "status $st: $out"
	fi
}
size=$(stat -c %s "$good")
head -c $((size - 4096)) "$good" >"$bad"
bad_file truncated truncated
head -c 50 "$good" >"$bad"
bad_file "truncated header" "truncated\|not a kprof"
cp "$good" "$bad"
printf '\x55' | dd of="$bad" bs=1 seek=$((size - 2000)) conv=notrunc status=none
bad_file "flipped byte in memory" "checksum mismatch"
cp "$good" "$bad"
printf '\x09' | dd of="$bad" bs=1 seek=$((4096 + 20)) conv=notrunc status=none
bad_file "flipped byte in state" "checksum mismatch"
cp "$good" "$bad"
printf '\x07' | dd of="$bad" bs=1 seek=8 conv=notrunc status=none
bad_file "wrong version" "version 7"
cp "$GUEST" "$bad"
bad_file "not a snapshot" "not a kprof snapshot"

out=$("$KPROF" run --snapshot-on 0x60 --snapshot "$WORK/no/such/dir/s.snap" "$GUEST" 2>&1 >/dev/null)
st=$?
if [ "$st" -eq 2 ] && [ "$(echo "$out" | wc -l)" -eq 1 ]; then
	pass "unwritable snapshot path fails before the run"
else
	fail "unwritable snapshot path fails before the run" "status $st: $out"
fi
expect_status "--snapshot without --snapshot-on" 2 "$KPROF" run --snapshot "$WORK/x.snap" "$GUEST"

# kprof collect can start from a snapshot: the profile begins inside the workload, and the
# snapshot names the kernel whose symbols unwind it.
timeout 120 "$KPROF" run --cpus 2 --cmdline iterations=60 --snapshot-on 0x60 \
	--snapshot "$WORK/c.snap" "$GUEST" >/dev/null 2>&1
timeout 120 "$KPROF" collect --samples 10 --interval 0.02 -o "$WORK/c.folded" -- \
	--restore "$WORK/c.snap" >/dev/null 2>&1
st=$?
if [ "$st" -eq 0 ] && grep -q 'run_workload;cpu_work;' "$WORK/c.folded" &&
	! grep -q 'acpi_\|smp_boot\|kernel_main;[a-z_]*init' "$WORK/c.folded"; then
	pass "collect from a snapshot"
else
	fail "collect from a snapshot" "status $st"
fi
