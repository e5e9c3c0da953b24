#!/usr/bin/env bash
# Oracle for the unwinder: gdb, attached to QEMU's gdbstub running the frame-pointer-less guest,
# stops it many times (breakpoints in the chains and in the timer interrupt, then interrupts at
# random moments), and at each stop records for every vCPU its registers,
# its stack window and its backtrace (function names, inlined functions included, the
# "<signal handler called>" frame named by its symbol).  kprof's unwinder, given only the
# registers and the stack window, must name the same frames in the same order.
# sanitize: yes
set -u
. "$(dirname "$0")/lib.sh"
: "${BUILD:=build}"

QEMU=qemu-system-x86_64
STOPS=100
SEED=${ORACLE_SEED:-$RANDOM}
QPID=
trap '[ -n "$QPID" ] && kill "$QPID" 2>/dev/null; wait 2>/dev/null' EXIT

if ! command -v "$QEMU" >/dev/null || ! command -v gdb >/dev/null; then
	fail "unwind oracle: needs $QEMU and gdb (make deps installs them)"
	exit 0
fi

# The helper links the library of the build under test (sanitizer flags for build/san).
san=
case "$BUILD" in *san*) san="-fsanitize=address,undefined" ;; esac
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory "$@"; }
if ! cc -std=gnu11 -O1 -g $san -I. $(mk print-LIB_CFLAGS) -D_GNU_SOURCE \
	-o "$WORK/oracle_unwind" tests/integration/oracle_unwind.c "$BUILD/libkprof.a" \
	$(mk print-LDLIBS) 2>"$WORK/cc.err"; then
	fail "unwind oracle: helper does not build" "$(head -3 "$WORK/cc.err")"
	exit 0
fi

cat >"$WORK/dump.py" <<'PY'
import gdb, os, random, signal, threading

work, stops = os.environ["ORACLE_WORK"], int(os.environ["ORACLE_STOPS"])
mask = (1 << 64) - 1
regnames = ["rip", "rsp", "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp",
            "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"]

def symbol(pc):
    words = gdb.execute("info symbol 0x%x" % pc, to_string=True).split()
    return words[0] if words and words[0] != "No" else "??"

def names():
    out, f = [], gdb.newest_frame()
    while f is not None and len(out) < 64:
        if f.type() == gdb.SIGTRAMP_FRAME:
            out.append(symbol(f.pc()))  # gdb's "<signal handler called>": the entry stub
        else:
            out.append(f.name() or "??")
        try:
            f = f.older()
        except gdb.error:
            break
    return out

def stack(rsp):
    for size in (16384, 8192, 4096, 4096 - (rsp & 4095)):
        try:
            return bytes(gdb.selected_inferior().read_memory(rsp, size))
        except gdb.MemoryError:
            pass
    return b""

def record(stop):
    # gdb hides an inlined call whose first instruction is the stop pc, but only for the
    # thread that reported the stop; kprof hides it for every vCPU.  Say which one it was.
    event = gdb.selected_thread().num
    for th in gdb.selected_inferior().threads():
        th.switch()
        frame = gdb.newest_frame()
        regs = [int(frame.read_register(r)) & mask for r in regnames]
        path = os.path.join(work, "stack-%d-%d.bin" % (stop, th.num))
        open(path, "wb").write(stack(regs[1]))
        records.write("STATE %s %s\n" % (path, " ".join("%x" % v for v in regs)))
        records.write("GDB %d %s\n" % (th.num == event, " ".join(names())))

records = open(os.path.join(work, "records.txt"), "w")
# Half the stops at breakpoints; each holds for one vCPU only, so the other one stops
# wherever it happens to be.
for bp in ("work_leaf thread 1 if work_done[0] > 1", "hash_block thread 1 if work_done[0] > 2",
           "partition thread 2 if work_done[1] > 1", "quicksort thread 2 if work_done[1] > 2",
           "tick_account thread 1 if work_done[0] > 1", "tick_account thread 2 if work_done[1] > 1"):
    gdb.execute("break " + bp, to_string=True)
for stop in range(stops // 2):
    gdb.execute("continue", to_string=True)
    record(stop)
# The other half interrupted at random moments (SIGINT to gdb, as a user's Ctrl-C).
gdb.execute("delete", to_string=True)
random.seed(int(os.environ["ORACLE_SEED"]))
# The timer starts once the target is resumed: a SIGINT while gdb is still in Python (a busy
# host can take longer than the delay to get there) would be a KeyboardInterrupt instead.
delays = []
def interrupt_later(_event):
    if delays:
        threading.Timer(delays.pop(), os.kill, (os.getpid(), signal.SIGINT)).start()
gdb.events.cont.connect(interrupt_later)
for stop in range(stops // 2, stops):
    delays.append(random.uniform(0.005, 0.05))
    gdb.execute("continue", to_string=True)
    record(stop)
records.close()
PY

port=$(free_port)
"$QEMU" -accel tcg -smp 2 -m 128M -kernel "$GUEST_NOFP" -append "iterations=0" \
	-device isa-debug-exit,iobase=0xf4,iosize=4 -display none -serial null -monitor none \
	-no-reboot -S -gdb "tcp:127.0.0.1:$port" </dev/null >"$WORK/qemu.out" 2>&1 &
QPID=$!
ORACLE_WORK=$WORK ORACLE_STOPS=$STOPS ORACLE_SEED=$SEED timeout 300 gdb -batch -nx \
	-ex "set tcp auto-retry on" -ex "set tcp connect-timeout 20" -ex "set pagination off" \
	-ex "file $GUEST_NOFP" -ex "target remote 127.0.0.1:$port" \
	-ex "source $WORK/dump.py" \
	-ex kill </dev/null >"$WORK/gdb.out" 2>&1
kill "$QPID" 2>/dev/null
wait "$QPID" 2>/dev/null
QPID=

n=$(grep -c '^GDB ' "$WORK/records.txt" 2>/dev/null || echo 0)
if [ "$n" -ne $((STOPS * 2)) ]; then
	fail "unwind oracle: gdb recorded $n of $((STOPS * 2)) vCPU states" "$(tail -3 "$WORK/gdb.out")"
	exit 0
fi
"$WORK/oracle_unwind" "$GUEST_NOFP" "$WORK/records.txt" >"$WORK/compare.txt" 2>&1
status=$?
summary=$(tail -1 "$WORK/compare.txt")
irq=$(grep -c '^same: .*timer_entry' "$WORK/compare.txt")
if [ "$status" -eq 0 ] && [ "$irq" -gt 0 ]; then
	pass "unwind oracle: kprof's stacks equal gdb's on the nofp guest ($summary; $irq through the timer interrupt; seed $SEED)"
else
	fail "unwind oracle: kprof's stacks equal gdb's on the nofp guest" \
		"$summary, $irq via interrupts (ORACLE_SEED=$SEED)"
	grep '^differs' "$WORK/compare.txt" | head -5 | sed 's/^/    /'
fi
