/* Linux's ORC unwind tables (.orc_unwind_ip + .orc_unwind) and the frame step they describe.
 *
 * A Linux x86-64 kernel built with CONFIG_UNWINDER_ORC carries, next to (or instead of)
 * DWARF, one small entry per instruction range, written and checked instruction by
 * instruction by objtool: where the caller's stack pointer is (an offset from rsp or rbp, or
 * a pointer saved on the stack when the code switched stacks), where rbp was saved, and
 * whether the frame is a call, a full pt_regs (interrupt, exception, system-call entry) or
 * just the hardware's iret frame.  The entry code in assembly has no DWARF at all, so ORC
 * is what takes an unwind through an interrupt into the code it interrupted, or down to the
 * user-mode registers a system call saved.
 *
 * The entry's 16 bits of flags changed twice: up to 6.2 `type:2 end:1`; 6.3 added a
 * `signal` bit (`type:2 signal:1 end:1`); 6.4 made type 3 bits wide with explicit
 * "undefined" and "end of stack" types (`type:3 signal:1`) and added .orc_header.
 */
#include "profiler/profiler_internal.h"
#include "profiler/unwind.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* pt_regs as the entry code saves it, in 8-byte slots. */
enum {
	PT_R15, PT_R14, PT_R13, PT_R12, PT_BP, PT_BX, PT_R11, PT_R10, PT_R9, PT_R8, PT_AX,
	PT_CX, PT_DX, PT_SI, PT_DI, PT_ORIG_AX, PT_IP, PT_CS, PT_FLAGS, PT_SP, PT_SS,
	PT_NREGS
};
#define IRET_FRAME_OFFSET (PT_IP * 8)	/* a partial frame points at the saved rip */
_Static_assert(IRET_FRAME_OFFSET == ORC_PT_REGS_IP, "pt_regs layout");

/* pt_regs slot -> unwind_regs (DWARF) register number; -1 for slots that are not GPRs. */
static const int pt_to_dwarf[PT_NREGS] = {
	[PT_R15] = 15, [PT_R14] = 14, [PT_R13] = 13, [PT_R12] = 12, [PT_BP] = UNW_REG_RBP,
	[PT_BX] = 3, [PT_R11] = 11, [PT_R10] = 10, [PT_R9] = 9, [PT_R8] = 8, [PT_AX] = 0,
	[PT_CX] = 2, [PT_DX] = 1, [PT_SI] = 4, [PT_DI] = 5, [PT_ORIG_AX] = -1, [PT_IP] = -1,
	[PT_CS] = -1, [PT_FLAGS] = -1, [PT_SP] = -1, [PT_SS] = -1,
};

/* ORC base registers (the same numbers in every format). */
enum {
	REG_UNDEFINED, REG_PREV_SP, REG_DX, REG_DI, REG_BP, REG_SP, REG_R10, REG_R13,
	REG_BP_INDIRECT, REG_SP_INDIRECT,
};

struct orc {
	uint64_t *ips;			/* link addresses, sorted */
	struct orc_entry *entries;	/* entries[i] covers [ips[i], ips[i + 1]) */
	size_t n;
	enum orc_format format;
	uint64_t entry_text[2];		/* [start, end) or zeros */
};

static struct orc_entry decode(const uint8_t *raw, enum orc_format fmt)
{
	struct orc_entry e = {
		.sp_offset = (int16_t)(raw[0] | raw[1] << 8),
		.bp_offset = (int16_t)(raw[2] | raw[3] << 8),
	};
	unsigned bits = raw[4] | raw[5] << 8;
	unsigned type;
	bool end;

	e.sp_reg = bits & 0xf;
	e.bp_reg = (bits >> 4) & 0xf;
	if (fmt == ORC_FORMAT_6_4) {
		static const enum orc_type types[8] = {
			ORC_UNDEFINED, ORC_END_OF_STACK, ORC_CALL, ORC_REGS, ORC_REGS_PARTIAL,
			ORC_UNDEFINED, ORC_UNDEFINED, ORC_UNDEFINED,
		};
		e.type = types[(bits >> 8) & 7];
		e.signal = (bits >> 11) & 1;
		return e;
	}
	type = (bits >> 8) & 3;
	if (fmt == ORC_FORMAT_6_3) {
		e.signal = (bits >> 10) & 1;
		end = (bits >> 11) & 1;
	} else {
		end = (bits >> 10) & 1;
		e.signal = type != 0;	/* before 6.3 a regs frame was always a signal frame */
	}
	if (e.sp_reg == REG_UNDEFINED)
		e.type = end ? ORC_END_OF_STACK : ORC_UNDEFINED;
	else
		e.type = type == 0 ? ORC_CALL : type == 1 ? ORC_REGS :
			 type == 2 ? ORC_REGS_PARTIAL : ORC_UNDEFINED;
	return e;
}

