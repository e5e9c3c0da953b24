#!/usr/bin/env bash
# Tasks (comm, pid, tgid) of a real Linux kernel, read from outside the guest: Debian's kernel
# under QEMU TCG with 2 vCPUs, its initramfs running processes with known, distinct names
# (tests/linux/init_tasks.sh: busybox-spin0 on CPU 0, busybox-loop1 and its busybox-dd runs
# on CPU 1, each printing its pid as the guest knows it).
#  - oracle: at hardware breakpoints (a write system call, the idle loop, a timer interrupt)
#    and at unplanned stops of QEMU's monitor, gdb reads each CPU's task itself, without
#    kprof's BTF or GS logic: the per-CPU area from the kernel's own __per_cpu_offset[cpu]
#    (checked by the per-CPU cpu_number there), current_task in it, and comm, pid, tgid at
#    the offsets gdb finds in the vmlinux's DWARF; one kprof sample of the halted VM must
#    name the same task on every CPU (n/m agreement, all), the workloads' pids must be the
#    ones the guest printed, the idle task must be swapper/N on CPU N;
#  - a 300-sample profile: every stack has a known task; user-mode stacks belong to user
#    processes, idle stacks to swapper/N of their own CPU, kernel threads are not the
#    workloads; CPU 0 at a user pc is busybox-spin0 with the guest's pid;
#  - outputs: folded and SVG get the task as root frame (comm; --tasks pid "comm-PID";
#    --tasks tid "comm-PID/TID"), --no-tasks gives the stacks without them, --comm keeps one
#    task, trace.json's tasks are read back by parse; collect --no-tasks reads none;
#  - page-table isolation (pti=on): a user-mode vCPU's task is read through a kernel-mode vCPU;
#  - not Linux (the bundled guest under KVM): no tasks, output unchanged.
#
#   test_tasks.sh [FIXTURE-DIR [cloud|generic] [6.1|6.12]]    (default: build/linux cloud 6.1)
#
# run with: build/linux cloud 6.1
# run with: build/linux-6.12 cloud 6.12
# sanitize: yes
set -u
. "$(dirname "$0")/lib.sh"

QEMU=qemu-system-x86_64
FIX=${1:-build/linux}
FLAVOUR=${2:-cloud}
SERIES=${3:-6.1}
K="tasks, linux $FLAVOUR $SERIES:"
VMLINUX=$FIX/vmlinux
PEER_PID=
trap 'stop_peer' EXIT

if ! command -v "$QEMU" >/dev/null || ! command -v gdb >/dev/null; then
	fail "$K needs $QEMU and gdb (make deps installs them)"
	exit 0
fi
if ! bash "$(dirname "$0")/../linux/fixture.sh" "$FIX" "$FLAVOUR" "$SERIES" >"$WORK/fixture.log" 2>&1
then
	fail "$K the Debian kernel fixture could not be made" "$(tail -1 "$WORK/fixture.log")"
	exit 0
fi
# Three copies of busybox under names of their own: three comms.
INITRD=$WORK/tasks.cpio
if ! bash "$(dirname "$0")/../linux/mkinitramfs.sh" "$INITRD" "$FIX/busybox" \
	"$(dirname "$0")/../linux/init_tasks.sh" /bin/busybox-spin0="$FIX/busybox" \
	/bin/busybox-loop1="$FIX/busybox" /bin/busybox-dd="$FIX/busybox" >"$WORK/mkinitramfs.log" 2>&1
then
	fail "$K the initramfs could not be made" "$(tail -1 "$WORK/mkinitramfs.log")"
	exit 0
fi

# What gdb finds in the vmlinux's DWARF: per-CPU offsets of current_task and cpu_number (per-CPU
# variables up to 6.1, members of pcpu_hot from 6.2), the task_struct members.  Addresses from
# the symbol table: __per_cpu_offset and the breakpoints.
cat >"$WORK/layout.py" <<'PY'
import gdb, json, os
def addr(*exprs):
    for e in exprs:
        try:
            return int(gdb.parse_and_eval("(unsigned long)&" + e))
        except gdb.error:
            pass
    raise gdb.GdbError("none of " + ", ".join(exprs))
