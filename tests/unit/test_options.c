/* Unit tests for the option parser (common/options.c): every kind of row, ranges, missing
 * values, unknown options, --opt=value and --opt value, "--", tail groups, the messages and
 * the --help text; and the `kprof run` options (cli/run_options.c) it reads for every command
 * that boots a VM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/run_options.h"
#include "common/common.h"
#include "vmm/vmm.h"

struct t_opts {
	bool flag;
	int mode;
	const char *str, *path;
	unsigned count;
	uint64_t size;
	double ratio;
	int calls;
	const char *call_arg;
	const char *operands[4];
	size_t noperands;
};

static int t_call(void *target, const struct kp_opt *opt, const char *arg)
{
	struct t_opts *o = target;

	(void)opt;
	o->calls++;
	o->call_arg = arg;
	return 0;
}

static int t_operand(void *ctx, const char *arg)
{
	struct t_opts *o = ctx;

	if (o->noperands == KP_ARRAY_SIZE(o->operands))
		return kp_fail(-E2BIG, "too many");
	o->operands[o->noperands++] = arg;
	return 0;
}

static const struct kp_opt_choice t_modes[] = { { "slow", 3 }, { "fast", 5 }, { "off", 7 }, { NULL, 0 } };

#define T(field) KP_OPT_FIELD(struct t_opts, field)

static const struct kp_opt t_rows[] = {
	{ "flag", 'f', KP_OPT_FLAG, NULL, "a flag", T(flag) },
	{ "str", 's', KP_OPT_STR, "TEXT", "a string", T(str) },
	{ "path", 0, KP_OPT_PATH, "FILE", "a file\nwhose help has two lines", T(path) },
	{ "count", 0, KP_OPT_UINT, "N", "a count", T(count), .min = 1, .max = 10, .what = "count" },
	{ "size", 0, KP_OPT_SIZE, "SIZE", "a size", T(size), .scale = 1 << 20, .min = 2 << 20,
	  .max = 1ull << 30, .align = 4096, .what = "2M to 1G" },
	{ "ratio", 0, KP_OPT_DOUBLE, "R", "a ratio", T(ratio), .dmin = 0.5, .dmax = 2 },
	{ "mode", 0, KP_OPT_ENUM, "MODE", "a mode", T(mode), .choices = t_modes },
	{ "profile", 0, KP_OPT_ENUM, "fast", "an optional value", T(mode), .optional = true,
	  .value = 3, .choices = t_modes, .what = "a speed" },
	{ "call", 0, KP_OPT_CALL, "ARG", "a setter", .set = t_call },
	{ NULL, 'c', KP_OPT_CALL, NULL, "a short setter", .set = t_call },
	{ "hidden", 0, KP_OPT_FLAG, NULL, NULL, T(flag) },
	KP_OPT_END,
};

/* A second group: "flag" is the first group's; "late" is this one's. */
static const struct kp_opt t_more[] = {
	{ "flag", 0, KP_OPT_STR, "X", "shadowed", T(str) },
	{ "late", 0, KP_OPT_FLAG, NULL, "from the second group", T(flag) },
	KP_OPT_END,
};

/* Parse argv (argv[0] the command) with the stderr line in err; returns the parser's result. */
static int run_parse(struct t_opts *o, struct t_opts *tail_o, bool tail, int argc,
		     const char **argv, int *next, char *err, size_t len)
{
	const struct kp_opt_group g[] = {
		{ .title = "options:", .opts = t_rows, .target = o },
		{ .title = "\nmore:", .opts = t_more, .target = tail_o, .tail = tail },
	};
	const struct kp_opts c = { .cmd = "t", .usage = "usage: t [options] ARG...\n",
				   .epilog = "the end\n", .groups = g, .ngroups = 2,
				   .operand = t_operand, .ctx = o };
	FILE *f = tmpfile();
	int saved = dup(2), rc, n = 1;
	size_t got;

	assert_non_null(f);
	fflush(stderr);
	dup2(fileno(f), 2);
	rc = kp_opts_parse(&c, argc, (char **)argv, next ? next : &n);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(f);
	got = fread(err, 1, len - 1, f);
	err[got] = 0;
	fclose(f);
	return rc;
}

#define PARSE(o, ...)                                                                        \
	({                                                                                   \
		const char *argv_[] = { "t", __VA_ARGS__ };                                  \
		memset(&(o), 0, sizeof(o));                                                  \
		run_parse(&(o), &(o), false, (int)KP_ARRAY_SIZE(argv_), argv_, NULL, err,    \
			  sizeof(err));                                                      \
	})

