/* Unit tests for Linux's ORC tables (profiler/orc.c) and unwinding with them (unwind.c):
 * hand-built tables in each of the three entry formats, and hand-built stacks for the shapes
 * a kernel's stacks take: a system call's pt_regs down to user mode, an interrupt on its own
 * stack whose caller's stack pointer was saved at the top (SP_INDIRECT), an iret frame into
 * interrupted kernel code, the kernel's end-of-stack mark, and entry code without stack
 * state.  test_linux.sh does the same on Debian's real kernel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "profiler/profile.h"
#include "profiler/profiler_internal.h"
#include "profiler/symbols.h"
#include "profiler/unwind.h"
#include "tests/unit/elf_file.h"

/* ORC registers and the 6.1 (<= 6.2) flag bits. */
enum { R_UNDEF, R_PREV_SP, R_DX, R_DI, R_BP, R_SP, R_R10, R_R13, R_BP_IND, R_SP_IND };
enum { T_CALL, T_REGS, T_REGS_PARTIAL };

struct raw {
	uint64_t ip;
	int16_t sp_off, bp_off;
	unsigned sp_reg, bp_reg, type, end;
};

/* Encode entries the way objtool lays them out for a 6.1 kernel: ips relative to their own
 * slot in a table at ip_addr, entries of 6 bytes, in the order given (not necessarily
 * sorted). */
static struct orc *build(const struct raw *r, size_t n, enum orc_format fmt)
{
	static uint8_t ips[64 * 4], ents[64 * ORC_ENTRY_SIZE];
	const uint64_t ip_addr = 0xffffffff82000000ull;
	struct orc *o;

	assert_true(n <= 64);
	for (size_t i = 0; i < n; i++) {
		int32_t rel = (int32_t)(r[i].ip - (ip_addr + 4 * i));
		unsigned bits = r[i].sp_reg | r[i].bp_reg << 4;

		if (fmt == ORC_FORMAT_6_4) {
			/* 6.4: 0 undefined, 1 end of stack, 2 call, 3 regs, 4 partial regs */
			unsigned t = r[i].sp_reg == R_UNDEF ? (r[i].end ? 1 : 0) : r[i].type + 2;
			bits |= t << 8 | (r[i].type != T_CALL) << 11;
		} else if (fmt == ORC_FORMAT_6_3) {
			bits |= r[i].type << 8 | (r[i].type != T_CALL) << 10 | r[i].end << 11;
		} else {
			bits |= r[i].type << 8 | r[i].end << 10;
		}
		memcpy(ips + 4 * i, &rel, 4);
		memcpy(ents + ORC_ENTRY_SIZE * i, &r[i].sp_off, 2);
		memcpy(ents + ORC_ENTRY_SIZE * i + 2, &r[i].bp_off, 2);
		ents[ORC_ENTRY_SIZE * i + 4] = (uint8_t)bits;
		ents[ORC_ENTRY_SIZE * i + 5] = (uint8_t)(bits >> 8);
	}
	assert_int_equal(orc_from_tables(ips, 4 * n, ip_addr, ents, ORC_ENTRY_SIZE * n, fmt, &o), 0);
	return o;
}

/* A little kernel: A (pushes rbp), B, entry code (ENTRY: no state at its first
 * instruction, full pt_regs after, an iret frame further on), C (switched to the irq stack
 * with the old rsp at the top of it), D, and E, the outermost. */
#define A 0xffffffff81001000ull
#define B 0xffffffff81002000ull
#define ENTRY 0xffffffff81003000ull
#define C 0xffffffff81004000ull
#define D 0xffffffff81005000ull
#define E 0xffffffff81006000ull
#define END_TEXT 0xffffffff81007000ull
/* In the entry text too: an entry stub the hardware enters (an iret frame at rsp; after
 * `pushq $-1` at +4 the frame is at rsp + 8, then `call HELPER`, returning to +9, where
 * `movq %rax, %rsp` makes rsp the pt_regs), and HELPER, the error_entry it calls: a call
 * frame at its first instructions, the iret frame while it pushes the registers (the return
 * address moved to rsi), full pt_regs at rsp, then at rsp + 8 under the return address. */
#define STUB 0xffffffff81003800ull
#define HELPER 0xffffffff81003c00ull

