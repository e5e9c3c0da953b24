#!/usr/bin/env bash
# Oracle for `monitor stacks`: the real gdb attached to `kprof run --gdb`, running the guest
# built without frame pointers on 2 and on 4 vCPUs, stops it at breakpoints in work_leaf (on each
# vCPU in turn) and in the timer interrupt, then at interrupts sent at random moments.  At every
# stop, kprof's own unwinding of every vCPU (`monitor stacks inline` and `monitor stacks`) must
# name the same functions, outermost to innermost, as gdb's `thread apply all bt` (see
# stacks_oracle.py for the two differences of presentation it allows for).  The frame-pointer
# build gets one shorter session on 2 vCPUs.
# sanitize: yes
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

INTERRUPTS=${ORACLE_INTERRUPTS:-50}
BP_HITS=3
SEED=${ORACLE_SEED:-$RANDOM}
VM_PID=
trap '[ -n "$VM_PID" ] && kill "$VM_PID" 2>/dev/null; wait 2>/dev/null' EXIT

if ! command -v gdb >/dev/null; then
	fail "stacks oracle: needs gdb (make deps installs it)"
	exit 0
fi

# oracle NCPUS GUEST BUILDNAME INTERRUPTS BP_HITS: one gdb session against a fresh VM; prints
# PASS or FAIL.
oracle() {
	local ncpu=$1 guest=$2 build=$3 interrupts=$4 hits=$5 port out name
	name="stacks oracle: monitor stacks equals gdb's bt on the $build guest, $ncpu vCPUs"
	out=$WORK/oracle-$build-$ncpu
	mkdir -p "$out"
	port=$(free_port)
	timeout 600 "$KPROF" run --gdb "tcp:127.0.0.1:$port" --gdb-wait --cpus "$ncpu" \
		--cmdline iterations=0 "$guest" >"$out/vm.out" 2>"$out/vm.err" &
	VM_PID=$!
	for _ in $(seq 300); do
		grep -q "gdb stub listening on" "$out/vm.err" 2>/dev/null && break
		sleep 0.1
	done
	ORACLE_RECORDS=$out/records.json ORACLE_INTERRUPTS=$interrupts ORACLE_BP_HITS=$hits \
		ORACLE_SEED=$SEED timeout 400 gdb -batch -nx -ex "set pagination off" \
		-ex "file $guest" -ex "target remote 127.0.0.1:$port" \
		-ex "source tests/integration/stacks_oracle.py" -ex kill \
		</dev/null >"$out/gdb.out" 2>&1
	# After gdb's kill the VM ends by itself (and the sanitizer build checks for leaks then).
	local ended=no st
	for _ in $(seq 300); do
		kill -0 "$VM_PID" 2>/dev/null || { ended=yes; break; }
		sleep 0.1
	done
	kill "$VM_PID" 2>/dev/null
	wait "$VM_PID" 2>/dev/null
	st=$?
	VM_PID=
	# gdb's kill ends the run as killed from the host (123); the sanitizer build would exit
	# 23 on a leak.
	if [ "$ended" = no ] || [ "$st" -ne 123 ]; then
		fail "$name: kprof ends with status 123 after gdb's kill" \
			"ended: $ended, status $st; $(grep -m1 'Sanitizer\|runtime error' "$out/vm.err")"
	fi
	if [ ! -s "$out/records.json" ]; then
		fail "$name" "gdb recorded nothing: $(tail -3 "$out/gdb.out" | tr '\n' ' ')"
		return
	fi
	python3 tests/integration/stacks_oracle.py "$out/records.json" >"$out/compare.txt" 2>&1
	local status=$? summary irq
	summary=$(tail -1 "$out/compare.txt")
	irq=$(grep -c '^same: .*(interrupt frame)' "$out/compare.txt")
	if [ "$status" -eq 0 ] && [ "$irq" -gt 0 ]; then
		pass "$name ($summary; seed $SEED)"
	else
		fail "$name" "$summary (ORACLE_SEED=$SEED)"
		grep -A4 '^differs' "$out/compare.txt" | head -20 | sed 's/^/    /'
	fi
}

# monitor_once NAME KPROF-RUN-OPTIONS...: boot the nofp guest with those options, stop it at
# work_leaf and print gdb's output for `monitor stacks` (into $WORK/NAME.out).
monitor_once() {
	local name=$1 port
	shift
	port=$(free_port)
	timeout 300 "$KPROF" run --gdb "tcp:127.0.0.1:$port" --gdb-wait --cpus 2 \
		--cmdline iterations=0 "$@" "$GUEST_NOFP" >/dev/null 2>"$WORK/$name.err" &
	VM_PID=$!
	for _ in $(seq 300); do
		grep -q "gdb stub listening on" "$WORK/$name.err" 2>/dev/null && break
		sleep 0.1
	done
	timeout 120 gdb -batch -nx -ex "set pagination off" -ex "file $GUEST_NOFP" \
		-ex "target remote 127.0.0.1:$port" -ex "break work_leaf" -ex continue \
		-ex "monitor stacks" -ex kill </dev/null >"$WORK/$name.out" 2>&1
	kill "$VM_PID" 2>/dev/null
	wait "$VM_PID" 2>/dev/null
	VM_PID=
}

# --symbols names the ELF explicitly; a wrong --kaslr-offset shifts every lookup (one '??' per
# vCPU, as no function covers the pc); an unreadable file is reported to gdb, and the run goes on.
monitor_once symbols --symbols "$GUEST_NOFP"
check "stacks oracle: --symbols names the ELF for monitor stacks" \
	grep -q '^#0  0x[0-9a-f]* in work_leaf ()' "$WORK/symbols.out"
monitor_once kaslr --symbols "$GUEST_NOFP" --kaslr-offset 0x100000
n=$(grep -c '^#0  0x[0-9a-f]* in ?? ()' "$WORK/kaslr.out")
check "stacks oracle: a wrong --kaslr-offset gives '??' on both vCPUs" [ "$n" -eq 2 ]
monitor_once missing --symbols "$WORK/no-such.elf"
check "stacks oracle: monitor stacks reports symbols it cannot load" \
	grep -q "cannot load the kernel's symbols" "$WORK/missing.out"

oracle 2 "$GUEST_NOFP" nofp "$INTERRUPTS" "$BP_HITS"
oracle 4 "$GUEST_NOFP" nofp "$INTERRUPTS" "$BP_HITS"
oracle 2 "$GUEST" fp 10 1
