#!/usr/bin/env bash
# The bundled test kernel under an independent peer: QEMU (TCG) boots both builds through
# their PVH note, and gdb against QEMU's gdbstub unwinds the documented call chains.
set -u
. "$(dirname "$0")/lib.sh"

QEMU=qemu-system-x86_64
QEMU_PIDS=()
cleanup() {
	local p
	for p in "${QEMU_PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
}
trap cleanup EXIT

# boot NAME ELF SMP [CMDLINE]: runs QEMU to completion, output in $WORK/NAME.out, status in $WORK/NAME.status.
boot() {
	local name=$1 elf=$2 smp=$3 cmdline=${4:-}
	timeout 120 "$QEMU" -accel tcg -smp "$smp" -m 128M -kernel "$elf" ${cmdline:+-append "$cmdline"} \
		-device isa-debug-exit,iobase=0xf4,iosize=4 -display none -serial stdio -monitor none \
		-no-reboot </dev/null >"$WORK/$name.out" 2>&1
	echo $? >"$WORK/$name.status"
}

status_of() { cat "$WORK/$1.status"; }
has_line() { grep -q -- "$2" "$WORK/$1.out"; }

# expect_boot NAME: isa-debug-exit with 0 gives QEMU status (0 << 1) | 1 = 1.
expect_boot() {
	local name=$1 ncpus=$2 st
	st=$(status_of "$name")
	if [ "$st" -eq 1 ] && has_line "$name" "kprof-guest: all $ncpus cpus done"; then
		pass "guest qemu $name: $ncpus cpus, debug-exit status 1"
	else
		fail "guest qemu $name: $ncpus cpus, debug-exit status 1" "exit $st, wanted 1 and 'all $ncpus cpus done'"
		tail -20 "$WORK/$name.out" | sed 's/^/    /'
	fi
}

if ! command -v "$QEMU" >/dev/null; then
	fail "guest qemu: $QEMU is not installed (make deps installs qemu-system-x86)"
	exit 0
fi
for f in "$GUEST" "$GUEST_NOFP"; do
	[ -f "$f" ] || { fail "guest qemu: $f missing (run make guest)"; exit 0; }
done

boot smp1 "$GUEST" 1 "iterations=5"
boot smp2 "$GUEST" 2
boot smp4 "$GUEST" 4 "iterations=5"
boot nofp "$GUEST_NOFP" 2 "iterations=5"
expect_boot smp1 1
expect_boot smp2 2
expect_boot smp4 4
expect_boot nofp 2

check "guest smp2: cpu 0 hash chain done" has_line smp2 '^cpu 0: chain hash done, checksum 0x'
check "guest smp2: cpu 1 sort chain done" has_line smp2 '^cpu 1: chain sort done, checksum 0x'
check "guest smp4: cpu 2 matrix, cpu 3 crc done" \
	bash -c "grep -q '^cpu 2: chain matrix done' '$WORK/smp4.out' && grep -q '^cpu 3: chain crc done' '$WORK/smp4.out'"
check "guest smp2: madt lists 2 cpus" has_line smp2 'kprof-guest: 2 cpus in the madt'

missing=""
for stage in init_entry idt_ready clock_ready acpi_done smp_done work_start ready work_done; do
	grep -Eq "^BOOT_TIME:$stage:[0-9]+$" "$WORK/smp2.out" || missing="$missing $stage"
done
if [ -z "$missing" ]; then pass "guest: BOOT_TIME lines"; else fail "guest: BOOT_TIME lines" "missing:$missing"; fi

# The command line: iterations bounds the work, unknown options are reported and ignored.
boot cmdline "$GUEST" 1 "iterations=3 frobnicate=1"
check "guest: iterations=3 honoured" has_line cmdline '^cpu 0: 3 iterations'
check "guest: unknown option reported" has_line cmdline "ignoring unknown option 'frobnicate=1'"

# A CPU exception is reported and exits with 0x7f: QEMU status (0x7f << 1) | 1 = 255.
boot fault "$GUEST" 1 "fault=exception"
if [ "$(status_of fault)" -eq 255 ] && has_line fault 'exception 6 (invalid opcode)'; then
	pass "guest: exception reported, exit 0x7f"
else
	fail "guest: exception reported, exit 0x7f" "exit $(status_of fault)"
fi

