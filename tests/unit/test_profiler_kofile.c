/* Unit tests for kernel module files (profiler/kofile.c): a small module-like object is
 * assembled here with the real assembler (gcc -c), so its ORC ip table is filled by the
 * assembler's own R_X86_64_PC32 relocations as a real .ko's is; it is placed at chosen
 * section addresses and must give its functions and ORC entries there, from the .ko and from
 * an .xz of it.  Then the ways a file can be wrong: each one clear error, no crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profiler/kofile.h"
#include "profiler/profiler_internal.h"
#include "profiler/symbols.h"

static char dir[64];

/* Two functions in .text, one in .text.unlikely, a build id note, .modinfo (which the kernel
 * drops), and ORC tables with one entry per function plus one inside f_one. */
static const char module_s[] =
	"	.section .note.gnu.build-id,\"a\",@note\n"
	"	.long 4, 4, 3\n"
	"	.asciz \"GNU\"\n"
	"	.byte 0xde, 0xad, 0xbe, 0xef\n"
	"	.text\n"
	"	.globl f_one\n"
	"	.type f_one, @function\n"
	"f_one:	push %rbp\n"
	"	call f_two\n"
	"	pop %rbp\n"
	"	ret\n"
	"	.size f_one, .-f_one\n"
	"	.type f_two, @function\n"
	"f_two:	ret\n"
	"	.size f_two, .-f_two\n"
	"	.section .text.unlikely,\"ax\",@progbits\n"
	"	.type f_cold, @function\n"
	"f_cold:	ud2\n"
	"	.size f_cold, .-f_cold\n"
	"	.section .modinfo,\"a\"\n"
	"	.string \"name=fake\"\n"
	"	.section .orc_unwind_ip,\"a\"\n"
	"	.long f_one - ., f_one + 1 - ., f_two - ., f_cold - .\n"
	"	.section .orc_unwind,\"a\"\n"
	/* sp_offset, bp_offset, flags (6.1 layout: sp_reg 5 = SP, type 0 = call) */
	"	.short 8, 0, 0x05\n"
	"	.short 16, -16, 0x05\n"
	"	.short 8, 0, 0x05\n"
	"	.short 8, 0, 0x05\n";

