/* Unit tests for the CFI index and interpreter (hand-built CIE/FDE bytes in a small ELF
 * file), DWARF expressions, and the unwinder on a synthetic stack. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profiler/profile.h"
#include "profiler/profiler_internal.h"
#include "profiler/unwind.h"
#include "tests/unit/elf_file.h"

/* ---- a tiny ELF with .debug_frame and .eh_frame built byte by byte ---- */

struct bytes {
	uint8_t d[1024];
	size_t n;
};

static void put(struct bytes *b, const void *p, size_t n)
{
	memcpy(b->d + b->n, p, n);
	b->n += n;
}
static void u8(struct bytes *b, uint8_t v) { put(b, &v, 1); }
static void u32(struct bytes *b, uint32_t v) { put(b, &v, 4); }
static void u64(struct bytes *b, uint64_t v) { put(b, &v, 8); }

/* Pad an entry that started at `start` (its length field) to a multiple of 8 with
 * DW_CFA_nop and patch the length. */
static void finish_entry(struct bytes *b, size_t start)
{
	while ((b->n - start) % 8)
		u8(b, 0);
	uint32_t len = (uint32_t)(b->n - start - 4);
	memcpy(b->d + start, &len, 4);
}

static void fde(struct bytes *b, uint32_t cie_field, uint64_t lo, uint64_t len,
		const uint8_t *ins, size_t nins, bool eh)
{
	size_t start = b->n;

	u32(b, 0);
	/* .debug_frame: the CIE's section offset; .eh_frame: distance back to the CIE. */
	u32(b, eh ? (uint32_t)(b->n - cie_field) : cie_field);
	u64(b, lo);
	u64(b, len);
	if (eh)
		u8(b, 0);	/* augmentation data length ("z") */
	put(b, ins, nins);
	finish_entry(b, start);
}

static void build_debug_frame(struct bytes *b)
{
	/* CIE: version 1, no augmentation, code align 1, data align -8, RA column 16;
	 * CFA = rsp + 8, RA at CFA - 8: the state at a function's first instruction. */
	static const uint8_t cie_ins[] = { 0x0c, 0x07, 0x08, 0x90, 0x01 };
	/* push rbp; mov rsp,rbp; ... then at +0x20 back to rsp-based. */
	static const uint8_t f1[] = {
		0x41,			/* advance_loc 1 */
		0x0e, 0x10,		/* def_cfa_offset 16 */
		0x86, 0x02,		/* offset r6 (rbp) at cfa-16 */
		0x43,			/* advance_loc 3 */
		0x0d, 0x06,		/* def_cfa_register r6 */
	};
	static const uint8_t f2[] = { 0x07, 0x10 };	/* undefined r16: outermost */
	static const uint8_t f3[] = {
		0x0f, 0x03, 0x76, 0x78, 0x06,		/* def_cfa_expression: breg6 -8; deref */
		0x10, 0x06, 0x02, 0x76, 0x00,		/* expression r6: breg6 0 */
	};
	size_t start = b->n;

	u32(b, 0);
	u32(b, 0xffffffff);
	u8(b, 1);
	u8(b, 0);
	u8(b, 1);
	u8(b, 0x78);
	u8(b, 16);
	put(b, cie_ins, sizeof(cie_ins));
	finish_entry(b, start);
	fde(b, 0, 0x1000, 0x100, f1, sizeof(f1), false);
	fde(b, 0, 0x2000, 0x10, f2, sizeof(f2), false);
	fde(b, 0, 0x3000, 0x10, f3, sizeof(f3), false);
}

static void build_eh_frame(struct bytes *b)
{
	/* A "zS" CIE (GNU signal frame), absolute 8-byte pointers. */
	static const uint8_t cie_ins[] = { 0x0c, 0x07, 0x08, 0x90, 0x01 };
	static const uint8_t f[] = { 0x0e, 0x28 };	/* def_cfa_offset 40 */
	size_t start = b->n;

	u32(b, 0);
	u32(b, 0);		/* CIE id in .eh_frame */
	u8(b, 1);
	put(b, "zS", 3);
	u8(b, 1);
	u8(b, 0x78);
	u8(b, 16);
	u8(b, 0);		/* augmentation data length */
	put(b, cie_ins, sizeof(cie_ins));
	finish_entry(b, start);
	fde(b, start, 0x4000, 0x40, f, sizeof(f), true);
	u32(b, 0);		/* terminator */
}

static char elf_path[64];

static int write_elf(void **state)
{
	struct bytes df = { .n = 0 }, eh = { .n = 0 };

	(void)state;
	build_debug_frame(&df);
	build_eh_frame(&eh);
	const struct test_section sections[] = {
		{ .name = ".debug_frame", .type = SHT_PROGBITS, .data = df.d, .size = df.n },
		{ .name = ".eh_frame", .type = SHT_PROGBITS, .flags = SHF_ALLOC, .addr = 0x8000,
		  .data = eh.d, .size = eh.n },
	};
	snprintf(elf_path, sizeof(elf_path), "/tmp/kprof-cfi-test.XXXXXX");
	return test_write_elf(elf_path, sections, KP_ARRAY_SIZE(sections));
}

