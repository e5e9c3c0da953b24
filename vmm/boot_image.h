/* vmm internal: the pure parts of loading a kernel and an initrd (unit-tested, fuzzed): where
 * the initrd goes, and the Linux x86 boot protocol's setup header of a bzImage. */
#ifndef KPROF_VMM_BOOT_IMAGE_H
#define KPROF_VMM_BOOT_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* The initrd's guest-physical address: as high as possible below ram_end, 4 GiB and
 * addr_max + 1 (0: no limit), page-aligned, wholly above kernel_end.  -E2BIG when it does not
 * fit there. */
int vmm_initrd_place(uint64_t ram_end, uint64_t kernel_end, uint64_t addr_max, uint64_t size,
		     uint64_t *addr);

#endif