member = lambda m: addr("((struct task_struct *)0)->" + m)
json.dump({"current": addr("current_task", "pcpu_hot.current_task"),
           "cpu_number": addr("cpu_number", "pcpu_hot.cpu_number"),
           "pid": member("pid"), "tgid": member("tgid"), "comm": member("comm"),
           "per_cpu_offset": addr("__per_cpu_offset")}, open(os.environ["LAYOUT_OUT"], "w"))
PY
LAYOUT_OUT=$WORK/layout.json timeout 600 gdb -q -nx -batch -x "$WORK/layout.py" "$VMLINUX" \
	>"$WORK/dwarf.txt" 2>&1
OFFS=$(cat "$WORK/layout.json" 2>/dev/null) && [ -n "$OFFS" ] ||
	{ fail "$K gdb could not read task_struct's layout from the DWARF" "$(tail -2 "$WORK/dwarf.txt")"; exit 0; }
nm "$VMLINUX" >"$WORK/nm.txt" 2>/dev/null
addr() { awk -v n="$1" '$3 == n { print $1; exit }' "$WORK/nm.txt"; }

start_linux() { start_linux_qemu "$FIX/vmlinuz" "$INITRD" "$@"; }
collect() {
	timeout 300 "$KPROF" collect --remote "tcp:127.0.0.1:$PORT" --symbols "$VMLINUX" "$@"
}

# gdb's own reading of every CPU's task, with no symbol file: raw memory at the DWARF's offsets.
cat >"$WORK/tasks.py" <<'PY'
import gdb, json, os
o = json.loads(os.environ["OFFS"])
inf = gdb.selected_inferior()
def u(addr, n, signed=False):
    return int.from_bytes(bytes(inf.read_memory(addr, n)), "little", signed=signed)
out = {}
for th in sorted(inf.threads(), key=lambda t: t.num):
    cpu = th.num - 1
    base = u(o["per_cpu_offset"] + 8 * cpu, 8)
    if u(base + o["cpu_number"], 4) != cpu:
        out["error"] = f"thread {th.num}: the per-CPU area of CPU {cpu} says cpu_number " \
                       f"{u(base + o['cpu_number'], 4)}"
        break
    task = u(base + o["current"], 8)
    comm = bytes(inf.read_memory(task + o["comm"], 16)).split(b"\0")[0].decode("latin-1")
    out[str(cpu)] = {"comm": comm, "pid": u(task + o["pid"], 4, True),
                     "tgid": u(task + o["tgid"], 4, True)}
json.dump(out, open(os.environ["TASKS_OUT"], "w"))
PY
gdb_tasks() {
	OFFS=$OFFS TASKS_OUT=$1 timeout 120 gdb -q -nx -batch -ex "target remote 127.0.0.1:$PORT" \
		-x "$WORK/tasks.py" -ex disconnect >"$WORK/gdb.log" 2>&1
}

# compare GDB.json KPROF.json: "ok AGREE TOTAL comm@cpu..." or the first difference.
cat >"$WORK/compare.py" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
k = json.load(open(sys.argv[2]))
if "error" in g:
    sys.exit(print(g["error"]))
tasks = k["kprof"]["samples"][0].get("tasks", {}) if len(k["kprof"]["samples"]) == 1 else {}
stacks = k["stack_traces"][0] if len(k["stack_traces"]) == 1 else {}
SWITCH = {"__switch_to_asm", "__switch_to"}
agree, seen = 0, []
for cpu, want in sorted(g.items()):
    got = tasks.get(cpu)
    # Between the stack switch and the write of current_task the stack is the next task's
    # while current_task is still the previous one: kprof says it does not know.
    if got == {"comm": "?", "pid": -1, "tgid": -1} and SWITCH & set(stacks.get(cpu, [])):
        seen.append(f"?@{cpu}")
        continue
    if got != want:
        sys.exit(print(f"CPU {cpu}: kprof says {got}, gdb reads {want}"))
    agree += 1
    seen.append(f"{want['comm']}:{want['pid']}@{cpu}")
