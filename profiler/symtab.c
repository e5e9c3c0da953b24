/* Function symbols of a kernel ELF (libelf is used from this file only).
 *
 * Symbols are sorted by address once; a lookup is a binary search.  Sizes matter: a pc
 * past the end of the preceding function is not in it (it is "??"), so gaps between
 * functions do not get misnamed.
 */
#include "profiler/profiler.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sym {
	uint64_t addr;		/* link address */
	uint64_t size;
	char *name;
};

struct symtab {
	struct sym *syms;
	size_t n;
	uint64_t offset;
	char *build_id;
};

static int cmp_sym(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* At equal addresses keep the sized (real) symbol first, then by name for stability. */
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int add_symbols(struct symtab *st, Elf *elf, Elf_Scn *scn, GElf_Shdr *sh)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t count, i;
	struct sym *grown;

	if (!data || !sh->sh_entsize)
		return 0;
	count = sh->sh_size / sh->sh_entsize;
	if (!count)	/* realloc(p, 0) would free p and return NULL (found by fuzz_symtab) */
		return 0;
	grown = realloc(st->syms, (st->n + count) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	st->syms = grown;
	for (i = 0; i < count; i++) {
		GElf_Sym s;
		const char *name;

		if (!gelf_getsym(data, (int)i, &s))
			continue;
		if (GELF_ST_TYPE(s.st_info) != STT_FUNC || s.st_shndx == SHN_UNDEF || !s.st_value)
			continue;
		name = elf_strptr(elf, sh->sh_link, s.st_name);
		if (!name || !*name)
			continue;
		st->syms[st->n].addr = s.st_value;
		st->syms[st->n].size = s.st_size;
		st->syms[st->n].name = strdup(name);
		if (!st->syms[st->n].name)
			return -ENOMEM;
		st->n++;
	}
	return 0;
}

/* The GNU build id note: namesz 4 "GNU\0", type 3. */
static int read_build_id(struct symtab *st, Elf_Scn *scn)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;

	if (!data)
		return 0;
	while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		const uint8_t *desc = (const uint8_t *)data->d_buf + desc_off;

		if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 ||
		    memcmp((const char *)data->d_buf + name_off, "GNU", 4))
			continue;
		st->build_id = malloc(nh.n_descsz * 2 + 1);
		if (!st->build_id)
			return -ENOMEM;
		for (size_t i = 0; i < nh.n_descsz; i++)
			sprintf(st->build_id + 2 * i, "%02x", desc[i]);
		st->build_id[nh.n_descsz * 2] = '\0';
		return 0;
	}
	return 0;
}

/* Does [off, off + len) lie inside a file of size bytes? */
static bool in_file(uint64_t off, uint64_t len, size_t size)
{
	return off <= size && len <= size - off;
}

/* A truncated or corrupted file would otherwise read as "no function symbols": say where
 * the section table or a symbol table (with its string table) points past the end. */
static int check_bounds(Elf *elf, const char *path)
{
	size_t size, shnum;
	GElf_Ehdr eh;
	Elf_Scn *scn = NULL;

	if (!elf_rawfile(elf, &size) || !gelf_getehdr(elf, &eh))
		return kp_fail(-EINVAL, "%s: %s", path, elf_errmsg(-1));
	if (eh.e_shoff && (elf_getshdrnum(elf, &shnum) ||
			   !in_file(eh.e_shoff, (uint64_t)shnum * eh.e_shentsize, size)))
		return kp_fail(-EINVAL, "%s: section headers lie past the end of the file (truncated?)",
			      path);
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh, link;
		Elf_Scn *ls;

		if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM))
			continue;
		if (!in_file(sh.sh_offset, sh.sh_size, size))
			return kp_fail(-EINVAL, "%s: symbol table lies past the end of the file "
				      "(truncated?)", path);
		ls = elf_getscn(elf, sh.sh_link);
		if (!ls || !gelf_getshdr(ls, &link) || link.sh_type != SHT_STRTAB ||
		    !in_file(link.sh_offset, link.sh_size, size))
			return kp_fail(-EINVAL, "%s: the symbol table's string table is missing or lies "
				      "past the end of the file", path);
	}
	return 0;
}

