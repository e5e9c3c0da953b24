#!/usr/bin/env bash
# kprof collect --remote against two independent gdb stubs serving the DWARF-only guest with
# 2 vCPUs: QEMU's (TCG) and kprof run --gdb's.  For each:
#  - 200 samples from the running guest: every capture holds both CPUs, and each CPU's
#    dominant chain is the one guest/README.md lists (check_trace.py, shared with
#    test_collect.sh);
#  - oracle: the guest halted at a hardware breakpoint and left by gdb; gdb's
#    `thread apply all bt` and kprof's one sample name the same functions, outermost to
#    innermost, on every CPU; the target is still halted at the same place afterwards;
#  - Ctrl-C ends collecting with the file written and the target left running.
# Then, QEMU only: QEMU killed mid-run, and the guest exiting mid-run, end with the samples
# taken written, exit status 1 and a message saying what happened.
# sanitize: yes
set -u
. "$(dirname "$0")/lib.sh"

QEMU=qemu-system-x86_64
ELF=$GUEST_NOFP
README="$(dirname "$0")/../../guest/README.md"
CHECK="$(dirname "$0")/check_trace.py"
PEER_PID=
trap 'stop_peer' EXIT

if ! command -v "$QEMU" >/dev/null || ! command -v gdb >/dev/null; then
	fail "remote: needs $QEMU and gdb (make deps installs them)"
	exit 0
fi

# start_peer KIND [halted] [CMDLINE]: QEMU or kprof run with a gdb stub on a free port; sets
# PORT and PEER_PID.  halted: QEMU's -S, kprof run's --gdb-wait.
start_peer() {
	local kind=$1 halted=${2:-} cmdline=${3:-iterations=0}
	stop_peer
	PORT=$(free_port)
	SERIAL="$WORK/serial-$kind.txt"
	MON="$WORK/monitor.sock"
	rm -f "$SERIAL" "$MON"
	if [ "$kind" = qemu ]; then
		"$QEMU" -accel tcg -smp 2 -m 128M -kernel "$ELF" -append "$cmdline" \
			-device isa-debug-exit,iobase=0xf4,iosize=4 -display none \
			-serial "file:$SERIAL" -monitor "unix:$MON,server,nowait" \
			-gdb "tcp:127.0.0.1:$PORT" ${halted:+-S} >/dev/null 2>&1 &
	else
		"$KPROF" run --cpus 2 --cmdline "$cmdline" --serial "$SERIAL" \
			--gdb "tcp:127.0.0.1:$PORT" ${halted:+--gdb-wait} "$ELF" \
			>/dev/null 2>"$WORK/run.err" &
	fi
	PEER_PID=$!
	wait_port "$PORT"
}

# qemu_status: "running" or "paused", from QEMU's monitor (independent of any gdb).
qemu_status() { qemu_hmp "$MON"; }

# wait_or_kill PID: sets ST to its exit status, or to 124 after killing it when it is not done
# within 30 s.
wait_or_kill() {
	for _ in $(seq 300); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$1" 2>/dev/null; then
		kill -9 "$1"
		wait "$1" 2>/dev/null
		ST=124
		return
	fi
	wait "$1"
	ST=$?
}

collect() {
	timeout 120 "$KPROF" collect --remote "tcp:127.0.0.1:$PORT" --symbols "$ELF" "$@"
}

# gdb's view of a halted stub: each thread's physical frames, outermost first, inlined frames
# left out (kprof names a frame by the function that holds its pc) and gdb's
# "<signal handler called>" named by its symbol.  One JSON object {cpu: [names]}.
cat >"$WORK/bt.py" <<'PY'
import gdb, json, os, re

def symbol(pc):
    words = gdb.execute("info symbol 0x%x" % pc, to_string=True).split()
    return words[0] if words and words[0] != "No" else "??"

