/* Inlined functions from DWARF debug info (DW_TAG_inlined_subroutine), for `--inline`.
 *
 * This is the second file that uses libdwarf, and the only other one: cfi.c reads frame
 * sections, this one walks the DIE tree of .debug_info, a separate part of libdwarf's API
 * with its own handle; keeping the two apart keeps each file about one thing.
 *
 * The tree is walked once: every inlined-subroutine address range becomes an entry
 * {lo, hi, depth, name}, sorted by lo.  A lookup binary-searches the last entry starting at
 * or before the pc and walks back while an earlier entry can still reach it (a running
 * maximum of hi makes that walk stop early), collecting the ranges that hold the pc.
 */
#include "profiler/profiler_internal.h"

#include <dwarf.h>
#include <errno.h>
#include <fcntl.h>
#include <libdwarf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct inl {
	uint64_t lo, hi;
	uint64_t entry;		/* where the inlined call begins (DW_AT_entry_pc, else low pc) */
	unsigned depth;		/* 1 for a function inlined into a real one, 2 inside that, ... */
	uint32_t name;		/* index into names */
};

struct inline_index {
	struct inl *v;
	size_t n, cap;
	uint64_t *reach;	/* reach[i]: the largest hi among v[0..i] */
	char **names;
	size_t nnames, names_cap;
	/* the walk's state */
	Dwarf_Debug dbg;
	uint64_t cu_base;
	Dwarf_Half cu_version;
};

