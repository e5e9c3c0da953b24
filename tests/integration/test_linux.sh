#!/usr/bin/env bash
# kprof collect --remote on a real Linux kernel: a Debian cloud kernel under QEMU TCG with
# 2 vCPUs, named by its -dbg package's vmlinux (DWARF + ORC), running the workloads of
# tests/linux/init.sh (CPU 0 in user mode, CPU 1 in system calls, forks and idle).
#  - oracle, at hardware breakpoints in a system call (ksys_write), in exception handling
#    (handle_mm_fault), in a timer interrupt (__sysvec_apic_timer_interrupt), in the idle
#    loop (default_idle_call), in error_entry after its pushes (kprof shows the stub that
#    called it, as gdb does, then what the pt_regs there say was interrupted), and at
#    unplanned stops: gdb's `thread apply all bt` and one
#    kprof sample name the same C frames on every CPU, innermost first, up to the assembly
#    entry code (where gdb, having only DWARF, stops and ORC goes on); a vCPU in user mode is
#    one [user] frame; kprof's stack ends in [user] or in one of the kernel's outermost
#    frames.  The stops show syscall, page-fault and interrupt entry each at least once;
#  - a 300-sample profile: every frame named from the symbol table (at most 3 stacks of 600
#    may reach a "??" pc, where boot-time patched code does not match ORC), every stack ends
#    in [user] or an outermost frame (at most 12 may stop early in code that has no unwind
#    data, such as inside retpoline thunks; both are counted), CPU 0 is [user], CPU 1 shows
#    read/write system calls from user mode through entry_SYSCALL_64 and the idle loop;
#  - KASLR: the same kernel booted without nokaslr, profiled with --kaslr-offset (the slide
#    the guest's /proc/kallsyms shows): the stacks are named as without KASLR; and without
#    --kaslr-offset: kprof finds that same slide in the target by itself.
#
#   test_linux.sh [FIXTURE-DIR [cloud|generic] [6.1|6.12]]    (default: build/linux cloud 6.1)
#
# The fixture (tests/linux/fixture.sh, run by make deps) is about 300 MB of Debian packages.
# make check (tests/run.sh) runs it once per "run with:" line:
# run with: build/linux cloud 6.1
# run with: build/linux-6.12 cloud 6.12
# sanitize: yes
set -u
. "$(dirname "$0")/lib.sh"

QEMU=qemu-system-x86_64
# The kernel: a fixture directory and what tests/linux/fixture.sh puts there.
FIX=${1:-build/linux}
FLAVOUR=${2:-cloud}
SERIES=${3:-6.1}
K="linux $FLAVOUR $SERIES:"   # test names say which kernel
VMLINUX=$FIX/vmlinux
PEER_PID=
trap 'stop_peer' EXIT

if ! command -v "$QEMU" >/dev/null || ! command -v gdb >/dev/null; then
	fail "linux: needs $QEMU and gdb (make deps installs them)"
	exit 0
fi
if ! bash "$(dirname "$0")/../linux/fixture.sh" "$FIX" "$FLAVOUR" "$SERIES" >"$WORK/fixture.log" 2>&1
then
	fail "linux: the Debian $FLAVOUR $SERIES kernel fixture could not be made" \
		"$(tail -1 "$WORK/fixture.log")"
	exit 0
fi

# start_linux [APPEND]: boot the fixture with a gdb stub on a free port and wait for /init's
# workloads (lib.sh's start_linux_qemu, which says why the CPU has no cmpxchg16b).
start_linux() { start_linux_qemu "$FIX/vmlinuz" "$FIX/initramfs.cpio" "$@"; }

collect() {
	timeout 300 "$KPROF" collect --remote "tcp:127.0.0.1:$PORT" --symbols "$VMLINUX" "$@"
}

ORACLE=$(dirname "$0")/linux_oracle.py
# The kernel's entry-text names, function symbols and their spans.
python3 "$ORACLE" syms "$VMLINUX" "$WORK/syms.json"

