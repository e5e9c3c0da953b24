#!/usr/bin/env bash
# A busybox initramfs for the real-Linux tests: an uncompressed newc cpio archive (what the
# kernel unpacks without any decompressor built in) holding /bin/busybox, /init and any extra
# files, e.g. a module to insmod or a copy of busybox under another name (a distinct comm).
#
#   tests/linux/mkinitramfs.sh OUT BUSYBOX INIT [DEST=SRC ...]
#
# BUSYBOX is a static busybox binary (it also writes the archive: no host cpio needed), INIT
# the script that becomes /init, and each DEST=SRC puts the file SRC at DEST in the archive
# (DEST absolute, e.g. /lib/brd.ko=modules/kernel/drivers/block/brd.ko).  A copy of busybox
# under another name gives a process a comm of its own; busybox runs the applet its argv[0]
# names, or, for a name beginning with "busybox", the applet its first argument names: with
# /bin/busybox-dd=BUSYBOX, `/bin/busybox-dd dd if=...` is dd with comm busybox-dd.
# OUT is written whole or not at all.
set -euo pipefail

usage="usage: tests/linux/mkinitramfs.sh OUT BUSYBOX INIT [DEST=SRC ...]"
out=${1:?$usage}
busybox=${2:?$usage}
init=${3:?$usage}
shift 3
for f in "$busybox" "$init"; do
	[ -f "$f" ] || { echo "mkinitramfs: $f: no such file" >&2; exit 1; }
done
busybox=$(cd "$(dirname "$busybox")" && pwd)/$(basename "$busybox")

root=$(mktemp -d "${TMPDIR:-/tmp}/kprof-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys"
cp "$busybox" "$root/bin/busybox"
cp "$init" "$root/init"
chmod 755 "$root/init" "$root/bin/busybox"
for spec in "$@"; do
	dest=${spec%%=*}
	src=${spec#*=}
	case $spec in
	/*=?*) ;;
	*) echo "mkinitramfs: $spec: not DEST=SRC with an absolute DEST" >&2; exit 1 ;;
	esac
	case /$dest/ in
	*/../*) echo "mkinitramfs: $spec: DEST must not contain .." >&2; exit 1 ;;
	esac
	[ -f "$src" ] || { echo "mkinitramfs: $spec: $src: no such file" >&2; exit 1; }
	mkdir -p "$root$(dirname "$dest")"
	cp "$src" "$root$dest"
	if [ -x "$src" ]; then chmod 755 "$root$dest"; fi
done

(cd "$root" && find . | LC_ALL=C sort | "$busybox" cpio -o -H newc 2>/dev/null) >"$out.tmp" || {
	rm -f "$out.tmp"
	echo "mkinitramfs: $busybox could not write the cpio archive" >&2
	exit 1
}
mv "$out.tmp" "$out"