static int add_range(struct inline_index *ix, uint64_t lo, uint64_t hi, uint64_t entry,
		     unsigned depth, uint32_t name)
{
	if (hi <= lo || !lo)
		return 0;	/* empty, or discarded by the linker (address 0) */
	if (ix->n == ix->cap) {
		size_t cap = ix->cap ? ix->cap * 2 : 256;
		struct inl *v = realloc(ix->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ix->v = v;
		ix->cap = cap;
	}
	ix->v[ix->n++] = (struct inl){ lo, hi, entry, depth, name };
	return 0;
}

static int add_name(struct inline_index *ix, const char *name, uint32_t *id)
{
	if (ix->nnames == ix->names_cap) {
		size_t cap = ix->names_cap ? ix->names_cap * 2 : 64;
		char **v = realloc(ix->names, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ix->names = v;
		ix->names_cap = cap;
	}
	ix->names[ix->nnames] = strdup(name);
	if (!ix->names[ix->nnames])
		return -ENOMEM;
	*id = (uint32_t)ix->nnames++;
	return 0;
}

/* The name of the function a DIE stands for, following abstract_origin / specification. */
static char *origin_name(Dwarf_Debug dbg, Dwarf_Die die)
{
	static const Dwarf_Half links[] = { DW_AT_abstract_origin, DW_AT_specification };
	Dwarf_Error err = NULL;
	Dwarf_Die cur = die;
	char *name = NULL;

	for (int hop = 0; hop < 4 && !name; hop++) {
		Dwarf_Die next = NULL;
		Dwarf_Attribute attr = NULL;
		Dwarf_Off off;
		size_t k;

		if (dwarf_diename(cur, &name, &err) == DW_DLV_OK)
			break;
		name = NULL;
		for (k = 0; k < KP_ARRAY_SIZE(links); k++)
			if (dwarf_attr(cur, links[k], &attr, &err) == DW_DLV_OK)
				break;
		if (k == KP_ARRAY_SIZE(links))
			break;
		if (dwarf_global_formref(attr, &off, &err) == DW_DLV_OK)
			dwarf_offdie_b(dbg, off, true, &next, &err);
		dwarf_dealloc_attribute(attr);
		if (cur != die)
			dwarf_dealloc_die(cur);
		cur = next;
		if (!cur)
			return NULL;
	}
	if (cur != die)
		dwarf_dealloc_die(cur);
	/* The name points into the string section: valid until dwarf_finish. */
	return name;
}

/* DW_AT_ranges of a DIE, DWARF 4 (.debug_ranges) or 5 (.debug_rnglists). */
static int add_ranges(struct inline_index *ix, Dwarf_Die die, Dwarf_Attribute attr,
		      uint64_t entry, unsigned depth, uint32_t name)
{
	Dwarf_Error err = NULL;
	Dwarf_Half form;
	int ret = 0;

	if (dwarf_whatform(attr, &form, &err) != DW_DLV_OK)
		return 0;
	if (ix->cu_version >= 5) {
		Dwarf_Rnglists_Head head;
		Dwarf_Unsigned val, count, global;

		if ((form == DW_FORM_rnglistx ? dwarf_formudata(attr, &val, &err)
					      : dwarf_global_formref(attr, &val, &err)) != DW_DLV_OK)
			return 0;
		if (dwarf_rnglists_get_rle_head(attr, form, val, &head, &count, &global, &err) !=
		    DW_DLV_OK)
			return 0;
		for (Dwarf_Unsigned i = 0; i < count && !ret; i++) {
			unsigned len, code;
			Dwarf_Unsigned raw1, raw2, lo, hi;
			Dwarf_Bool unavailable;

			if (dwarf_get_rnglists_entry_fields_a(head, i, &len, &code, &raw1, &raw2,
							      &unavailable, &lo, &hi, &err) !=
			    DW_DLV_OK)
				break;
			if (!unavailable && code != DW_RLE_end_of_list && code != DW_RLE_base_address &&
			    code != DW_RLE_base_addressx)
				ret = add_range(ix, lo, hi, entry, depth, name);
		}
		dwarf_dealloc_rnglists_head(head);
		return ret;
	}
	Dwarf_Off off, real;
	Dwarf_Ranges *r;
	Dwarf_Signed n;
	Dwarf_Unsigned bytes;
	uint64_t base = ix->cu_base;

	if (dwarf_global_formref(attr, &off, &err) != DW_DLV_OK ||
	    dwarf_get_ranges_b(ix->dbg, off, die, &real, &r, &n, &bytes, &err) != DW_DLV_OK)
		return 0;
	for (Dwarf_Signed i = 0; i < n && !ret; i++) {
		if (r[i].dwr_type == DW_RANGES_ADDRESS_SELECTION)
			base = r[i].dwr_addr2;
		else if (r[i].dwr_type == DW_RANGES_ENTRY)
			ret = add_range(ix, base + r[i].dwr_addr1, base + r[i].dwr_addr2, entry,
					depth, name);
	}
	dwarf_ranges_dealloc(ix->dbg, r, n);
	return ret;
}

/* DW_AT_entry_pc: an address, or (DWARF 5) an offset from the low pc; 0 when absent. */
static uint64_t entry_pc(Dwarf_Die die, uint64_t lo)
{
	Dwarf_Error err = NULL;
	Dwarf_Attribute attr;
	Dwarf_Addr addr;
	Dwarf_Unsigned off;
	uint64_t entry = 0;

	if (dwarf_attr(die, DW_AT_entry_pc, &attr, &err) != DW_DLV_OK)
		return 0;
	if (dwarf_formaddr(attr, &addr, &err) == DW_DLV_OK)
		entry = addr;
	else if (lo && dwarf_formudata(attr, &off, &err) == DW_DLV_OK)
		entry = lo + off;
	dwarf_dealloc_attribute(attr);
	return entry;
}

static int add_inlined(struct inline_index *ix, Dwarf_Die die, unsigned depth)
{
	Dwarf_Error err = NULL;
	Dwarf_Attribute attr;
	Dwarf_Addr lo, hi;
	Dwarf_Half form;
	enum Dwarf_Form_Class cls;
	char *name = origin_name(ix->dbg, die);
	bool have_lo = dwarf_lowpc(die, &lo, &err) == DW_DLV_OK;
	uint64_t entry = entry_pc(die, have_lo ? lo : 0);
	uint32_t id;
	int ret;

	if ((ret = add_name(ix, name ? name : "??", &id)))
		return ret;
	if (have_lo && dwarf_highpc_b(die, &hi, &form, &cls, &err) == DW_DLV_OK)
		return add_range(ix, lo, cls == DW_FORM_CLASS_CONSTANT ? lo + hi : hi,
				 entry ? entry : lo, depth, id);
	if (dwarf_attr(die, DW_AT_ranges, &attr, &err) == DW_DLV_OK) {
		size_t first = ix->n;

		ret = add_ranges(ix, die, attr, entry, depth, id);
		dwarf_dealloc_attribute(attr);
		/* Without DW_AT_entry_pc the call begins at its lowest address. */
		if (!entry && ix->n > first) {
			uint64_t low = ix->v[first].lo;

			for (size_t i = first; i < ix->n; i++)
				low = KP_MIN(low, ix->v[i].lo);
			for (size_t i = first; i < ix->n; i++)
				ix->v[i].entry = low;
		}
	}
	return ret;
}

static int walk(struct inline_index *ix, Dwarf_Die die, unsigned depth, unsigned level)
{
	Dwarf_Error err = NULL;
	Dwarf_Die child = NULL;
	int ret = 0;

	if (level > 256)
		return 0;	/* corrupt or absurd nesting: stop rather than overflow */
	if (dwarf_child(die, &child, &err) != DW_DLV_OK)
		return 0;
	while (child && !ret) {
		Dwarf_Die next = NULL;
		Dwarf_Half tag;
		unsigned d = depth;

		if (dwarf_tag(child, &tag, &err) == DW_DLV_OK) {
			if (tag == DW_TAG_inlined_subroutine) {
				d = depth + 1;
				ret = add_inlined(ix, child, d);
			} else if (tag == DW_TAG_subprogram) {
				d = 0;
			}
			/* Only code-bearing DIEs can hold inlined code. */
			if (!ret && (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
				     tag == DW_TAG_lexical_block || tag == DW_TAG_namespace ||
				     tag == DW_TAG_class_type || tag == DW_TAG_structure_type))
				ret = walk(ix, child, d, level + 1);
		}
		if (dwarf_siblingof_b(ix->dbg, child, true, &next, &err) != DW_DLV_OK)
			next = NULL;
		dwarf_dealloc_die(child);
		child = next;
	}
	if (child)
		dwarf_dealloc_die(child);
	return ret;
}

static int cmp_inl(const void *a, const void *b)
{
	const struct inl *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return (int)x->depth - (int)y->depth;
}

static int build(struct inline_index *ix)
{
	Dwarf_Error err = NULL;
	int ret = 0;

	for (;;) {
		Dwarf_Unsigned hdr_len, type_off, next_off;
		Dwarf_Half version, addr_size, len_size, ext_size, cu_type;
		Dwarf_Off abbrev;
		Dwarf_Sig8 sig;
		Dwarf_Die cu = NULL;
		Dwarf_Addr base;
		int rc = dwarf_next_cu_header_d(ix->dbg, true, &hdr_len, &version, &abbrev,
						&addr_size, &len_size, &ext_size, &sig, &type_off,
						&next_off, &cu_type, &err);

		if (rc != DW_DLV_OK)
			break;
		if (dwarf_siblingof_b(ix->dbg, NULL, true, &cu, &err) != DW_DLV_OK)
			continue;
		ix->cu_version = version;
		ix->cu_base = dwarf_lowpc(cu, &base, &err) == DW_DLV_OK ? base : 0;
		ret = walk(ix, cu, 0, 0);
		dwarf_dealloc_die(cu);
		if (ret)
			return ret;
	}
	if (ix->n > 1)
		qsort(ix->v, ix->n, sizeof(*ix->v), cmp_inl);
	ix->reach = malloc((ix->n ? ix->n : 1) * sizeof(*ix->reach));
	if (!ix->reach)
		return -ENOMEM;
	for (size_t i = 0; i < ix->n; i++)
		ix->reach[i] = i ? KP_MAX(ix->reach[i - 1], ix->v[i].hi) : ix->v[i].hi;
	return 0;
}

int inline_index_open(const char *path, struct inline_index **out)
{
	struct inline_index *ix;
	Dwarf_Error err = NULL;
	int fd, ret;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		kp_error("%s: %s", path, strerror(errno));
		return ret;
	}
	ix = calloc(1, sizeof(*ix));
	if (!ix) {
		close(fd);
		return -ENOMEM;
	}
	ret = dwarf_init_b(fd, DW_DLC_READ, DW_GROUPNUMBER_ANY, NULL, NULL, &ix->dbg, &err);
	if (ret == DW_DLV_OK) {
		ret = build(ix);
		dwarf_finish(ix->dbg, &err);
	} else {
		/* No debug info: no inlined frames, which is not an error.  An error made
		 * without a handle is freed without one. */
		if (err)
			dwarf_dealloc(NULL, err, DW_DLA_ERROR);
		ret = 0;
	}
	ix->dbg = NULL;
	close(fd);
	if (ret) {
		inline_index_free(ix);
		return ret;
	}
	*out = ix;
	return 0;
}

void inline_index_free(struct inline_index *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; i < ix->nnames; i++)
		free(ix->names[i]);
	free(ix->names);
	free(ix->v);
	free(ix->reach);
	free(ix);
}

