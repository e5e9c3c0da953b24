/* Kernel module files (.ko, .ko.xz): sections, symbols and ORC tables placed at runtime
 * addresses (liblzma is used from this file only).
 *
 * A .ko is a small ELF64 relocatable object.  It is read here from its bytes rather than
 * through libelf (symtab.c's), because what it needs is the raw relocatable view that libelf
 * does not interpret anyway: section headers by index, the symbol table's section-relative
 * values and the RELA entries of .orc_unwind_ip, on a buffer that may have been decompressed
 * in memory.  Every offset, size and index is checked against the buffer before use (a
 * fuzzer holds it to that).
 *
 * Placing a module: a symbol's runtime address is its section's runtime address plus its
 * value; the ORC ip table holds, per entry, a 32-bit offset from the slot to the ip, which
 * the kernel writes when it applies R_X86_64_PC32 relocations (S + A - P) at load time.  The
 * same computation with the same section addresses gives the table the kernel has.
 */
#include "profiler/kofile.h"
#include "profiler/profiler_internal.h"
#include "profiler/symbols.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE (512u << 20)	/* a module is at most a few MB; decompression stops here */

struct section {
	Elf64_Shdr sh;
	const char *name;
	long loaded;		/* index in the loaded list, or -1 */
};

struct kofile {
	uint8_t *data;
	size_t len;
	char *name;			/* for messages */
	struct section *sec;
	size_t nsec;
	size_t *loaded;			/* section index of loaded section i */
	size_t nloaded;
	size_t symtab, orc_ip, orc, orc_rela;	/* section indices, 0 when absent */
	const uint8_t *build_id;
	size_t build_id_len, build_id_loaded;
};

static bool in_buf(uint64_t off, uint64_t len, size_t size)
{
	return off <= size && len <= size - off;
}

/* A NUL-terminated string at offset off of string section idx, or NULL. */
static const char *str_at(const struct kofile *k, size_t idx, uint64_t off)
{
	const Elf64_Shdr *sh;
	const char *s;

	if (!idx || idx >= k->nsec)
		return NULL;
	sh = &k->sec[idx].sh;
	if (sh->sh_type != SHT_STRTAB || off >= sh->sh_size)
		return NULL;
	s = (const char *)k->data + sh->sh_offset + off;
	return memchr(s, '\0', sh->sh_size - off) ? s : NULL;
}

static int bad(const struct kofile *k, const char *what)
{
	return kp_fail(-EINVAL, "%s: %s", k->name, what);
}

/* The GNU build id: namesz 4 "GNU\0", type 3, in a SHT_NOTE section. */
static void find_build_id(struct kofile *k, size_t idx)
{
	const Elf64_Shdr *sh = &k->sec[idx].sh;
	const uint8_t *p = k->data + sh->sh_offset;
	Elf64_Nhdr nh;

	if (sh->sh_size < sizeof(nh) || k->sec[idx].loaded < 0)
		return;
	memcpy(&nh, p, sizeof(nh));
	if (nh.n_type != NT_GNU_BUILD_ID || nh.n_namesz != 4 || memcmp(p + sizeof(nh), "GNU", 4) ||
	    nh.n_descsz == 0 || nh.n_descsz > sh->sh_size - sizeof(nh) - 4)
		return;
	k->build_id = p + sizeof(nh) + 4;
	k->build_id_len = nh.n_descsz;
	k->build_id_loaded = (size_t)k->sec[idx].loaded;
}

