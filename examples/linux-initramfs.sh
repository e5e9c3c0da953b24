#!/usr/bin/env bash
# A sample initramfs for booting a Linux kernel in kprof's VM: static busybox, an /init that
# prints BOOT_TIME:init_entry and BOOT_TIME:ready around its mounts and then runs a workload
# (workload=busy on the kernel command line) or a shell.  Built with the test fixture's
# tests/linux/mkinitramfs.sh; busybox comes from BUSYBOX, else the Linux fixture, else Debian's
# busybox-static package (apt-get download, installed nowhere).
#
#   examples/linux-initramfs.sh OUT.cpio
#   build/kprof run --cpus 2 --mem 256M --initrd OUT.cpio --cmdline console=ttyS0 \
#       --boot-profile /boot/vmlinuz-$(uname -r)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: examples/linux-initramfs.sh OUT.cpio}
busybox=${BUSYBOX:-$here/../build/linux/busybox}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kprof-initramfs-example.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
if [ ! -x "$busybox" ]; then
	(cd "$tmp" && apt-get download -q busybox-static >/dev/null 2>"$tmp/apt.log") || {
		echo "linux-initramfs: no busybox: set BUSYBOX, or apt-get download busybox-static failed" >&2
		exit 1
	}
	dpkg-deb --fsys-tarfile "$tmp"/busybox-static_*.deb | tar -x -C "$tmp" ./bin/busybox
	busybox=$tmp/bin/busybox
fi
bash "$here/../tests/linux/mkinitramfs.sh" "$out" "$busybox" "$here/linux/init.sh" \
	"/workload-busy.sh=$here/linux/workload-busy.sh"
echo "linux-initramfs: $out ($(stat -c %s "$out") bytes)"
