# Sourced by the bench rows that need QEMU's gdbstub (not a row itself).
# qemu_start ELF: boots ELF under QEMU TCG with 2 vCPUs and a gdbstub on a free loopback
# port, running its workload until stopped; sets QEMU_PID and QEMU_PORT.  qemu_stop ends it.
qemu_start() {
	QEMU_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	qemu-system-x86_64 -accel tcg -smp 2 -m 128M -kernel "$1" -append iterations=0 \
		-device isa-debug-exit,iobase=0xf4,iosize=4 -display none -serial none \
		-gdb "tcp:127.0.0.1:$QEMU_PORT" >/dev/null 2>&1 &
	QEMU_PID=$!
	# Wait until the stub accepts connections.
	for _ in $(seq 50); do
		python3 -c "import socket, sys; socket.create_connection(('127.0.0.1', $QEMU_PORT), 0.2).close()" \
			2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

qemu_stop() {
	[ -n "${QEMU_PID:-}" ] || return 0
	kill "$QEMU_PID" 2>/dev/null
	wait "$QEMU_PID" 2>/dev/null
	QEMU_PID=
}

# gdb_run MODE ROUNDS OUT [CAPTURE]: bench/gdb_loop.py in one gdb attached to the running QEMU.
gdb_run() {
	rm -f "$3"
	BENCH_MODE=$1 BENCH_ROUNDS=$2 BENCH_OUT=$3 BENCH_CAPTURE=${4:-} timeout 60 gdb -q -nx -batch \
		-ex "target remote 127.0.0.1:$QEMU_PORT" -x bench/gdb_loop.py "$GUEST" >"${BENCH_GDB_LOG:-/dev/null}" 2>&1
}