static int parse(struct kofile *k)
{
	Elf64_Ehdr eh;

	if (k->len < sizeof(eh) || memcmp(k->data, ELFMAG, SELFMAG))
		return bad(k, "not an ELF file");
	memcpy(&eh, k->data, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != EM_X86_64 || eh.e_type != ET_REL)
		return bad(k, "not an x86-64 kernel module (ELF64 relocatable object)");
	if (eh.e_shentsize != sizeof(Elf64_Shdr) || !eh.e_shnum ||
	    !in_buf(eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr), k->len))
		return bad(k, "section headers lie past the end of the file (truncated?)");
	k->nsec = eh.e_shnum;
	k->sec = calloc(k->nsec, sizeof(*k->sec));
	k->loaded = calloc(k->nsec, sizeof(*k->loaded));
	if (!k->sec || !k->loaded)
		return -ENOMEM;
	for (size_t i = 0; i < k->nsec; i++) {
		Elf64_Shdr *sh = &k->sec[i].sh;

		memcpy(sh, k->data + eh.e_shoff + i * sizeof(*sh), sizeof(*sh));
		if (sh->sh_type != SHT_NOBITS && sh->sh_type != SHT_NULL &&
		    !in_buf(sh->sh_offset, sh->sh_size, k->len))
			return bad(k, "a section lies past the end of the file (truncated?)");
		if (sh->sh_type == SHT_NULL)
			sh->sh_size = 0;
		k->sec[i].loaded = -1;
	}
	if (eh.e_shstrndx >= k->nsec)
		return bad(k, "no section name table");
	for (size_t i = 1; i < k->nsec; i++) {
		struct section *s = &k->sec[i];

		s->name = str_at(k, eh.e_shstrndx, s->sh.sh_name);
		if (!s->name)
			return bad(k, "a section name lies outside the section name table");
		/* The kernel's module_sect_attrs: every SHF_ALLOC section that is not empty, in
		 * index order. */
		if ((s->sh.sh_flags & SHF_ALLOC) && s->sh.sh_size) {
			s->loaded = (long)k->nloaded;
			k->loaded[k->nloaded++] = i;
		}
		if (s->sh.sh_type == SHT_SYMTAB && !k->symtab)
			k->symtab = i;
		else if (!strcmp(s->name, ".orc_unwind_ip"))
			k->orc_ip = i;
		else if (!strcmp(s->name, ".orc_unwind"))
			k->orc = i;
		else if (s->sh.sh_type == SHT_NOTE && !k->build_id)
			find_build_id(k, i);
	}
	if (!k->symtab)
		return bad(k, "no symbol table");
	const Elf64_Shdr *sym = &k->sec[k->symtab].sh;
	if (sym->sh_entsize != sizeof(Elf64_Sym) || !str_at(k, sym->sh_link, 0))
		return bad(k, "the symbol table or its string table is malformed");
	for (size_t i = 1; k->orc_ip && i < k->nsec; i++) {
		const Elf64_Shdr *sh = &k->sec[i].sh;

		if (sh->sh_type == SHT_RELA && sh->sh_info == k->orc_ip)
			k->orc_rela = i;
	}
	if (k->orc_ip && k->orc_rela) {
		const Elf64_Shdr *r = &k->sec[k->orc_rela].sh;

		if (r->sh_entsize != sizeof(Elf64_Rela) || r->sh_link != k->symtab)
			return bad(k, ".rela.orc_unwind_ip is malformed");
	}
	return 0;
}

int kofile_parse(const void *data, size_t len, const char *name, struct kofile **out)
{
	struct kofile *k = calloc(1, sizeof(*k));
	int ret;

	*out = NULL;
	if (!k)
		return -ENOMEM;
	k->data = malloc(len ? len : 1);
	k->name = strdup(name);
	if (!k->data || !k->name) {
		kofile_free(k);
		return -ENOMEM;
	}
	memcpy(k->data, data, len);
	k->len = len;
	ret = parse(k);
	if (ret) {
		if (ret == -ENOMEM)
			kp_error("%s: out of memory", name);
		kofile_free(k);
		return ret;
	}
	*out = k;
	return 0;
}

/* The whole of an .xz file's contents, decompressed. */
static int unxz(const uint8_t *in, size_t len, const char *path, uint8_t **out, size_t *out_len)
{
	lzma_stream strm = LZMA_STREAM_INIT;
	size_t cap = len * 4 + 4096, n = 0;
	uint8_t *buf = malloc(cap);
	lzma_ret r;

	if (!buf || lzma_stream_decoder(&strm, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK) {
		free(buf);
		return kp_fail(-ENOMEM, "%s: out of memory", path);
	}
	strm.next_in = in;
	strm.avail_in = len;
	do {
		if (n == cap) {
			uint8_t *grown = cap >= MAX_FILE ? NULL : realloc(buf, cap * 2);

			if (!grown) {
				lzma_end(&strm);
				free(buf);
				return kp_fail(-EFBIG, "%s: decompresses to more than %u MB", path,
					       MAX_FILE >> 20);
			}
			buf = grown;
			cap *= 2;
		}
		strm.next_out = buf + n;
		strm.avail_out = cap - n;
		r = lzma_code(&strm, LZMA_FINISH);
		n = cap - strm.avail_out;
	} while (r == LZMA_OK);
	lzma_end(&strm);
	if (r != LZMA_STREAM_END) {
		free(buf);
		return kp_fail(-EINVAL, "%s: not a valid .xz file (liblzma error %d)", path, (int)r);
	}
	*out = buf;
	*out_len = n;
	return 0;
}

static int read_file(const char *path, uint8_t **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	uint8_t *buf;
	size_t got = 0;

	if (fd < 0 || fstat(fd, &sb)) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return kp_fail(-e, "%s: %s", path, strerror(e));
	}
	if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > MAX_FILE) {
		close(fd);
		return kp_fail(-EINVAL, "%s: not a regular file of at most %u MB", path,
			       MAX_FILE >> 20);
	}
	buf = malloc(sb.st_size ? (size_t)sb.st_size : 1);
	while (buf && got < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);

		if (n <= 0) {
			free(buf);
			close(fd);
			return kp_fail(n < 0 ? -errno : -EIO, "%s: read failed%s", path,
				       n < 0 ? "" : " (the file shrank)");
		}
		got += (size_t)n;
	}
	close(fd);
	if (!buf)
		return kp_fail(-ENOMEM, "%s: out of memory", path);
	*out = buf;
	*len = got;
	return 0;
}