static int remove_elf(void **state)
{
	(void)state;
	unlink(elf_path);
	return 0;
}

static void test_cfi_rows(void **state)
{
	struct cfi *c;
	struct cfi_row row;

	(void)state;
	assert_int_equal(cfi_open(elf_path, &c), 0);
	assert_int_equal(cfi_fde_count(c), 4);

	/* Function entry: CFA = rsp + 8, return address at CFA - 8. */
	assert_int_equal(cfi_find(c, 0x1000, &row), 0);
	assert_int_equal(row.cfa.kind, CFI_REG);
	assert_int_equal(row.cfa.reg, UNW_REG_RSP);
	assert_int_equal(row.cfa.off, 8);
	assert_int_equal(row.regs[UNW_REG_RA].kind, CFI_OFFSET);
	assert_int_equal(row.regs[UNW_REG_RA].off, -8);
	assert_int_equal(row.regs[UNW_REG_RBP].kind, CFI_SAME);
	assert_false(row.signal_frame);

	/* After push rbp. */
	assert_int_equal(cfi_find(c, 0x1001, &row), 0);
	assert_int_equal(row.cfa.off, 16);
	assert_int_equal(row.regs[UNW_REG_RBP].kind, CFI_OFFSET);
	assert_int_equal(row.regs[UNW_REG_RBP].off, -16);

	/* After mov rsp, rbp: CFA follows rbp. */
	assert_int_equal(cfi_find(c, 0x10ff, &row), 0);
	assert_int_equal(row.cfa.kind, CFI_REG);
	assert_int_equal(row.cfa.reg, UNW_REG_RBP);
	assert_int_equal(row.cfa.off, 16);
	assert_int_equal(row.fde_lo, 0x1000);
	assert_int_equal(row.fde_hi, 0x1100);

	assert_int_equal(cfi_find(c, 0x2008, &row), 0);
	assert_int_equal(row.regs[UNW_REG_RA].kind, CFI_UNDEF);

	assert_int_equal(cfi_find(c, 0x3000, &row), 0);
	assert_int_equal(row.cfa.kind, CFI_VAL_EXPR);
	assert_int_equal(row.cfa.expr_len, 3);
	assert_int_equal(row.regs[UNW_REG_RBP].kind, CFI_EXPR);

	/* The .eh_frame FDE with the "S" augmentation. */
	assert_int_equal(cfi_find(c, 0x4010, &row), 0);
	assert_true(row.signal_frame);
	assert_int_equal(row.cfa.off, 40);

	/* Gaps and ends are not covered. */
	assert_int_equal(cfi_find(c, 0x1100, &row), -ENOENT);
	assert_int_equal(cfi_find(c, 0xfff, &row), -ENOENT);
	assert_int_equal(cfi_find(c, 0x5000, &row), -ENOENT);
	cfi_free(c);
}

static void test_cfi_bad_file(void **state)
{
	struct cfi *c = NULL;

	(void)state;
	assert_true(cfi_open("/nonexistent/kernel.elf", &c) < 0);
	assert_null(c);
}

/* ---- the unwinder on a synthetic stack ---- */

#define STACK_BASE 0x7000ull

struct frames {
	uint64_t pc[16];
	unsigned flags[16];
	int n;
};

static int collect(void *ctx, uint64_t pc, unsigned flags)
{
	struct frames *f = ctx;

	f->pc[f->n] = pc;
	f->flags[f->n] = flags;
	return ++f->n == 16;
}

static void set_regs(struct unwind_regs *r, uint64_t pc, uint64_t rsp, uint64_t rbp)
{
	memset(r, 0, sizeof(*r));
	r->r[UNW_REG_RA] = pc;
	r->r[UNW_REG_RSP] = rsp;
	r->r[UNW_REG_RBP] = rbp;
	r->valid = (1u << UNW_REG_RA) | (1u << UNW_REG_RSP) | (1u << UNW_REG_RBP);
}

