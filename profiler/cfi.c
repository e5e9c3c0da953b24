/* DWARF call-frame information through libdwarf (used from this file only).
 *
 * Both .debug_frame and .eh_frame are read; their FDEs go into one array sorted by start
 * address, built once, so that finding the FDE for a pc is a binary search.  libdwarf then
 * runs the CIE and FDE instructions up to the pc and we translate its register table into
 * struct cfi_row, which the unwinder (unwind.c) applies without knowing libdwarf.
 * Running the instructions is most of an unwind's time, and a sampled guest returns to the
 * same few pcs in every sample, so each row found is remembered (a direct-mapped memo).
 */
#include "profiler/profiler_internal.h"
#include "profiler/unwind.h"

#include <dwarf.h>
#include <errno.h>
#include <fcntl.h>
#include <libdwarf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fde_ent {
	uint64_t lo, hi;
	Dwarf_Fde fde;
	bool signal_frame;
	bool from_eh;
};

struct fde_list {
	Dwarf_Cie *cies;
	Dwarf_Signed ncies;
	Dwarf_Fde *fdes;
	Dwarf_Signed nfdes;
};

/* A memo of cfi_find's answers: the same answers, found again without libdwarf.  Changed
 * through a const struct cfi (lookups do not change what the index says), so one cfi is not
 * for lookups from several threads at once. */
#define MEMO_BITS 9
#define MEMO_SLOTS (1u << MEMO_BITS)

struct memo_slot {
	bool used;
	int ret;
	uint64_t pc;
	struct cfi_row row;
};

struct cfi {
	int fd;
	struct memo_slot *memo;		/* MEMO_SLOTS, or NULL when it could not be allocated */
	Dwarf_Debug dbg;
	struct fde_list debug_frame, eh_frame;
	struct fde_ent *ents;
	size_t n;
};

static int cmp_ent(const void *a, const void *b)
{
	const struct fde_ent *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	/* .debug_frame first: it is the fuller description when both exist. */
	return (int)x->from_eh - (int)y->from_eh;
}

static bool cie_is_signal_frame(Dwarf_Fde fde)
{
	Dwarf_Cie cie;
	Dwarf_Unsigned bytes, caf, ilen;
	Dwarf_Small version;
	char *aug = NULL;
	Dwarf_Signed daf;
	Dwarf_Half ra, offsize;
	Dwarf_Ptr init;
	Dwarf_Error err = NULL;

	if (dwarf_get_cie_of_fde(fde, &cie, &err) != DW_DLV_OK)
		return false;
	if (dwarf_get_cie_info_b(cie, &bytes, &version, &aug, &caf, &daf, &ra, &init, &ilen,
				 &offsize, &err) != DW_DLV_OK)
		return false;
	/* 'S' only means something after the leading 'z' of a GNU augmentation string. */
	return aug && aug[0] == 'z' && strchr(aug, 'S');
}