static void test_kinds(void **state)
{
	struct t_opts o;
	char err[512];

	(void)state;
	assert_int_equal(PARSE(o, "--flag", "--str", "a b", "--path=p", "--count", "10", "--size",
			       "64", "--ratio", "0.5", "--mode", "fast", "--call", "x", "-c", "in"), 0);
	assert_true(o.flag);
	assert_string_equal(o.str, "a b");
	assert_string_equal(o.path, "p");
	assert_int_equal(o.count, 10);
	assert_int_equal(o.size, 64ull << 20);
	assert_true(o.ratio == 0.5);
	assert_int_equal(o.mode, 5);
	assert_int_equal(o.calls, 2);
	assert_null(o.call_arg);	/* -c takes no value */
	assert_int_equal(o.noperands, 1);
	assert_string_equal(o.operands[0], "in");
	assert_string_equal(err, "");

	/* Sizes with a unit; the optional value; an alias not listed in --help still works. */
	assert_int_equal(PARSE(o, "--size=1G", "--profile", "--hidden"), 0);
	assert_int_equal(o.size, 1ull << 30);
	assert_int_equal(o.mode, 3);
	assert_true(o.flag);
	assert_int_equal(PARSE(o, "--profile=off"), 0);
	assert_int_equal(o.mode, 7);
	/* An optional value comes only after '=': the next argument is an operand. */
	assert_int_equal(PARSE(o, "--profile", "fast"), 0);
	assert_int_equal(o.mode, 3);
	assert_string_equal(o.operands[0], "fast");
	/* Short options: "-s value" and "-svalue"; "-" is an operand (standard input). */
	assert_int_equal(PARSE(o, "-s", "one", "-f", "-"), 0);
	assert_string_equal(o.str, "one");
	assert_string_equal(o.operands[0], "-");
	assert_int_equal(PARSE(o, "-stwo"), 0);
	assert_string_equal(o.str, "two");
	/* The empty string is a value. */
	assert_int_equal(PARSE(o, "--str", ""), 0);
	assert_string_equal(o.str, "");
}

static void test_errors(void **state)
{
	struct t_opts o;
	char err[512];

	(void)state;
	static const struct {
		const char *args[3];
		const char *msg;
	} bad[] = {
		{ { "--count", "0" }, "kprof: --count: '0' is not a count from 1 to 10\n" },
		{ { "--count", "11" }, "kprof: --count: '11' is not a count from 1 to 10\n" },
		{ { "--count=-1" }, "kprof: --count: '-1' is not a count from 1 to 10\n" },
		{ { "--count", "3x" }, "kprof: --count: '3x' is not a count from 1 to 10\n" },
		{ { "--size", "1M" }, "kprof: --size: '1M' is out of range (2M to 1G)\n" },
		{ { "--size", "2G" }, "kprof: --size: '2G' is out of range (2M to 1G)\n" },
		{ { "--size", "2049K" }, "kprof: --size: '2049K' is out of range (2M to 1G)\n" },
		{ { "--size", "lots" }, "kprof: --size: 'lots' is not a size (e.g. 256M, 1G)\n" },
		{ { "--size", "99999999999999" },
		  "kprof: --size: '99999999999999' is not a size (e.g. 256M, 1G)\n" },
		{ { "--ratio", "3" }, "kprof: --ratio: '3' is not a number from 0.5 to 2\n" },
		{ { "--ratio", "1x" }, "kprof: --ratio: '1x' is not a number from 0.5 to 2\n" },
		{ { "--mode", "warp" }, "kprof: --mode: 'warp' is not slow, fast or off\n" },
		{ { "--profile=warp" }, "kprof: --profile: 'warp' is not a speed\n" },
		{ { "--path", "" }, "kprof: --path: empty file name\n" },
		{ { "--count" }, "kprof: --count: missing value\n" },
		{ { "a", "-s" }, "kprof: --str: missing value\n" },
		{ { "--flag=1" }, "kprof: --flag: takes no value\n" },
		{ { "--nope" }, "kprof: unknown option '--nope'; see 'kprof t --help'\n" },
		{ { "-fx" }, "kprof: unknown option '-fx'; see 'kprof t --help'\n" },
		{ { "--fla" }, "kprof: unknown option '--fla'; see 'kprof t --help'\n" },	/* no abbreviations */
		{ { "1", "2", "3" }, NULL },
	};
	for (size_t i = 0; i < KP_ARRAY_SIZE(bad); i++) {
		const char *argv[8] = { "t" };
		int argc = 1;

		for (int k = 0; k < 3 && bad[i].args[k]; k++)
			argv[argc++] = bad[i].args[k];
		if (!bad[i].msg) {	/* five operands: the operand callback's own error */
			argv[argc++] = "4";
			argv[argc++] = "5";
		}
		memset(&o, 0, sizeof(o));
		assert_true(run_parse(&o, &o, false, argc, argv, NULL, err, sizeof(err)) < 0);
		if (bad[i].msg)
			assert_string_equal(err, bad[i].msg);
		else
			assert_string_equal(err, "kprof: too many\n");
	}
}

