/* profiler/'s internals: what its own files share and the unit tests, fuzzers and benchmarks
 * reach into (the tables the unwinder walks, the stack windows it reads, the steps of reading
 * a Linux kernel's tasks and modules).  The rest of the tree uses profiler/profile.h,
 * symbols.h, unwind.h and sampler.h only, as libbpf pairs libbpf.h with libbpf_internal.h.
 * BTF (profiler/btf.h) and module files (profiler/kofile.h) have internal headers of their own.
 */
#ifndef KPROF_PROFILER_INTERNAL_H
#define KPROF_PROFILER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/common.h"
#include "profiler/profile.h"
#include "profiler/symbols.h"
#include "profiler/unwind.h"

struct target;
struct target_regs;

/* ---------------------------------------------------------------------------------------
 * Symbol tables built by hand and sections kept at load time (symtab.c).
 */
/* A symbol table from a list (runtime addresses, offset 0): a kernel module's, placed where the
 * running kernel loaded it.  Names are copied. */
struct symtab_entry {
	uint64_t addr, size;
	uint64_t sec_end;	/* end of its section: how far an unsized symbol reaches */
	const char *name;
	bool func;		/* STT_FUNC (else a code label) */
};
int symtab_from_entries(const struct symtab_entry *e, size_t n, struct symtab **out);
/* The bytes and link address of a section kept at load time: .orc_unwind_ip, .orc_unwind,
 * .orc_header, .BTF (data may be NULL when the section is empty).  -ENOENT when absent. */
int symtab_section(const struct symtab *st, const char *name, const void **data, size_t *len,
		   uint64_t *addr);

/* ---------------------------------------------------------------------------------------
 * Call-frame information (cfi.c, libdwarf): .debug_frame and .eh_frame FDEs indexed once
 * (sorted by address) so that each lookup is a binary search.  Link-time addresses.
 */
enum cfi_rule_kind {
	CFI_SAME,		/* unchanged in the caller (callee-saved, untouched) */
	CFI_UNDEF,		/* no value: for the return address, the outermost frame */
	CFI_OFFSET,		/* saved at CFA + off */
	CFI_VAL_OFFSET,		/* value is CFA + off */
	CFI_REG,		/* value of register reg (+ off, for the CFA rule) */
	CFI_EXPR,		/* saved at the address the expression computes */
	CFI_VAL_EXPR,		/* value is what the expression computes */
};

struct cfi_rule {
	enum cfi_rule_kind kind;
	unsigned reg;
	int64_t off;
	const uint8_t *expr;	/* owned by the struct cfi */
	size_t expr_len;
};

/* The unwind row for one pc: how to find the CFA and the caller's registers. */
struct cfi_row {
	struct cfi_rule cfa;	/* CFI_REG (reg + off) or CFI_VAL_EXPR */
	struct cfi_rule regs[UNW_NREGS];
	uint64_t fde_lo, fde_hi;	/* the FDE's range [lo, hi) */
	bool signal_frame;	/* CIE augmentation "S": a trap/interrupt frame */
};

struct cfi;

/* Index the frame sections of an ELF file.  A file without CFI gives an empty index. */
int cfi_open(const char *path, struct cfi **out);
void cfi_free(struct cfi *c);
size_t cfi_fde_count(const struct cfi *c);
/* The row for link-time address pc: 0, -ENOENT when no FDE covers pc, -EINVAL when the
 * FDE cannot be interpreted. */
int cfi_find(const struct cfi *c, uint64_t pc, struct cfi_row *row);

/* DWARF expressions as CFI uses them (dwexpr.c): registers and memory through callbacks.
 * Evaluate expr; push_cfa puts the CFA on the stack first (register rules do). */
int dwexpr_eval(const uint8_t *expr, size_t len, const struct unwind_regs *regs,
		bool push_cfa, uint64_t cfa, unwind_read_fn rd, void *rdctx, uint64_t *out);

/* ---------------------------------------------------------------------------------------
 * Inlined functions (dwarf_inline.c, libdwarf's DIE API): DW_TAG_inlined_subroutine ranges
 * indexed once.  Link-time addresses.
 */
struct inline_index;

