/* libFuzzer: any command line (arguments one per line) -> the option parser over a table of
 * every kind of row, a tail group and operands.  Nothing may be read outside the arguments
 * (ASan), a parsed number is within its row's range, and a stored string is one of argv's. */
#include "common/common.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct f_opts {
	bool flag;
	int mode;
	const char *str, *path;
	unsigned count;
	uint64_t size;
	double ratio;
	size_t operands;
};

static int f_call(void *target, const struct kp_opt *opt, const char *arg)
{
	struct f_opts *o = target;

	(void)opt;
	if (arg && !strcmp(arg, "bad"))
		return kp_fail(-EINVAL, "bad");
	o->flag = true;
	return 0;
}

static int f_operand(void *ctx, const char *arg)
{
	(void)arg;
	((struct f_opts *)ctx)->operands++;
	return 0;
}

static const struct kp_opt_choice f_modes[] = { { "a", 1 }, { "b", 2 }, { NULL, 0 } };

#define F(field) KP_OPT_FIELD(struct f_opts, field)

static const struct kp_opt f_rows[] = {
	{ "flag", 'f', KP_OPT_FLAG, NULL, "x", F(flag) },
	{ "str", 's', KP_OPT_STR, "S", "x", F(str) },
	{ "path", 0, KP_OPT_PATH, "P", "x", F(path) },
	{ "count", 'n', KP_OPT_UINT, "N", "x", F(count), .min = 2, .max = 99 },
	{ "size", 0, KP_OPT_SIZE, "Z", "x", F(size), .scale = 1 << 20, .min = 4096, .max = 1 << 30,
	  .align = 4096 },
	{ "ratio", 0, KP_OPT_DOUBLE, "R", "x", F(ratio), .dmin = -1, .dmax = 1 },
	{ "mode", 0, KP_OPT_ENUM, "M", "x", F(mode), .choices = f_modes },
	{ "opt", 0, KP_OPT_ENUM, "M", "x", F(mode), .optional = true, .value = 2, .choices = f_modes },
	{ "call", 'c', KP_OPT_CALL, "C", "x", .set = f_call },
	KP_OPT_END,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct f_opts o = { 0 }, t = { 0 };
	const struct kp_opt_group g[] = {
		{ .opts = f_rows, .target = &o }, { .opts = f_rows, .target = &t, .tail = true },
	};
	const struct kp_opts c = { .cmd = "f", .usage = "", .groups = g, .ngroups = 2,
				   .operand = f_operand, .ctx = &o };
	char *buf = malloc(size + 1), **argv = calloc(size + 2, sizeof(*argv));
	int argc = 1, next = 1, rc;

	if (!buf || !argv)
		goto out;
	memcpy(buf, data, size);
	buf[size] = 0;
	argv[0] = "f";
	for (char *p = buf, *nl; p; p = nl) {
		nl = strchr(p, '\n');
		if (nl)
			*nl++ = 0;
		argv[argc++] = p;
	}
	rc = kp_opts_parse(&c, argc, argv, &next);
	if (rc == 0) {
		if ((o.count && (o.count < 2 || o.count > 99)) || (t.count && (t.count < 2 || t.count > 99)))
			abort();
		if ((o.size && o.size % 4096) || o.ratio < -1 || o.ratio > 1 || next > argc)
			abort();
		if ((o.str && (o.str < buf || o.str > buf + size)) || (o.path && !*o.path))
			abort();
	}
out:
	free(argv);
	free(buf);
	return 0;
}