# gdb's view of the halted kernel (linux_oracle.py says what it records).
gdb_bt() {
	BT_OUT=$1 ERROR_ENTRY_PC=$ERROR_ENTRY_PC timeout 120 gdb -q -nx -batch -ex "target remote 127.0.0.1:$PORT" -x "$ORACLE" \
		-ex disconnect "$VMLINUX" >"$WORK/gdb.log" 2>&1
}

# --- The oracle at breakpoints and unplanned stops.
name="$K oracle: gdb and kprof name the same frames at syscall, fault, interrupt, idle and random stops"
if ! start_linux; then
	fail "$name" "Linux did not come up: $(tail -3 "$SERIAL" 2>/dev/null | tr '\n' ' ')"
	exit 0
fi
# error_entry's first instruction after the pushes (`testb $3, CS+8(%rsp)`: is the pt_regs'
# cs user mode's?), where the return address into the stub is on top of them.
ERROR_ENTRY_PC=$(objdump -d --no-show-raw-insn "$VMLINUX" \
	--start-address=0x"$(nm "$VMLINUX" | awk '$3 == "error_entry" { print $1; exit }')" \
	2>/dev/null | awk '/testb +\$0x3,0x90\(%rsp\)/ { print "0x" $1; exit }' | tr -d :)
stops=0 problem= entries= ee_stack=
for bp in ksys_write handle_mm_fault __sysvec_apic_timer_interrupt default_idle_call \
	"*$ERROR_ENTRY_PC" - - - - - -; do
	if [ "$bp" = - ]; then
		sleep 0.$((RANDOM % 9 + 1))
		monitor stop
	else
		# Run to a hardware breakpoint, then disconnect: QEMU stays paused.
		timeout 120 gdb -q -nx -batch -ex "target remote 127.0.0.1:$PORT" -ex "hbreak $bp" \
			-ex continue -ex delete -ex disconnect "$VMLINUX" >"$WORK/gdb-run.log" 2>&1
	fi
	gdb_bt "$WORK/gdb.json"
	if ! collect --samples 1 -o "$WORK/one.json" 2>"$WORK/one.err"; then
		problem="at $bp: exit $?: $(tail -1 "$WORK/one.err")"
		break
	fi
	result=$(python3 "$ORACLE" compare "$WORK/gdb.json" "$WORK/one.json" "$WORK/syms.json")
	case $result in
	ok*) stops=$((stops + 1)); r=${result#ok }; entries="$entries ${r%%|*}" ;;
	*) problem="at $bp: $result"; break ;;
	esac
	if [ "$bp" = "*$ERROR_ENTRY_PC" ]; then
		case $result in *"error_entry<stub"*) ;; *)
			problem="at error_entry after its pushes (pc $ERROR_ENTRY_PC): kprof and gdb do not both show the stub below it: $result"
			break ;;
		esac
		ee_stack=$(python3 -c 'import json, sys
for s in json.load(open(sys.argv[1]))["stack_traces"][0].values():
    if s[0] == "error_entry": print(" < ".join(s[:3])); break' "$WORK/one.json")
	fi
	monitor cont
done
if [ -n "$problem" ]; then
	fail "$name" "$problem"
else
	pass "$name ($stops stops; at error_entry: $ee_stack ...)"
	# The stops went through each kind of entry at least once.
	name="$K oracle: the stops went through system-call, page-fault and interrupt entry, checked against pt_regs"
	missing=
	for want in entry_SYSCALL_64 asm_exc_page_fault asm_sysvec_apic_timer_interrupt user pt_regs; do
		case " $entries " in *" $want"*) ;; *) missing="$missing $want" ;; esac
	done
	if [ -z "$missing" ]; then
		pass "$name (saw: $(echo $entries | tr ' ' '\n' | sort -u | tr '\n' ' '))"
	else
		fail "$name" "never seen:$missing (saw:$entries)"
	fi
fi

