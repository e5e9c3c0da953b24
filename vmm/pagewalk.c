/* Guest page-table walk: 32-bit, PAE, 4-level and 5-level paging, large pages, paging off.
 *
 * Every table read is bounds-checked against guest RAM, so a bogus CR3 or entry from a
 * misbehaving guest (or a debugger asking for any address) can never make us read host memory
 * outside the guest. */
#include "vmm/pagewalk.h"

#include <errno.h>
#include <string.h>

#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LMA (1ull << 10)

#define PTE_P 1ull
#define PTE_PS (1ull << 7)
#define PTE_ADDR 0x000ffffffffff000ull

static int read_entry(const struct vmm_physmem *mem, uint64_t pa, unsigned size, uint64_t *out)
{
	uint32_t v32;

	if (pa > mem->size || mem->size - pa < size)
		return -EFAULT;
	if (size == 4) {
		memcpy(&v32, mem->base + pa, 4);
		*out = v32;
	} else {
		memcpy(out, mem->base + pa, 8);
	}
	return 0;
}

static int finish(uint64_t base, uint64_t page_size, uint64_t vaddr, uint64_t *paddr,
		  uint64_t *span)
{
	uint64_t off = vaddr & (page_size - 1);

	*paddr = base + off;
	*span = page_size - off;
	return 0;
}

/* 32-bit paging: two levels of 1024 four-byte entries, 4 MiB pages with CR4.PSE. */
static int walk32(const struct vmm_physmem *mem, const struct vmm_paging *pg, uint64_t vaddr,
		  uint64_t *paddr, uint64_t *span)
{
	uint64_t pde, pte;

	if (vaddr > 0xffffffffull)
		return -EFAULT;
	if (read_entry(mem, (pg->cr3 & 0xfffff000ull) + ((vaddr >> 22) & 0x3ff) * 4, 4, &pde) ||
	    !(pde & PTE_P))
		return -EFAULT;
	if ((pde & PTE_PS) && (pg->cr4 & CR4_PSE)) {
		/* PSE-36: bits 13..20 of the entry are physical bits 32..39. */
		uint64_t base = (pde & 0xffc00000ull) | ((pde & 0x1fe000ull) << 19);
		return finish(base, 4ull << 20, vaddr, paddr, span);
	}
	if (read_entry(mem, (pde & 0xfffff000ull) + ((vaddr >> 12) & 0x3ff) * 4, 4, &pte) ||
	    !(pte & PTE_P))
		return -EFAULT;
	return finish(pte & 0xfffff000ull, 4096, vaddr, paddr, span);
}

/* PAE and long-mode paging: 512 eight-byte entries per level; PAE's top level has 4. */
static int walk64(const struct vmm_physmem *mem, const struct vmm_paging *pg, uint64_t vaddr,
		  uint64_t *paddr, uint64_t *span)
{
	unsigned levels, shift;
	uint64_t table, entry;

	if (pg->efer & EFER_LMA) {
		levels = (pg->cr4 & CR4_LA57) ? 5 : 4;
		unsigned bits = levels == 5 ? 57 : 48;
		/* Non-canonical addresses are not mapped by definition. */
		int64_t sext = (int64_t)(vaddr << (64 - bits)) >> (64 - bits);
		if ((uint64_t)sext != vaddr)
			return -EFAULT;
		table = pg->cr3 & PTE_ADDR;
	} else {
		if (vaddr > 0xffffffffull)
			return -EFAULT;
		levels = 3;
		table = pg->cr3 & 0xffffffe0ull;
		/* The PDPT has four entries indexed by bits 30..31. */
		if (read_entry(mem, table + ((vaddr >> 30) & 3) * 8, 8, &entry) || !(entry & PTE_P))
			return -EFAULT;
		table = entry & PTE_ADDR;
		levels = 2;
	}
	shift = 12 + 9 * (levels - 1);
	for (unsigned l = levels; l >= 1; l--, shift -= 9) {
		if (read_entry(mem, table + ((vaddr >> shift) & 0x1ff) * 8, 8, &entry) ||
		    !(entry & PTE_P))
			return -EFAULT;
		if (l == 1)
			return finish(entry & PTE_ADDR, 4096, vaddr, paddr, span);
		/* PS marks a 1 GiB page at the PDPT level and a 2 MiB page at the PD level. */
		if ((entry & PTE_PS) && (shift == 21 || shift == 30)) {
			uint64_t size = 1ull << shift;
			return finish(entry & PTE_ADDR & ~(size - 1), size, vaddr, paddr, span);
		}
		table = entry & PTE_ADDR;
	}
	return -EFAULT;
}

int vmm_translate(const struct vmm_physmem *mem, const struct vmm_paging *pg, uint64_t vaddr,
		  uint64_t *paddr, uint64_t *span)
{
	int ret;

	if (!(pg->cr0 & CR0_PG)) {
		/* Paging off: linear = physical (32-bit in protected mode, but a debugger may ask
		 * for any physical address below the RAM size). */
		ret = finish(vaddr & ~0xfffull, 4096, vaddr, paddr, span);
	} else if (!(pg->cr4 & CR4_PAE)) {
		ret = walk32(mem, pg, vaddr, paddr, span);
	} else {
		ret = walk64(mem, pg, vaddr, paddr, span);
	}
	if (ret)
		return ret;
	if (*paddr >= mem->size)
		return -EFAULT;
	if (*span > mem->size - *paddr)
		*span = mem->size - *paddr;
	return 0;
}

long vmm_linear_copy(const struct vmm_physmem *mem, const struct vmm_paging *pg, uint64_t vaddr,
		     void *buf, size_t len, int write)
{
	size_t done = 0;

	while (done < len) {
		uint64_t pa, span;

		if (vmm_translate(mem, pg, vaddr + done, &pa, &span))
			break;
		size_t n = (span < len - done ? (size_t)span : len - done);
		if (write)
			memcpy(mem->base + pa, (const uint8_t *)buf + done, n);
		else
			memcpy((uint8_t *)buf + done, mem->base + pa, n);
		done += n;
		if (vaddr + done < vaddr)	/* wrapped around the address space */
			break;
	}
	if (done == 0 && len > 0)
		return -EFAULT;
	return (long)done;
}
