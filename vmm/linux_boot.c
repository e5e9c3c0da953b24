/* Booting a bzImage with the Linux x86 64-bit boot protocol, as Firecracker and
 * cloud-hypervisor do: the protected-mode kernel at its preferred address, the zero page
 * (boot_params) with the setup header, e820 map, command line, ramdisk and ACPI RSDP, and the
 * BSP entering startup_64 (load address + 0x200) in long mode, on identity page tables and a
 * GDT the monitor builds, %rsi pointing at the zero page.  The header checks and the zero
 * page's bytes are pure code in bzimage.c. */
#include "vmm/boot_image.h"
#include "vmm/internal.h"

#include "common/common.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

/* Guest-physical layout below 1 MiB for this protocol (Firecracker's), besides the command
 * line and ACPI tables boot_params.c writes for both protocols. */
#define BOOT_GDT_ADDR 0x500ull
#define ZERO_PAGE_ADDR 0x7000ull
#define BOOT_STACK 0x8ff0ull
#define PML4_ADDR 0x9000ull
#define PDPT_ADDR 0xa000ull
#define PD_ADDR 0xb000ull	/* four page directories: 0-4 GiB in 2 MiB pages */
#define ENTRY_64_OFFSET 0x200

#define PTE_P 1ull
#define PTE_RW 2ull
#define PTE_PS (1ull << 7)
#define CR0_PE 1ull
#define CR0_ET (1ull << 4)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

int vmm_linux_load(struct vmm *vm, const uint8_t *data, size_t len, const struct vmm_bzimage *img)
{
	uint64_t align = img->kernel_alignment ? img->kernel_alignment : 0x200000;
	uint64_t load = (img->pref_address + align - 1) & ~(align - 1);

	(void)len;
	if (load < VMM_KERNEL_LOWEST)
		load = VMM_KERNEL_LOWEST;
	if (load + img->init_size > vm->mem.size) {
		kp_error("%s: the kernel needs %llu MiB of RAM from 0x%llx (init_size), more than "
			 "the guest's %llu MiB", vm->cfg.kernel,
			 (unsigned long long)((load + img->init_size + (1 << 20) - 1) >> 20),
			 (unsigned long long)load, (unsigned long long)(vm->mem.size >> 20));
		return -EINVAL;
	}
	if (img->cmdline_size && strlen(vm->cmdline) > img->cmdline_size) {
		kp_error("kernel command line: %zu bytes, the kernel takes at most %u", strlen(vm->cmdline),
			 img->cmdline_size);
		return -EINVAL;
	}
	memcpy(vm->mem.base + load, data + img->kernel_offset, img->kernel_size);
	/* The zero page starts from the file's header, kept until boot_params.c writes it. */
	memcpy(vm->linux_boot.hdr, data, KP_MIN((size_t)img->hdr_end, sizeof(vm->linux_boot.hdr)));
	vm->linux_boot.img = *img;
	vm->linux_boot.on = true;
	vm->linux_boot.entry = load + ENTRY_64_OFFSET;
	/* The decompressor works in [load, load + init_size): the initrd stays above it, and
	 * below the header's initrd_addr_max. */
	vm->kernel_end = load + img->init_size;
	vm->initrd_addr_max = img->initrd_addr_max;
	kp_debug("%s: bzImage protocol %u.%02u, %llu bytes at 0x%llx, init_size 0x%x",
		 vm->cfg.kernel, img->version >> 8, img->version & 0xff,
		 (unsigned long long)img->kernel_size, (unsigned long long)load, img->init_size);
	return 0;
}

