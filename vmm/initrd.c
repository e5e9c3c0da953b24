/* --initrd: the initial RAM disk (an initramfs cpio for Linux), placed high in guest RAM.
 *
 * Two steps, timed apart in the boot profile as the rootfs phases of a boot are: reading the
 * file (open, size checks, a populated read-only mapping, so the file's pages are in memory)
 * and writing it to guest memory (one copy into RAM).  It goes as high as the boot protocol
 * allows, page-aligned, below 4 GiB and above the kernel, where QEMU, kvmtool and Firecracker
 * put it too; the kernel learns of it through PVH module 0 (boot_params.c) or the zero page's
 * ramdisk_image/ramdisk_size (bzimage.c). */
#include "vmm/boot_image.h"
#include "vmm/internal.h"

#include "common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE 4096ull
#define BELOW_4G 0x100000000ull

int vmm_initrd_place(uint64_t ram_end, uint64_t kernel_end, uint64_t addr_max, uint64_t size,
		     uint64_t *addr)
{
	uint64_t top = ram_end;

	if (addr_max && addr_max < UINT64_MAX && top > addr_max + 1)
		top = addr_max + 1;
	if (top > BELOW_4G)
		top = BELOW_4G;
	kernel_end = (kernel_end + PAGE - 1) & ~(PAGE - 1);
	if (!size || size > top || top - size < kernel_end)
		return -E2BIG;
	*addr = (top - size) & ~(PAGE - 1);
	if (*addr < kernel_end)
		return -E2BIG;
	return 0;
}

int vmm_initrd_read(struct vmm *vm, struct vmm_create_ctx *c)
{
	const char *path = vm->cfg.initrd;
	struct stat st;
	int fd, ret;
	void *p;

	(void)c;
	if (!path)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		kp_error("initrd %s: %s", path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		kp_error("initrd %s: not a regular file", path);
		goto out;
	}
	if (st.st_size == 0) {
		kp_error("initrd %s: the file is empty", path);
		ret = -EINVAL;
		goto out;
	}
	if ((uint64_t)st.st_size > vm->mem.size) {
		kp_error("initrd %s: %llu bytes do not fit in %llu MiB of guest RAM", path,
			 (unsigned long long)st.st_size, (unsigned long long)(vm->mem.size >> 20));
		ret = -EINVAL;
		goto out;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (p == MAP_FAILED) {
		ret = -errno;
		kp_error("initrd %s: %s", path, strerror(-ret));
		goto out;
	}
	vm->initrd.map = p;
	vm->initrd.size = (uint64_t)st.st_size;
	ret = 0;
out:
	close(fd);
	return ret;
}

int vmm_initrd_write(struct vmm *vm, struct vmm_create_ctx *c)
{
	(void)c;
	if (!vm->initrd.map)
		return 0;
	if (vmm_initrd_place(vm->mem.size, vm->kernel_end, vm->initrd_addr_max, vm->initrd.size,
			     &vm->initrd.addr)) {
		kp_error("initrd %s: %llu bytes do not fit in guest RAM between the kernel's end "
			 "(0x%llx) and 0x%llx; give the guest more RAM", vm->cfg.initrd,
			 (unsigned long long)vm->initrd.size, (unsigned long long)vm->kernel_end,
			 (unsigned long long)KP_MIN(vm->mem.size, BELOW_4G));
		return -EINVAL;
	}
	memcpy(vm->mem.base + vm->initrd.addr, vm->initrd.map, vm->initrd.size);
	/* The guest has its copy; the file's pages are not needed any more. */
	munmap(vm->initrd.map, vm->initrd.size);
	vm->initrd.map = NULL;
	kp_debug("initrd: %llu bytes at 0x%llx", (unsigned long long)vm->initrd.size,
		 (unsigned long long)vm->initrd.addr);
	return 0;
}

void vmm_initrd_release(struct vmm *vm)
{
	if (vm->initrd.map)
		munmap(vm->initrd.map, vm->initrd.size);
	vm->initrd.map = NULL;
}
