#!/usr/bin/env bash
# Debian's cloud kernel in kprof's own VM (not QEMU): the -dbg vmlinux through its PVH note and
# the vmlinuz through the Linux 64-bit boot protocol, with the fixture's busybox initramfs as
# --initrd, 2 vCPUs.
#  - vmlinux: on the PVM host of the test machines guest kernel code is emulated (about 1.4 M
#    instructions/s) and the emulator fails on some instructions Linux picks by CPUID, so the
#    run uses the documented template (vmm/README.md, "This host's KVM and Linux"):
#    --cpu host,-cx16 and Linux's clearcpuid=popcnt,smap noxsave.  It must pass the points
#    that failed without it (SLUB's cmpxchg16b, FPU init's xrstor, the int3 self-test, which
#    needs the monitor's #BP delivery) and end, through --exit-at text:, when both CPUs are
#    up (about 3 minutes here); the boot profile has the initrd phases.  How far Linux gets
#    beyond that and in how long is measured in vmm/README.md; this stays bounded.
#  - a snapshot of that boot, taken before the APIC setup, restored: the
#    restored kernel brings it up and its log's clock goes on.
#  - vmlinux under --gdb: at six stops during the boot, gdb's bt and `monitor stacks` agree.
#  - vmlinuz: the boot protocol's hand-off: the BSP is in long mode inside the kernel's
#    [load, load + init_size) and its decompressor has installed its own page tables (CR3 is
#    no longer the monitor's), seen through gdb at kprof's stub (the decompressor itself takes
#    about 7 minutes here).
#  - the sample initramfs (examples/linux-initramfs.sh) under QEMU TCG.
#
#   test_linux_vm.sh [FIXTURE-DIR]    (default: build/linux)
set -u
. "$(dirname "$0")/lib.sh"
DIR=${1:-build/linux}
for f in vmlinux vmlinuz initramfs.cpio; do
	if [ ! -s "$DIR/$f" ]; then
		fail "linux fixture" "$DIR/$f missing (make deps fetches it)"
		exit 0
	fi
done
TEMPLATE=(--cpu host,-cx16)
LINUX_CMDLINE="console=ttyS0 clearcpuid=popcnt,smap noxsave nosoftlockup"

# --- vmlinux (PVH) with the initramfs, to both CPUs up, with a snapshot taken on the way
# (SIGUSR2 at the console's switch, before the APIC setup, the alternatives patching with its
# int3 self-test and the second CPU's bring-up, which the restored kernel then does).
start=$(date +%s)
timeout 1500 "$KPROF" run --cpus 2 --mem 256M "${TEMPLATE[@]}" --initrd "$DIR/initramfs.cpio" \
	--cmdline "$LINUX_CMDLINE" --boot-profile=json --exit-at "text:smp: Brought up 1 node, 2 CPUs" \
	--snapshot-on SIGUSR2 --snapshot "$WORK/linux.snap" \
	"$DIR/vmlinux" >"$WORK/vmlinux.out" 2>"$WORK/vmlinux.err" &
kpid=$!
snapped=
while kill -0 $kpid 2>/dev/null; do
	if [ -z "$snapped" ] && grep -q "Console: colour dummy device" "$WORK/vmlinux.out"; then
		# To kprof itself: $kpid is timeout's, which SIGUSR2 would end.
		pkill -USR2 -P $kpid
		snapped=signalled
	fi
	if [ "$snapped" = signalled ] && grep -q "^kprof: snapshot " "$WORK/vmlinux.err"; then
		# What the console had printed by the time the snapshot was written.
		cp "$WORK/vmlinux.out" "$WORK/before-snapshot.out"
		snapped=saved
	fi
	sleep 0.5
done
wait $kpid
st=$?
secs=$(($(date +%s) - start))
ok=1
for line in "Memory: " "SLUB: HWalign" "x86/fpu: x87 FPU will use FXSAVE" \
	"Freeing SMP alternatives memory" "smp: Brought up 1 node, 2 CPUs"; do
	grep -q "$line" "$WORK/vmlinux.out" || { ok=0; echo "    missing on the console: $line"; }
done
if [ "$st" -eq 0 ] && [ $ok -eq 1 ]; then
	pass "Debian vmlinux: past cmpxchg16b, xrstor, the int3 self-test; 2 CPUs up (${secs} s)"
else
	fail "Debian vmlinux boot" "status $st after ${secs} s"
	grep -v '^\[' "$WORK/vmlinux.err" | head -5 | sed 's/^/    /'
	tail -3 "$WORK/vmlinux.out" | sed 's/^/    /'
