/* The Linux x86 boot protocol's data: a bzImage's setup header, checked, and the zero page
 * (struct boot_params) a 64-bit loader hands to the kernel.  Offsets are those of
 * Documentation/arch/x86/boot.rst and zero-page.rst; the setup header sits at the same offset
 * (0x1f1) in the file and in the zero page.  Pure code on buffers (unit-tested, fuzzed). */
#include "vmm/boot_image.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Setup header fields (offsets in the file and in the zero page). */
#define HDR_START 0x1f1
#define SETUP_SECTS 0x1f1
#define BOOT_FLAG 0x1fe
#define JUMP 0x200		/* its second byte is the header's length after 0x202 */
#define HEADER 0x202
#define VERSION 0x206
#define TYPE_OF_LOADER 0x210
#define LOADFLAGS 0x211
#define RAMDISK_IMAGE 0x218
#define RAMDISK_SIZE 0x21c
#define CMD_LINE_PTR 0x228
#define INITRD_ADDR_MAX 0x22c
#define KERNEL_ALIGNMENT 0x230
#define XLOADFLAGS 0x236
#define CMDLINE_SIZE 0x238
#define PREF_ADDRESS 0x258
#define INIT_SIZE 0x260
#define HDR_MIN_END 0x264	/* through init_size: every field this loader reads */
/* boot_params outside the setup header. */
#define ACPI_RSDP_ADDR 0x070
#define E820_ENTRIES 0x1e8
#define E820_TABLE 0x2d0
#define E820_MAX 128

#define HDRS 0x53726448u	/* "HdrS" */
#define BOOT_FLAG_MAGIC 0xaa55
#define MIN_VERSION 0x020c	/* 2.12: xloadflags, the 64-bit entry */
#define XLF_KERNEL_64 (1u << 0)
#define LOADED_HIGH (1u << 0)
#define LOADER_UNDEFINED 0xff
/* The header a loader writes for an ELF vmlinux, which has none: protocol 2.15's fields. */
#define LINUX_ELF_VERSION 0x020f
#define HDR_END_SYNTH 0x26c

static uint32_t rd(const uint8_t *p, unsigned off, unsigned n)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint32_t)p[off + i] << (8 * i);
	return v;
}

static uint64_t rd64(const uint8_t *p, unsigned off)
{
	return rd(p, off, 4) | (uint64_t)rd(p, off + 4, 4) << 32;
}

static void wr(uint8_t *p, unsigned off, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[off + i] = (uint8_t)(v >> (8 * i));
}

int vmm_image_reject(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -ENOEXEC;
}

int vmm_bzimage_parse(const uint8_t *data, size_t len, struct vmm_bzimage *img, char *err,
		      size_t errlen)
{
	unsigned sects;

	memset(img, 0, sizeof(*img));
	if (errlen)
		err[0] = 0;
	if (len < HEADER + 4 || rd(data, HEADER, 4) != HDRS)
		return -ENOENT;
	img->hdr_end = HEADER + data[JUMP + 1];
	if (len < HDR_MIN_END || img->hdr_end < HDR_MIN_END)
		return vmm_image_reject(err, errlen,
					"truncated bzImage setup header (%zu bytes of file, "
					"header to 0x%x; the fields up to init_size end at 0x%x)",
					len,
					img->hdr_end, HDR_MIN_END);
	if (img->hdr_end > len)
		return vmm_image_reject(err, errlen,
					"truncated bzImage setup header (it ends at 0x%x, the "
					"file at 0x%zx)", img->hdr_end, len);
	if (rd(data, BOOT_FLAG, 2) != BOOT_FLAG_MAGIC)
		return vmm_image_reject(err, errlen, "bzImage boot flag is 0x%04x, not 0xaa55",
					rd(data, BOOT_FLAG, 2));
	img->version = (uint16_t)rd(data, VERSION, 2);
	if (img->version < MIN_VERSION)
		return vmm_image_reject(err, errlen,
					"bzImage boot protocol %u.%02u is older than 2.12 (no "
					"64-bit entry point)",
					img->version >> 8, img->version & 0xff);
	img->xloadflags = (uint16_t)rd(data, XLOADFLAGS, 2);
	if (!(img->xloadflags & XLF_KERNEL_64))
		return vmm_image_reject(err, errlen,
					"bzImage has no 64-bit entry point (XLF_KERNEL_64 is "
					"not set in xloadflags 0x%x)", img->xloadflags);
	if (!(data[LOADFLAGS] & LOADED_HIGH))
		return vmm_image_reject(err, errlen,
					"bzImage is a zImage (loaded low), not loadable at 1 MiB");
	sects = data[SETUP_SECTS] ? data[SETUP_SECTS] : 4;
	img->setup_size = (sects + 1) * 512;
	if (img->setup_size >= len)
		return vmm_image_reject(err, errlen,
					"truncated bzImage: %u bytes of setup and no "
					"protected-mode kernel after them (the file has %zu)",
					img->setup_size, len);
	img->kernel_offset = img->setup_size;
	img->kernel_size = len - img->setup_size;
	img->pref_address = rd64(data, PREF_ADDRESS);
	img->init_size = rd(data, INIT_SIZE, 4);
	img->kernel_alignment = rd(data, KERNEL_ALIGNMENT, 4);
	img->initrd_addr_max = rd(data, INITRD_ADDR_MAX, 4);
	img->cmdline_size = rd(data, CMDLINE_SIZE, 4);
	if (!img->pref_address)
		img->pref_address = 0x100000;	/* the 2.x default, code32_start's */
	/* init_size counts from the load address; never less than the kernel itself. */
	if (img->init_size < img->kernel_size)
		img->init_size = img->kernel_size > UINT32_MAX ? UINT32_MAX : (uint32_t)img->kernel_size;
	return 0;
}

