/* profiler: sampling, unwinding, symbols, name cleaning, and the profile data model.
 *
 * The profile model below is the contract between the profiler (which fills it and
 * reads/writes trace.json with json-c) and the command line (which renders it through
 * flamegraph/).  Stacks are innermost frame first, as in OSDK's trace.json.
 */
#ifndef KPROF_PROFILER_H
#define KPROF_PROFILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "common/common.h"

/* How a frame was found. */
enum profile_frame_flags {
	PROFILE_FRAME_CFI = 0,		/* unwound with DWARF CFI (or the innermost pc) */
	PROFILE_FRAME_FP = 1u << 0,	/* found by the frame-pointer fallback */
	PROFILE_FRAME_INLINE = 1u << 1,	/* an inlined function (shown with --inline) */
	PROFILE_FRAME_UNKNOWN = 1u << 2,	/* the pc is in no known symbol: "??" */
	PROFILE_FRAME_USER = 1u << 3,	/* the vCPU was in user mode */
};

struct profile_frame {
	char *name;		/* cleaned name, "??" when unknown */
	uint64_t pc;		/* 0 when unknown (OSDK files carry no addresses) */
	unsigned flags;
};

/* The task a CPU was running when its stack was taken (Linux kernels: the per-CPU current
 * task's task_struct).  comm is the kernel's own name for it (TASK_COMM_LEN bytes at most:
 * "dd", "swapper/1", "kworker/0:1H"), bytes outside printable ASCII shown as '.'; pid is the
 * kernel's pid (a thread's id), tgid its process id (what ps and perf call the PID).
 * Unknown (the pointer or the struct could not be read): comm "?", pid and tgid -1. */
#define PROFILE_COMM_LEN 16
struct profile_task {
	char comm[PROFILE_COMM_LEN + 1];
	int32_t pid;
	int32_t tgid;
};

struct profile_stack {
	int cpu;
	size_t nframes;
	struct profile_frame *frames;	/* innermost first */
	bool has_task;			/* false: no task information (not Linux, or not read) */
	struct profile_task task;	/* when has_task */
};

#define PROFILE_STAGE_MAX 63	/* bytes of a stage name */
struct profile_sample {
	uint64_t time_ns;	/* since the start of collection; 0 when unknown */
	uint64_t stop_ns;	/* how long the vCPUs were held stopped for this sample */
	char *stage;		/* the guest's boot stage at this stop (collect --by-stage:
				 * a BOOT_TIME: name, "post:0x2a", "kernel" before the first),
				 * NULL when not recorded */
	size_t nstacks;
	struct profile_stack *stacks;	/* one per sampled CPU, ascending cpu */
};

struct profile {
	int format_version;	/* 0 for OSDK's plain files */
	char *kernel;		/* path of the symbols file, or NULL */
	char *build_id;		/* hex GNU build id, or NULL */
	int ncpus;		/* vCPUs of the target, or 1 + the highest cpu seen */
	double interval_s;	/* requested interval, 0 when unknown */
	uint64_t start_unix_ns;	/* wall-clock start of the collection, 0 when unknown */
	size_t nsamples;
	struct profile_sample *samples;
};

/* Read kprof's or OSDK's trace.json.  On error prints one line naming the file and the
 * problem and returns a negative errno. */
int profile_read_json(const char *path, struct profile **out);
/* Write trace.json (OSDK's stack_traces plus kprof's keys). name is used in errors. */
int profile_write_json(const struct profile *p, FILE *f, const char *name);
/* Write speedscope's sampled-profile JSON, one profile per CPU. */
int profile_write_speedscope(const struct profile *p, FILE *f, const char *name);
/* Keep only the stacks of CPUs in mask (samples left with no stack are dropped). */
void profile_filter_cpus(struct profile *p, const struct kp_cpumask *mask);
/* Keep only the stacks whose task's comm is comm (stacks without a task go too). */
void profile_filter_comm(struct profile *p, const char *comm);
/* Does any stack carry a task? */
bool profile_has_tasks(const struct profile *p);
/* Does any sample carry a boot stage? */
bool profile_has_stages(const struct profile *p);
void profile_free(struct profile *p);