fi
if python3 -c '
import json, sys
lines = [l for l in open(sys.argv[1]) if l.startswith("{")]
p = json.loads(lines[-1])
ph = {h["name"]: h["ns"] for h in p["host_phases"]}
assert ph["initrd_load"] > 0 and ph["kernel_load"] > 0, ph
' "$WORK/vmlinux.err"; then
	pass "Debian vmlinux: boot profile with kernel_load and initrd_load"
else
	fail "Debian vmlinux boot profile"
fi

# --- That snapshot restored: the kernel goes on from where it was saved and brings the
# second CPU up by itself, its clock running on from the saved one (the first line it prints
# is stamped no earlier than the last one before the snapshot).
name="Debian vmlinux: a snapshot taken before the APIC setup, restored, patches the alternatives and brings both CPUs up"
if [ "$snapped" != saved ] || [ ! -s "$WORK/linux.snap" ]; then
	fail "$name" "no snapshot (${snapped:-never signalled}): $(grep -m1 snapshot "$WORK/vmlinux.err")"
elif grep -q "smp: Brought up" "$WORK/before-snapshot.out"; then
	fail "$name" "the snapshot was written only after both CPUs were up"
else
	timeout 900 "$KPROF" run --restore "$WORK/linux.snap" --boot-profile \
		--exit-at "text:smp: Brought up 1 node, 2 CPUs" >"$WORK/restore.out" 2>"$WORK/restore.err"
	st=$?
	if [ $st -eq 0 ] && grep -q "restore profile" "$WORK/restore.err" && python3 -c '
import re, sys
stamp = lambda path: [float(t) for t in re.findall(r"^\[ *(\d+\.\d+)\]", open(path).read(), re.M)]
before, after = stamp(sys.argv[1]), stamp(sys.argv[2])
assert before and after and after[0] >= before[-1], (before[-1:], after[:1])
assert "Oops" not in open(sys.argv[2]).read()
' "$WORK/before-snapshot.out" "$WORK/restore.out"; then
		pass "$name ($(grep -m1 "^kprof: snapshot" "$WORK/vmlinux.err" | sed 's/.*: \([0-9]* vCPUs, [0-9]* of [0-9]* pages\).*/\1/'); restore $(awk '/total without resume/ { print $4 " ms" }' "$WORK/restore.err"), $(grep -c '^\[' "$WORK/restore.out") kernel lines after it)"
	else
		fail "$name" "restore status $st: $(grep -v '^ ' "$WORK/restore.err" | tail -2 | tr '\n' ' ')"
		tail -3 "$WORK/restore.out" | sed 's/^/    /'
	fi
fi

# --- vmlinux under kprof's own gdb stub: at stops during the boot, gdb's `thread apply all bt`
# and kprof's `monitor stacks` name the same frames on every online vCPU (linux_oracle.py, the
# oracle test_linux.sh holds kprof collect --remote to under QEMU), through interrupt entry
# when a stop lands in one.
ORACLE=$(dirname "$0")/linux_oracle.py
python3 "$ORACLE" syms "$DIR/vmlinux" "$WORK/syms.json"
port=$(free_port)
"$KPROF" run --cpus 2 --mem 256M "${TEMPLATE[@]}" --initrd "$DIR/initramfs.cpio" \
	--cmdline "$LINUX_CMDLINE" --gdb "tcp:127.0.0.1:$port" "$DIR/vmlinux" \
	>"$WORK/gdbstub.out" 2>"$WORK/gdbstub.err" &
kpid=$!
wait_port "$port" || true
stops=0 problem= seen= example=
for i in 1 2 3 4 5 6; do
	sleep $((3 + RANDOM % 6))
	kill -0 $kpid 2>/dev/null || { problem="kprof ended: $(tail -1 "$WORK/gdbstub.err")"; break; }
	# Attaching stops every vCPU; detaching lets the boot go on.
	BT_OUT=$WORK/stop$i.json timeout 120 gdb -q -nx -batch -ex "target remote 127.0.0.1:$port" \
		-x "$ORACLE" -ex "python open('$WORK/stop$i.txt', 'w').write(gdb.execute('monitor stacks', to_string=True))" \
		-ex detach "$DIR/vmlinux" >"$WORK/stop$i.log" 2>&1
	result=$(python3 "$ORACLE" compare "$WORK/stop$i.json" "$WORK/stop$i.txt" "$WORK/syms.json" 2>&1)
	case $result in
	ok*) stops=$((stops + 1)); r=${result#ok }; seen="$seen ${r%%|*}" ;;
	*) problem="stop $i: $result"; break ;;
	esac
	[ -n "$example" ] || example=$(sed -n 's/^#[0-9]* *0x[0-9a-f]* in \([^ ]*\).*/\1/p' "$WORK/stop$i.txt" |
		head -4 | tr '\n' '<' | sed 's/<$//')