static int load(struct symtab *st, Elf *elf, const char *path)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	bool have_symtab = false;
	int ret;

	if (elf_kind(elf) != ELF_K_ELF)
		return kp_fail(-EINVAL, "%s: not an ELF file", path);
	if ((ret = check_bounds(elf, path)))
		return ret;
	if (elf_getshdrstrndx(elf, &shstrndx))
		return kp_fail(-EINVAL, "%s: %s", path, elf_errmsg(-1));
	/* Prefer .symtab (every function); .dynsym only when the file was stripped. */
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB) {
			have_symtab = true;
			if ((ret = add_symbols(st, elf, scn, &sh)))
				return ret;
		} else if (sh.sh_type == SHT_NOTE && !st->build_id) {
			if ((ret = read_build_id(st, scn)))
				return ret;
		}
	}
	if (!have_symtab) {
		scn = NULL;
		while ((scn = elf_nextscn(elf, scn))) {
			GElf_Shdr sh;

			if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_DYNSYM &&
			    (ret = add_symbols(st, elf, scn, &sh)))
				return ret;
		}
	}
	if (!st->n)
		return kp_fail(-ENOENT, "%s: no function symbols (was it stripped?)", path);
	qsort(st->syms, st->n, sizeof(*st->syms), cmp_sym);
	/* Aliases share an address: keep one, so a lookup's answer does not depend on luck. */
	size_t w = 0;
	for (size_t i = 0; i < st->n; i++) {
		if (w && st->syms[w - 1].addr == st->syms[i].addr) {
			free(st->syms[i].name);
			continue;
		}
		st->syms[w++] = st->syms[i];
	}
	st->n = w;
	return 0;
}

int symtab_open(const char *path, struct symtab **out)
{
	struct symtab *st;
	Elf *elf;
	int fd, ret;

	*out = NULL;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return kp_fail(-EINVAL, "libelf: %s", elf_errmsg(-1));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		kp_error("%s: %s", path, strerror(errno));
		return ret;
	}
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf) {
		kp_error("%s: %s", path, elf_errmsg(-1));
		close(fd);
		return -EINVAL;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		ret = -ENOMEM;
		goto out;
	}
	ret = load(st, elf, path);
	if (ret) {
		symtab_free(st);
		goto out;
	}
	*out = st;
out:
	elf_end(elf);
	close(fd);
	return ret;
}

void symtab_free(struct symtab *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->n; i++)
		free(st->syms[i].name);
	free(st->syms);
	free(st->build_id);
	free(st);
}

void symtab_set_offset(struct symtab *st, uint64_t offset)
{
	st->offset = offset;
}

uint64_t symtab_offset(const struct symtab *st)
{
	return st->offset;
}

size_t symtab_count(const struct symtab *st)
{
	return st->n;
}

long symtab_lookup(const struct symtab *st, uint64_t pc, uint64_t *off)
{
	uint64_t a = pc - st->offset;
	size_t lo = 0, hi = st->n;

	/* Last symbol with addr <= a. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (st->syms[mid].addr <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return -1;
	const struct sym *s = &st->syms[lo - 1];
	/* Unsized symbols (hand-written assembly) extend to the next symbol. */
	if (s->size ? a - s->addr >= s->size : lo == st->n)
		return -1;
	if (off)
		*off = a - s->addr;
	return (long)(lo - 1);
}

const char *symtab_name(const struct symtab *st, long idx)
{
	return idx >= 0 && (size_t)idx < st->n ? st->syms[idx].name : NULL;
}

uint64_t symtab_addr(const struct symtab *st, long idx)
{
	return idx >= 0 && (size_t)idx < st->n ? st->syms[idx].addr + st->offset : 0;
}

int symtab_find(const struct symtab *st, const char *name, uint64_t *addr, uint64_t *size)
{
	for (size_t i = 0; i < st->n; i++) {
		if (strcmp(st->syms[i].name, name))
			continue;
		if (addr)
			*addr = st->syms[i].addr + st->offset;
		if (size)
			*size = st->syms[i].size;
		return 0;
	}
	return -ENOENT;
}

const char *symtab_build_id(const struct symtab *st)
{
	return st->build_id;
}