# --- A profile of the running kernel.
name="$K 300 samples: named, rooted in [user] or the kernel's outermost frames, the workloads show"
if collect --samples 300 --interval 0.02 -o "$WORK/prof.json" 2>"$WORK/prof.err"; then
	result=$(python3 - "$WORK/prof.json" "$WORK/syms.json" <<'PY'
import collections, json, sys
d = json.load(open(sys.argv[1]))
names = set(json.load(open(sys.argv[2]))["names"])
OUTERMOST = {"secondary_startup_64_no_verify", "secondary_startup_64", "common_startup_64",
             "ret_from_fork", "ret_from_fork_asm"}
caps = d["stack_traces"]
if len(caps) != 300:
    sys.exit(print(f"{len(caps)} captures, wanted 300"))
per = collections.defaultdict(list)
for c in caps:
    if sorted(c) != ["0", "1"]:
        sys.exit(print(f"a capture holds CPUs {sorted(c)}"))
    for cpu, frames in c.items():
        per[cpu].append(frames)
stacks = per["0"] + per["1"]
odd = [f for s in stacks for f in s if f not in names and f not in ("[user]", "??")]
if odd:
    sys.exit(print(f"frames named outside the symbol table: {sorted(set(odd))[:5]}"))
# "??" is what the unwinder says when a saved pc is in no function.  In Linux that happens
# where the ORC tables do not describe the code that really runs: alternatives patched in at
# boot, such as the return-buffer stuffing in __switch_to_asm (measured: 1 stack in 24,000).
unknown = [s for s in stacks if "??" in s]
if len(unknown) > 3:
    sys.exit(print(f"{len(unknown)} of 600 stacks reach a pc in no function, e.g. "
                   f"{' < '.join(unknown[0])}"))
short = [s for s in stacks if s[-1] != "[user]" and s[-1] not in OUTERMOST]
if len(short) > 12:
    sys.exit(print(f"{len(short)} of 600 stacks end early, e.g. {' < '.join(short[0])}"))
# CPU 0 runs a user-mode loop.  How often a stop finds it in user mode depends on how busy the
# host is (timer interrupts and other tasks take longer under load), so the check is on the
# stacks, not on a share: every stop at a user-half pc is the one frame [user], and the loop
# is seen at least once.
USER_TOP = 0x0000800000000000
pcs0 = [smp.get("pcs", {}).get("0", []) for smp in d["kprof"]["samples"]]
user_pc = [st for st, pc in zip(per["0"], pcs0) if pc and int(pc[0], 16) < USER_TOP]
if any(st != ["[user]"] for st in user_pc):
    bad = next(st for st in user_pc if st != ["[user]"])
    sys.exit(print(f"CPU 0 stopped at a user pc but its stack is {' < '.join(bad)}"))
user0 = sum(s == ["[user]"] for s in per["0"])
if user0 < 1 or len(user_pc) < 1:
    sys.exit(print(f"CPU 0 (a user-mode loop) never seen in user mode ({user0} [user] stacks)"))
sysc = [s for s in per["1"] if "do_syscall_64" in s]
for s in sysc:
    i = s.index("do_syscall_64")
    if s[i + 1:] != ["entry_SYSCALL_64_after_hwframe", "[user]"]:
        sys.exit(print(f"a system call below do_syscall_64: {' < '.join(s)}"))
rw = sum(any(f in ("ksys_read", "ksys_write") for f in s) for s in sysc)
idle = sum("do_idle" in s for s in per["1"])
if rw < 10 or idle < 1:
    sys.exit(print(f"CPU 1: {rw} read/write system calls, {idle} idle stacks"))
print(f"ok: CPU 0 [user] {user0}/300 ({len(user_pc)} stops at a user pc, all [user]); CPU 1 {len(sysc)} in system calls ({rw} read/write), "
      f"{idle} idle; {len(short)} of 600 stop early, {len(unknown)} at a pc in no function")
PY
)
	case $result in ok*) pass "$name (${result#ok: })" ;; *) fail "$name" "$result" ;; esac
else
	fail "$name" "exit $?: $(tail -1 "$WORK/prof.err")"
fi
grep -q "detached, the target runs on" "$WORK/prof.err" &&
	check "$K the kernel runs on after the profile" kill -0 "$PEER_PID"

