#!/usr/bin/env bash
# kprof collect --remote --modules on Debian's generic kernel, with a module doing the work:
# the initramfs (tests/linux/init_modules.sh) loads brd (a RAM disk) and runs dd on
# /dev/ram0 with O_DIRECT on CPU 1, so that its requests go through brd_submit_bio in dd's
# own system calls; CPU 0 loops in user mode.  QEMU TCG, 2 vCPUs.
#  - oracle: at hardware breakpoints in the module (brd_submit_bio, brd_do_bvec), in the
#    kernel function it calls (bio_endio) and at unplanned stops, gdb with add-symbol-file
#    for the -dbg package's brd.ko at the addresses the guest printed from
#    /sys/module/brd/sections/ names the same frames as kprof on every vCPU, up to the entry
#    code; a frame in brd's text is kprof's "fn [brd]" where gdb says fn;
#  - 300 samples: no "??" in module code, every frame in brd's text named "fn [brd]" with fn
#    one of brd.ko's functions, stacks through brd unwound to [user];
#  - the same tree compressed (brd.ko.xz), and the -dbg package's tree, name them alike;
#  - a tree without brd.ko: its frames are "??" and end the stack, with a warning;
#  - brd reloaded elsewhere while sampling (loop loaded first): the module list is re-read
#    and brd's frames at their new addresses are named.
#
#   test_linux_modules.sh [FIXTURE-DIR [generic] [6.1]]    (default: build/linux-generic)
#
# run with: build/linux-generic generic 6.1
# (It passes on bookworm-backports' 6.12 generic kernel too, with struct module's mem[] layout
# and .ko.xz files: `tests/linux/fixture.sh build/linux-generic-6.12 generic 6.12`, then
# `test_linux_modules.sh build/linux-generic-6.12 generic 6.12`; not in make check, which
# would fetch another 1 GB.)
# sanitize: yes
set -u
. "$(dirname "$0")/lib.sh"

QEMU=qemu-system-x86_64
FIX=${1:-build/linux-generic}
FLAVOUR=${2:-generic}
SERIES=${3:-6.1}
K="modules $FLAVOUR $SERIES:"
VMLINUX=$FIX/vmlinux
PEER_PID=
trap 'stop_peer' EXIT

for tool in "$QEMU" gdb xz readelf; do
	if ! command -v "$tool" >/dev/null; then
		fail "$K needs $tool (make deps installs it)"
		exit 0
	fi
done
if ! bash "$(dirname "$0")/../linux/fixture.sh" "$FIX" "$FLAVOUR" "$SERIES" >"$WORK/fixture.log" 2>&1
then
	fail "$K the Debian $FLAVOUR $SERIES kernel fixture could not be made" \
		"$(tail -1 "$WORK/fixture.log")"
	exit 0
fi
# Bad --modules input: one line naming it, exit 2, before any connection.
name="$K --modules with a missing tree or a kernel without ORC and BTF: one line, exit 2"
"$KPROF" collect --remote 127.0.0.1:1 --symbols "$VMLINUX" --modules "$WORK/absent" \
	-o "$WORK/x.json" 2>"$WORK/bad1.err"
s1=$?
"$KPROF" collect --remote 127.0.0.1:1 --symbols "$GUEST" --modules "$FIX/modules" \
	-o "$WORK/x.json" 2>"$WORK/bad2.err"
s2=$?
if [ "$s1" = 2 ] && [ "$s2" = 2 ] && [ "$(wc -l <"$WORK/bad1.err")" = 1 ] &&
	grep -q "absent: No such file" "$WORK/bad1.err" && grep -q "not a Linux kernel" "$WORK/bad2.err" &&
	[ ! -e "$WORK/x.json" ]; then
	pass "$name"
else
	fail "$name" "exit $s1, $s2: $(cat "$WORK/bad1.err" "$WORK/bad2.err" | tr '\n' ' ')"
fi

BRD_REL=kernel/drivers/block/brd.ko
BRD_DBG=$FIX/modules-dbg/$BRD_REL
BRD=$WORK/brd.ko
if [ -f "$FIX/modules/$BRD_REL" ]; then
	cp "$FIX/modules/$BRD_REL" "$BRD"
