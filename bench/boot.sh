#!/usr/bin/env bash
# Boot latency: a cold boot against a restore from a snapshot taken at the same point.
#
#   bench/boot.sh [ITERATIONS]      (default 30 of each)
#
# The point is port-0x80 code 0x60 of the bundled guest (workloads released, every CPU up).
# Cold: `kprof boot --exit-at 0x60`, from vmm_create to the guest's write of 0x60.  Restore:
# `kprof boot --restore` of a snapshot saved at that write, from the start of the restore until
# every vCPU runs again ("total with resume").  Both in-process, fresh VM each time, 2 vCPUs.
# Prints medians and p90s, and the restore's own steps.
set -euo pipefail
cd "$(dirname "$0")/.."

KPROF=${KPROF:-build/kprof}
GUEST=${GUEST:-build/guest/kprof-guest.elf}
N=${1:-30}
dir=$(mktemp -d /tmp/kprof-bench-boot.XXXXXX)
trap 'rm -rf "$dir"' EXIT

"$KPROF" run --cpus 2 --cmdline iterations=1 --snapshot-on 0x60 --snapshot "$dir/s.snap" \
	"$GUEST" >/dev/null 2>"$dir/snap.err"
"$KPROF" boot --iterations "$N" --cpus 2 --cmdline iterations=1 --exit-at 0x60 \
	--json "$dir/cold.json" "$GUEST" >/dev/null 2>&1
"$KPROF" boot --iterations "$N" --restore "$dir/s.snap" --exit-at 0x61 \
	--json "$dir/restore.json" >/dev/null 2>&1

python3 - "$dir/cold.json" "$dir/restore.json" "$(stat -c %s "$dir/s.snap")" <<'PY'
import json, sys
cold, rest = (json.load(open(p)) for p in sys.argv[1:3])
snap = int(sys.argv[3])
def rows(d):
    return {(g["group"], r["name"]): r for g in d["groups"] for r in g["rows"]}
c, r = rows(cold), rows(rest)
ct, rt = c[("split", "total")], r[("restore", "total with resume")]
ms = lambda ns: ns / 1e6
print(f"boot: cold boot to port 0x80 code 0x60: median {ms(ct['median']):.2f} ms, "
      f"p90 {ms(ct['p90']):.2f} ms ({ct['n']} boots, 2 vCPUs)")
print(f"boot: restore to the same point:        median {ms(rt['median']):.2f} ms, "
      f"p90 {ms(rt['p90']):.2f} ms ({rt['n']} restores of a {snap / 1024:.0f} KiB snapshot)")
print(f"boot: restore is {ct['median'] / max(rt['median'], 1):.1f}x faster than a cold boot "
      f"(medians); without the resume {ms(r[('restore', 'total without resume')]['median']):.2f} ms")
print("boot: restore steps (median ms): " + ", ".join(
    f"{k[1]} {ms(v['median']):.3f}" for k, v in r.items()
    if k[0] == "restore" and not k[1].startswith("total")))
print("boot: cold create-VM steps (median ms): " + ", ".join(
    f"{k[1]} {ms(v['median']):.3f}" for k, v in c.items() if k[0] == "create_vm"))
PY
