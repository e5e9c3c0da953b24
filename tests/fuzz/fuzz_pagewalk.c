/* libFuzzer: guest page tables and control registers chosen by a hostile guest, and any
 * address a debugger asks for -> the page walker.  It must never touch memory outside the
 * guest RAM buffer (ASan watches) nor return a physical address beyond it. */
#include "vmm/pagewalk.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RAM (64u * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmm_paging pg;
	uint64_t vaddr, pa, span;
	uint8_t out[64];
	uint8_t *ram;

	if (size < 5 * 8)
		return 0;
	memcpy(&pg, data, 4 * 8);
	memcpy(&vaddr, data + 32, 8);
	/* Keep CR3 inside or just outside the small RAM now and then, so the walks go deep. */
	if (pg.cr3 & 1)
		pg.cr3 &= RAM * 2 - 1;
	ram = calloc(1, RAM);
	if (!ram)
		return 0;
	memcpy(ram, data + 40, size - 40 < RAM ? size - 40 : RAM);
	struct vmm_physmem mem = { .base = ram, .size = RAM };
	if (vmm_translate(&mem, &pg, vaddr, &pa, &span) == 0 &&
	    (pa >= RAM || span == 0 || span > RAM - pa))
		abort();
	long n = vmm_linear_copy(&mem, &pg, vaddr, out, sizeof(out), (int)(vaddr & 1));
	if (n > (long)sizeof(out))
		abort();
	free(ram);
	return 0;
}
