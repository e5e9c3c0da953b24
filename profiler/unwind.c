/* The stack unwinder: a Linux kernel's ORC tables first where they cover the pc (they are
 * exact at every instruction and the only unwind data its assembly entry code has), then
 * DWARF CFI, then the rbp chain where nothing else covers the pc.
 *
 * It never invents frames.  It stops at an undefined return address (the outermost frame),
 * a zero return address, a CFA that does not grow (a loop or garbage), memory it cannot
 * read, the depth limit, or a pc outside every known function (reported once as unknown).
 * When ORC finds the registers a system call, interrupt or exception saved on entry from user
 * mode, the stack ends with one [user] frame at the user-mode pc.
 */
#include "profiler/profile.h"
#include "profiler/profiler_internal.h"
#include "profiler/symbols.h"
#include "profiler/unwind.h"
#include "target/target.h"

#include <errno.h>
#include <string.h>

#define DEFAULT_MAX_DEPTH 256

/* DWARF register n -> gdb/target order. */
static const unsigned dwarf_to_target[16] = {
	TREG_RAX, TREG_RDX, TREG_RCX, TREG_RBX, TREG_RSI, TREG_RDI, TREG_RBP, TREG_RSP,
	TREG_R8, TREG_R9, TREG_R10, TREG_R11, TREG_R12, TREG_R13, TREG_R14, TREG_R15,
};

void unwind_regs_from_target(struct unwind_regs *u, const struct target_regs *r)
{
	for (unsigned i = 0; i < 16; i++)
		u->r[i] = r->gpr[dwarf_to_target[i]];
	u->r[UNW_REG_RA] = r->rip;
	u->valid = (1u << UNW_NREGS) - 1;
}

ssize_t stack_window_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct stack_window *w = ctx;

	if (addr < w->base || addr - w->base >= w->len)
		return -EFAULT;
	size_t n = KP_MIN(len, w->len - (size_t)(addr - w->base));
	memcpy(buf, w->data + (addr - w->base), n);
	return (ssize_t)n;
}

static int read_u64(unwind_read_fn rd, void *ctx, uint64_t addr, uint64_t *v)
{
	return rd(ctx, addr, v, 8) == 8 ? 0 : -EFAULT;
}

static bool valid(const struct unwind_regs *r, unsigned reg)
{
	return r->valid & (1u << reg);
}

/* Apply a CFI row: compute the CFA and the caller's registers. */
static int step_cfi(const struct cfi_row *row, const struct unwind_regs *cur, unwind_read_fn rd,
		    void *rdctx, struct unwind_regs *next, uint64_t *cfa_out)
{
	uint64_t cfa;
	int ret;

	if (row->cfa.kind == CFI_REG) {
		if (!valid(cur, row->cfa.reg))
			return -ENOENT;
		cfa = cur->r[row->cfa.reg] + (uint64_t)row->cfa.off;
	} else {
		ret = dwexpr_eval(row->cfa.expr, row->cfa.expr_len, cur, false, 0, rd, rdctx, &cfa);
		if (ret)
			return ret;
	}
	memset(next, 0, sizeof(*next));
	for (unsigned i = 0; i < UNW_NREGS; i++) {
		const struct cfi_rule *rule = &row->regs[i];
		uint64_t v = 0, addr;

		switch (rule->kind) {
		case CFI_SAME:
			/* The caller's stack pointer is the CFA by definition on x86-64. */
			if (i == UNW_REG_RSP) {
				v = cfa;
				break;
			}
			if (!valid(cur, i))
				continue;
			v = cur->r[i];
			break;
		case CFI_UNDEF:
			continue;
		case CFI_OFFSET:
			if (read_u64(rd, rdctx, cfa + (uint64_t)rule->off, &v))
				continue;
			break;
		case CFI_VAL_OFFSET:
			v = cfa + (uint64_t)rule->off;
			break;
		case CFI_REG:
			if (!valid(cur, rule->reg))
				continue;
			v = cur->r[rule->reg];
			break;
		case CFI_EXPR:
			if (dwexpr_eval(rule->expr, rule->expr_len, cur, true, cfa, rd, rdctx, &addr) ||
			    read_u64(rd, rdctx, addr, &v))
				continue;
			break;
		case CFI_VAL_EXPR:
			if (dwexpr_eval(rule->expr, rule->expr_len, cur, true, cfa, rd, rdctx, &v))
				continue;
			break;
		}
		next->r[i] = v;
		next->valid |= 1u << i;
	}
	*cfa_out = cfa;
	return 0;
}

