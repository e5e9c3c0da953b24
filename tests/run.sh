#!/usr/bin/env bash
# Run every test: cmocka unit tests, integration scripts, then the sanitizer build and the
# fuzzers' smoke runs.  Ends with one "N passed, N failed" line.
set -u
cd "$(dirname "$0")/.."

passed=0
failed=0
failures=()
WORKROOT=$(mktemp -d /tmp/kprof-tests.XXXXXX)
trap 'rm -rf "$WORKROOT"' EXIT

# A cmocka binary prints "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s)".
run_unit() {
	local bin=$1 label=$2 out p f
	out=$("$bin" 2>&1)
	local status=$?
	echo "$out" | sed "s/^/  /"
	p=$(echo "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(echo "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	p=${p:-0}
	f=${f:-0}
	if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	[ "$f" -gt 0 ] && failures+=("$label")
}

# An integration script prints "PASS: name" / "FAIL: name" lines.  Arguments after the
# build directory are passed to the script.
run_integration() {
	local script=$1 label=$2 build=$3 out p f status
	shift 3
	local work="$WORKROOT/$(basename "$script" .sh)-$(basename "$build")"
	[ $# -eq 0 ] || work="$work-$(echo "$*" | tr -c 'A-Za-z0-9.\n' _)"
	mkdir -p "$work"
	out=$(KPROF="$build/kprof" GUEST=build/guest/kprof-guest.elf \
		GUEST_NOFP=build/guest/kprof-guest-nofp.elf BUILD="$build" WORK="$work" \
		timeout 1200 bash "$script" "$@" 2>&1)
	status=$?
	echo "$out" | sed "s/^/  /"
	p=$(echo "$out" | grep -c '^PASS: ')
	f=$(echo "$out" | grep -c '^FAIL: ')
	if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "  FAIL: $label exited with status $status"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	[ "$f" -gt 0 ] && failures+=("$label")
}

echo "== unit tests"
for bin in build/tests/test_*; do
	[ -x "$bin" ] || continue
	echo "-- $bin"
	run_unit "$bin" "$bin"
done

# run_script SCRIPT SUFFIX BUILD: once with no arguments, or once per "# run with: ARGS" line
# of the script (the Linux test: one run per kernel).
run_script() {
	local script=$1 suffix=$2 build=$3 runs=() args
	mapfile -t runs < <(sed -n 's/^# run with: *//p' "$script")
	[ ${#runs[@]} -gt 0 ] || runs=("")
	for args in "${runs[@]}"; do
		echo "-- $script${args:+ $args}$suffix"
		# shellcheck disable=SC2086 # the arguments are words
		run_integration "$script" "$script${args:+ $args}$suffix" "$build" $args
	done
}

echo "== integration tests"
for script in tests/integration/test_*.sh; do
	[ -f "$script" ] || continue
	run_script "$script" "" build
done

echo "== sanitizer build (address, undefined)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=98
for bin in build/san/tests/test_*; do
	[ -x "$bin" ] || continue
	echo "-- $bin"
	run_unit "$bin" "$bin"
done
# Integration scripts that opt in ("# sanitize: yes") run again against the instrumented kprof.
for script in tests/integration/test_*.sh; do
	grep -q '^# sanitize: yes' "$script" || continue
	run_script "$script" " (sanitized)" build/san
done

echo "== fuzz smoke runs"
for fz in build/fuzz/fuzz_*; do
	[ -x "$fz" ] || continue
	name=$(basename "$fz")
	corpus="tests/fuzz/corpus/${name#fuzz_}"
	mkdir -p "$WORKROOT/$name"
	[ -d "$corpus" ] && cp -r "$corpus/." "$WORKROOT/$name/" 2>/dev/null
	# A fixed seed keeps CI repeatable; crash artifacts go to the scratch directory, not the tree.
	if "$fz" -seed=1 -max_total_time=20 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$WORKROOT/$name-" "$WORKROOT/$name" \
		>"$WORKROOT/$name.log" 2>&1; then
		echo "PASS: $name (20 s)"
		passed=$((passed + 1))
	else
		tail -40 "$WORKROOT/$name.log" | sed 's/^/  /'
		for a in "$WORKROOT/$name"-crash-* "$WORKROOT/$name"-timeout-* "$WORKROOT/$name"-oom-*; do
			[ -f "$a" ] && echo "  reproducer (base64): $(base64 -w0 "$a")"
		done
		echo "FAIL: $name"
		failed=$((failed + 1))
		failures+=("$name")
	fi
done

echo
if [ ${#failures[@]} -gt 0 ]; then
	echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