int kofile_open(const char *path, struct kofile **out)
{
	static const uint8_t xz_magic[6] = { 0xfd, '7', 'z', 'X', 'Z', 0 };
	uint8_t *raw = NULL, *data = NULL;
	size_t len = 0, dlen = 0;
	int ret;

	*out = NULL;
	if ((ret = read_file(path, &raw, &len)))
		return ret;
	if (len >= 6 && !memcmp(raw, xz_magic, 6)) {
		ret = unxz(raw, len, path, &data, &dlen);
		free(raw);
		if (ret)
			return ret;
	} else if (len >= 4 && (!memcmp(raw, "\x28\xb5\x2f\xfd", 4) || !memcmp(raw, "\x1f\x8b", 2))) {
		const char *how = raw[0] == 0x28 ? "zstd" : "gzip";

		free(raw);
		return kp_fail(-EINVAL, "%s: compressed with %s, which kprof does not read "
			       "(decompress it, or use .ko or .ko.xz files)", path, how);
	} else {
		data = raw;
		dlen = len;
	}
	ret = kofile_parse(data, dlen, path, out);
	free(data);
	return ret;
}

void kofile_free(struct kofile *k)
{
	if (!k)
		return;
	free(k->data);
	free(k->name);
	free(k->sec);
	free(k->loaded);
	free(k);
}

size_t kofile_loaded_count(const struct kofile *k)
{
	return k->nloaded;
}

const char *kofile_loaded_name(const struct kofile *k, size_t i)
{
	return i < k->nloaded ? k->sec[k->loaded[i]].name : NULL;
}

uint64_t kofile_loaded_size(const struct kofile *k, size_t i)
{
	return i < k->nloaded ? k->sec[k->loaded[i]].sh.sh_size : 0;
}

const uint8_t *kofile_build_id(const struct kofile *k, size_t *len, size_t *loaded_index)
{
	*len = k->build_id_len;
	*loaded_index = k->build_id_loaded;
	return k->build_id;
}

/* Symbol i: *sym, and its runtime address when its section was loaded (else false). */
static bool place_sym(const struct kofile *k, const uint64_t *addr, uint64_t i, Elf64_Sym *sym,
		      uint64_t *at)
{
	const Elf64_Shdr *sh = &k->sec[k->symtab].sh;

	if (i >= sh->sh_size / sizeof(*sym))
		return false;
	memcpy(sym, k->data + sh->sh_offset + i * sizeof(*sym), sizeof(*sym));
	if (sym->st_shndx == SHN_ABS) {
		*at = sym->st_value;
		return true;
	}
	if (sym->st_shndx == SHN_UNDEF || sym->st_shndx >= k->nsec ||
	    k->sec[sym->st_shndx].loaded < 0 || !addr[k->sec[sym->st_shndx].loaded])
		return false;
	*at = addr[k->sec[sym->st_shndx].loaded] + sym->st_value;
	return true;
}

static int place_symbols(const struct kofile *k, const uint64_t *addr, struct symtab **out)
{
	const Elf64_Shdr *sh = &k->sec[k->symtab].sh;
	size_t count = sh->sh_size / sizeof(Elf64_Sym), n = 0;
	struct symtab_entry *e = calloc(count ? count : 1, sizeof(*e));
	int ret;

	if (!e)
		return -ENOMEM;
	for (size_t i = 1; i < count; i++) {
		Elf64_Sym s;
		uint64_t at;
		unsigned type;

		if (!place_sym(k, addr, i, &s, &at) || s.st_shndx == SHN_ABS)
			continue;
		type = ELF64_ST_TYPE(s.st_info);
		/* Functions, and assembly's untyped code labels, in code the kernel loaded. */
		const struct section *sec = &k->sec[s.st_shndx];
		if (!(sec->sh.sh_flags & SHF_EXECINSTR) || (type != STT_FUNC && type != STT_NOTYPE))
			continue;
		const char *name = str_at(k, sh->sh_link, s.st_name);
		/* module_init()/module_exit() make these aliases of the module's own functions,
		 * whose names the kernel's backtraces show. */
		if (!name || !*name || !strcmp(name, "init_module") || !strcmp(name, "cleanup_module"))
			continue;
		e[n++] = (struct symtab_entry){ .addr = at, .size = s.st_size, .name = name,
						.func = type == STT_FUNC,
						.sec_end = addr[sec->loaded] + sec->sh.sh_size };
	}
	ret = n ? symtab_from_entries(e, n, out) : kp_fail(-ENOENT, "%s: no function symbols",
							     k->name);
	free(e);
	return ret;
}