/* The rbp chain: [rbp] is the caller's rbp, [rbp + 8] the return address. */
static int step_fp(const struct unwind_regs *cur, unwind_read_fn rd, void *rdctx,
		   struct unwind_regs *next, uint64_t *cfa_out)
{
	uint64_t rbp = cur->r[UNW_REG_RBP], saved_rbp, ra;

	if (!valid(cur, UNW_REG_RBP) || (rbp & 7) || !rbp)
		return -ENOENT;
	if (valid(cur, UNW_REG_RSP) && rbp < cur->r[UNW_REG_RSP])
		return -ENOENT;
	if (read_u64(rd, rdctx, rbp, &saved_rbp) || read_u64(rd, rdctx, rbp + 8, &ra))
		return -EFAULT;
	memset(next, 0, sizeof(*next));
	next->r[UNW_REG_RBP] = saved_rbp;
	next->r[UNW_REG_RSP] = rbp + 16;
	next->r[UNW_REG_RA] = ra;
	next->valid = (1u << UNW_REG_RBP) | (1u << UNW_REG_RSP) | (1u << UNW_REG_RA);
	*cfa_out = rbp + 16;
	return 0;
}

/* Is pc the first instruction of a known function? */
static bool at_entry(const struct unwinder *uw, uint64_t pc)
{
	uint64_t off;

	return uw->syms && symtab_lookup(uw->syms, pc, &off) >= 0 && off == 0;
}

/* What one step up the stack found. */
enum step_result {
	STEP_NEXT,	/* st->next holds the caller's registers */
	STEP_USER,	/* the kernel was entered from user mode at st->user_pc: the stack ends */
	STEP_END,	/* the outermost frame, or no way further */
	STEP_NONE,	/* this kind of unwind data does not cover the pc: try the next kind */
};

struct step {
	struct unwind_regs next;
	uint64_t cfa;
	unsigned flags;		/* how the caller was found: PROFILE_FRAME_CFI or _FP */
	bool exact;		/* the caller's pc is where it was cut off, not a return address */
	bool switched;		/* the caller may run on another stack */
	uint64_t user_pc;
};

/* The caller's return address is at addr, its stack pointer just above (a function's first
 * instruction, where every x86-64 CIE says the same, or a thunk). */
static enum step_result step_return_at(const struct unwind_regs *cur, uint64_t addr,
				       unwind_read_fn rd, void *rdctx, struct step *st)
{
	uint64_t ra;

	if (read_u64(rd, rdctx, addr, &ra))
		return STEP_END;
	st->next = *cur;
	st->next.r[UNW_REG_RA] = ra;
	st->next.r[UNW_REG_RSP] = addr + 8;
	st->cfa = addr + 8;
	st->flags = PROFILE_FRAME_CFI;
	st->exact = false;
	st->switched = false;
	return STEP_NEXT;
}

/* Linux's retpoline and return thunks, whose ORC entries are deliberately empty. */
static bool in_thunk(const struct unwinder *uw, uint64_t pc)
{
	const char *name = uw->syms ? symtab_name(uw->syms, symtab_lookup(uw->syms, pc, NULL)) : NULL;

	return name && (!strncmp(name, "__x86_indirect_thunk", 20) ||
			!strcmp(name, "__x86_return_thunk"));
}