print(f"ok {agree} {len(g)} " + " ".join(seen))
PY

name="$K at 12 stops, kprof names the task gdb reads on every CPU"
if ! start_linux; then
	fail "$name" "Linux did not come up: $(tail -3 "$SERIAL" 2>/dev/null | tr '\n' ' ')"
	exit 0
fi
spin_pid=$(sed -n 's/^KPROF_TASK busybox-spin0 \([0-9]*\).*/\1/p' "$SERIAL")
agree=0 total=0 problem= seen=
for bp in ksys_write default_idle_call __sysvec_apic_timer_interrupt - - - - - - - - -; do
	if [ "$bp" = - ]; then
		sleep 0.$((RANDOM % 9 + 1))
		monitor stop
	else
		timeout 120 gdb -q -nx -batch -ex "target remote 127.0.0.1:$PORT" \
			-ex "hbreak *0x$(addr "$bp")" -ex continue -ex delete -ex disconnect \
			>"$WORK/gdb-run.log" 2>&1
	fi
	gdb_tasks "$WORK/gdb.json"
	if ! collect --samples 1 -o "$WORK/one.json" 2>"$WORK/one.err"; then
		problem="at $bp: exit $?: $(tail -1 "$WORK/one.err")"
		break
	fi
	result=$(python3 "$WORK/compare.py" "$WORK/gdb.json" "$WORK/one.json")
	case $result in
	ok*)
		set -- $result
		agree=$((agree + $2)) total=$((total + $3))
		shift 3
		seen="$seen [$bp] $*"
		;;
	*) problem="at $bp: $result"; total=$((total + 2)); break ;;
	esac
	monitor cont
done
if [ -n "$problem" ]; then
	fail "$name" "$agree/$total agree; $problem"
else
	switching=$(echo "$seen" | grep -o '?@' | wc -l)
	pass "$name ($agree/$total CPU stops agree, $switching unknown in a context switch)"
	# What the guest knows: the spinning process's pid, swapper/N on CPU N at the idle loop,
	# dd in its write system call.
	name="$K the stops show busybox-spin0 with the guest's pid $spin_pid, busybox-dd writing, swapper/N idle on CPU N"
	missing=
	case "$seen" in *"busybox-spin0:$spin_pid@0"*) ;; *) missing="$missing busybox-spin0:$spin_pid@0" ;; esac
	case "$seen" in *"[ksys_write]"*busybox-dd:*"[default_idle_call]"*) ;; *) missing="$missing busybox-dd-at-ksys_write" ;; esac
	idle=${seen#*\[default_idle_call\]}
	idle=${idle%%\[*}
	case "$idle" in *swapper/0:0@0*|*swapper/1:0@1*) ;; *) missing="$missing swapper/N@N-at-default_idle_call" ;; esac
	if [ -z "$missing" ]; then pass "$name"; else fail "$name" "not seen:$missing (saw:$seen)"; fi
fi