void vmm_bzimage_zero_page(const uint8_t *data, const struct vmm_bzimage *img,
			   const struct vmm_zero_page_args *a, uint8_t zp[VMM_ZERO_PAGE_SIZE])
{
	unsigned n = a->ne820 < E820_MAX ? a->ne820 : E820_MAX;

	memset(zp, 0, VMM_ZERO_PAGE_SIZE);
	/* The kernel reads its own header back from here, so it goes in as the file has it. */
	memcpy(zp + HDR_START, data + HDR_START, img->hdr_end - HDR_START);
	zp[TYPE_OF_LOADER] = LOADER_UNDEFINED;
	wr(zp, CMD_LINE_PTR, a->cmdline_addr, 4);
	wr(zp, RAMDISK_IMAGE, a->ramdisk_addr, 4);
	wr(zp, RAMDISK_SIZE, a->ramdisk_size, 4);
	wr(zp, ACPI_RSDP_ADDR, a->rsdp_addr, 8);
	zp[E820_ENTRIES] = (uint8_t)n;
	for (unsigned i = 0; i < n; i++) {
		wr(zp, E820_TABLE + 20 * i, a->e820[i].addr, 8);
		wr(zp, E820_TABLE + 20 * i + 8, a->e820[i].size, 8);
		wr(zp, E820_TABLE + 20 * i + 16, a->e820[i].type, 4);
	}
}

void vmm_linux_elf_header(uint8_t hdr[VMM_LINUX_HDR_BYTES], uint32_t init_size,
			  struct vmm_bzimage *img)
{
	memset(hdr, 0, VMM_LINUX_HDR_BYTES);
	memset(img, 0, sizeof(*img));
	wr(hdr, BOOT_FLAG, BOOT_FLAG_MAGIC, 2);
	hdr[JUMP + 1] = HDR_END_SYNTH - HEADER;
	wr(hdr, HEADER, HDRS, 4);
	wr(hdr, VERSION, LINUX_ELF_VERSION, 2);
	hdr[LOADFLAGS] = LOADED_HIGH;
	wr(hdr, INITRD_ADDR_MAX, 0x7fffffff, 4);
	wr(hdr, KERNEL_ALIGNMENT, 0x200000, 4);
	wr(hdr, XLOADFLAGS, XLF_KERNEL_64, 2);
	wr(hdr, CMDLINE_SIZE, 2047, 4);
	wr(hdr, INIT_SIZE, init_size, 4);
	img->version = LINUX_ELF_VERSION;
	img->init_size = init_size;
	img->kernel_alignment = 0x200000;
	img->initrd_addr_max = 0x7fffffff;
	img->cmdline_size = 2047;
	img->xloadflags = XLF_KERNEL_64;
	img->hdr_end = HDR_END_SYNTH;
}
