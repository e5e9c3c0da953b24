#!/usr/bin/env bash
# A flame graph of Debian's generic Linux kernel running a busybox workload, with each stack's
# task as its root and the brd module's frames named: the kernel boots in QEMU (TCG, 2 vCPUs,
# its gdb stub on a free loopback port) from an initramfs that loads brd (a RAM disk) and runs
# examples/linux/flamegraph-init.sh, and kprof samples it through the stub with --modules.
# Run from anywhere after `make`:
#
#   examples/linux-flamegraph.sh OUTDIR [KERNEL-DIR]
#
# KERNEL-DIR holds vmlinuz, vmlinux (the -dbg package's, with ORC and BTF), modules/ (the
# image package's lib/modules/VERSION/) and busybox (static), as `tests/linux/fixture.sh DIR
# generic` makes it (default build/linux-generic).  Each can be given on its own instead:
# VMLINUZ, VMLINUX, MODULES, BUSYBOX.  SAMPLES (500) and INTERVAL (0.02 s) shape the profile,
# KPROF and QEMU name the programs, BOOT_TIMEOUT (600 s) bounds the boot.
#
# OUTDIR gets trace.json (kprof collect's), linux.folded and linux.svg (kprof parse of it),
# and serial.txt (the guest's console: where brd's sections are).  Exit status: 0 written,
# 1 a run failed, 2 bad usage or input.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage="usage: examples/linux-flamegraph.sh OUTDIR [KERNEL-DIR]"
die() { echo "linux-flamegraph: $*" >&2; exit "${status:-1}"; }
[ $# -ge 1 ] && [ $# -le 2 ] || status=2 die "$usage"
out=$1
kdir=${2:-$here/../build/linux-generic}
KPROF=${KPROF:-$here/../build/kprof}
QEMU=${QEMU:-qemu-system-x86_64}
VMLINUZ=${VMLINUZ:-$kdir/vmlinuz}
VMLINUX=${VMLINUX:-$kdir/vmlinux}
MODULES=${MODULES:-$kdir/modules}
BUSYBOX=${BUSYBOX:-$kdir/busybox}
SAMPLES=${SAMPLES:-500}
INTERVAL=${INTERVAL:-0.02}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-600}

for f in "$VMLINUZ" "$VMLINUX" "$BUSYBOX" "$KPROF"; do
	[ -f "$f" ] || status=2 die "$f: no such file ($usage)"
done
[ -d "$MODULES" ] || status=2 die "$MODULES: no such directory (the kernel's modules tree)"
case $SAMPLES in ''|*[!0-9]*) status=2 die "SAMPLES=$SAMPLES: not a number" ;; esac
case $BOOT_TIMEOUT in ''|*[!0-9]*) status=2 die "BOOT_TIMEOUT=$BOOT_TIMEOUT: not a number" ;; esac
for tool in "$QEMU" python3; do
	command -v "$tool" >/dev/null || status=2 die "$tool: not found (make deps installs it)"
done
brd=$(find "$MODULES" -path '*/drivers/block/brd.ko*' | head -1)
[ -n "$brd" ] || status=2 die "$MODULES: no drivers/block/brd.ko or brd.ko.xz"
mkdir -p "$out"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kprof-linux-flamegraph.XXXXXX")
qemu_pid=
cleanup() {
	if [ -n "$qemu_pid" ]; then
		kill "$qemu_pid" 2>/dev/null || true
		wait "$qemu_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# The initramfs: busybox, brd.ko (uncompressed: busybox's insmod reads no .xz), and the
# copies of busybox whose names become the processes' comms.
case $brd in
*.xz) xz -dc "$brd" >"$tmp/brd.ko" ;;
*) cp "$brd" "$tmp/brd.ko" ;;
esac
copies=()
for name in spin writer dd; do copies+=("/bin/busybox-$name=$BUSYBOX"); done
bash "$here/../tests/linux/mkinitramfs.sh" "$tmp/initramfs.cpio" "$BUSYBOX" \
	"$here/linux/flamegraph-init.sh" /lib/modules/brd.ko="$tmp/brd.ko" "${copies[@]}"

# QEMU as test_linux.sh boots it: no cmpxchg16b (Debian 12's TCG breaks 6.12's SLUB with it)
# and no_timer_check (a busy host can time out the IO-APIC timer check).  KASLR stays on:
# kprof finds the slide in the guest.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
serial=$out/serial.txt
rm -f "$serial"
"$QEMU" -accel tcg -cpu qemu64,-cx16 -smp 2 -m 256M -kernel "$VMLINUZ" \
	-initrd "$tmp/initramfs.cpio" -append "console=ttyS0 panic=-1 quiet no_timer_check" \
	-no-reboot -display none -serial "file:$serial" -gdb "tcp:127.0.0.1:$port" \
	>"$tmp/qemu.log" 2>&1 &
qemu_pid=$!
echo "linux-flamegraph: booting $VMLINUZ in QEMU (TCG), gdb stub on 127.0.0.1:$port"
start=$SECONDS
until grep -q '^KPROF_EXAMPLE_READY' "$serial" 2>/dev/null; do
	if ! kill -0 "$qemu_pid" 2>/dev/null; then
		qemu_pid=
		die "QEMU ended before the workload started: $(tail -2 "$tmp/qemu.log" "$serial" 2>/dev/null | tr '\n' ' ')"
	fi
	grep -q '^KPROF_EXAMPLE_ERROR' "$serial" 2>/dev/null && die "$(grep -m1 KPROF_EXAMPLE_ERROR "$serial")"
	[ $((SECONDS - start)) -lt "$BOOT_TIMEOUT" ] ||
		die "the guest did not start its workload in $BOOT_TIMEOUT s: $(tail -2 "$serial" 2>/dev/null | tr '\n' ' ')"
	sleep 0.5
done
echo "linux-flamegraph: workload running after $((SECONDS - start)) s; sampling"

"$KPROF" collect --remote "tcp:127.0.0.1:$port" --symbols "$VMLINUX" --modules "$MODULES" \
	--samples "$SAMPLES" --interval "$INTERVAL" -o "$out/trace.json"
"$KPROF" parse "$out/trace.json" -o "$out/linux.folded"
version=$(cat "$kdir/version" 2>/dev/null || basename "$VMLINUZ")
"$KPROF" parse "$out/trace.json" --colors kernel --title "Linux $version: busybox writing to brd" \
	--subtitle "kprof collect --remote --modules, $SAMPLES samples of 2 vCPUs" -o "$out/linux.svg"
ls -l "$out"