/* The ORC ip table as the kernel has it after applying .rela.orc_unwind_ip. */
static int place_orc(const struct kofile *k, const uint64_t *addr, enum orc_format fmt,
		     struct orc **out)
{
	const struct section *ip = &k->sec[k->orc_ip], *ent = &k->sec[k->orc];
	const Elf64_Shdr *rs = &k->sec[k->orc_rela].sh;
	uint64_t ip_addr = addr[ip->loaded];
	uint8_t *table = malloc(ip->sh.sh_size ? ip->sh.sh_size : 1);
	int ret;

	if (!table)
		return -ENOMEM;
	memcpy(table, k->data + ip->sh.sh_offset, ip->sh.sh_size);
	for (uint64_t off = 0; off + sizeof(Elf64_Rela) <= rs->sh_size; off += sizeof(Elf64_Rela)) {
		Elf64_Rela r;
		Elf64_Sym s;
		uint64_t sym_at;

		memcpy(&r, k->data + rs->sh_offset + off, sizeof(r));
		if (ELF64_R_TYPE(r.r_info) != R_X86_64_PC32 && ELF64_R_TYPE(r.r_info) != R_X86_64_PLT32) {
			ret = kp_fail(-EINVAL, "%s: relocation type %u in .rela.orc_unwind_ip, "
				      "where only R_X86_64_PC32 is expected", k->name,
				      (unsigned)ELF64_R_TYPE(r.r_info));
			goto out;
		}
		if (r.r_offset > ip->sh.sh_size || ip->sh.sh_size - r.r_offset < 4 ||
		    !place_sym(k, addr, ELF64_R_SYM(r.r_info), &s, &sym_at)) {
			ret = kp_fail(-EINVAL, "%s: a relocation of .orc_unwind_ip is outside the "
				      "table or against a symbol that is not loaded", k->name);
			goto out;
		}
		/* S + A - P, truncated to 32 bits as the kernel's apply_relocate_add checks it
		 * fits. */
		uint64_t v = sym_at + (uint64_t)r.r_addend - (ip_addr + r.r_offset);
		if ((int64_t)v != (int64_t)(int32_t)v) {
			ret = kp_fail(-EINVAL, "%s: .orc_unwind_ip relocation out of range (section "
				      "addresses more than 2 GiB apart)", k->name);
			goto out;
		}
		uint32_t v32 = (uint32_t)v;
		memcpy(table + r.r_offset, &v32, 4);
	}
	ret = orc_from_tables(table, ip->sh.sh_size, ip_addr, k->data + ent->sh.sh_offset,
			      ent->sh.sh_size, fmt, out);
	if (ret == -EINVAL)
		kp_error("%s: .orc_unwind_ip (%" PRIu64 " bytes) and .orc_unwind (%" PRIu64
			 " bytes) do not describe the same number of entries", k->name,
			 (uint64_t)ip->sh.sh_size, (uint64_t)ent->sh.sh_size);
out:
	free(table);
	return ret;
}

int kofile_place(const struct kofile *k, const uint64_t *addr, size_t n, enum orc_format fmt,
		 struct symtab **syms, struct orc **orc)
{
	int ret;

	*syms = NULL;
	*orc = NULL;
	if (n != k->nloaded)
		return kp_fail(-EINVAL, "%s: the kernel loaded %zu sections of it, the file has %zu",
			       k->name, n, k->nloaded);
	ret = place_symbols(k, addr, syms);
	if (ret)
		return ret;
	/* Both tables loaded, the ip table relocated: or no ORC at all. */
	if (!k->orc_ip || !k->orc || k->sec[k->orc_ip].loaded < 0 || k->sec[k->orc].loaded < 0 ||
	    !addr[k->sec[k->orc_ip].loaded] ||
	    k->sec[k->orc_ip].sh.sh_type == SHT_NOBITS || k->sec[k->orc].sh.sh_type == SHT_NOBITS)
		return 0;
	if (!k->orc_rela) {
		ret = kp_fail(-EINVAL, "%s: .orc_unwind_ip has no relocations", k->name);
	} else {
		ret = place_orc(k, addr, fmt, orc);
	}
	if (ret) {
		symtab_free(*syms);
		*syms = NULL;
	}
	return ret;
}
