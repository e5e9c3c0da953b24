/* Unit tests for the pure parts of vmm/'s boot paths: CPU feature templates (--cpu), the
 * instruction-to-feature hints printed after an emulation failure, initrd placement and the
 * bzImage setup header, on hand-made tables, byte strings and headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "vmm/boot_image.h"
#include "vmm/cpu_template.h"
#include "vmm/insn_hint.h"

enum { EAX, EBX, ECX, EDX };

/* A host with cx16, xsave, avx, popcnt (leaf 1), avx2, smap, avx512f, avx512dq (leaf 7) and
 * xsaveopt (leaf 0xd.1), but without movbe. */
static void host_table(struct vmm_cpuid_leaf l[4])
{
	memset(l, 0, 4 * sizeof(*l));
	l[0].leaf = 1;
	l[0].reg[ECX] = (1u << 13) | (1u << 26) | (1u << 28) | (1u << 23);
	l[0].reg[EDX] = 1u << 8;
	l[1].leaf = 7;
	l[1].reg[EBX] = (1u << 5) | (1u << 20) | (1u << 16) | (1u << 17);
	l[2].leaf = 0xd;
	l[2].subleaf = 1;
	l[2].reg[EAX] = 1;
	l[3].leaf = 0x80000001;
	l[3].reg[EDX] = 1u << 29;
}

static int parse(const char *spec, struct vmm_cpu_template *t)
{
	char err[160];

	return vmm_cpu_template_parse(spec, t, err, sizeof(err));
}

static void test_template_parse(void **state)
{
	struct vmm_cpu_template t;
	char err[160];

	(void)state;
	assert_int_equal(parse("host", &t), 0);
	assert_int_equal(t.n, 0);
	assert_int_equal(parse("max,-cx16,+popcnt,xsave=off,avx=on,sse4_1,tsc_deadline", &t), 0);
	assert_int_equal(t.n, 6);
	assert_false(t.items[0].on);
	assert_true(t.items[1].on);
	assert_false(t.items[2].on);
	assert_true(t.items[3].on);
	assert_true(t.items[4].on);
	const char *name;
	assert_true(vmm_cpu_feature(t.items[4].feature, &name, NULL));
	assert_string_equal(name, "sse4-1");

	assert_int_equal(vmm_cpu_template_parse("qemu64", &t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "qemu64"));
	assert_int_equal(vmm_cpu_template_parse("host,-nosuch", &t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "nosuch"));
	assert_int_equal(vmm_cpu_template_parse("host,cx16=maybe", &t, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "cx16=maybe"));
	assert_int_equal(parse("host,", &t), -EINVAL);
	assert_int_equal(parse("host,-", &t), -EINVAL);
	assert_int_equal(parse("", &t), -EINVAL);
	assert_int_equal(parse("hostx", &t), -EINVAL);
	/* More items than the template holds. */
	char many[400] = "host";
	for (int i = 0; i < VMM_CPU_TEMPLATE_MAX + 1; i++)
		strcat(many, ",-cx16");
	assert_int_equal(parse(many, &t), -EINVAL);
}

static void test_template_apply(void **state)
{
	struct vmm_cpuid_leaf l[4];
	struct vmm_cpu_template t;
	char err[160];

	(void)state;
	host_table(l);
	assert_int_equal(parse("host,-cx16,-popcnt", &t), 0);
	assert_int_equal(vmm_cpu_template_apply(&t, l, 4, err, sizeof(err)), 0);
	assert_int_equal(l[0].reg[ECX], (1u << 26) | (1u << 28));
	assert_int_equal(l[0].reg[EDX], 1u << 8);	/* cx8 untouched */

	/* -xsave takes AVX, AVX2, AVX-512 and the XSAVE extensions with it, not SMAP. */
	host_table(l);
	assert_int_equal(parse("host,-xsave", &t), 0);
	assert_int_equal(vmm_cpu_template_apply(&t, l, 4, err, sizeof(err)), 0);
	assert_int_equal(l[0].reg[ECX], (1u << 13) | (1u << 23));
	assert_int_equal(l[1].reg[EBX], 1u << 20);
	assert_int_equal(l[2].reg[EAX], 0);

	/* Adding what the host has is a no-op; what it lacks is refused, naming it. */
	host_table(l);
	assert_int_equal(parse("host,+cx16", &t), 0);
	assert_int_equal(vmm_cpu_template_apply(&t, l, 4, err, sizeof(err)), 0);
	assert_int_equal(parse("host,+movbe", &t), 0);
	assert_int_equal(vmm_cpu_template_apply(&t, l, 4, err, sizeof(err)), -ENOTSUP);
	assert_non_null(strstr(err, "movbe"));
	/* A leaf the table does not have at all. */
	assert_int_equal(parse("host,+invtsc", &t), 0);
	assert_int_equal(vmm_cpu_template_apply(&t, l, 4, err, sizeof(err)), -ENOTSUP);

	/* The last mention wins; an added feature whose base is removed is inconsistent. */
	host_table(l);
	assert_int_equal(parse("host,-cx16,+cx16", &t), 0);
	assert_int_equal(vmm_cpu_template_apply(&t, l, 4, err, sizeof(err)), 0);
	assert_true(l[0].reg[ECX] & (1u << 13));
	host_table(l);
	assert_int_equal(parse("host,+avx2,-xsave", &t), 0);
	assert_int_equal(vmm_cpu_template_apply(&t, l, 4, err, sizeof(err)), -ENOTSUP);
	assert_non_null(strstr(err, "avx2"));
}