else
	xz -dc "$FIX/modules/$BRD_REL.xz" >"$BRD"
fi
LOOP=$WORK/loop.ko
if [ -f "$FIX/modules/kernel/drivers/block/loop.ko" ]; then
	cp "$FIX/modules/kernel/drivers/block/loop.ko" "$LOOP"
else
	xz -dc "$FIX/modules/kernel/drivers/block/loop.ko.xz" >"$LOOP"
fi
bash "$(dirname "$0")/../linux/mkinitramfs.sh" "$WORK/initramfs.cpio" "$FIX/busybox" \
	"$(dirname "$0")/../linux/init_modules.sh" /lib/modules/brd.ko="$BRD" \
	/lib/modules/loop.ko="$LOOP" || exit 0

# boot: QEMU with a gdb stub, the console on ttyS0 (a file) and a control line on ttyS1 (a
# FIFO pair: /init waits there for "reload"); waits for /init's workloads.
boot() {
	stop_peer
	PORT=$(free_port)
	SERIAL=$WORK/serial.txt
	MON=$WORK/monitor.sock
	CTL=$WORK/ctl
	rm -f "$SERIAL" "$MON" "$CTL.in" "$CTL.out"
	mkfifo "$CTL.in" "$CTL.out"
	"$QEMU" -accel tcg -smp 2 -m 512M -kernel "$FIX/vmlinuz" -initrd "$WORK/initramfs.cpio" \
		-append "console=ttyS0 panic=-1 quiet nokaslr" -no-reboot -display none \
		-serial "file:$SERIAL" -serial "pipe:$CTL" -monitor "unix:$MON,server,nowait" \
		-gdb "tcp:127.0.0.1:$PORT" >/dev/null 2>&1 &
	PEER_PID=$!
	# Keep both ends of the control line open (QEMU blocks on a FIFO without a peer).
	exec 8<>"$CTL.in" 9<>"$CTL.out"
	wait_port "$PORT" && linux_ready 180
}

collect() {
	timeout 300 "$KPROF" collect --remote "tcp:127.0.0.1:$PORT" --symbols "$VMLINUX" "$@"
}

name="$K Linux boots and loads brd"
if ! boot; then
	fail "$name" "$(tail -3 "$WORK/serial.txt" 2>/dev/null | tr '\n' ' ')"
	exit 0
fi
# Where the kernel put brd's sections, as /sys/module/brd/sections/ says.
tr -d '\r' <"$SERIAL" | awk '$1 == "KPROF_MODULE_SECTION" { print $3, $4 }' >"$WORK/sections"
TEXT=$(awk '$1 == ".text" { print $2 }' "$WORK/sections")
if [ -z "$TEXT" ] || grep -q KPROF_MODULE_ERROR "$SERIAL"; then
	fail "$name" "no .text address for brd: $(grep KPROF_MODULE "$SERIAL" | head -3 | tr '\n' ' ')"
	exit 0
fi
pass "$name (.text at $TEXT, $(wc -l <"$WORK/sections") sections)"
ORACLE=$(cd "$(dirname "$0")" && pwd)/modules_oracle.py
# brd's code in the guest: each executable section's [address, address + size).
RANGES=$(python3 "$ORACLE" ranges "$WORK/sections" "$BRD")
python3 "$ORACLE" syms "$VMLINUX" "$BRD" "$WORK/syms.json"

# --- The oracle.
name="$K oracle: gdb (add-symbol-file brd.ko) and kprof name the same frames, brd's as fn [brd]"
add_symbols="add-symbol-file $BRD_DBG $TEXT$(awk '$1 != ".text" { printf " -s %s %s", $1, $2 }' \
	"$WORK/sections")"
