#!/usr/bin/env bash
# kprof run: boots the bundled guest on 1, 2 and 4 vCPUs, the boot profile (table and JSON),
# the debug-exit status, guest faults, unknown devices, and one-line errors for bad input.
# sanitize: yes
set -u
. "$(dirname "$0")/lib.sh"
DATA="$(dirname "$0")/data"
T=60	# seconds before a hung boot counts as a failure

# The tiny PVH kernel (tests/integration/data/pvh-tiny.S), linked at 1 MiB and at 64 MiB.
as --64 -o "$WORK/tiny.o" "$DATA/pvh-tiny.S" || fail "assemble pvh-tiny"
ld -m elf_x86_64 -N --no-warn-rwx-segments -Ttext=0x100000 -e pvh_start -o "$WORK/tiny.elf" \
	"$WORK/tiny.o" || fail "link pvh-tiny"
ld -m elf_x86_64 -N --no-warn-rwx-segments -Ttext=0x4000000 -e pvh_start -o "$WORK/tiny-high.elf" \
	"$WORK/tiny.o" || fail "link pvh-tiny at 64 MiB"

# --- the bundled guest on 1, 2 and 4 vCPUs
for n in 1 2 4; do
	out="$WORK/boot$n.out"
	timeout $T "$KPROF" run --cpus "$n" --cmdline iterations=5 "$GUEST" >"$out" 2>"$out.err"
	st=$?
	done_lines=$(grep -c '^cpu [0-9]*: chain .* done' "$out")
	if [ "$st" -eq 0 ] && [ "$done_lines" -eq "$n" ] && grep -q "all $n cpus done" "$out"; then
		pass "run --cpus $n: exit 0, $n done lines"
	else
		fail "run --cpus $n" "status $st, $done_lines done lines"
		sed 's/^/    /' "$out.err" | head -20
	fi
done

# --- boot profile: table on stderr, guest console on stdout (here: --serial FILE)
timeout $T "$KPROF" run --cpus 2 --cmdline iterations=2 --serial "$WORK/serial.txt" --boot-profile \
	"$GUEST" >"$WORK/prof.out" 2>"$WORK/prof.err"
st=$?
ok=1
for word in kvm_open vm_create memory kernel_load boot_params vcpu_setup boot_wait host_misc total \
	init_entry work_done '0x40 Kernel' 'port 0x80 event' 'guest stage'; do
	grep -q "$word" "$WORK/prof.err" || { ok=0; echo "    missing in profile: $word"; }
done
[ "$st" -eq 0 ] && [ ! -s "$WORK/prof.out" ] && grep -q 'BOOT_TIME:init_entry' "$WORK/serial.txt" || ok=0
if [ $ok -eq 1 ]; then pass "boot profile table"; else fail "boot profile table" "status $st"; fi

timeout $T "$KPROF" run --cpus 2 --cmdline iterations=2 --serial "$WORK/serial2.txt" \
	--boot-profile=json "$GUEST" >/dev/null 2>"$WORK/prof.json"
st=$?
if [ "$st" -eq 0 ] && python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
names = [h["name"] for h in p["host_phases"]]
assert names == ["kvm_open", "vm_create", "memory", "kernel_load", "initrd_load", "boot_params",
                 "vcpu_setup", "boot_wait", "host_misc"], names
assert abs(sum(h["ns"] for h in p["host_phases"]) - p["total_ns"]) <= p["total_ns"] // 100
stages = [s["name"] for s in p["guest_stages"]]
assert "init_entry" in stages and "work_done" in stages, stages
assert all(s["cumulative_ns"] >= s["delta_ns"] for s in p["guest_stages"])
codes = [e["code"] for e in p["port80"]]
assert codes and all(0 <= c <= 255 for c in codes)
assert any(e["range"] == "Kernel" for e in p["port80"])
' "$WORK/prof.json"; then
	pass "boot profile json"
else
	fail "boot profile json" "status $st"
fi

# --- debug-exit status: the value written (its low byte)
expect_status "debug-exit 7" 7 timeout $T "$KPROF" run --cmdline exit=7 "$WORK/tiny.elf" \
	>/dev/null 2>&1
expect_status "debug-exit 0" 0 timeout $T "$KPROF" run --cmdline exit=0 "$WORK/tiny.elf" \
	>/dev/null 2>&1