/* ---------------------------------------------------------------------------------------
 * Symbols (symtab.c, libelf): function symbols of a kernel ELF, sorted for lookup.
 * Addresses passed in are runtime addresses; the offset (KASLR slide) is subtracted.
 */
struct symtab;

/* Load .symtab (or .dynsym) function symbols and the GNU build id of path. */
int symtab_open(const char *path, struct symtab **out);
void symtab_free(struct symtab *st);
/* A symbol table from a list (runtime addresses, offset 0): a kernel module's, placed where the
 * running kernel loaded it.  Names are copied. */
struct symtab_entry {
	uint64_t addr, size;
	uint64_t sec_end;	/* end of its section: how far an unsized symbol reaches */
	const char *name;
	bool func;		/* STT_FUNC (else a code label) */
};
int symtab_from_entries(const struct symtab_entry *e, size_t n, struct symtab **out);
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
/* The bytes and link address of a section kept at load time: .orc_unwind_ip, .orc_unwind,
 * .orc_header, .BTF (data may be NULL when the section is empty).  -ENOENT when absent. */
int symtab_section(const struct symtab *st, const char *name, const void **data, size_t *len,
		   uint64_t *addr);

/* ---------------------------------------------------------------------------------------
 * Call-frame information (cfi.c, libdwarf): .debug_frame and .eh_frame FDEs indexed once
 * (sorted by address) so that each lookup is a binary search.  Link-time addresses.
 */
#define UNW_NREGS 17		/* DWARF x86-64 numbering: 0-15 GPRs, 16 = return address */
#define UNW_REG_RSI 4
#define UNW_REG_RBP 6
#define UNW_REG_RSP 7
#define UNW_REG_RA 16

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

/* DWARF expressions as CFI uses them (dwexpr.c): registers and memory through callbacks. */
typedef ssize_t (*unwind_read_fn)(void *ctx, uint64_t addr, void *buf, size_t len);
struct unwind_regs {
	uint64_t r[UNW_NREGS];
	uint32_t valid;		/* bit n: r[n] is known */
};
/* Evaluate expr; push_cfa puts the CFA on the stack first (register rules do). */
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
struct unwind_regs;
/* One frame up: 0, ORC_STEP_END, -ENOENT (the entry cannot be used) or -EFAULT. */
int orc_step(const struct orc_entry *e, const struct unwind_regs *cur, unwind_read_fn rd,
	     void *rdctx, struct unwind_regs *next, struct orc_step *how);

/* ---------------------------------------------------------------------------------------
 * Unwinder (unwind.c): perf's shape.  Memory comes through rd, each frame goes to cb
 * (return non-zero from cb to stop early), so a captured stack window unwinds offline.
 */
struct modules;
struct unwinder {
	const struct orc *orc;		/* may be NULL: a Linux kernel's ORC tables come first */
	const struct cfi *cfi;		/* may be NULL: frame pointers only */
	const struct symtab *syms;	/* may be NULL: no "??" check */
	uint64_t offset;		/* runtime = link + offset, for CFI lookups */
	unsigned max_depth;		/* 0: 256 */
	bool no_fp_fallback;		/* CFI only */
	const struct modules *modules;	/* may be NULL: a Linux kernel's loaded modules, for
					 * pcs outside syms */
};

/* Set in an unwinder callback's flags (not stored in profiles) when pc is a return address:
 * name it by pc - 1, which is inside the call instruction's function. */
#define UNWIND_RETADDR (1u << 8)
/* Set for the innermost frame: pc is where the vCPU stopped. */
#define UNWIND_INNERMOST (1u << 9)
#define UNWIND_FLAGS (UNWIND_RETADDR | UNWIND_INNERMOST)
typedef int (*unwind_frame_fn)(void *ctx, uint64_t pc, unsigned flags);

/* Returns the number of frames delivered, or a negative errno when regs lack rip/rsp. */
int unwind_stack(const struct unwinder *uw, const struct unwind_regs *regs, unwind_read_fn rd,
		 void *rdctx, unwind_frame_fn cb, void *cbctx);