/* In a thunk the caller's return address is at rsp, unless the retpoline's own call has
 * pushed one more above it: a pc inside the same thunk (the speculation trap), or, once that
 * slot was overwritten with the branch target, a function's first byte.  Then it is at
 * rsp + 8. */
static enum step_result step_thunk(const struct unwinder *uw, uint64_t pc,
				   const struct unwind_regs *cur, unwind_read_fn rd, void *rdctx,
				   struct step *st)
{
	uint64_t rsp = cur->r[UNW_REG_RSP], top, off;
	long sym;

	if (read_u64(rd, rdctx, rsp, &top))
		return STEP_END;
	sym = symtab_lookup(uw->syms, top, &off);
	if (sym >= 0 && (sym == symtab_lookup(uw->syms, pc, NULL) || off == 0))
		rsp += 8;
	return step_return_at(cur, rsp, rd, rdctx, st);
}

/* Is ra the return address of a call an entry stub (asm_exc_*, asm_sysvec_*) made right
 * below the hardware's frame?  The stub's own ORC entry at the call says so: an iret frame
 * 8 bytes above its stack pointer (the error code slot between them). */
static bool stub_return(const struct unwinder *uw, uint64_t ra, long helper)
{
	struct orc_entry e;
	long sym = symtab_lookup(uw->syms, ra - 1, NULL);

	return sym >= 0 && sym != helper && orc_in_entry_text(uw->orc, ra - 1 - uw->offset) &&
	       !orc_find(uw->orc, ra - 1 - uw->offset, &e) && orc_iret_at_sp(&e, 8);
}

/* error_entry and paranoid_entry, which the entry stubs call to push pt_regs, have ORC entries
 * describing those pt_regs (the iret frame while the registers are pushed, all of them after),
 * so ORC read as it stands goes from the helper straight to the interrupted code and leaves
 * out the stub that called it, which gdb shows and every other interrupt stack here has.  The
 * stub's return address is on top of the pt_regs once they are pushed, and in rsi while they
 * are being pushed (PUSH_REGS save_ret=1 moves it there): it is taken when the stub's ORC at
 * the call agrees on where the hardware's frame is.  A helper is code in the entry text whose
 * first instruction is called (a call entry), unlike the stubs the hardware enters. */
static bool entry_helper_return(const struct unwinder *uw, uint64_t lookup,
				const struct orc_step *os, const struct unwind_regs *cur,
				unwind_read_fn rd, void *rdctx, uint64_t *ra)
{
	struct orc_entry first;
	uint64_t off, below;
	long helper;

	if (!os->regs || !uw->syms || !orc_in_entry_text(uw->orc, lookup - uw->offset) ||
	    os->iret_at < ORC_PT_REGS_IP + 8)
		return false;
	helper = symtab_lookup(uw->syms, lookup, &off);
	if (helper < 0 || orc_find(uw->orc, lookup - off - uw->offset, &first) ||
	    first.type != ORC_CALL)
		return false;
	/* pt_regs begin PT_IP slots below the hardware's frame; the return address is below. */
	if (!read_u64(rd, rdctx, os->iret_at - ORC_PT_REGS_IP - 8, &below) &&
	    stub_return(uw, below, helper)) {
		*ra = below;
		return true;
	}
	if (valid(cur, UNW_REG_RSI) && stub_return(uw, cur->r[UNW_REG_RSI], helper)) {
		*ra = cur->r[UNW_REG_RSI];
		return true;
	}
	return false;
}

/* ORC, a Linux kernel's own unwind tables. */
static enum step_result step_orc(const struct unwinder *uw, uint64_t lookup, bool exact,
				 const struct unwind_regs *cur, unwind_read_fn rd, void *rdctx,
				 struct step *st)
{
	struct orc_entry e;
	struct orc_step os;
	uint64_t ra;
	int ret;

