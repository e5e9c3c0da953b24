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

# wait_for SECONDS COMMAND...: COMMAND succeeds within SECONDS by the clock, polled every
# 0.1 s (a count of polls would stretch the bound on a busy host, where each poll takes longer).
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@" 2>/dev/null; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# A free TCP port on the loopback interface.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_port PORT: a gdb stub listens on PORT (up to 10 s).  Read from /proc rather than by
# connecting: a connection, even one closed at once, is a debugger attaching, which stops the VM.
wait_port() {
	wait_for 10 grep -q "^ *[0-9]*: [0-9A-F]*$(printf ':%04X ' "$1")[0-9A-F:]* 0A " /proc/net/tcp
}

# wait_connected PORT: a client (kprof, gdb) is connected to the stub on PORT (up to 60 s),
# as /proc says: the client's end of an established connection has PORT as its remote port.
wait_connected() {
	wait_for 60 grep -q "^ *[0-9]*: [0-9A-F]*:[0-9A-F]* [0-9A-F]*$(printf ':%04X ' "$1")01 " \
		/proc/net/tcp
}

# wait_ready FILE: the guest's serial output says every CPU runs its workload (up to 60 s).
wait_ready() {
	wait_for 60 grep -q '^BOOT_TIME:ready:' "$1"
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

# browser_test LABEL FLAME.svg CHECKS.json [SCREENSHOT.png]: tests/browser/flamegraph_test.js
# drives the SVG in headless Chromium (the caller checks node, Chromium and playwright-core
# are there); its PASS:/FAIL: lines say LABEL where they say "browser".
browser_test() {
	local label=$1 svg checks out status
	svg=$(realpath "$2")
	checks=$(realpath "$3")
	out=$(cd tests/browser && timeout 180 node flamegraph_test.js "$svg" "$checks" ${4:+"$4"} 2>&1)
	status=$?
	echo "$out" | sed "s#^\\(PASS\\|FAIL\\): browser: #\\1: $label: #"
	if [ "$status" -ne 0 ] && ! echo "$out" | grep -q '^FAIL: '; then
		fail "$label: node exited with status $status"
	fi
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
	wait_for 30 listening_or_gone "$WORK/$name.err" &&
		grep -q "gdb stub listening on" "$WORK/$name.err" && return 0
	echo "kprof run did not start its gdb stub:"
	cat "$WORK/$name.err"
	return 1
}

listening_or_gone() { grep -q "gdb stub listening on" "$1" || ! kill -0 "$VM_PID"; }

stop_vm() {
	if [ -n "$VM_PID" ]; then
		kill "$VM_PID" 2>/dev/null
		wait "$VM_PID" 2>/dev/null
		VM_PID=
	fi
}

vm_gone() { ! kill -0 "$VM_PID"; }

# vm_wait: wait (up to 120 s) for kprof to end by itself; sets st to its exit status, or
# to "running".  (Not a $(...) function: only this shell can wait for its child.)
vm_wait() {
	wait_for 120 vm_gone
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
	wait_port "$PORT" && linux_ready 120
}

# linux_ready SECONDS: the guest's /init printed KPROF_LINUX_READY in $SERIAL within SECONDS,
# and QEMU ($PEER_PID) did not end first.
ready_or_gone() { grep -q '^KPROF_LINUX_READY' "$SERIAL" || ! kill -0 "$PEER_PID"; }
linux_ready() {
	wait_for "$1" ready_or_gone && grep -q '^KPROF_LINUX_READY' "$SERIAL" 2>/dev/null
}

# monitor CMD: one command to QEMU's monitor (stop, cont), independent of any gdb.
monitor() { qemu_hmp "$MON" "$1" >/dev/null; }