stops=0 frames=0 modframes=0 problem=
for bp in brd_submit_bio brd_do_bvec bio_endio - - - - - - -; do
	if [ "$bp" = - ]; then
		sleep 0.$((RANDOM % 9 + 1))
		monitor stop
		run=()
	else
		run=(-ex "hbreak $bp" -ex continue -ex delete)
	fi
	BT_OUT=$WORK/gdb.json timeout 180 gdb -q -nx -batch -ex "target remote 127.0.0.1:$PORT" \
		-ex "$add_symbols" "${run[@]}" -ex "source $ORACLE" -ex disconnect "$VMLINUX" \
		>"$WORK/gdb.log" 2>&1
	if [ ! -s "$WORK/gdb.json" ]; then
		result="gdb recorded nothing: $(tail -1 "$WORK/gdb.log")"
	elif ! collect --modules "$FIX/modules" --samples 1 -o "$WORK/one.json" 2>"$WORK/one.err"
	then
		result="kprof exit $?: $(tail -1 "$WORK/one.err")"
	else
		result=$(python3 "$ORACLE" compare "$WORK/gdb.json" "$WORK/one.json" "$WORK/syms.json" \
			brd "$RANGES")
	fi
	rm -f "$WORK/gdb.json"
	case $result in
	ok*)
		set -- $result
		stops=$((stops + 1)) frames=$((frames + $2)) modframes=$((modframes + $3))
		;;
	*) problem="at $bp: $result" ;;
	esac
	monitor cont	# the phases below need the guest running
	[ -z "$problem" ] || break
done
if [ -n "$problem" ]; then
	fail "$name" "$problem"
elif [ "$modframes" -lt 3 ]; then
	fail "$name" "$stops stops agree, but only $modframes frames were in brd's code"
else
	pass "$name ($stops/$stops stops agree, $frames frames compared, $modframes in brd)"
fi

# profile_check FILE [unnamed]: the 300-sample properties (modules_oracle.py profile); with
# "unnamed", brd's frames must instead be "??" and end their stacks.  Prints "ok ..." or the
# problem.
profile_check() {
	python3 "$ORACLE" profile "$1" "$WORK/syms.json" brd "$RANGES" "${2:-named}"
}

name="$K 300 samples: no ?? in brd's code, its frames named fn [brd], unwound through"
if collect --modules "$FIX/modules" --samples 300 --interval 0.02 -o "$WORK/prof.json" \
	2>"$WORK/prof.err"; then
	result=$(profile_check "$WORK/prof.json")
	case $result in ok*) pass "$name (${result#ok })" ;; *) fail "$name" "$result" ;; esac
else
	fail "$name" "exit $?: $(tail -1 "$WORK/prof.err")"
fi

# After gdb's sessions QEMU keeps answering in gdb's multiprocess dialect: kprof must still
# leave the VM running (the phases below need the guest to run).
check "$K the kernel runs on after the profile (after gdb's sessions)" \
	grep -q "detached, the target runs on" "$WORK/prof.err"

name="$K a tree of .ko.xz files and the -dbg package's tree name brd's frames alike"
mkdir -p "$WORK/xz"
xz -c "$BRD" >"$WORK/xz/brd.ko.xz"
problem=
for tree in "$WORK/xz" "$FIX/modules-dbg"; do
	if ! collect --modules "$tree" --samples 150 --interval 0.02 -o "$WORK/tree.json" \
		2>"$WORK/tree.err"; then
		problem="$tree: exit $?: $(tail -1 "$WORK/tree.err")"
		break
	fi
	result=$(profile_check "$WORK/tree.json")
	case $result in ok*) problem="$problem${problem:+; }${tree##*/}: ${result#ok }" ;;
	*) problem="FAIL $tree: $result"; break ;; esac
done
case $problem in FAIL*|*exit*) fail "$name" "$problem" ;; *) pass "$name ($problem)" ;; esac

name="$K a tree without brd.ko: brd's frames are ?? and end their stack, with a warning"
mkdir -p "$WORK/other"
cp "$LOOP" "$WORK/other/"
if collect --modules "$WORK/other" --samples 150 --interval 0.02 -o "$WORK/none.json" \
	2>"$WORK/none.err"; then
	result=$(profile_check "$WORK/none.json" unnamed)
	if ! grep -q "no file for 1 loaded module (brd)" "$WORK/none.err"; then
		fail "$name" "no warning: $(head -2 "$WORK/none.err" | tr '\n' ' ')"
	else
		case $result in ok*) pass "$name (${result#ok })" ;; *) fail "$name" "$result" ;; esac
	fi
