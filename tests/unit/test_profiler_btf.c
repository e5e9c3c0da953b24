/* Unit tests for the BTF reader (profiler/btf.c): a hand-built blob with the shapes a kernel's
 * structs have (typedefs and const, an anonymous union, char arrays, an array of structs
 * indexed by number or by enumerator, a bit-field, a forward declaration, a per-CPU data
 * section), a module's split BTF on top of it, and every truncation and a few corruptions of
 * the blob.  test_tasks.sh reads Debian's real vmlinux BTF. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/btf.h"

enum {
	K_INT = 1, K_PTR, K_ARRAY, K_STRUCT, K_UNION, K_ENUM, K_FWD, K_TYPEDEF, K_VOLATILE,
	K_CONST, K_RESTRICT, K_FUNC, K_FUNC_PROTO, K_VAR, K_DATASEC,
};

struct blob {
	uint32_t types[512];
	size_t nt;		/* words */
	char strs[512];
	size_t ns;
	uint8_t out[4096];
	size_t len;
	uint32_t str_base;	/* string offset of strs[0] (split BTF) */
};

static void w(struct blob *b, uint32_t v)
{
	assert_true(b->nt < sizeof(b->types) / sizeof(b->types[0]));
	b->types[b->nt++] = v;
}

static uint32_t s(struct blob *b, const char *str)
{
	size_t n = strlen(str) + 1;
	uint32_t off = (uint32_t)b->ns + b->str_base;

	assert_true(b->ns + n <= sizeof(b->strs));
	memcpy(b->strs + b->ns, str, n);
	b->ns += n;
	return off;
}

static void type(struct blob *b, const char *name, unsigned kind, unsigned vlen, bool kflag,
		 uint32_t size_type)
{
	w(b, name ? s(b, name) : 0);
	w(b, vlen | kind << 24 | (uint32_t)kflag << 31);
	w(b, size_type);
}

static void member(struct blob *b, const char *name, uint32_t t, uint32_t off)
{
	w(b, name ? s(b, name) : 0);
	w(b, t);
	w(b, off);
}

static void finish(struct blob *b)
{
	uint8_t *o = b->out;
	uint32_t hdr[6] = { 0x0001eb9f, 24, 0, (uint32_t)(4 * b->nt), (uint32_t)(4 * b->nt),
			    (uint32_t)b->ns };

	memcpy(o, hdr, sizeof(hdr));
	memcpy(o + 24, b->types, 4 * b->nt);
	memcpy(o + 24 + 4 * b->nt, b->strs, b->ns);
	b->len = 24 + 4 * b->nt + b->ns;
}

/* The kernel-like base:
 *   1 int, 2 char, 3 char[16], 4 struct inner { void *base; int size; },
 *   5 struct inner[3], 6 union { int x; void *y; }, 7 void *,
 *   8 struct outer { int pid; pid_t tgid; union {x, y}; char comm[16]; struct inner mem[3];
 *                    int flags:3; } (kind_flag set: bit-field offsets), 9 typedef int pid_t,
 *   10 const struct outer, 11 typedef const struct outer outer_t,
 *   12 enum mod_mem_type { MOD_TEXT, MOD_DATA, MOD_RO = 2 }, 13 var current_task,
 *   14 datasec .data..percpu { current_task at 0x40 }, 15 struct task_struct (forward). */
static void build_base(struct blob *b)
{
	memset(b, 0, sizeof(*b));
	s(b, "");
	type(b, "int", K_INT, 0, false, 4);
	w(b, 1u << 24 | 32);	/* signed, 32 bits */
	type(b, "char", K_INT, 0, false, 1);
	w(b, 8);
	type(b, NULL, K_ARRAY, 0, false, 0);
	w(b, 2), w(b, 1), w(b, 16);
	type(b, "inner", K_STRUCT, 2, false, 16);
	member(b, "base", 7, 0);
	member(b, "size", 1, 64);
	type(b, NULL, K_ARRAY, 0, false, 0);
	w(b, 4), w(b, 1), w(b, 3);
	type(b, NULL, K_UNION, 2, false, 8);
	member(b, "x", 1, 0);
	member(b, "y", 7, 0);
	type(b, NULL, K_PTR, 0, false, 0);
	type(b, "outer", K_STRUCT, 6, true, 88);
	member(b, "pid", 1, 0);
	member(b, "tgid", 9, 32);
	member(b, NULL, 6, 64);
	member(b, "comm", 3, 128);
	member(b, "mem", 5, 256);
	member(b, "flags", 1, 640 | 3u << 24);
	type(b, "pid_t", K_TYPEDEF, 0, false, 1);
	type(b, NULL, K_CONST, 0, false, 8);
	type(b, "outer_t", K_TYPEDEF, 0, false, 10);
	type(b, "mod_mem_type", K_ENUM, 3, false, 4);
	w(b, s(b, "MOD_TEXT")), w(b, 0);
	w(b, s(b, "MOD_DATA")), w(b, 1);
	w(b, s(b, "MOD_RO")), w(b, 2);
	type(b, "current_task", K_VAR, 0, false, 7);
	w(b, 1);
	type(b, ".data..percpu", K_DATASEC, 1, false, 0x100);
	w(b, 13), w(b, 0x40), w(b, 8);
	type(b, "task_struct", K_FWD, 0, false, 0);
	finish(b);
}

