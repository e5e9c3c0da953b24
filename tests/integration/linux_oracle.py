# Oracle for kprof's stacks of a Linux kernel against gdb (test_linux.sh against QEMU's stub,
# test_linux_vm.sh against kprof's own), in three parts.
#
#   python3 linux_oracle.py syms VMLINUX OUT.json
#       the names of the code in the kernel's entry text (assembly without DWARF), every
#       function symbol, and each one's [address, size]
#   inside gdb (`source`d, attached to the halted kernel, BT_OUT and ERROR_ENTRY_PC set):
#       gdb's view of it: per thread, the physical frames innermost first with their pcs
#       (inlined and tail-call frames left out: kprof names a frame by the function holding
#       its pc), and, from the innermost C function given the entry code's
#       `struct pt_regs *regs` (do_syscall_64, exc_page_fault, sysvec_apic_timer_interrupt,
#       ...), what the entry interrupted: the function at regs->ip, or [user] when regs->cs is
#       user mode's.  gdb reads that from the saved registers, not by unwinding, so it checks
#       the step through the entry code independently.
#   python3 linux_oracle.py compare GDB.json KPROF SYMS.json
#       KPROF is one sample's trace.json (kprof collect --samples 1) or the text of
#       `monitor stacks` from kprof's own stub.  Prints "ok ..." plus the entries this stop
#       went through, or the first difference.
import json
import os
import re
import subprocess
import sys

KERNEL_HALF = 0xffff800000000000
OUTERMOST = {"secondary_startup_64_no_verify", "secondary_startup_64", "common_startup_64",
             "ret_from_fork", "ret_from_fork_asm",
             "start_kernel", "x86_64_start_kernel", "x86_64_start_reservations"}
CLONE = re.compile(r"\.(constprop|isra|part|cold)(\.\d+)*")


def syms(vmlinux, out):
    text = subprocess.run(["nm", "-S", "--defined-only", vmlinux], capture_output=True,
                          text=True, check=True).stdout
    funcs, start, end = [], None, None
    for line in text.splitlines():
        p = line.split()
        if len(p) == 3:
            p.insert(1, "0")
        if len(p) != 4:
            continue
        a, size, t, n = int(p[0], 16), int(p[1], 16), p[2], p[3]
        if n == "__entry_text_start":
            start = a
        if n == "__entry_text_end":
            end = a
        if t in "tTwW":
            funcs.append((a, size, n))
    json.dump({"entry": sorted({n for a, _, n in funcs if start <= a < end}),
               "names": sorted({n for _, _, n in funcs}),
               "span": {n: [a, size] for a, size, n in funcs}}, open(out, "w"))


def gdb_frames():
    """The selected thread's physical frames innermost first, as [name, pc]: inlined calls
    and the tail calls gdb rebuilds from DWARF call-site data have no frame on the stack;
    kprof (like perf) shows the frames that are there."""
    import gdb
    frames, f = [], gdb.newest_frame()
    while f is not None and len(frames) < 64:
        if f.type() not in (gdb.INLINE_FRAME, gdb.TAILCALL_FRAME):
            frames.append([f.name() or "??", f.pc()])
        try:
            f = f.older()
        except gdb.error:
            break
    return frames


def gdb_side():
    import gdb

    def symbol(pc):
        words = gdb.execute("info symbol 0x%x" % pc, to_string=True).split()
        return words[0] if words and words[0] != "No" else "??"

    def interrupted(f):
        while f is not None:
            try:
                regs = f.read_var("regs")
                if str(regs.type.strip_typedefs()) == "struct pt_regs *":
                    ip, cs = int(regs["ip"]), int(regs["cs"])
                    return "[user]" if cs & 3 == 3 else symbol(ip)
            except (gdb.error, ValueError, RuntimeError):
                pass
            try:
                f = f.older()
            except gdb.error:
                return None
        return None

    # At the stop after error_entry's pushes (ERROR_ENTRY_PC) the pt_regs are at rsp + 8,
    # under the return address into the stub (entry_64.S: PUSH_AND_CLEAR_REGS save_ret=1),
    # and no C function has them yet: gdb reads them there.
    def pushed_regs():
        rsp = int(gdb.parse_and_eval("$rsp"))
        ip, cs = (int(gdb.parse_and_eval("*(unsigned long *)0x%x" % (rsp + 8 + off)))
                  for off in (128, 136))
        return "[user]" if cs & 3 == 3 else symbol(ip)

    out = {}
    for th in gdb.selected_inferior().threads():
        th.switch()
        frames = gdb_frames()
        out[str(th.num - 1)] = frames
        if frames and frames[0][1] == int(os.environ.get("ERROR_ENTRY_PC") or "0", 0):
            out["regs" + str(th.num - 1)] = pushed_regs()
        elif frames and frames[0][1] >= KERNEL_HALF:
            out["regs" + str(th.num - 1)] = interrupted(gdb.newest_frame())
    # `thread apply all bt` leaves out a thread the stub says is not alive (a vCPU kprof
    # has not started yet); every thread it shows must have its frame #0.
    text = gdb.execute("thread apply all bt", to_string=True)
    shown = re.split(r"^Thread (\d+) ", text, flags=re.M)[1:]
    out["shown"] = [str(int(n) - 1) for n in shown[0::2]]
    if not shown or any(not re.search(r"^#0 ", block, re.M) for block in shown[1::2]):
        out["error"] = "thread apply all bt printed a thread without frames"
    json.dump(out, open(os.environ["BT_OUT"], "w"))


MONITOR_THREAD = re.compile(r"^Thread (\d+) \(")
MONITOR_FRAME = re.compile(r"^#(\d+)\s+(?:0x[0-9a-f]+ in )?(\S+) \(")


