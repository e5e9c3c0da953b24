/* libFuzzer harness for kernel module files (kofile.c): the input is a .ko's bytes.  It is
 * parsed, its loaded sections are placed at made-up addresses (every other one left out, as
 * the kernel drops .modinfo), its symbols and relocated ORC tables built and looked up.
 * Every header, section, symbol and relocation meets corrupted data: never a crash, leak or
 * hang. */
#include <stdint.h>
#include <stdlib.h>

#include "profiler/kofile.h"
#include "profiler/profiler_internal.h"
#include "profiler/symbols.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kofile *k;
	struct symtab *st;
	struct orc *o;
	struct orc_entry e;
	uint64_t *addr;
	size_t n, len, idx;

	if (kofile_parse(data, size, "fuzz.ko", &k))
		return 0;
	n = kofile_loaded_count(k);
	addr = calloc(n ? n : 1, sizeof(*addr));
	for (size_t i = 0; addr && i < n; i++) {
		(void)kofile_loaded_name(k, i);
		addr[i] = i % 3 == 2 ? 0 : 0xffffffffc0000000ull + 0x10000 * i;
	}
	(void)kofile_build_id(k, &len, &idx);
	if (addr && !kofile_place(k, addr, n, (enum orc_format)(size % 3), &st, &o)) {
		for (size_t i = 0; i < symtab_count(st); i++) {
			uint64_t pc = symtab_addr(st, (long)i);

			(void)symtab_lookup(st, pc + 1, NULL);
			if (o)
				(void)orc_find(o, pc, &e);
		}
		symtab_free(st);
		orc_free(o);
	}
	free(addr);
	kofile_free(k);
	return 0;
}