	if (!uw->orc || orc_find(uw->orc, lookup - uw->offset, &e))
		return STEP_NONE;
	if (exact && (e.type == ORC_END_OF_STACK || e.type == ORC_UNDEFINED)) {
		/* Entry code with no stack state is switching between user and kernel mode
		 * (after syscall, around sysret): user mode is all there is below it, at a pc
		 * only the registers might tell. */
		if (orc_in_entry_text(uw->orc, lookup - uw->offset)) {
			st->user_pc = 0;
			return STEP_USER;
		}
		/* Since 6.4 the end of the stack has a mark of its own (ret_from_fork_asm,
		 * common_startup_64): there the stack ends, even at a first instruction. */
		if (e.type == ORC_END_OF_STACK && orc_format(uw->orc) == ORC_FORMAT_6_4)
			return STEP_END;
		/* Before 6.4 "no information" and "end of stack" were one mark, also put on code
		 * such as the retpoline thunks: those have a rule of their own, and at any
		 * function's first instruction the entry rule still knows where the caller is. */
		if (in_thunk(uw, lookup) && step_thunk(uw, lookup, cur, rd, rdctx, st) == STEP_NEXT)
			return STEP_NEXT;
		if (at_entry(uw, lookup))
			return STEP_NONE;
	}
	ret = orc_step(&e, cur, rd, rdctx, &st->next, &os);
	if (ret == -ENOENT)
		return STEP_NONE;
	if (ret)
		return STEP_END;	/* the kernel marks its outermost frames; or unreadable */
	if (entry_helper_return(uw, lookup, &os, cur, rd, rdctx, &ra)) {
		/* The stub at its call: the interrupted code's registers, the stub's return
		 * address, its stack pointer at the error code slot below the hardware's frame. */
		st->next.r[UNW_REG_RA] = ra;
		st->next.r[UNW_REG_RSP] = os.iret_at - 8;
		st->next.valid |= 1u << UNW_REG_RA | 1u << UNW_REG_RSP;
		st->cfa = os.iret_at - 8;
		st->flags = PROFILE_FRAME_CFI;
		st->exact = false;
		st->switched = false;
		return STEP_NEXT;
	}
	if (os.user) {
		/* The kernel was entered from user mode: that is where this stack ends, at the
		 * user pc (named [user], never as a kernel frame). */
		st->user_pc = st->next.r[UNW_REG_RA];
		return STEP_USER;
	}
	st->cfa = os.cfa;
	st->flags = PROFILE_FRAME_CFI;
	st->exact = os.signal;
	st->switched = os.switched_stack || os.regs;
	return STEP_NEXT;
}

/* DWARF call-frame information. */
static enum step_result step_dwarf(const struct unwinder *uw, uint64_t lookup,
				   const struct unwind_regs *cur, unwind_read_fn rd, void *rdctx,
				   struct step *st)
{
	struct cfi_row row;
	int ret = uw->cfi ? cfi_find(uw->cfi, lookup - uw->offset, &row) : -ENOENT;

	if (ret == -ENOENT)
		return STEP_NONE;
	/* An undefined return address marks the outermost frame. */
	if (ret || step_cfi(&row, cur, rd, rdctx, &st->next, &st->cfa) ||
	    !valid(&st->next, UNW_REG_RA))
		return STEP_END;
	st->flags = PROFILE_FRAME_CFI;
	st->exact = row.signal_frame;
	st->switched = false;
	return STEP_NEXT;
}

/* Where no unwind data covers the pc: a function's first instruction (nothing pushed yet),
 * else the rbp chain. */
static enum step_result step_fallback(const struct unwinder *uw, uint64_t lookup, bool exact,
				      const struct unwind_regs *cur, unwind_read_fn rd,
				      void *rdctx, struct step *st)
{
	if (exact && at_entry(uw, lookup) &&
	    step_return_at(cur, cur->r[UNW_REG_RSP], rd, rdctx, st) == STEP_NEXT)
		return STEP_NEXT;
	if (uw->no_fp_fallback || step_fp(cur, rd, rdctx, &st->next, &st->cfa))
		return STEP_END;
	st->flags = PROFILE_FRAME_FP;
	st->exact = false;
	st->switched = false;
	return STEP_NEXT;
}

