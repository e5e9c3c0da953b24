/* convert: profiles of any supported kind in, any output kind out.  The one place where the
 * profile model (profiler/) and flame-graph stacks (flamegraph/) meet: input formats are
 * recognised by content, stacks are converted between the two models both ways, and outputs
 * are chosen and written (complete, or not at all).
 *
 * Functions return 0 or a negative errno and print one line naming the input or output. */
#ifndef KPROF_CONVERT_H
#define KPROF_CONVERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/common.h"
#include "flamegraph/flamegraph.h"
#include "profiler/profile.h"

/* What an input's first bytes say it is (the content decides, not the file name). */
enum convert_input {
	CONVERT_IN_FOLDED,	/* "a;b;c 12" lines */
	CONVERT_IN_GDB_BT,	/* gdb "thread apply all bt" text */
	CONVERT_IN_JSON,	/* kprof's or OSDK's trace.json */
	CONVERT_IN_PPROF,	/* gzip data: pprof's profile.proto */
};
enum convert_input convert_sniff(const void *head, size_t len);

/* A stack as loaded (innermost frame first; names owned by the caller) and how many samples
 * it stands for (folded counts, merged pprof samples; 1 for a trace.json stack). */
typedef int (*convert_stack_fn)(void *arg, const struct profile_stack *st, uint64_t count);

/* The root frame a stack's task gives (profiles of Linux kernels carry tasks), as perf's
 * flame graphs (stackcollapse-perf.pl) name it: the comm; with --tasks pid "comm-PID" (the
 * process id, tgid); with --tasks tid "comm-PID/TID"; --no-tasks none.  Unknown: "?". */
enum convert_tasks { CONVERT_TASKS_COMM, CONVERT_TASKS_PID, CONVERT_TASKS_TID, CONVERT_TASKS_NONE };
/* Write the root frame name of a task into buf (at least CONVERT_TASK_ROOT_MAX bytes). */
#define CONVERT_TASK_ROOT_MAX 48
void convert_task_root(const struct profile_task *t, enum convert_tasks mode, char *buf);

/* An input and what to build from it. */
struct convert_source {
	const char *path;		/* "-": standard input (folded or backtrace text) */
	enum convert_tasks tasks;	/* the root frame from each stack's task */
	const char *comm;		/* keep only this task's stacks (NULL: all); on folded or
					 * backtrace input, the stacks whose root frame is it */
	const struct kp_cpumask *mask;	/* NULL: every CPU */
	bool per_cpu;			/* keep CPU ids in the tree (one graph per CPU) */
	bool per_stage;			/* one graph per boot stage (trace.json from collect
					 * --by-stage), its root frame "stage NAME" */
	bool annotate_user;		/* name user-mode frames "name_[u]" (kernel palette) */
	struct fg_tree *tree;		/* NULL: no tree wanted */
	enum fg_slot slot;
	bool want_profile;		/* build (or keep) a struct profile in .profile */
	struct profile *profile;
	convert_stack_fn on_stack;	/* NULL, or called for every stack kept after the mask */
	void *on_stack_arg;
	uint64_t nstacks;		/* stacks kept after the mask */
};

/* Read src->path into src->tree and/or src->profile.  -EBADMSG: a malformed pprof file. */
int convert_load(struct convert_source *src);
/* Add a profile already in memory (e.g. just collected) to src->tree; src->path names it. */
int convert_add_profile(struct convert_source *src, const struct profile *p);

/* Output formats. */
enum convert_format { CONVERT_SVG, CONVERT_FOLDED, CONVERT_JSON, CONVERT_SPEEDSCOPE, CONVERT_PPROF };

/* "svg", "folded", "json", "speedscope", "pprof"; -EINVAL otherwise. */
int convert_format_parse(const char *s, enum convert_format *out);
/* The format an output file name implies (.svg, .folded, .txt, .json, .speedscope.json,
 * .pb.gz). */
int convert_format_from_path(const char *path, enum convert_format *out);
/* Whether a format is written from the profile model (else from the flame-graph tree). */
bool convert_format_wants_profile(enum convert_format fmt);

/* Write src in fmt to out ("-" or NULL: standard output), never over one of the inputs.
 * The tree is built from src->profile when the format needs one and src has none; svg may
 * be NULL (defaults).  A file left half written is removed. */
int convert_write(struct convert_source *src, enum convert_format fmt,
		  const struct fg_svg_options *svg, const char *out, const char *const *inputs,
		  size_t ninputs);

/* kprof report (report.c): the hottest functions, as perf report shows them.  Feed it stacks
 * through convert_source.on_stack (arg: the report), then print it. */
struct convert_report;
enum convert_report_sort { CONVERT_SORT_DEFAULT, CONVERT_SORT_SELF, CONVERT_SORT_TOTAL };
struct convert_report_opts {
	const char *input;		/* named in the header */
	bool per_cpu;			/* one table per CPU, shares of that CPU's samples */
	bool children;			/* perf's --children: "Children" (total) first, every caller
					 * listed, sorted by it */
	enum convert_report_sort sort;	/* default: self, or total with children */
	size_t limit;			/* rows per table, 0: all */
	bool json;
};
int convert_report_new(bool per_cpu, struct convert_report **out);
int convert_report_add(void *report, const struct profile_stack *st, uint64_t count);
uint64_t convert_report_samples(const struct convert_report *r);
/* Plain text that fits 80 columns, or JSON.  name is the output's name in errors. */
int convert_report_print(const struct convert_report *r, const struct convert_report_opts *o,
			 FILE *f, const char *name);
void convert_report_free(struct convert_report *r);

#endif
