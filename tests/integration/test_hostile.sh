#!/usr/bin/env bash
# Hostile inputs: truncated and corrupted kernel ELF files (booted and given to --symbols),
# a kernel larger than guest memory, trace.json files with wrong types and missing keys,
# binary garbage where text is expected, damaged snapshots for --restore, gdb stubs that
# answer garbage or nothing (collect --remote), and a guest that floods the serial port or
# port 0x80.  Each must end in time with a clear one-line error and a non-zero status (or,
# where the damage does not touch what the command needs, succeed), and never crash: no
# sanitizer report, no signal, no core dump.
#
# Not here: --inline over a corrupted .debug_rnglists.  Debian's libdwarf 20210528 frees
# twice (or faults) inside dwarf_load_rnglists on such a file, which kprof cannot catch.
# sanitize: yes
set -u
. "$(dirname "$0")/lib.sh"
DATA="$(dirname "$0")/data"
T=60	# seconds before a command counts as hung

sz=$(stat -c %s "$GUEST_NOFP")
corrupt() { python3 "$DATA/corrupt_elf.py" "$GUEST_NOFP" "$WORK/$1" "$2" "${3:-1}"; }

# crashed FILE STATUS: did the command crash (signal, sanitizer report) or hang?
crashed() {
	[ "$2" -eq 124 ] || [ "$2" -eq 137 ] || { [ "$2" -ge 128 ] && [ "$2" -ne 130 ]; } ||
		grep -qE 'Sanitizer|runtime error|Segmentation|core dumped|double free|Aborted' "$1"
}

# outcome NAME STATUS ERRFILE NAMEPATTERN ALLOW0: PASS when the command did not crash and
# either failed (non-zero) with exactly one stderr line that names the input, or (ALLOW0=1)
# succeeded.
outcome() {
	local name=$1 st=$2 err=$3 pat=$4 allow0=$5 lines
	lines=$(wc -l <"$err")
	if crashed "$err" "$st"; then
		fail "$name" "crashed or hung: status $st: $(head -3 "$err")"
	elif [ "$st" -eq 0 ] && [ "$allow0" = 1 ]; then
		pass "$name (accepted)"
	elif [ "$st" -ne 0 ] && [ "$lines" -eq 1 ] && grep -q -- "$pat" "$err"; then
		pass "$name"
	else
		fail "$name" "status $st, $lines lines: $(head -3 "$err")"
	fi
}

# --- truncated kernels: kprof run loads segments, collect also loads symbols and CFI
for off in 16 63 64 120 4096 40960 57344 $((sz / 2)) $((sz - 200)) $((sz - 1)); do
	head -c "$off" "$GUEST_NOFP" >"$WORK/t$off.elf"
	timeout $T "$KPROF" run --cmdline iterations=1 "$WORK/t$off.elf" >/dev/null 2>"$WORK/err"
	st=$?
	# Cut inside the debug sections or the section table, the segments are whole: it boots.
	outcome "run: truncated at $off bytes" $st "$WORK/err" "t$off.elf: " $((off >= sz / 2))
	timeout $T "$KPROF" collect --samples 5 -o "$WORK/x.json" -- --cmdline iterations=1 \
		"$WORK/t$off.elf" >/dev/null 2>"$WORK/err"
	outcome "collect: truncated at $off bytes" $? "$WORK/err" "t$off.elf: " 0
done

# --- corrupted sections of the symbols file (the pristine kernel boots)
for how in flip:.eh_frame flip:.eh_frame_hdr flip:.symtab flip:.strtab flip:.debug_info \
	flip:.debug_abbrev flip:.debug_line zero:.eh_frame zero:.symtab past-eof:.eh_frame \
	past-eof:.symtab past-eof:.strtab huge-size:.symtab huge-size:.eh_frame \
	huge-size:.debug_info shoff-past-eof shnum-huge shstrndx-bad; do
	for seed in 1 2; do
		corrupt c.elf "$how" "$seed" || { fail "corrupt $how"; continue; }
		for inl in "" --inline; do
			timeout $T "$KPROF" collect $inl --samples 10 --interval 0.001 --symbols "$WORK/c.elf" \
				-o "$WORK/c.json" -- --cpus 2 --cmdline iterations=0 "$GUEST_NOFP" \
				>/dev/null 2>"$WORK/err"
			st=$?
			# A profile may be written (frames become ?? or come from frame pointers): then
			# it must read back.
			if [ $st -eq 0 ] && ! "$KPROF" parse "$WORK/c.json" -o "$WORK/c.folded" 2>>"$WORK/err"; then
				st=99
			fi
			# Warnings ("no DWARF call-frame information") may come before the error line.
			grep -v '^kprof: warning: ' "$WORK/err" >"$WORK/err1"
			crashed "$WORK/err" $st && cp "$WORK/err" "$WORK/err1"
			outcome "collect $inl --symbols with $how ($seed)" $st "$WORK/err1" "c.elf: " 1
		done
	done
	# The same file booted: the damage is outside the loaded segments or in the section table.
	timeout $T "$KPROF" run --cmdline iterations=1 "$WORK/c.elf" >/dev/null 2>"$WORK/err"
	outcome "run with $how" $? "$WORK/err" "c.elf: " 1
