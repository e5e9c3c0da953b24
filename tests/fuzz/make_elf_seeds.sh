#!/usr/bin/env bash
# Regenerate the small ELF seeds of the symtab and cfi fuzzers from elf_seed.c: one with
# .eh_frame, one with .debug_frame only, one with line tables only (-g1).  -N packs the
# segments so each seed stays a few KiB.
set -euo pipefail
cd "$(dirname "$0")"
# No build directory in the seeds' DWARF strings.
f="-fdebug-prefix-map=$PWD=. -O2 -nostdlib -static -no-pie -Wl,-N -Wl,--build-id -Wl,-z,norelro -Wl,--no-warn-rwx-segments"
mkdir -p corpus/symtab corpus/cfi
gcc $f -g -fasynchronous-unwind-tables -o corpus/cfi/eh-frame.elf elf_seed.c
gcc $f -g -fno-asynchronous-unwind-tables -fno-unwind-tables -o corpus/cfi/debug-frame.elf elf_seed.c
gcc $f -g1 -fasynchronous-unwind-tables -o corpus/cfi/g1.elf elf_seed.c
cp corpus/cfi/eh-frame.elf corpus/cfi/debug-frame.elf corpus/symtab/
# The bundled guest without debug info and data (timer_entry's signal-frame CFI, start64's
# undefined return address), when it has been built.
if [ -f ../../build/guest/kprof-guest-nofp.elf ]; then
	objcopy --strip-debug --remove-section=.boot.data --remove-section=.rodata \
		--remove-section=.data ../../build/guest/kprof-guest-nofp.elf corpus/cfi/guest-nofp.elf 2>/dev/null
fi