/* A file without debug info gives an empty index. */
int inline_index_open(const char *path, struct inline_index **out);
void inline_index_free(struct inline_index *ix);
size_t inline_index_count(const struct inline_index *ix);	/* address ranges */
size_t inline_index_names(const struct inline_index *ix);	/* distinct name ids */
const char *inline_index_name(const struct inline_index *ix, uint32_t id);
/* Name ids of the functions inlined at pc, innermost first; returns how many (<= max).
 * at_stop: pc is where the vCPU stopped; an inlined call whose entry pc is exactly there has
 * not begun yet and is left out, as gdb does. */
size_t inline_lookup(const struct inline_index *ix, uint64_t pc, bool at_stop, uint32_t *ids,
		     size_t max);

/* ---------------------------------------------------------------------------------------
 * Linux's ORC unwind tables (orc.c): .orc_unwind_ip/.orc_unwind, kept by symtab, sorted once.
 * Link-time addresses.  They cover the kernel's assembly entry code, which has no DWARF.
 */
enum orc_format {
	ORC_FORMAT_6_2,		/* 4.14 - 6.2: type:2 end:1 */
	ORC_FORMAT_6_3,		/* 6.3: type:2 signal:1 end:1 */
	ORC_FORMAT_6_4,		/* 6.4 on (.orc_header present): type:3 signal:1 */
};
enum orc_type { ORC_UNDEFINED, ORC_END_OF_STACK, ORC_CALL, ORC_REGS, ORC_REGS_PARTIAL };
#define ORC_ENTRY_SIZE 6
struct orc_entry {
	int16_t sp_offset, bp_offset;
	uint8_t sp_reg, bp_reg;		/* ORC register numbers (orc.c) */
	enum orc_type type;
	bool signal;			/* the caller's pc is exact, not a return address */
};
struct orc;

/* *out stays NULL (and 0 is returned) when the symtab's file has no ORC tables; errors
 * print one line naming path. */
int orc_open(const struct symtab *st, const char *path, struct orc **out);
/* From raw tables: ip_table holds s32 offsets relative to each slot, ip_addr its address.
 * Set the entry text afterwards with orc_set_entry_text when known. */
int orc_from_tables(const void *ip_table, size_t ip_len, uint64_t ip_addr, const void *entries,
		    size_t entries_len, enum orc_format fmt, struct orc **out);
void orc_set_entry_text(struct orc *o, uint64_t start, uint64_t end);
void orc_free(struct orc *o);
size_t orc_count(const struct orc *o);
enum orc_format orc_format(const struct orc *o);
/* The entry covering link-time pc; -ENOENT outside the table. */
int orc_find(const struct orc *o, uint64_t pc, struct orc_entry *e);
/* Does e describe the hardware's (iret) frame at rsp + off? */
bool orc_iret_at_sp(const struct orc_entry *e, int off);
#define ORC_PT_REGS_IP 128	/* offset of the saved ip in pt_regs */
/* Is link-time pc in the kernel's entry text (where an undefined entry means the vCPU is
 * between user and kernel mode)? */
bool orc_in_entry_text(const struct orc *o, uint64_t pc);

/* What an ORC step found besides the caller's registers. */
struct orc_step {
	uint64_t cfa;		/* the caller's stack pointer */
	uint64_t cs;		/* from pt_regs, when regs */
	uint64_t iret_at;	/* where the hardware's frame (the saved ip) is, when regs */
	bool regs;		/* the caller's registers came from a pt_regs / iret frame */
	bool user;		/* ... and they are user mode's: the kernel stack ends here */
	bool signal;		/* look the caller's pc up as is (not pc - 1) */
	bool switched_stack;	/* the caller runs on another stack (irq stack -> task) */
};
#define ORC_STEP_END 1		/* orc_step: the outermost frame (end of stack) */
/* One frame up: 0, ORC_STEP_END, -ENOENT (the entry cannot be used) or -EFAULT. */
int orc_step(const struct orc_entry *e, const struct unwind_regs *cur, unwind_read_fn rd,
	     void *rdctx, struct unwind_regs *next, struct orc_step *how);

/* ---------------------------------------------------------------------------------------
 * Stack windows (unwind.c): what the sampler copies from a stopped vCPU, read offline.
 */
/* A captured stack window [base, base + len) as an unwind_read_fn context. */
struct stack_window {
	uint64_t base;
	const uint8_t *data;
	size_t len;
};
ssize_t stack_window_read(void *ctx, uint64_t addr, void *buf, size_t len);

/* ---------------------------------------------------------------------------------------
 * Name cleaning (cleaner.c, pcre2): Rust, C++ and C names the way kernel developers read them.
 */