static const struct raw kernel[] = {
	{ .ip = B, .sp_reg = R_SP, .sp_off = 8, .bp_reg = R_UNDEF, .type = T_CALL },
	{ .ip = A, .sp_reg = R_SP, .sp_off = 16, .bp_reg = R_PREV_SP, .bp_off = -16, .type = T_CALL },
	{ .ip = ENTRY, .sp_reg = R_UNDEF, .end = 1 },
	{ .ip = ENTRY + 0x10, .sp_reg = R_SP, .sp_off = 0, .type = T_REGS },
	{ .ip = ENTRY + 0x20, .sp_reg = R_SP, .sp_off = 8, .type = T_REGS_PARTIAL },
	{ .ip = C, .sp_reg = R_SP_IND, .sp_off = 8, .type = T_CALL },
	{ .ip = D, .sp_reg = R_SP, .sp_off = 8, .type = T_CALL },
	{ .ip = E, .sp_reg = R_UNDEF, .end = 1 },
	{ .ip = END_TEXT, .sp_reg = R_UNDEF, .end = 0 },
	{ .ip = STUB, .sp_reg = R_SP, .sp_off = 0, .type = T_REGS_PARTIAL },
	{ .ip = STUB + 4, .sp_reg = R_SP, .sp_off = 8, .type = T_REGS_PARTIAL },
	{ .ip = STUB + 9, .sp_reg = R_SP, .sp_off = 0, .type = T_REGS },
	{ .ip = HELPER, .sp_reg = R_SP, .sp_off = 8, .type = T_CALL },
	{ .ip = HELPER + 1, .sp_reg = R_SP, .sp_off = 16, .type = T_CALL },
	{ .ip = HELPER + 0xb, .sp_reg = R_SP, .sp_off = 24, .type = T_REGS_PARTIAL },
	{ .ip = HELPER + 0x10, .sp_reg = R_SP, .sp_off = 56, .type = T_REGS_PARTIAL },
	{ .ip = HELPER + 0x20, .sp_reg = R_SP, .sp_off = 0, .type = T_REGS },
	{ .ip = HELPER + 0x21, .sp_reg = R_SP, .sp_off = 8, .type = T_REGS },
};

/* The symbols of that kernel, in an ELF file of their own (symtab_open reads files). */
static const struct { const char *name; uint64_t addr, size; } kernel_syms[] = {
	{ "A", A, 0x1000 }, { "B", B, 0x1000 }, { "entry", ENTRY, 0x800 },
	{ "asm_stub", STUB, 0x400 }, { "error_entry", HELPER, 0x400 }, { "C", C, 0x1000 },
	{ "D", D, 0x1000 }, { "E", E, 0x1000 },
};

static struct symtab *kernel_symtab(void)
{
	char path[] = "/tmp/kprof-orc-test.XXXXXX", strtab[256];
	Elf64_Sym syms[1 + KP_ARRAY_SIZE(kernel_syms)];
	size_t nstr = 1;
	struct symtab *st;

	memset(syms, 0, sizeof(syms));
	strtab[0] = '\0';
	for (size_t i = 0; i < KP_ARRAY_SIZE(kernel_syms); i++) {
		size_t len = strlen(kernel_syms[i].name) + 1;

		syms[1 + i] = (Elf64_Sym){ .st_name = (Elf64_Word)nstr, .st_shndx = 1,
					   .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC),
					   .st_value = kernel_syms[i].addr,
					   .st_size = kernel_syms[i].size };
		memcpy(strtab + nstr, kernel_syms[i].name, len);
		nstr += len;
	}
	const struct test_section sections[] = {
		{ .name = ".text", .type = SHT_NOBITS, .flags = SHF_ALLOC | SHF_EXECINSTR,
		  .addr = A, .size = END_TEXT - A },
		{ .name = ".symtab", .type = SHT_SYMTAB, .link = 3, .info = 1,
		  .entsize = sizeof(Elf64_Sym), .data = syms, .size = sizeof(syms) },
		{ .name = ".strtab", .type = SHT_STRTAB, .data = strtab, .size = nstr },
	};
	assert_int_equal(test_write_elf(path, sections, KP_ARRAY_SIZE(sections)), 0);
	assert_int_equal(symtab_open(path, &st), 0);
	unlink(path);
	return st;
}

