/* libFuzzer: any non-ELF file given to `kprof run` -> the bzImage setup-header checks and, when
 * they pass, the zero page built from it.  Nothing may be read outside the buffer (ASan), and
 * an accepted image's kernel must lie inside the file. */
#include "vmm/boot_image.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct vmm_e820 map[] = { { 0, 0xa0000, 1 }, { 0x100000, 0x7f00000, 1 } };
	struct vmm_zero_page_args a = { .cmdline_addr = 0x20000, .ne820 = 2, .e820 = map };
	struct vmm_bzimage img;
	uint8_t zp[VMM_ZERO_PAGE_SIZE];
	char err[200];
	uint8_t *copy = malloc(size ? size : 1);	/* exact size: a read past the end shows */

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (vmm_bzimage_parse(copy, size, &img, err, sizeof(err)) == 0) {
		if (img.kernel_offset + img.kernel_size != size || img.hdr_end > size ||
		    img.init_size < img.kernel_size)
			abort();
		vmm_bzimage_zero_page(copy, &img, &a, zp);
	}
	free(copy);
	return 0;
}