int vmm_linux_elf(struct vmm *vm, uint64_t entry, uint64_t kernel_end)
{
	uint64_t size = kernel_end - VMM_KERNEL_LOWEST;

	vmm_linux_elf_header(vm->linux_boot.hdr, size > UINT32_MAX ? UINT32_MAX : (uint32_t)size,
			     &vm->linux_boot.img);
	if (vm->linux_boot.img.cmdline_size && strlen(vm->cmdline) > vm->linux_boot.img.cmdline_size) {
		kp_error("kernel command line: %zu bytes, the kernel takes at most %u", strlen(vm->cmdline),
			 vm->linux_boot.img.cmdline_size);
		return -EINVAL;
	}
	vm->linux_boot.on = true;
	vm->linux_boot.entry = entry;
	vm->initrd_addr_max = vm->linux_boot.img.initrd_addr_max;
	kp_debug("%s: Linux ELF without PVH, 64-bit entry 0x%llx", vm->cfg.kernel,
		 (unsigned long long)entry);
	return 0;
}

static void put64(struct vmm *vm, uint64_t pa, uint64_t v)
{
	memcpy(vm->mem.base + pa, &v, sizeof(v));
}

int vmm_linux_write_zero_page(struct vmm *vm, uint64_t rsdp, const struct vmm_e820 *map,
			      unsigned nmap)
{
	struct vmm_zero_page_args a = {
		.cmdline_addr = VMM_CMDLINE_ADDR,
		.cmdline_len = (uint32_t)strlen(vm->cmdline),
		.ramdisk_addr = (uint32_t)vm->initrd.addr,
		.ramdisk_size = (uint32_t)vm->initrd.size,
		.rsdp_addr = rsdp,
		.ne820 = nmap,
		.e820 = map,
	};
	static const uint64_t gdt[] = {
		0, 0,
		0x00af9b000000ffffull,	/* 0x10 __BOOT_CS: 64-bit code */
		0x00cf93000000ffffull,	/* 0x18 __BOOT_DS: flat data */
	};

	vmm_bzimage_zero_page(vm->linux_boot.hdr, &vm->linux_boot.img, &a,
			      vm->mem.base + ZERO_PAGE_ADDR);
	memcpy(vm->mem.base + BOOT_GDT_ADDR, gdt, sizeof(gdt));
	/* Identity map of 0-4 GiB: the kernel, the zero page and the command line must be. */
	put64(vm, PML4_ADDR, PDPT_ADDR | PTE_P | PTE_RW);
	for (uint64_t i = 0; i < 4; i++) {
		put64(vm, PDPT_ADDR + 8 * i, (PD_ADDR + 4096 * i) | PTE_P | PTE_RW);
		for (uint64_t j = 0; j < 512; j++)
			put64(vm, PD_ADDR + 4096 * i + 8 * j,
			      ((i * 512 + j) << 21) | PTE_P | PTE_RW | PTE_PS);
	}
	return 0;
}

void vmm_flat_segments(struct kvm_sregs *sregs, bool long_mode)
{
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = 0x10, .type = 0xb, .present = 1,
		.dpl = 0, .db = !long_mode, .s = 1, .l = long_mode, .g = 1,
	};
	struct kvm_segment data = code;

	data.selector = 0x18;
	data.type = 0x3;
	data.db = 1;
	data.l = 0;
	sregs->cs = code;
	sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = data;
	sregs->tr.type = 0xb;	/* busy TSS: VM entry insists on a usable TR */
	sregs->tr.present = 1;
	sregs->tr.limit = 0x67;
	sregs->tr.s = 0;
}

int vmm_linux_boot_regs(struct vmm_vcpu *vcpu)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	/* __BOOT_CS 0x10 (64-bit code) and __BOOT_DS 0x18, matching the GDT written above. */
	vmm_flat_segments(&sregs, true);
	sregs.gdt.base = BOOT_GDT_ADDR;
	sregs.gdt.limit = 4 * 8 - 1;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cr3 = PML4_ADDR;
	sregs.cr4 = CR4_PAE;
	sregs.cr0 = CR0_PE | CR0_ET | CR0_PG;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	memset(&regs, 0, sizeof(regs));
	regs.rip = vcpu->vm->linux_boot.entry;
	regs.rsi = ZERO_PAGE_ADDR;
	regs.rsp = regs.rbp = BOOT_STACK;
	regs.rflags = 0x2;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}
