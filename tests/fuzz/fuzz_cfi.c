/* libFuzzer harness for DWARF call-frame information: any bytes as a kernel ELF.
 * libdwarf reads .debug_frame and .eh_frame (cfi.c), every indexed FDE's rows are
 * interpreted, and a stack window taken from the input itself is unwound through them
 * (unwind.c, dwexpr.c), so corrupted CIE/FDE programs and expressions meet the unwinder.
 * Never a crash, leak or hang. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "profiler/profiler_internal.h"
#include "profiler/symbols.h"
#include "profiler/unwind.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__asan_default_options(void);

/* A corrupted section count makes libdwarf ask for terabytes; outside ASan malloc returns
 * NULL and libdwarf reports it, so let ASan's allocator do the same. */
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

#define MAX_PCS 256
#define WINDOW_BASE 0xffffffff80200000ull

struct pcs {
	uint64_t pc[MAX_PCS];
	size_t n;
};

static int count_frame(void *ctx, uint64_t pc, unsigned flags)
{
	size_t *n = ctx;

	(void)pc;
	(void)flags;
	return ++*n > 64;
}

/* Unwind from pc with the window [WINDOW_BASE, + size) holding the input bytes. */
static void unwind_from(const struct cfi *c, uint64_t pc, const uint8_t *data, size_t size)
{
	struct unwinder uw = { .cfi = c, .max_depth = 64 };
	struct stack_window w = { .base = WINDOW_BASE, .data = data, .len = size };
	struct unwind_regs r;
	size_t frames = 0;

	memset(&r, 0, sizeof(r));
	for (unsigned i = 0; i < UNW_NREGS; i++)
		r.r[i] = WINDOW_BASE + (i * 8) % (size ? size : 1);
	r.r[UNW_REG_RA] = pc;
	r.r[UNW_REG_RSP] = WINDOW_BASE + (size / 4 & ~7ull);
	r.valid = (1u << UNW_NREGS) - 1;
	unwind_stack(&uw, &r, stack_window_read, &w, count_frame, &frames);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("kernel.elf", 0);
	char path[64];
	struct cfi *c;
	struct pcs pcs = { .n = 0 };
	struct cfi_row row;

	if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (cfi_open(path, &c) == 0) {
		/* PCs from the file's own symbols (the loaded functions' starts and insides). */
		struct symtab *st;

		if (symtab_open(path, &st) == 0) {
			for (size_t i = 0; i < symtab_count(st) && pcs.n + 2 <= MAX_PCS; i++) {
				uint64_t a = symtab_addr(st, (long)i);

				pcs.pc[pcs.n++] = a;
				pcs.pc[pcs.n++] = a + 5;
			}
			symtab_free(st);
		}
		for (size_t i = 0; i < pcs.n; i++)
			if (cfi_find(c, pcs.pc[i], &row) == 0 && row.fde_hi > row.fde_lo)
				cfi_find(c, row.fde_hi - 1, &row);
		/* Also any address-looking 8-byte values of the input. */
		for (size_t off = 0; off + 8 <= size && pcs.n < MAX_PCS; off += 64) {
			uint64_t v;

			memcpy(&v, data + off, 8);
			if (cfi_find(c, v, &row) == 0)
				pcs.pc[pcs.n++] = v;
		}
		for (size_t i = 0; i < pcs.n; i++)
			unwind_from(c, pcs.pc[i], data, size);
		cfi_free(c);
	}
	close(fd);
	return 0;
}