static void test_unwind_cfi_to_outermost(void **state)
{
	uint64_t mem[16] = { 0 };
	struct stack_window w = { STACK_BASE, (const uint8_t *)mem, sizeof(mem) };
	struct unwind_regs r;
	struct frames f = { .n = 0 };
	struct cfi *c;

	(void)state;
	assert_int_equal(cfi_open(elf_path, &c), 0);
	struct unwinder uw = { .cfi = c };
	/* Frame 0 at 0x1010 (CFA = rbp + 16), rbp = base + 0x20: saved rbp, then the return
	 * address 0x2005 inside the outermost function. */
	mem[4] = 0;		/* saved rbp */
	mem[5] = 0x2005;	/* return address */
	set_regs(&r, 0x1010, STACK_BASE, STACK_BASE + 0x20);
	assert_int_equal(unwind_stack(&uw, &r, stack_window_read, &w, collect, &f), 2);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.pc[0], 0x1010);
	assert_int_equal(f.pc[1], 0x2005);
	assert_int_equal(f.flags[0] & ~UNWIND_FLAGS, PROFILE_FRAME_CFI);
	assert_true(f.flags[0] & UNWIND_INNERMOST);
	assert_false(f.flags[1] & UNWIND_INNERMOST);
	assert_true(f.flags[1] & UNWIND_RETADDR);
	assert_false(f.flags[0] & UNWIND_RETADDR);

	/* The same with a KASLR-style offset: runtime addresses moved by 0x100000. */
	memset(&f, 0, sizeof(f));
	mem[5] = 0x102005;
	uw.offset = 0x100000;
	set_regs(&r, 0x101010, STACK_BASE, STACK_BASE + 0x20);
	assert_int_equal(unwind_stack(&uw, &r, stack_window_read, &w, collect, &f), 2);
	assert_int_equal(f.pc[1], 0x102005);
	cfi_free(c);
}

static void test_unwind_cfa_expression(void **state)
{
	uint64_t mem[16] = { 0 };
	struct stack_window w = { STACK_BASE, (const uint8_t *)mem, sizeof(mem) };
	struct unwind_regs r;
	struct frames f = { .n = 0 };
	struct cfi *c;

	(void)state;
	assert_int_equal(cfi_open(elf_path, &c), 0);
	struct unwinder uw = { .cfi = c };
	/* At 0x3004: CFA = *(rbp - 8); the caller's rbp is stored at rbp.  rbp = base + 0x18:
	 * [base+0x10] = CFA (base + 0x40), [base+0x18] = caller's rbp; RA at CFA - 8 = base+0x38. */
	mem[2] = STACK_BASE + 0x40;
	mem[3] = 0x1234;
	mem[7] = 0x2001;
	set_regs(&r, 0x3004, STACK_BASE, STACK_BASE + 0x18);
	assert_int_equal(unwind_stack(&uw, &r, stack_window_read, &w, collect, &f), 2);
	assert_int_equal(f.pc[1], 0x2001);
	cfi_free(c);
}

static void test_unwind_signal_frame(void **state)
{
	uint64_t mem[16] = { 0 };
	struct stack_window w = { STACK_BASE, (const uint8_t *)mem, sizeof(mem) };
	struct unwind_regs r;
	struct frames f = { .n = 0 };
	struct cfi *c;

	(void)state;
	assert_int_equal(cfi_open(elf_path, &c), 0);
	struct unwinder uw = { .cfi = c };
	/* A trap frame at 0x4000 (CFA = rsp + 40): the "return address" is the interrupted pc
	 * 0x2000, the first byte of the outermost function.  Looked up as pc - 1 it would fall
	 * outside every FDE; looked up exactly (as "S" demands) it resolves. */
	mem[4] = 0x2000;
	set_regs(&r, 0x4000, STACK_BASE, 0);
	assert_int_equal(unwind_stack(&uw, &r, stack_window_read, &w, collect, &f), 2);
	assert_int_equal(f.pc[1], 0x2000);
	assert_false(f.flags[1] & UNWIND_RETADDR);
	cfi_free(c);
}

static void test_unwind_frame_pointer_fallback(void **state)
{
	uint64_t mem[32] = { 0 };
	struct stack_window w = { STACK_BASE, (const uint8_t *)mem, sizeof(mem) };
	struct unwind_regs r;
	struct frames f = { .n = 0 };
	struct unwinder uw = { .cfi = NULL };

	(void)state;
	/* rbp chain: base+0x10 -> base+0x40 -> base+0x80 (which points back down: a loop). */
	mem[2] = STACK_BASE + 0x40;
	mem[3] = 0x9100;
	mem[8] = STACK_BASE + 0x80;
	mem[9] = 0x9200;
	mem[16] = STACK_BASE + 0x10;
	mem[17] = 0x9300;
	set_regs(&r, 0x9000, STACK_BASE, STACK_BASE + 0x10);
	int n = unwind_stack(&uw, &r, stack_window_read, &w, collect, &f);
	assert_int_equal(n, 4);
	assert_int_equal(f.pc[1], 0x9100);
	assert_int_equal(f.pc[2], 0x9200);
	assert_int_equal(f.pc[3], 0x9300);
	assert_int_equal(f.flags[1] & PROFILE_FRAME_FP, PROFILE_FRAME_FP);
	assert_int_equal(f.flags[3] & PROFILE_FRAME_FP, PROFILE_FRAME_FP);

	/* A zero return address ends the walk. */
	memset(&f, 0, sizeof(f));
	mem[9] = 0;
	assert_int_equal(unwind_stack(&uw, &r, stack_window_read, &w, collect, &f), 2);

	/* An rbp outside the window: the innermost frame only. */
	memset(&f, 0, sizeof(f));
	set_regs(&r, 0x9000, STACK_BASE, 0xdead000);
	assert_int_equal(unwind_stack(&uw, &r, stack_window_read, &w, collect, &f), 1);

	/* The depth limit. */
	memset(&f, 0, sizeof(f));
	mem[9] = 0x9200;
	uw.max_depth = 2;
	set_regs(&r, 0x9000, STACK_BASE, STACK_BASE + 0x10);
	assert_int_equal(unwind_stack(&uw, &r, stack_window_read, &w, collect, &f), 2);
}