struct ip_entry {
	uint64_t ip;
	struct orc_entry e;
};

static int cmp_ip(const void *a, const void *b)
{
	const struct ip_entry *x = a, *y = b;

	return x->ip < y->ip ? -1 : x->ip > y->ip;
}

int orc_from_tables(const void *ip_table, size_t ip_len, uint64_t ip_addr, const void *entries,
		    size_t entries_len, enum orc_format fmt, struct orc **out)
{
	size_t n = ip_len / 4;
	struct ip_entry *tmp;
	struct orc *o;

	*out = NULL;
	if (ip_len % 4 || entries_len % ORC_ENTRY_SIZE || entries_len / ORC_ENTRY_SIZE != n)
		return -EINVAL;
	o = calloc(1, sizeof(*o));
	tmp = calloc(n ? n : 1, sizeof(*tmp));
	if (!o || !tmp)
		goto nomem;
	o->ips = calloc(n ? n : 1, sizeof(*o->ips));
	o->entries = calloc(n ? n : 1, sizeof(*o->entries));
	if (!o->ips || !o->entries)
		goto nomem;
	/* Each ip is stored relative to its own slot, so the table survives relocation. */
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = (const uint8_t *)ip_table + 4 * i;
		int32_t rel = (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
					(uint32_t)p[3] << 24);

		tmp[i].ip = ip_addr + 4 * i + (uint64_t)(int64_t)rel;
		tmp[i].e = decode((const uint8_t *)entries + ORC_ENTRY_SIZE * i, fmt);
	}
	/* The build sorts the tables; a file that was not (or was damaged) still works. */
	qsort(tmp, n, sizeof(*tmp), cmp_ip);
	for (size_t i = 0; i < n; i++) {
		o->ips[i] = tmp[i].ip;
		o->entries[i] = tmp[i].e;
	}
	free(tmp);
	o->n = n;
	o->format = fmt;
	*out = o;
	return 0;
nomem:
	free(tmp);
	orc_free(o);
	return -ENOMEM;
}

/* "Linux version 6.1.0-56-cloud-amd64 ..." -> 6, 1 */
static bool banner_version(const char *banner, unsigned *major, unsigned *minor)
{
	return sscanf(banner, "Linux version %u.%u", major, minor) == 2;
}

int orc_open(const struct symtab *st, const char *path, struct orc **out)
{
	const void *ips, *ents, *hdr;
	size_t ips_len, ents_len, hdr_len;
	uint64_t ips_addr, ents_addr, hdr_addr;
	const struct symtab_linux *lx = symtab_linux(st);
	enum orc_format fmt = ORC_FORMAT_6_2;
	unsigned major, minor;
	int ret;

	*out = NULL;
	if (symtab_section(st, ".orc_unwind_ip", &ips, &ips_len, &ips_addr) ||
	    symtab_section(st, ".orc_unwind", &ents, &ents_len, &ents_addr))
		return 0;	/* not a Linux kernel built with ORC: nothing to do */
	if (!symtab_section(st, ".orc_header", &hdr, &hdr_len, &hdr_addr))
		fmt = ORC_FORMAT_6_4;
	else if (lx && banner_version(lx->banner, &major, &minor) &&
		 (major > 6 || (major == 6 && minor >= 3)))
		fmt = ORC_FORMAT_6_3;
	if (!ips_len)
		return 0;
	ret = orc_from_tables(ips, ips_len, ips_addr, ents, ents_len, fmt, out);
	if (!ret && lx)
		orc_set_entry_text(*out, lx->entry_text[0], lx->entry_text[1]);
	if (ret == -EINVAL)
		return kp_fail(ret, "%s: .orc_unwind_ip (%zu bytes) and .orc_unwind (%zu bytes) "
			       "do not describe the same number of entries", path, ips_len, ents_len);
	if (ret == -ENOMEM)
		kp_error("%s: out of memory", path);
	return ret;
}

