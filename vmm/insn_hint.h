/* vmm internal: small x86-64 decoding for the emulation fix-ups (pure code, unit-tested): the
 * CPUID feature an instruction needs, and the operand of ldmxcsr/stmxcsr. */
#ifndef KPROF_VMM_INSN_HINT_H
#define KPROF_VMM_INSN_HINT_H

#include <stddef.h>
#include <stdint.h>

/* The --cpu feature name (QEMU's) of the instruction at code[0..n), e.g. "cx16" for
 * `lock cmpxchg16b`, with *mnemonic set; NULL when it is not one a kernel picks by CPUID. */
const char *vmm_insn_feature(const uint8_t *code, size_t n, const char **mnemonic);

/* `ldmxcsr m32` (returns 1) or `stmxcsr m32` (2) at code[0..n), with at most a REX prefix:
 * *addr is the operand's linear address (segment bases are 0 in 64-bit mode), from the 16
 * general registers in the usual order (rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8-r15) and
 * rip, the instruction's address; *len its length.  0 for any other instruction. */
int vmm_insn_mxcsr(const uint8_t *code, size_t n, const uint64_t gpr[16], uint64_t rip,
		   uint64_t *addr, unsigned *len);

#endif
