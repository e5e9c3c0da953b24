/* libFuzzer harness for symbol loading: any bytes as the kernel ELF given to --symbols.
 * libelf reads .symtab/.dynsym and the build-id note (symtab.c); then the loaded symbols
 * are looked up and named through the symbolizer and the cleaner.  Never a crash, leak or
 * hang.  The --inline index (dwarf_inline.c) is left out: Debian's libdwarf 20210528 frees
 * twice inside dwarf_load_rnglists on a corrupted .debug_rnglists, found by this harness in
 * seconds, a bug kprof cannot fix from outside the library. */
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "profiler/symbols.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__asan_default_options(void);

/* A corrupted section count makes libelf/libdwarf ask for terabytes; outside ASan malloc
 * returns NULL and the loaders report it, so let ASan's allocator do the same. */
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

/* Bound the work per input: a corrupted count must not turn into a slow input. */
#define MAX_LOOKUPS 512

static void exercise(struct symtab *st)
{
	struct symbolizer *sym;
	size_t n = symtab_count(st);
	uint64_t addr, size, off;
	bool known;

	symtab_build_id(st);
	symtab_set_offset(st, 0x200000);
	if (symbolizer_new(st, &sym) != 0)
		return;
	for (size_t i = 0; i < n && i < MAX_LOOKUPS; i++) {
		uint64_t a = symtab_addr(st, (long)i);
		const char *name = symtab_name(st, (long)i);

		symtab_lookup(st, a, &off);
		symtab_lookup(st, a - 1, &off);
		symbolizer_name(sym, a, &known);
		symbolizer_name(sym, a + 1, &known);
		if (name)
			symtab_find(st, name, &addr, &size);
	}
	symbolizer_free(sym);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("kernel.elf", 0);
	char path[64];
	struct symtab *st;

	if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (symtab_open(path, &st) == 0) {
		exercise(st);
		symtab_free(st);
	}
	close(fd);
	return 0;
}
