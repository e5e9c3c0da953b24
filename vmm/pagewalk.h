/* vmm internal: guest page-table walk, independent of KVM so it can be tested on a buffer. */
#ifndef KPROF_VMM_PAGEWALK_H
#define KPROF_VMM_PAGEWALK_H

#include <stddef.h>
#include <stdint.h>

/* Guest physical memory as one host buffer covering [0, size). */
struct vmm_physmem {
	uint8_t *base;
	uint64_t size;
};

/* The control state that decides how a linear address is translated. */
struct vmm_paging {
	uint64_t cr0, cr3, cr4, efer;
};

/* Translate a guest-linear address.  On success *paddr is the physical address and *span the
 * bytes left in that page (so a copy can run up to the page end).  -EFAULT when the address is
 * not mapped or a table lies outside guest RAM; never reads outside mem. */
int vmm_translate(const struct vmm_physmem *mem, const struct vmm_paging *pg, uint64_t vaddr,
		  uint64_t *paddr, uint64_t *span);

/* Copy between a buffer and guest-linear memory, page by page.  Returns the bytes copied
 * (short at the first unmapped page), or -EFAULT when the first byte is unmapped. */
long vmm_linear_copy(const struct vmm_physmem *mem, const struct vmm_paging *pg, uint64_t vaddr,
		     void *buf, size_t len, int write);

#endif
