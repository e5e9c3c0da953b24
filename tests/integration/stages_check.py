#!/usr/bin/env python3
"""Check a trace.json from `kprof collect --by-stage` against what the guest reported.

  stages_check.py TRACE.json SERIAL.log PROFILE.json ELF [SVG] [FOLDED-PER-STAGE FOLDED-PLAIN]

SERIAL.log is the collected run's serial output (its BOOT_TIME lines); PROFILE.json a
`kprof run --boot-profile=json` line of the same guest, whose guest stages and port-0x80 codes,
merged by the time the monitor saw them, are the guest's marker order.  Prints one "ok ..."
line, or the first problem.
"""
import itertools
import json
import re
import subprocess
import sys


def main():
    trace, serial, profile, elf = sys.argv[1:5]
    svg = sys.argv[5] if len(sys.argv) > 5 else None
    folded = sys.argv[6:8] if len(sys.argv) > 7 else None
    t = json.load(open(trace))
    samples = t["kprof"]["samples"]
    stacks = t["stack_traces"]
    printed = [m.group(1) for m in re.finditer(r"^BOOT_TIME:(.+):\d+$", open(serial).read(), re.M)]
    p = json.loads(open(profile).read())
    marks = [(s["host_ns"], s["name"]) for s in p["guest_stages"]]
    marks += [(c["host_ns"], "post:0x%02x" % c["code"]) for c in p["port80"]]
    order = ["kernel"] + [name for _, name in sorted(marks)]
    booted = [m for m in order if not m.startswith("post:")][1:]
    if printed != booted:
        return "the collected run printed %s, the boot profile's run %s" % (printed, booted)

    stages = [s.get("stage") for s in samples]
    if None in stages:
        return "sample %d has no stage" % stages.index(None)
    for i, st in enumerate(stages):
        if st != "kernel" and st not in printed and st not in order:
            return "sample %d: stage %r is neither kernel, a BOOT_TIME stage the guest " \
                   "printed, nor one of its port-0x80 codes" % (i, st)
    runs = [k for k, _ in itertools.groupby(stages)]
    if len(set(runs)) != len(runs):
        return "a stage comes back after another began: %s" % runs
    pos = [order.index(r) for r in runs]
    if pos != sorted(pos):
        return "stages out of the guest's order: %s (guest: %s)" % (runs, order)
    if len(runs) < 3:
        return "only %d stages with samples: %s" % (len(runs), runs)
    for need in ("ready", "work_half"):
        if need not in runs:
            return "no sample in the workload's stage %s: %s" % (need, runs)

    # From the first instruction: the first sample is the PVH entry, before any marker, and
    # the AP, not started yet, has no stack.
    first = stacks[0]
    if stages[0] != "kernel" or list(first) != ["0"] or first["0"] != ["pvh_start32"]:
        return "first sample is %s in stage %s, not pvh_start32 alone in kernel" % (first, stages[0])
    online = [set(s) for s in stacks]
    for a, b in zip(online, online[1:]):
        if not a <= b:
            return "a vCPU's stack disappeared between samples: %s then %s" % (a, b)

    # Frames are named as without --by-stage: every name is a symbol of the ELF.  An AP just
    # started runs the real-mode trampoline the BSP copied below 1 MiB (guest/README.md,
    # "SMP"), code at no address of the ELF: that one frame is an honest '??'.
    syms = set(l.split()[-1] for l in subprocess.run(["nm", elf], capture_output=True, text=True,
                                                     check=True).stdout.splitlines())
    trampoline = False
    for i, s in enumerate(stacks):
        for cpu, frames in s.items():
            if cpu != "0" and frames == ["??"] and int(samples[i]["pcs"][cpu][0], 16) < 0x100000:
                trampoline = True
                continue
            bad = [f for f in frames if f not in syms]
            if bad:
                return "sample %d CPU %s: %s not in the symbol table" % (i, cpu, bad)

    counts = {}
    for st, s in zip(stages, stacks):
        counts[st] = counts.get(st, 0) + len(s)
    total = sum(counts.values())
    if svg:
        text = open(svg).read()
        heads = re.findall(r'<text class="heading"[^>]*>stage ([^<]*): (\d+) samples '
                           r'\(([\d.]+)% of all\)</text>', text)
        if [h[0] for h in heads] != runs:
            return "SVG headings %s, stages %s" % ([h[0] for h in heads], runs)
        for name, n, share in heads:
            if int(n) != counts[name] or abs(float(share) - 100.0 * counts[name] / total) > 0.01:
                return "SVG heading of %s says %s samples (%s%%), the trace %d of %d" % (
                    name, n, share, counts[name], total)
        names = set(re.findall(r"<g><title>([^<]*?) \(\d+ samples", text))
        names = {n for n in names if not n.startswith("stage ")}
        if trampoline:
            names.discard("??")
        if not names or not names <= syms:
            return "SVG frames outside the symbol table: %s" % sorted(names - syms)[:5]
    if folded:
        merged = {}
        for line in open(folded[0]):
            path, n = line.rsplit(" ", 1)
            root, rest = path.split(";", 1)
            if not root.startswith("stage ") or root[6:] not in runs:
                return "folded root frame %r is no stage" % root
            merged[rest] = merged.get(rest, 0) + int(n)
        plain = {}
        for line in open(folded[1]):
            path, n = line.rsplit(" ", 1)
            plain[path] = int(n)
        if merged != plain:
            return "per-stage folded stacks without their root are not the plain folded stacks"
    return "ok %d samples, %d stages: %s" % (len(samples), len(runs), " ".join(
        "%s=%.1f%%" % (r, 100.0 * counts[r] / total) for r in runs))


if __name__ == "__main__":
    r = main()
    print(r)
    sys.exit(0 if r.startswith("ok") else 1)
