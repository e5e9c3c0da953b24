/* cli: load any profile input (trace.json, folded stacks, gdb backtraces) into a flame-graph
 * tree and, when asked, into a profile.  The one place where profiler/ and flamegraph/ meet. */
#ifndef KPROF_CLI_FLAME_INPUT_H
#define KPROF_CLI_FLAME_INPUT_H

#include "common/common.h"

#include <getopt.h>

#include "flamegraph/flamegraph.h"
#include "profiler/profiler.h"

/* The root frame a stack's task gives (profiles of Linux kernels carry tasks), as perf's
 * flame graphs (stackcollapse-perf.pl) name it: the comm; with --tasks pid "comm-PID" (the
 * process id, tgid); with --tasks tid "comm-PID/TID"; --no-tasks none.  Unknown: "?". */
enum flame_tasks { FLAME_TASKS_COMM, FLAME_TASKS_PID, FLAME_TASKS_TID, FLAME_TASKS_NONE };

struct flame_source {
	const char *path;
	enum flame_tasks tasks;		/* the root frame from each stack's task */
	const char *comm;		/* --comm: keep only this task's stacks (NULL: all) */
	const struct kp_cpumask *mask;	/* NULL: every CPU */
	bool per_cpu;			/* keep CPU ids in the tree (one graph per CPU) */
	bool annotate_user;		/* name user-mode frames "name_[u]" (kernel palette) */
	struct fg_tree *tree;		/* NULL: no tree wanted */
	enum fg_slot slot;
	bool want_profile;		/* build (or keep) a struct profile in .profile */
	struct profile *profile;
	uint64_t nstacks;		/* stacks kept after the mask */
};

/* Read src->path.  Prints one line naming the file on error; returns 0 or a negative errno. */
int flame_load(struct flame_source *src);

/* Add a profile already in memory (e.g. just collected) to src->tree, as flame_load does
 * with a trace.json file; src->path names it in errors. */
int flame_add_profile(struct flame_source *src, const struct profile *p);

/* Output formats of kprof parse. */
enum flame_format { FLAME_SVG, FLAME_FOLDED, FLAME_JSON, FLAME_SPEEDSCOPE };

int flame_format_parse(const char *s, enum flame_format *out);
/* The format an output file name implies (.svg, .folded, .txt, .json, .speedscope.json). */
int flame_format_from_path(const char *path, enum flame_format *out);

/* Open -o's file for writing ("-" or NULL is stdout), refusing to write over any input. */
FILE *flame_open_output(const char *out, const char *const *inputs, size_t ninputs);

/* Long options shared by parse and diff (values above any short option). */
enum flame_opt {
	OPT_TITLE = 256, OPT_SUBTITLE, OPT_WIDTH, OPT_HEIGHT, OPT_MINWIDTH, OPT_COLORS, OPT_HASH,
	OPT_INVERTED, OPT_COUNTNAME, OPT_REVERSE, OPT_FLAMECHART, OPT_CPU_MASK, OPT_PER_CPU,
	OPT_NORMALIZE, OPT_NO_TASKS, OPT_TASKS, OPT_COMM,
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
int flame_tasks_parse(const char *arg, enum flame_tasks *out);
/* Write the root frame name of a task into buf (at least FLAME_TASK_ROOT_MAX bytes). */
#define FLAME_TASK_ROOT_MAX 48
void flame_task_root(const struct profile_task *t, enum flame_tasks mode, char *buf);

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

/* Close what flame_open_output opened, after the writer returned rc: report a failed flush
 * (once), and remove a file left half written.  Returns rc, or -EIO. */
int flame_close_output(FILE *f, const char *out, const char *name, int rc);

/* Options parse and diff share. */
struct flame_opts {
	struct fg_svg_options svg;
	struct kp_cpumask mask;
	const char *mask_text;	/* NULL: no --cpu-mask */
	bool per_cpu, reverse;
	enum flame_tasks tasks;
	const char *comm;
};

void flame_opts_init(struct flame_opts *o);
/* Returns 1 when opt was a shared option, 0 when not, negative after printing an error. */
int flame_option(int opt, const char *arg, struct flame_opts *o);

#endif
