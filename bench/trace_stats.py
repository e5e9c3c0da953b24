#!/usr/bin/env python3
"""Figures from a kprof trace.json for the benchmarks (kprof's own keys, see profiler/).

   trace_stats.py rate TRACE      rounds/s, stop median and p99 (us) over the workload
   trace_stats.py depth TRACE     mean frames per stack
   trace_stats.py kdepth TRACE    mean named kernel frames per stack that is not only [user]

Only samples taken while every sampled CPU is inside its workload (a stack containing
cpu_work) count for the rate and stop times, so boot and shutdown do not skew them.
"""
import json
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def in_workload(stacks):
    return stacks and all("cpu_work" in frames for frames in stacks.values())


def pct(sorted_vals, q):
    if not sorted_vals:
        return float("nan")
    k = min(len(sorted_vals) - 1, max(0, int(round(q * (len(sorted_vals) - 1)))))
    return sorted_vals[k]


def rate(path):
    d = load(path)
    traces = d["stack_traces"]
    meta = d["kprof"]["samples"]
    idx = [i for i, st in enumerate(traces) if in_workload(st)]
    if len(idx) < 10:
        sys.exit(f"{path}: only {len(idx)} samples inside the workload")
    t = [meta[i]["time_ns"] for i in idx]
    stops = sorted(meta[i]["stop_ns"] for i in idx)
    span = (t[-1] - t[0]) / 1e9
    print(f"{(len(idx) - 1) / span:.1f} {pct(stops, 0.5) / 1e3:.1f} {pct(stops, 0.99) / 1e3:.1f} {len(idx)}")


def depth(path):
    d = load(path)
    n = frames = 0
    for st in d["stack_traces"]:
        for fr in st.values():
            n += 1
            frames += len(fr)
    print(f"{frames / max(n, 1):.2f} {n}")


def kdepth(path):
    d = load(path)
    n = frames = 0
    for st in d["stack_traces"]:
        for fr in st.values():
            if fr == ["[user]"]:
                continue
            n += 1
            frames += sum(f not in ("[user]", "??") for f in fr)
    print(f"{frames / max(n, 1):.2f} {n}")


if __name__ == "__main__":
    {"rate": rate, "depth": depth, "kdepth": kdepth}[sys.argv[1]](sys.argv[2])