expect_status "debug-exit 300 (low byte 44)" 44 timeout $T "$KPROF" run --cmdline exit=300 \
	"$WORK/tiny.elf" >/dev/null 2>&1
timeout $T "$KPROF" run --cmdline exit=3 --boot-profile "$WORK/tiny.elf" >"$WORK/tiny.out" \
	2>"$WORK/tiny.err"
if grep -q 'pvh-tiny: hello' "$WORK/tiny.out" && grep -q 'tiny_done' "$WORK/tiny.err" &&
	grep -q '0x60 Userspace' "$WORK/tiny.err" && grep -q '0x10 Firmware' "$WORK/tiny.err"; then
	pass "tiny guest: console, stage and port-0x80 ranges"
else
	fail "tiny guest: console, stage and port-0x80 ranges"
fi

# --- a triple fault: message, register dump, status 120
timeout $T "$KPROF" run --cmdline fault "$WORK/tiny.elf" >/dev/null 2>"$WORK/fault.err"
st=$?
if [ "$st" -eq 120 ] && grep -q 'triple fault' "$WORK/fault.err" && grep -q 'rip ' "$WORK/fault.err" &&
	grep -q 'cr0 ' "$WORK/fault.err"; then
	pass "triple fault: status 120 with register dump"
else
	fail "triple fault" "status $st"
fi

# --- a KVM internal error: status 121 with register dump.  The PVM backend of the test machines
# emulates CPL0 code and cannot emulate rdrand; a backend that runs it natively exits with 33.
timeout $T "$KPROF" run --cmdline emul "$WORK/tiny.elf" >/dev/null 2>"$WORK/emul.err"
st=$?
if [ "$st" -eq 121 ] && grep -q 'internal error' "$WORK/emul.err" && grep -q 'rip ' "$WORK/emul.err"; then
	pass "KVM internal error: status 121 with register dump"
elif [ "$st" -eq 33 ] && [ ! -s "$WORK/emul.err" ]; then
	pass "rdrand ran natively (this KVM backend has no emulation failure to show)"
else
	fail "KVM internal error" "status $st: $(head -2 "$WORK/emul.err")"
fi

# --- Ctrl-C ends a guest that never exits: console flushed, profile printed, status 130
timeout --preserve-status -s INT 2 "$KPROF" run --cmdline spin --boot-profile "$WORK/tiny.elf" \
	>"$WORK/spin.out" 2>"$WORK/spin.err"
st=$?
if [ "$st" -eq 130 ] && grep -q 'pvh-tiny: hello' "$WORK/spin.out" && grep -q 'boot_wait' "$WORK/spin.err"
then
	pass "SIGINT: status 130 with console and profile"
else
	fail "SIGINT" "status $st"
fi

# --- unknown port and MMIO accesses: logged once each, not fatal
timeout $T "$KPROF" run --cmdline unknown "$WORK/tiny.elf" >/dev/null 2>"$WORK/unknown.err"
st=$?
if [ "$st" -eq 0 ] && [ "$(grep -c 'unhandled port read from 0x71 at rip' "$WORK/unknown.err")" -eq 1 ] &&
	[ "$(grep -c 'unhandled MMIO read from 0xd0000000' "$WORK/unknown.err")" -eq 1 ]; then
	pass "unknown port and MMIO logged once"
else
	fail "unknown port and MMIO logged once" "status $st"
fi

# --- bad input: one line naming the problem, status 2 (3 for KVM itself)
# bad_input NAME STATUS PATTERN ARGS...: one stderr line matching PATTERN and that status.
bad_input() {
	local name=$1 want=$2 pattern=$3 st lines
	shift 3
	timeout $T "$KPROF" run "$@" >/dev/null 2>"$WORK/bad.err"
	st=$?
	lines=$(wc -l <"$WORK/bad.err")
	if [ "$st" -eq "$want" ] && [ "$lines" -eq 1 ] && grep -q -- "$pattern" "$WORK/bad.err"; then
		pass "bad input: $name"
	else
		fail "bad input: $name" "status $st, $lines lines: $(head -3 "$WORK/bad.err")"
	fi
}

