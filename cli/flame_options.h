/* cli: the flame-graph options kprof parse and kprof diff share.  Loading and writing the
 * profiles themselves is convert/'s (convert/convert.h). */
#ifndef KPROF_CLI_FLAME_OPTIONS_H
#define KPROF_CLI_FLAME_OPTIONS_H

#include "common/common.h"

#include <getopt.h>

#include "flamegraph/flamegraph.h"
#include "convert/convert.h"

/* Long options shared by parse and diff (values above any short option). */
enum flame_opt {
	OPT_TITLE = 256, OPT_SUBTITLE, OPT_WIDTH, OPT_HEIGHT, OPT_MINWIDTH, OPT_COLORS, OPT_HASH,
	OPT_INVERTED, OPT_COUNTNAME, OPT_REVERSE, OPT_FLAMECHART, OPT_CPU_MASK, OPT_PER_CPU,
	OPT_NORMALIZE, OPT_NO_TASKS, OPT_TASKS, OPT_COMM, OPT_PER_STAGE,
};

/* --tasks comm|pid|tid, --no-tasks, --comm NAME: for parse and diff here, and collect. */
#define FLAME_TASK_LONGOPTS                                                  \
	{ "no-tasks", no_argument, NULL, OPT_NO_TASKS },                     \
	{ "tasks", required_argument, NULL, OPT_TASKS },                     \
	{ "comm", required_argument, NULL, OPT_COMM }

#define FLAME_TASK_USAGE                                                                   \
	"  --tasks MODE        Linux: the task as each stack's root frame: comm (default,\n"   \
	"                      \"dd\"), pid (\"dd-123\", the process id) or tid (\"dd-123/124\")\n"\
	"  --no-tasks          no task root frames\n"                                          \
	"  --comm NAME         keep only the stacks of tasks called NAME (folded input: whose\n"\
	"                      root frame is NAME or NAME-PID...)\n"

/* Parse --tasks's argument; prints an error and returns -EINVAL when it is no mode. */
int flame_tasks_parse(const char *arg, enum convert_tasks *out);

#define FLAME_SVG_LONGOPTS                                                   \
	{ "title", required_argument, NULL, OPT_TITLE },                     \
	{ "subtitle", required_argument, NULL, OPT_SUBTITLE },               \
	{ "width", required_argument, NULL, OPT_WIDTH },                     \
	{ "height", required_argument, NULL, OPT_HEIGHT },                   \
	{ "minwidth", required_argument, NULL, OPT_MINWIDTH },               \
	{ "colors", required_argument, NULL, OPT_COLORS },                   \
	{ "colours", required_argument, NULL, OPT_COLORS },                  \
	{ "hash", no_argument, NULL, OPT_HASH },                             \
	{ "inverted", no_argument, NULL, OPT_INVERTED },                     \
	{ "countname", required_argument, NULL, OPT_COUNTNAME },             \
	{ "reverse", no_argument, NULL, OPT_REVERSE },                       \
	{ "cpu-mask", required_argument, NULL, OPT_CPU_MASK },               \
	{ "per-cpu", no_argument, NULL, OPT_PER_CPU },                       \
	FLAME_TASK_LONGOPTS

#define FLAME_SVG_USAGE                                                                    \
	"  --cpu-mask MASK     keep only these CPUs (decimal or 0x-hex, up to 128 bits)\n"     \
	"  --per-cpu           one flame graph per CPU, stacked in one SVG\n"                  \
	"  --title TEXT, --subtitle TEXT, --countname NAME (default \"samples\")\n"            \
	"  --width PIXELS      image width (1200)\n"                                          \
	"  --height PIXELS     frame height (16)\n"                                           \
	"  --minwidth PIXELS   leave out frames narrower than this (0.1)\n"                   \
	"  --colors PALETTE    hot, mem, io, kernel, red, green, blue, aqua, yellow, purple,\n" \
	"                      orange (kernel: user-mode frames aqua, unknown grey)\n"        \
	"  --hash              colour by name: the same function, the same colour\n"          \
	"  --inverted          icicle graph (roots at the top)\n"                             \
	"  --reverse           reverse the stacks (merge from the innermost frame)\n"          \
	FLAME_TASK_USAGE

#define FLAME_EXIT_USAGE                                                                   \
	"\nExit status: 0 written, 1 bad input or output failure, 2 bad usage or a malformed\n" \
	"pprof file.\n"

/* Options parse and diff share. */
struct flame_opts {
	struct fg_svg_options svg;
	struct kp_cpumask mask;
	const char *mask_text;	/* NULL: no --cpu-mask */
	bool per_cpu, per_stage, reverse;
	enum convert_tasks tasks;
	const char *comm;
};

void flame_opts_init(struct flame_opts *o);
/* Returns 1 when opt was a shared option, 0 when not, negative after printing an error. */
int flame_option(int opt, const char *arg, struct flame_opts *o);

#endif
