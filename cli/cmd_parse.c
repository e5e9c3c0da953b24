/* kprof parse: re-render a profile (trace.json, pprof, folded stacks or gdb backtraces) as an
 * SVG flame graph, folded stacks, trace.json, speedscope JSON or pprof. */
#include "cli/commands.h"
#include "cli/flame_options.h"
#include "convert/convert.h"

#include <errno.h>
#include <string.h>

#define PARSE_USAGE                                                                        \
	"usage: kprof parse FILE [options]\n"                                                \
	"FILE is a trace.json (kprof's or OSDK's), a pprof profile (gzip-compressed\n"       \
	"profile.proto), folded stacks ('a;b;c 12' lines) or gdb 'thread apply all bt'\n"    \
	"output; the content decides which.  '-' reads folded or backtrace text from\n"      \
	"standard input.\n\n"

struct parse_opts {
	const char *format, *out;
	bool flamechart, per_stage;
	struct flame_inputs in;
};

#define PARSE(field) KP_OPT_FIELD(struct parse_opts, field)

static const struct kp_opt parse_options[] = {
	{ "format", 'f', KP_OPT_STR, "FMT",
	  "svg, folded, json, speedscope or pprof (default: from -o's\n"
	  "extension .svg .folded .txt .json .speedscope.json .pb.gz;\n"
	  "else svg)", PARSE(format) },
	{ "output", 'o', KP_OPT_STR, "FILE", "write here ('-' or none: standard output); never the input",
	  PARSE(out) },
	{ "flamechart", 0, KP_OPT_FLAG, NULL, "x axis in sample order, not merged (input order for folded)",
	  PARSE(flamechart) },
	{ "per-stage", 0, KP_OPT_FLAG, NULL, "one flame graph per boot stage, stacked in one SVG, in the\n"
	  "order the guest reached them (trace.json from kprof collect\n"
	  "--by-stage); folded output gets a 'stage NAME' root frame", PARSE(per_stage) },
	KP_OPT_END,
};

int cmd_parse(int argc, char **argv)
{
	struct parse_opts p = { 0 };
	const struct flame_cmd fc = { "parse", PARSE_USAGE, parse_options, &p };
	struct flame_opts o;
	struct convert_source src = { 0 };
	enum convert_format fmt = CONVERT_SVG;
	unsigned tree_flags = 0;
	int rc = flame_parse_args(&fc, &o, &p.in, argc, argv);

	if (rc)
		return rc == KP_OPTS_HELP ? 0 : 2;
	if (p.in.n != 1) {
		kp_error(!p.in.n ? "parse: no input file given" : "parse: one input file only");
		return 2;
	}
	if (p.flamechart)
		tree_flags |= FG_TREE_FLAMECHART;
	src.path = p.in.path[0];
	if (p.format && convert_format_parse(p.format, &fmt)) {
		kp_error("--format: unknown format '%s' (svg, folded, json, speedscope or pprof)",
			 p.format);
		return 2;
	}
	if (!p.format && p.out && strcmp(p.out, "-") && convert_format_from_path(p.out, &fmt))
		fmt = CONVERT_SVG;
	if (o.reverse)
		tree_flags |= FG_TREE_REVERSE;

	src.mask = o.mask_text ? &o.mask : NULL;
	src.per_cpu = o.per_cpu;
	src.per_stage = p.per_stage;
	src.tasks = o.task.tasks;
	src.comm = o.task.comm;
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
			 o.task.comm ? " of a task called " : "", o.task.comm ? o.task.comm : "");
		rc = -ENODATA;
	}
	if (!rc) {
		const char *inputs[] = { src.path };

		rc = convert_write(&src, fmt, &o.svg, p.out, inputs, 1);
	}
	fg_tree_free(src.tree);
	profile_free(src.profile);
	return rc == -EBADMSG ? 2 : rc ? 1 : 0;
}