/* A pc outside the kernel's own symbols may be in a loaded module: its frame is unwound with
 * that module's symbols and ORC tables (at runtime addresses), through *mod. */
static const struct unwinder *code_for(const struct unwinder *uw, uint64_t pc,
				       struct unwinder *mod)
{
	if (!uw->modules || !uw->syms || symtab_lookup(uw->syms, pc, NULL) >= 0)
		return uw;
	*mod = *uw;
	mod->cfi = NULL;
	mod->offset = 0;
	return modules_code(uw->modules, pc, &mod->syms, &mod->orc) ? mod : uw;
}

int unwind_stack(const struct unwinder *uw, const struct unwind_regs *regs, unwind_read_fn rd,
		 void *rdctx, unwind_frame_fn cb, void *cbctx)
{
	unsigned max = uw->max_depth ? uw->max_depth : DEFAULT_MAX_DEPTH;
	struct unwind_regs cur = *regs;
	unsigned flags = PROFILE_FRAME_CFI | UNWIND_INNERMOST;
	bool exact = true;	/* the innermost pc is where the vCPU is, not a return address */
	bool have_cfa = false;
	uint64_t prev_cfa = 0;
	int depth = 0;

	if (!valid(&cur, UNW_REG_RA) || !valid(&cur, UNW_REG_RSP))
		return -EINVAL;
	while ((unsigned)depth < max) {
		uint64_t pc = cur.r[UNW_REG_RA];
		bool interrupted = exact;	/* this frame was cut off by a trap: any stack */
		enum step_result res;
		struct step st;
		struct unwinder in_module;
		const struct unwinder *here = code_for(uw, exact ? pc : pc - 1, &in_module);

		/* A saved pc at a function's first byte, with nothing before it, was no call's
		 * return address: a task switched to for the first time "returns" to Linux's
		 * ret_from_fork.  It is where execution goes on, as is. */
		if (!exact && at_entry(uw, pc) && symtab_lookup(uw->syms, pc - 1, NULL) < 0)
			exact = true;
		uint64_t lookup = exact ? pc : pc - 1;

		if (!exact)
			flags |= UNWIND_RETADDR;
		if (here->syms && symtab_lookup(here->syms, lookup, NULL) < 0) {
			cb(cbctx, pc, flags | PROFILE_FRAME_UNKNOWN);
			return depth + 1;
		}
		if (cb(cbctx, pc, flags))
			return depth + 1;
		depth++;

		res = step_orc(here, lookup, exact, &cur, rd, rdctx, &st);
		if (res == STEP_NONE)
			res = step_dwarf(here, lookup, &cur, rd, rdctx, &st);
		if (res == STEP_NONE)
			res = step_fallback(here, lookup, exact, &cur, rd, rdctx, &st);
		if (res == STEP_USER) {
			cb(cbctx, st.user_pc, PROFILE_FRAME_USER);
			return depth + 1;
		}
		if (res != STEP_NEXT || !st.next.r[UNW_REG_RA])
			break;
		/* The stack grows down: each caller's CFA lies above its callee's.  Code that a
		 * trap interrupted may be on another stack, and so may the caller of code that
		 * switched stacks (ORC says so), so only a normal frame is held to that. */
		if (have_cfa && st.cfa <= prev_cfa && !interrupted && !st.switched)
			break;
		if (st.next.r[UNW_REG_RA] == pc && valid(&st.next, UNW_REG_RSP) &&
		    st.next.r[UNW_REG_RSP] == cur.r[UNW_REG_RSP])
			break;
		prev_cfa = st.cfa;
		have_cfa = true;
		cur = st.next;
		flags = st.flags;
		exact = st.exact;
		if (!valid(&cur, UNW_REG_RSP))
			break;
	}
	return depth;
}
