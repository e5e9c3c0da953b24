/* Unit tests for common/: number, size and CPU-mask parsing, buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/common.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

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

/* kp_json_string into a memory stream, as a NUL-terminated string. */
static char *json_of(const char *in)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	kp_json_string(f, in);
	assert_int_equal(fclose(f), 0);
	return out;
}

static void test_json_string(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "", "\"\"" },
		{ "ready", "\"ready\"" },
		{ "a\"b\\c", "\"a\\\"b\\\\c\"" },
		{ "tab\there\nnl", "\"tab\\u0009here\\u000anl\"" },
		{ "del\x7f", "\"del\\u007f\"" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"" },
		/* Bytes that are not UTF-8 become the code point of the same value. */
		{ "\xff", "\"\\u00ff\"" },
		{ "\xc3", "\"\\u00c3\"" },			/* truncated sequence */
		{ "\xc0\xaf", "\"\\u00c0\\u00af\"" },		/* overlong '/' */
		{ "\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\"" },	/* a surrogate */
		{ "\xe2\x82", "\"\\u00e2\\u0082\"" },		/* cut short at the end */
	};

	(void)state;
	for (size_t i = 0; i < KP_ARRAY_SIZE(cases); i++) {
		char *out = json_of(cases[i].in);

		assert_string_equal(out, cases[i].out);
		free(out);
	}
}

static void test_utf8_seq(void **state)
{
	uint32_t cp = 0;

	(void)state;
	assert_int_equal(kp_utf8_seq((const unsigned char *)"A", 1, &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(kp_utf8_seq((const unsigned char *)"\xc3\xa9", 2, &cp), 2);
	assert_int_equal(cp, 0xe9);
	assert_int_equal(kp_utf8_seq((const unsigned char *)"\xc3\xa9", 1, &cp), 0);
	assert_int_equal(kp_utf8_seq((const unsigned char *)"\xf4\x8f\xbf\xbf", 4, &cp), 4);
	assert_int_equal(cp, 0x10ffff);
	assert_int_equal(kp_utf8_seq((const unsigned char *)"\xf4\x90\x80\x80", 4, &cp), 0);
	assert_int_equal(kp_utf8_seq((const unsigned char *)"\xe0\x80\x80", 3, &cp), 0);
	assert_int_equal(kp_utf8_seq((const unsigned char *)"\x80", 1, &cp), 0);
}

/* A timed wait on a kp_cond_init condition ends at its kp_deadline, measured on the same
 * monotonic clock (at least the time asked for; no upper bound: the host may be busy). */
static void test_monotonic_wait(void **state)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t c;
	struct timespec ts;
	uint64_t t0;
	int e;

	(void)state;
	assert_int_equal(kp_cond_init(&c), 0);
	pthread_mutex_lock(&m);
	t0 = kp_now_ns();
	kp_deadline(&ts, 30);
	do
		e = pthread_cond_timedwait(&c, &m, &ts);
	while (e == 0);
	pthread_mutex_unlock(&m);
	assert_int_equal(e, ETIMEDOUT);
	assert_true(kp_now_ns() - t0 >= 30 * 1000000ull);
	kp_deadline(&ts, 1999);
	assert_true(ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000L);
	pthread_cond_destroy(&c);
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
		cmocka_unit_test(test_json_string),
		cmocka_unit_test(test_utf8_seq),
		cmocka_unit_test(test_monotonic_wait),
		cmocka_unit_test(test_fail_returns_err),
	};
	return cmocka_run_group_tests_name("common", tests, NULL, NULL);
}
