/*
 * The PVH boot ABI, as Xen's public arch-x86/hvm/start_info.h defines it: what a PVH loader
 * (kprof's monitor) hands the kernel it enters (kprof's test kernel reads it back).  Both
 * sides of that interface include this one header; it needs only <stdint.h>, so the
 * freestanding test kernel can.
 */
#ifndef KPROF_ABI_PVH_H
#define KPROF_ABI_PVH_H

#include <stdint.h>

#define HVM_START_MAGIC 0x336ec578u

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;	/* 1: memmap_paddr and memmap_entries are valid */
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;	/* nr_modules struct hvm_modlist_entry */
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	/* version >= 1 */
	uint64_t memmap_paddr;	/* memmap_entries struct hvm_memmap_entry */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;		/* E820 types: 1 RAM, 2 reserved */
	uint32_t reserved;
};

#endif
