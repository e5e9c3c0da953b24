#!/usr/bin/env bash
# The real-Linux fixture: Debian's cloud kernel, its debug vmlinux, and a busybox initramfs
# whose /init runs known workloads, all from Debian's packages (apt-get download: nothing is
# installed into the system).  Idempotent: does nothing when the files are there.
#
#   tests/linux/fixture.sh DIR
#
# DIR gets vmlinuz, vmlinux (the -dbg package's, with DWARF and ORC), initramfs.cpio and
# version (the kernel's package version, e.g. 6.1.0-56-cloud-amd64).
set -euo pipefail

dir=${1:?usage: tests/linux/fixture.sh DIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

if [ -s "$dir/vmlinuz" ] && [ -s "$dir/vmlinux" ] && [ -s "$dir/initramfs.cpio" ] &&
	[ "$dir/initramfs.cpio" -nt "$here/init.sh" ]; then
	exit 0
fi

# The version the -dbg meta-package points at (the image and its debug symbols must match).
version=$(apt-cache depends linux-image-cloud-amd64-dbg 2>/dev/null |
	sed -n 's/^ *Depends: linux-image-\(.*-cloud-amd64\)-dbg$/\1/p' | head -1)
if [ -z "$version" ]; then
	echo "linux fixture: apt-cache knows no linux-image-cloud-amd64-dbg (run apt-get update)" >&2
	exit 1
fi

debs="$dir/debs"
mkdir -p "$debs"
# apt-get download writes into the current directory; as root it warns that the _apt user
# cannot write there, which is harmless.
(cd "$debs" && apt-get download -q "linux-image-$version" "linux-image-$version-dbg" \
	busybox-static >/dev/null 2>"$dir/download.log") || {
	echo "linux fixture: apt-get download failed: $(grep -v '^W:' "$dir/download.log" | tail -1)" >&2
	exit 1
}

tmp="$dir/extract"
rm -rf "$tmp"
mkdir -p "$tmp"
dpkg-deb --fsys-tarfile "$debs"/linux-image-"$version"_*.deb |
	tar -x -C "$tmp" "./boot/vmlinuz-$version"
dpkg-deb --fsys-tarfile "$debs"/linux-image-"$version"-dbg_*.deb |
	tar -x -C "$tmp" "./usr/lib/debug/boot/vmlinux-$version"
dpkg-deb --fsys-tarfile "$debs"/busybox-static_*.deb | tar -x -C "$tmp" ./bin/busybox
mv "$tmp/boot/vmlinuz-$version" "$dir/vmlinuz"
mv "$tmp/usr/lib/debug/boot/vmlinux-$version" "$dir/vmlinux"

# The initramfs: busybox and /init; the kernel unpacks an uncompressed newc archive.
root="$tmp/root"
mkdir -p "$root/bin" "$root/dev" "$root/proc" "$root/sys"
cp "$tmp/bin/busybox" "$root/bin/busybox"
cp "$here/init.sh" "$root/init"
chmod 755 "$root/init" "$root/bin/busybox"
(cd "$root" && find . | LC_ALL=C sort | "$tmp/bin/busybox" cpio -o -H newc 2>/dev/null) \
	>"$dir/initramfs.cpio"
echo "$version" >"$dir/version"
rm -rf "$tmp" "$debs"
echo "linux fixture: $version in $dir"