/* Guest memory: a task stack and an irq stack (the irq stack above the task stack, so the
 * switch back makes the stack pointer fall). */
#define TASK 0xffffc90000010000ull
#define IRQ 0xffffc90000080000ull
struct mem {
	uint64_t task[64], irq[64];
};

static ssize_t mem_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct mem *m = ctx;
	const uint8_t *base;
	uint64_t start;

	if (addr >= TASK && addr < TASK + sizeof(m->task)) {
		base = (const uint8_t *)m->task;
		start = TASK;
	} else if (addr >= IRQ && addr < IRQ + sizeof(m->irq)) {
		base = (const uint8_t *)m->irq;
		start = IRQ;
	} else {
		return -EFAULT;
	}
	len = KP_MIN(len, sizeof(m->task) - (size_t)(addr - start));
	memcpy(buf, base + (addr - start), len);
	return (ssize_t)len;
}

struct seen {
	uint64_t pc[16];
	unsigned flags[16];
	size_t n;
};

static int on_frame(void *ctx, uint64_t pc, unsigned flags)
{
	struct seen *s = ctx;

	if (s->n < 16) {
		s->pc[s->n] = pc;
		s->flags[s->n] = flags & ~UNWIND_FLAGS;
		s->n++;
	}
	return 0;
}

/* Unwind from rip/rsp/rbp (and rsi, when not 0), with the kernel's symbols when st. */
static size_t run_with(struct orc *o, const struct symtab *st, struct mem *m, uint64_t rip,
		       uint64_t rsp, uint64_t rbp, uint64_t rsi, struct seen *s)
{
	struct unwinder uw = { .orc = o, .syms = st };
	struct unwind_regs regs = { .valid = 1u << UNW_REG_RA | 1u << UNW_REG_RSP | 1u << UNW_REG_RBP };

	regs.r[UNW_REG_RA] = rip;
	regs.r[UNW_REG_RSP] = rsp;
	regs.r[UNW_REG_RBP] = rbp;
	if (rsi) {
		regs.r[UNW_REG_RSI] = rsi;
		regs.valid |= 1u << UNW_REG_RSI;
	}
	memset(s, 0, sizeof(*s));
	return (size_t)unwind_stack(&uw, &regs, mem_read, m, on_frame, s);
}

static size_t run(struct orc *o, struct mem *m, uint64_t rip, uint64_t rsp, uint64_t rbp,
		  struct seen *s)
{
	return run_with(o, NULL, m, rip, rsp, rbp, 0, s);
}

static void test_formats(void **state)
{
	static const enum orc_format fmts[] = { ORC_FORMAT_6_2, ORC_FORMAT_6_3, ORC_FORMAT_6_4 };

	(void)state;
	for (size_t f = 0; f < KP_ARRAY_SIZE(fmts); f++) {
		struct orc *o = build(kernel, KP_ARRAY_SIZE(kernel), fmts[f]);
		struct orc_entry e;

		assert_int_equal(orc_count(o), KP_ARRAY_SIZE(kernel));
		assert_int_equal(orc_find(o, A + 5, &e), 0);
		assert_int_equal(e.type, ORC_CALL);
		assert_int_equal(e.sp_offset, 16);
		assert_int_equal(e.bp_offset, -16);
		assert_int_equal(e.sp_reg, R_SP);
		assert_int_equal(e.bp_reg, R_PREV_SP);
		assert_false(e.signal);
		assert_int_equal(orc_find(o, ENTRY + 0x18, &e), 0);
		assert_int_equal(e.type, ORC_REGS);
		assert_true(e.signal);
		assert_int_equal(orc_find(o, ENTRY + 0x20, &e), 0);
		assert_int_equal(e.type, ORC_REGS_PARTIAL);
		assert_int_equal(orc_find(o, E + 0x100, &e), 0);
		assert_int_equal(e.type, ORC_END_OF_STACK);
		assert_int_equal(orc_find(o, END_TEXT + 4, &e), -ENOENT);	/* past the table */
		assert_int_equal(orc_find(o, END_TEXT - 1, &e), 0);
		assert_int_equal(orc_find(o, A - 1, &e), -ENOENT);		/* before it */
		orc_free(o);
	}
}

