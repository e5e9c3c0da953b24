#!/usr/bin/env bash
# The real-Linux fixture: a Debian kernel, its debug vmlinux, and a busybox initramfs whose
# /init runs known workloads, all from Debian's packages (apt-get download: nothing is
# installed into the system).  Idempotent: does nothing when the files are there, and only
# rebuilds the initramfs when init.sh or mkinitramfs.sh changed.
#
#   tests/linux/fixture.sh DIR [cloud|generic] [6.1|6.12]
#
# cloud (the default) is Debian's cloud kernel (linux-image-cloud-amd64-dbg's version),
# generic its ordinary one (linux-image-amd64-dbg's), with loadable modules.  6.1 (the
# default) is bookworm's kernel, from the system's package lists; 6.12 is bookworm-backports',
# through a private apt configuration in DIR/apt (a sources file naming bookworm-backports on
# the mirror the system's own bookworm entry uses, its own lists and cache): the system's apt
# configuration is not changed.
#
# DIR gets vmlinuz, vmlinux (the -dbg package's, with DWARF and ORC), busybox (static),
# initramfs.cpio (tests/linux/mkinitramfs.sh: busybox and init.sh as /init), version (the
# kernel's package version, e.g. 6.1.0-57-cloud-amd64) and, for generic, modules/ (the image
# package's lib/modules/VERSION: the .ko files, e.g. modules/kernel/drivers/block/brd.ko).
set -euo pipefail

usage="usage: tests/linux/fixture.sh DIR [cloud|generic] [6.1|6.12]"
dir=${1:?$usage}
flavour=${2:-cloud}
series=${3:-6.1}
case $flavour in
cloud) meta=linux-image-cloud-amd64-dbg; suffix=-cloud-amd64 ;;
generic) meta=linux-image-amd64-dbg; suffix=-amd64 ;;
*) echo "linux fixture: flavour '$flavour' is neither cloud nor generic ($usage)" >&2; exit 1 ;;
esac
case $series in
6.1) prefix=6.1. ;;
6.12) prefix=6.12. ;;
*) echo "linux fixture: series '$series' is neither 6.1 nor 6.12 ($usage)" >&2; exit 1 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# The version this DIR holds fits the request: 6.1.0-57-cloud-amd64, 6.12.48+deb12-amd64, ...
# (generic must not match a cloud version, which also ends in -amd64).
fits() {
	case $1 in
	"$prefix"*"$suffix") [ "$flavour" = cloud ] || case $1 in *-cloud-amd64) false ;; esac ;;
	*) false ;;
	esac
}
have_kernel() {
	[ -s "$dir/vmlinuz" ] && [ -s "$dir/vmlinux" ] && [ -s "$dir/version" ] &&
		fits "$(cat "$dir/version")" &&
		{ [ "$flavour" = cloud ] || [ -d "$dir/modules/kernel" ]; }
}
initramfs_fresh() {
	[ -s "$dir/initramfs.cpio" ] && [ "$dir/initramfs.cpio" -nt "$here/init.sh" ] &&
		[ "$dir/initramfs.cpio" -nt "$here/mkinitramfs.sh" ]
}
if have_kernel && [ -x "$dir/busybox" ] && initramfs_fresh; then
	exit 0
fi

debs="$dir/debs"
rm -rf "$debs"
mkdir -p "$debs"
trap 'rm -rf "$debs" "$dir/extract" "$dir/apt"' EXIT

# download [APT-OPTION ...] -- PACKAGE ...: apt-get download into $debs.  As root apt warns
# that the _apt user cannot write there, which is harmless.
download() {
	local opts=()
	while [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	(cd "$debs" && apt-get "${opts[@]}" download -q "$@" >/dev/null 2>>"$dir/download.log") || {
		echo "linux fixture: apt-get download $* failed: $(grep -v '^W:' "$dir/download.log" |
			tail -1)" >&2
		exit 1
	}
}

if ! have_kernel; then
	apt=()
	if [ "$series" = 6.12 ]; then
		# bookworm-backports on the mirror of the system's own bookworm entry.
		codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
		mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null |
			awk -v r="$codename" '$2 == r { print $1; exit }')
		if [ -z "$codename" ] || [ -z "$mirror" ]; then
			echo "linux fixture: no ${codename:-bookworm} entry in the system's apt sources" \
				"to take the mirror for ${codename:-bookworm}-backports from" >&2
			exit 1
		fi
		state="$dir/apt"
		mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$state/parts"
		echo "deb $mirror $codename-backports main" >"$state/sources.list"
		apt=(-o "Dir::Etc::SourceList=$state/sources.list" -o "Dir::Etc::SourceParts=$state/parts"
			-o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache"
			-o "APT::Sandbox::User=root")
		if ! apt-get "${apt[@]}" update -q >"$dir/update.log" 2>&1; then
			echo "linux fixture: apt-get update of $codename-backports failed:" \
				"$(grep -E '^(E|W):' "$dir/update.log" | tail -1)" >&2
			exit 1
		fi
	fi
	# The version the -dbg meta-package points at (the image and its debug symbols must match).
	version=$(apt-cache "${apt[@]}" depends "$meta" 2>/dev/null |
		sed -n "s/^ *Depends: linux-image-\(.*\)-dbg\$/\1/p" | head -1)
	if [ -z "$version" ]; then
		echo "linux fixture: apt-cache knows no $meta for $series (run apt-get update)" >&2
		exit 1
	fi
	if ! fits "$version"; then
		echo "linux fixture: $meta is at $version, not a $series $flavour kernel" >&2
		exit 1
	fi
	: >"$dir/download.log"
	download "${apt[@]}" -- "linux-image-$version" "linux-image-$version-dbg"

	tmp="$dir/extract"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	dpkg-deb --fsys-tarfile "$debs"/linux-image-"$version"_*.deb |
		tar -x -C "$tmp" "./boot/vmlinuz-$version" \
			$([ "$flavour" = generic ] && echo "./lib/modules/$version")
	dpkg-deb --fsys-tarfile "$debs"/linux-image-"$version"-dbg_*.deb |
		tar -x -C "$tmp" "./usr/lib/debug/boot/vmlinux-$version"
	rm -rf "$dir/modules"
	mv "$tmp/boot/vmlinuz-$version" "$dir/vmlinuz"
	mv "$tmp/usr/lib/debug/boot/vmlinux-$version" "$dir/vmlinux"
	if [ "$flavour" = generic ]; then
		mv "$tmp/lib/modules/$version" "$dir/modules"
	fi
	echo "$version" >"$dir/version"
	rm -rf "$tmp" "$debs"/*.deb
fi

if [ ! -x "$dir/busybox" ]; then
	download -- busybox-static
	tmp="$dir/extract"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	dpkg-deb --fsys-tarfile "$debs"/busybox-static_*.deb | tar -x -C "$tmp" ./bin/busybox
	mv "$tmp/bin/busybox" "$dir/busybox"
	rm -rf "$tmp"
fi

bash "$here/mkinitramfs.sh" "$dir/initramfs.cpio" "$dir/busybox" "$here/init.sh"
echo "linux fixture: $(cat "$dir/version") in $dir"