static void assemble(const char *src, const char *name)
{
	char cmd[512], path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(src, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "gcc -c -o %s/%s.ko %s", dir, name, path);
	assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/kprof-kofile.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	assemble(module_s, "fake");
	snprintf(cmd, sizeof(cmd), "xz -k %s/fake.ko", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static long loaded_index(const struct kofile *k, const char *name)
{
	for (size_t i = 0; i < kofile_loaded_count(k); i++)
		if (!strcmp(kofile_loaded_name(k, i), name))
			return (long)i;
	return -1;
}

#define TEXT 0xffffffffc0001000ull
#define COLD 0xffffffffc0003000ull
#define ORC_IP 0xffffffffc0004000ull
#define ORC 0xffffffffc0005000ull

static void place_and_check(const char *file)
{
	char path[128];
	struct kofile *k;
	struct symtab *st;
	struct orc *o;
	struct orc_entry e;
	uint64_t addr[16] = { 0 }, a, off;
	const uint8_t *id;
	size_t id_len, id_idx;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	assert_int_equal(kofile_open(path, &k), 0);
	assert_true(kofile_loaded_count(k) <= 16);
	/* The sections the kernel could load, in index order (the assembler's .text first). */
	assert_int_equal(loaded_index(k, ".text"), 0);
	assert_true(loaded_index(k, ".note.gnu.build-id") < loaded_index(k, ".text.unlikely"));
	assert_true(loaded_index(k, ".modinfo") >= 0);
	assert_int_equal(kofile_loaded_size(k, (size_t)loaded_index(k, ".orc_unwind")), 24);
	id = kofile_build_id(k, &id_len, &id_idx);
	assert_non_null(id);
	assert_int_equal(id_len, 4);
	assert_memory_equal(id, "\xde\xad\xbe\xef", 4);
	assert_int_equal(id_idx, loaded_index(k, ".note.gnu.build-id"));

	addr[loaded_index(k, ".note.gnu.build-id")] = 0xffffffffc0000000ull;
	addr[loaded_index(k, ".text")] = TEXT;
	addr[loaded_index(k, ".text.unlikely")] = COLD;
	addr[loaded_index(k, ".orc_unwind_ip")] = ORC_IP;
	addr[loaded_index(k, ".orc_unwind")] = ORC;
	/* .modinfo stays 0: dropped by the kernel. */
	assert_int_equal(kofile_place(k, addr, kofile_loaded_count(k), ORC_FORMAT_6_2, &st, &o), 0);

	assert_int_equal(symtab_count(st), 3);
	assert_int_equal(symtab_find(st, "f_one", &a, NULL), 0);
	assert_int_equal(a, TEXT);
	assert_int_equal(symtab_find(st, "f_two", &a, NULL), 0);
	assert_int_equal(a, TEXT + 8);	/* push (1), call (5), pop (1), ret (1) */
	assert_int_equal(symtab_find(st, "f_cold", &a, NULL), 0);
	assert_int_equal(a, COLD);
	assert_string_equal(symtab_name(st, symtab_lookup(st, TEXT + 3, &off)), "f_one");
	assert_int_equal(off, 3);
	assert_int_equal(symtab_lookup(st, TEXT + 9, NULL), -1);	/* past f_two */

	/* The ORC ips, relocated: the entries at each function's runtime address. */
	assert_non_null(o);
	assert_int_equal(orc_count(o), 4);
	assert_int_equal(orc_find(o, TEXT, &e), 0);
	assert_int_equal(e.sp_offset, 8);
	assert_int_equal(orc_find(o, TEXT + 1, &e), 0);
	assert_int_equal(e.sp_offset, 16);
	assert_int_equal(e.bp_offset, -16);
	assert_int_equal(e.type, ORC_CALL);
	assert_int_equal(orc_find(o, TEXT + 5, &e), 0);
	assert_int_equal(e.sp_offset, 16);
	assert_int_equal(orc_find(o, TEXT + 8, &e), 0);
	assert_int_equal(e.sp_offset, 8);
	/* f_cold's entry is the last: past it nothing is known. */
	assert_int_equal(orc_find(o, COLD, &e), -ENOENT);
	assert_int_equal(orc_find(o, TEXT - 1, &e), -ENOENT);

	symtab_free(st);
	orc_free(o);
	kofile_free(k);
}

static void test_place(void **state)
{
	(void)state;
	place_and_check("fake.ko");
}

static void test_place_xz(void **state)
{
	(void)state;
	place_and_check("fake.ko.xz");
}

/* Without an address for .text, its functions are not placed, and the ORC table not built
 * when its own section was not kept. */
static void test_unplaced_sections(void **state)
{
	char path[128];
	struct kofile *k;
	struct symtab *st;
	struct orc *o;
	uint64_t addr[16] = { 0 }, a;

	(void)state;
	snprintf(path, sizeof(path), "%s/fake.ko", dir);
	assert_int_equal(kofile_open(path, &k), 0);
	addr[loaded_index(k, ".text.unlikely")] = COLD;
	assert_int_equal(kofile_place(k, addr, kofile_loaded_count(k), ORC_FORMAT_6_2, &st, &o), 0);
	assert_int_equal(symtab_count(st), 1);
	assert_int_equal(symtab_find(st, "f_cold", &a, NULL), 0);
	assert_null(o);
	symtab_free(st);
	addr[loaded_index(k, ".text.unlikely")] = 0;
	assert_int_equal(kofile_place(k, addr, kofile_loaded_count(k), ORC_FORMAT_6_2, &st, &o),
			 -ENOENT);
	assert_int_equal(kofile_place(k, addr, 1, ORC_FORMAT_6_2, &st, &o), -EINVAL);
	kofile_free(k);
}

/* An ORC ip table that is not 32-bit pc-relative (here absolute 64-bit words) is refused
 * when placed, with one line, not misread. */
static void test_bad_relocation(void **state)
{
	static const char src[] =
		"	.text\n"
		"	.type f, @function\n"
		"f:	ret\n"
		"	.size f, .-f\n"
		"	.section .orc_unwind_ip,\"a\"\n"
		"	.quad f\n"
		"	.section .orc_unwind,\"a\"\n"
		"	.short 8, 0, 5, 8, 0, 5\n";
	char path[128];
	struct kofile *k;
	struct symtab *st;
	struct orc *o;
	uint64_t addr[8] = { 0 };

	(void)state;
	assemble(src, "badrel");
	snprintf(path, sizeof(path), "%s/badrel.ko", dir);
	assert_int_equal(kofile_open(path, &k), 0);
	for (size_t i = 0; i < kofile_loaded_count(k); i++)
		addr[i] = TEXT + 0x1000 * i;
	assert_int_equal(kofile_place(k, addr, kofile_loaded_count(k), ORC_FORMAT_6_2, &st, &o),
			 -EINVAL);
	assert_null(st);
	assert_null(o);
	kofile_free(k);
}

/* Truncated, not ELF, another machine's, compressed otherwise, not there: -errno each. */
static void test_bad_files(void **state)
{
	char path[128];
	uint8_t buf[8192];
	struct kofile *k;
	FILE *f;
	size_t n;

	(void)state;
	snprintf(path, sizeof(path), "%s/fake.ko", dir);
	f = fopen(path, "rb");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_true(n > 200);
	for (size_t len = 0; len < n; len += 37)
		assert_int_equal(kofile_parse(buf, len, "cut.ko", &k), -EINVAL);
	assert_int_equal(kofile_parse("hello, world", 12, "text.ko", &k), -EINVAL);
	buf[18] = 3;	/* e_machine: i386 */
	assert_int_equal(kofile_parse(buf, n, "i386.ko", &k), -EINVAL);
	assert_null(k);

	snprintf(path, sizeof(path), "%s/zstd.ko", dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	fwrite("\x28\xb5\x2f\xfd\0\0\0\0", 1, 8, f);
	fclose(f);
	assert_int_equal(kofile_open(path, &k), -EINVAL);
	snprintf(path, sizeof(path), "%s/bad.ko.xz", dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	fwrite("\xfd" "7zXZ\0garbage", 1, 13, f);
	fclose(f);
	assert_int_equal(kofile_open(path, &k), -EINVAL);
	snprintf(path, sizeof(path), "%s/absent.ko", dir);
	assert_int_equal(kofile_open(path, &k), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_place),
		cmocka_unit_test(test_place_xz),
		cmocka_unit_test(test_unplaced_sections),
		cmocka_unit_test(test_bad_relocation),
		cmocka_unit_test(test_bad_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