static void expect_hint(const char *bytes, size_t n, const char *feature, const char *mn)
{
	const char *m = NULL, *f = vmm_insn_feature((const uint8_t *)bytes, n, &m);

	if (!feature) {
		assert_null(f);
		return;
	}
	assert_non_null(f);
	assert_string_equal(f, feature);
	assert_string_equal(m, mn);
}

static void test_insn_hint(void **state)
{
	(void)state;
	/* What Debian's 6.1 kernel ran into on the emulating host. */
	expect_hint("\xf0\x48\x0f\xc7\x0e", 5, "cx16", "cmpxchg16b");	/* lock cmpxchg16b (%rsi) */
	expect_hint("\xf0\x0f\xc7\x0e", 4, "cx8", "cmpxchg8b");
	expect_hint("\x48\x0f\xae\x2f", 4, "xsave", "xrstor");		/* xrstor64 (%rdi) */
	expect_hint("\x0f\xae\x27", 3, "xsave", "xsave");
	expect_hint("\x48\x0f\xc7\x1f", 4, "xsaves", "xrstors");
	expect_hint("\xf3\x48\x0f\xb8\xc7", 5, "popcnt", "popcnt");	/* popcnt %rdi,%rax */
	expect_hint("\x0f\x01\xca", 3, "smap", "clac");
	expect_hint("\x0f\x01\xcb", 3, "smap", "stac");
	expect_hint("\x0f\x01\xd1", 3, "xsave", "xsetbv");
	expect_hint("\xf3\x48\x0f\xae\xc0", 5, "fsgsbase", "rd/wrfsbase");
	expect_hint("\x48\x0f\xc7\xf0", 4, "rdrand", "rdrand");
	expect_hint("\xf3\x0f\xc7\xf8", 4, "rdpid", "rdpid");
	expect_hint("\xc5\xfc\x77", 3, "avx", "a VEX-encoded instruction");
	expect_hint("\x66\x0f\x38\xdc\xc1", 5, "aes", "aes");
	expect_hint("\x0f\x38\xf0\x07", 4, "movbe", "movbe");
	/* Not feature-dependent, or too short to tell: no hint. */
	expect_hint("\xcc", 1, NULL, NULL);
	expect_hint("\x0f\xae\xe8", 3, NULL, NULL);			/* lfence */
	expect_hint("\x0f\xb8\xc7", 3, NULL, NULL);			/* jmpe, not popcnt */
	expect_hint("\x0f\x01", 2, NULL, NULL);
	expect_hint("\xf3\xf3\xf3", 3, NULL, NULL);
	expect_hint("", 0, NULL, NULL);
}

static void test_initrd_place(void **state)
{
	uint64_t a = 0;

	(void)state;
	/* Top of RAM, page-aligned down. */
	assert_int_equal(vmm_initrd_place(256 << 20, 0x2000000, 0, 5000, &a), 0);
	assert_int_equal(a, (256 << 20) - 8192);
	/* The boot protocol's initrd_addr_max (a bzImage says 0x7fffffff). */
	assert_int_equal(vmm_initrd_place(3ull << 30, 0x2000000, 0x7fffffff, 4096, &a), 0);
	assert_int_equal(a, 0x80000000ull - 4096);
	/* Exactly the room above the kernel, then one byte too many. */
	assert_int_equal(vmm_initrd_place(0x400000, 0x200000, 0, 0x200000, &a), 0);
	assert_int_equal(a, 0x200000);
	assert_int_equal(vmm_initrd_place(0x400000, 0x200000, 0, 0x200001, &a), -E2BIG);
	/* The kernel's end rounds up to a page. */
	assert_int_equal(vmm_initrd_place(0x400000, 0x200001, 0, 0x200000, &a), -E2BIG);
	assert_int_equal(vmm_initrd_place(0x400000, 0, 0, 0x400001, &a), -E2BIG);
	assert_int_equal(vmm_initrd_place(0x400000, 0, 0, 0, &a), -E2BIG);
	assert_int_equal(vmm_initrd_place(0x400000, 0x500000, 0, 1, &a), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template_parse),
		cmocka_unit_test(test_template_apply),
		cmocka_unit_test(test_insn_hint),
		cmocka_unit_test(test_initrd_place),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