static struct btf *open_base(struct blob *b)
{
	struct btf *btf;

	build_base(b);
	assert_int_equal(btf_parse(b->out, b->len, NULL, &btf), 0);
	assert_int_equal(btf_type_count(btf), 16);
	return btf;
}

static void expect(const struct btf *btf, const char *t, const char *path, uint64_t off,
		   uint64_t size)
{
	struct btf_field f;

	assert_int_equal(btf_member(btf, t, path, &f), 0);
	assert_int_equal(f.offset, off);
	assert_int_equal(f.size, size);
	assert_int_equal(f.bit_size, 0);
}

static void test_members(void **state)
{
	struct blob b;
	struct btf *btf = open_base(&b);
	struct btf_field f;

	(void)state;
	expect(btf, "outer", "pid", 0, 4);
	expect(btf, "struct outer", "tgid", 4, 4);	/* through the typedef */
	expect(btf, "outer", "x", 8, 4);		/* inside the anonymous union */
	expect(btf, "outer", "y", 8, 8);
	expect(btf, "outer", "comm", 16, 16);
	expect(btf, "outer", "comm[3]", 19, 1);
	expect(btf, "outer", "mem", 32, 48);
	expect(btf, "outer", "mem[0].base", 32, 8);
	expect(btf, "outer", "mem[2].size", 72, 4);
	expect(btf, "outer", "mem[MOD_RO].size", 72, 4);
	expect(btf, "outer", "mem[0x1].base", 48, 8);
	expect(btf, "outer_t", "comm", 16, 16);		/* typedef of const */
	expect(btf, "outer", "", 0, 88);
	assert_int_equal(btf_member(btf, "outer", "flags", &f), 0);
	assert_int_equal(f.offset, 80);
	assert_int_equal(f.bit_offset, 640);
	assert_int_equal(f.bit_size, 3);
	btf_free(btf);
}

static void test_errors(void **state)
{
	struct blob b;
	struct btf *btf = open_base(&b);
	struct btf_field f;

	(void)state;
	assert_int_equal(btf_member(btf, "outer", "nope", &f), -ENOENT);
	assert_int_equal(btf_member(btf, "nosuch", "pid", &f), -ENOENT);
	assert_int_equal(btf_member(btf, "struct task_struct", "pid", &f), -ENOENT); /* forward */
	assert_int_equal(btf_member(btf, "union outer", "pid", &f), -ENOENT);
	assert_int_equal(btf_member(btf, "outer", "mem[3].base", &f), -ERANGE);
	assert_int_equal(btf_member(btf, "outer", "mem[NOPE]", &f), -ENOENT);
	assert_int_equal(btf_member(btf, "outer", "mem[", &f), -EINVAL);
	assert_int_equal(btf_member(btf, "outer", "mem[]", &f), -EINVAL);
	assert_int_equal(btf_member(btf, "outer", "pid.x", &f), -EINVAL);
	assert_int_equal(btf_member(btf, "outer", "pid[0]", &f), -EINVAL);
	assert_int_equal(btf_member(btf, "outer", "flags.x", &f), -EINVAL);
	assert_int_equal(btf_member(btf, "outer", "comm.", &f), -EINVAL);
	assert_int_equal(btf_member(btf, "outer", ".pid", &f), -EINVAL);
	assert_int_equal(btf_member(btf, "struct ", "pid", &f), -EINVAL);
	btf_free(btf);
}

