#!/usr/bin/env bash
# Debian's cloud kernel profiled by stage from its first instruction in kprof's own VM: the -dbg
# vmlinux through its PVH note, 2 vCPUs, the template test_linux_vm.sh uses on this host
# (vmm/README.md, "This host's KVM and Linux"), ended by --exit-at when both CPUs are up
# (about 2 minutes here).  Every frame must be a symbol of the vmlinux (or an honest '??'),
# the first sample the PVH entry with the AP not started, the AP's stacks there from some
# sample on and in every one after.  Linux prints no BOOT_TIME line before its /init, which
# this host's emulator does not reach in bounded time, and writes no port-0x80 byte on the
# way (a KVM guest's io_delay is a no-op): every sample is in stage kernel, and the test says
# so, so that a kernel that reports stages is noticed.
#
#   test_linux_stages.sh [FIXTURE-DIR]    (default: build/linux)
set -u
. "$(dirname "$0")/lib.sh"
DIR=${1:-build/linux}
for f in vmlinux initramfs.cpio; do
	if [ ! -s "$DIR/$f" ]; then
		fail "linux fixture" "$DIR/$f missing (make deps fetches it)"
		exit 0
	fi
done

start=$(date +%s)
timeout 1500 "$KPROF" collect --by-stage --samples 1000000 --interval 0.05 -o "$WORK/linux.json" \
	-- --cpus 2 --mem 256M --cpu host,-cx16 --initrd "$DIR/initramfs.cpio" \
	--cmdline "console=ttyS0 clearcpuid=popcnt,smap noxsave nosoftlockup" \
	--serial "$WORK/serial.log" --exit-at "text:smp: Brought up 1 node, 2 CPUs" "$DIR/vmlinux" \
	2>"$WORK/collect.err"
st=$?
secs=$(($(date +%s) - start))
if [ "$st" -eq 1 ] && grep -q "sampling ended after .*: end point reached: serial text 'smp: Brought up" \
	"$WORK/collect.err"; then
	pass "Linux collect --by-stage: from the first instruction to 2 CPUs up (${secs} s)"
else
	fail "Linux collect --by-stage" "status $st after ${secs} s: $(tail -1 "$WORK/collect.err")"
fi

nm "$DIR/vmlinux" | awk '{print $NF}' >"$WORK/syms"
result=$(python3 - "$WORK/linux.json" "$WORK/syms" "$DIR/vmlinux" <<'EOF'
import json, subprocess, sys
t = json.load(open(sys.argv[1]))
syms = set(open(sys.argv[2]).read().split())
samples, stacks = t["kprof"]["samples"], t["stack_traces"]
def main():
    if len(samples) < 100:
        return "only %d samples" % len(samples)
    stages = sorted(set(s.get("stage") for s in samples), key=str)
    if stages != ["kernel"]:
        return "stages %s (Linux was not expected to report any here)" % stages
    # The PVH entry runs at its physical address, where no symbol is (link addresses are
    # virtual): the first sample's one frame is '??' at pvh_start_xen's load address.
    out = subprocess.run(["nm", sys.argv[3]], capture_output=True, text=True).stdout
    entry = [int(l.split()[0], 16) for l in out.splitlines() if l.endswith(" pvh_start_xen")][0]
    pc = int(samples[0]["pcs"]["0"][0], 16)
    if list(stacks[0]) != ["0"] or pc != entry - 0xffffffff80000000:
        return "first sample %s at %#x, not CPU 0 alone at the PVH entry %#x" % (
            list(stacks[0]), pc, entry - 0xffffffff80000000)
    online = [set(s) for s in stacks]
    if any(not a <= b for a, b in zip(online, online[1:])) or online[-1] != {"0", "1"}:
        return "the AP's stacks are not there from some sample on: %s ... %s" % (online[0], online[-1])
    unknown = frames = 0
    for i, s in enumerate(stacks):
        for cpu, fr in s.items():
            frames += len(fr)
            unknown += fr.count("??")
            bad = [f for f in fr if f != "??" and f not in syms]
            if bad:
                return "sample %d CPU %s: %s not in the vmlinux's symbol table" % (i, cpu, bad)
    # '??' where Linux has code without symbols (.altinstr_aux) or before paging is on.
    if unknown * 50 > sum(len(s) for s in stacks):
        return "%d of %d stacks reach a pc in no symbol" % (unknown, sum(len(s) for s in stacks))
    ap = sum(1 for s in stacks if "1" in s)
    return "ok %d samples, stage kernel only, %d frames (%d '??'), CPU 1 in the last %d" % (
        len(samples), frames, unknown, ap)
print(main())
EOF
)
if [ "${result#ok}" != "$result" ]; then
	pass "Linux by stage: every frame from the vmlinux, first instruction, AP from its start ($result)"
else
	fail "Linux by stage" "$result"
fi
"$KPROF" parse "$WORK/linux.json" --per-stage -o "$WORK/linux.svg" 2>/dev/null
check "Linux: parse --per-stage draws stage kernel" \
	grep -q '<text class="heading"[^>]*>stage kernel: [0-9]* samples (100.00% of all)' "$WORK/linux.svg"
