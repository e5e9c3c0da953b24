/* Function symbols of a kernel ELF (libelf is used from this file only).
 *
 * Symbols are sorted by address once; a lookup is a binary search.  Sizes matter: a pc
 * past the end of the preceding function is not in it (it is "??"), so gaps between
 * functions do not get misnamed.
 */
#include "profiler/profiler_internal.h"
#include "profiler/symbols.h"

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
	bool func;		/* STT_FUNC (else a code label) */
	uint64_t sec_end;	/* end of its section: how far an unsized symbol reaches */
};

/* Sections kept as raw bytes for other readers (ORC unwind tables, BTF type layouts): copied
 * at load time, because the ELF is closed once the symbols are in. */
static const char *const kept_sections[] = { ".orc_unwind_ip", ".orc_unwind", ".orc_header",
					     ".BTF" };
#define NKEPT KP_ARRAY_SIZE(kept_sections)

struct kept {
	void *data;
	size_t len;
	uint64_t addr;
	bool present;
};

struct symtab {
	struct sym *syms;
	size_t n;
	uint64_t offset;
	char *build_id;
	char *banner;			/* owned copy of linux_banner's string */
	struct symtab_linux lx;	/* a Linux kernel's landmarks; banner NULL otherwise */
	struct kept kept[NKEPT];
};

