#!/usr/bin/env bash
# The gdb stub of `kprof run --gdb`, driven by the real gdb in batch mode against the bundled
# guest (both builds), plus a raw-socket client that sends what gdb never would.
# sanitize: yes
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

GDB_TIMEOUT=120
trap stop_vm EXIT

run_gdb() {
	local out=$1
	shift
	timeout "$GDB_TIMEOUT" gdb -batch -nx "$@" >"$out" 2>&1
}

# 1. A full session on the frame-pointer build, halted from the start (--gdb-wait).
port=$(free_port)
if start_vm s1 "tcp::$port" --cpus 2 --cmdline iterations=0 --gdb-wait "$GUEST"; then
	out=$WORK/s1.gdb
	run_gdb "$out" "$GUEST" -ex "target remote :$port" \
		-ex 'info threads' -ex 'break work_leaf' -ex 'continue' -ex 'bt' \
		-ex 'printf "PC1=%lx\n", $pc' -ex 'stepi' -ex 'printf "PC2=%lx\n", $pc' \
		-ex 'info registers' -ex 'x/8xb $pc' -ex 'p $rsp' \
		-ex 'set var kprof_marker = 1234' -ex 'printf "MARKER=%d\n", kprof_marker' \
		-ex 'delete' -ex 'monitor info cpus' -ex 'monitor help' -ex 'kill'
	check "gdb: info threads lists one thread per vCPU" \
		test "$(grep -cE '^[* ] +[0-9]+ +Thread [0-9]+ \(CPU#[0-9]' "$out")" -eq 2
	check "gdb: break work_leaf + continue stops there" has "$out" 'hit Breakpoint 1, work_leaf'
	check "gdb: bt shows work_leaf called from cpu_work" \
		has "$out" '^#[1-9].* in cpu_work '
	check "gdb: bt frame 0 is work_leaf" has "$out" '^#0 +work_leaf '
	pc1=$(sed -n 's/^PC1=//p' "$out")
	pc2=$(sed -n 's/^PC2=//p' "$out")
	check "gdb: stepi moves the pc ($pc1 -> $pc2)" test -n "$pc1" -a -n "$pc2" -a "$pc1" != "$pc2"
	check "gdb: info registers (general, rip, eflags)" has "$out" '^rip +0xffffffff8'
	check "gdb: info registers shows segment and control registers" \
		sh -c "grep -qE '^cs +0x' '$out' && grep -qE '^fs_base ' '$out' && grep -qE '^cr3 +0x' '$out' && grep -qE '^efer +0x' '$out'"
	check "gdb: x/8xb \$pc reads 8 bytes" \
		has "$out" '^0x[0-9a-f]+ <[^>]+>:(\s+0x[0-9a-f]{2}){8}$'
	check "gdb: p \$rsp" has "$out" '^\$[0-9]+ = \(void \*\) 0xffffffff8[0-9a-f]+'
	check "gdb: set var on a guest global reads back" has "$out" '^MARKER=1234$'
	check "gdb: monitor info cpus prints each vCPU and its pc" \
		sh -c "grep -qE 'CPU#0 .*pc=0x' '$out' && grep -qE 'CPU#1 .*pc=0x' '$out'"
	check "gdb: monitor help" has "$out" 'info cpus'
	vm_wait
	check "gdb: kill ends kprof run (status $st)" test "$st" = 123
fi
stop_vm

# 2. The build without frame pointers: gdb unwinds with the CFI alone.
port=$(free_port)
if start_vm s2 "tcp::$port" --cpus 2 --cmdline iterations=0 --gdb-wait "$GUEST_NOFP"; then
	out=$WORK/s2.gdb
	run_gdb "$out" "$GUEST_NOFP" -ex "target remote :$port" -ex 'break work_leaf' \
		-ex 'continue' -ex 'bt' -ex 'kill'
	check "gdb (no frame pointers): break work_leaf" has "$out" 'hit Breakpoint 1, work_leaf'
	check "gdb (no frame pointers): bt reaches cpu_work" has "$out" '^#[1-9].* in cpu_work '
	check "gdb (no frame pointers): bt is complete (no corrupt stack)" \
		sh -c "! grep -qE 'Backtrace stopped|corrupt stack' '$out'"
fi
stop_vm

# 3. Interrupt a running guest (gdb's Ctrl-C is a 0x03 on the wire), detach, re-attach.
port=$(free_port)
if start_vm s3 "tcp::$port" --cpus 2 --cmdline iterations=0 "$GUEST"; then
	out=$WORK/s3.gdb
	gdb -batch -nx "$GUEST" -ex "target remote :$port" -ex 'continue' -ex 'info threads' \
		-ex 'monitor info cpus' -ex 'detach' >"$out" 2>&1 &
	gdb_pid=$!
	for _ in $(seq 300); do
		grep -q "^Continuing" "$out" && break
		sleep 0.1
	done
	sleep 1
	kill -INT "$gdb_pid" 2>/dev/null
	for _ in $(seq "$((GDB_TIMEOUT * 10))"); do
		kill -0 "$gdb_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$gdb_pid" 2>/dev/null
	wait "$gdb_pid" 2>/dev/null
	check "gdb: Ctrl-C stops the guest" has "$out" 'received signal SIGINT'
	# Registers are readable only from halted vCPUs: both answering means all stopped.
	check "gdb: Ctrl-C stopped every vCPU" \
		sh -c "grep -qE 'CPU#0 .*pc=0x' '$out' && grep -qE 'CPU#1 .*pc=0x' '$out'"
	check "gdb: detach" has "$out" 'Inferior 1 \(Remote target\) detached'
	sleep 1
	check "gdb: the guest runs on after detach" kill -0 "$VM_PID"
	out=$WORK/s3b.gdb
	run_gdb "$out" "$GUEST" -ex "target remote :$port" -ex 'info threads' -ex 'kill'
	check "gdb: a second gdb attaches after the first detached" \
		test "$(grep -cE 'Thread [0-9]+ \(CPU#' "$out")" -eq 2
