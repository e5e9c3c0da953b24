#!/usr/bin/env bash
# kprof run --initrd, --cpu and the emulation fix-ups on the bundled guest: the guest reads the initrd through
# hvm_start_info's module list and prints its place, size and FNV-1a 64 hash, which must be the
# file's; the boot profile has the initrd phase and its two detail rows (table and JSON); the
# CPUID template reaches the guest; every bad --initrd and --cpu is one line and exit 2.
# sanitize: yes
set -u
. "$(dirname "$0")/lib.sh"
T=60

fnv1a64() {
	python3 -c '
import sys
h = 0xcbf29ce484222325
for b in open(sys.argv[1], "rb").read():
    h = ((h ^ b) * 0x100000001b3) & (2**64 - 1)
print("0x%016x" % h)' "$1"
}

# 64 KiB of random bytes plus a partial page: the guest hashes it in emulated kernel code.
head -c 65536 /dev/urandom >"$WORK/rd.bin"
printf 'tail' >>"$WORK/rd.bin"
size=$(stat -c %s "$WORK/rd.bin")
want=$(fnv1a64 "$WORK/rd.bin")

timeout $T "$KPROF" run --cpus 2 --mem 64M --initrd "$WORK/rd.bin" --cmdline iterations=1 \
	--boot-profile "$GUEST" >"$WORK/rd.out" 2>"$WORK/rd.err"
st=$?
line=$(grep 'kprof-guest: initrd at' "$WORK/rd.out")
addr=$(echo "$line" | sed -n 's/.*initrd at \(0x[0-9a-f]*\),.*/\1/p')
if [ "$st" -eq 0 ] && echo "$line" | grep -q ", $size bytes, fnv1a64 $want\$"; then
	pass "guest reads the initrd: $size bytes, hash $want"
else
	fail "guest reads the initrd" "status $st, want $size bytes $want, got: $line"
fi
# High in RAM, page-aligned, wholly below the end of the 64 MiB.
if [ -n "$addr" ] && python3 -c '
import sys
a, n = int(sys.argv[1], 16), int(sys.argv[2])
assert a % 4096 == 0 and a + n <= 64 << 20 and a >= (64 << 20) - n - 4096, (hex(a), n)' \
	"$addr" "$size"; then
	pass "initrd placed at the top of RAM, page-aligned ($addr)"
else
	fail "initrd placement" "$addr"
fi
ok=1
for word in initrd_load initrd_read initrd_write elf_load; do
	grep -q "$word" "$WORK/rd.err" || { ok=0; echo "    missing in profile: $word"; }
done
if [ $ok -eq 1 ]; then pass "boot profile table has the initrd rows"; else fail "initrd rows"; fi

timeout $T "$KPROF" run --initrd "$WORK/rd.bin" --cmdline iterations=1 --boot-profile=json \
	"$GUEST" >/dev/null 2>"$WORK/rd.json"
st=$?
if [ "$st" -eq 0 ] && python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
phases = {h["name"]: h["ns"] for h in p["host_phases"]}
assert phases["initrd_load"] > 0, phases
names = [h["name"] for h in p["host_phases"]]
assert names.index("kernel_load") < names.index("initrd_load") < names.index("boot_params")
text = open(sys.argv[1]).read()
assert "initrd_read" in text and "initrd_write" in text
' "$WORK/rd.json"; then
	pass "boot profile json has the initrd phase"
else
	fail "boot profile json initrd" "status $st"
	head -c 600 "$WORK/rd.json" | sed 's/^/    /'
fi

# Without --initrd the guest sees no module.
timeout $T "$KPROF" run --cmdline iterations=1 "$GUEST" >"$WORK/nord.out" 2>&1
if ! grep -q 'initrd at' "$WORK/nord.out"; then
	pass "no --initrd: no module"
else
	fail "no --initrd: no module"
fi