static int add_list(struct cfi *c, struct fde_list *l, bool eh)
{
	struct fde_ent *grown;

	if (l->nfdes <= 0)
		return 0;
	grown = realloc(c->ents, (c->n + (size_t)l->nfdes) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	c->ents = grown;
	for (Dwarf_Signed i = 0; i < l->nfdes; i++) {
		Dwarf_Addr lo;
		Dwarf_Unsigned len, fde_len;
		Dwarf_Ptr bytes;
		Dwarf_Off cie_off, fde_off;
		Dwarf_Signed cie_idx;
		Dwarf_Error err = NULL;

		if (dwarf_get_fde_range(l->fdes[i], &lo, &len, &bytes, &fde_len, &cie_off, &cie_idx,
					&fde_off, &err) != DW_DLV_OK || !len)
			continue;
		c->ents[c->n++] = (struct fde_ent){
			.lo = lo,
			.hi = lo + len,
			.fde = l->fdes[i],
			.signal_frame = cie_is_signal_frame(l->fdes[i]),
			.from_eh = eh,
		};
	}
	return 0;
}

int cfi_open(const char *path, struct cfi **out)
{
	struct cfi *c;
	Dwarf_Error err = NULL;
	int ret;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (c->fd < 0) {
		ret = -errno;
		kp_error("%s: %s", path, strerror(errno));
		free(c);
		return ret;
	}
	ret = dwarf_init_b(c->fd, DW_DLC_READ, DW_GROUPNUMBER_ANY, NULL, NULL, &c->dbg, &err);
	if (ret != DW_DLV_OK && err) {
		kp_debug("%s: libdwarf: %s", path, dwarf_errmsg(err));
		/* An error made without a handle is freed without one. */
		dwarf_dealloc(NULL, err, DW_DLA_ERROR);
	}
	if (ret == DW_DLV_NO_ENTRY) {
		/* No DWARF sections at all: an empty index, frame pointers will do. */
		c->dbg = NULL;
		*out = c;
		return 0;
	}
	if (ret != DW_DLV_OK) {
		kp_error("%s: cannot read its DWARF call-frame information", path);
		close(c->fd);
		free(c);
		return -EINVAL;
	}
	/* x86-64: callee-saved registers nobody mentions keep their value in the caller. */
	dwarf_set_frame_rule_table_size(c->dbg, UNW_NREGS);
	dwarf_set_frame_rule_initial_value(c->dbg, DW_FRAME_SAME_VAL);
	dwarf_set_frame_cfa_value(c->dbg, DW_FRAME_CFA_COL3);
	dwarf_set_frame_same_value(c->dbg, DW_FRAME_SAME_VAL);
	dwarf_set_frame_undefined_value(c->dbg, DW_FRAME_UNDEFINED_VAL);

	if (dwarf_get_fde_list(c->dbg, &c->debug_frame.cies, &c->debug_frame.ncies,
			       &c->debug_frame.fdes, &c->debug_frame.nfdes, &err) != DW_DLV_OK)
		memset(&c->debug_frame, 0, sizeof(c->debug_frame));
	if (dwarf_get_fde_list_eh(c->dbg, &c->eh_frame.cies, &c->eh_frame.ncies, &c->eh_frame.fdes,
				  &c->eh_frame.nfdes, &err) != DW_DLV_OK)
		memset(&c->eh_frame, 0, sizeof(c->eh_frame));
	if ((ret = add_list(c, &c->debug_frame, false)) || (ret = add_list(c, &c->eh_frame, true))) {
		cfi_free(c);
		return ret;
	}
	if (c->n > 1)
		qsort(c->ents, c->n, sizeof(*c->ents), cmp_ent);
	c->memo = calloc(MEMO_SLOTS, sizeof(*c->memo));	/* optional: lookups work without */
	*out = c;
	return 0;
}

void cfi_free(struct cfi *c)
{
	if (!c)
		return;
	if (c->dbg) {
		Dwarf_Error err = NULL;

		if (c->debug_frame.fdes)
			dwarf_fde_cie_list_dealloc(c->dbg, c->debug_frame.cies, c->debug_frame.ncies,
						   c->debug_frame.fdes, c->debug_frame.nfdes);
		if (c->eh_frame.fdes)
			dwarf_fde_cie_list_dealloc(c->dbg, c->eh_frame.cies, c->eh_frame.ncies,
						   c->eh_frame.fdes, c->eh_frame.nfdes);
		dwarf_finish(c->dbg, &err);
	}
	if (c->fd >= 0)
		close(c->fd);
	free(c->ents);
	free(c->memo);
	free(c);
}

size_t cfi_fde_count(const struct cfi *c)
{
	return c->n;
}

/* The FDE whose range holds pc: the last one starting at or before pc, then a short step
 * back for overlapping ranges (a .debug_frame and an .eh_frame FDE for the same code). */
static const struct fde_ent *find_ent(const struct cfi *c, uint64_t pc)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->ents[mid].lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i > 0 && lo - i < 4; i--)
		if (pc < c->ents[i - 1].hi && pc >= c->ents[i - 1].lo) {
			/* Among equal starts the sort put .debug_frame first. */
			size_t j = i - 1;

			while (j > 0 && c->ents[j - 1].lo == c->ents[i - 1].lo)
				j--;
			return &c->ents[j];
		}
	return NULL;
}