python3 - "$WORK/tiny.elf" "$WORK/aarch64.elf" "$WORK/i386.elf" <<'PY'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
data[18:20] = struct.pack("<H", 183)            # EM_AARCH64
open(sys.argv[2], "wb").write(data)
# A 32-bit i386 ELF header (e_machine 3) is enough: the machine is checked first.
hdr = bytearray(52)
hdr[0:4] = b"\x7fELF"; hdr[4] = 1; hdr[5] = 1; hdr[6] = 1
hdr[16:18] = struct.pack("<H", 2); hdr[18:20] = struct.pack("<H", 3)
open(sys.argv[3], "wb").write(hdr)
PY

bad_input "missing file" 2 "$WORK/nonexistent.elf: No such file" "$WORK/nonexistent.elf"
bad_input "not ELF" 2 "/etc/passwd: not an ELF file" /etc/passwd
bad_input "wrong machine aarch64" 2 "aarch64.elf: wrong machine aarch64" "$WORK/aarch64.elf"
bad_input "wrong machine i386" 2 "i386.elf: wrong machine i386" "$WORK/i386.elf"
bad_input "no PVH note" 2 "no PVH entry note" "$(type -P true)"
bad_input "segment outside memory" 2 "tiny-high.elf: segment .* outside guest memory" --mem 16M \
	"$WORK/tiny-high.elf"
bad_input "directory" 2 "is a directory" "$WORK"
bad_input "--cpus 0" 2 "--cpus: '0'" --cpus 0 "$WORK/tiny.elf"
bad_input "--cpus 17" 2 "--cpus: '17'" --cpus 17 "$WORK/tiny.elf"
bad_input "--cpus abc" 2 "--cpus: 'abc'" --cpus abc "$WORK/tiny.elf"
bad_input "--mem 1M" 2 "--mem: '1M'" --mem 1M "$WORK/tiny.elf"
bad_input "--mem 5G" 2 "--mem: '5G'" --mem 5G "$WORK/tiny.elf"
bad_input "--mem junk" 2 "--mem: 'junk'" --mem junk "$WORK/tiny.elf"
bad_input "--serial unwritable" 2 "nodir/x.txt: No such file" --serial "$WORK/nodir/x.txt" \
	"$WORK/tiny.elf"
bad_input "no kernel" 2 "no kernel" --cpus 2
bad_input "unknown option" 2 "unknown option '--bogus'" --bogus "$WORK/tiny.elf"

# No /dev/kvm: hide it in a private mount namespace (root on the test machines).
if unshare -m true 2>/dev/null; then
	timeout $T unshare -m sh -c 'mount -t tmpfs none /dev && exec "$0" run "$1"' \
		"$KPROF" "$WORK/tiny.elf" >/dev/null 2>"$WORK/nokvm.err"
	st=$?
	if [ "$st" -eq 3 ] && [ "$(wc -l <"$WORK/nokvm.err")" -eq 1 ] &&
		grep -q '/dev/kvm: not found' "$WORK/nokvm.err"; then
		pass "bad input: no /dev/kvm"
	else
		fail "bad input: no /dev/kvm" "status $st: $(cat "$WORK/nokvm.err")"
	fi
else
	fail "bad input: no /dev/kvm" "unshare -m is not permitted here (run the tests as root)"
fi
# No permission: /dev/kvm is root-only here; run as nobody (files readable by all).
chmod a+rx "$WORK" && chmod a+r "$WORK/tiny.elf"
timeout $T setpriv --reuid=nobody --regid=nogroup --clear-groups "$KPROF" run "$WORK/tiny.elf" \
	>/dev/null 2>"$WORK/perm.err"
st=$?
if [ "$(stat -c %a /dev/kvm)" = 666 ]; then
	# Everyone may use KVM on this machine: the run must then simply work.
	if [ "$st" -eq 0 ]; then pass "run as an unprivileged user"; else fail "run as nobody" "$st"; fi
elif [ "$st" -eq 3 ] && [ "$(wc -l <"$WORK/perm.err")" -eq 1 ] &&
	grep -q '/dev/kvm: permission denied' "$WORK/perm.err"; then
	pass "bad input: no permission for /dev/kvm"
else
	fail "bad input: no permission for /dev/kvm" "status $st: $(cat "$WORK/perm.err")"
fi