struct target_regs;
void unwind_regs_from_target(struct unwind_regs *u, const struct target_regs *r);

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
 * Linux tasks (tasks.c): which task each vCPU runs, read from guest memory.  The per-CPU
 * current task pointer (`current_task`, a per-CPU variable up to 6.1, a member of `pcpu_hot`
 * from 6.2) is read through the vCPU's GS base (the kernel's: KERNEL_GS_BASE while it is in
 * user mode), then comm, pid and tgid from its task_struct.  Offsets come from the vmlinux's
 * BTF, looked up once.
 */
struct btf;
struct linux_tasks;
struct target;
struct target_regs;

/* Over the vmlinux's BTF btf (kernel_syms_tasks passes the one its modules use too):
 * -ENOENT when the symbols are not a Linux kernel (no message: no tasks then); -EINVAL,
 * after one line naming path, when the BTF lacks what is needed. */
int linux_tasks_open(const struct symtab *st, const struct btf *btf, const char *path,
		     struct linux_tasks **out);
void linux_tasks_free(struct linux_tasks *lt);
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
/* The unknown task: comm "?", pid and tgid -1. */
void profile_task_unknown(struct profile_task *out);

/* ---------------------------------------------------------------------------------------
 * A running Linux kernel's loaded modules (modules.c), named and unwound from a directory of
 * their .ko files (kofile.c): the kernel's `modules` list read from the target, struct layouts
 * from the vmlinux's BTF, each module's symbols and ORC tables placed at the addresses its
 * sections were loaded at.  Frames are named as kallsyms names them: "brd_submit_bio [brd]".
 */
struct btf;
struct target;
/* Index dir's .ko and .ko.xz files; vmlinux (its `modules` symbol and KASLR offset) and btf
 * outlive the result.  fmt is the vmlinux's ORC format (modules are built alike).  Errors
 * print one line. */
int modules_open(const char *dir, const struct symtab *vmlinux, const struct btf *btf,
		 enum orc_format fmt, struct modules **out);
void modules_free(struct modules *m);
/* pc was seen in no known code (or in init text): re-read the module list from the (stopped)
 * target through cpu if it may have changed, loading the files of new modules.  1 when the set of modules
 * changed, 0 when not (or pc is not a kernel address, or was checked before), -errno when
 * the list cannot be read. */
int modules_check(struct modules *m, struct target *t, int cpu, uint64_t pc);
/* Is pc in a module's init text (freed once its init returns)?  The sampler asks
 * modules_check about such pcs too: the list is re-read to trust them. */
bool modules_in_init(const struct modules *m, uint64_t pc);
/* The symbols and ORC tables (orc may be NULL) of the module whose text holds pc. */
bool modules_code(const struct modules *m, uint64_t pc, const struct symtab **syms,
		  const struct orc **orc);
/* "fn [module]" for pc, made once per symbol with c; NULL when no module names pc. */
struct cleaner;
const char *modules_name(struct modules *m, uint64_t pc, struct cleaner *c);
size_t modules_count(const struct modules *m);	/* modules in the last reading */
size_t modules_reads(const struct modules *m);	/* whole-list readings so far */

/* ---------------------------------------------------------------------------------------
 * Sampler (sampler.c): stop all vCPUs on an absolute schedule, copy registers and stack
 * windows into buffers allocated beforehand, resume, then unwind and name outside the stop.
 */
struct target;

struct sampler_opts {
	size_t samples;			/* 0: 200 */
	double interval_s;		/* 0: as fast as possible */
	struct kp_cpumask cpus;		/* CPUs to sample (intersected with the target's) */
	size_t stack_bytes;		/* window copied from rsp; 0: 16 KiB */
	double wait_online_s;		/* first wait up to this long for every CPU to come up */
	int stop_fd;			/* readable means stop (e.g. a signalfd), or -1 */
	bool progress;			/* progress bar (tty) or summary line on stderr */
	bool lazy_stack;		/* read only the stack the unwinder needs, in growing
					 * blocks (for targets where each read is a round trip) */
	bool stay_stopped;		/* no resume after the last sample: a target found halted
					 * is left halted where that sample saw it */
	const struct linux_tasks *tasks;	/* read each CPU's current task in the stop, or
					 * NULL (not Linux, or not wanted) */
	struct modules *modules;	/* NULL, or the modules the unwinder and symbolizer use:
					 * the list is re-read when a stop meets unknown code */
	bool timing;			/* keep each round's phases; sampler_print_timing */
	bool stages;			/* label each sample with the target's boot stage
					 * (target_stage, read in the stop); vCPUs not started
					 * yet give no stack */
	const char *kernel;		/* recorded in the profile */
	const char *build_id;		/* recorded in the profile */
};

