#!/usr/bin/env bash
# The gdb stub of `kprof run --gdb`, driven by the real lldb (Debian's lldb-14) in batch mode
# against the bundled guest: threads, a breakpoint hit and its backtrace, a step, detach (the
# guest runs on to its end), attaching to a running VM, re-attaching right after a detach,
# and kill (answered as QEMU answers it: lldb waits for that reply).
# sanitize: yes
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

LLDB=${LLDB:-lldb-14}
trap stop_vm EXIT

if ! command -v "$LLDB" >/dev/null; then
	fail "lldb: needs $LLDB (make deps installs it)"
	exit 0
fi

# run_lldb OUT ELF COMMAND...: lldb in batch mode, one -o per COMMAND; sets lst to its status.
# A packet timeout well above lldb's 1 s: a busy machine or the sanitizer build can be slow
# to answer, and a slow answer is not what this test is about.
run_lldb() {
	local out=$1 elf=$2 args=()
	shift 2
	for c in "settings set plugin.process.gdb-remote.packet-timeout 30" "$@"; do
		args+=(-o "$c")
	done
	timeout 180 "$LLDB" --no-lldbinit --batch "${args[@]}" "$elf" >"$out" 2>&1
	lst=$?
}

# section OUT COMMAND: what lldb printed for COMMAND (its first occurrence), up to the next
# prompt.
section() {
	awk -v cmd="(lldb) $2" '$0 == cmd { on = 1; next } on && /^\(lldb\) / { exit } on' "$1"
}

# bt_chain OUT: the function names of the backtrace, innermost first, recursion collapsed.
bt_chain() {
	section "$1" bt | sed -n 's/^ *\*\{0,1\} *frame #[0-9]*: 0x[0-9a-f]* [^`]*`\([A-Za-z0-9_]*\).*/\1/p' |
		uniq | tr '\n' ' '
}

# The chains of guest/README.md at work_leaf, innermost first: thread 1 is CPU 0 (hash),
# thread 2 is CPU 1 (sort).
CHAIN1="work_leaf hash_mix hash_block hash_workload cpu_work run_workload kernel_main start64_bsp "
CHAIN2="work_leaf partition quicksort sort_workload cpu_work run_workload ap_main start64_ap "

# killed WHAT OUT: lldb's process kill got the answer it waits for, and kprof run ended.
killed() {
	check "lldb: process kill on $1 is answered: exited, status 0" \
		has "$2" '^Process 1 exited with status = 0 \(0x00000000\)'
	check "lldb: no 'failed to send the k packet' on $1" sh -c "! grep -q 'failed to send' '$2'"
	vm_wait
	check "lldb: kill ends kprof run on $1 (status $st)" test "$st" = 123
}

# session NAME ELF: threads, break, bt, registers, memory, step, detach on a finite guest halted
# from the start.
session() {
	local name=$1 elf=$2 port out tid chain want pc1 pc2
	port=$(free_port)
	start_vm "$name" "tcp::$port" --cpus 2 --cmdline iterations=30 --gdb-wait "$elf" || return
	out=$WORK/$name.lldb
	run_lldb "$out" "$elf" "gdb-remote 127.0.0.1:$port" "thread list" \
		"breakpoint set -n work_leaf" "continue" "bt" "register read" \
		'memory read -s1 -c8 -fx $pc' "register read rip" "thread step-inst" \
		"register read rip" "process detach"
	check "lldb $name: the session ran (lldb status $lst)" test "$lst" = 0
	check "lldb $name: thread list shows one thread per vCPU" \
		test "$(section "$out" "thread list" | grep -cE '^[* ] thread #[12]: tid = 0x000[12],')" -eq 2
	check "lldb $name: continue stops at the breakpoint in work_leaf" \
		has "$out" '^\* thread #[12], stop reason = breakpoint 1\.1$'
	tid=$(section "$out" bt | sed -n 's/^\* thread #\([12]\), stop reason = breakpoint.*/\1/p')
	chain=$(bt_chain "$out")
	want=$CHAIN1
	[ "$tid" = 2 ] && want=$CHAIN2
	if [ -n "$tid" ] && [ "$chain" = "$want" ]; then
		pass "lldb $name: bt on thread $tid is the guest's chain: $chain"
	else
		fail "lldb $name: bt on thread '$tid'" "got '$chain', wanted '$want'"
		section "$out" bt | sed 's/^/    /'
	fi
	check "lldb $name: register read: rip, control registers and efer" \
		sh -c "grep -qE '^ +rip = 0xffffffff8' '$out' && grep -qE '^ +cr3 = 0x' '$out' &&
			grep -qE '^ +efer = 0x' '$out'"
	check "lldb $name: memory read of 8 bytes at the pc" \
		test "$(section "$out" 'memory read -s1 -c8 -fx $pc' |
			grep -cE '^0xffffffff8[0-9a-f]+: (0x[0-9a-f]{2} ){7}0x[0-9a-f]{2}$')" -eq 1
	pc1=$(section "$out" "register read rip" | sed -n 's/^ *rip = \(0x[0-9a-f]*\).*/\1/p')
	pc2=$(awk '/^\(lldb\) thread step-inst$/ { on = 1 } on' "$out" |
		sed -n 's/^ *rip = \(0x[0-9a-f]*\).*/\1/p' | head -1)
	check "lldb $name: thread step-inst moves the pc ($pc1 -> $pc2)" \
		test -n "$pc1" -a -n "$pc2" -a "$pc1" != "$pc2"
	check "lldb $name: the step stops as a step" has "$out" 'stop reason = instruction step into'
	vm_wait
	check "lldb $name: after detach the guest runs to its end, kprof exits 0 (status $st)" \
		test "$st" = 0
	check "lldb $name: the guest completed its work" has "$WORK/$name.out" 'all 2 cpus done'
	stop_vm
}

# 1. Both builds: with frame pointers, and with DWARF CFI alone (lldb unwinds with it).
session fp "$GUEST"
session nofp "$GUEST_NOFP"

# 2. A running VM: attach (the stub stops it), detach, re-attach at once, then kill.
port=$(free_port)
if start_vm run "tcp::$port" --cpus 2 --cmdline iterations=0 --serial "$WORK/run.serial" "$GUEST"; then
	wait_ready "$WORK/run.serial"
	out=$WORK/run.lldb
	run_lldb "$out" "$GUEST" "gdb-remote 127.0.0.1:$port" "thread list" "process detach" \
		"gdb-remote 127.0.0.1:$port" "thread list" "process kill"
	check "lldb: attach, detach, re-attach and kill ran (lldb status $lst)" test "$lst" = 0
	check "lldb: no handshake failure on attaching to a running VM" \
		sh -c "! grep -q 'handshake' '$out'"
	check "lldb: both attaches list one thread per vCPU" \
		test "$(grep -cE '^[* ] thread #[12]: tid = 0x000[12],' "$out")" -eq 4
	check "lldb: the stub saw two debuggers come and go" \
		test "$(grep -c 'gdb stub: gdb attached' "$WORK/run.err")" -eq 2
	killed "a running VM" "$out"
fi
stop_vm

# 3. kill on a VM halted from the start: lldb's first and only request after attaching.
port=$(free_port)
if start_vm kill "tcp::$port" --cpus 1 --cmdline iterations=0 --gdb-wait "$GUEST"; then
	out=$WORK/kill.lldb
	run_lldb "$out" "$GUEST" "gdb-remote 127.0.0.1:$port" "process kill"
	check "lldb: process kill on a halted VM (lldb status $lst)" test "$lst" = 0
	killed "a halted VM" "$out"
fi
stop_vm
