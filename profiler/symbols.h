/* A kernel's symbols: its ELF's function symbols and landmarks (symtab.c, libelf), pc -> name
 * (symbolize.c), and everything an unwinder needs loaded together (kernel_syms.c): CFI, a Linux
 * kernel's ORC tables, BTF, tasks and loaded modules.  Found in a running kernel: its KASLR
 * slide (kaslr.c).  The parts these are built from are in profiler/profiler_internal.h.
 *
 * Addresses passed in are runtime addresses; the offset (KASLR slide) is subtracted.
 */
#ifndef KPROF_PROFILER_SYMBOLS_H
#define KPROF_PROFILER_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profiler/unwind.h"

struct btf;
struct cfi;
struct inline_index;
struct linux_tasks;
struct modules;
struct orc;
struct target;

/* ---------------------------------------------------------------------------------------
 * Function symbols of a kernel ELF, sorted for lookup (symtab.c).
 */
struct symtab;

/* Load .symtab (or .dynsym) function symbols and the GNU build id of path. */
int symtab_open(const char *path, struct symtab **out);
void symtab_free(struct symtab *st);
/* runtime address = link address + offset (a KASLR slide or a PIE load bias). */
void symtab_set_offset(struct symtab *st, uint64_t offset);
uint64_t symtab_offset(const struct symtab *st);
size_t symtab_count(const struct symtab *st);
/* Index of the function containing runtime address pc, or -1; *off gets pc - start. */
long symtab_lookup(const struct symtab *st, uint64_t pc, uint64_t *off);
/* Raw (uncleaned) name and runtime start address of symbol idx. */
const char *symtab_name(const struct symtab *st, long idx);
uint64_t symtab_addr(const struct symtab *st, long idx);
/* Runtime address and size of the function called name; -ENOENT when absent. */
int symtab_find(const struct symtab *st, const char *name, uint64_t *addr, uint64_t *size);
/* Hex GNU build id, or NULL when the file has none. */
const char *symtab_build_id(const struct symtab *st);
/* A Linux kernel's landmarks, link addresses (0: the symbol is absent). */
struct symtab_linux {
	const char *banner;		/* linux_banner: "Linux version 6.1.0-... #1 SMP ..." */
	uint64_t banner_addr;
	uint64_t text[2];		/* [_stext, _etext) */
	uint64_t entry_text[2];		/* [__entry_text_start, __entry_text_end): where it
					 * switches between user and kernel mode */
	uint64_t modules;		/* `modules`, the loaded modules' list head */
};
/* NULL when the file is not a Linux kernel (no linux_banner). */
const struct symtab_linux *symtab_linux(const struct symtab *st);

/* ---------------------------------------------------------------------------------------
 * Symbolizer (symbolize.c): runtime pc -> cleaned function name, cached per symbol.
 */
struct symbolizer;
int symbolizer_new(const struct symtab *st, struct symbolizer **out);
void symbolizer_free(struct symbolizer *s);
/* The cleaned name for pc ("??" when no symbol covers it); owned by the symbolizer. */
const char *symbolizer_name(struct symbolizer *s, uint64_t pc, bool *known);
/* Name pcs outside the symbol table from a Linux kernel's loaded modules; m outlives s. */
void symbolizer_set_modules(struct symbolizer *s, struct modules *m);
/* Show inlined functions as frames of their own (`--inline`); ix outlives s. */
int symbolizer_set_inline(struct symbolizer *s, const struct inline_index *ix);
/* All names for one physical frame as the unwinder reported it (pc and its flags): inlined
 * functions innermost first (flagged PROFILE_FRAME_INLINE), then the function itself, or "??"
 * (PROFILE_FRAME_UNKNOWN).  Returns how many (<= max, max >= 1). */
size_t symbolizer_frames(struct symbolizer *s, uint64_t pc, unsigned unwind_flags,
			 const char **names, unsigned *flags, size_t max);

/* ---------------------------------------------------------------------------------------
 * A kernel's symbols, CFI and unwinder loaded together (kernel_syms.c).
 */
struct kernel_syms_opts {
	uint64_t offset;	/* KASLR slide: runtime address - link address */
	bool inline_frames;	/* index DW_TAG_inlined_subroutine too (--inline) */
	unsigned max_depth;	/* 0: 256 */
	const char *modules_dir;	/* --modules: a tree of a Linux kernel's .ko files */
};

struct kernel_syms {
	struct symtab *st;
	struct cfi *cfi;
	struct orc *orc;		/* NULL unless a Linux kernel with ORC tables */
	struct inline_index *inl;	/* NULL without inline_frames */
	struct symbolizer *sym;
	struct btf *btf;		/* a Linux vmlinux's BTF, when something needed it */
	struct modules *mods;		/* NULL without modules_dir */
	struct unwinder uw;		/* over the above */
};

/* Prints one line naming the file on error and returns a negative errno. */
int kernel_syms_open(const char *path, const struct kernel_syms_opts *o,
		     struct kernel_syms **out);
/* The kernel's tasks (linux_tasks_open) over its BTF, parsed once for tasks and modules
 * alike: -ENOENT (no message) when it is not a Linux kernel or has no BTF. */
int kernel_syms_tasks(struct kernel_syms *k, const char *path, struct linux_tasks **out);
/* Change the KASLR slide after loading (symbols and unwinder alike). */
void kernel_syms_set_offset(struct kernel_syms *k, uint64_t offset);
void kernel_syms_free(struct kernel_syms *k);
/* The tasks kernel_syms_tasks gave. */
void linux_tasks_free(struct linux_tasks *lt);
/* The loaded modules the sampler found (kernel_syms.mods): modules in the last reading of the
 * kernel's list, and whole-list readings so far. */
size_t modules_count(const struct modules *m);
size_t modules_reads(const struct modules *m);

/* A running Linux kernel's KASLR slide (kaslr.c), found in the target itself: candidates are
 * the 2 MiB-aligned slides that put a kernel-mode vCPU's rip inside the ELF's text, and the
 * one where the ELF's linux_banner string is in the target's memory is it.  The target must
 * be stopped.  0 and *offset set; -ENOENT when the file is not a Linux kernel; -EAGAIN when
 * no vCPU runs the image's own text at this stop (user mode, modules); -ESRCH when no slide
 * shows the banner (the running kernel is not this file). */
int kaslr_find(struct target *t, const struct symtab *st, uint64_t *offset);

#endif
