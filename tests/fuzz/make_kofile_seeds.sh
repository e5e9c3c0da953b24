#!/usr/bin/env bash
# Regenerate fuzz_kofile's seed: ko_seed.s assembled as a kernel module is (an ELF64
# relocatable object), about 1.5 KiB.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/kofile
gcc -c -o corpus/kofile/fake.ko ko_seed.s
