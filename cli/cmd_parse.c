/* kprof parse: re-render a profile (trace.json, pprof, folded stacks or gdb backtraces) as an
 * SVG flame graph, folded stacks, trace.json, speedscope JSON or pprof. */
#include "cli/commands.h"
#include "cli/flame_options.h"
#include "convert/convert.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: kprof parse FILE [options]\n"
		"FILE is a trace.json (kprof's or OSDK's), a pprof profile (gzip-compressed\n"
		"profile.proto), folded stacks ('a;b;c 12' lines) or gdb 'thread apply all bt'\n"
		"output; the content decides which.  '-' reads folded or backtrace text from\n"
		"standard input.\n\n"
		"  -f, --format FMT    svg, folded, json, speedscope or pprof (default: from -o's\n"
		"                      extension .svg .folded .txt .json .speedscope.json .pb.gz;\n"
		"                      else svg)\n"
		"  -o, --output FILE   write here ('-' or none: standard output); never the input\n"
		"  --flamechart        x axis in sample order, not merged (input order for folded)\n"
		"  --per-stage         one flame graph per boot stage, stacked in one SVG, in the\n"
		"                      order the guest reached them (trace.json from kprof collect\n"
		"                      --by-stage); folded output gets a 'stage NAME' root frame\n"
		FLAME_SVG_USAGE FLAME_EXIT_USAGE);
}

int cmd_parse(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "flamechart", no_argument, NULL, OPT_FLAMECHART },
		{ "per-stage", no_argument, NULL, OPT_PER_STAGE },
		{ "help", no_argument, NULL, 'h' },
		FLAME_SVG_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct flame_opts o;
	struct convert_source src = { 0 };
	const char *format = NULL, *out = NULL;
	enum convert_format fmt = CONVERT_SVG;
	unsigned tree_flags = 0;
	int c, rc;

	flame_opts_init(&o);
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:o:h", longopts, NULL)) != -1) {
		rc = flame_option(c, optarg, &o);
		if (rc < 0)
			return 2;
		if (rc)
			continue;
		switch (c) {
		case 'f':
			format = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case OPT_FLAMECHART:
			tree_flags |= FG_TREE_FLAMECHART;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		kp_error(optind >= argc ? "parse: no input file given" : "parse: one input file only");
		usage(stderr);
		return 2;
	}
	src.path = argv[optind];
	if (format && convert_format_parse(format, &fmt)) {
		kp_error("--format: unknown format '%s' (svg, folded, json, speedscope or pprof)",
			 format);
		return 2;
	}
	if (!format && out && strcmp(out, "-") && convert_format_from_path(out, &fmt))
		fmt = CONVERT_SVG;
	if (o.reverse)
		tree_flags |= FG_TREE_REVERSE;

	src.mask = o.mask_text ? &o.mask : NULL;
	src.per_cpu = o.per_cpu;
	src.per_stage = o.per_stage;
	src.tasks = o.tasks;
	src.comm = o.comm;
	src.annotate_user = o.svg.palette == FG_PALETTE_KERNEL && fmt == CONVERT_SVG;
	src.slot = FG_SLOT_MAIN;
	src.want_profile = convert_format_wants_profile(fmt);
	if (!src.want_profile && fg_tree_new(tree_flags, &src.tree)) {
		kp_error("out of memory");
		return 1;
	}
	rc = convert_load(&src);
	if (!rc && src.tree)
		kp_debug("%s: %llu samples, %zu distinct frames in the tree", src.path,
			 (unsigned long long)src.nstacks, fg_tree_nodes(src.tree));
	if (!rc && !src.nstacks) {
		kp_error("%s: no samples%s%s%s%s", src.path,
			 o.mask_text ? " left after --cpu-mask " : "", o.mask_text ? o.mask_text : "",
			 o.comm ? " of a task called " : "", o.comm ? o.comm : "");
		rc = -ENODATA;
	}
	if (!rc) {
		const char *inputs[] = { src.path };

		rc = convert_write(&src, fmt, &o.svg, out, inputs, 1);
	}
	fg_tree_free(src.tree);
	profile_free(src.profile);
	return rc == -EBADMSG ? 2 : rc ? 1 : 0;
}