# --- bad --initrd: one line naming the file, exit 2, nothing booted
one_line_exit2() {
	local name=$1 pattern=$2
	shift 2
	"$@" >"$WORK/bad.out" 2>"$WORK/bad.err"
	local st=$? n
	n=$(wc -l <"$WORK/bad.err")
	if [ "$st" -eq 2 ] && [ "$n" -eq 1 ] && grep -q -- "$pattern" "$WORK/bad.err" &&
		[ ! -s "$WORK/bad.out" ]; then
		pass "$name"
	else
		fail "$name" "status $st, $n lines: $(head -2 "$WORK/bad.err")"
	fi
}
: >"$WORK/empty.img"
head -c 3145728 /dev/zero >"$WORK/3m.img"
one_line_exit2 "--initrd missing" "no-such.img: No such file" \
	timeout $T "$KPROF" run --initrd "$WORK/no-such.img" "$GUEST"
one_line_exit2 "--initrd empty" "empty.img: the file is empty" \
	timeout $T "$KPROF" run --initrd "$WORK/empty.img" "$GUEST"
one_line_exit2 "--initrd a directory" "not a regular file" \
	timeout $T "$KPROF" run --initrd "$WORK" "$GUEST"
one_line_exit2 "--initrd larger than RAM" "do not fit in 2 MiB of guest RAM" \
	timeout $T "$KPROF" run --mem 2M --initrd "$WORK/3m.img" "$GUEST"
one_line_exit2 "--initrd no room above the kernel" "between the kernel's end" \
	timeout $T "$KPROF" run --mem 4M --initrd "$WORK/3m.img" "$GUEST"
one_line_exit2 "--initrd without a value" "missing value" \
	timeout $T "$KPROF" run "$GUEST" --initrd

# --- --cpu: the template reaches the guest's CPUID (cx16 is leaf 1 ECX bit 13, a bit KVM
# governs on every backend), and bad templates are refused.
ecx() { sed -n 's/.*cpuid 1 ecx \(0x[0-9a-f]*\).*/\1/p' "$1"; }
timeout $T "$KPROF" run --cmdline iterations=1 "$GUEST" >"$WORK/cpu-host.out" 2>&1
timeout $T "$KPROF" run --cpu host,-cx16 --cmdline iterations=1 "$GUEST" >"$WORK/cpu-cx16.out" 2>&1
st=$?
a=$(ecx "$WORK/cpu-host.out")
b=$(ecx "$WORK/cpu-cx16.out")
if [ "$st" -eq 0 ] && [ -n "$a" ] && [ -n "$b" ] &&
	[ $(( a & (1 << 13) )) -ne 0 ] && [ $(( b & (1 << 13) )) -eq 0 ] &&
	[ $(( a & ~(1 << 13) )) -eq $(( b & ~(1 << 13) )) ]; then
	pass "--cpu host,-cx16: the guest sees leaf 1 ECX $a -> $b"
else
	fail "--cpu host,-cx16" "status $st, ecx $a -> $b"
fi
one_line_exit2 "--cpu unknown feature" "'nosuch' is not a CPU feature" \
	timeout $T "$KPROF" run --cpu host,-nosuch "$GUEST"
one_line_exit2 "--cpu unknown model" "'qemu64' is not a CPU model" \
	timeout $T "$KPROF" run --cpu qemu64 "$GUEST"
one_line_exit2 "--cpu bad value" "=on or =off" \
	timeout $T "$KPROF" run --cpu host,cx16=maybe "$GUEST"

# --- instructions the host's emulator may fail on at CPL0, done as the CPU would: int3 is
# a #BP trap reported after the int3; fwait with nothing pending is a no-op.
timeout $T "$KPROF" run --cmdline "iterations=1 fault=int3" "$GUEST" >"$WORK/int3.out" 2>&1
st=$?
site=$(sed -n "s/.*injecting fault 'int3' at \(0x[0-9a-f]*\).*/\1/p" "$WORK/int3.out")
rip=$(sed -n 's/.*exception 3 (breakpoint) error 0x0 rip \(0x[0-9a-f]*\) .*/\1/p' "$WORK/int3.out")
if [ "$st" -eq 127 ] && [ -n "$site" ] && [ -n "$rip" ] && [ $((rip - site)) -eq 1 ]; then
	pass "int3 at CPL0 reaches the guest as #BP, rip after it ($site -> $rip)"
