#!/usr/bin/env bash
# kprof boot: distributions over several boots (table, JSON, SVG histogram), end points by
# stage, port-0x80 code and debug-exit, a missed end point, bad options, a comparison with QEMU
# (TCG), and boots from a snapshot.
set -u
. "$(dirname "$0")/lib.sh"

out="$WORK/boot.txt"
timeout 300 "$KPROF" boot --iterations 5 --cpus 2 --json "$WORK/boot.json" \
	--histogram "$WORK/boot.svg" "$GUEST" >"$out" 2>"$WORK/boot.err"
st=$?
rows_ok=1
for row in tVMM tFW tKernel total kvm_open boot_wait kvm_create_vm vm_arch_setup \
	kvm_set_user_memory_region elf_load cpuid_config init_entry ready '0x40 Kernel'; do
	grep -qE "^  $row +5 " "$out" || { rows_ok=0; echo "missing row: $row"; }
done
if [ "$st" -eq 0 ] && [ "$rows_ok" -eq 1 ] && grep -q 'each ended at BOOT_TIME:ready' "$out" &&
	! grep -q 'work_done' "$out"; then
	pass "boot: 5 boots to the ready stage, every phase reported"
else
	fail "boot: 5 boots to the ready stage, every phase reported" "status $st"
fi
if python3 - "$WORK/boot.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["iterations"] == 5 and d["cpus"] == 2 and len(d["total_ns"]) == 5
g = {x["group"]: {r["name"]: r for r in x["rows"]} for x in d["groups"]}
for k in ("split", "host_phases", "create_vm", "guest_stages", "port80"):
    assert k in g, k
t = g["split"]["total"]
assert t["n"] == 5 and t["min"] <= t["median"] <= t["p90"] <= t["p99"] <= t["max"]
assert t["spread"] == t["max"] - t["min"] and t["iqr"] == t["p75"] - t["p25"]
assert sorted(d["total_ns"])[0] == t["min"]
PY
then pass "boot: JSON report"; else fail "boot: JSON report"; fi
if python3 -c 'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); assert r.tag.endswith("svg") and len(r.findall(".//{http://www.w3.org/2000/svg}rect")) > 0' "$WORK/boot.svg"; then
	pass "boot: SVG histogram"
else
	fail "boot: SVG histogram"
fi

timeout 120 "$KPROF" boot --iterations 2 --exit-at 0x42 "$GUEST" >"$out" 2>&1
st=$?
if [ "$st" -eq 0 ] && grep -qE '^  0x42 Kernel +2 ' "$out" && ! grep -q '0x43 Kernel' "$out"; then
	pass "boot: end at a port-0x80 code"
else
	fail "boot: end at a port-0x80 code" "status $st"
fi
timeout 120 "$KPROF" boot --iterations 2 --exit-at 0x43-0x44 --cpus 2 "$GUEST" >"$out" 2>&1
st=$?
if [ "$st" -eq 0 ] && grep -qE '^  0x43 Kernel +2 ' "$out" && ! grep -q '0x44 Kernel' "$out"; then
	pass "boot: end at the first code of a range"
else
	fail "boot: end at the first code of a range" "status $st"
fi
timeout 120 "$KPROF" boot --iterations 2 --exit-at debug-exit --cmdline iterations=1 "$GUEST" \
	>"$out" 2>&1
st=$?
if [ "$st" -eq 0 ] && grep -qE '^  work_done +2 ' "$out"; then
	pass "boot: end at the guest's debug-exit"
else
	fail "boot: end at the guest's debug-exit" "status $st"
fi

err=$(timeout 120 "$KPROF" boot --iterations 2 --exit-at no_such_stage --cmdline iterations=1 \
	"$GUEST" 2>&1 >/dev/null)
st=$?
if [ "$st" -eq 1 ] && echo "$err" | grep -q 'before BOOT_TIME:no_such_stage'; then
	pass "boot: a missed end point fails"
else
	fail "boot: a missed end point fails" "status $st: $err"
fi
expect_status "boot: bad --iterations" 2 "$KPROF" boot --iterations 0 "$GUEST"
expect_status "boot: unknown option" 2 "$KPROF" boot --frobnicate "$GUEST"
expect_status "boot: no kernel" 2 "$KPROF" boot --iterations 2
expect_status "boot: not an ELF" 2 "$KPROF" boot --iterations 2 "$WORK/boot.json"

timeout 300 "$KPROF" boot --iterations 3 --compare-qemu --json "$WORK/q.json" "$GUEST" \
	>"$out" 2>&1
st=$?
if [ "$st" -eq 0 ] && grep -q 'kprof (KVM) *QEMU (TCG)' "$out" && grep -qE '^  boots +3 +3$' "$out" &&
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["qemu_wall_ns"]) == 3' "$WORK/q.json"; then
	pass "boot: side by side with QEMU (TCG)"
else
	fail "boot: side by side with QEMU (TCG)" "status $st"
fi

# Boots from a snapshot report the restore steps.
timeout 120 "$KPROF" run --cmdline iterations=1 --snapshot-on 0x60 --snapshot "$WORK/s.snap" \
	"$GUEST" >/dev/null 2>&1
timeout 120 "$KPROF" boot --iterations 3 --restore "$WORK/s.snap" --exit-at 0x61 >"$out" 2>&1
st=$?
if [ "$st" -eq 0 ] && grep -qE '^  memory_state_write +3 ' "$out" &&
	grep -qE '^  total with resume +3 ' "$out"; then
	pass "boot: from a snapshot, restore steps reported"
else
	fail "boot: from a snapshot, restore steps reported" "status $st"
fi

# kprof run --exit-at: the run ends there with status 0; its boot profile carries the
# create-VM steps and the split.
timeout 120 "$KPROF" run --cpus 2 --exit-at ready --boot-profile "$GUEST" >"$WORK/run.out" \
	2>"$WORK/run.err"
st=$?
if [ "$st" -eq 0 ] && grep -q 'BOOT_TIME:ready' "$WORK/run.out" && ! grep -q 'work_done' "$WORK/run.out" &&
	grep -qE '^  kvm_set_user_memory_region +[0-9.]+$' "$WORK/run.err" &&
	grep -qE '^  tKernel \(to the end\) +[0-9.]+$' "$WORK/run.err"; then
	pass "run --exit-at ready: status 0, create-VM steps and split in the boot profile"
else
	fail "run --exit-at ready: status 0, create-VM steps and split in the boot profile" "status $st"
fi
