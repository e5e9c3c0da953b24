#!/usr/bin/env python3
"""Aggregate the row scripts' result lines into one table and bench/results.json.

Input lines (tab-separated, one per measurement; a metric repeated once per run):
  BENCH  group  metric  kprof-value|-  peer-value|-  unit  note
  SKIP   group  metric  reason
Each metric is reported as the median of its runs with the spread (min-max), and the ratio
kprof/peer of the medians where both exist.
"""
import json
import statistics
import sys


def num(s):
    try:
        return float(s)
    except ValueError:
        return None


def fmt(v):
    if v is None:
        return "-"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def summary(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals),
            "runs": len(vals), "values": vals}


def cell(s):
    if not s:
        return "-"
    if s["runs"] == 1 or s["min"] == s["max"]:
        return fmt(s["median"])
    return f"{fmt(s['median'])} ({fmt(s['min'])}-{fmt(s['max'])})"


def main(lines_path, json_path, elapsed):
    rows = {}
    order = []
    for line in open(lines_path, errors="replace"):
        f = line.rstrip("\n").split("\t")
        if f[0] not in ("BENCH", "SKIP") or len(f) < 4:
            continue
        key = (f[1], f[2])
        if key not in rows:
            rows[key] = {"group": f[1], "metric": f[2], "kprof": [], "peer": [], "unit": "",
                         "note": "", "skipped": None}
            order.append(key)
        r = rows[key]
        if f[0] == "SKIP":
            r["skipped"] = f[3]
            continue
        r["kprof"].append(num(f[3]))
        r["peer"].append(num(f[4]) if len(f) > 4 else None)
        r["unit"] = f[5] if len(f) > 5 else ""
        r["note"] = f[6] if len(f) > 6 else ""

    out = []
    table = [("group", "metric", "kprof median (min-max)", "peer median (min-max)", "kprof/peer",
              "unit", "runs", "note")]
    for key in order:
        r = rows[key]
        k, p = summary(r["kprof"]), summary(r["peer"])
        ratio = k["median"] / p["median"] if k and p and p["median"] else None
        rec = {"group": r["group"], "metric": r["metric"], "unit": r["unit"], "kprof": k,
               "peer": p, "ratio": ratio, "note": r["note"]}
        if not k and not p:
            rec["skipped"] = r["skipped"] or "no figures"
            table.append((r["group"], r["metric"], "not run", "", "", "", "0",
                          rec["skipped"]))
        else:
            if r["skipped"]:
                rec["partly_skipped"] = r["skipped"]
            runs = max(k["runs"] if k else 0, p["runs"] if p else 0)
            table.append((r["group"], r["metric"], cell(k), cell(p),
                          f"{ratio:.3g}" if ratio is not None else "-", r["unit"], str(runs),
                          r["note"] + (f" [some runs: {r['skipped']}]" if r["skipped"] else "")))
        out.append(rec)

    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]) - 1)]
    for i, row in enumerate(table):
        print("  ".join(c.ljust(w) if j < 2 or j >= 5 else c.rjust(w)
                        for j, (c, w) in enumerate(zip(row, widths))) + "  " + row[-1])
        if i == 0:
            print("  ".join("-" * w for w in widths) + "  ----")
    with open(json_path, "w") as f:
        json.dump({"elapsed_s": elapsed, "rows": out}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
