/* Loading the kernel into guest RAM: an ELF at its segments' physical addresses, or a bzImage
 * through the Linux boot protocol (linux_boot.c). */
#include "vmm/elf_pvh.h"
#include "vmm/internal.h"

#include "common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* A Linux vmlinux with debug info is hundreds of MB, of which only the PT_LOAD ranges (tens
 * of MB) are needed: the file is mapped for the parser, which reads only headers and notes,
 * and the segments are read with pread straight into guest RAM (the kernel copies from its
 * page cache; no page of the file is faulted into this process). */
static int map_file(int fd, const uint8_t **data, size_t *len)
{
	struct stat st;
	void *p;

	*data = NULL;
	*len = 0;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode) || st.st_size == 0)
		return 0;	/* the parser names what is wrong with an empty or odd file */
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	*data = p;
	*len = (size_t)st.st_size;
	return 0;
}

static int read_range(int fd, uint8_t *dst, uint64_t off, uint64_t len)
{
	while (len) {
		ssize_t n = pread(fd, dst, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;	/* the file shrank under us */
		dst += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

int vmm_load_kernel(struct vmm *vm, struct vmm_create_ctx *c)
{
	const char *path = vm->cfg.kernel;
	struct vmm_elf_image img;
	char err[200];
	const uint8_t *data = NULL;
	size_t len = 0;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	ret = fd < 0 ? -errno : map_file(fd, &data, &len);
	if (ret == -EISDIR) {
		kp_error("%s: is a directory, not a kernel ELF", path);
		goto out;
	}
	if (ret) {
		kp_error("%s: %s", path, strerror(-ret));
		goto out;
	}
	if (data && len >= 4 && memcmp(data, "\177ELF", 4)) {
		/* Not ELF: a bzImage (the Linux boot protocol), or nothing kprof boots. */
		struct vmm_bzimage bz;

		ret = vmm_bzimage_parse(data, len, &bz, err, sizeof(err));
		if (ret == -ENOENT) {
			kp_error("%s: not an ELF file or a bzImage", path);
			ret = -ENOEXEC;
		} else if (ret) {
			kp_error("%s: %s", path, err);
		} else {
			ret = vmm_linux_load(vm, data, len, &bz);
		}
		c->entry = 0;
		goto out;
	}
	ret = vmm_elf_parse(data ? data : (const uint8_t *)"", len, &img, err, sizeof(err));
	if (!ret)
		ret = vmm_elf_check_fit(&img, VMM_KERNEL_LOWEST, vm->mem.size, err, sizeof(err));
	if (ret) {
		kp_error("%s: %s", path, err);
		goto out;
	}
	for (unsigned i = 0; i < img.nsegs; i++) {
		const struct vmm_elf_seg *s = &img.segs[i];

		/* RAM is fresh anonymous memory, already zero beyond filesz. */
		ret = read_range(fd, vm->mem.base + s->paddr, s->offset, s->filesz);
		if (ret) {
			kp_error("%s: %s", path, strerror(-ret));
			goto out;
		}
		vm->kernel_end = KP_MAX(vm->kernel_end, s->paddr + s->memsz);
	}
	c->entry = img.pvh_entry;
	if (img.linux64)
		ret = vmm_linux_elf(vm, img.elf_entry, vm->kernel_end);
	else
		kp_debug("%s: PVH entry 0x%x, %u segments", path, img.pvh_entry, img.nsegs);
out:
	if (data)
		munmap((void *)data, len);
	if (fd >= 0)
		close(fd);
	return ret;
}
