# Checks a trace.json from kprof collect against the chains guest/README.md lists (used by
# test_collect.sh and test_remote.sh):  check_trace.py FILE NCPUS SAMPLES ELF README
import collections, itertools, json, subprocess, sys

import re

path, ncpus, nsamples, elf, readme = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
# Rows "| 2 | matrix | `start64_ap` > ... > `work_leaf` |": the backquoted names, repeats folded.
chains = {}
for line in open(readme):
    m = re.match(r"\|\s*(\d+)\b[^|]*\|[^|]*\|(.*`work_leaf`.*)\|\s*$", line)
    if m:
        chains[int(m.group(1))] = [k for k, _ in itertools.groupby(re.findall(r"`([A-Za-z0-9_]+)`", m.group(2)))]
if sorted(chains) != [0, 1, 2, 3]:
    print(f"cannot read the chains of CPUs 0-3 from {readme}")
    sys.exit(1)
syms = set()
for line in subprocess.run(["nm", "--defined-only", elf], capture_output=True, text=True).stdout.splitlines():
    parts = line.split()
    if len(parts) == 3 and parts[1] in "tTwW":
        syms.add(parts[2])
d = json.load(open(path))
traces, meta = d["stack_traces"], d["kprof"]
def bad(msg):
    print(msg)
    sys.exit(1)
if len(traces) != nsamples:
    bad(f"{len(traces)} captures, wanted {nsamples}")
if meta["cpus"] != ncpus or len(meta["samples"]) != nsamples:
    bad("kprof metadata disagrees with the run")
total = with_work = 0
per_cpu = collections.defaultdict(list)
for i, cap in enumerate(traces):
    if sorted(cap, key=int) != [str(c) for c in range(ncpus)]:
        bad(f"capture {i} has CPUs {sorted(cap)}, wanted 0..{ncpus - 1}")
    pcs = meta["samples"][i]["pcs"]
    for cpu, stack in cap.items():
        total += 1
        if len(pcs[cpu]) != len(stack):
            bad(f"capture {i} cpu {cpu}: {len(pcs[cpu])} pcs for {len(stack)} frames")
        for name in stack:
            if name != "??" and name not in syms:
                bad(f"capture {i} cpu {cpu}: frame '{name}' is not in the guest's symbol table")
        if "??" in stack[:-1]:
            bad(f"capture {i} cpu {cpu}: '??' before the last frame")
        if "cpu_work" in stack:
            with_work += 1
            per_cpu[int(cpu)].append([k for k, _ in itertools.groupby(reversed(stack))])
if with_work * 100 < total * 90:
    bad(f"only {with_work} of {total} stacks contain cpu_work")
for cpu in range(ncpus):
    want = chains[cpu % 4]
    start = want.index("cpu_work")
    stacks = per_cpu[cpu]
    if not stacks:
        bad(f"cpu {cpu}: no stack in cpu_work")
    top, n = collections.Counter(" > ".join(c) for c in stacks).most_common(1)[0]
    top = top.split(" > ")
    if len(top) < start + 3 or top != want[:len(top)]:
        bad(f"cpu {cpu}: dominant chain {' > '.join(top)} ({n} of {len(stacks)}) is not along {' > '.join(want)}")
    if not any(c[:len(want)] == want for c in stacks):
        bad(f"cpu {cpu}: the full chain {' > '.join(want)} never seen")
    on_chain = sum(1 for c in stacks if c[:start + 2] == want[:start + 2])
    if on_chain * 100 < len(stacks) * 90:
        bad(f"cpu {cpu}: only {on_chain} of {len(stacks)} stacks run {' > '.join(want[:start + 2])}")
print(f"ok {total} stacks, {with_work} in cpu_work")
