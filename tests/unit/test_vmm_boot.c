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

/* A minimal bzImage: two setup sectors (setup_sects 1), protocol 2.15, 64-bit entry, then a
 * 4 KiB protected-mode kernel. */
#define BZ_LEN (1024 + 4096)
static void make_bz(uint8_t *b)
{
	memset(b, 0, BZ_LEN);
	b[0x1f1] = 1;
	b[0x1fe] = 0x55;
	b[0x1ff] = 0xaa;
	b[0x200] = 0xeb;
	b[0x201] = 0x6a;			/* header ends at 0x26c */
	memcpy(b + 0x202, "HdrS", 4);
	b[0x206] = 0x0f;
	b[0x207] = 0x02;
	b[0x211] = 1;				/* LOADED_HIGH */
	b[0x22c] = 0xff; b[0x22d] = 0xff; b[0x22e] = 0xff; b[0x22f] = 0x7f;
	b[0x232] = 0x20;			/* kernel_alignment 2 MiB */
	b[0x236] = 0x7f;			/* xloadflags: XLF_KERNEL_64 and more */
	b[0x238] = 0xff; b[0x239] = 0x07;	/* cmdline_size 2047 */
	b[0x25b] = 0x01;			/* pref_address 16 MiB */
	b[0x262] = 0x10;			/* init_size 1 MiB */
	memset(b + 1024, 0x90, 4096);
}

static int bz_parse(const uint8_t *b, size_t len, struct vmm_bzimage *img, char *err)
{
	return vmm_bzimage_parse(b, len, img, err, 200);
}

static void test_bzimage_header(void **state)
{
	static uint8_t b[BZ_LEN];
	struct vmm_bzimage img;
	char err[200];

	(void)state;
	make_bz(b);
	assert_int_equal(bz_parse(b, BZ_LEN, &img, err), 0);
	assert_int_equal(img.version, 0x020f);
	assert_int_equal(img.setup_size, 1024);
	assert_int_equal(img.kernel_offset, 1024);
	assert_int_equal(img.kernel_size, 4096);
	assert_int_equal(img.pref_address, 0x1000000);
	assert_int_equal(img.init_size, 0x100000);
	assert_int_equal(img.kernel_alignment, 0x200000);
	assert_int_equal(img.initrd_addr_max, 0x7fffffff);
	assert_int_equal(img.cmdline_size, 2047);
	assert_int_equal(img.hdr_end, 0x26c);

	/* Not a bzImage at all: -ENOENT, no message (the loader says "not ELF or bzImage"). */
	assert_int_equal(bz_parse((const uint8_t *)"hello", 5, &img, err), -ENOENT);
	b[0x202] = 'X';
	assert_int_equal(bz_parse(b, BZ_LEN, &img, err), -ENOENT);
	/* Truncated setup header. */
	make_bz(b);
	assert_int_equal(bz_parse(b, 0x240, &img, err), -ENOEXEC);
	assert_non_null(strstr(err, "truncated bzImage setup header"));
	b[0x201] = 0x10;	/* a header that claims to end before init_size */
	assert_int_equal(bz_parse(b, BZ_LEN, &img, err), -ENOEXEC);
	assert_non_null(strstr(err, "truncated bzImage setup header"));
	/* Old protocol. */
	make_bz(b);
	b[0x206] = 0x0b;
	assert_int_equal(bz_parse(b, BZ_LEN, &img, err), -ENOEXEC);
	assert_non_null(strstr(err, "2.11 is older than 2.12"));
	/* No 64-bit entry. */
	make_bz(b);
	b[0x236] = 0x7e;
	assert_int_equal(bz_parse(b, BZ_LEN, &img, err), -ENOEXEC);
	assert_non_null(strstr(err, "no 64-bit entry point"));
	/* Bad boot flag; a zImage; setup sectors and no kernel after them. */
	make_bz(b);
	b[0x1fe] = 0;
	assert_int_equal(bz_parse(b, BZ_LEN, &img, err), -ENOEXEC);
	assert_non_null(strstr(err, "boot flag"));
	make_bz(b);
	b[0x211] = 0;
	assert_int_equal(bz_parse(b, BZ_LEN, &img, err), -ENOEXEC);
	assert_non_null(strstr(err, "zImage"));
	make_bz(b);
	assert_int_equal(bz_parse(b, 1024, &img, err), -ENOEXEC);
	assert_non_null(strstr(err, "no protected-mode kernel"));
	/* setup_sects 0 means 4. */
	make_bz(b);
	b[0x1f1] = 0;
	assert_int_equal(bz_parse(b, BZ_LEN, &img, err), 0);
	assert_int_equal(img.setup_size, 2560);
}

static uint64_t get(const uint8_t *p, unsigned off, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[off + i] << (8 * i);
	return v;
}