static void test_unwind_needs_registers(void **state)
{
	struct unwind_regs r = { .valid = 0 };
	struct frames f = { .n = 0 };
	struct unwinder uw = { .cfi = NULL };

	(void)state;
	assert_int_equal(unwind_stack(&uw, &r, stack_window_read, NULL, collect, &f), -EINVAL);
	assert_int_equal(f.n, 0);
}

/* ---- DWARF expressions ---- */

static void test_dwexpr(void **state)
{
	uint64_t mem[4] = { 0x1111, 0x2222, 0x3333, 0x4444 };
	struct stack_window w = { 0x5000, (const uint8_t *)mem, sizeof(mem) };
	struct unwind_regs r = { .valid = (1u << 6) | (1u << 7) | (1u << 16) };
	/* The linker's PLT CFA: rsp + 8 + ((rip & 15) >= 11 ? 8 : 0). */
	static const uint8_t plt[] = { 0x77, 0x08, 0x80, 0x00, 0x3f, 0x1a, 0x3b, 0x2a, 0x33,
				       0x24, 0x22 };
	static const uint8_t deref[] = { 0x76, 0x08, 0x06 };	/* *(rbp + 8) */
	static const uint8_t consts[] = { 0x08, 0xff, 0x09, 0xff, 0x22 };	/* 255 + -1 */
	static const uint8_t bad_op[] = { 0xe0 };
	static const uint8_t underflow[] = { 0x22 };
	static const uint8_t truncated[] = { 0x0e, 0x01 };
	uint64_t v;

	(void)state;
	r.r[6] = 0x5000;
	r.r[7] = 0x100;
	r.r[16] = 0x40000a;
	assert_int_equal(dwexpr_eval(plt, sizeof(plt), &r, false, 0, stack_window_read, &w, &v), 0);
	assert_int_equal(v, 0x108);
	r.r[16] = 0x40000c;
	assert_int_equal(dwexpr_eval(plt, sizeof(plt), &r, false, 0, stack_window_read, &w, &v), 0);
	assert_int_equal(v, 0x110);
	assert_int_equal(dwexpr_eval(deref, sizeof(deref), &r, false, 0, stack_window_read, &w, &v),
			 0);
	assert_int_equal(v, 0x2222);
	assert_int_equal(dwexpr_eval(consts, sizeof(consts), &r, false, 0, stack_window_read, &w,
				     &v), 0);
	assert_int_equal(v, 254);
	/* With the CFA pushed first, an empty expression yields the CFA. */
	assert_int_equal(dwexpr_eval(NULL, 0, &r, true, 0x777, stack_window_read, &w, &v), 0);
	assert_int_equal(v, 0x777);
	assert_true(dwexpr_eval(bad_op, 1, &r, false, 0, stack_window_read, &w, &v) < 0);
	assert_true(dwexpr_eval(underflow, 1, &r, false, 0, stack_window_read, &w, &v) < 0);
	assert_true(dwexpr_eval(truncated, 2, &r, false, 0, stack_window_read, &w, &v) < 0);
	r.r[6] = 0x9000;	/* unreadable memory */
	assert_true(dwexpr_eval(deref, sizeof(deref), &r, false, 0, stack_window_read, &w, &v) < 0);
	r.valid = 0;		/* unknown register */
	assert_true(dwexpr_eval(deref, sizeof(deref), &r, false, 0, stack_window_read, &w, &v) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cfi_rows),
		cmocka_unit_test(test_cfi_bad_file),
		cmocka_unit_test(test_unwind_cfi_to_outermost),
		cmocka_unit_test(test_unwind_cfa_expression),
		cmocka_unit_test(test_unwind_signal_frame),
		cmocka_unit_test(test_unwind_frame_pointer_fallback),
		cmocka_unit_test(test_unwind_needs_registers),
		cmocka_unit_test(test_dwexpr),
	};
	return cmocka_run_group_tests_name("profiler cfi", tests, write_elf, remove_elf);
}