# --- A profile: tasks where they belong.
name="$K 300 samples: every stack's task known and where it belongs"
if collect --samples 300 --interval 0.02 -o "$WORK/prof.json" 2>"$WORK/prof.err"; then
	result=$(python3 - "$WORK/prof.json" "$spin_pid" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
spin_pid = int(sys.argv[2])
OUTERMOST = {"secondary_startup_64_no_verify", "secondary_startup_64", "ret_from_fork",
             "start_kernel", "x86_64_start_kernel", "x86_64_start_reservations"}
USER_TOP = 0x0000800000000000
ours = {"busybox-spin0", "busybox-loop1", "busybox-dd"}
SWITCH = {"__switch_to_asm", "__switch_to"}
n = user = idle = kthreads = spin = switching = 0
comms = set()
for caps, smp in zip(d["stack_traces"], d["kprof"]["samples"]):
    tasks = smp.get("tasks", {})
    for cpu, frames in caps.items():
        n += 1
        t = tasks.get(cpu)
        # Unknown only in a context switch, where the stack is not current_task's yet.
        if t == {"comm": "?", "pid": -1, "tgid": -1} and SWITCH & set(frames):
            switching += 1
            continue
        if t is None or t["comm"] == "?" or t["pid"] < 0:
            sys.exit(print(f"CPU {cpu}: task {t} for {' < '.join(frames)}"))
        comms.add(t["comm"])
        where = f"CPU {cpu} task {t['comm']}:{t['pid']}: {' < '.join(frames)}"
        if frames[-1] == "[user]":
            user += 1
            if t["pid"] == 0 or t["comm"].startswith("swapper"):
                sys.exit(print(f"{where}: user mode in the idle task"))
        if t["pid"] == 0:
            idle += 1
            if t["comm"] != f"swapper/{cpu}":
                sys.exit(print(f"{where}: pid 0 is the idle task of CPU {cpu}, swapper/{cpu}"))
            if frames[-1] in OUTERMOST and "do_idle" not in frames:
                sys.exit(print(f"{where}: the idle task outside the idle loop"))
        if "kthread" in frames:
            kthreads += 1
            if t["comm"] in ours or t["pid"] == 0:
                sys.exit(print(f"{where}: a kernel thread named as a process"))
        if t["comm"] in ours and t["pid"] != t["tgid"]:
            sys.exit(print(f"{where}: a single-threaded process with pid != tgid"))
        pcs = smp.get("pcs", {}).get(cpu, [])
        if cpu == "0" and pcs and int(pcs[0], 16) < USER_TOP:
            spin += 1
            if (t["comm"], t["pid"]) != ("busybox-spin0", spin_pid):
                sys.exit(print(f"{where}: CPU 0 at a user pc is not busybox-spin0 ({spin_pid})"))
dd = [s for caps, smp in zip(d["stack_traces"], d["kprof"]["samples"])
      for cpu, s in caps.items() if smp["tasks"][cpu]["comm"] == "busybox-dd"
      and ("ksys_read" in s or "ksys_write" in s)]
if n != 600 or spin < 1 or not dd or idle < 1:
    sys.exit(print(f"{n} stacks, {spin} CPU 0 user stops, {len(dd)} dd read/write, {idle} idle"))
print(f"ok: {n} stacks, {len(comms)} tasks ({', '.join(sorted(comms)[:8])}); {user} in user "
      f"mode, {idle} idle, {kthreads} kernel threads, {spin} busybox-spin0, {len(dd)} dd "
      f"read/write, {switching} unknown in a context switch")
PY
)
	case $result in ok*) pass "$name (${result#ok: })" ;; *) fail "$name" "$result" ;; esac
else
	fail "$name" "exit $?: $(tail -1 "$WORK/prof.err")"
fi

# --- Outputs: root frames, --no-tasks, --tasks pid|tid, --comm, read back by parse.
name="$K folded and SVG: the task is the root frame; --no-tasks, --tasks pid|tid and --comm"
"$KPROF" parse "$WORK/prof.json" -f folded -o "$WORK/comm.folded" 2>"$WORK/parse.err" &&
"$KPROF" parse "$WORK/prof.json" -f folded --no-tasks -o "$WORK/none.folded" 2>>"$WORK/parse.err" &&
"$KPROF" parse "$WORK/prof.json" -f folded --tasks pid -o "$WORK/pid.folded" 2>>"$WORK/parse.err" &&
"$KPROF" parse "$WORK/prof.json" -f folded --tasks tid -o "$WORK/tid.folded" 2>>"$WORK/parse.err" &&
"$KPROF" parse "$WORK/prof.json" -f folded --comm busybox-dd -o "$WORK/dd.folded" 2>>"$WORK/parse.err" &&
"$KPROF" parse "$WORK/prof.json" -f json --comm busybox-spin0 -o "$WORK/spin.json" 2>>"$WORK/parse.err" &&
"$KPROF" parse "$WORK/prof.json" -o "$WORK/prof.svg" 2>>"$WORK/parse.err"
status=$?
if [ $status -ne 0 ]; then
	fail "$name" "parse: $(tail -1 "$WORK/parse.err")"