static void test_bad_tables(void **state)
{
	uint8_t ips[8] = { 0 }, ents[6] = { 0 };
	struct orc *o = (struct orc *)1;

	(void)state;
	/* Two ips, one entry. */
	assert_int_equal(orc_from_tables(ips, 8, 0, ents, 6, ORC_FORMAT_6_2, &o), -EINVAL);
	assert_null(o);
	assert_int_equal(orc_from_tables(ips, 7, 0, ents, 6, ORC_FORMAT_6_2, &o), -EINVAL);
	assert_int_equal(orc_from_tables(ips, 0, 0, ents, 0, ORC_FORMAT_6_2, &o), 0);
	assert_int_equal(orc_count(o), 0);
	struct orc_entry e;
	assert_int_equal(orc_find(o, 0x1000, &e), -ENOENT);
	orc_free(o);
}

/* A system call: A called from B called from the entry code, whose pt_regs hold user
 * mode's registers.  The stack ends in one [user] frame at the user pc. */
static void test_syscall_to_user(void **state)
{
	struct orc *o = build(kernel, KP_ARRAY_SIZE(kernel), ORC_FORMAT_6_2);
	struct mem m;
	struct seen s;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.task[0] = 0xdead0000;			/* A's saved rbp */
	m.task[1] = B + 4;			/* A's return address */
	m.task[2] = ENTRY + 0x14;		/* B's return address, into the entry code */
	/* pt_regs at task[3]: r15 ... ip (slot 16), cs (17), flags, sp (19), ss */
	m.task[3 + 4] = 0x7ffd1000;		/* bp */
	m.task[3 + 16] = 0x401234;		/* ip */
	m.task[3 + 17] = 0x33;			/* cs: user mode */
	m.task[3 + 19] = 0x7ffd0f00;		/* sp */
	assert_int_equal(run(o, &m, A + 4, TASK, 0x1111, &s), 4);
	assert_int_equal(s.pc[0], A + 4);
	assert_int_equal(s.pc[1], B + 4);
	assert_int_equal(s.pc[2], ENTRY + 0x14);
	assert_int_equal(s.pc[3], 0x401234);
	assert_int_equal(s.flags[3], PROFILE_FRAME_USER);
	assert_int_equal(s.flags[0] | s.flags[1] | s.flags[2], 0);
	orc_free(o);
}

/* An interrupt handler's callee on the irq stack; the irq-stack switcher C saved the task
 * stack pointer at the top of the irq stack; D called C; E is the outermost frame. */
static void test_irq_stack_switch(void **state)
{
	struct orc *o = build(kernel, KP_ARRAY_SIZE(kernel), ORC_FORMAT_6_4);
	struct mem m;
	struct seen s;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.irq[0] = 0xdead0000;			/* A's saved rbp */
	m.irq[1] = C + 0x10;			/* A's return address, into C */
	m.irq[2] = TASK + 16;			/* the task stack pointer C switched from */
	m.task[2] = D + 0x10;			/* C's return address ((saved sp + 8) - 8) */
	m.task[3] = E + 0x10;			/* D's return address */
	assert_int_equal(run(o, &m, A + 4, IRQ, 0, &s), 4);
	assert_int_equal(s.pc[1], C + 0x10);
	assert_int_equal(s.pc[2], D + 0x10);
	assert_int_equal(s.pc[3], E + 0x10);	/* E carries the end-of-stack mark: no more */
	for (size_t i = 0; i < s.n; i++)
		assert_int_equal(s.flags[i], 0);
	orc_free(o);
}

/* An iret frame (an interrupt or exception entered from kernel mode) continues into the
 * interrupted kernel code, at its exact pc. */
static void test_iret_frame_into_kernel(void **state)
{
	struct orc *o = build(kernel, KP_ARRAY_SIZE(kernel), ORC_FORMAT_6_3);
	struct mem m;
	struct seen s;

	(void)state;
	memset(&m, 0, sizeof(m));
	/* rsp -> error code, then ip, cs, flags, sp, ss */
	m.task[1] = D;				/* interrupted at D's first instruction... */
	m.task[2] = 0x10;			/* ...in kernel mode */
	m.task[3] = 0x246;
	m.task[4] = TASK + 8 * 10;
	m.task[10] = E + 0x20;			/* D's return address */
	assert_int_equal(run(o, &m, ENTRY + 0x24, TASK, 0, &s), 3);
	assert_int_equal(s.pc[1], D);		/* exact: looked up as D, not D - 1 */
	assert_int_equal(s.pc[2], E + 0x20);
	orc_free(o);
}