out = {}
for th in gdb.selected_inferior().threads():
    th.switch()
    names, f = [], gdb.newest_frame()
    while f is not None and len(names) < 256:
        if f.type() == gdb.SIGTRAMP_FRAME:
            names.append(symbol(f.pc()))
        elif f.type() != gdb.INLINE_FRAME:
            names.append(f.name() or "??")
        try:
            f = f.older()
        except gdb.error:
            break
    out[str(th.num - 1)] = list(reversed(names))
# thread apply all bt, as a user would run it, must work too.
text = gdb.execute("thread apply all bt", to_string=True)
if text.count("\n#0 ") + text.startswith("#0 ") < len(out):
    out["error"] = "thread apply all bt printed fewer threads than there are"
json.dump(out, open(os.environ["BT_OUT"], "w"))
PY

gdb_bt() {
	BT_OUT=$1 timeout 60 gdb -q -nx -batch -ex "target remote 127.0.0.1:$PORT" -x "$WORK/bt.py" \
		-ex disconnect "$ELF" >"$WORK/gdb.log" 2>&1
}

# compare GDB.json KPROF.json: one line "ok" or the first difference.
compare() {
	python3 - "$1" "$2" <<'PY'
import json, re, sys
g = json.load(open(sys.argv[1]))
k = json.load(open(sys.argv[2]))
if "error" in g:
    sys.exit(print(g["error"]))
caps = k["stack_traces"]
if len(caps) != 1:
    sys.exit(print(f"{len(caps)} captures, wanted 1"))
if sorted(caps[0]) != sorted(g):
    sys.exit(print(f"kprof has CPUs {sorted(caps[0])}, gdb threads {sorted(g)}"))
# gdb names gcc's clones (format.constprop.0) by their DWARF name; kprof by the ELF symbol.
clone = re.compile(r"\.(constprop|isra|part|cold)(\.\d+)?")
for cpu, want in sorted(g.items()):
    got = [clone.sub("", name) for name in reversed(caps[0][cpu])]
    if got != want:
        sys.exit(print(f"cpu {cpu}: kprof {' > '.join(got)}; gdb {' > '.join(want)}"))
print("ok " + "; ".join(f"cpu {c}: {len(s)} frames" for c, s in sorted(g.items())))
PY
}

