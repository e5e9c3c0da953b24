# Helpers for integration tests: source this, then call check/pass/fail.
# The runner sets KPROF, GUEST, GUEST_NOFP, BUILD and WORK (a scratch directory).
: "${KPROF:=build/kprof}"
: "${GUEST:=build/guest/kprof-guest.elf}"
: "${GUEST_NOFP:=build/guest/kprof-guest-nofp.elf}"
: "${WORK:=$(mktemp -d)}"

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1${2:+: $2}"; }

# check NAME COMMAND...: passes when COMMAND exits 0.
check() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}

# expect_status NAME STATUS COMMAND...: passes when COMMAND exits with STATUS.
expect_status() {
	local name=$1 want=$2 got
	shift 2
	"$@"
	got=$?
	if [ "$got" -eq "$want" ]; then pass "$name"; else fail "$name" "exit $got, wanted $want"; fi
}

# A free TCP port on the loopback interface.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_port PORT: a gdb stub listens on PORT (up to 10 s).  Read from /proc rather than by
# connecting: a connection, even one closed at once, is a debugger attaching, which stops the VM.
wait_port() {
	local hex
	hex=$(printf ':%04X ' "$1")
	for _ in $(seq 100); do
		grep -q "^ *[0-9]*: [0-9A-F]*$hex[0-9A-F:]* 0A " /proc/net/tcp && return 0
		sleep 0.1
	done
	return 1
}

# wait_ready FILE: the guest's serial output says every CPU runs its workload (up to 60 s).
wait_ready() {
	for _ in $(seq 600); do
		grep -q '^BOOT_TIME:ready:' "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# stop_peer: end the background QEMU or kprof a test started (its pid in PEER_PID), if any.
PEER_PID=
stop_peer() {
	[ -n "$PEER_PID" ] || return 0
	kill "$PEER_PID" 2>/dev/null
	wait "$PEER_PID" 2>/dev/null
	PEER_PID=
}

# qemu_hmp SOCKET [COMMAND]: COMMAND (stop, cont, ...) to QEMU's monitor on a unix socket,
# independent of any gdb, then prints the VM's status: "running" or "paused".
qemu_hmp() {
	python3 - "$1" "${2:-}" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(5)
s.sendall((sys.argv[2] + "\n" if sys.argv[2] else "").encode() + b"info status\n")
buf, end = b"", time.time() + 5
while b"VM status" not in buf or not buf.rstrip().endswith(b"(qemu)"):
    if time.time() > end:
        break
    buf += s.recv(4096)
for word in ("running", "paused"):
    if b"VM status: " + word.encode() in buf:
        print(word)
PY
}

# has FILE REGEX: grep -E with the file shown when it fails.
has() {
	if grep -qE "$2" "$1"; then return 0; fi
	echo "--- $1 lacks /$2/:"
	sed 's/^/    /' "$1" | tail -40
	return 1
}

# start_vm NAME ADDR ARGS...: kprof run --gdb ADDR ARGS... in the background (its pid in
# VM_PID, its output in $WORK/NAME.out and .err); waits for the stub.  For debugger tests.
VM_PID=
start_vm() {
	local name=$1 addr=$2
	shift 2
	timeout 600 "$KPROF" run --gdb "$addr" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	VM_PID=$!
	for _ in $(seq 300); do
		grep -q "gdb stub listening on" "$WORK/$name.err" 2>/dev/null && return 0
		kill -0 "$VM_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "kprof run did not start its gdb stub:"
	cat "$WORK/$name.err"
	return 1
}

stop_vm() {
	if [ -n "$VM_PID" ]; then
		kill "$VM_PID" 2>/dev/null
		wait "$VM_PID" 2>/dev/null
		VM_PID=
	fi
}

# vm_wait: wait (up to 120 s) for kprof to end by itself; sets st to its exit status, or
# to "running".  (Not a $(...) function: only this shell can wait for its child.)
vm_wait() {
	for _ in $(seq 1200); do
		kill -0 "$VM_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$VM_PID" 2>/dev/null; then
		st=running
		return
	fi
	wait "$VM_PID"
	st=$?
	VM_PID=
}

# start_linux_qemu VMLINUZ INITRD [APPEND]: boot a Linux kernel in QEMU TCG with 2 vCPUs, a gdb
# stub on a free port and the monitor on a unix socket, and wait (up to 120 s) for its /init's
# KPROF_LINUX_READY line.  Sets PORT, PEER_PID, SERIAL and MON (files in $WORK; SERIAL is
# serial-N.txt for the script's Nth boot, kept for a failure's story) and counts BOOTS.  No cmpxchg16b
# (Debian 12's QEMU TCG broke Debian's 6.12 kernel at `cmpxchg16b %gs:...` in SLUB, most boots;
# the kernel's fallback runs fine) and no_timer_check (a busy host can time the IO-APIC timer
# check out at boot), as test_linux.sh found.
BOOTS=0
start_linux_qemu() {
	stop_peer
	PORT=$(free_port)
	BOOTS=$((BOOTS + 1))
	SERIAL="$WORK/serial-$BOOTS.txt"
	MON="$WORK/monitor.sock"
	rm -f "$SERIAL" "$MON"
	qemu-system-x86_64 -accel tcg -cpu qemu64,-cx16 -smp 2 -m 256M -kernel "$1" -initrd "$2" \
		-append "console=ttyS0 panic=-1 quiet no_timer_check ${3:-nokaslr}" -no-reboot \
		-display none \
		-serial "file:$SERIAL" -monitor "unix:$MON,server,nowait" \
		-gdb "tcp:127.0.0.1:$PORT" >/dev/null 2>&1 &
	PEER_PID=$!
	wait_port "$PORT" || return 1
	for _ in $(seq 1200); do
		grep -q '^KPROF_LINUX_READY' "$SERIAL" 2>/dev/null && return 0
		kill -0 "$PEER_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# monitor CMD: one command to QEMU's monitor (stop, cont), independent of any gdb.
monitor() { qemu_hmp "$MON" "$1" >/dev/null; }
