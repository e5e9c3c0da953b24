/* kprof parse: re-render a profile (trace.json, folded stacks or gdb backtraces) as an SVG
 * flame graph, folded stacks, trace.json or speedscope JSON. */
#include "cli/commands.h"
#include "cli/flame_input.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: kprof parse FILE [options]\n"
		"FILE is a trace.json (kprof's or OSDK's), folded stacks ('a;b;c 12' lines) or gdb\n"
		"'thread apply all bt' output; the content decides which.  '-' reads folded or\n"
		"backtrace text from standard input.\n\n"
		"  -f, --format FMT    svg, folded, json or speedscope (default: from -o's\n"
		"                      extension .svg .folded .txt .json .speedscope.json; else svg)\n"
		"  -o, --output FILE   write here ('-' or none: standard output); never the input\n"
		"  --flamechart        x axis in sample order, not merged (input order for folded)\n"
		FLAME_SVG_USAGE);
}

static int write_output(enum flame_format fmt, struct flame_source *src,
			const struct flame_opts *o, FILE *f, const char *name)
{
	switch (fmt) {
	case FLAME_SVG:
		return fg_write_svg(src->tree, &o->svg, f, name);
	case FLAME_FOLDED:
		return fg_write_folded(src->tree, f, name);
	case FLAME_JSON:
		return profile_write_json(src->profile, f, name);
	case FLAME_SPEEDSCOPE:
		return profile_write_speedscope(src->profile, f, name);
	}
	return -EINVAL;
}

int cmd_parse(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "flamechart", no_argument, NULL, OPT_FLAMECHART },
		{ "help", no_argument, NULL, 'h' },
		FLAME_SVG_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct flame_opts o;
	struct flame_source src = { 0 };
	const char *format = NULL, *out = NULL, *outname;
	enum flame_format fmt = FLAME_SVG;
	unsigned tree_flags = 0;
	FILE *f;
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
	if (format && flame_format_parse(format, &fmt)) {
		kp_error("--format: unknown format '%s' (svg, folded, json or speedscope)", format);
		return 2;
	}
	if (!format && out && strcmp(out, "-") && flame_format_from_path(out, &fmt))
		fmt = FLAME_SVG;
	if (o.reverse)
		tree_flags |= FG_TREE_REVERSE;

	src.mask = o.mask_text ? &o.mask : NULL;
	src.per_cpu = o.per_cpu;
	src.tasks = o.tasks;
	src.comm = o.comm;
	src.annotate_user = o.svg.palette == FG_PALETTE_KERNEL && fmt == FLAME_SVG;
	src.slot = FG_SLOT_MAIN;
	src.want_profile = fmt == FLAME_JSON || fmt == FLAME_SPEEDSCOPE;
	if (!src.want_profile && fg_tree_new(tree_flags, &src.tree)) {
		kp_error("out of memory");
		return 1;
	}
	rc = flame_load(&src);
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

		outname = out && strcmp(out, "-") ? out : "standard output";
		f = flame_open_output(out, inputs, 1);
		if (!f) {
			rc = -EIO;
		} else {
			rc = write_output(fmt, &src, &o, f, outname);
			rc = flame_close_output(f, out, outname, rc);
		}
	}
	fg_tree_free(src.tree);
	profile_free(src.profile);
	return rc ? 1 : 0;
}