for kind in qemu kprof; do
	# --- 200 samples from the running guest
	name="$kind: 200 samples, both CPUs in every capture, the chains guest/README.md lists"
	if ! start_peer "$kind" || ! wait_ready "$SERIAL"; then
		fail "$name" "the $kind gdb stub or the guest did not come up"
		continue
	fi
	if collect --samples 200 --interval 0.002 -o "$WORK/$kind.json" 2>"$WORK/c.err"; then
		result=$(python3 "$CHECK" "$WORK/$kind.json" 2 200 "$ELF" "$README")
		case $result in ok*) pass "$name" ;; *) fail "$name" "$result" ;; esac
	else
		fail "$name" "exit $?: $(tail -1 "$WORK/c.err")"
	fi
	name="$kind: a running target is left running"
	if grep -q "detached, the target runs on" "$WORK/c.err" &&
		{ [ "$kind" != qemu ] || [ "$(qemu_status)" = running ]; }; then
		pass "$name"
	else
		fail "$name" "$(tail -1 "$WORK/c.err")"
	fi

	# --- Ctrl-C: the file is written, the target keeps running
	name="$kind: Ctrl-C writes the samples taken and leaves the target running"
	rm -f "$WORK/int.json"
	# A script's background job ignores SIGINT: give kprof the terminal's default back.
	python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])' \
		"$KPROF" collect --remote "tcp:127.0.0.1:$PORT" --symbols "$ELF" --samples 1000000 \
		--interval 0.01 -o "$WORK/int.json" 2>"$WORK/int.err" &
	cpid=$!
	# Interrupt once it is sampling, however slow the host: kprof has sent a few kilobytes of
	# packets to the stub (the handshake is a few hundred bytes; a sample is a hundred or so).
	for _ in $(seq 600); do
		sent=$(sed -n 's/^wchar: //p' "/proc/$cpid/io" 2>/dev/null)
		[ "${sent:-0}" -gt 4096 ] && break
		kill -0 "$cpid" 2>/dev/null || break
		sleep 0.1
	done
	sleep 0.2
	kill -INT "$cpid"
	wait_or_kill "$cpid"
	st=$ST
	n=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["stack_traces"]))' \
		"$WORK/int.json" 2>/dev/null)
	# A second collect must find it running: no "target is halted" notice.
	collect --samples 3 --interval 0 -o "$WORK/after.json" 2>"$WORK/after.err"
	if [ "$st" -eq 0 ] && [ "${n:-0}" -gt 0 ] && ! grep -q "target is halted" "$WORK/after.err" &&
		{ [ "$kind" != qemu ] || [ "$(qemu_status)" = running ]; }; then
		pass "$name"
	else
		fail "$name" "exit $st, ${n:-no} samples written; $(tail -1 "$WORK/after.err")"
	fi
	stop_peer

	# --- Oracle: a halted target, gdb's backtraces against one kprof sample, at stops in
	# each chain's leaf, in the chains' inner functions, and in the timer interrupt (its
	# frames run through the interrupt entry's signal frame).
	name="$kind oracle: gdb's thread apply all bt and kprof name the same frames on every CPU"
	if ! start_peer "$kind" halted; then
		fail "$name" "the $kind gdb stub did not come up"
		continue
	fi
	same=0 problem=
	for bp in work_leaf tick_account hash_mix partition work_leaf; do
		# Run to a hardware breakpoint, then disconnect: the stub stays halted.
		timeout 60 gdb -q -nx -batch -ex "target remote 127.0.0.1:$PORT" -ex "hbreak $bp" \
			-ex continue -ex delete -ex disconnect "$ELF" >"$WORK/gdb-run.log" 2>&1
		gdb_bt "$WORK/gdb.json"
		if ! collect --samples 1 -o "$WORK/one.json" 2>"$WORK/one.err"; then
			problem="at $bp: exit $?: $(tail -1 "$WORK/one.err")"
			break
		fi
		result=$(compare "$WORK/gdb.json" "$WORK/one.json")
		case $result in
		ok*) same=$((same + 1)) ;;
		*) problem="at $bp: $result"; break ;;
		esac
	done
	if [ -z "$problem" ]; then
		pass "$name ($same stops; the last: ${result#ok })"
	else
		fail "$name" "$problem"
	fi
	name="$kind oracle: the halted target is left halted where it was"
	collect --samples 1 -o "$WORK/two.json" 2>"$WORK/two.err"
	same=$(python3 -c '
import json, sys
a, b = (json.load(open(f))["kprof"]["samples"][0]["pcs"] for f in sys.argv[1:3])
print("same" if a == b else "moved")' "$WORK/one.json" "$WORK/two.json" 2>/dev/null)
	if [ "$same" = same ] && grep -q "detached, the target stays halted" "$WORK/one.err" &&
		grep -q "target is halted" "$WORK/two.err" &&
		{ [ "$kind" != qemu ] || [ "$(qemu_status)" = paused ]; }; then
		pass "$name"
	else
		fail "$name" "pcs ${same:-unreadable}; $(tail -1 "$WORK/two.err")"
	fi
	stop_peer
done

# --- The connection drops mid-run: QEMU killed while kprof samples.
name="QEMU killed mid-run: samples taken written, exit status 1, message"
if start_peer qemu && wait_ready "$SERIAL"; then
	rm -f "$WORK/drop.json"
	collect --samples 1000000 --interval 0.01 -o "$WORK/drop.json" 2>"$WORK/drop.err" &
	cpid=$!
	sleep 1.5
	kill -9 "$PEER_PID"
	wait "$PEER_PID" 2>/dev/null
	PEER_PID=
	wait_or_kill "$cpid"
	st=$ST
	n=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["stack_traces"]))' \
		"$WORK/drop.json" 2>/dev/null)
	if [ "$st" -eq 1 ] && [ "${n:-0}" -gt 0 ] && grep -q "went away" "$WORK/drop.err"; then
		pass "$name"
	else
		fail "$name" "exit $st, ${n:-no} samples; $(tail -1 "$WORK/drop.err")"
	fi
