#!/usr/bin/env python3
"""Hold go tool pprof's reading of a kprof pprof file against kprof's folded output.

  pprof_check.py top TOP.txt FOLDED       `go tool pprof -top` flat/cum per function
  pprof_check.py traces TRACES.txt FOLDED `go tool pprof -traces` stacks, FOLDED per CPU
  pprof_check.py inlined RAW.txt          `go tool pprof -raw`: a Location with 2+ Lines

Each prints one line of figures and exits 1 with the first difference."""
import collections
import re
import sys


def folded(path):
    stacks = collections.Counter()
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line:
            continue
        stack, count = line.rsplit(" ", 1)
        stacks[stack] += int(count)
    return stacks


def name(text):
    """pprof marks a function shown where it was inlined with " (inline)"."""
    return text[: -len(" (inline)")] if text.endswith(" (inline)") else text


def fail(msg):
    print(msg)
    sys.exit(1)


def top(top_path, folded_path):
    want_flat, want_cum = collections.Counter(), collections.Counter()
    for stack, count in folded(folded_path).items():
        frames = stack.split(";")
        want_flat[frames[-1]] += count
        for f in set(frames):
            want_cum[f] += count
    got_flat, got_cum = collections.Counter(), collections.Counter()
    rows = False
    for line in open(top_path, encoding="utf-8"):
        if re.match(r"\s*flat\s+flat%\s+sum%\s+cum\s+cum%", line):
            rows = True
            continue
        if not rows or not line.strip():
            continue
        m = re.match(r"\s*(\d+)\s+\S+%\s+\S+%\s+(\d+)\s+\S+%\s+(.+)$", line)
        if not m:
            fail(f"top: unreadable row {line!r}")
        got_flat[name(m.group(3))] += int(m.group(1))
        got_cum[name(m.group(3))] += int(m.group(2))
    want_flat = +want_flat
    if got_flat != want_flat or got_cum != want_cum:
        for f in sorted(set(want_cum) | set(got_cum)):
            if (got_flat[f], got_cum[f]) != (want_flat[f], want_cum[f]):
                fail(f"top: {f}: pprof flat {got_flat[f]} cum {got_cum[f]}, "
                     f"folded flat {want_flat[f]} cum {want_cum[f]}")
    print(f"{len(want_cum)} functions, {sum(want_flat.values())} samples, flat and cum agree")


def traces(traces_path, folded_path):
    want = folded(folded_path)
    got = collections.Counter()
    cpu, count, frames = None, None, []

    def flush():
        if count is not None:
            got[";".join(([f"CPU {cpu}"] if cpu is not None else []) + frames[::-1])] += count

    for line in open(traces_path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("-----------+"):
            flush()
            cpu, count, frames = None, None, []
            continue
        m = re.match(r"\s+cpu:\s+(\d+)$", line)
        if m:
            cpu = int(m.group(1))
            continue
        m = re.match(r"\s+(\d+)\s{3}(\S.*)$", line)
        if m and count is None:
            count, frames = int(m.group(1)), [name(m.group(2))]
            continue
        m = re.match(r"\s{13}(\S.*)$", line)
        if m and count is not None:
            frames.append(name(m.group(1)))
    flush()
    if got != want:
        for s in sorted(set(got) | set(want)):
            if got[s] != want[s]:
                fail(f"traces: {s}: pprof {got[s]}, folded {want[s]}")
    print(f"{len(want)} distinct stacks, {sum(want.values())} samples agree")


def inlined(raw_path):
    rows = []
    section = None
    for line in open(raw_path, encoding="utf-8"):
        if re.match(r"^[A-Z][a-z]+$", line.strip()) and not line.startswith(" "):
            section = line.strip()
            continue
        if section == "Locations":
            if re.match(r"\s+\d+: 0x", line):
                rows.append([line.split()[3]])
            elif rows and re.match(r"\s{10,}\S", line):
                rows[-1].append(line.split()[0])
    multi = [r for r in rows if len(r) > 1]
    if not multi:
        fail(f"inlined: none of {len(rows)} locations has more than one line")
    print(f"{len(multi)} of {len(rows)} locations hold inlined frames, e.g. {' <- '.join(multi[0])}")


if __name__ == "__main__":
    {"top": top, "traces": traces, "inlined": inlined}[sys.argv[1]](*sys.argv[2:])
