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

#define FLAME_EXIT_USAGE                                                                   \
	"\nExit status: 0 written, 1 bad input or output failure, 2 bad usage or a malformed\n" \
	"pprof file.\n"

void flame_opts_init(struct flame_opts *o);
/* A --cpu-mask value (decimal or 0x-hex, up to 128 bits) into *m; -EINVAL or -ERANGE after
 * one line naming opt. */
int flame_cpu_mask_parse(const struct kp_opt *opt, const char *v, struct kp_cpumask *m);

#endif
