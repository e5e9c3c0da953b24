/* Finding a running Linux kernel's KASLR slide from the target, so that a user need not look it
 * up in the guest's /proc/kallsyms.
 *
 * x86-64 Linux moves its whole image by a multiple of CONFIG_PHYSICAL_ALIGN (2 MiB at least).
 * A vCPU stopped in kernel code has rip = link address + slide for some link address in
 * [_stext, _etext), which leaves a handful of 2 MiB-aligned candidates (text / 2 MiB of them);
 * the right one is where the ELF's own linux_banner ("Linux version 6.1.0-... #1 SMP ...")
 * reads back from the target's memory.  That same test tells a kernel that is not the one the
 * ELF describes (another build): no candidate shows the banner.
 */
#include "profiler/symbols.h"
#include "target/target.h"

#include <errno.h>
#include <string.h>

#define ALIGN (2ull << 20)
/* x86-64 Linux maps its image in [__START_KERNEL_map, + 1 GiB); modules and BPF programs
 * live above, other kernel memory below. */
#define IMAGE_START 0xffffffff80000000ull
#define IMAGE_END 0xffffffffc0000000ull
#define BANNER_BYTES 64

static bool banner_at(struct target *t, int cpu, uint64_t addr, const char *want, size_t len)
{
	char got[BANNER_BYTES];

	return target_read_mem(t, cpu, addr, got, len) == (ssize_t)len && !memcmp(got, want, len);
}

int kaslr_find(struct target *t, const struct symtab *st, uint64_t *offset)
{
	const struct symtab_linux *lx = symtab_linux(st);
	int ncpu = target_cpu_count(t);
	bool kernel_mode = false;

	if (!lx || !lx->text[0] || lx->text[1] <= lx->text[0])
		return -ENOENT;
	uint64_t start = lx->text[0], end = lx->text[1];
	size_t len = strnlen(lx->banner, BANNER_BYTES);

	for (int cpu = 0; cpu < ncpu; cpu++) {
		struct target_regs r;

		/* Only a vCPU in the image's text says where the image is: one in a module
		 * (or BPF program) says nothing, as one in user mode. */
		if (target_get_regs(t, cpu, &r) || (r.cs & 3) || r.rip < IMAGE_START ||
		    r.rip >= IMAGE_END)
			continue;
		kernel_mode = true;
		/* Slides s with start <= rip - s < end, multiples of ALIGN; the kernel only moves
		 * up from its link address, so s >= 0. */
		uint64_t lo = r.rip >= end ? (r.rip - end + ALIGN) & ~(ALIGN - 1) : 0;
		for (uint64_t s = lo; r.rip >= start && s <= r.rip - start; s += ALIGN) {
			if (banner_at(t, cpu, lx->banner_addr + s, lx->banner, len)) {
				*offset = s;
				return 0;
			}
		}
	}
	return kernel_mode ? -ESRCH : -EAGAIN;
}