else
	result=$(python3 - "$WORK" <<'PY'
import collections, json, re, sys
w = sys.argv[1]
d = json.load(open(f"{w}/prof.json"))
stacks = [(s, smp["tasks"][cpu]) for caps, smp in zip(d["stack_traces"], d["kprof"]["samples"])
          for cpu, s in caps.items()]
def folded(path):
    c = collections.Counter()
    for line in open(path):
        stack, n = line.rstrip("\n").rsplit(" ", 1)
        c[stack] += int(n)
    return c
def want(root):
    c = collections.Counter()
    for s, t in stacks:
        c[";".join(([root(t)] if root else []) + s[::-1])] += 1
    return c
# An unknown task is "?" whatever the mode.
for path, root in (("comm", lambda t: t["comm"]), ("none", None),
                   ("pid", lambda t: f"{t['comm']}-{t['tgid']}" if t["pid"] >= 0 else "?"),
                   ("tid", lambda t: f"{t['comm']}-{t['tgid']}/{t['pid']}" if t["pid"] >= 0 else "?")):
    if folded(f"{w}/{path}.folded") != want(root):
        got = sorted(folded(f"{w}/{path}.folded"))[:2]
        sys.exit(print(f"{path}.folded is not the stacks with their task roots as {path}: {got}"))
dd = folded(f"{w}/dd.folded")
ndd = sum(t["comm"] == "busybox-dd" for _, t in stacks)
if not dd or any(not k.startswith("busybox-dd;") for k in dd) or sum(dd.values()) != ndd:
    sys.exit(print(f"--comm busybox-dd kept {sum(dd.values())} stacks, the profile has {ndd}"))
spin = json.load(open(f"{w}/spin.json"))
kept = [t for smp in spin["kprof"]["samples"] for t in smp["tasks"].values()]
if not kept or any(t["comm"] != "busybox-spin0" for t in kept):
    sys.exit(print("parse --comm busybox-spin0 -f json kept other tasks"))
svg = open(f"{w}/prof.svg").read()
if not re.search(r"<title>busybox-spin0 \(", svg):
    sys.exit(print("the SVG has no busybox-spin0 frame"))
print(f"ok: {len(want(lambda t: t['comm']))} distinct folded stacks, {ndd} of busybox-dd")
PY
)
	case $result in ok*) pass "$name (${result#ok: })" ;; *) fail "$name" "$result" ;; esac
fi

name="$K collect writes task roots into folded output directly, and --no-tasks reads no tasks"
if collect --samples 20 --interval 0.02 -o "$WORK/direct.folded" 2>"$WORK/direct.err" &&
	collect --samples 20 --interval 0.02 --no-tasks -o "$WORK/notasks.json" 2>>"$WORK/direct.err"; then
	roots=$(cut -d';' -f1 "$WORK/direct.folded" | sort -u | tr '\n' ' ')
	if grep -q '"tasks"' "$WORK/notasks.json"; then
		fail "$name" "collect --no-tasks wrote tasks"
	elif case " $roots" in *" busybox-spin0 "*) false ;; *) true ;; esac; then
		fail "$name" "roots: $roots"
	else
		pass "$name (roots: $roots)"
	fi
else
	fail "$name" "exit $?: $(tail -1 "$WORK/direct.err")"
fi

# --- Page-table isolation (pti=on, Meltdown's mitigation): a vCPU in user mode has page tables
# without the kernel's data, so its task is read through a vCPU in kernel mode.
name="$K with page-table isolation, a user-mode vCPU's task is read through a kernel-mode one"
if ! start_linux "nokaslr pti=on"; then
	fail "$name" "Linux did not come up with pti=on"