static int cmp_sym(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* At equal addresses keep a function first, then a sized symbol, then a name that is not
	 * a section marker ("__entry_text_start"), then by name for stability. */
	if (x->func != y->func)
		return x->func ? -1 : 1;
	if (!x->size != !y->size)
		return x->size ? -1 : 1;
	if ((x->name[0] == '_') != (y->name[0] == '_'))
		return x->name[0] == '_' ? 1 : -1;
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Is section shndx code?  *end gets its end address. */
static bool in_code(Elf *elf, size_t shndx, uint64_t *end)
{
	Elf_Scn *scn = elf_getscn(elf, shndx);
	GElf_Shdr sh;

	if (!scn || !gelf_getshdr(scn, &sh))
		return false;
	*end = sh.sh_addr + sh.sh_size;
	return sh.sh_flags & SHF_EXECINSTR;
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
		if (s.st_shndx == SHN_UNDEF || s.st_shndx >= SHN_LORESERVE || !s.st_value)
			continue;
		/* Functions, and the code labels of assembly (a kernel's entry code is
		 * SYM_CODE_START/SYM_INNER_LABEL: no type, sometimes no size). */
		uint64_t sec_end = UINT64_MAX;
		bool code = in_code(elf, s.st_shndx, &sec_end);

		if (GELF_ST_TYPE(s.st_info) != STT_FUNC &&
		    (GELF_ST_TYPE(s.st_info) != STT_NOTYPE || !code))
			continue;
		name = elf_strptr(elf, sh->sh_link, s.st_name);
		if (!name || !*name)
			continue;
		/* Section markers, kept aside: they share addresses with real code. */
		if (!strcmp(name, "__entry_text_start"))
			st->lx.entry_text[0] = s.st_value;
		else if (!strcmp(name, "__entry_text_end"))
			st->lx.entry_text[1] = s.st_value;
		else if (!strcmp(name, "_stext"))
			st->lx.text[0] = s.st_value;
		else if (!strcmp(name, "_etext"))
			st->lx.text[1] = s.st_value;
		st->syms[st->n].addr = s.st_value;
		st->syms[st->n].size = s.st_size;
		st->syms[st->n].func = GELF_ST_TYPE(s.st_info) == STT_FUNC;
		st->syms[st->n].sec_end = sec_end;
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

static int keep_section(struct symtab *st, Elf_Scn *scn, const GElf_Shdr *sh, const char *name)
{
	for (size_t i = 0; i < NKEPT; i++) {
		struct kept *k = &st->kept[i];
		Elf_Data *data;

		if (strcmp(name, kept_sections[i]) || k->present)
			continue;
		k->present = true;
		k->addr = sh->sh_addr;
		data = sh->sh_type == SHT_NOBITS ? NULL : elf_getdata(scn, NULL);
		if (!data || !data->d_size)
			return 0;
		k->data = malloc(data->d_size);
		if (!k->data)
			return -ENOMEM;
		memcpy(k->data, data->d_buf, data->d_size);
		k->len = data->d_size;
		return 0;
	}
	return 0;
}

/* Linux names its version in linux_banner ("Linux version 6.1.0-... (...) #1 SMP ..."): an
 * object symbol whose bytes are in .rodata.  Formats that changed between kernel versions
 * (ORC entries) are told apart by it. */
static int read_banner(struct symtab *st, Elf *elf, Elf_Scn *symscn, const GElf_Shdr *symsh)
{
	Elf_Data *data = elf_getdata(symscn, NULL);
	size_t count = symsh->sh_entsize ? symsh->sh_size / symsh->sh_entsize : 0;

	for (size_t i = 0; data && i < count; i++) {
		GElf_Sym s;
		GElf_Shdr sh;
		Elf_Scn *scn;
		Elf_Data *d;
		const char *name;

		if (!gelf_getsym(data, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_OBJECT)
			continue;
		name = elf_strptr(elf, symsh->sh_link, s.st_name);
		/* The loaded modules' list head, for modules.c: global since 5.19, a static of
		 * kernel/module.c before (a global one wins over any other static of that name). */
		if (name && !strcmp(name, "modules") &&
		    (GELF_ST_BIND(s.st_info) == STB_GLOBAL || !st->lx.modules))
			st->lx.modules = s.st_value;
		if (!name || strcmp(name, "linux_banner") || st->banner)
			continue;
		scn = elf_getscn(elf, s.st_shndx);
		if (!scn || !gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS ||
		    s.st_value < sh.sh_addr || !(d = elf_getdata(scn, NULL)))
			continue;
		uint64_t off = s.st_value - sh.sh_addr;
		if (off >= d->d_size)
			continue;
		size_t max = KP_MIN(d->d_size - off, (size_t)256);
		const char *p = (const char *)d->d_buf + off;
		size_t len = strnlen(p, max);
		st->banner = strndup(p, len);
		if (!st->banner)
			return -ENOMEM;
		st->lx.banner = st->banner;
		st->lx.banner_addr = s.st_value;
	}
	return 0;
}

/* Sort by address; aliases share an address: keep one, so a lookup's answer does not depend
 * on luck. */
static void sort_unique(struct symtab *st)
{
	size_t w = 0;

	qsort(st->syms, st->n, sizeof(*st->syms), cmp_sym);
	for (size_t i = 0; i < st->n; i++) {
		if (w && st->syms[w - 1].addr == st->syms[i].addr) {
			free(st->syms[i].name);
			continue;
		}
		st->syms[w++] = st->syms[i];
	}
	st->n = w;
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

		const char *name;

		if (!gelf_getshdr(scn, &sh))
			continue;
		name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (name && (ret = keep_section(st, scn, &sh, name)))
			return ret;
		if (sh.sh_type == SHT_SYMTAB) {
			have_symtab = true;
			if ((ret = add_symbols(st, elf, scn, &sh)) ||
			    (!st->banner && (ret = read_banner(st, elf, scn, &sh))))
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
	sort_unique(st);
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
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
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

int symtab_from_entries(const struct symtab_entry *e, size_t n, struct symtab **out)
{
	struct symtab *st = calloc(1, sizeof(*st));

	*out = NULL;
	if (!st || !(st->syms = calloc(n ? n : 1, sizeof(*st->syms)))) {
		free(st);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		st->syms[i] = (struct sym){ .addr = e[i].addr, .size = e[i].size, .func = e[i].func,
					    .sec_end = e[i].sec_end, .name = strdup(e[i].name) };
		st->n++;
		if (!st->syms[i].name) {
			symtab_free(st);
			return -ENOMEM;
		}
	}
	sort_unique(st);
	*out = st;
	return 0;
}

void symtab_free(struct symtab *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->n; i++)
		free(st->syms[i].name);
	free(st->syms);
	free(st->build_id);
	free(st->banner);
	for (size_t i = 0; i < NKEPT; i++)
		free(st->kept[i].data);
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
	/* Unsized symbols (hand-written assembly) extend to the next symbol, within their
	 * section. */
	if (s->size ? a - s->addr >= s->size : (lo == st->n || a >= s->sec_end))
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

const struct symtab_linux *symtab_linux(const struct symtab *st)
{
	return st->lx.banner ? &st->lx : NULL;
}

int symtab_section(const struct symtab *st, const char *name, const void **data, size_t *len,
		   uint64_t *addr)
{
	for (size_t i = 0; i < NKEPT; i++) {
		const struct kept *k = &st->kept[i];

		if (strcmp(name, kept_sections[i]) || !k->present)
			continue;
		*data = k->data;
		*len = k->len;
		*addr = k->addr;
		return 0;
	}
	return -ENOENT;
}
