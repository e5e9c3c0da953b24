/* BTF (the kernel's compact type format, `.BTF` in vmlinux and in each module) read for
 * struct layouts: offsets and sizes of members, so that guest memory (task_struct, module)
 * can be read without a DWARF DIE walk over a half-gigabyte vmlinux.  Internal to profiler/.
 *
 * A module's split BTF continues vmlinux's: its type ids and string offsets start where the
 * base's end, so it is parsed on top of the base (which must outlive it).
 */
#ifndef KPROF_PROFILER_BTF_H
#define KPROF_PROFILER_BTF_H

#include <stddef.h>
#include <stdint.h>

struct btf;
struct symtab;

/* Parse a .BTF blob (copied).  base: NULL for vmlinux, vmlinux's struct btf for a module's
 * split BTF.  -EINVAL when the bytes are not well-formed little-endian BTF. */
int btf_parse(const void *data, size_t len, const struct btf *base, struct btf **out);
/* The .BTF section a symtab kept.  -ENOENT when the file has none; other errors print one
 * line naming path. */
int btf_from_symtab(const struct symtab *st, const char *path, const struct btf *base,
		    struct btf **out);
void btf_free(struct btf *b);
/* Type ids in this blob and its bases (id 0, void, included). */
uint32_t btf_type_count(const struct btf *b);

/* A member found by btf_member: byte offset from the start of the outer type and byte size.
 * A bit-field has bit_size != 0 and bit_offset its offset in bits (offset is then the byte
 * holding its first bit). */
struct btf_field {
	uint64_t offset;
	uint64_t size;
	uint32_t bit_offset;
	uint32_t bit_size;
	uint32_t type_id;	/* the member's type, qualifiers and typedefs resolved */
};

/* type: "task_struct", "struct task_struct", "union X", or a typedef name.  path: member
 * names joined by '.', each optionally indexed ("pid", "comm", "mem[0].base",
 * "mem[MOD_TEXT].size": an index is a number or an enumerator's name); members of anonymous
 * structs and unions are found as the C compiler finds them.  An empty path names the type
 * itself (offset 0).  -ENOENT when the type or a member is absent, -ERANGE for an index past
 * the array, -EINVAL for a malformed path or a member path through a non-aggregate. */
int btf_member(const struct btf *b, const char *type, const char *path, struct btf_field *out);
/* Size in bytes of a named type (as btf_member's type). */
int btf_sizeof(const struct btf *b, const char *type, uint64_t *size);
/* The value of an enumerator (enum or enum64).  -ENOENT when absent. */
int btf_enum_value(const struct btf *b, const char *name, int64_t *value);
/* A variable's offset in a data section (BTF's DATASEC, e.g. ".data..percpu": a per-CPU
 * variable's offset in each CPU's area).  -ENOENT when absent. */
int btf_var_offset(const struct btf *b, const char *section, const char *var, uint64_t *offset,
		   uint64_t *size);

#endif