def kprof_stacks(path):
    """{cpu: [names innermost first]} from a one-sample trace.json or `monitor stacks`."""
    text = open(path).read()
    if text.lstrip().startswith("{"):
        caps = json.loads(text)["stack_traces"]
        if len(caps) != 1:
            raise ValueError(f"{len(caps)} captures, wanted 1")
        return caps[0]
    out, cur = {}, None
    for line in text.splitlines():
        m = MONITOR_THREAD.match(line)
        if m:
            cur = out.setdefault(str(int(m.group(1)) - 1), [])
            continue
        m = MONITOR_FRAME.match(line)
        if m and cur is not None:
            cur.append(m.group(2))
    # An offline vCPU is a thread without frames, and not one of gdb's threads.
    return {cpu: names for cpu, names in out.items() if names}


def compare(gdb_json, kprof, syms_json):
    g = json.load(open(gdb_json))
    try:
        stacks = kprof_stacks(kprof)
    except (ValueError, KeyError) as e:
        return f"{kprof}: {e}"
    syms = json.load(open(syms_json))
    entry = set(syms["entry"])
    if "error" in g:
        return g["error"]
    regs = {key[4:]: g.pop(key) for key in list(g) if key.startswith("regs")}
    shown, notes = g.pop("shown", list(g)), []
    for cpu in sorted(set(g) - set(shown)):
        # Not started: neither gdb's bt nor kprof has a stack for it.
        if cpu in stacks:
            return f"cpu {cpu}: gdb's bt leaves it out, kprof has {' < '.join(stacks[cpu])}"
        if g.pop(cpu)[0][1] >= KERNEL_HALF:
            return f"cpu {cpu}: gdb's bt leaves it out, but its pc is in the kernel"
        notes.append(f"cpu {cpu}: not started")
    if sorted(stacks) != sorted(g):
        return f"kprof has CPUs {sorted(stacks)}, gdb threads {sorted(g)}"
    span = syms["span"]

    # gdb names a pc by the sized function around it, kprof by the nearest label (as the
    # kernel's own backtraces do): secondary_startup_64_no_verify lies inside
    # secondary_startup_64.
    def same(kname, gname):
        if kname == gname:
            return True
        k, g = span.get(kname), span.get(gname)
        return bool(k and g and g[0] <= k[0] < g[0] + g[1])

    seen = set()
    for cpu, gframes in sorted(g.items()):
        kf = [CLONE.sub("", n) for n in stacks[cpu]]          # innermost first
        gf = [(CLONE.sub("", n), pc) for n, pc in gframes]
        # Inside a retpoline thunk gdb shows the thunk twice: the thunk's own inner call
        # has pushed a return address into it.  ORC describes the thunk as one frame, and
        # kprof shows it once.
        gf = [f for i, f in enumerate(gf)
              if not (i and f[0] == gf[i - 1][0] and f[0].startswith("__x86_indirect_thunk"))]
        where = f"cpu {cpu}: kprof {' < '.join(kf)}; gdb {' < '.join(n for n, _ in gf)}"
        if kf == ["[user]"]:
            if gf[0][1] >= KERNEL_HALF:
                return f"{where}: kprof says user mode, gdb's pc is the kernel's"
            seen.add("user")
            continue
        if kf[-1] != "[user]" and kf[-1] not in OUTERMOST:
            return f"{where}: kprof's stack ends in neither [user] nor an outermost frame"
        for i, name in enumerate(kf):
            if name == "[user]":
                break
            if name in entry:
                seen.add(name)
                # gdb has only DWARF: it names the entry code (perhaps by its enclosing
                # symbol) and then loses the way, or it has already stopped (DWARF does not
                # describe the switch to the irq stack).  kprof goes on with ORC.
                if i < len(gf) and gf[i][0] not in entry and gf[i][0] != "??":
                    return f"{where}: frame {i}: kprof in entry code {name}, gdb elsewhere"
                # Below the entry: what its pt_regs say was interrupted.
                want = regs.get(cpu)
                want = want if want in (None, "[user]") else CLONE.sub("", want)

                def interrupted(n):
                    return want is not None and (n == want == "[user]" or same(n, want))
                # The entry code's own callers first: error_entry (and paranoid_entry),
                # which the stubs call to push pt_regs, has the stub below it; where gdb
                # names entry code there too (it finds the return address on top of the
                # pt_regs), the same.
                j = i + 1
                while j < len(kf) and kf[j] in entry and not interrupted(kf[j]):
                    if j < len(gf) and gf[j][0] in entry:
                        if not same(kf[j], gf[j][0]):
                            return f"{where}: frame {j}: kprof {kf[j]}, gdb {gf[j][0]}"
                        seen.add(f"{kf[j - 1]}<stub")
                    j += 1
                if want is not None and j < len(kf):
                    if not interrupted(kf[j]):
                        return f"{where}: below {name} kprof has {kf[j]}, pt_regs say {want}"
                    seen.add("pt_regs")
                break
            if i >= len(gf) or not same(name, gf[i][0]):
                return f"{where}: frame {i} differs"
        notes.append(f"cpu {cpu}: {len(kf)} frames")
    return "ok " + " ".join(sorted(seen)) + " | " + "; ".join(notes)


if "gdb" in sys.modules and __name__ == "__main__":
    gdb_side()
elif __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "syms":
        syms(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "compare":
        print(compare(*sys.argv[2:5]))
    else:
        sys.exit("usage: linux_oracle.py syms VMLINUX OUT.json | "
                 "compare GDB.json KPROF SYMS.json")