elif ! grep -q '^KPROF_PTI: [1-9]' "$SERIAL"; then
	fail "$name" "the guest does not say it isolates page tables: $(grep KPROF_PTI "$SERIAL")"
elif collect --samples 200 --interval 0.01 -o "$WORK/pti.json" 2>"$WORK/pti.err"; then
	spin_pid=$(sed -n 's/^KPROF_TASK busybox-spin0 \([0-9]*\).*/\1/p' "$SERIAL")
	result=$(python3 - "$WORK/pti.json" "$spin_pid" "$WORK/nm.txt" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
spin_pid = int(sys.argv[2])
KERNEL = 0xffff800000000000
SWITCH = {"__switch_to_asm", "__switch_to"}
# The entry code runs on the user's page tables between the CR3 switch and sysret/iret (and
# from the kernel's entry to its CR3 switch): a vCPU there cannot read the kernel's data.
syms = [(int(a, 16), n) for a, _, n in (l.split() for l in open(sys.argv[3])
                                        if len(l.split()) == 3)]
lo = next(a for a, n in syms if n == "__entry_text_start")
hi = next(a for a, n in syms if n == "__entry_text_end")
entry = {n for a, n in syms if lo <= a < hi}
read = unknown_all_user = 0
for caps, smp in zip(d["stack_traces"], d["kprof"]["samples"]):
    tasks, pcs = smp["tasks"], smp["pcs"]
    kernel = any(pcs[c] and int(pcs[c][0], 16) >= KERNEL and caps[c][0] not in entry
                 for c in caps)
    for cpu, frames in caps.items():
        t = tasks[cpu]
        user = pcs[cpu] and int(pcs[cpu][0], 16) < KERNEL
        if t["comm"] == "?":
            if SWITCH & set(frames):
                continue
            if kernel:
                sys.exit(print(f"CPU {cpu} unknown though a vCPU was in kernel mode: {frames}"))
            unknown_all_user += 1
            continue
        if user and cpu == "0" and (t["comm"], t["pid"]) != ("busybox-spin0", spin_pid):
            sys.exit(print(f"CPU 0 at a user pc is {t}, not busybox-spin0 ({spin_pid})"))
        read += user
if read < 1:
    sys.exit(print("no user-mode vCPU's task was read"))
print(f"ok: {read} user-mode stops named; {unknown_all_user} unknown, all when no vCPU was in "
      f"kernel code with the kernel's page tables")
PY
)
	case $result in ok*) pass "$name (${result#ok: })" ;; *) fail "$name" "$result" ;; esac
else
	fail "$name" "exit $?: $(tail -1 "$WORK/pti.err")"
fi
stop_peer

# --- Not Linux: the bundled guest has no tasks and its output stays as it was.
name="tasks: a kernel that is not Linux (the bundled guest under KVM) gets no tasks"
if [ ! -e /dev/kvm ]; then
	fail "$name" "no /dev/kvm"
elif timeout 120 "$KPROF" collect --samples 20 --interval 0.01 -o "$WORK/guest.json" -- \
	--cpus 2 --cmdline iterations=0 "$GUEST" 2>"$WORK/guest.err"; then
	"$KPROF" parse "$WORK/guest.json" -f folded -o "$WORK/guest.folded" 2>/dev/null
	"$KPROF" parse "$WORK/guest.json" -f folded --no-tasks -o "$WORK/guest-none.folded" 2>/dev/null
	if grep -q '"tasks"' "$WORK/guest.json"; then
		fail "$name" "trace.json has tasks"
	elif ! cmp -s "$WORK/guest.folded" "$WORK/guest-none.folded" || ! [ -s "$WORK/guest.folded" ]; then
		fail "$name" "the folded output has roots the stacks do not"
	else
		pass "$name"
	fi
else
	fail "$name" "exit $?: $(tail -1 "$WORK/guest.err")"
fi