done
kill $kpid 2>/dev/null
wait $kpid 2>/dev/null
if [ -z "$problem" ] && [ $stops -ge 5 ]; then
	pass "Debian vmlinux under kprof run --gdb: gdb's bt and monitor stacks name the same frames at $stops stops during boot (entries:$(echo $seen | tr ' ' '\n' | sort -u | tr '\n' ' ')e.g. $example)"
else
	fail "Debian vmlinux under kprof run --gdb: gdb's bt and monitor stacks" "${problem:-$stops stops}"
fi

# --- vmlinuz (bzImage): the hand-off to the kernel's own code.
port=$(free_port)
"$KPROF" run --cpus 1 --mem 256M "${TEMPLATE[@]}" --initrd "$DIR/initramfs.cpio" \
	--cmdline "$LINUX_CMDLINE" --gdb "tcp:127.0.0.1:$port" "$DIR/vmlinuz" \
	>"$WORK/vmlinuz.out" 2>"$WORK/vmlinuz.err" &
kpid=$!
wait_port "$port" || true
init_size=$(python3 -c '
import struct, sys
print(struct.unpack_from("<I", open(sys.argv[1], "rb").read(0x264), 0x260)[0])' "$DIR/vmlinuz")
state=""
for _ in $(seq 20); do
	sleep 6
	kill -0 $kpid 2>/dev/null || break
	state=$(timeout 60 gdb -batch -ex "target remote 127.0.0.1:$port" \
		-ex 'printf "rip=%#lx cr3=%#lx efer=%#lx\n", $pc, $cr3, $efer' -ex detach 2>/dev/null |
		grep '^rip=')
	cr3=$(echo "$state" | sed -n 's/.*cr3=\(0x[0-9a-f]*\).*/\1/p')
	[ -n "$cr3" ] && [ $((cr3)) -ne $((0x9000)) ] && break
done
kill $kpid 2>/dev/null
wait $kpid 2>/dev/null
rip=$(echo "$state" | sed -n 's/rip=\(0x[0-9a-f]*\).*/\1/p')
efer=$(echo "$state" | sed -n 's/.*efer=\(0x[0-9a-f]*\).*/\1/p')
if [ -n "$rip" ] && [ $((efer & 0x400)) -ne 0 ] && [ $((rip)) -ge $((0x1000000)) ] &&
	[ $((rip)) -lt $((0x1000000 + init_size)) ] && [ $((cr3)) -ne $((0x9000)) ]; then
	pass "Debian vmlinuz: long mode in the decompressor, its own page tables ($state)"
else
	fail "Debian vmlinuz hand-off" "$state; $(head -2 "$WORK/vmlinuz.err")"
fi

# --- the sample initramfs (examples/linux-initramfs.sh) under QEMU TCG, where Linux reaches
# /init in seconds: its markers in order, the workload run.
here=$(cd "$(dirname "$0")/../.." && pwd)
if [ -x "$DIR/busybox" ]; then export BUSYBOX="$DIR/busybox"; fi
if bash "$here/examples/linux-initramfs.sh" "$WORK/sample.cpio" >"$WORK/sample.log" 2>&1; then
	timeout 600 qemu-system-x86_64 -accel tcg -smp 2 -m 256M -kernel "$DIR/vmlinuz" \
		-initrd "$WORK/sample.cpio" -append "console=ttyS0 workload=busy" -display none \
		-serial "file:$WORK/sample.out" -monitor none -no-reboot </dev/null >/dev/null 2>&1 &
	qpid=$!
	for _ in $(seq 300); do
		grep -qa 'sample initramfs: a shell' "$WORK/sample.out" 2>/dev/null && break
		kill -0 $qpid 2>/dev/null || break
		sleep 1
	done
	kill $qpid 2>/dev/null
	wait $qpid 2>/dev/null
	stages=$(grep -ao 'BOOT_TIME:[a-z_]*:[0-9]*' "$WORK/sample.out" | cut -d: -f2 | tr '\n' ' ')
	if [ "$stages" = "init_entry ready workload_done " ] && python3 -c '
import re, sys
ns = [int(m) for m in re.findall(r"BOOT_TIME:[a-z_]+:(\d+)", open(sys.argv[1], errors="replace").read())]
assert len(ns) == 3 and 0 < ns[0] <= ns[1] <= ns[2], ns' "$WORK/sample.out"; then
		pass "sample initramfs: /init prints init_entry, ready, workload_done in order"
	else
		fail "sample initramfs" "stages: $stages"
		tail -5 "$WORK/sample.out" | sed 's/^/    /'
	fi
else
	fail "sample initramfs build" "$(tail -1 "$WORK/sample.log")"
fi
