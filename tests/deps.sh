#!/usr/bin/env bash
# Install what kprof needs from Debian's packages; do nothing when everything is there.
set -euo pipefail

# Build: compiler runtime and libraries.  Tests: gdb, QEMU (TCG peer), clang-14 (libFuzzer,
# sanitizers), Chromium and Node.js (SVG browser test).
PACKAGES=(
	gcc make binutils pkg-config linux-libc-dev
	libelf-dev libdwarf-dev zlib1g-dev libpcre2-dev libjson-c-dev libcmocka-dev
	gdb qemu-system-x86 clang-14 libclang-rt-14-dev
	chromium nodejs npm
)

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
# Node.js may come from outside Debian's packages on some machines; a working node and npm do.
if command -v node >/dev/null && command -v npm >/dev/null; then
	filtered=()
	for p in "${missing[@]}"; do
		case "$p" in nodejs|npm) ;; *) filtered+=("$p") ;; esac
	done
	missing=("${filtered[@]}")
fi

if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -q >/dev/null
	$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# The real-Linux tests' kernels, debug symbols and busybox: downloaded as Debian packages and
# unpacked (nothing is installed into the system), once per tree: Debian's 6.1 cloud kernel in
# build/linux (the Linux test), the 6.12 cloud kernel of bookworm-backports in build/linux-6.12
# (the same test), and the 6.1 generic kernel with its modules in build/linux-generic (the
# module test).  See tests/linux/fixture.sh.
fixture() {
	if ! bash tests/linux/fixture.sh "$@"; then
		echo "deps: refreshing the package lists for the Linux fixture $1"
		$SUDO apt-get update -q >/dev/null
		bash tests/linux/fixture.sh "$@"
	fi
}
fixture build/linux cloud 6.1
fixture build/linux-6.12 cloud 6.12
fixture build/linux-generic generic 6.1

# The browser test drives Chromium through playwright-core (no browser download).
if [ -f tests/browser/package.json ] && [ ! -d tests/browser/node_modules/playwright-core ]; then
	echo "deps: installing playwright-core for the browser test"
	(cd tests/browser && npm install --no-audit --no-fund --silent >/dev/null)
fi
exit 0