static void test_sizes_enums_vars(void **state)
{
	struct blob b;
	struct btf *btf = open_base(&b);
	uint64_t v, size;
	int64_t e;

	(void)state;
	assert_int_equal(btf_sizeof(btf, "struct inner", &v), 0);
	assert_int_equal(v, 16);
	assert_int_equal(btf_sizeof(btf, "pid_t", &v), 0);
	assert_int_equal(v, 4);
	assert_int_equal(btf_sizeof(btf, "enum mod_mem_type", &v), 0);
	assert_int_equal(v, 4);
	assert_int_equal(btf_enum_value(btf, "MOD_DATA", &e), 0);
	assert_int_equal(e, 1);
	assert_int_equal(btf_enum_value(btf, "MOD_NONE", &e), -ENOENT);
	assert_int_equal(btf_var_offset(btf, ".data..percpu", "current_task", &v, &size), 0);
	assert_int_equal(v, 0x40);
	assert_int_equal(size, 8);
	assert_int_equal(btf_var_offset(btf, ".data..percpu", "pcpu_hot", &v, &size), -ENOENT);
	assert_int_equal(btf_var_offset(btf, ".data", "current_task", &v, &size), -ENOENT);
	btf_free(btf);
}

/* A module's types continue the base's ids and string offsets. */
static void test_split(void **state)
{
	struct blob b, m;
	struct btf *base = open_base(&b), *mod;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.str_base = (uint32_t)b.ns;
	type(&m, "modthing", K_STRUCT, 2, false, 104);
	member(&m, "o", 8, 0);		/* the base's struct outer */
	member(&m, "next", 17, 704);	/* a pointer defined here */
	type(&m, NULL, K_PTR, 0, false, 16);
	finish(&m);
	assert_int_equal(btf_parse(m.out, m.len, base, &mod), 0);
	assert_int_equal(btf_type_count(mod), 18);
	expect(mod, "modthing", "o.comm", 16, 16);
	expect(mod, "modthing", "o.mem[1].size", 56, 4);
	expect(mod, "modthing", "next", 88, 8);
	expect(mod, "outer", "pid", 0, 4);	/* a base type through the module's view */
	btf_free(mod);
	btf_free(base);
}

/* Every prefix of the blob and a few corrupted bytes: -EINVAL, or a BTF whose lookups
 * stay inside it (the sanitizer build checks that). */
static void test_truncated_and_corrupt(void **state)
{
	struct blob b;
	struct btf *btf;
	struct btf_field f;

	(void)state;
	build_base(&b);
	for (size_t n = 0; n < b.len; n++) {
		uint8_t *copy = malloc(n ? n : 1);

		memcpy(copy, b.out, n);
		assert_int_equal(btf_parse(copy, n, NULL, &btf), -EINVAL);
		assert_null(btf);
		free(copy);
	}
	for (size_t i = 0; i < b.len; i++) {
		uint8_t save = b.out[i];

		b.out[i] ^= 0xa5;
		if (btf_parse(b.out, b.len, NULL, &btf) == 0) {
			btf_member(btf, "outer", "mem[MOD_RO].size", &f);
			btf_member(btf, "outer_t", "x", &f);
			btf_free(btf);
		}
		b.out[i] = save;
	}
	b.out[0] = 0xeb;	/* big-endian magic */
	b.out[1] = 0x9f;
	assert_int_equal(btf_parse(b.out, b.len, NULL, &btf), -EINVAL);
}

/* A typedef that names itself must not loop. */
static void test_cycle(void **state)
{
	struct blob b;
	struct btf *btf;
	struct btf_field f;
	uint64_t v;

	(void)state;
	memset(&b, 0, sizeof(b));
	s(&b, "");
	type(&b, "loop", K_TYPEDEF, 0, false, 1);
	type(&b, "s", K_STRUCT, 1, false, 8);
	member(&b, "m", 1, 0);
	finish(&b);
	assert_int_equal(btf_parse(b.out, b.len, NULL, &btf), 0);
	assert_int_equal(btf_sizeof(btf, "loop", &v), -EINVAL);
	assert_int_equal(btf_member(btf, "s", "m", &f), -EINVAL);
	btf_free(btf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_members),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_sizes_enums_vars),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_truncated_and_corrupt),
		cmocka_unit_test(test_cycle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
