#!/usr/bin/env bash
# examples/linux-flamegraph.sh, the README's Linux flame graph, run as a user runs it on
# Debian's generic 6.1 kernel (QEMU TCG, 2 vCPUs, 300 samples), and its outputs held to what
# the workload (examples/linux/flamegraph-init.sh) does:
#  - bad input (a kernel directory without the kernel): one line, exit 2, nothing written;
#  - the folded stacks have the tasks as roots: busybox-spin and busybox-dd (processes, whose
#    stacks begin at [user]), the idle task swapper/N (never [user]); every CPU of every
#    sample is there;
#  - brd's frames are named "fn [brd]" in the folded stacks and the SVG, no "??" in brd's
#    text (its sections where the guest printed them), stacks through brd unwound to [user]
#    (modules_oracle.py profile);
#  - the SVG is well-formed XML whose frames are the folded stacks' (flamegraph_check.py
#    widths), and in headless Chromium it zooms and searches ([brd] frames) as it should.
#
#   test_linux_flamegraph.sh [FIXTURE-DIR]    (default: build/linux-generic)
# sanitize: yes
set -u
. "$(dirname "$0")/lib.sh"

FIX=${1:-build/linux-generic}
K="linux flame graph:"
EXAMPLE=examples/linux-flamegraph.sh
ORACLE=tests/integration/modules_oracle.py
CHECK="python3 tests/integration/flamegraph_check.py"

for tool in qemu-system-x86_64 readelf nm; do
	if ! command -v "$tool" >/dev/null; then
		fail "$K needs $tool (make deps installs it)"
		exit 0
	fi
done
if ! bash tests/linux/fixture.sh "$FIX" generic 6.1 >"$WORK/fixture.log" 2>&1; then
	fail "$K the Debian generic 6.1 kernel fixture could not be made" "$(tail -1 "$WORK/fixture.log")"
	exit 0
fi

name="$K a kernel directory without the kernel: one line naming it, exit 2, nothing written"
mkdir -p "$WORK/empty"
KPROF=$KPROF bash "$EXAMPLE" "$WORK/bad" "$WORK/empty" 2>"$WORK/bad.err"
status=$?
if [ "$status" = 2 ] && [ "$(wc -l <"$WORK/bad.err")" = 1 ] &&
	grep -q "empty/vmlinuz: no such file" "$WORK/bad.err" && [ ! -e "$WORK/bad" ]; then
	pass "$name"
else
	fail "$name" "exit $status: $(tr '\n' ' ' <"$WORK/bad.err")"
fi

name="$K the example boots the kernel, samples it and writes trace.json, folded stacks and SVG"
OUT=$WORK/out
if ! KPROF=$KPROF SAMPLES=300 timeout 900 bash "$EXAMPLE" "$OUT" "$FIX" >"$WORK/example.log" 2>&1
then
	fail "$name" "exit $?: $(tail -3 "$WORK/example.log" | tr '\n' ' ')"
	exit 0
fi
for f in trace.json linux.folded linux.svg serial.txt; do
	[ -s "$OUT/$f" ] || { fail "$name" "no $f"; exit 0; }
done
pass "$name"

name="$K folded stacks: every CPU of every sample, rooted at its task"
result=$(python3 - "$OUT/linux.folded" <<'PY'
import collections, re, sys
roots = collections.Counter()
user = collections.Counter()
for line in open(sys.argv[1]):
    stack, n = line.rstrip("\n").rsplit(" ", 1)
    frames = stack.split(";")
    roots[frames[0]] += int(n)
    if "[user]" in frames:
        if frames.index("[user]") != 1:
            sys.exit(print(f"[user] is not the frame after the task: {stack}"))
        user[frames[0]] += int(n)
total = sum(roots.values())
idle = sorted(r for r in roots if re.fullmatch(r"swapper/\d+", r))
missing = [r for r in ("busybox-spin", "busybox-dd") if not user[r]]
if total != 600:
    sys.exit(print(f"{total} stacks, wanted 300 samples of 2 CPUs"))
if missing or not idle:
    sys.exit(print(f"no user-mode stacks of {missing} or no swapper/N root: {dict(roots)}"))
if any(user[r] for r in idle):
    sys.exit(print(f"the idle task in user mode: {dict(user)}"))
print("ok " + ", ".join(f"{r} {n}" for r, n in roots.most_common(8)))
PY
)
case $result in ok*) pass "$name (${result#ok })" ;; *) fail "$name" "$result" ;; esac

name="$K brd's frames named fn [brd] in the folded stacks and the SVG, no ?? in its text"
BRD_SRC=$(find "$FIX/modules" -path '*/drivers/block/brd.ko*' | head -1)
case $BRD_SRC in *.xz) xz -dc "$BRD_SRC" >"$WORK/brd.ko" ;; *) cp "$BRD_SRC" "$WORK/brd.ko" ;; esac
tr -d '\r' <"$OUT/serial.txt" | awk '$1 == "KPROF_MODULE_SECTION" && $2 == "brd" { print $3, $4 }' \
	>"$WORK/sections"
RANGES=$(python3 "$ORACLE" ranges "$WORK/sections" "$WORK/brd.ko")
python3 "$ORACLE" syms "$FIX/vmlinux" "$WORK/brd.ko" "$WORK/syms.json"
result=$(python3 "$ORACLE" profile "$OUT/trace.json" "$WORK/syms.json" brd "$RANGES")
if [ -z "$RANGES" ]; then
	fail "$name" "the guest printed no sections of brd: $(tail -3 "$OUT/serial.txt" | tr '\n' ' ')"
elif ! grep -q ';brd_submit_bio \[brd\]' "$OUT/linux.folded"; then
	fail "$name" "no brd_submit_bio [brd] frame in the folded stacks"
elif ! grep -q '<title>brd_submit_bio \[brd\] (' "$OUT/linux.svg"; then
	fail "$name" "no brd_submit_bio [brd] frame in the SVG"
else
	case $result in ok*) pass "$name (${result#ok })" ;; *) fail "$name" "$result" ;; esac
fi

name="$K the SVG is well-formed and draws the folded stacks, frame by frame"
if result=$($CHECK widths "$OUT/linux.svg" "$OUT/linux.folded" 1200 2>&1); then
	pass "$name ($result)"
else
	fail "$name" "$result"
fi

# -- In a real browser: zoom into busybox-dd, search for brd's frames and for the idle task.
chromium=${CHROMIUM:-/usr/bin/chromium}
if ! command -v node >/dev/null || [ ! -x "$chromium" ]; then
	fail "$K browser test: node or $chromium is missing (make deps installs them)"
elif [ ! -d tests/browser/node_modules/playwright-core ]; then
	fail "$K browser test: playwright-core is missing (make deps installs it)"
else
	cat >"$WORK/checks.json" <<EOF
{"zoom": "busybox-dd", "hiddenAfterZoom": "busybox-spin", "fullWidth": 1180,
 "search": "\\\\[brd\\\\]", "matched": $($CHECK matched "$OUT/linux.folded" '\[brd\]'),
 "search2": "^swapper/", "matched2": $($CHECK matched "$OUT/linux.folded" '^swapper/')}
EOF
	browser_test "$K browser" "$OUT/linux.svg" "$WORK/checks.json"
fi
