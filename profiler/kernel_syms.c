/* Everything needed to name a kernel's stacks, loaded once from its ELF: symbols, CFI,
 * optionally inlined functions, and an unwinder over them.  `kprof collect` (in-process or
 * --remote) and the gdb stub's `monitor stacks` share it. */
#include "profiler/btf.h"
#include "profiler/profiler_internal.h"
#include "profiler/sampler.h"
#include "profiler/symbols.h"

#include <errno.h>
#include <stdlib.h>

/* The vmlinux's BTF, parsed the first time tasks or modules need it. */
static int need_btf(struct kernel_syms *k, const char *path)
{
	return k->btf ? 0 : btf_from_symtab(k->st, path, NULL, &k->btf);
}

/* --modules DIR: a Linux kernel's loaded modules, their layouts from the vmlinux's BTF. */
static int open_modules(struct kernel_syms *k, const char *path, const char *dir)
{
	int rc;

	if (!k->orc)
		return kp_fail(-EINVAL, "--modules: %s is not a Linux kernel with ORC tables", path);
	if ((rc = need_btf(k, path)))
		return rc == -ENOENT ? kp_fail(rc, "--modules: %s has no BTF (.BTF), which kprof "
					       "reads struct module's layout from", path) : rc;
	rc = modules_open(dir, k->st, k->btf, orc_format(k->orc), &k->mods);
	if (!rc)
		symbolizer_set_modules(k->sym, k->mods);
	return rc;
}

int kernel_syms_open(const char *path, const struct kernel_syms_opts *o, struct kernel_syms **out)
{
	struct kernel_syms *k = calloc(1, sizeof(*k));
	int rc;

	*out = NULL;
	if (!k)
		return -ENOMEM;
	rc = symtab_open(path, &k->st);
	if (rc)
		goto fail;
	symtab_set_offset(k->st, o->offset);
	/* A Linux kernel's ORC tables cover all of its text (objtool checks every instruction),
	 * so its DWARF call-frame information, which libdwarf would read the whole of a
	 * half-gigabyte vmlinux to get at, is not loaded at all. */
	rc = orc_open(k->st, path, &k->orc);
	if (!rc && !orc_count(k->orc))
		rc = cfi_open(path, &k->cfi);
	if (!rc)
		rc = symbolizer_new(k->st, &k->sym);
	if (rc)
		goto fail;
	if (!k->orc && !cfi_fde_count(k->cfi))
		kp_warn("%s: no DWARF call-frame information; unwinding by frame pointers only",
			path);
	if (o->inline_frames) {
		rc = inline_index_open(path, &k->inl);
		if (!rc && !inline_index_count(k->inl))
			kp_warn("%s: no inlined functions in the debug info (built without -g?)",
				path);
		if (!rc)
			rc = symbolizer_set_inline(k->sym, k->inl);
		if (rc)
			goto fail;
	}
	if (o->modules_dir && (rc = open_modules(k, path, o->modules_dir)))
		goto fail;
	k->uw = (struct unwinder){ .orc = k->orc, .cfi = k->cfi, .syms = k->st, .offset = o->offset,
				   .max_depth = o->max_depth, .modules = k->mods };
	*out = k;
	return 0;
fail:
	if (rc == -ENOMEM)
		kp_error("%s: out of memory", path);
	kernel_syms_free(k);
	return rc;
}

int kernel_syms_tasks(struct kernel_syms *k, const char *path, struct linux_tasks **out)
{
	int rc;

	*out = NULL;
	if (!symtab_linux(k->st))
		return -ENOENT;
	if ((rc = need_btf(k, path)))
		return rc;
	return linux_tasks_open(k->st, k->btf, path, out);
}

void kernel_syms_set_offset(struct kernel_syms *k, uint64_t offset)
{
	symtab_set_offset(k->st, offset);
	k->uw.offset = offset;
}

void kernel_syms_free(struct kernel_syms *k)
{
	if (!k)
		return;
	symbolizer_free(k->sym);
	modules_free(k->mods);
	btf_free(k->btf);
	inline_index_free(k->inl);
	cfi_free(k->cfi);
	orc_free(k->orc);
	symtab_free(k->st);
	free(k);
}

int profiler_monitor_stacks(void *ctx, struct target *t, const char *args, struct kp_buf *out)
{
	struct kernel_syms *k = ctx;

	(void)args;
	return profiler_print_stacks(t, &k->uw, k->sym, out);
}
