# Sourced by the bench rows that need QEMU's gdbstub (not a row itself).
# qemu_start ELF: boots ELF under QEMU TCG with 2 vCPUs and a gdbstub on a free loopback
# port, running its workload until stopped, and returns once every CPU is in its workload;
# sets QEMU_PID and QEMU_PORT.  qemu_stop ends it.
qemu_start() {
	qemu_boot BOOT_TIME:ready -m 128M -kernel "$1" -append iterations=0 \
		-device isa-debug-exit,iobase=0xf4,iosize=4
}

# qemu_boot READY QEMU-ARGS...: QEMU TCG with 2 vCPUs, the serial port in a file and a
# gdbstub on a free loopback port; returns once the serial output holds READY (measure the
# workload, not the boot), fails after 60 s.
qemu_boot() {
	local ready=$1
	shift
	QEMU_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	QEMU_SERIAL=$(mktemp /tmp/kprof-bench-qemu-serial.XXXXXX)
	qemu-system-x86_64 -accel tcg -smp 2 "$@" -display none -serial "file:$QEMU_SERIAL" \
		-gdb "tcp:127.0.0.1:$QEMU_PORT" >/dev/null 2>&1 &
	QEMU_PID=$!
	for _ in $(seq 600); do
		grep -q "$ready" "$QEMU_SERIAL" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

qemu_stop() {
	[ -n "${QEMU_PID:-}" ] || return 0
	kill "$QEMU_PID" 2>/dev/null
	wait "$QEMU_PID" 2>/dev/null
	rm -f "$QEMU_SERIAL"
	QEMU_PID=
}

# gdb_run MODE ROUNDS OUT [CAPTURE]: bench/gdb_loop.py in one gdb attached to the running QEMU.
gdb_run() {
	rm -f "$3"
	BENCH_MODE=$1 BENCH_ROUNDS=$2 BENCH_OUT=$3 BENCH_CAPTURE=${4:-} timeout 60 gdb -q -nx -batch \
		-ex "target remote 127.0.0.1:$QEMU_PORT" -x bench/gdb_loop.py "$GUEST" >"${BENCH_GDB_LOG:-/dev/null}" 2>&1
}
