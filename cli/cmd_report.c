/* kprof report: the hottest functions of a profile in the terminal, in perf report's layout
 * (or as JSON), from trace.json, pprof, folded stacks or gdb backtraces. */
#include "cli/commands.h"
#include "common/common.h"
#include "convert/convert.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: kprof report FILE [options]\n"
		"Print the functions that took the most samples, as perf report does: Self\n"
		"is the share of samples where the function was the innermost frame, Total\n"
		"the share where it was anywhere on the stack (once per stack, however deep\n"
		"it recursed).  FILE is a trace.json, a pprof profile, folded stacks or gdb\n"
		"backtraces; '-' reads folded or backtrace text from standard input.\n\n"
		"  --per-cpu         one table per CPU, shares of that CPU's samples (not for\n"
		"                    folded stacks, which carry no CPU ids)\n"
		"  --sort KEY        self or total (default: self; total with --children)\n"
		"  --limit N         at most N functions per table (default: all)\n"
		"  --children        as perf report --children: a Children (total) column\n"
		"                    first, sorted by it, callers without own samples listed\n"
		"  --json            one JSON object instead of text\n"
		"  -h, --help        this text\n\n"
		"Columns: Self and Total (Children and Self with --children), Samples (self\n"
		"samples; total with --children), Symbol ([k] kernel, [.] user mode).  The\n"
		"text fits 80 columns: longer names end in '...'.\n"
		"Exit status: 0 printed, 1 bad input or output failure, 2 bad usage or a\n"
		"malformed pprof file.\n");
}

enum { OPT_PER_CPU = 256, OPT_SORT, OPT_LIMIT, OPT_CHILDREN, OPT_JSON };

static int parse_options(int argc, char **argv, struct convert_report_opts *o)
{
	static const struct option longopts[] = {
		{ "per-cpu", no_argument, NULL, OPT_PER_CPU },
		{ "sort", required_argument, NULL, OPT_SORT },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "children", no_argument, NULL, OPT_CHILDREN },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_PER_CPU:
			o->per_cpu = true;
			break;
		case OPT_SORT:
			if (!strcmp(optarg, "self"))
				o->sort = CONVERT_SORT_SELF;
			else if (!strcmp(optarg, "total"))
				o->sort = CONVERT_SORT_TOTAL;
			else
				return kp_fail(-EINVAL, "--sort: '%s' is not self or total", optarg);
			break;
		case OPT_LIMIT:
			if (kp_parse_u64(optarg, &v) || !v || v > 1000000)
				return kp_fail(-EINVAL, "--limit: '%s' is not a count from 1 to 1000000", optarg);
			o->limit = (size_t)v;
			break;
		case OPT_CHILDREN:
			o->children = true;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc - 1) {
		kp_error(optind >= argc ? "report: no input file given" : "report: one input file only");
		usage(stderr);
		return -1;
	}
	return 0;
}

int cmd_report(int argc, char **argv)
{
	struct convert_report_opts o = { 0 };
	struct convert_source src = { 0 };
	struct convert_report *r = NULL;
	int rc = parse_options(argc, argv, &o);

	if (rc)
		return rc > 0 ? 0 : 2;
	src.path = o.input = argv[optind];
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