/* Right after `call error_entry` the ORC entry still says "iret frame at rsp + 8", but the
 * registers were pushed below it and rsp points at the full pt_regs: what the iret reading
 * gives is no frame (cs 0, ip 1), and the pt_regs at rsp are used instead. */
static void test_error_entry_return(void **state)
{
	struct orc *o = build(kernel, KP_ARRAY_SIZE(kernel), ORC_FORMAT_6_2);
	struct mem m;
	struct seen s;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.task[1] = 1;				/* "ip" in the slot ORC names */
	m.task[16] = 0x402000;			/* pt_regs at rsp: ip */
	m.task[17] = 0x33;			/* cs */
	m.task[19] = 0x7ffd2000;		/* sp */
	assert_int_equal(run(o, &m, ENTRY + 0x24, TASK, 0, &s), 2);
	assert_int_equal(s.pc[1], 0x402000);
	assert_int_equal(s.flags[1], PROFILE_FRAME_USER);
	/* Neither reading makes sense: the stack ends, no frame is invented. */
	m.task[17] = 0;
	assert_int_equal(run(o, &m, ENTRY + 0x24, TASK, 0, &s), 1);
	orc_free(o);
}

/* The hardware's frame at task[at] (pt_regs' ip slot): the interrupted code's ip, cs and
 * sp (where D's return address is). */
static void put_iret(struct mem *m, size_t at, uint64_t ip, uint64_t cs)
{
	m->task[at] = ip;
	m->task[at + 1] = cs;
	m->task[at + 2] = 0x246;
	m->task[at + 3] = TASK + 8 * 50;
	m->task[50] = E + 0x20;			/* D's return address */
}

/* A stop in error_entry shows the stub that called it, as gdb does and as every other
 * interrupt stack shows its entry: after the pushes the return address is on top of the
 * pt_regs; during them it is in rsi; and where neither is the stub's (its ORC at the call
 * does not put the iret frame where these pt_regs have it), no frame is invented. */
static void test_error_entry_caller(void **state)
{
	struct orc *o = build(kernel, KP_ARRAY_SIZE(kernel), ORC_FORMAT_6_4);
	struct symtab *st = kernel_symtab();
	struct mem m;
	struct seen s;

	(void)state;
	orc_set_entry_text(o, ENTRY, C);
	memset(&m, 0, sizeof(m));
	/* All pushed: the return address at task[4], pt_regs from task[5]. */
	m.task[4] = STUB + 9;
	put_iret(&m, 5 + 16, D + 0x10, 0x10);
	assert_int_equal(run_with(o, st, &m, HELPER + 0x30, TASK + 8 * 4, 0, 0, &s), 4);
	assert_int_equal(s.pc[1], STUB + 9);
	assert_int_equal(s.pc[2], D + 0x10);	/* the interrupted code, exact */
	assert_int_equal(s.pc[3], E + 0x20);
	/* ... and from a function error_entry called (sync_regs), one frame more. */
	m.task[3] = HELPER + 0x35;
	assert_int_equal(run_with(o, st, &m, B + 4, TASK + 8 * 3, 0, 0, &s), 5);
	assert_int_equal(s.pc[1], HELPER + 0x35);
	assert_int_equal(s.pc[2], STUB + 9);
	assert_int_equal(s.pc[3], D + 0x10);
	/* Entered from user mode: the stub, then [user]. */
	put_iret(&m, 5 + 16, 0x401000, 0x33);
	assert_int_equal(run_with(o, st, &m, HELPER + 0x30, TASK + 8 * 4, 0, 0, &s), 3);
	assert_int_equal(s.pc[1], STUB + 9);
	assert_int_equal(s.pc[2], 0x401000);
	assert_int_equal(s.flags[2], PROFILE_FRAME_USER);

	/* Pushing: the iret frame at rsp + 56 (task[7 + 7]), the return address in rsi. */
	memset(&m, 0, sizeof(m));
	put_iret(&m, 7 + 7, D + 0x10, 0x10);
	assert_int_equal(run_with(o, st, &m, HELPER + 0x10, TASK + 8 * 7, 0, STUB + 9, &s), 4);
	assert_int_equal(s.pc[1], STUB + 9);
	assert_int_equal(s.pc[2], D + 0x10);
	/* rsi holds something else: the interrupted code follows error_entry, as ORC says. */
	assert_int_equal(run_with(o, st, &m, HELPER + 0x10, TASK + 8 * 7, 0, C + 9, &s), 3);
	assert_int_equal(s.pc[1], D + 0x10);
	/* The stub's own pt_regs frame with a stale return address below: the stub is no
	 * helper (the hardware enters it), nothing is added. */
	memset(&m, 0, sizeof(m));
	m.task[4] = STUB + 9;
	put_iret(&m, 5 + 16, D + 0x10, 0x10);
	assert_int_equal(run_with(o, st, &m, STUB + 0x10, TASK + 8 * 5, 0, 0, &s), 3);
	assert_int_equal(s.pc[1], D + 0x10);
	symtab_free(st);
	orc_free(o);
}