size_t inline_index_count(const struct inline_index *ix)
{
	return ix->n;
}

size_t inline_index_names(const struct inline_index *ix)
{
	return ix->nnames;
}

const char *inline_index_name(const struct inline_index *ix, uint32_t id)
{
	return id < ix->nnames ? ix->names[id] : "??";
}

/* Index of the first entry whose lo is above pc (entries before it may cover pc). */
static size_t first_above(const struct inline_index *ix, uint64_t pc)
{
	size_t lo = 0, hi = ix->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ix->v[mid].lo <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Whether a stop at pc has not yet entered the inlined call e.  As gdb decides it: pc is the
 * call's entry, or the start of one of its ranges whose preceding byte lies outside the call
 * (the call's code is split into several ranges, and pc begins one of them). */
static bool not_entered(const struct inline_index *ix, const struct inl *e, uint64_t pc)
{
	if (pc == e->entry)
		return true;
	if (pc != e->lo || pc == 0)
		return false;
	for (size_t i = first_above(ix, pc - 1); i > 0 && ix->reach[i - 1] > pc - 1; i--) {
		const struct inl *f = &ix->v[i - 1];

		if (pc - 1 < f->hi && f->entry == e->entry && f->depth == e->depth &&
		    f->name == e->name)
			return false;
	}
	return true;
}

size_t inline_lookup(const struct inline_index *ix, uint64_t pc, bool at_stop, uint32_t *ids,
		     size_t max)
{
	unsigned depths[64];
	size_t n = 0;

	for (size_t i = first_above(ix, pc); i > 0 && ix->reach[i - 1] > pc; i--) {
		const struct inl *e = &ix->v[i - 1];
		size_t k;

		if (pc >= e->hi || n == max || n == KP_ARRAY_SIZE(depths))
			continue;
		if (at_stop && not_entered(ix, e, pc))
			continue;
		/* Keep innermost (deepest) first. */
		for (k = n; k > 0 && depths[k - 1] < e->depth; k--) {
			depths[k] = depths[k - 1];
			ids[k] = ids[k - 1];
		}
		depths[k] = e->depth;
		ids[k] = e->name;
		n++;
	}
	return n;
}
