/* Loading the kernel ELF into guest RAM at its physical addresses. */
#include "vmm/elf_pvh.h"
#include "vmm/internal.h"

#include "common/common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int vmm_load_kernel(struct vmm *vm, uint32_t *entry)
{
	const char *path = vm->cfg.kernel;
	struct vmm_elf_image img;
	struct stat st;
	char err[200];
	char *data;
	size_t len;
	int ret;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		kp_error("%s: is a directory, not a kernel ELF", path);
		return -EISDIR;
	}
	ret = kp_read_file(path, &data, &len);
	if (ret) {
		kp_error("%s: %s", path, strerror(-ret));
		return ret;
	}
	ret = vmm_elf_parse((const uint8_t *)data, len, &img, err, sizeof(err));
	if (!ret)
		ret = vmm_elf_check_fit(&img, VMM_KERNEL_LOWEST, vm->mem.size, err, sizeof(err));
	if (ret) {
		kp_error("%s: %s", path, err);
		free(data);
		return ret;
	}
	for (unsigned i = 0; i < img.nsegs; i++) {
		const struct vmm_elf_seg *s = &img.segs[i];

		/* RAM is fresh anonymous memory, already zero beyond filesz. */
		memcpy(vm->mem.base + s->paddr, data + s->offset, s->filesz);
		vm->kernel_end = KP_MAX(vm->kernel_end, s->paddr + s->memsz);
	}
	free(data);
	*entry = img.pvh_entry;
	kp_debug("%s: PVH entry 0x%x, %u segments", path, img.pvh_entry, img.nsegs);
	return 0;
}