/* At the first instruction of code marked as the end of the stack (E; ret_from_fork_asm in
 * 6.12), with what looks like a return address at rsp: since 6.4 the mark says "end" and
 * nothing else, so the stack is that one frame; before, the same mark also meant "no
 * information", and the function-entry rule takes the return address at rsp. */
static void test_end_of_stack_at_entry(void **state)
{
	struct symtab *st = kernel_symtab();
	struct orc *o = build(kernel, KP_ARRAY_SIZE(kernel), ORC_FORMAT_6_4);
	struct mem m;
	struct seen s;

	(void)state;
	orc_set_entry_text(o, ENTRY, C);
	memset(&m, 0, sizeof(m));
	m.task[0] = D + 0x10;
	assert_int_equal(run_with(o, st, &m, E, TASK, 0, 0, &s), 1);
	orc_free(o);
	o = build(kernel, KP_ARRAY_SIZE(kernel), ORC_FORMAT_6_2);
	orc_set_entry_text(o, ENTRY, C);
	assert_int_equal(run_with(o, st, &m, E, TASK, 0, 0, &s), 2);
	assert_int_equal(s.pc[1], D + 0x10);
	orc_free(o);
	symtab_free(st);
}

/* Entry code with no stack state (after syscall, before the stack switch) sits between
 * user and kernel mode: the stack is that frame and [user].  Outside the entry text the
 * same mark ends the stack. */
static void test_entry_text_without_state(void **state)
{
	struct orc *o = build(kernel, KP_ARRAY_SIZE(kernel), ORC_FORMAT_6_2);
	struct mem m;
	struct seen s;

	(void)state;
	memset(&m, 0, sizeof(m));
	orc_set_entry_text(o, ENTRY, C);
	assert_true(orc_in_entry_text(o, ENTRY + 4));
	assert_false(orc_in_entry_text(o, C));
	assert_int_equal(run(o, &m, ENTRY + 4, 0x7ffd0000, 0, &s), 2);
	assert_int_equal(s.pc[0], ENTRY + 4);
	assert_int_equal(s.flags[1], PROFILE_FRAME_USER);
	assert_int_equal(run(o, &m, E + 4, TASK, 0, &s), 1);
	orc_free(o);
}

/* Memory that cannot be read ends the stack without inventing frames. */
static void test_unreadable(void **state)
{
	struct orc *o = build(kernel, KP_ARRAY_SIZE(kernel), ORC_FORMAT_6_2);
	struct mem m;
	struct seen s;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.task[51] = B + 4;
	m.task[52] = ENTRY + 0x14;		/* pt_regs would run past the task stack */
	assert_int_equal(run(o, &m, A + 4, TASK + 8 * 50, 0, &s), 3);
	assert_int_equal(s.pc[2], ENTRY + 0x14);
	for (size_t i = 0; i < s.n; i++)
		assert_int_equal(s.flags[i], 0);
	orc_free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_bad_tables),
		cmocka_unit_test(test_syscall_to_user),
		cmocka_unit_test(test_irq_stack_switch),
		cmocka_unit_test(test_iret_frame_into_kernel),
		cmocka_unit_test(test_error_entry_return),
		cmocka_unit_test(test_error_entry_caller),
		cmocka_unit_test(test_end_of_stack_at_entry),
		cmocka_unit_test(test_entry_text_without_state),
		cmocka_unit_test(test_unreadable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
