/* vmm internal: checking an x86-64 ELF kernel image and finding its PVH entry point. */
#ifndef KPROF_VMM_ELF_PVH_H
#define KPROF_VMM_ELF_PVH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMM_ELF_MAX_SEGS 32

struct vmm_elf_seg {
	uint64_t paddr;		/* where the segment goes in guest-physical memory */
	uint64_t offset;	/* in the file */
	uint64_t filesz, memsz;
};

struct vmm_elf_image {
	uint32_t pvh_entry;	/* XEN_ELFNOTE_PHYS32_ENTRY */
	uint64_t elf_entry;	/* e_entry: startup_64's physical address when linux64 */
	bool linux64;		/* no PVH note but a "Linux" note: the 64-bit boot protocol */
	unsigned nsegs;
	struct vmm_elf_seg segs[VMM_ELF_MAX_SEGS];
};

/* Parse an ELF image held in memory.  On failure returns -ENOEXEC and writes the problem,
 * without the file name, to err ("not an ELF file", "no PVH entry note ..."). */
int vmm_elf_parse(const uint8_t *data, size_t len, struct vmm_elf_image *img, char *err,
		  size_t errlen);

/* Check that every segment fits in guest RAM [lowest, mem_size).  Same error convention. */
int vmm_elf_check_fit(const struct vmm_elf_image *img, uint64_t lowest, uint64_t mem_size,
		      char *err, size_t errlen);

#endif
