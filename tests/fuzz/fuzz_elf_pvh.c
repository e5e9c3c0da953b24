/* libFuzzer: any file given to `kprof run` -> the ELF/PVH checks and the fit check.  The
 * parser must reject or accept without reading outside the buffer (ASan watches). */
#include "vmm/elf_pvh.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmm_elf_image img;
	char err[200];
	/* An exact-size copy, so a read one byte past the end is caught. */
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (vmm_elf_parse(copy, size, &img, err, sizeof(err)) == 0) {
		vmm_elf_check_fit(&img, 0x100000, 128u << 20, err, sizeof(err));
		for (unsigned i = 0; i < img.nsegs; i++)
			if (img.segs[i].offset + img.segs[i].filesz > size)
				abort();	/* an accepted segment must lie inside the file */
	}
	free(copy);
	return 0;
}
