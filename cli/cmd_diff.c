/* kprof diff: a differential flame graph of two profiles, as difffolded.pl and flamegraph.pl
 * make one: widths are AFTER's samples; red where a frame's own samples grew against BEFORE,
 * blue where they shrank; tooltips give both counts and the change. */
#include "cli/commands.h"
#include "cli/flame_options.h"
#include "convert/convert.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f, "usage: kprof diff BEFORE AFTER [options]\n"
		"BEFORE and AFTER are trace.json, pprof, folded stacks or gdb backtraces, in any mix.\n\n"
		"  -o, --output FILE   write the SVG here ('-' or none: standard output)\n"
		"  --normalize         scale BEFORE's counts to AFTER's total first\n"
		FLAME_SVG_USAGE FLAME_EXIT_USAGE);
}

int cmd_diff(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "normalize", no_argument, NULL, OPT_NORMALIZE },
		{ "help", no_argument, NULL, 'h' },
		FLAME_SVG_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct flame_opts o;
	struct convert_source before = { 0 }, after = { 0 };
	struct fg_tree *tree = NULL;
	const char *out = NULL;
	int c, rc;

	flame_opts_init(&o);
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
		rc = flame_option(c, optarg, &o);
		if (rc < 0)
			return 2;
		if (rc)
			continue;
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case OPT_NORMALIZE:
			o.svg.normalize = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 2) {
		kp_error("diff: two input files needed (BEFORE AFTER)");
		usage(stderr);
		return 2;
	}
	if (fg_tree_new(o.reverse ? FG_TREE_REVERSE : 0, &tree)) {
		kp_error("out of memory");
		return 1;
	}
	before.path = argv[optind];
	after.path = argv[optind + 1];
	before.slot = FG_SLOT_BEFORE;
	after.slot = FG_SLOT_MAIN;
	before.tree = after.tree = tree;
	before.mask = after.mask = o.mask_text ? &o.mask : NULL;
	before.per_cpu = after.per_cpu = o.per_cpu;
	before.tasks = after.tasks = o.tasks;
	before.comm = after.comm = o.comm;
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

		rc = convert_write(&both, CONVERT_SVG, &o.svg, out, inputs, 2);
	}
	fg_tree_free(tree);
	return rc == -EBADMSG ? 2 : rc ? 1 : 0;
}
