/* A small DWARF expression evaluator for the forms CFI uses on x86-64.
 *
 * gcc emits DW_CFA_def_cfa_expression for realigned stacks (DW_OP_breg6 -8; DW_OP_deref) and
 * linkers for PLT entries (breg7, breg16, lit15, and, lit11, ge, lit3, shl, plus); the kernel's
 * own assembly may use DW_CFA_expression for saved registers.  Those need registers, a
 * memory read, constants, and integer arithmetic, which is all this implements.  Unknown
 * operations fail rather than guess.
 */
#include "profiler/profiler_internal.h"
#include "profiler/unwind.h"

#include <errno.h>
#include <string.h>

/* Operation codes from the DWARF 5 standard, section 7.7.1. */
enum {
	OP_ADDR = 0x03, OP_DEREF = 0x06, OP_CONST1U = 0x08, OP_CONST1S = 0x09,
	OP_CONST2U = 0x0a, OP_CONST2S = 0x0b, OP_CONST4U = 0x0c, OP_CONST4S = 0x0d,
	OP_CONST8U = 0x0e, OP_CONST8S = 0x0f, OP_CONSTU = 0x10, OP_CONSTS = 0x11,
	OP_DUP = 0x12, OP_DROP = 0x13, OP_OVER = 0x14, OP_SWAP = 0x16,
	OP_AND = 0x1a, OP_MINUS = 0x1c, OP_MUL = 0x1e, OP_NEG = 0x1f, OP_NOT = 0x20,
	OP_OR = 0x21, OP_PLUS = 0x22, OP_PLUS_UCONST = 0x23, OP_SHL = 0x24, OP_SHR = 0x25,
	OP_SHRA = 0x26, OP_XOR = 0x27, OP_EQ = 0x29, OP_GE = 0x2a, OP_GT = 0x2b, OP_LE = 0x2c,
	OP_LT = 0x2d, OP_NE = 0x2e, OP_LIT0 = 0x30, OP_LIT31 = 0x4f, OP_REG0 = 0x50,
	OP_REG31 = 0x6f, OP_BREG0 = 0x70, OP_BREG31 = 0x8f, OP_BREGX = 0x92, OP_NOP = 0x96,
	OP_DEREF_SIZE = 0x94, OP_CALL_FRAME_CFA = 0x9c,
};

#define STACK_MAX 32

struct reader {
	const uint8_t *p, *end;
	bool bad;
};

static uint64_t get_n(struct reader *r, size_t n)
{
	uint64_t v = 0;

	if ((size_t)(r->end - r->p) < n) {
		r->bad = true;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += n;
	return v;
}

/* A LEB128 number; a signed one extends the sign of its last byte's bit 6. */
static uint64_t get_leb(struct reader *r, bool is_signed)
{
	uint64_t v = 0;
	unsigned shift = 0;

	while (r->p < r->end) {
		uint8_t b = *r->p++;

		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80)) {
			if (is_signed && shift < 64 && (b & 0x40))
				v |= ~0ull << shift;
			return v;
		}
	}
	r->bad = true;
	return 0;
}

static uint64_t get_uleb(struct reader *r)
{
	return get_leb(r, false);
}

static int64_t get_sleb(struct reader *r)
{
	return (int64_t)get_leb(r, true);
}

static int64_t sext(uint64_t v, unsigned bytes)
{
	unsigned sh = 64 - 8 * bytes;

	return (int64_t)(v << sh) >> sh;
}