done

# --- program headers: a kernel larger than guest memory, a segment past the end of the file
corrupt big.elf memsz-huge
timeout $T "$KPROF" run "$WORK/big.elf" >/dev/null 2>"$WORK/err"
outcome "run: p_memsz near 2^63" $? "$WORK/err" "big.elf: .*outside guest memory" 0
corrupt big3m.elf memsz:3145728
timeout $T "$KPROF" run --mem 2M "$WORK/big3m.elf" >/dev/null 2>"$WORK/err"
outcome "run: 3 MiB kernel in --mem 2M" $? "$WORK/err" "big3m.elf: .*outside guest memory" 0
timeout $T "$KPROF" collect --samples 5 -o "$WORK/x.json" -- --mem 2M "$WORK/big3m.elf" \
	>/dev/null 2>"$WORK/err"
outcome "collect: 3 MiB kernel in --mem 2M" $? "$WORK/err" "big3m.elf: .*outside guest memory" 0
corrupt filesz.elf filesz-past-eof
timeout $T "$KPROF" run "$WORK/filesz.elf" >/dev/null 2>"$WORK/err"
outcome "run: p_filesz past the end of the file" $? "$WORK/err" "filesz.elf: " 0

# --- trace.json with wrong types and missing keys: one line naming the file
i=0
while IFS= read -r js; do
	i=$((i + 1))
	printf '%s' "$js" >"$WORK/bad$i.json"
	timeout $T "$KPROF" parse "$WORK/bad$i.json" -o "$WORK/bad.folded" >/dev/null 2>"$WORK/err"
	outcome "parse: trace.json $js" $? "$WORK/err" "bad$i.json: " 0
