#!/usr/bin/env bash
# Monitor memory: resident memory of the monitor process beyond the guest RAM the guest has
# touched (VmRSS minus the resident part of the guest-RAM mapping, read from /proc/PID/smaps
# while the guest runs its workload), for kprof run and for QEMU TCG with the same guest,
# vCPUs and RAM size; also kprof's peak (VmHWM) minus the same guest pages.
#
#   bench/memory.sh [REPEATS]      prints BENCH/SKIP lines (see bench/run.sh)
set -uo pipefail
cd "$(dirname "$0")/.."

KPROF=${KPROF:-build/kprof}
GUEST=build/guest/kprof-guest-nofp.elf
REPEATS=${1:-3}
tab=$'\t'
G="monitor memory"

# measure PID: after the guest settled, print "rss_kb hwm_kb guest_rss_kb" (guest RAM = the
# 128 MiB mapping, up to 2 MiB larger for the monitor's alignment).
measure() {
	python3 - "$1" <<'PY'
import re, sys
pid = sys.argv[1]
status = open(f"/proc/{pid}/status").read()
rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
hwm = int(re.search(r"VmHWM:\s+(\d+)", status).group(1))
guest = None
size = None
for line in open(f"/proc/{pid}/smaps"):
    m = re.match(r"([0-9a-f]+)-([0-9a-f]+) ", line)
    if m:
        size = int(m.group(2), 16) - int(m.group(1), 16)
        continue
    m = re.match(r"Rss:\s+(\d+) kB", line)
    if m and size is not None and 128 << 20 <= size <= 130 << 20:
        guest = int(m.group(1)) if guest is None else max(guest, int(m.group(1)))
if guest is None:
    sys.exit("no 128 MiB guest RAM mapping in smaps")
print(rss, hwm, guest)
PY
}

# sample CMD...: start CMD (a guest running forever), measure after 2 s, stop it.
sample() {
	"$@" >/dev/null 2>&1 &
	local pid=$! out
	sleep 2
	out=$(measure "$pid" 2>&1)
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	echo "$out"
}

for ((r = 0; r < REPEATS; r++)); do
	read -r krss khwm kguest < <(sample "$KPROF" run --cpus 2 --mem 128M \
		--cmdline iterations=0 --serial /dev/null "$GUEST")
	if ! [[ "$krss" =~ ^[0-9]+$ ]]; then
		echo "SKIP${tab}$G${tab}kprof run${tab}$krss $khwm $kguest"
		break
	fi
	peer=- note="QEMU not installed"
	if command -v qemu-system-x86_64 >/dev/null; then
		read -r qrss qhwm qguest < <(sample qemu-system-x86_64 -accel tcg -smp 2 -m 128M \
			-kernel "$GUEST" -append iterations=0 -device isa-debug-exit,iobase=0xf4,iosize=4 \
			-display none -serial none)
		if [[ "$qrss" =~ ^[0-9]+$ ]]; then
			peer=$(((qrss - qguest) / 1024)).$(((qrss - qguest) % 1024 * 10 / 1024))
			note="2 vCPU, 128M; peer: QEMU TCG, same guest; guest pages resident: kprof ${kguest} kB, QEMU ${qguest} kB"
		else
			note="QEMU: $qrss"
		fi
	fi
	echo "BENCH${tab}$G${tab}RSS beyond guest RAM${tab}$(((krss - kguest) / 1024)).$(((krss - kguest) % 1024 * 10 / 1024))${tab}${peer}${tab}MiB${tab}${note}"
	echo "BENCH${tab}$G${tab}peak RSS (VmHWM) beyond guest RAM${tab}$(((khwm - kguest) / 1024)).$(((khwm - kguest) % 1024 * 10 / 1024))${tab}-${tab}MiB${tab}kprof run, 2 vCPU, 128M"
done
