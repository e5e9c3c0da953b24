/* The unwinder (unwind.c), in perf's shape: memory comes through a read callback and each
 * frame goes to a frame callback (return non-zero from it to stop early), so a captured stack
 * window unwinds offline as well as a live target.  The tables it walks (a Linux kernel's ORC,
 * DWARF CFI, the symbols and modules) are opaque here: kernel_syms_open (profiler/symbols.h)
 * loads them and fills a struct unwinder.
 */
#ifndef KPROF_PROFILER_UNWIND_H
#define KPROF_PROFILER_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define UNW_NREGS 17		/* DWARF x86-64 numbering: 0-15 GPRs, 16 = return address */
#define UNW_REG_RSI 4
#define UNW_REG_RBP 6
#define UNW_REG_RSP 7
#define UNW_REG_RA 16

/* Guest memory as the unwinder reads it: bytes read, or a negative errno. */
typedef ssize_t (*unwind_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);
struct unwind_regs {
	uint64_t r[UNW_NREGS];
	uint32_t valid;		/* bit n: r[n] is known */
};

struct cfi;
struct modules;
struct orc;
struct symtab;
struct unwinder {
	const struct orc *orc;		/* may be NULL: a Linux kernel's ORC tables come first */
	const struct cfi *cfi;		/* may be NULL: frame pointers only */
	const struct symtab *syms;	/* may be NULL: no "??" check */
	uint64_t offset;		/* runtime = link + offset, for CFI lookups */
	unsigned max_depth;		/* 0: 256 */
	bool no_fp_fallback;		/* CFI only */
	const struct modules *modules;	/* may be NULL: a Linux kernel's loaded modules, for
					 * pcs outside syms */
};

/* Set in an unwinder callback's flags (not stored in profiles) when pc is a return address:
 * name it by pc - 1, which is inside the call instruction's function. */
#define UNWIND_RETADDR (1u << 8)
/* Set for the innermost frame: pc is where the vCPU stopped. */
#define UNWIND_INNERMOST (1u << 9)
#define UNWIND_FLAGS (UNWIND_RETADDR | UNWIND_INNERMOST)
typedef int (*unwind_frame_fn)(void *ctx, uint64_t pc, unsigned flags);

/* Returns the number of frames delivered, or a negative errno when regs lack rip/rsp. */
int unwind_stack(const struct unwinder *uw, const struct unwind_regs *regs, unwind_read_fn rd,
		 void *rdctx, unwind_frame_fn cb, void *cbctx);

struct target_regs;
void unwind_regs_from_target(struct unwind_regs *u, const struct target_regs *r);

#endif