done <<'EOF'
{}
{"stack_traces": 5}
{"stack_traces": [5]}
{"stack_traces": [{"0": "x"}]}
{"stack_traces": [{"0": [1, 2]}]}
{"stack_traces": [{"zz": ["a"]}]}
{"stack_traces": [{"-1": ["a"]}]}
{"stack_traces": [{"99999999999999999999": ["a"]}]}
{"stack_traces": [{"0": ["a"]}], "kprof": 5}
{"stack_traces": [{"0": ["a"]}], "kprof": {"samples": "x"}}
{"stack_traces": [{"0": ["a"]}], "kprof": {"samples": [{"time_ns": "x"}]}}
{"stack_traces": [{"0": ["a"]}], "kprof": {"samples": [{"stop_ns": -1}]}}
{"stack_traces": [{"0": ["a"]}], "kprof": {"samples": [{"pcs": {"0": [5]}}]}}
{"stack_traces": [{"0": ["a"]}], "kprof": {"format_version": "one"}}
{"stack_traces": [{"0": ["a"]}], "kprof": {"cpus": 1e300}}
{"stack_traces": [{"0": ["a"]}], "kprof": {"interval": "x"}}
{"stack_traces": [{"0": ["a"
[]
EOF
python3 -c "print('[' * 100000 + ']' * 100000)" >"$WORK/deep.json"
timeout $T "$KPROF" parse "$WORK/deep.json" -o "$WORK/bad.folded" >/dev/null 2>"$WORK/err"
outcome "parse: 100000 nested arrays" $? "$WORK/err" "deep.json: " 0
python3 -c "print('{\"stack_traces\": [' + '{\"0\": [' * 50000)" >"$WORK/deepobj.json"
timeout $T "$KPROF" parse "$WORK/deepobj.json" -o "$WORK/bad.folded" >/dev/null 2>"$WORK/err"
outcome "parse: 50000 nested objects" $? "$WORK/err" "deepobj.json: " 0

# --- binary garbage where text is expected (fixed-seed random bytes, and the kernel itself)
python3 -c "import random, sys; r = random.Random(5); sys.stdout.buffer.write(bytes(r.randrange(256) for _ in range(1 << 20)))" >"$WORK/random.bin"
for fmt in folded svg json; do
	timeout $T "$KPROF" parse "$WORK/random.bin" -o "$WORK/g.$fmt" >/dev/null 2>"$WORK/err"
	outcome "parse: 1 MiB of random bytes to $fmt" $? "$WORK/err" "random.bin: " 0
	timeout $T "$KPROF" parse "$GUEST_NOFP" -o "$WORK/g.$fmt" >/dev/null 2>"$WORK/err"
	outcome "parse: the kernel ELF to $fmt" $? "$WORK/err" "kprof-guest-nofp.elf: " 0
done
timeout $T "$KPROF" parse - -o "$WORK/g.folded" <"$WORK/random.bin" >/dev/null 2>"$WORK/err"
outcome "parse: random bytes on standard input" $? "$WORK/err" "kprof: " 0
timeout $T "$KPROF" diff "$WORK/random.bin" "$GUEST_NOFP" -o "$WORK/g.svg" >/dev/null 2>"$WORK/err"
outcome "diff: random bytes against the kernel ELF" $? "$WORK/err" "random.bin: " 0
timeout $T "$KPROF" run "$WORK/random.bin" >/dev/null 2>"$WORK/err"
outcome "run: random bytes as the kernel" $? "$WORK/err" "random.bin: " 0
timeout $T "$KPROF" collect --symbols "$WORK/random.bin" --samples 5 -o "$WORK/x.json" -- \
	--cmdline iterations=1 "$GUEST_NOFP" >/dev/null 2>"$WORK/err"
outcome "collect: random bytes as --symbols" $? "$WORK/err" "random.bin: " 0

# --- snapshots (--restore): truncated, bit-flipped, not a snapshot
if timeout $T "$KPROF" run --cpus 2 --cmdline iterations=2 --snapshot-on 0x60 \
	--snapshot "$WORK/s.snap" "$GUEST_NOFP" >/dev/null 2>"$WORK/err"; then
	ssz=$(stat -c %s "$WORK/s.snap")
	for off in 0 10 100 4096 $((ssz / 2)) $((ssz - 1)); do
		head -c "$off" "$WORK/s.snap" >"$WORK/t$off.snap"
		timeout $T "$KPROF" run --restore "$WORK/t$off.snap" >/dev/null 2>"$WORK/err"
		outcome "run --restore: snapshot truncated at $off bytes" $? "$WORK/err" "t$off.snap: " 0
	done
	for seed in 1 2 3; do
		python3 - "$WORK/s.snap" "$WORK/f$seed.snap" "$seed" <<'PY'
import random, sys
d = bytearray(open(sys.argv[1], "rb").read())
r = random.Random(int(sys.argv[3]))
for _ in range(20):
    d[r.randrange(len(d))] ^= 1 << r.randrange(8)
open(sys.argv[2], "wb").write(d)
PY
		timeout $T "$KPROF" run --restore "$WORK/f$seed.snap" >/dev/null 2>"$WORK/err"
		outcome "run --restore: 20 bit flips ($seed)" $? "$WORK/err" "f$seed.snap: " 0
	done
	timeout $T "$KPROF" run --restore "$GUEST_NOFP" >/dev/null 2>"$WORK/err"
	outcome "run --restore: the kernel ELF" $? "$WORK/err" "kprof-guest-nofp.elf: " 0
	timeout $T "$KPROF" run --restore "$WORK/random.bin" >/dev/null 2>"$WORK/err"
	outcome "run --restore: random bytes" $? "$WORK/err" "random.bin: " 0
else
	fail "take a snapshot to corrupt" "$(head -3 "$WORK/err")"
fi

# --- a gdb stub that misbehaves (collect --remote; data/fake_stub.py): kprof must end within
# its connection timeout (5 s) with one line naming the stub, never hang or grow.
for mode in silent close garbage framed-garbage errors endless half; do
	python3 "$DATA/fake_stub.py" "$mode" >"$WORK/stub.port" &
	stub=$!
	for _ in $(seq 50); do [ -s "$WORK/stub.port" ] && break; sleep 0.1; done
	port=$(cat "$WORK/stub.port")
	start=$(date +%s)
	timeout 30 "$KPROF" collect --remote "tcp:127.0.0.1:$port" --symbols "$GUEST_NOFP" --samples 5 \
		-o "$WORK/r.json" >/dev/null 2>"$WORK/err"
	st=$?
	took=$(($(date +%s) - start))
	kill $stub 2>/dev/null
	wait $stub 2>/dev/null
	# The last line says why; a stub error may be quoted on the line before it.
	tail -1 "$WORK/err" >"$WORK/err1"
	crashed "$WORK/err" $st && cp "$WORK/err" "$WORK/err1"
	if [ "$took" -le 15 ]; then
		outcome "collect --remote: a stub that answers '$mode' (${took} s)" $st "$WORK/err1" "127.0.0.1:$port" 0
	else
		fail "collect --remote: a stub that answers '$mode'" "took $took s (status $st)"
	fi
done
timeout 30 "$KPROF" collect --remote tcp:127.0.0.1:1 --symbols "$GUEST_NOFP" -o "$WORK/r.json" \
	>/dev/null 2>"$WORK/err"
outcome "collect --remote: nothing listening" $? "$WORK/err" "127.0.0.1:1: .*refused" 0

# --- a guest flooding the serial port or port 0x80 (guest option flood=, guest/README.md):
# memory stays flat, and Ctrl-C still ends the run promptly with status 130.
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
# stop_within PID SECONDS: SIGINT, then wait up to SECONDS; 0 when it ended in time.
stop_within() {
	local pid=$1 n=$(($2 * 10))
	kill -INT "$pid" 2>/dev/null
	while [ $n -gt 0 ] && kill -0 "$pid" 2>/dev/null; do
		sleep 0.1
		n=$((n - 1))
	done
	kill -0 "$pid" 2>/dev/null && { kill -KILL "$pid"; return 1; }
	return 0
}
for kind in serial port80; do
	"$KPROF" run --cpus 2 --boot-profile=json --cmdline "flood=$kind" --serial "$WORK/flood.txt" \
		"$GUEST_NOFP" >/dev/null 2>"$WORK/flood.err" &
	pid=$!
	sleep 2
	r1=$(rss_kb $pid)
	sleep 3
	r2=$(rss_kb $pid)
	if stop_within $pid 5; then ended=1; else ended=0; fi
	wait $pid
	st=$?
	out=$(stat -c %s "$WORK/flood.txt")
	if [ "$ended" = 1 ] && [ "$st" -eq 130 ] && [ -n "$r1" ] && [ -n "$r2" ] &&
		[ $((r2 - r1)) -lt 8192 ] && ! crashed "$WORK/flood.err" 0 &&
		grep -q '"port80_dropped"' "$WORK/flood.err"; then
		pass "flood=$kind: RSS ${r1} -> ${r2} kB over 3 s, Ctrl-C ends it (status 130), ${out} bytes of serial"
	else
		fail "flood=$kind" "ended $ended, status $st, RSS $r1 -> $r2 kB: $(head -c 300 "$WORK/flood.err")"
	fi
	if [ "$kind" = serial ]; then
		if [ "$out" -gt 10000 ]; then pass "flood=serial reaches the --serial file"; else fail "flood=serial output" "$out bytes"; fi
	else
		dropped=$(grep -o '"port80_dropped":[0-9]*' "$WORK/flood.err" | cut -d: -f2)
		if [ "${dropped:-0}" -gt 0 ]; then pass "flood=port80: the event log is bounded ($dropped dropped)"; else fail "flood=port80: no events dropped"; fi
	fi
done

# Serial output into a pipe nobody reads: the writer blocks, Ctrl-C must still end kprof.
mkfifo "$WORK/fifo"
sleep 30 <>"$WORK/fifo" &
holder=$!
"$KPROF" run --cmdline flood=serial "$GUEST_NOFP" >"$WORK/fifo" 2>"$WORK/fifo.err" &
pid=$!
sleep 2
if stop_within $pid 5; then ended=1; else ended=0; fi
wait $pid
st=$?
kill $holder 2>/dev/null
wait $holder 2>/dev/null
if [ "$ended" = 1 ] && [ "$st" -eq 130 ]; then
	pass "flood=serial into a full pipe: Ctrl-C ends kprof (status 130)"
else
	fail "flood=serial into a full pipe" "ended $ended, status $st: $(head -3 "$WORK/fifo.err")"
fi

# The sampler keeps its schedule while the guest floods (one vCPU, flooding from boot).
timeout $T "$KPROF" collect --samples 50 --interval 0.01 -o "$WORK/flood.json" -- \
	--cmdline flood=serial --serial /dev/null "$GUEST_NOFP" >/dev/null 2>"$WORK/err"
st=$?
n=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["stack_traces"]))' \
	"$WORK/flood.json" 2>/dev/null)
if [ "$st" -eq 0 ] && [ "${n:-0}" -eq 50 ] && grep -q flood "$WORK/flood.json"; then
	pass "collect on a flooding guest: 50 samples, in flood()"
else
	fail "collect on a flooding guest" "status $st, ${n:-no} samples: $(head -3 "$WORK/err")"
fi