else
	fail "$name" "QEMU did not come up"
fi
stop_peer

# --- The guest exits by itself mid-run (isa-debug-exit after its iterations).
name="guest exits mid-run: samples taken written, exit status 1, message"
if start_peer qemu "" "iterations=60000"; then
	rm -f "$WORK/exit.json"
	collect --samples 1000000 --interval 0.001 -o "$WORK/exit.json" 2>"$WORK/exit.err"
	st=$?
	n=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["stack_traces"]))' \
		"$WORK/exit.json" 2>/dev/null)
	if [ "$st" -eq 1 ] && [ "${n:-0}" -gt 0 ] && grep -Eq "exited|went away" "$WORK/exit.err"; then
		pass "$name ($(grep -o 'sampling ended.*' "$WORK/exit.err" | head -1))"
	else
		fail "$name" "exit $st, ${n:-no} samples; $(tail -1 "$WORK/exit.err")"
	fi
else
	fail "$name" "QEMU did not come up"
fi
stop_peer

# --- A hostile stub (no QEMU can be made to do this): it attaches, then answers every
# register read with an error.  kprof ends at once, says so, and writes an empty profile.
name="a stub answering only errors ends the collection with status 1 and a message"
cat >"$WORK/errstub.py" <<'PY'
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
s.settimeout(30)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
c.settimeout(30)
buf = b""
def send(p):
    c.sendall(b"+$" + p + b"#%02x" % (sum(p) & 255))
answers = {b"?": b"S05", b"qfThreadInfo": b"m1,2", b"qsThreadInfo": b"l", b"g": b"E01"}
while True:
    d = c.recv(4096)
    if not d:
        break
    if b"\x03" in d:
        send(b"S02")
    buf += d.replace(b"\x03", b"")
    while True:
        i = buf.find(b"$")
        j = buf.find(b"#", i)
        if i < 0 or j < 0 or len(buf) < j + 3:
            break
        p, buf = buf[i + 1:j], buf[j + 3:]
        if p.startswith(b"qSupported"):
            send(b"PacketSize=1000")
        elif p.startswith(b"Hg") or p == b"D":
            send(b"OK")
        elif p not in (b"c", b"vCont;c"):
            send(answers.get(p, b""))
PY
python3 "$WORK/errstub.py" >"$WORK/errport" &
spid=$!
for _ in $(seq 50); do [ -s "$WORK/errport" ] && break; sleep 0.1; done
timeout 60 "$KPROF" collect --remote "127.0.0.1:$(cat "$WORK/errport")" --symbols "$ELF" \
	--samples 10 -o "$WORK/err.json" 2>"$WORK/err.err"
st=$?
kill "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
if [ "$st" -eq 1 ] && grep -q "refused to give the vCPUs' registers" "$WORK/err.err" &&
	python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$WORK/err.json" 2>/dev/null; then
	pass "$name"
else
	fail "$name" "exit $st; $(tail -1 "$WORK/err.err")"
fi

# --- Bad addresses and a stub that is not there: one line, status 2 or 3.
expect_status "--remote without --symbols is a usage error" 2 \
	"$KPROF" collect --remote 127.0.0.1:1 -o "$WORK/x.json" 2>/dev/null
expect_status "--remote to a closed port fails with status 3" 3 \
	"$KPROF" collect --remote "127.0.0.1:$(free_port)" --symbols "$ELF" -o "$WORK/x.json" 2>/dev/null
