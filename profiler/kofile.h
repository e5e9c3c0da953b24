/* A Linux kernel module file (.ko, or .ko.xz) read for its symbols and ORC tables, placed at
 * the addresses the running kernel loaded its sections at (kofile.c).  Internal to profiler/.
 *
 * A .ko is an ELF relocatable object: symbols are offsets into their sections, and the
 * ORC ip table is filled in by relocations when the kernel loads it.  The kernel lists the
 * runtime address of each section it loaded (SHF_ALLOC, not empty, less .modinfo and
 * __versions, which it drops) by name, as /sys/module/NAME/sections/ shows them, in
 * section-index order; kofile_loaded_* lists the file's SHF_ALLOC sections in that order, so
 * that the k-th section of a name pairs with the k-th attribute of that name.
 */
#ifndef KPROF_PROFILER_KOFILE_H
#define KPROF_PROFILER_KOFILE_H

#include <stddef.h>
#include <stdint.h>

#include "profiler/profiler_internal.h"

struct kofile;

/* Read path (decompressing .ko.xz in memory).  Errors print one line naming path. */
int kofile_open(const char *path, struct kofile **out);
/* The same from bytes (copied); name is used in errors.  -EINVAL when they are not an x86-64
 * ELF relocatable object that holds together. */
int kofile_parse(const void *data, size_t len, const char *name, struct kofile **out);
void kofile_free(struct kofile *k);

/* The loaded sections, in the kernel's order: count, and each one's name and size. */
size_t kofile_loaded_count(const struct kofile *k);
const char *kofile_loaded_name(const struct kofile *k, size_t i);
uint64_t kofile_loaded_size(const struct kofile *k, size_t i);
/* The GNU build id note's descriptor (NULL when the file has none) and the index of its
 * section in the loaded list, so that it can be compared with the one in guest memory. */
const uint8_t *kofile_build_id(const struct kofile *k, size_t *len, size_t *loaded_index);

/* Symbols (functions and code labels) and ORC tables at runtime addresses, given addr[i] for
 * loaded section i (n = kofile_loaded_count; 0 for a section the kernel did not keep).  *orc stays NULL when the file has no ORC
 * tables.  -EINVAL (with one line naming the file) when the ORC relocations cannot be
 * applied; -ENOENT when the file has no function symbols. */
int kofile_place(const struct kofile *k, const uint64_t *addr, size_t n, enum orc_format fmt,
		 struct symtab **syms, struct orc **orc);

/* A tree of module files (kodir.c), indexed by module name: a .ko before a .ko.xz of the same
 * name.  Errors (no such directory, no module files in it) print one line naming dir. */
struct kodir;
int kodir_open(const char *dir, struct kodir **out);
/* The path of the file for the module the kernel calls name, or NULL. */
const char *kodir_find(const struct kodir *d, const char *name);
void kodir_free(struct kodir *d);

#endif