else
	fail "int3 as #BP" "status $st, site $site, rip $rip"
	tail -5 "$WORK/int3.out" | sed 's/^/    /'
fi
timeout $T "$KPROF" run --cmdline "iterations=1 fault=fwait" "$GUEST" >"$WORK/fwait.out" 2>&1
st=$?
if [ "$st" -eq 0 ] && grep -q 'fwait done' "$WORK/fwait.out" && grep -q 'all 1 cpus done' "$WORK/fwait.out"; then
	pass "fwait at CPL0 runs on"
else
	fail "fwait" "status $st"
	tail -5 "$WORK/fwait.out" | sed 's/^/    /'
fi

# --- bzImage: the Linux 64-bit boot protocol on a tiny kernel (tests/integration/data/
# bz-tiny.S) that prints the zero page's command line and exits with what it found in it.
DATA="$(dirname "$0")/data"
bz() {	# bz NAME [--defsym ...]: build a variant
	local name=$1
	shift
	as --64 "$@" -o "$WORK/$name.o" "$DATA/bz-tiny.S" &&
		ld -m elf_x86_64 --oformat binary -Ttext=0 -e 0 -o "$WORK/$name.bin" "$WORK/$name.o"
}
bz bz || fail "assemble bz-tiny"
timeout $T "$KPROF" run --cmdline "console=ttyS0 quiet" "$WORK/bz.bin" >"$WORK/bz.out" 2>"$WORK/bz.err"
st=$?
# 3 e820 entries | 0x20 loader type 0xff
if [ "$st" -eq $((0x23)) ] && grep -q "^bz-tiny: cmdline 'console=ttyS0 quiet'\$" "$WORK/bz.out"; then
	pass "bzImage: 64-bit entry, zero page with command line, e820 and loader type"
else
	fail "bzImage boot" "status $st: $(cat "$WORK/bz.out" "$WORK/bz.err" | head -3)"
fi
timeout $T "$KPROF" run --initrd "$WORK/rd.bin" "$WORK/bz.bin" >/dev/null 2>"$WORK/bz.err"
st=$?
if [ "$st" -eq $((0x73)) ]; then
	pass "bzImage: ramdisk_image/ramdisk_size in the zero page, page-aligned, below initrd_addr_max"
else
	fail "bzImage with --initrd" "status $st: $(head -2 "$WORK/bz.err")"
fi
bz old --defsym VERSION=0x20b
bz no64 --defsym XLF=0
bz huge --defsym INIT_SIZE=0x10000000
head -c $((0x240)) "$WORK/bz.bin" >"$WORK/short.bin"
head -c 1024 "$WORK/bz.bin" >"$WORK/nokernel.bin"
one_line_exit2 "bzImage truncated setup header" "short.bin: truncated bzImage setup header" \
	timeout $T "$KPROF" run "$WORK/short.bin"
one_line_exit2 "bzImage with no protected-mode kernel" "no protected-mode kernel" \
	timeout $T "$KPROF" run "$WORK/nokernel.bin"
one_line_exit2 "bzImage old protocol" "boot protocol 2.11 is older than 2.12" \
	timeout $T "$KPROF" run "$WORK/old.bin"
one_line_exit2 "bzImage without a 64-bit entry" "no 64-bit entry point" \
	timeout $T "$KPROF" run "$WORK/no64.bin"
one_line_exit2 "bzImage larger than RAM" "the kernel needs 272 MiB of RAM" \
	timeout $T "$KPROF" run --mem 64M "$WORK/huge.bin"