enum sampler_end {
	SAMPLER_DONE,			/* every sample taken */
	SAMPLER_INTERRUPTED,		/* stop_fd became readable */
	SAMPLER_TARGET_ENDED,		/* the target exited, faulted or went away */
	SAMPLER_TARGET_ERROR,		/* stopping or reading the target failed */
};

/* Where a round's time goes (--timing): medians and p99 over the rounds, in ns. */
enum sampler_phase {
	SAMPLER_PH_STOP,		/* target_stop: until every vCPU is held */
	SAMPLER_PH_REGS,		/* reading registers, every sampled vCPU */
	SAMPLER_PH_STACKS,		/* copying the stacks the unwinder reads */
	SAMPLER_PH_RESUME,		/* target_resume */
	SAMPLER_PH_AFTER,		/* after the resume: unwinding and naming the copies */
	SAMPLER_NPHASES
};

struct sampler_stats {
	uint64_t phase_median_ns[SAMPLER_NPHASES], phase_p99_ns[SAMPLER_NPHASES];
	size_t samples;
	size_t late;			/* schedule slots missed because a sample overran */
	uint64_t elapsed_ns;
	uint64_t stop_median_ns, stop_p99_ns, stop_max_ns;
	double rate_hz;
	enum sampler_end end;
	char end_message[200];		/* why it ended early, or empty */
};

/* Sample target into a new profile.  Returns 0 (with what was sampled, even when the
 * target went away: see stats->end_reason) or a negative errno. */
int sampler_run(struct target *t, const struct unwinder *uw, struct symbolizer *sym,
		const struct sampler_opts *opts, struct profile **out,
		struct sampler_stats *stats);

/* One line: samples, rate, elapsed, median/p99 stop time. */
void sampler_print_summary(FILE *f, const struct sampler_stats *st);
/* One line: each phase's median and p99 per round (opts.timing). */
void sampler_print_timing(FILE *f, const struct sampler_stats *st);

/* ---------------------------------------------------------------------------------------
 * `monitor stacks` (stacks.c): every vCPU of a stopped target, one frame per line in gdb's
 * style ("#0  0x... in work_leaf ()").
 */
int profiler_print_stacks(struct target *t, const struct unwinder *uw,
			  struct symbolizer *sym, struct kp_buf *out);

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

/* A running Linux kernel's KASLR slide (kaslr.c), found in the target itself: candidates are
 * the 2 MiB-aligned slides that put a kernel-mode vCPU's rip inside the ELF's text, and the
 * one where the ELF's linux_banner string is in the target's memory is it.  The target must
 * be stopped.  0 and *offset set; -ENOENT when the file is not a Linux kernel; -EAGAIN when
 * no vCPU runs the image's own text at this stop (user mode, modules); -ESRCH when no slide shows the banner (the running
 * kernel is not this file). */
int kaslr_find(struct target *t, const struct symtab *st, uint64_t *offset);
void kernel_syms_free(struct kernel_syms *k);

/* `monitor stacks` for the gdb stub, shaped as its gdbstub_monitor_fn; ctx is a struct
 * kernel_syms.  Register with gdbstub_add_monitor(gs, "stacks", ..., profiler_monitor_stacks, k). */
int profiler_monitor_stacks(void *ctx, struct target *t, const char *args, struct kp_buf *out);

/* A profile with ncpus and no samples (for writers that build profiles by hand). */
struct profile *profile_new(void);
/* Append a sample and return it (stacks to be filled by the caller); NULL on ENOMEM. */
struct profile_sample *profile_add_sample(struct profile *p, size_t nstacks);

#endif
