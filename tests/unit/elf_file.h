/* A small ELF64 x86-64 file for unit tests of code that reads files (symtab_open, cfi_open):
 * the sections given, in order after the null section, then a section-name table and the
 * section headers.  Header-only, so each test binary stays one source file. */
#ifndef KPROF_TESTS_ELF_FILE_H
#define KPROF_TESTS_ELF_FILE_H

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test_section {
	const char *name;
	Elf64_Word type, link, info;	/* link, info: section numbers, 1 = the first given */
	Elf64_Xword flags, entsize;
	Elf64_Addr addr;
	const void *data;		/* NULL for SHT_NOBITS */
	size_t size;
};

/* Write the file to a new name made from tmpl (mkstemp's ...XXXXXX, changed in place).
 * 0, or -1 when it could not be written. */
static inline int test_write_elf(char *tmpl, const struct test_section *s, size_t n)
{
	Elf64_Ehdr eh = { 0 };
	Elf64_Shdr *sh = calloc(n + 2, sizeof(*sh));
	char shstr[512];
	size_t nstr = 1, off = sizeof(eh);
	int fd = mkstemp(tmpl);
	FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;

	if (!f || !sh) {
		free(sh);
		return -1;
	}
	shstr[0] = '\0';
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_ehsize = sizeof(eh);
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = (Elf64_Half)(n + 2);
	eh.e_shstrndx = (Elf64_Half)(n + 1);
	fwrite(&eh, sizeof(eh), 1, f);
	for (size_t i = 0; i <= n; i++) {
		const char *name = i < n ? s[i].name : ".shstrtab";
		size_t len = strlen(name) + 1;
		Elf64_Shdr *h = &sh[i + 1];

		if (nstr + len > sizeof(shstr))
			break;
		memcpy(shstr + nstr, name, len);
		h->sh_name = (Elf64_Word)nstr;
		nstr += len;
		for (; off % 8; off++)
			fputc(0, f);
		h->sh_offset = off;
		h->sh_addralign = 8;
		if (i == n) {
			h->sh_type = SHT_STRTAB;
			h->sh_size = nstr;
			fwrite(shstr, nstr, 1, f);
			off += nstr;
			break;
		}
		h->sh_type = s[i].type;
		h->sh_flags = s[i].flags;
		h->sh_addr = s[i].addr;
		h->sh_size = s[i].size;
		h->sh_link = s[i].link;
		h->sh_info = s[i].info;
		h->sh_entsize = s[i].entsize;
		if (s[i].data) {
			fwrite(s[i].data, s[i].size, 1, f);
			off += s[i].size;
		}
	}
	for (; off % 8; off++)
		fputc(0, f);
	eh.e_shoff = off;
	fwrite(sh, sizeof(*sh), n + 2, f);
	free(sh);
	if (fseek(f, 0, SEEK_SET) || fwrite(&eh, sizeof(eh), 1, f) != 1) {
		fclose(f);
		return -1;
	}
	return fclose(f) ? -1 : 0;
}

#endif