one_line_exit2 "bzImage command line longer than cmdline_size" "the kernel takes at most 255" \
	timeout $T "$KPROF" run --cmdline "$(printf 'x%.0s' $(seq 300))" "$WORK/bz.bin"
one_line_exit2 "neither ELF nor bzImage" "not an ELF file or a bzImage" \
	timeout $T "$KPROF" run "$DATA/bz-tiny.S"
if [ -s "${LINUX_DIR:-build/linux}/vmlinuz" ]; then
	one_line_exit2 "Debian's vmlinuz larger than RAM" "the kernel needs .* MiB of RAM from 0x1000000" \
		timeout $T "$KPROF" run --mem 32M "${LINUX_DIR:-build/linux}/vmlinuz"
fi

# --- --exit-at text:TEXT ends the run (status 0) at the first serial line containing TEXT.
timeout $T "$KPROF" run --exit-at "text:cpus in the madt" --cmdline iterations=0 "$GUEST" \
	>"$WORK/text.out" 2>"$WORK/text.err"
st=$?
if [ "$st" -eq 0 ] && tail -1 "$WORK/text.out" | grep -q 'cpus in the madt' &&
	! grep -q 'chain .* start' "$WORK/text.out"; then
	pass "--exit-at text: ends the run at the line"
else
	fail "--exit-at text:" "status $st, last line: $(tail -1 "$WORK/text.out")"
fi
one_line_exit2 "--exit-at empty text" "the text is empty" \
	timeout $T "$KPROF" run --exit-at "text:" "$GUEST"

# --- an ELF vmlinux without a PVH note but with a Linux note: entered at e_entry through the
# same 64-bit protocol (zero page, long mode); an ELF with neither note is refused.
as --64 --defsym ELF=1 -o "$WORK/elf.o" "$DATA/bz-tiny.S" &&
	ld -m elf_x86_64 -Ttext=0x1000000 -e entry64 -o "$WORK/linux-nopvh.elf" "$WORK/elf.o" &&
	ld -m elf_x86_64 -Ttext=0x1000000 -e entry64 -o "$WORK/nonote.elf" "$WORK/bz.o" ||
	fail "link the ELF variants of bz-tiny"
timeout $T "$KPROF" run --cmdline "from an ELF" --initrd "$WORK/rd.bin" "$WORK/linux-nopvh.elf" \
	>"$WORK/elf.out" 2>"$WORK/elf.err"
st=$?
if [ "$st" -eq $((0x73)) ] && grep -q "^bz-tiny: cmdline 'from an ELF'\$" "$WORK/elf.out"; then
	pass "Linux ELF without PVH: 64-bit entry at e_entry, zero page with command line and ramdisk"
else
	fail "Linux ELF without PVH" "status $st: $(cat "$WORK/elf.out" "$WORK/elf.err" | head -3)"
fi
one_line_exit2 "ELF with neither a PVH nor a Linux note" "no PVH entry note .* not a Linux vmlinux" \
	timeout $T "$KPROF" run "$WORK/nonote.elf"
timeout $T "$KPROF" run --cmdline "iterations=1 fault=mxcsr" "$GUEST" >"$WORK/mxcsr.out" 2>&1
st=$?
line=$(grep 'kprof-guest: mxcsr' "$WORK/mxcsr.out")
loaded=$(echo "$line" | sed -n 's/.*loaded \(0x[0-9a-f]*\),.*/\1/p')
back=$(echo "$line" | sed -n 's/.*read back \(0x[0-9a-f]*\).*/\1/p')
if [ "$st" -eq 127 ] && [ -n "$loaded" ] && [ "$loaded" = "$back" ] &&
	grep -q 'exception 13 (general protection) error 0x0' "$WORK/mxcsr.out"; then
	pass "ldmxcsr/stmxcsr at CPL0: MXCSR loaded and read back ($line); a reserved bit is #GP(0)"
else
	fail "ldmxcsr/stmxcsr" "status $st: $line"
fi
