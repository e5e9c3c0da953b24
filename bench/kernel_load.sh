#!/usr/bin/env bash
# Kernel load: the boot profile's kernel_load phase (check the ELF, copy its PT_LOAD segments
# to guest RAM) for Debian's -dbg vmlinux (hundreds of MB, of which tens are PT_LOAD), against
# reading the whole file, which is what loading it cost before kprof mapped it and read only
# the segments.  The file is in the page cache for both (one warm-up read first).  The run is
# ended by SIGTERM after the load; the profile is printed on the way out.
#
#   bench/kernel_load.sh [REPEATS]      prints BENCH/SKIP lines (see bench/run.sh)
set -uo pipefail
cd "$(dirname "$0")/.."

KPROF=${KPROF:-build/kprof}
VMLINUX=${VMLINUX:-build/linux/vmlinux}
REPEATS=${1:-3}
tab=$'\t'
G="kernel load"

if [ ! -s "$VMLINUX" ]; then
	echo "SKIP${tab}$G${tab}vmlinux${tab}$VMLINUX missing (make deps fetches it)"
	exit 0
fi
mb=$(( $(stat -c %s "$VMLINUX") >> 20 ))
cat "$VMLINUX" >/dev/null
for ((r = 0; r < REPEATS; r++)); do
	python3 - "$KPROF" "$VMLINUX" <<'PY'
import json, subprocess, sys, time
kprof, vmlinux = sys.argv[1:]
# Whole-file read, as kp_read_file did.
t = time.perf_counter()
with open(vmlinux, "rb") as f:
    while f.read(1 << 24):
        pass
whole = (time.perf_counter() - t) * 1e3
p = subprocess.Popen([kprof, "run", "--mem", "256M", "--boot-profile=json", "--serial", "/dev/null",
                      vmlinux], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
time.sleep(3)
p.terminate()
err = p.communicate(timeout=60)[1]
prof = json.loads([l for l in err.splitlines() if l.startswith("{")][-1])
load = [h["ns"] for h in prof["host_phases"] if h["name"] == "kernel_load"][0] / 1e6
print(f"{load:.1f} {whole:.1f}")
PY
done >"${TMPDIR:-/tmp}/kprof-bench-kload.$$" || { echo "SKIP${tab}$G${tab}vmlinux${tab}kprof run failed"; exit 0; }
python3 - "${TMPDIR:-/tmp}/kprof-bench-kload.$$" "$G" "$mb" <<'PY'
import statistics, sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
g, mb = sys.argv[2], sys.argv[3]
for load, whole in rows:
    print(f"BENCH\t{g}\tDebian vmlinux ({mb} MB) kernel_load\t{load:.1f}\t{whole:.1f}\tms\t"
          "peer: reading the whole file (the old load)")
PY
rm -f "${TMPDIR:-/tmp}/kprof-bench-kload.$$"
