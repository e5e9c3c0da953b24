/* Unit tests for common/: number, size and CPU-mask parsing, buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/common.h"

#include <errno.h>
#include <stdio.h>

static void test_parse_size(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(kp_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(kp_parse_size("64M", &v), 0);
	assert_int_equal(v, 64ull << 20);
	assert_int_equal(kp_parse_size("1GiB", &v), 0);
	assert_int_equal(v, 1ull << 30);
	assert_int_equal(kp_parse_size("2k", &v), 0);
	assert_int_equal(v, 2048);
	assert_true(kp_parse_size("", &v) < 0);
	assert_true(kp_parse_size("-1M", &v) < 0);
	assert_true(kp_parse_size("12Q", &v) < 0);
	assert_true(kp_parse_size("99999999999999999999", &v) < 0);
	assert_true(kp_parse_size("16777216T", &v) < 0);
}

static void test_parse_u64(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(kp_parse_u64("0x10", &v), 0);
	assert_int_equal(v, 16);
	assert_int_equal(kp_parse_u64("42", &v), 0);
	assert_int_equal(v, 42);
	assert_true(kp_parse_u64("42x", &v) < 0);
	assert_true(kp_parse_u64(" 4", &v) < 0);
}

static void test_cpumask(void **state)
{
	struct kp_cpumask m;
	char buf[40];

	(void)state;
	assert_int_equal(kp_cpumask_parse("0x3", &m), 0);
	assert_true(kp_cpumask_test(&m, 0));
	assert_true(kp_cpumask_test(&m, 1));
	assert_false(kp_cpumask_test(&m, 2));
	assert_int_equal(kp_cpumask_parse("5", &m), 0);
	assert_true(kp_cpumask_test(&m, 0));
	assert_false(kp_cpumask_test(&m, 1));
	assert_true(kp_cpumask_test(&m, 2));
	/* Bit 127 through hex and through decimal (2^127). */
	assert_int_equal(kp_cpumask_parse("0x80000000000000000000000000000000", &m), 0);
	assert_true(kp_cpumask_test(&m, 127));
	assert_false(kp_cpumask_test(&m, 0));
	assert_int_equal(kp_cpumask_parse("170141183460469231731687303715884105728", &m), 0);
	assert_true(kp_cpumask_test(&m, 127));
	kp_cpumask_format(&m, buf, sizeof(buf));
	assert_string_equal(buf, "0x80000000000000000000000000000000");
	/* 2^128 and 33 hex digits overflow. */
	assert_true(kp_cpumask_parse("340282366920938463463374607431768211456", &m) < 0);
	assert_true(kp_cpumask_parse("0x100000000000000000000000000000000", &m) < 0);
	assert_true(kp_cpumask_parse("0x", &m) < 0);
	assert_true(kp_cpumask_parse("3g", &m) < 0);
	assert_false(kp_cpumask_test(&m, 128));
}

static void test_buf(void **state)
{
	struct kp_buf b;

	(void)state;
	kp_buf_init(&b);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(kp_buf_printf(&b, "%d,", i), 0);
	assert_int_equal(b.len, 3890);
	assert_memory_equal(b.data, "0,1,2,", 6);
	assert_int_equal(b.data[b.len], 0);
	kp_buf_reset(&b);
	assert_int_equal(b.len, 0);
	kp_buf_release(&b);
}

static void test_fail_returns_err(void **state)
{
	FILE *f;

	(void)state;
	assert_int_equal(kp_fail(-ENOENT, "test: expected message"), -ENOENT);
	f = fopen("/dev/full", "w");
	assert_non_null(f);
	fputs("a result that cannot be written", f);
	assert_int_equal(kp_close_output(f, "/dev/full"), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_cpumask),
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_fail_returns_err),
	};
	return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