fi
stop_vm

# 4. Detach lets a finite guest run to its end, and kprof exits with the guest's status 0.
port=$(free_port)
if start_vm s4 "tcp::$port" --cpus 2 --cmdline iterations=30 --gdb-wait "$GUEST"; then
	out=$WORK/s4.gdb
	run_gdb "$out" "$GUEST" -ex "target remote :$port" -ex 'break cpu_work' -ex 'continue' \
		-ex 'delete' -ex 'detach'
	check "gdb: stopped in cpu_work before detaching" has "$out" 'hit Breakpoint 1, cpu_work'
	vm_wait
	check "gdb: after detach the guest finishes, kprof exits 0 (status $st)" test "$st" = 0
	check "gdb: the guest completed its work" has "$WORK/s4.out" 'all 2 cpus done'
fi
stop_vm

# 4b. disconnect leaves the VM halted where it was; the next gdb continues it to its exit.
port=$(free_port)
if start_vm s4b "tcp::$port" --cpus 2 --cmdline iterations=30 --gdb-wait "$GUEST"; then
	out=$WORK/s4b.gdb
	run_gdb "$out" "$GUEST" -ex "target remote :$port" -ex 'break work_leaf' -ex 'continue' \
		-ex 'delete' -ex 'printf "PCA=%lx\n", $pc' -ex 'monitor info cpus' -ex 'disconnect'
	sleep 1
	check "gdb: the VM stays up after disconnect" kill -0 "$VM_PID"
	out2=$WORK/s4c.gdb
	run_gdb "$out2" "$GUEST" -ex "target remote :$port" -ex 'printf "PCB=%lx\n", $pc' \
		-ex 'monitor info cpus' -ex 'continue'
	pca=$(sed -n 's/^PCA=//p' "$out")
	pcb=$(sed -n 's/^PCB=//p' "$out2")
	check "gdb: the next gdb starts on the vCPU that stopped ($pca = $pcb)" \
		test -n "$pca" -a "$pca" = "$pcb"
	check "gdb: after disconnect every vCPU stayed halted" \
		test "$(grep -c 'CPU#.*pc=' "$out")" -eq 2 -a \
		"$(grep 'CPU#.*pc=' "$out")" = "$(grep 'CPU#.*pc=' "$out2")"
	check "gdb: the guest's exit reaches gdb" has "$out2" 'Inferior 1 \(Remote target\) exited normally'
	vm_wait
	check "gdb: kprof exits with the guest's status after it (status $st)" test "$st" = 0
fi
stop_vm

# 5. All four debug registers in use: the fifth breakpoint fails visibly, the rest work.
port=$(free_port)
if start_vm s5 "tcp::$port" --cpus 2 --cmdline iterations=0 --gdb-wait "$GUEST"; then
	out=$WORK/s5.gdb
	run_gdb "$out" "$GUEST" -ex "target remote :$port" -ex 'break hash_mix' \
		-ex 'break partition' -ex 'break dot_row' -ex 'break crc_word' -ex 'break cpu_work' \
		-ex 'continue' -ex 'delete 5' -ex 'continue' -ex 'kill'
	check "gdb: a fifth breakpoint is refused" has "$out" 'Cannot insert breakpoint 5'
	check "gdb: the stub says why" has "$WORK/s5.err" 'hardware debug registers are in use'
	check "gdb: the four others still stop the guest" \
		has "$out" 'hit Breakpoint [1-4], (hash_mix|partition|dot_row|crc_word)'
fi
stop_vm

# 6. Raw socket: garbage, bad checksums, oversized/truncated packets, out-of-range memory,
#    a second connection; gdb attaches fine afterwards.
port=$(free_port)
if start_vm s6 "tcp::$port" --cpus 2 --cmdline iterations=0 "$GUEST"; then
	timeout 120 python3 tests/integration/rsp_abuse.py 127.0.0.1 "$port"
	out=$WORK/s6.gdb
	run_gdb "$out" "$GUEST" -ex "target remote :$port" -ex 'info threads' -ex 'kill'
	check "gdb attaches after the abuse" \
		test "$(grep -cE 'Thread [0-9]+ \(CPU#' "$out")" -eq 2
	vm_wait
	check "kprof survived the abuse and ended on kill (status $st)" test "$st" = 123
fi
stop_vm

# 7. A Unix socket, and a bad address.
sock=$WORK/gdb.sock
if start_vm s7 "unix:$sock" --cpus 1 --cmdline iterations=0 "$GUEST"; then
	out=$WORK/s7.gdb
	run_gdb "$out" "$GUEST" -ex "target remote $sock" -ex 'info threads' -ex 'kill'
	check "gdb over a unix socket" has "$out" 'Thread 1 \(CPU#0'
fi
stop_vm
"$KPROF" run --gdb tcp:localhost:notaport "$GUEST" >/dev/null 2>"$WORK/bad.err"
st=$?
check "a bad --gdb address is rejected with status 2 ($st)" test "$st" = 2
check "a bad --gdb address is named" has "$WORK/bad.err" "notaport"

# 8. Ctrl-C ends a run that serves gdb, as it ends one that does not.
port=$(free_port)
if start_vm s8 "tcp::$port" --cpus 2 --cmdline iterations=0 "$GUEST"; then
	kill -INT "$VM_PID"
	vm_wait
	check "Ctrl-C ends kprof run --gdb with status 130 ($st)" test "$st" = 130
fi
stop_vm