struct cleaner;
int cleaner_new(struct cleaner **out);
void cleaner_free(struct cleaner *c);
/* A newly allocated cleaned copy of name, or NULL when out of memory. */
char *cleaner_clean(struct cleaner *c, const char *name);

/* ---------------------------------------------------------------------------------------
 * Linux tasks (tasks.c): which task each vCPU runs, read from guest memory.  The per-CPU
 * current task pointer (`current_task`, a per-CPU variable up to 6.1, a member of `pcpu_hot`
 * from 6.2) is read through the vCPU's GS base (the kernel's: KERNEL_GS_BASE while it is in
 * user mode), then comm, pid and tgid from its task_struct.  Offsets come from the vmlinux's
 * BTF, looked up once.
 */
struct btf;

/* Over the vmlinux's BTF btf (kernel_syms_tasks passes the one its modules use too):
 * -ENOENT when the symbols are not a Linux kernel (no message: no tasks then); -EINVAL,
 * after one line naming path, when the BTF lacks what is needed. */
int linux_tasks_open(const struct symtab *st, const struct btf *btf, const char *path,
		     struct linux_tasks **out);
/* The task on the vCPU whose registers are r, from the stopped target, reading its memory
 * through vCPU via (any vCPU whose page tables map the kernel's data): two reads, no
 * allocation.  *out is the unknown task when a read fails or gives something that is no task
 * pointer; *stack gets its kernel stack's base (task_struct.stack), 0 when unknown. */
void linux_tasks_read(const struct linux_tasks *lt, struct target *t, int via,
		      const struct target_regs *r, struct profile_task *out, uint64_t *stack);
/* The same in steps, for batched reads: where the vCPU's current task pointer is (false: no
 * kernel GS base); the range of that task's task_struct that holds its fields (false: no task
 * pointer, or fields too far apart for one read: use linux_tasks_read); the task from those
 * bytes. */
#define LINUX_TASKS_SPAN_MAX 4096
bool linux_tasks_pointer(const struct linux_tasks *lt, const struct target_regs *r,
			 uint64_t *addr);
bool linux_tasks_span(const struct linux_tasks *lt, uint64_t task, uint64_t *addr, size_t *len);
void linux_tasks_decode(const struct linux_tasks *lt, const void *span,
			struct profile_task *out, uint64_t *stack);
/* Is pc (runtime) in the context switch (__switch_to_asm, __switch_to), where the stack
 * moves to the next task before current_task does? */
bool linux_tasks_in_switch(const struct linux_tasks *lt, uint64_t pc);
/* Is addr on the kernel stack whose base is stack?  A walk through the context switch that
 * ends on another task's stack does not belong to the task read. */
bool linux_tasks_on_stack(uint64_t stack, uint64_t addr);

/* ---------------------------------------------------------------------------------------
 * A running Linux kernel's loaded modules (modules.c), named and unwound from a directory of
 * their .ko files (kofile.c): the kernel's `modules` list read from the target, struct layouts
 * from the vmlinux's BTF, each module's symbols and ORC tables placed at the addresses its
 * sections were loaded at.  Frames are named as kallsyms names them: "brd_submit_bio [brd]".
 */
/* Index dir's .ko and .ko.xz files; vmlinux (its `modules` symbol and KASLR offset) and btf
 * outlive the result.  fmt is the vmlinux's ORC format (modules are built alike).  Errors
 * print one line. */
int modules_open(const char *dir, const struct symtab *vmlinux, const struct btf *btf,
		 enum orc_format fmt, struct modules **out);
void modules_free(struct modules *m);
/* pc was seen in no known code (or in init text): re-read the module list from the (stopped)
 * target through cpu if it may have changed, loading the files of new modules.  1 when the set
 * of modules changed, 0 when not (or pc is not a kernel address, or was checked before), -errno when
 * the list cannot be read. */
int modules_check(struct modules *m, struct target *t, int cpu, uint64_t pc);
/* Is pc in a module's init text (freed once its init returns)?  The sampler asks
 * modules_check about such pcs too: the list is re-read to trust them. */
bool modules_in_init(const struct modules *m, uint64_t pc);
/* The symbols and ORC tables (orc may be NULL) of the module whose text holds pc. */
bool modules_code(const struct modules *m, uint64_t pc, const struct symtab **syms,
		  const struct orc **orc);
/* "fn [module]" for pc, made once per symbol with c; NULL when no module names pc. */
const char *modules_name(struct modules *m, uint64_t pc, struct cleaner *c);

#endif