int dwexpr_eval(const uint8_t *expr, size_t len, const struct unwind_regs *regs, bool push_cfa,
		uint64_t cfa, unwind_read_fn rd, void *rdctx, uint64_t *out)
{
	struct reader r = { expr, expr + len, false };
	uint64_t st[STACK_MAX];
	size_t sp = 0;

#define PUSH(v) do { uint64_t v_ = (v); if (sp == STACK_MAX) return -E2BIG; st[sp++] = v_; } while (0)
#define NEED(n) do { if (sp < (n)) return -EINVAL; } while (0)
	if (push_cfa)
		PUSH(cfa);
	while (r.p < r.end) {
		uint8_t op = *r.p++;
		uint64_t a, b;

		if (op >= OP_LIT0 && op <= OP_LIT31) {
			PUSH(op - OP_LIT0);
			continue;
		}
		if ((op >= OP_BREG0 && op <= OP_BREG31) || op == OP_BREGX) {
			unsigned reg = op == OP_BREGX ? (unsigned)get_uleb(&r) : (unsigned)(op - OP_BREG0);
			int64_t off = get_sleb(&r);

			if (reg >= UNW_NREGS || !(regs->valid & (1u << reg)))
				return -ENOENT;
			PUSH(regs->r[reg] + (uint64_t)off);
			continue;
		}
		if (op >= OP_REG0 && op <= OP_REG31)
			return -ENOTSUP;	/* a location, not a value: not used by CFI */
		switch (op) {
		case OP_ADDR:
			PUSH(get_n(&r, 8));
			break;
		case OP_CONST1U: PUSH(get_n(&r, 1)); break;
		case OP_CONST2U: PUSH(get_n(&r, 2)); break;
		case OP_CONST4U: PUSH(get_n(&r, 4)); break;
		case OP_CONST8U: PUSH(get_n(&r, 8)); break;
		case OP_CONST1S: PUSH((uint64_t)sext(get_n(&r, 1), 1)); break;
		case OP_CONST2S: PUSH((uint64_t)sext(get_n(&r, 2), 2)); break;
		case OP_CONST4S: PUSH((uint64_t)sext(get_n(&r, 4), 4)); break;
		case OP_CONST8S: PUSH(get_n(&r, 8)); break;
		case OP_CONSTU: PUSH(get_uleb(&r)); break;
		case OP_CONSTS: PUSH((uint64_t)get_sleb(&r)); break;
		case OP_DUP: NEED(1); PUSH(st[sp - 1]); break;
		case OP_DROP: NEED(1); sp--; break;
		case OP_OVER: NEED(2); PUSH(st[sp - 2]); break;
		case OP_SWAP:
			NEED(2);
			a = st[sp - 1];
			st[sp - 1] = st[sp - 2];
			st[sp - 2] = a;
			break;
		case OP_DEREF:
		case OP_DEREF_SIZE: {
			size_t n = op == OP_DEREF ? 8 : (size_t)get_n(&r, 1);
			uint64_t v = 0;

			NEED(1);
			if (!n || n > 8)
				return -EINVAL;
			if (rd(rdctx, st[sp - 1], &v, n) != (ssize_t)n)
				return -EFAULT;
			st[sp - 1] = v;
			break;
		}
		case OP_PLUS_UCONST: NEED(1); st[sp - 1] += get_uleb(&r); break;
		case OP_NEG: NEED(1); st[sp - 1] = -st[sp - 1]; break;
		case OP_NOT: NEED(1); st[sp - 1] = ~st[sp - 1]; break;
		case OP_CALL_FRAME_CFA: PUSH(cfa); break;
		case OP_NOP: break;
		case OP_AND: case OP_MINUS: case OP_MUL: case OP_OR: case OP_PLUS: case OP_SHL:
		case OP_SHR: case OP_SHRA: case OP_XOR: case OP_EQ: case OP_GE: case OP_GT:
		case OP_LE: case OP_LT: case OP_NE:
			NEED(2);
			b = st[--sp];
			a = st[sp - 1];
			switch (op) {
			case OP_AND: a &= b; break;
			case OP_MINUS: a -= b; break;
			case OP_MUL: a *= b; break;
			case OP_OR: a |= b; break;
			case OP_PLUS: a += b; break;
			case OP_SHL: a = b < 64 ? a << b : 0; break;
			case OP_SHR: a = b < 64 ? a >> b : 0; break;
			case OP_SHRA: a = (uint64_t)((int64_t)a >> (b < 63 ? b : 63)); break;
			case OP_XOR: a ^= b; break;
			/* Comparisons are signed, as the standard says. */
			case OP_EQ: a = (int64_t)a == (int64_t)b; break;
			case OP_GE: a = (int64_t)a >= (int64_t)b; break;
			case OP_GT: a = (int64_t)a > (int64_t)b; break;
			case OP_LE: a = (int64_t)a <= (int64_t)b; break;
			case OP_LT: a = (int64_t)a < (int64_t)b; break;
			case OP_NE: a = (int64_t)a != (int64_t)b; break;
			}
			st[sp - 1] = a;
			break;
		default:
			return -ENOTSUP;
		}
		if (r.bad)
			return -EINVAL;
	}
#undef PUSH
#undef NEED
	if (r.bad || !sp)
		return -EINVAL;
	*out = st[sp - 1];
	return 0;
}