void orc_set_entry_text(struct orc *o, uint64_t start, uint64_t end)
{
	o->entry_text[0] = start;
	o->entry_text[1] = end;
}

bool orc_in_entry_text(const struct orc *o, uint64_t pc)
{
	return pc >= o->entry_text[0] && pc < o->entry_text[1];
}

bool orc_iret_at_sp(const struct orc_entry *e, int off)
{
	return e->type == ORC_REGS_PARTIAL && e->sp_reg == REG_SP && e->sp_offset == off;
}

void orc_free(struct orc *o)
{
	if (!o)
		return;
	free(o->ips);
	free(o->entries);
	free(o);
}

size_t orc_count(const struct orc *o)
{
	return o ? o->n : 0;
}

enum orc_format orc_format(const struct orc *o)
{
	return o->format;
}

int orc_find(const struct orc *o, uint64_t pc, struct orc_entry *e)
{
	size_t lo = 0, hi = o->n;

	/* The last entry at or below pc; past the last one nothing is known. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (o->ips[mid] <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || lo == o->n)
		return -ENOENT;
	*e = o->entries[lo - 1];
	return 0;
}

static int read_u64(unwind_read_fn rd, void *ctx, uint64_t addr, uint64_t *v)
{
	return rd(ctx, addr, v, 8) == 8 ? 0 : -EFAULT;
}

/* Read n bytes in as few reads as the reader allows (it may return short counts). */
static int read_all(unwind_read_fn rd, void *ctx, uint64_t addr, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = rd(ctx, addr + got, (uint8_t *)buf + got, n - got);

		if (r <= 0)
			return -EFAULT;
		got += (size_t)r;
	}
	return 0;
}

static bool valid(const struct unwind_regs *r, unsigned reg)
{
	return r->valid & (1u << reg);
}

/* Saved registers that make sense: a code selector with RPL 0 (kernel) and a kernel-half ip,
 * or RPL 3 (user) and a user-half ip.  Anything else is not a frame the hardware pushed. */
static bool plausible(uint64_t ip, uint64_t cs)
{
	unsigned rpl = cs & 3;

	if ((cs & 0xffff) < 8)
		return false;
	return rpl == 0 ? ip >= 0xffff800000000000ull : rpl == 3 && ip < 0x0000800000000000ull;
}

/* The caller's registers from a full pt_regs at addr. */
static int regs_frame(uint64_t addr, unwind_read_fn rd, void *rdctx, struct unwind_regs *next,
		      struct orc_step *how)
{
	uint64_t pt[PT_NREGS];

	if (read_all(rd, rdctx, addr, pt, sizeof(pt)))
		return -EFAULT;
	if (!plausible(pt[PT_IP], pt[PT_CS]))
		return -EINVAL;
	memset(next, 0, sizeof(*next));
	for (unsigned i = 0; i < PT_NREGS; i++) {
		if (pt_to_dwarf[i] < 0)
			continue;
		next->r[pt_to_dwarf[i]] = pt[i];
		next->valid |= 1u << pt_to_dwarf[i];
	}
	next->r[UNW_REG_RA] = pt[PT_IP];
	next->r[UNW_REG_RSP] = pt[PT_SP];
	next->valid |= 1u << UNW_REG_RA | 1u << UNW_REG_RSP;
	how->cs = pt[PT_CS];
	how->regs = true;
	how->cfa = pt[PT_SP];
	how->iret_at = addr + IRET_FRAME_OFFSET;
	return 0;
}

