# Oracle for module frames (test_linux_modules.sh), in three parts.
#
#   python3 modules_oracle.py syms VMLINUX MODULE.ko OUT.json
#       the vmlinux's entry-text names and text symbol spans, and the module's function names
#   inside gdb (`source`d after add-symbol-file of the module at its sections' addresses):
#       per thread, gdb's physical frames innermost first as [name, pc] (inlined and tail-call
#       frames left out: kprof names a frame by the function holding its pc), to $BT_OUT
#   python3 modules_oracle.py compare GDB.json KPROF.json SYMS.json MODULE TEXT-RANGES
#       the same frames on every vCPU, innermost first, up to where gdb (which has DWARF only)
#       reaches the assembly entry code; a frame in the module's text must be kprof's
#       "fn [MODULE]" where gdb says fn.  Prints "ok FRAMES MODULE-FRAMES" or the difference.
import json
import os
import re
import subprocess
import sys

KERNEL_HALF = 0xffff800000000000
# The kernel's outermost frames (6.12 returns to new tasks through ret_from_fork_asm).
OUTERMOST = {"secondary_startup_64_no_verify", "secondary_startup_64", "ret_from_fork",
             "ret_from_fork_asm"}
CLONE = re.compile(r"\.(constprop|isra|part|cold)(\.\d+)*")


def nm(path):
    out = subprocess.run(["nm", "-S", "--defined-only", path], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        p = line.split()
        if len(p) == 3:
            p.insert(1, "0")
        if len(p) == 4:
            yield int(p[0], 16), int(p[1], 16), p[2], p[3]


def syms(vmlinux, module, out):
    text = [(a, size, n) for a, size, t, n in nm(vmlinux) if t in "tTwW"]
    start = next(a for a, _, n in text if n == "__entry_text_start")
    end = next(a for a, _, n in text if n == "__entry_text_end")
    funcs = sorted({CLONE.sub("", n) for _, _, t, n in nm(module) if t in "tT"})
    json.dump({"entry": sorted({n for a, _, n in text if start <= a < end}),
               "span": {n: [a, size] for a, size, n in text}, "module_funcs": funcs},
              open(out, "w"))


def gdb_side():
    import gdb
    out = {}
    for th in gdb.selected_inferior().threads():
        th.switch()
        frames, f = [], gdb.newest_frame()
        while f is not None and len(frames) < 64:
            if f.type() not in (gdb.INLINE_FRAME, gdb.TAILCALL_FRAME):
                frames.append([f.name() or "??", f.pc()])
            try:
                f = f.older()
            except gdb.error:
                break
        out[str(th.num - 1)] = frames
    json.dump(out, open(os.environ["BT_OUT"], "w"))


def in_ranges(pc, ranges):
    return any(lo <= pc < hi for lo, hi in ranges)


def compare(gdb_json, kprof_json, syms_json, module, ranges_arg):
    g = json.load(open(gdb_json))
    k = json.load(open(kprof_json))
    s = json.load(open(syms_json))
    entry, span = set(s["entry"]), s["span"]
    ranges = [tuple(int(x, 16) for x in r.split("-")) for r in ranges_arg.split(",")]
    suffix = " [%s]" % module
    caps = k["stack_traces"]
    if len(caps) != 1 or sorted(caps[0]) != sorted(g):
        return "kprof has CPUs %s, gdb threads %s" % ([sorted(c) for c in caps], sorted(g))

    def same(kname, gname):
        if kname == gname:
            return True
        a, b = span.get(kname), span.get(gname)
        return bool(a and b and b[0] <= a[0] < b[0] + b[1])

    frames = modframes = 0
    for cpu, gframes in sorted(g.items()):
        knames = caps[0][cpu]
        where = "cpu %s: kprof %s; gdb %s" % (cpu, " < ".join(knames),
                                             " < ".join(n for n, _ in gframes))
        if knames == ["[user]"]:
            if gframes and gframes[0][1] >= KERNEL_HALF:
                return where + ": kprof says user mode, gdb's pc is the kernel's"
            continue
        if knames[-1] != "[user]" and knames[-1] not in OUTERMOST:
            return where + ": kprof's stack ends in neither [user] nor an outermost frame"
        for i, (gname, pc) in enumerate(gframes):
            gname = CLONE.sub("", gname)
            if gname in entry or gname == "??":
                break       # gdb has no DWARF for the entry code: it stops here
            if i >= len(knames):
                return where + ": kprof has fewer frames"
            kname = knames[i]
            # gdb's pc for frames above the innermost is a return address: the call is
            # before it.
            at = pc if i == 0 else pc - 1
            if in_ranges(at, ranges):
                if not kname.endswith(suffix):
                    return where + ": frame %d is in %s's text, kprof's name lacks %r" % (
                        i, module, suffix)
                kname = kname[:-len(suffix)]
                modframes += 1
            elif kname.endswith(suffix):
                return where + ": frame %d is named as %s's but is not in its text" % (i, module)
            if not same(CLONE.sub("", kname), gname):
                return where + ": frame %d differs" % i
            frames += 1
    return "ok %d %d" % (frames, modframes)


if "gdb" in sys.modules:
    gdb_side()
elif __name__ == "__main__":
    if sys.argv[1] == "syms":
        syms(*sys.argv[2:5])
    else:
        print(compare(*sys.argv[2:7]))
