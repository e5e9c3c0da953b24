/* cli: the flame-graph options kprof parse and kprof diff share, and the task options they
 * share with kprof collect.  Loading and writing the profiles themselves is convert/'s
 * (convert/convert.h). */
#ifndef KPROF_CLI_FLAME_OPTIONS_H
#define KPROF_CLI_FLAME_OPTIONS_H

#include "common/common.h"
#include "convert/convert.h"
#include "flamegraph/flamegraph.h"

/* --tasks comm|pid|tid, --no-tasks, --comm NAME. */
struct flame_task_opts {
	enum convert_tasks tasks;
	const char *comm;
};
/* Rows for a group whose target is a struct flame_task_opts. */
extern const struct kp_opt flame_task_options[];

struct flame_opts {
	struct fg_svg_options svg;
	struct kp_cpumask mask;
	const char *mask_text;	/* NULL: no --cpu-mask */
	bool per_cpu, reverse;
	struct flame_task_opts task;
};
/* Rows for a group whose target is a struct flame_opts. */
extern const struct kp_opt flame_svg_options[];

/* The input files of parse (one) and diff (two), as a struct kp_opts operand callback
 * collects them (ctx: a struct flame_inputs); more than fit are counted, not kept. */
struct flame_inputs {
	const char *path[2];
	size_t n;
};
int flame_add_input(void *ctx, const char *arg);

/* A parse or diff command line: the command's own rows (writing target), then the shared
 * flame-graph and task rows (into *o, set to its defaults first), and the input files into
 * *in.  0, KP_OPTS_HELP after --help, or -EINVAL after one line. */
struct flame_cmd {
	const char *name, *usage;
	const struct kp_opt *opts;
	void *target;
};
int flame_parse_args(const struct flame_cmd *fc, struct flame_opts *o, struct flame_inputs *in,
		     int argc, char **argv);
/* A --cpu-mask value (decimal or 0x-hex, up to 128 bits) into *m; -EINVAL or -ERANGE after
 * one line naming opt. */
int flame_cpu_mask_parse(const struct kp_opt *opt, const char *v, struct kp_cpumask *m);

#endif
