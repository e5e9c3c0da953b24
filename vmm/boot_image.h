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

/* Why a kernel image is refused, written into err (errlen bytes): returns -ENOEXEC.  The
 * bzImage and ELF checks (elf_pvh.c) both answer this way. */
int vmm_image_reject(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- the Linux x86 boot protocol (Documentation/arch/x86/boot.rst) ---- */
#define VMM_ZERO_PAGE_SIZE 4096u

struct vmm_bzimage {
	uint16_t version;		/* boot protocol, e.g. 0x020f */
	uint32_t setup_size;		/* bytes before the protected-mode kernel */
	uint64_t kernel_offset, kernel_size;	/* the protected-mode kernel in the file */
	uint64_t pref_address;		/* where it wants to be loaded */
	uint32_t init_size;		/* memory it needs from there until it runs */
	uint32_t kernel_alignment;
	uint32_t initrd_addr_max;
	uint32_t cmdline_size;		/* longest command line, without the NUL */
	uint16_t xloadflags;
	uint32_t hdr_end;		/* the setup header is bytes [0x1f1, hdr_end) of the file */
};

/* Check a bzImage's setup header: "HdrS", boot flag 0xaa55, protocol >= 2.12, a 64-bit entry
 * point (XLF_KERNEL_64), a protected-mode kernel after the setup sectors.  -ENOEXEC with err
 * saying what is wrong; -ENOENT (err empty) when the data is no bzImage at all (no "HdrS"). */
int vmm_bzimage_parse(const uint8_t *data, size_t len, struct vmm_bzimage *img, char *err,
		      size_t errlen);

struct vmm_e820 {
	uint64_t addr, size;
	uint32_t type;		/* 1 RAM, 2 reserved */
};

struct vmm_zero_page_args {
	uint32_t cmdline_addr, cmdline_len;	/* len without the NUL */
	uint32_t ramdisk_addr, ramdisk_size;	/* 0 0: none */
	uint64_t rsdp_addr;
	unsigned ne820;
	const struct vmm_e820 *e820;
};

/* A setup header for an ELF vmlinux, which carries none (as Firecracker writes one): boot
 * flag, "HdrS", protocol 2.15, LOADED_HIGH, XLF_KERNEL_64, the usual initrd_addr_max,
 * alignment and command-line size, and init_size; img describes it for vmm_bzimage_zero_page. */
#define VMM_LINUX_HDR_BYTES 0x302
void vmm_linux_elf_header(uint8_t hdr[VMM_LINUX_HDR_BYTES], uint32_t init_size,
			  struct vmm_bzimage *img);

/* Build boot_params (the zero page) for the 64-bit entry: the file's setup header, loader
 * type 0xff (undefined), command line, ramdisk, e820 table and ACPI RSDP. */
void vmm_bzimage_zero_page(const uint8_t *data, const struct vmm_bzimage *img,
			   const struct vmm_zero_page_args *a, uint8_t zp[VMM_ZERO_PAGE_SIZE]);

#endif
