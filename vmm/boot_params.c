/* The PVH boot information: hvm_start_info (version 1) with command line, E820-style memory
 * map and the RSDP address, as Xen's public arch-x86/hvm/start_info.h defines it. */
#include "vmm/internal.h"

#include "abi/pvh.h"

#include "common/common.h"

#include <errno.h>
#include <string.h>

enum { E820_RAM = 1, E820_RESERVED = 2 };

int vmm_write_boot_params(struct vmm *vm, struct vmm_create_ctx *c)
{
	struct hvm_start_info si;
	struct hvm_memmap_entry map[3];
	struct vmm_e820 e820[3];
	uint64_t rsdp;
	size_t cl = strlen(vm->cmdline);
	int ret;

	(void)c;
	ret = vmm_acpi_write(vm, VMM_ACPI_ADDR, &rsdp);
	if (ret) {
		kp_error("ACPI tables do not fit below 1 MiB (%d vCPUs)", vm->ncpus);
		return ret;
	}
	memcpy(vm->mem.base + VMM_CMDLINE_ADDR, vm->cmdline, cl + 1);

	e820[0] = (struct vmm_e820){ .addr = 0, .size = VMM_LOW_RAM_END, .type = E820_RAM };
	/* VGA hole and BIOS area; the ACPI tables live at its top, where Linux also scans. */
	e820[1] = (struct vmm_e820){ .addr = VMM_LOW_RAM_END,
				     .size = VMM_KERNEL_LOWEST - VMM_LOW_RAM_END,
				     .type = E820_RESERVED };
	e820[2] = (struct vmm_e820){ .addr = VMM_KERNEL_LOWEST,
				     .size = vm->mem.size - VMM_KERNEL_LOWEST, .type = E820_RAM };
	if (vm->linux_boot.on)
		return vmm_linux_write_zero_page(vm, rsdp, e820, KP_ARRAY_SIZE(e820));
	for (size_t i = 0; i < KP_ARRAY_SIZE(map); i++)
		map[i] = (struct hvm_memmap_entry){ .addr = e820[i].addr, .size = e820[i].size,
						    .type = e820[i].type };
	memcpy(vm->mem.base + VMM_MEMMAP_ADDR, map, sizeof(map));

	memset(&si, 0, sizeof(si));
	si.magic = HVM_START_MAGIC;
	si.version = 1;
	si.cmdline_paddr = VMM_CMDLINE_ADDR;
	si.rsdp_paddr = rsdp;
	si.memmap_paddr = VMM_MEMMAP_ADDR;
	si.memmap_entries = KP_ARRAY_SIZE(map);
	if (vm->initrd.size) {
		/* Module 0 is the initrd, as Linux's PVH entry and QEMU read it. */
		struct hvm_modlist_entry mod = { .paddr = vm->initrd.addr, .size = vm->initrd.size };

		memcpy(vm->mem.base + VMM_MODLIST_ADDR, &mod, sizeof(mod));
		si.nr_modules = 1;
		si.modlist_paddr = VMM_MODLIST_ADDR;
	}
	memcpy(vm->mem.base + VMM_START_INFO_ADDR, &si, sizeof(si));
	return 0;
}