static void test_groups(void **state)
{
	struct t_opts o, late;
	char err[512];
	int next;

	(void)state;
	/* Two groups, no tail: the first one's row of a name wins. */
	assert_int_equal(PARSE(o, "--flag", "--late"), 0);
	assert_true(o.flag);
	assert_null(o.str);

	/* "--" ends the options: what follows is operands, even "-f". */
	assert_int_equal(PARSE(o, "--", "-f", "--count"), 0);
	assert_false(o.flag);
	assert_int_equal(o.noperands, 2);
	assert_string_equal(o.operands[0], "-f");

	/* A tail group: matched after "--", after the first operand or at the first option
	 * the head does not know; *next says where it began. */
	const char *a1[] = { "t", "--flag", "--", "--late", "k" };
	memset(&o, 0, sizeof(o));
	memset(&late, 0, sizeof(late));
	next = 1;
	assert_int_equal(run_parse(&o, &late, true, 5, a1, &next, err, sizeof(err)), 0);
	assert_true(o.flag);
	assert_true(late.flag);
	assert_int_equal(next, 3);
	assert_string_equal(o.operands[0], "k");

	const char *a2[] = { "t", "--count", "2", "--late", "--flag", "x" };
	memset(&o, 0, sizeof(o));
	memset(&late, 0, sizeof(late));
	next = 1;
	assert_int_equal(run_parse(&o, &late, true, 6, a2, &next, err, sizeof(err)), 0);
	assert_int_equal(next, 3);
	assert_false(o.flag);
	assert_string_equal(late.str, "x");	/* the tail's own "flag" row */

	/* Head options after the tail began are unknown. */
	const char *a3[] = { "t", "k", "--count", "2" };
	memset(&o, 0, sizeof(o));
	next = 1;
	assert_int_equal(run_parse(&o, &late, true, 4, a3, &next, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "kprof: unknown option '--count'; see 'kprof t --help'\n");

	/* Nothing for the tail: next is argc. */
	const char *a4[] = { "t", "--flag" };
	next = 1;
	assert_int_equal(run_parse(&o, &late, true, 2, a4, &next, err, sizeof(err)), 0);
	assert_int_equal(next, 2);
}

static void test_help(void **state)
{
	const struct kp_opt_group g[] = {
		{ .title = "options:", .opts = t_rows },
		{ .title = "\nmore:", .opts = t_more },
	};
	const struct kp_opts c = { .cmd = "t", .usage = "usage: t [options] ARG...\n",
				   .epilog = "the end\n", .groups = g, .ngroups = 2 };
	char buf[4096];
	FILE *f = tmpfile();
	size_t n;

	(void)state;
	assert_non_null(f);
	kp_opts_help(&c, f);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	assert_string_equal(buf,
		"usage: t [options] ARG...\n"
		"options:\n"
		"  -f, --flag           a flag\n"
		"  -s, --str TEXT       a string\n"
		"  --path FILE          a file\n"
		"                       whose help has two lines\n"
		"  --count N            a count\n"
		"  --size SIZE          a size\n"
		"  --ratio R            a ratio\n"
		"  --mode MODE          a mode\n"
		"  --profile[=fast]     an optional value\n"
		"  --call ARG           a setter\n"
		"  -c                   a short setter\n"
		"  -h, --help           this text\n"
		"\n"
		"more:\n"
		"  --late               from the second group\n"
		"the end\n");

	/* --help anywhere before "--" prints it on stdout and says so. */
	struct t_opts o;
	char err[512];
	int saved = dup(1), rc;
	FILE *out = tmpfile();

	fflush(stdout);
	dup2(fileno(out), 1);
	rc = PARSE(o, "--count", "2", "--help", "--nope");
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	assert_int_equal(rc, KP_OPTS_HELP);
	assert_true(ftell(out) > 100);
	fclose(out);
}

/* ---- the run options (moved from test_vmm.c and test_snapshot.c, unchanged) ---- */
static int parse_opts(struct vmm_config *cfg, int argc, const char **argv)
{
	vmm_config_init(cfg);
	return run_options_parse(cfg, argc, (char **)argv, 0);
}

static void test_run_options(void **state)
{
	struct vmm_config cfg;

	(void)state;
	const char *ok[] = { "--cpus", "4", "--mem=64", "--cmdline", "a=b", "--serial", "out.txt",
			     "--boot-profile=json", "k.elf" };
	assert_int_equal(parse_opts(&cfg, 9, ok), 0);
	assert_int_equal(cfg.ncpus, 4);
	assert_int_equal(cfg.mem_size, 64ull << 20);
	assert_string_equal(cfg.cmdline, "a=b");
	assert_string_equal(cfg.serial_path, "out.txt");
	assert_int_equal(cfg.boot_profile, VMM_PROFILE_JSON);
	assert_string_equal(cfg.kernel, "k.elf");

	const char *mem[] = { "--mem", "1G", "k.elf" };
	assert_int_equal(parse_opts(&cfg, 3, mem), 0);
	assert_int_equal(cfg.mem_size, 1ull << 30);

	const char *bad[][3] = {
		{ "--cpus", "0", "k" }, { "--cpus", "17", "k" }, { "--cpus", "abc", "k" },
		{ "--mem", "1M", "k" }, { "--mem", "4G", "k" }, { "--mem", "lots", "k" },
		{ "--boot-profile=xml", "k", "k" }, { "--frobnicate", "1", "k" },
	};
	for (size_t i = 0; i < KP_ARRAY_SIZE(bad); i++)
		assert_int_equal(parse_opts(&cfg, 3, bad[i]), -EINVAL);
	const char *none[] = { "--cpus", "2" };
	assert_int_equal(parse_opts(&cfg, 2, none), -EINVAL);
	const char *missing[] = { "k.elf", "--cpus" };
	assert_int_equal(parse_opts(&cfg, 2, missing), -EINVAL);
}

static int parse(struct vmm_config *cfg, int argc, const char **argv)
{
	vmm_config_init(cfg);
	return run_options_parse(cfg, argc, (char **)argv, 0);
}

static void test_lab_options(void **state)
{
	struct vmm_config cfg;

	(void)state;
	const char *stage[] = { "--exit-at", "ready", "k.elf" };
	assert_int_equal(parse(&cfg, 3, stage), 0);
	assert_string_equal(cfg.end_stage, "ready");
	assert_false(cfg.end_port80);

	const char *code[] = { "--exit-at=0x60", "k.elf" };
	assert_int_equal(parse(&cfg, 2, code), 0);
	assert_null(cfg.end_stage);
	assert_true(cfg.end_port80);
	assert_int_equal(cfg.end_port80_lo, 0x60);
	assert_int_equal(cfg.end_port80_hi, 0x60);

	const char *range[] = { "--exit-at", "0x40-0x5f", "k.elf" };
	assert_int_equal(parse(&cfg, 3, range), 0);
	assert_int_equal(cfg.end_port80_lo, 0x40);
	assert_int_equal(cfg.end_port80_hi, 0x5f);

	const char *bad_range[] = { "--exit-at", "0x50-0x40", "k.elf" };
	assert_int_equal(parse(&cfg, 3, bad_range), -EINVAL);
	const char *too_big[] = { "--exit-at", "0x100", "k.elf" };
	assert_int_equal(parse(&cfg, 3, too_big), -EINVAL);
	const char *bad_name[] = { "--exit-at", "no spaces", "k.elf" };
	assert_int_equal(parse(&cfg, 3, bad_name), -EINVAL);

	const char *snap[] = { "--snapshot-on", "0x60", "--snapshot", "s.snap", "k.elf" };
	assert_int_equal(parse(&cfg, 5, snap), 0);
	assert_true(cfg.snapshot_on_port80);
	assert_int_equal(cfg.snapshot_port80, 0x60);
	assert_string_equal(cfg.snapshot_path, "s.snap");

	const char *sig[] = { "--snapshot-on", "SIGUSR2", "--snapshot", "s.snap", "k.elf" };
	assert_int_equal(parse(&cfg, 5, sig), 0);
	assert_int_equal(cfg.snapshot_signal, SIGUSR2);
	const char *kick[] = { "--snapshot-on", "SIGUSR1", "--snapshot", "s.snap", "k.elf" };
	assert_int_equal(parse(&cfg, 5, kick), -EINVAL);
	const char *junk[] = { "--snapshot-on", "SIGFOO", "k.elf" };
	assert_int_equal(parse(&cfg, 3, junk), -EINVAL);

	/* --restore needs no kernel; nothing else does without one. */
	const char *restore[] = { "--restore", "s.snap" };
	assert_int_equal(parse(&cfg, 2, restore), 0);
	assert_string_equal(cfg.restore_path, "s.snap");
	assert_null(cfg.kernel);
	const char *nothing[] = { "--cpus", "2" };
	assert_int_equal(parse(&cfg, 2, nothing), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_run_options),
		cmocka_unit_test(test_lab_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
