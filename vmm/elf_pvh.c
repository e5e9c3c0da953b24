/* ELF checks and the PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY), read with <elf.h> structures
 * only: the image is small and libelf belongs to the profiler's symbol table. */
#include "vmm/boot_image.h"
#include "vmm/elf_pvh.h"

#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#define XEN_ELFNOTE_PHYS32_ENTRY 18

static const char *machine_name(unsigned m)
{
	switch (m) {
	case EM_386:
		return "i386";
	case EM_AARCH64:
		return "aarch64";
	case EM_ARM:
		return "arm";
	case EM_RISCV:
		return "riscv";
	case EM_PPC64:
		return "ppc64";
	case EM_S390:
		return "s390";
	default:
		return NULL;
	}
}

/* Look through one note area for the Xen PVH entry (and whether a "Linux" note is there).
 * Returns 1 found, 0 not, <0 malformed. */
static int scan_notes(const uint8_t *p, uint64_t len, uint32_t *entry, bool *linux_note)
{
	uint64_t off = 0;

	while (len - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;

		memcpy(&nh, p + off, sizeof(nh));
		off += sizeof(nh);
		uint64_t name_sz = ((uint64_t)nh.n_namesz + 3) & ~3ull;
		uint64_t desc_sz = ((uint64_t)nh.n_descsz + 3) & ~3ull;
		if (name_sz > len - off || desc_sz > len - off - name_sz)
			return -1;
		if (nh.n_namesz == 6 && !memcmp(p + off, "Linux", 6))
			*linux_note = true;
		if (nh.n_namesz == 4 && !memcmp(p + off, "Xen", 4) &&
		    nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY) {
			/* The entry is a 32-bit physical address; some kernels emit 8 bytes. */
			if (nh.n_descsz != 4 && nh.n_descsz != 8)
				return -1;
			uint64_t v = 0;
			memcpy(&v, p + off + name_sz, nh.n_descsz);
			if (v > 0xffffffffull)
				return -1;
			*entry = (uint32_t)v;
			return 1;
		}
		off += name_sz + desc_sz;
	}
	return 0;
}

static bool in_file(uint64_t off, uint64_t size, size_t len)
{
	return off <= len && size <= len - off;
}

int vmm_elf_parse(const uint8_t *data, size_t len, struct vmm_elf_image *img, char *err,
		  size_t errlen)
{
	Elf64_Ehdr eh;
	int found = 0, bad_note = 0;
	bool linux_note = false;

	memset(img, 0, sizeof(*img));
	if (len < EI_NIDENT || memcmp(data, ELFMAG, SELFMAG))
		return vmm_image_reject(err, errlen, "not an ELF file");
	if (len >= 20) {
		uint16_t m;
		memcpy(&m, data + 18, 2);	/* e_machine sits at the same offset in ELF32 and ELF64 */
		if (m != EM_X86_64) {
			const char *n = machine_name(m);
			if (n)
				return vmm_image_reject(err, errlen,
							"wrong machine %s (need an x86-64 ELF)", n);
			return vmm_image_reject(err, errlen,
						"wrong machine %u (need an x86-64 ELF)", m);
		}
	}
	if (data[EI_CLASS] != ELFCLASS64)
		return vmm_image_reject(err, errlen, "not a 64-bit ELF file (need an x86-64 ELF)");
	if (data[EI_DATA] != ELFDATA2LSB)
		return vmm_image_reject(err, errlen, "not a little-endian ELF file");
	if (len < sizeof(eh))
		return vmm_image_reject(err, errlen, "truncated ELF header");
	memcpy(&eh, data, sizeof(eh));
	if (eh.e_type != ET_EXEC)
		return vmm_image_reject(err, errlen,
					"no PVH entry note (not a kernel image: ELF type %u is not "
					"an executable)", eh.e_type);
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
	    !in_file(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr), len))
		return vmm_image_reject(err, errlen, "bad or missing program headers");
	img->elf_entry = eh.e_entry;

	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, data + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_NOTE && !found) {
			if (!in_file(ph.p_offset, ph.p_filesz, len))
				return vmm_image_reject(err, errlen,
							"note segment %u lies outside the file", i);
			int r = scan_notes(data + ph.p_offset, ph.p_filesz, &img->pvh_entry,
					   &linux_note);
			if (r < 0)
				bad_note = 1;
			else if (r > 0)
				found = 1;
		}
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ph.p_filesz > ph.p_memsz)
			return vmm_image_reject(err, errlen,
						"segment %u has a file size above its memory size",
						i);
		if (!in_file(ph.p_offset, ph.p_filesz, len))
			return vmm_image_reject(err, errlen,
						"segment %u lies outside the file (truncated?)", i);
		if (ph.p_paddr + ph.p_memsz < ph.p_paddr)
			return vmm_image_reject(err, errlen,
						"segment %u wraps around the address space", i);
		if (img->nsegs == VMM_ELF_MAX_SEGS)
			return vmm_image_reject(err, errlen,
						"more than %d loadable segments", VMM_ELF_MAX_SEGS);
		img->segs[img->nsegs++] = (struct vmm_elf_seg){
			.paddr = ph.p_paddr, .offset = ph.p_offset,
			.filesz = ph.p_filesz, .memsz = ph.p_memsz,
		};
	}
	if (!found && bad_note)
		return vmm_image_reject(err, errlen, "malformed PVH entry note");
	/* A Linux vmlinux without PVH: its e_entry is startup_64's physical address, entered
	 * through the 64-bit boot protocol (as Firecracker boots such an ELF). */
	if (!found && linux_note && eh.e_entry < 0x100000000ull)
		img->linux64 = true;
	else if (!found)
		return vmm_image_reject(err, errlen,
					"no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY) and not a "
					"Linux vmlinux; build the kernel with PVH support");
	if (img->nsegs == 0)
		return vmm_image_reject(err, errlen, "no loadable segments");
	return 0;
}

int vmm_elf_check_fit(const struct vmm_elf_image *img, uint64_t lowest, uint64_t mem_size,
		      char *err, size_t errlen)
{
	for (unsigned i = 0; i < img->nsegs; i++) {
		const struct vmm_elf_seg *s = &img->segs[i];

		if (s->paddr < lowest)
			return vmm_image_reject(err, errlen,
						"segment at 0x%llx lies below 0x%llx, where the "
						"monitor keeps its boot data",
						(unsigned long long)s->paddr,
						(unsigned long long)lowest);
		if (s->paddr + s->memsz > mem_size)
			return vmm_image_reject(err, errlen,
						"segment 0x%llx-0x%llx lies outside guest memory "
						"(%llu MiB; give the guest more RAM)",
						(unsigned long long)s->paddr,
						(unsigned long long)(s->paddr + s->memsz),
						(unsigned long long)(mem_size >> 20));
	}
	if (img->linux64 && (img->elf_entry < lowest || img->elf_entry >= mem_size))
		return vmm_image_reject(err, errlen, "entry 0x%llx lies outside guest memory",
					(unsigned long long)img->elf_entry);
	if (!img->linux64 && (img->pvh_entry < lowest || img->pvh_entry >= mem_size))
		return vmm_image_reject(err, errlen,
					"PVH entry 0x%x lies outside guest memory", img->pvh_entry);
	return 0;
}