else
	fail "$name" "exit $?: $(tail -1 "$WORK/none.err")"
fi

name="$K brd reloaded elsewhere while sampling: the list is re-read, its frames named there"
# Sampling runs until SIGTERM (the profile is still written): it ends only once the guest said
# brd is back and a few seconds of samples were taken there, however slow this host is.
collect --modules "$FIX/modules" --samples 1000000 --interval 0.02 -o "$WORK/reload.json" \
	2>"$WORK/reload.err" &
collector=$!
reloaded() { tr -d '\r' <"$SERIAL" | awk '$1 == "KPROF_MODULE_RELOADED" { f = 1 } END { exit !f }'; }
connected() {
	local pid
	pid=$(pgrep -P "$collector" | head -1) && [ -n "$pid" ] &&
		find "/proc/$pid/fd" -lname 'socket:*' 2>/dev/null | grep -q .
}
# Connected, then seconds of samples before the reload, so that brd is seen at its first place.
wait_for 120 connected && sleep 4
echo reload >&8
wait_for 180 reloaded && sleep 4
# To kprof itself (timeout would end with 143 after passing it on).
kill -TERM "$(pgrep -P "$collector" | head -1)" 2>/dev/null
wait "$collector"
status=$?
moved=$(tr -d '\r' <"$SERIAL" | awk '$1 == "KPROF_MODULE_RELOADED" { print $2 }')
reads=$(sed -n 's/.*module list read \([0-9]*\) times.*/\1/p' "$WORK/reload.err")
if [ "$status" -ne 0 ]; then
	fail "$name" "exit $status: $(tail -1 "$WORK/reload.err")"
elif [ -z "$moved" ] || [ "$moved" = "$TEXT" ]; then
	fail "$name" "brd was not loaded elsewhere (.text ${moved:-not reloaded}, first at $TEXT)"
else
	result=$(python3 - "$WORK/reload.json" "$WORK/syms.json" "$moved" "$TEXT" "$RANGES" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
funcs = set(json.load(open(sys.argv[2]))["module_funcs"])
# .text's size from the first load's ranges, at the new address.
first = dict(tuple(int(x, 16) for x in r.split("-")) for r in sys.argv[5].split(","))
lo = int(sys.argv[3], 16)
hi = lo + first[int(sys.argv[4], 16)] - int(sys.argv[4], 16)
clone = re.compile(r"\.(constprop|isra|part|cold)(\.\d+)*")
moved = unknown = 0
for cap, smp in zip(d["stack_traces"], d["kprof"]["samples"]):
    for cpu, names in cap.items():
        pcs = [int(p, 16) for p in smp["pcs"][cpu]]
        for i, (n, pc) in enumerate(zip(names, pcs)):
            unknown += n == "??"
            if n.endswith(" [brd]") and clone.sub("", n[:-6]) not in funcs:
                sys.exit(print(f"{n!r} is not one of brd.ko's functions"))
            at = pc if i == 0 else pc - 1
            # Before brd came back there, that memory may have held loop's init text.
            if lo <= at < hi and not n.endswith(" [loop]"):
                if not n.endswith(" [brd]"):
                    sys.exit(print(f"{n!r} at {pc:#x}, in brd's new text"))
                moved += 1
# At most 3 "??" as test_linux allows (boot-patched code that ORC does not describe).
if moved < 3 or unknown > 3:
    sys.exit(print(f"{moved} frames in brd's new text, {unknown} ?? frames"))
print(f"ok {moved} frames in brd's new text named fn [brd], {unknown} ?? frames")
PY
)
	if [ "${reads:-0}" -lt 2 ]; then
		fail "$name" "the module list was read ${reads:-0} times"
	else
		case $result in
		ok*) pass "$name (.text $TEXT, then $moved; ${result#ok }; list read $reads times)" ;;
		*) fail "$name" "$result" ;;
		esac
	fi
fi
stop_peer
