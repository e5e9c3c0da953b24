#!/usr/bin/env bash
# Boot: wall time from starting `kprof run` to the guest's exit through isa-debug-exit, against
# QEMU booting the same ELF (PVH, -kernel) with the same command line, plus kprof's host phases
# (--boot-profile=json).  The guest runs one workload iteration on one vCPU, so the time is boot,
# a few ms of work and the exit.  QEMU is measured with TCG and, since it starts here, with KVM.
#
#   bench/boot_qemu.sh [REPEATS]      prints BENCH/SKIP lines (see bench/run.sh)
set -uo pipefail
cd "$(dirname "$0")/.."

KPROF=${KPROF:-build/kprof}
GUEST=build/guest/kprof-guest-nofp.elf
REPEATS=${1:-3}
dir=$(mktemp -d /tmp/kprof-bench-bootq.XXXXXX)
trap 'rm -rf "$dir"' EXIT
tab=$'\t'
G="boot"

# wall CMD...: run CMD, print its wall time in ms and its exit status.
wall() {
	python3 - "$@" <<'PY'
import subprocess, sys, time
t = time.perf_counter()
try:
    rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=90).returncode
except subprocess.TimeoutExpired:
    rc = "timeout"
print(f"{(time.perf_counter() - t) * 1e3:.1f} {rc}")
PY
}

qemu() {
	local accel=$1
	wall qemu-system-x86_64 -accel "$accel" -smp 1 -m 128M -kernel "$GUEST" -append iterations=1 \
		-device isa-debug-exit,iobase=0xf4,iosize=4 -display none -no-reboot -serial none
}

have_qemu=1
command -v qemu-system-x86_64 >/dev/null || have_qemu=0
for ((r = 0; r < REPEATS; r++)); do
	# kprof: wall time and host phases from the same run.
	python3 - "$KPROF" "$GUEST" "$dir/profile.json" <<'PY' >"$dir/kprof" || { echo "SKIP${tab}$G${tab}kprof run${tab}$(cat "$dir/kprof")"; break; }
import json, subprocess, sys, time
kprof, guest, out = sys.argv[1:]
t = time.perf_counter()
p = subprocess.run([kprof, "run", "--cpus", "1", "--cmdline", "iterations=1", "--boot-profile=json",
                    "--serial", "/dev/null", guest], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   text=True, timeout=90)
ms = (time.perf_counter() - t) * 1e3
if p.returncode != 0:
    print(f"kprof run exited {p.returncode}: {p.stderr.strip()[-200:]}")
    sys.exit(1)
prof = json.loads([l for l in p.stderr.splitlines() if l.startswith("{")][-1])
print(f"{ms:.1f}")
for ph in prof["host_phases"]:
    print(f"{ph['name']} {ph['ns'] / 1e6:.2f}")
PY
	kms=$(head -1 "$dir/kprof")
	if ((have_qemu)); then
		read -r tcg rc < <(qemu tcg)
		if [ "$rc" = 1 ]; then
			echo "BENCH${tab}$G${tab}to debug-exit vs QEMU TCG${tab}${kms}${tab}${tcg}${tab}ms${tab}1 vCPU, 128M, iterations=1; QEMU -accel tcg -kernel (PVH)"
		else
			echo "SKIP${tab}$G${tab}to debug-exit vs QEMU TCG${tab}QEMU TCG exited $rc, not 1 (debug-exit 0)"
		fi
		read -r kvm rc < <(qemu kvm)
		if [ "$rc" = 1 ]; then
			echo "BENCH${tab}$G${tab}to debug-exit vs QEMU KVM${tab}${kms}${tab}${kvm}${tab}ms${tab}QEMU -accel kvm works here but slowly: its firmware (SeaBIOS, PVH option ROM) and the guest run at CPL0, which this PVM backend emulates"
		else
			echo "SKIP${tab}$G${tab}to debug-exit vs QEMU KVM${tab}qemu-system-x86_64 -accel kvm: exit $rc"
		fi
	else
		echo "BENCH${tab}$G${tab}to debug-exit${tab}${kms}${tab}-${tab}ms${tab}qemu-system-x86_64 not installed"
	fi
	tail -n +2 "$dir/kprof" | while read -r name ms; do
		echo "BENCH${tab}$G${tab}kprof phase ${name}${tab}${ms}${tab}-${tab}ms${tab}host phase (--boot-profile)"
	done
done
