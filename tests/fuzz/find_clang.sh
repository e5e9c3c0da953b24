#!/bin/sh
# Print the clang that builds libFuzzer harnesses here: $CLANG if set, else clang, else the
# newest clang-N on PATH, the first of them that links a fuzzer (clang alone is not enough:
# libFuzzer is a separate runtime package, libclang-rt-N-dev on Debian).  Exit 1 when none does.
set -u

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ return d && n; }\n' \
	>"$tmp/probe.c"

versioned=$(IFS=:; for d in $PATH; do ls "$d" 2>/dev/null; done |
	grep -E '^clang-[0-9]+$' | sort -u | sort -t- -k2,2nr)
for cc in ${CLANG:-} clang $versioned; do
	command -v "$cc" >/dev/null 2>&1 || continue
	if "$cc" -fsanitize=fuzzer -o "$tmp/probe" "$tmp/probe.c" >/dev/null 2>&1; then
		echo "$cc"
		exit 0
	fi
done
exit 1