int orc_step(const struct orc_entry *e, const struct unwind_regs *cur, unwind_read_fn rd,
	     void *rdctx, struct unwind_regs *next, struct orc_step *how)
{
	static const unsigned base_reg[] = {
		[REG_DX] = 1, [REG_DI] = 5, [REG_BP] = UNW_REG_RBP, [REG_SP] = UNW_REG_RSP,
		[REG_R10] = 10, [REG_R13] = 13, [REG_BP_INDIRECT] = UNW_REG_RBP,
		[REG_SP_INDIRECT] = UNW_REG_RSP,
	};
	uint64_t sp, v;

	memset(how, 0, sizeof(*how));
	if (e->type == ORC_END_OF_STACK)
		return ORC_STEP_END;
	if (e->type == ORC_UNDEFINED || e->sp_reg == REG_UNDEFINED || e->sp_reg == REG_PREV_SP ||
	    e->sp_reg > REG_SP_INDIRECT || !valid(cur, base_reg[e->sp_reg]))
		return -ENOENT;
	sp = cur->r[base_reg[e->sp_reg]];
	if (e->sp_reg == REG_SP_INDIRECT) {
		/* Since 5.12: the old stack pointer was saved at (rsp), then the offset applies. */
		if (read_u64(rd, rdctx, sp, &sp))
			return -EFAULT;
		sp += (uint64_t)(int64_t)e->sp_offset;
		how->switched_stack = true;
	} else if (e->sp_reg == REG_BP_INDIRECT) {
		if (read_u64(rd, rdctx, sp + (uint64_t)(int64_t)e->sp_offset, &sp))
			return -EFAULT;
		how->switched_stack = true;
	} else {
		sp += (uint64_t)(int64_t)e->sp_offset;
	}

	memset(next, 0, sizeof(*next));
	switch (e->type) {
	case ORC_CALL:
		if (read_u64(rd, rdctx, sp - 8, &v))
			return -EFAULT;
		next->r[UNW_REG_RA] = v;
		next->r[UNW_REG_RSP] = sp;
		next->valid = 1u << UNW_REG_RA | 1u << UNW_REG_RSP;
		/* A callee that does not touch rbp leaves the caller's in place. */
		if (valid(cur, UNW_REG_RBP)) {
			next->r[UNW_REG_RBP] = cur->r[UNW_REG_RBP];
			next->valid |= 1u << UNW_REG_RBP;
		}
		how->cfa = sp;
		break;
	case ORC_REGS: {
		int ret = regs_frame(sp, rd, rdctx, next, how);

		if (ret)
			return ret == -EINVAL ? -EFAULT : ret;
		break;
	}
	case ORC_REGS_PARTIAL: {
		uint64_t iret[5];	/* ip, cs, flags, sp, ss */

		if (read_all(rd, rdctx, sp, iret, sizeof(iret)))
			return -EFAULT;
		/* Right after `call error_entry` the entry's ORC still describes the iret frame,
		 * but the registers have been pushed below it, and rsp points at them: one
		 * instruction that a vCPU stopped from outside can be found at (the kernel's own
		 * unwinder never runs there). */
		if (!plausible(iret[0], iret[1])) {
			if (regs_frame(cur->r[UNW_REG_RSP], rd, rdctx, next, how))
				return -EFAULT;
			break;
		}
		/* Only the hardware's frame is there: the other registers are still the
		 * interrupted code's own, as far as they are known. */
		*next = *cur;
		next->r[UNW_REG_RA] = iret[0];
		next->r[UNW_REG_RSP] = iret[3];
		next->valid |= 1u << UNW_REG_RA | 1u << UNW_REG_RSP;
		how->cs = iret[1];
		how->regs = true;
		how->cfa = iret[3];
		how->iret_at = sp;
		break;
	}
	default:
		return -ENOENT;
	}

	switch (e->bp_reg) {
	case REG_UNDEFINED:
		break;	/* unchanged, or restored from pt_regs above */
	case REG_PREV_SP:
		if (read_u64(rd, rdctx, sp + (uint64_t)(int64_t)e->bp_offset, &v))
			return -EFAULT;
		next->r[UNW_REG_RBP] = v;
		next->valid |= 1u << UNW_REG_RBP;
		break;
	case REG_BP:
		if (!valid(cur, UNW_REG_RBP) ||
		    read_u64(rd, rdctx, cur->r[UNW_REG_RBP] + (uint64_t)(int64_t)e->bp_offset, &v))
			return -EFAULT;
		next->r[UNW_REG_RBP] = v;
		next->valid |= 1u << UNW_REG_RBP;
		break;
	default:
		return -ENOENT;
	}
	how->user = how->regs && (how->cs & 3) == 3;
	how->signal = e->signal;
	return 0;
}
