/* vmm internal: the CPUID feature an x86-64 instruction needs (pure code, unit-tested). */
#ifndef KPROF_VMM_INSN_HINT_H
#define KPROF_VMM_INSN_HINT_H

#include <stddef.h>
#include <stdint.h>

/* The --cpu feature name (QEMU's) of the instruction at code[0..n), e.g. "cx16" for
 * `lock cmpxchg16b`, with *mnemonic set; NULL when it is not one a kernel picks by CPUID. */
const char *vmm_insn_feature(const uint8_t *code, size_t n, const char **mnemonic);

#endif
