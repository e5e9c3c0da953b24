# Oracle for module frames (test_linux_modules.sh, test_linux_flamegraph.sh), in five parts.
#
#   python3 modules_oracle.py syms VMLINUX MODULE.ko OUT.json
#       the vmlinux's entry-text names and text symbol spans, and the module's function names
#   python3 modules_oracle.py ranges SECTIONS MODULE.ko
#       the module's code in the guest, "lo-hi,..." (hex): each executable section of the .ko
#       at the address SECTIONS gives it ("NAME ADDRESS" lines, /sys/module/M/sections/)
#   python3 modules_oracle.py profile KPROF.json SYMS.json MODULE TEXT-RANGES [named|unnamed]
#       a profile's properties: named, every frame in the module's text is "fn [MODULE]" with
#       fn one of its functions (never "??") and a stack through it is unwound to [user] or
#       an outermost frame; unnamed (no .ko for it), each such frame is "??" and ends its
#       stack.  At least 10 frames in the module's text.  Prints "ok ..." or the problem.
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
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from linux_oracle import gdb_frames
    out = {}
    for th in gdb.selected_inferior().threads():
        th.switch()
        out[str(th.num - 1)] = gdb_frames()
    json.dump(out, open(os.environ["BT_OUT"], "w"))


def in_ranges(pc, spans):
    return any(lo <= pc < hi for lo, hi in spans)


def parse_ranges(arg):
    return [tuple(int(x, 16) for x in r.split("-")) for r in arg.split(",")]


def ranges(sections, module):
    addr = dict(line.split() for line in open(sections) if line.strip())
    out = subprocess.run(["readelf", "-S", "-W", module], capture_output=True, text=True,
                         check=True).stdout
    spans = []
    for line in out.splitlines():
        m = re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+\S+\s+\S+\s+([0-9a-f]+)\s+\S+\s+(\S+)", line)
        if m and "X" in m.group(3) and m.group(1) in addr:
            lo = int(addr[m.group(1)], 16)
            spans.append("%x-%x" % (lo, lo + int(m.group(2), 16)))
    return ",".join(spans)


def profile(kprof_json, syms_json, module, ranges_arg, mode="named"):
    d = json.load(open(kprof_json))
    funcs = set(json.load(open(syms_json))["module_funcs"])
    spans = parse_ranges(ranges_arg)
    named = mode == "named"
    suffix = " [%s]" % module
    mod = ok = through = 0
    for cap, smp in zip(d["stack_traces"], d["kprof"]["samples"]):
        for cpu, names in cap.items():
            pcs = [int(p, 16) for p in smp["pcs"][cpu]]
            hit = False
            for i, (n, pc) in enumerate(zip(names, pcs)):
                at = pc if i == 0 else pc - 1
                if not in_ranges(at, spans):
                    if n.endswith(suffix):
                        return "%s at %#x, outside %s's text" % (n, pc, module)
                    continue
                mod += 1
                hit = True
                if not named:
                    if n != "??" or i != len(names) - 1:
                        return "without %s.ko: %s" % (module, " < ".join(names))
                    continue
                if n == "??":
                    return "?? in %s's code: %s" % (module, " < ".join(names))
                if not n.endswith(suffix) or CLONE.sub("", n[:-len(suffix)]) not in funcs:
                    return "%r in %s's code is not one of %s.ko's functions" % (n, module, module)
                ok += 1
            if hit and named:
                if names[-1] != "[user]" and names[-1] not in OUTERMOST:
                    return "a stack through %s ends early: %s" % (module, " < ".join(names))
                through += 1
    if mod < 10:
        return "only %d frames in %s's code" % (mod, module)
    if named:
        return "ok %d/%d frames in %s's code named fn [%s], %d stacks through %s to their roots" % (
            ok, mod, module, module, through, module)
    return "ok %d/%d frames in %s's code are ?? and end their stack" % (mod, mod, module)


def compare(gdb_json, kprof_json, syms_json, module, ranges_arg):
    g = json.load(open(gdb_json))
    k = json.load(open(kprof_json))
    s = json.load(open(syms_json))
    entry, span = set(s["entry"]), s["span"]
    spans = parse_ranges(ranges_arg)
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
            if in_ranges(at, spans):
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
    elif sys.argv[1] == "ranges":
        print(ranges(*sys.argv[2:4]))
    elif sys.argv[1] == "profile":
        print(profile(*sys.argv[2:7]))
    else:
        print(compare(*sys.argv[2:7]))