static void test_bzimage_zero_page(void **state)
{
	static uint8_t b[BZ_LEN], zp[VMM_ZERO_PAGE_SIZE];
	static const struct vmm_e820 map[] = {
		{ 0, 0xa0000, 1 }, { 0xa0000, 0x60000, 2 }, { 0x100000, 0xff00000, 1 },
	};
	struct vmm_zero_page_args a = {
		.cmdline_addr = 0x20000, .cmdline_len = 12, .ramdisk_addr = 0xfe00000,
		.ramdisk_size = 0x1e4000, .rsdp_addr = 0xe0000, .ne820 = 3, .e820 = map,
	};
	struct vmm_bzimage img;
	char err[200];

	(void)state;
	make_bz(b);
	assert_int_equal(bz_parse(b, BZ_LEN, &img, err), 0);
	memset(zp, 0xee, sizeof(zp));
	vmm_bzimage_zero_page(b, &img, &a, zp);
	assert_memory_equal(zp + 0x202, "HdrS", 4);		/* the header, copied */
	assert_int_equal(get(zp, 0x206, 2), 0x020f);
	assert_int_equal(zp[0x210], 0xff);			/* type_of_loader */
	assert_int_equal(get(zp, 0x228, 4), 0x20000);		/* cmd_line_ptr */
	assert_int_equal(get(zp, 0x218, 4), 0xfe00000);		/* ramdisk_image */
	assert_int_equal(get(zp, 0x21c, 4), 0x1e4000);		/* ramdisk_size */
	assert_int_equal(get(zp, 0x070, 8), 0xe0000);		/* acpi_rsdp_addr */
	assert_int_equal(zp[0x1e8], 3);				/* e820_entries */
	assert_int_equal(get(zp, 0x2d0 + 40, 8), 0x100000);
	assert_int_equal(get(zp, 0x2d0 + 48, 8), 0xff00000);
	assert_int_equal(get(zp, 0x2d0 + 56, 4), 1);
	assert_int_equal(get(zp, 0x2d0 + 36, 4), 2);
	assert_int_equal(zp[0x26c], 0);				/* zero past the header */
	assert_int_equal(zp[0xfff], 0);
}

/* The header written for an ELF vmlinux reads back as a valid 2.15 header. */
static void test_linux_elf_header(void **state)
{
	static uint8_t buf[4096];
	struct vmm_bzimage made, back;
	char err[200];

	(void)state;
	vmm_linux_elf_header(buf, 0x2000000, &made);
	assert_int_equal(made.hdr_end, 0x26c);
	assert_int_equal(bz_parse(buf, sizeof(buf), &back, err), 0);
	assert_int_equal(back.version, 0x020f);
	assert_int_equal(back.init_size, 0x2000000);
	assert_int_equal(back.xloadflags & 1, 1);
	assert_int_equal(back.cmdline_size, made.cmdline_size);
	assert_int_equal(back.initrd_addr_max, made.initrd_addr_max);
	assert_int_equal(back.hdr_end, made.hdr_end);
}

static void test_insn_mxcsr(void **state)
{
	uint64_t gpr[16], addr = 0;
	unsigned len = 0;

	(void)state;
	for (int i = 0; i < 16; i++)
		gpr[i] = 0x1000ull * (uint64_t)(i + 1);
	/* Linux's kernel_fpu_begin_mask: ldmxcsr 0x4(%rsp) = 0f ae 54 24 04 */
	assert_int_equal(vmm_insn_mxcsr((const uint8_t *)"\x0f\xae\x54\x24\x04", 5, gpr, 0, &addr,
					&len), 1);
	assert_int_equal(addr, 0x5000 + 4);
	assert_int_equal(len, 5);
	/* stmxcsr (%rdi) = 0f ae 1f */
	assert_int_equal(vmm_insn_mxcsr((const uint8_t *)"\x0f\xae\x1f", 3, gpr, 0, &addr, &len), 2);
	assert_int_equal(addr, 0x8000);
	assert_int_equal(len, 3);
	/* REX.B: ldmxcsr -8(%r13) = 41 0f ae 55 f8 */
	assert_int_equal(vmm_insn_mxcsr((const uint8_t *)"\x41\x0f\xae\x55\xf8", 5, gpr, 0, &addr,
					&len), 1);
	assert_int_equal(addr, 0xe000 - 8);
	assert_int_equal(len, 5);
	/* rip-relative: ldmxcsr 0x10(%rip) at 0x400000 = 0f ae 15 10 00 00 00, 7 bytes */
	assert_int_equal(vmm_insn_mxcsr((const uint8_t *)"\x0f\xae\x15\x10\x00\x00\x00", 7, gpr,
					0x400000, &addr, &len), 1);
	assert_int_equal(addr, 0x400000 + 7 + 0x10);
	assert_int_equal(len, 7);
	/* SIB with index and scale, disp32: stmxcsr 0x100(%rax,%rcx,4) = 0f ae 9c 88 00 01 00 00 */
	assert_int_equal(vmm_insn_mxcsr((const uint8_t *)"\x0f\xae\x9c\x88\x00\x01\x00\x00", 8,
					gpr, 0, &addr, &len), 2);
	assert_int_equal(addr, 0x1000 + 0x2000 * 4 + 0x100);
	assert_int_equal(len, 8);
	/* Not these: lfence (mod 3), xsave (/4), truncated, a prefix it does not take. */
	assert_int_equal(vmm_insn_mxcsr((const uint8_t *)"\x0f\xae\xe8", 3, gpr, 0, &addr, &len), 0);
	assert_int_equal(vmm_insn_mxcsr((const uint8_t *)"\x0f\xae\x27", 3, gpr, 0, &addr, &len), 0);
	assert_int_equal(vmm_insn_mxcsr((const uint8_t *)"\x0f\xae\x54\x24", 4, gpr, 0, &addr, &len), 0);
	assert_int_equal(vmm_insn_mxcsr((const uint8_t *)"\x66\x0f\xae\x17", 4, gpr, 0, &addr, &len), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template_parse),
		cmocka_unit_test(test_template_apply),
		cmocka_unit_test(test_insn_hint),
		cmocka_unit_test(test_initrd_place),
		cmocka_unit_test(test_bzimage_header),
		cmocka_unit_test(test_bzimage_zero_page),
		cmocka_unit_test(test_linux_elf_header),
		cmocka_unit_test(test_insn_mxcsr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
