#!/usr/bin/env bash
# kprof run --console: standard input to the guest's serial receiver (IRQ 4 through the
# I/O APIC, or polled), from a pipe, a pseudo-terminal, with --gdb and across a snapshot
# (console_drive.py), and no reading of standard input without --console.
# sanitize: yes
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

timeout 900 python3 tests/integration/console_drive.py "$KPROF" "$GUEST" "$WORK"

# Without --console nothing reads standard input: what follows kprof in the same file
# offset sees all of it.
printf 'first line\nsecond line\n' >"$WORK/stdin.txt"
{ "$KPROF" run --cmdline iterations=1 "$GUEST" >"$WORK/noconsole.out" 2>&1; cat; } \
	<"$WORK/stdin.txt" >"$WORK/rest.txt"
check "without --console standard input is not read" cmp -s "$WORK/stdin.txt" "$WORK/rest.txt"
