/* kprof diff: a differential flame graph of two profiles, as difffolded.pl and flamegraph.pl
 * make one: widths are AFTER's samples; red where a frame's own samples grew against BEFORE,
 * blue where they shrank; tooltips give both counts and the change. */
#include "cli/commands.h"
#include "cli/flame_options.h"
#include "convert/convert.h"

#include <errno.h>
#include <string.h>

struct diff_opts {
	const char *out;
	bool normalize;
	struct flame_inputs in;	/* BEFORE AFTER */
};

static const struct kp_opt diff_options[] = {
	{ "output", 'o', KP_OPT_STR, "FILE", "write the SVG here ('-' or none: standard output)",
	  KP_OPT_FIELD(struct diff_opts, out) },
	{ "normalize", 0, KP_OPT_FLAG, NULL, "scale BEFORE's counts to AFTER's total first",
	  KP_OPT_FIELD(struct diff_opts, normalize) },
	KP_OPT_END,
};

int cmd_diff(int argc, char **argv)
{
	struct diff_opts d = { 0 };
	const struct flame_cmd fc = {
		.name = "diff", .opts = diff_options, .target = &d,
		.usage = "usage: kprof diff BEFORE AFTER [options]\n"
			 "BEFORE and AFTER are trace.json, pprof, folded stacks or gdb backtraces, in any "
			 "mix.\n\n",
	};
	struct flame_opts o;
	struct convert_source before = { 0 }, after = { 0 };
	struct fg_tree *tree = NULL;
	int rc = flame_parse_args(&fc, &o, &d.in, argc, argv);

	if (rc)
		return rc == KP_OPTS_HELP ? 0 : 2;
	o.svg.normalize = d.normalize;
	if (d.in.n != 2) {
		kp_error("diff: two input files needed (BEFORE AFTER)");
		return 2;
	}
	if (fg_tree_new(o.reverse ? FG_TREE_REVERSE : 0, &tree)) {
		kp_error("out of memory");
		return 1;
	}
	before.path = d.in.path[0];
	after.path = d.in.path[1];
	before.slot = FG_SLOT_BEFORE;
	after.slot = FG_SLOT_MAIN;
	before.tree = after.tree = tree;
	before.mask = after.mask = o.mask_text ? &o.mask : NULL;
	before.per_cpu = after.per_cpu = o.per_cpu;
	before.tasks = after.tasks = o.task.tasks;
	before.comm = after.comm = o.task.comm;
	before.annotate_user = after.annotate_user = o.svg.palette == FG_PALETTE_KERNEL;
	rc = convert_load(&before);
	if (!rc)
		rc = convert_load(&after);
	for (int i = 0; !rc && i < 2; i++) {
		const struct convert_source *s = i ? &after : &before;

		if (!s->nstacks) {
			kp_error("%s: no samples%s%s", s->path,
				 o.mask_text ? " left after --cpu-mask " : "",
				 o.mask_text ? o.mask_text : "");
			rc = -ENODATA;
		}
	}
	if (!rc) {
		const char *inputs[] = { before.path, after.path };
		struct convert_source both = { .tree = tree };

		rc = convert_write(&both, CONVERT_SVG, &o.svg, d.out, inputs, 2);
	}
	fg_tree_free(tree);
	return rc == -EBADMSG ? 2 : rc ? 1 : 0;
}
