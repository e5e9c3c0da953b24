/* kprof report: the hottest functions of a profile in the terminal, in perf report's layout
 * (or as JSON), from trace.json, pprof, folded stacks or gdb backtraces. */
#include "cli/commands.h"
#include "common/common.h"
#include "convert/convert.h"

#include <errno.h>
#include <string.h>

static const struct kp_opt_choice sort_keys[] = {
	{ "self", CONVERT_SORT_SELF }, { "total", CONVERT_SORT_TOTAL }, { NULL, 0 },
};

#define REPORT(field) KP_OPT_FIELD(struct convert_report_opts, field)

static const struct kp_opt report_options[] = {
	{ "per-cpu", 0, KP_OPT_FLAG, NULL,
	  "one table per CPU, shares of that CPU's samples (not for\n"
	  "folded stacks, which carry no CPU ids)", REPORT(per_cpu) },
	{ "sort", 0, KP_OPT_ENUM, "KEY", "self or total (default: self; total with --children)",
	  REPORT(sort), .choices = sort_keys },
	{ "limit", 0, KP_OPT_UINT, "N", "at most N functions per table (default: all)", REPORT(limit),
	  .min = 1, .max = 1000000, .what = "count" },
	{ "children", 0, KP_OPT_FLAG, NULL,
	  "as perf report --children: a Children (total) column\n"
	  "first, sorted by it, callers without own samples listed", REPORT(children) },
	{ "json", 0, KP_OPT_FLAG, NULL, "one JSON object instead of text", REPORT(json) },
	KP_OPT_END,
};

#define REPORT_USAGE                                                                        \
	"usage: kprof report FILE [options]\n"                                                   \
	"Print the functions that took the most samples, as perf report does: Self\n"            \
	"is the share of samples where the function was the innermost frame, Total\n"            \
	"the share where it was anywhere on the stack (once per stack, however deep\n"           \
	"it recursed).  FILE is a trace.json, a pprof profile, folded stacks or gdb\n"           \
	"backtraces; '-' reads folded or backtrace text from standard input.\n\n"

#define REPORT_EPILOG                                                                       \
	"\nColumns: Self and Total (Children and Self with --children), Samples (self\n"        \
	"samples; total with --children), Symbol ([k] kernel, [.] user mode).  The\n"            \
	"text fits 80 columns: longer names end in '...'.\n"                                    \
	"Exit status: 0 printed, 1 bad input or output failure, 2 bad usage or a\n"              \
	"malformed pprof file.\n"

/* The one FILE; a second is remembered as an error. */
static int set_input(void *ctx, const char *arg)
{
	struct convert_report_opts *o = ctx;

	if (o->input)
		return kp_fail(-EINVAL, "report: one input file only");
	o->input = arg;
	return 0;
}

static int parse_options(int argc, char **argv, struct convert_report_opts *o)
{
	const struct kp_opt_group group = { .opts = report_options, .target = o };
	const struct kp_opts opts = {
		.cmd = "report", .usage = REPORT_USAGE, .epilog = REPORT_EPILOG, .groups = &group,
		.ngroups = 1, .operand = set_input, .ctx = o,
	};
	int next = 1, rc = kp_opts_parse(&opts, argc, argv, &next);

	if (rc)
		return rc;
	if (!o->input)
		return kp_fail(-EINVAL, "report: no input file given");
	return 0;
}

int cmd_report(int argc, char **argv)
{
	struct convert_report_opts o = { 0 };
	struct convert_source src = { 0 };
	struct convert_report *r = NULL;
	int rc = parse_options(argc, argv, &o);

	if (rc)
		return rc == KP_OPTS_HELP ? 0 : 2;
	src.path = o.input;
	src.per_cpu = o.per_cpu;	/* refuses inputs without CPU ids */
	if (convert_report_new(o.per_cpu, &r)) {
		kp_error("out of memory");
		return 1;
	}
	src.on_stack = convert_report_add;
	src.on_stack_arg = r;
	rc = convert_load(&src);
	if (!rc && !convert_report_samples(r)) {
		kp_error("%s: no samples", src.path);
		rc = -ENODATA;
	}
	if (!rc) {
		rc = convert_report_print(r, &o, stdout, "standard output");
		if (kp_close_output(stdout, "standard output") && !rc)
			rc = -EIO;
	}
	convert_report_free(r);
	return rc == -EBADMSG ? 2 : rc ? 1 : 0;
}