static int convert(const Dwarf_Regtable_Entry3 *e, struct cfi_rule *r, bool is_cfa)
{
	memset(r, 0, sizeof(*r));
	switch (e->dw_value_type) {
	case DW_EXPR_OFFSET:
		if (e->dw_regnum == DW_FRAME_UNDEFINED_VAL) {
			r->kind = CFI_UNDEF;
		} else if (e->dw_regnum == DW_FRAME_SAME_VAL) {
			r->kind = CFI_SAME;
		} else if (is_cfa) {
			r->kind = CFI_REG;
			r->reg = e->dw_regnum;
			r->off = (int64_t)e->dw_offset_or_block_len;
		} else if (e->dw_offset_relevant) {
			r->kind = CFI_OFFSET;
			r->off = (int64_t)e->dw_offset_or_block_len;
		} else {
			r->kind = CFI_REG;
			r->reg = e->dw_regnum;
		}
		break;
	case DW_EXPR_VAL_OFFSET:
		r->kind = CFI_VAL_OFFSET;
		r->off = (int64_t)e->dw_offset_or_block_len;
		break;
	case DW_EXPR_EXPRESSION:
	case DW_EXPR_VAL_EXPRESSION:
		/* libdwarf reports a CFA expression as an "expression"; it is a value. */
		r->kind = (is_cfa || e->dw_value_type == DW_EXPR_VAL_EXPRESSION) ? CFI_VAL_EXPR
										 : CFI_EXPR;
		r->expr = e->dw_block_ptr;
		r->expr_len = e->dw_offset_or_block_len;
		break;
	default:
		return -EINVAL;
	}
	if (r->kind == CFI_REG && r->reg >= UNW_NREGS)
		return -EINVAL;
	return 0;
}

static int find_row(const struct cfi *c, uint64_t pc, struct cfi_row *row)
{
	Dwarf_Regtable_Entry3 rules[UNW_NREGS];
	Dwarf_Regtable3 tab = { .rt3_reg_table_size = UNW_NREGS, .rt3_rules = rules };
	const struct fde_ent *e;
	Dwarf_Addr row_pc;
	Dwarf_Error err = NULL;

	if (!c || !c->n || !(e = find_ent(c, pc)))
		return -ENOENT;
	memset(rules, 0, sizeof(rules));
	if (dwarf_get_fde_info_for_all_regs3(e->fde, pc, &tab, &row_pc, &err) != DW_DLV_OK) {
		if (err)
			dwarf_dealloc(c->dbg, err, DW_DLA_ERROR);
		return -EINVAL;
	}
	memset(row, 0, sizeof(*row));
	if (convert(&tab.rt3_cfa_rule, &row->cfa, true) ||
	    (row->cfa.kind != CFI_REG && row->cfa.kind != CFI_VAL_EXPR))
		return -EINVAL;
	for (unsigned i = 0; i < UNW_NREGS; i++)
		if (convert(&rules[i], &row->regs[i], false))
			return -EINVAL;
	row->fde_lo = e->lo;
	row->fde_hi = e->hi;
	row->signal_frame = e->signal_frame;
	return 0;
}

int cfi_find(const struct cfi *c, uint64_t pc, struct cfi_row *row)
{
	struct memo_slot *m;

	if (!c || !c->n)
		return -ENOENT;
	if (!c->memo)
		return find_row(c, pc, row);
	/* Fibonacci hashing: nearby pcs (one function's) spread over the slots. */
	m = &c->memo[(pc * 0x9e3779b97f4a7c15ull) >> (64 - MEMO_BITS)];
	if (!m->used || m->pc != pc) {
		m->ret = find_row(c, pc, &m->row);
		m->pc = pc;
		m->used = true;
	}
	if (m->ret == 0)
		*row = m->row;
	return m->ret;
}