# A frame-pointer walk done by hand in gdb (no DWARF): from $rbp follow [rbp] and take [rbp+8]
# as each caller's address, printing "FPCHAIN f1 f2 ...".
cat >"$WORK/fpwalk.py" <<'PY'
import gdb
rbp = int(gdb.parse_and_eval("$rbp")) & 0xffffffffffffffff
names = []
for _ in range(64):
    if rbp == 0:
        break
    ret = int(gdb.parse_and_eval("*(unsigned long *)%d" % (rbp + 8))) & 0xffffffffffffffff
    sym = gdb.execute("info symbol %d" % ret, to_string=True).split()
    names.append(sym[0] if sym and sym[0] != "No" else hex(ret))
    rbp = int(gdb.parse_and_eval("*(unsigned long *)%d" % rbp)) & 0xffffffffffffffff
print("FPCHAIN " + " ".join(names))
PY

# gdb against QEMU's gdbstub: NAME ELF BREAK-SPEC [EXTRA-GDB-COMMAND]; the output goes to $WORK/NAME.bt.
gdb_bt() {
	local name=$1 elf=$2 bp=$3 extra=${4:-echo} port qpid
	port=$(free_port)
	"$QEMU" -accel tcg -smp 2 -m 128M -kernel "$elf" -append "iterations=0" \
		-device isa-debug-exit,iobase=0xf4,iosize=4 -display none -serial null -monitor none \
		-no-reboot -S -gdb "tcp:127.0.0.1:$port" </dev/null >"$WORK/$name.qemu" 2>&1 &
	qpid=$!
	QEMU_PIDS+=("$qpid")
	timeout 60 gdb -batch -nx -ex "set tcp auto-retry on" -ex "set tcp connect-timeout 20" \
		-ex "file $elf" -ex "target remote 127.0.0.1:$port" -ex "$bp" -ex continue -ex bt \
		-ex "$extra" -ex kill </dev/null >"$WORK/$name.bt" 2>&1
	kill "$qpid" 2>/dev/null
	wait "$qpid" 2>/dev/null
}

# bt_has NAME FUNC...: every FUNC appears as a frame of the backtrace.
bt_has() {
	local name=$1 f
	shift
	for f in "$@"; do
		grep -Eq "^#[0-9]+ +(0x[0-9a-f]+ in )?$f \(" "$WORK/$name.bt" || return 1
	done
}

for build in fp nofp; do
	elf=$GUEST
	[ "$build" = nofp ] && elf=$GUEST_NOFP
	gdb_bt "leaf-$build" "$elf" "break work_leaf"
	if bt_has "leaf-$build" work_leaf cpu_work &&
		{ bt_has "leaf-$build" hash_mix hash_block hash_workload ||
		  bt_has "leaf-$build" partition quicksort sort_workload; }; then
		pass "guest gdb ($build): bt at work_leaf reaches cpu_work through the chain"
	else
		fail "guest gdb ($build): bt at work_leaf reaches cpu_work through the chain"
		sed 's/^/    /' "$WORK/leaf-$build.bt"
	fi
	# The timer stub's CFI: from the interrupt handler back into the interrupted workload.
	gdb_bt "irq-$build" "$elf" "break tick_account if work_done[0] > 2" "source $WORK/fpwalk.py"
	if bt_has "irq-$build" tick_account timer_interrupt cpu_work &&
		grep -q '<signal handler called>' "$WORK/irq-$build.bt"; then
		pass "guest gdb ($build): bt from the timer interrupt reaches cpu_work"
	else
		fail "guest gdb ($build): bt from the timer interrupt reaches cpu_work"
		sed 's/^/    /' "$WORK/irq-$build.bt"
	fi
done

# The frame-pointer build alone: a plain rbp walk from the timer handler crosses the interrupt
# frame (timer_entry links its rbp to the interrupted one) and reaches cpu_work and the BSP/AP entry.
if grep -Eq '^FPCHAIN (tick_update )?timer_interrupt timer_entry .* cpu_work run_workload (ap_main|kernel_main) start64_(ap|bsp)$' \
	"$WORK/irq-fp.bt"; then
	pass "guest (fp): frame-pointer walk from the timer interrupt reaches cpu_work"
else
	fail "guest (fp): frame-pointer walk from the timer interrupt reaches cpu_work"
	grep FPCHAIN "$WORK/irq-fp.bt" | sed 's/^/    /'
fi
