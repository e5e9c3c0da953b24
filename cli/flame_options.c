/* The flame-graph options parse and diff share, and the task options of collect too. */
#include "cli/flame_options.h"

#include <errno.h>
#include <string.h>

int flame_add_input(void *ctx, const char *arg)
{
	struct flame_inputs *in = ctx;

	if (in->n < KP_ARRAY_SIZE(in->path))
		in->path[in->n] = arg;
	in->n++;
	return 0;
}

int flame_cpu_mask_parse(const struct kp_opt *opt, const char *v, struct kp_cpumask *m)
{
	int rc = kp_cpumask_parse(v, m);

	if (rc)
		return kp_fail(rc, "--%s: '%s' is not a CPU mask (decimal or 0x-hex, %s)", opt->name, v,
			       rc == -ERANGE ? "at most 128 bits" : "e.g. 0x3");
	return 0;
}

static int set_cpu_mask(void *target, const struct kp_opt *opt, const char *v)
{
	struct flame_opts *o = target;

	if (flame_cpu_mask_parse(opt, v, &o->mask))
		return -EINVAL;
	o->mask_text = v;
	return 0;
}

static int set_colors(void *target, const struct kp_opt *opt, const char *v)
{
	struct flame_opts *o = target;

	if (fg_palette_parse(v, &o->svg.palette))
		return kp_fail(-EINVAL, "--%s: unknown palette '%s' (one of %s)", opt->name, v,
			       fg_palette_names());
	return 0;
}

#define FLAME(field) KP_OPT_FIELD(struct flame_opts, field)
#define PALETTES                                                                   \
	"hot, mem, io, kernel, red, green, blue, aqua, yellow, purple,\n"           \
	"orange (kernel: user-mode frames aqua, unknown grey)"

const struct kp_opt flame_svg_options[] = {
	{ "cpu-mask", 0, KP_OPT_CALL, "MASK",
	  "keep only these CPUs (decimal or 0x-hex, up to 128 bits)", .set = set_cpu_mask },
	{ "per-cpu", 0, KP_OPT_FLAG, NULL, "one flame graph per CPU, stacked in one SVG",
	  FLAME(per_cpu) },
	{ "title", 0, KP_OPT_STR, "TEXT", "the graph's title", FLAME(svg.title) },
	{ "subtitle", 0, KP_OPT_STR, "TEXT", "a second line under the title", FLAME(svg.subtitle) },
	{ "countname", 0, KP_OPT_STR, "NAME", "what a sample is called (default \"samples\")",
	  FLAME(svg.countname) },
	{ "width", 0, KP_OPT_UINT, "PIXELS", "image width (1200)", FLAME(svg.width), .min = 100,
	  .max = 1000000 },
	{ "height", 0, KP_OPT_UINT, "PIXELS", "frame height (16)", FLAME(svg.frame_height),
	  .min = 4, .max = 1000 },
	{ "minwidth", 0, KP_OPT_DOUBLE, "PIXELS", "leave out frames narrower than this (0.1)",
	  FLAME(svg.minwidth), .dmin = 0, .dmax = 1e9 },
	{ "colors", 0, KP_OPT_CALL, "PALETTE", PALETTES, .set = set_colors },
	{ "colours", 0, KP_OPT_CALL, "PALETTE", NULL, .set = set_colors },
	{ "hash", 0, KP_OPT_FLAG, NULL, "colour by name: the same function, the same colour",
	  FLAME(svg.hash) },
	{ "inverted", 0, KP_OPT_FLAG, NULL, "icicle graph (roots at the top)", FLAME(svg.inverted) },
	{ "reverse", 0, KP_OPT_FLAG, NULL, "reverse the stacks (merge from the innermost frame)",
	  FLAME(reverse) },
	KP_OPT_END,
};

static const struct kp_opt_choice task_modes[] = {
	{ "comm", CONVERT_TASKS_COMM }, { "pid", CONVERT_TASKS_PID }, { "tid", CONVERT_TASKS_TID },
	{ NULL, 0 },
};

#define TASK(field) KP_OPT_FIELD(struct flame_task_opts, field)

const struct kp_opt flame_task_options[] = {
	{ "tasks", 0, KP_OPT_ENUM, "MODE",
	  "Linux: the task as each stack's root frame (folded and svg):\n"
	  "comm (default, \"dd\"), pid (\"dd-123\", the process id) or tid\n"
	  "(\"dd-123/124\")", TASK(tasks), .choices = task_modes },
	{ "no-tasks", 0, KP_OPT_FLAG, NULL, "no task root frames (collect: tasks are not read)",
	  TASK(tasks), .value = CONVERT_TASKS_NONE },
	{ "comm", 0, KP_OPT_STR, "NAME",
	  "keep only the stacks of tasks called NAME (folded input: whose\n"
	  "root frame is NAME or NAME-PID...)", TASK(comm) },
	KP_OPT_END,
};

int flame_parse_args(const struct flame_cmd *fc, struct flame_opts *o, struct flame_inputs *in,
		     int argc, char **argv)
{
	const struct kp_opt_group groups[] = {
		{ .opts = fc->opts, .target = fc->target },
		{ .opts = flame_svg_options, .target = o },
		{ .opts = flame_task_options, .target = &o->task },
	};
	const struct kp_opts opts = {
		.cmd = fc->name, .usage = fc->usage, .groups = groups, .ngroups = KP_ARRAY_SIZE(groups),
		.epilog = "\nExit status: 0 written, 1 bad input or output failure, 2 bad usage or a "
			  "malformed\npprof file.\n",
		.operand = flame_add_input, .ctx = in,
	};
	int next = 1;

	memset(o, 0, sizeof(*o));
	fg_svg_options_init(&o->svg);
	kp_cpumask_all(&o->mask);
	return kp_opts_parse(&opts, argc, argv, &next);
}
