#!/usr/bin/env bash
# A vCPU running user code: the guest's user=1 makes CPU 1 alternate its kernel chain with a
# counting loop at CPL3.  kprof must record such a vCPU as the single frame `[user]` (it has no
# kernel stack to walk), for CPU 1 only, while CPU 1's kernel samples still show its chain.
# Checked with kprof collect on kprof's own VM (KVM) and with kprof collect --remote against
# QEMU's gdb stub (TCG).
set -u
. "$(dirname "$0")/lib.sh"

QEMU=qemu-system-x86_64
ELF=$GUEST_NOFP
PEER_PID=
trap 'stop_peer' EXIT

# check_user FILE: prints "ok ..." or the first problem.
cat >"$WORK/check_user.py" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
user, kernel_work, other = {"0": 0, "1": 0}, {"0": 0, "1": 0}, {"0": 0, "1": 0}
for cap in d["stack_traces"]:
    for cpu, stack in cap.items():
        if cpu not in user:
            print(f"unexpected cpu {cpu}")
            sys.exit(1)
        if stack == ["[user]"]:
            user[cpu] += 1
        elif "[user]" in stack:
            print(f"cpu {cpu}: [user] inside a kernel stack: {stack}")
            sys.exit(1)
        elif "cpu_work" in stack:
            kernel_work[cpu] += 1
        else:
            other[cpu] += 1
if user["1"] == 0:
    print(f"cpu 1 has no [user] stacks ({kernel_work['1']} with cpu_work, {other['1']} other)")
elif user["0"] != 0:
    print(f"cpu 0 has {user['0']} [user] stacks, wanted none")
elif kernel_work["1"] == 0:
    print("cpu 1 has no kernel stacks with cpu_work")
elif kernel_work["0"] == 0:
    print("cpu 0 has no kernel stacks with cpu_work")
else:
    print(f"ok: cpu 1 {user['1']} [user], {kernel_work['1']} cpu_work; cpu 0 {kernel_work['0']} cpu_work")
PY

judge() {
	local name=$1 file=$2 result
	result=$(python3 "$WORK/check_user.py" "$file" 2>&1)
	if [ "${result#ok}" != "$result" ]; then pass "$name ($result)"; else fail "$name" "$result"; fi
}

# 1. kprof's own VM.
if timeout 300 "$KPROF" collect --samples 200 --interval 0.005 -o "$WORK/t.json" -- \
	--cpus 2 --cmdline "user=1 iterations=0" "$ELF" 2>"$WORK/err"; then
	judge "usermode: collect shows CPU 1 in user mode as [user]" "$WORK/t.json"
else
	fail "usermode: collect" "exit status $?: $(tail -1 "$WORK/err")"
fi

# 2. QEMU (TCG) through its gdb stub.
if ! command -v "$QEMU" >/dev/null; then
	fail "usermode: remote needs $QEMU (make deps installs it)"
	exit 0
fi

PORT=$(free_port)
SERIAL="$WORK/serial-qemu.txt"
"$QEMU" -accel tcg -smp 2 -m 128M -kernel "$ELF" -append "user=1 iterations=0" \
	-device isa-debug-exit,iobase=0xf4,iosize=4 -display none -monitor none \
	-serial "file:$SERIAL" -gdb "tcp:127.0.0.1:$PORT" >/dev/null 2>&1 &
PEER_PID=$!
if ! wait_port "$PORT" || ! wait_ready "$SERIAL"; then
	fail "usermode: remote" "QEMU did not start the workloads: $(tail -1 "$SERIAL" 2>/dev/null)"
elif timeout 120 "$KPROF" collect --remote "tcp:127.0.0.1:$PORT" --symbols "$ELF" \
	--samples 200 --interval 0.005 -o "$WORK/r.json" 2>"$WORK/err"; then
	judge "usermode: collect --remote (QEMU) shows CPU 1 in user mode as [user]" "$WORK/r.json"
else
	fail "usermode: collect --remote" "exit status $?: $(tail -1 "$WORK/err")"
fi
stop_peer