# --- KASLR: the slide from the guest's own /proc/kallsyms.
name="$K KASLR: with --kaslr-offset the stacks are named as without it"
if start_linux kaslr; then
	runtime=$(sed -n 's/^KPROF_LINUX_STEXT=\([0-9a-f]*\).*/\1/p' "$SERIAL" | head -1)
	link=$(nm "$VMLINUX" | awk '$3 == "_stext" { print $1; exit }')
	offset=$(printf '0x%x' $((0x$runtime - 0x$link)))
	if [ -z "$runtime" ] || [ "$offset" = 0x0 ]; then
		fail "$name" "no KASLR slide seen (runtime _stext ${runtime:-unknown})"
	elif collect --samples 100 --interval 0.02 --kaslr-offset "$offset" -o "$WORK/kaslr.json" \
		2>"$WORK/kaslr.err"; then
		result=$(python3 - "$WORK/kaslr.json" "$WORK/syms.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
names = set(json.load(open(sys.argv[2]))["names"])
stacks = [s for c in d["stack_traces"] for s in c.values()]
kernel = [s for s in stacks if s != ["[user]"]]
# A wrong slide names nothing (every frame ??) or names the wrong functions; the 300-sample
# check's allowance for a pc in no function (alternatives patched in at boot) holds here too.
odd = [s for s in kernel if any(f not in names and f not in ("[user]", "??") for f in s)]
unknown = [s for s in kernel if "??" in s]
if len(kernel) < 10 or odd or len(unknown) > 3:
    bad = (odd + unknown)[:1]
    sys.exit(print(f"{len(kernel)} kernel stacks, {len(odd)} with names outside the symbol table, "
                   f"{len(unknown)} reaching a pc in no function"
                   + (f", e.g. {' < '.join(bad[0])}" if bad else "")))
sysc = sum(s[-3:] == ["do_syscall_64", "entry_SYSCALL_64_after_hwframe", "[user]"] for s in kernel)
print(f"ok: {len(kernel)} kernel stacks, {sysc} system calls down to [user]")
PY
)
		case $result in ok*) pass "$name (slide $offset; ${result#ok: })" ;; *) fail "$name" "$result" ;; esac
	else
		fail "$name" "exit $?: $(tail -1 "$WORK/kaslr.err")"
	fi
	# Without --kaslr-offset kprof finds the slide itself (linux_banner in guest memory).
	name="$K KASLR: without --kaslr-offset kprof finds the same slide in the target"
	if collect --samples 100 --interval 0.02 -o "$WORK/auto.json" 2>"$WORK/auto.err"; then
		found=$(sed -n 's/.*KASLR offset \(0x[0-9a-f]*\).*/\1/p' "$WORK/auto.err")
		result=$(python3 - "$WORK/auto.json" "$WORK/syms.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
names = set(json.load(open(sys.argv[2]))["names"])
kernel = [s for c in d["stack_traces"] for s in c.values() if s != ["[user]"]]
odd = [s for s in kernel if any(f not in names and f not in ("[user]", "??") for f in s)]
unknown = [s for s in kernel if "??" in s]
bad = (odd + unknown)[:1]
print(f"{'ok' if len(kernel) >= 10 and not odd and len(unknown) <= 3 else 'bad'}: "
      f"{len(kernel)} kernel stacks, {len(odd)} with names outside the symbol table, "
      f"{len(unknown)} reaching a pc in no function"
      + (f", e.g. {' < '.join(bad[0])}" if bad else ""))
PY
)
		if [ "$found" = "$offset" ] && case $result in ok*) true ;; *) false ;; esac; then
			pass "$name ($found; ${result#ok: })"
		else
			fail "$name" "found ${found:-nothing}, /proc/kallsyms says $offset; $result"
		fi
	else
		fail "$name" "exit $?: $(tail -1 "$WORK/auto.err")"
	fi
else
	fail "$name" "Linux did not come up with KASLR"
fi
stop_peer

# A guest kernel that oopsed or panicked makes the checks above fail for its own reasons: say so.
crash=$(grep -a -h -m1 -E 'Oops|Kernel panic|double fault|BUG:' "$WORK"/serial-*.txt 2>/dev/null | head -1)
if [ -n "$crash" ]; then
	fail "$K the guest kernel ran without an oops or panic" "$crash"
else
	pass "$K the guest kernel ran without an oops or panic ($BOOTS boots)"
fi
