/* The profile model and its readers and writers (profile.c, trace_json.c with json-c).
 *
 * The contract between the profiler (which fills it) and the rest of the tree (convert/
 * renders it through flamegraph/).  Stacks are innermost frame first, as in OSDK's trace.json.
 */
#ifndef KPROF_PROFILER_PROFILE_H
#define KPROF_PROFILER_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/common.h"

/* How a frame was found. */
enum profile_frame_flags {
	PROFILE_FRAME_CFI = 0,		/* unwound with DWARF CFI (or the innermost pc) */
	PROFILE_FRAME_FP = 1u << 0,	/* found by the frame-pointer fallback */
	PROFILE_FRAME_INLINE = 1u << 1,	/* an inlined function (shown with --inline) */
	PROFILE_FRAME_UNKNOWN = 1u << 2,	/* the pc is in no known symbol: "??" */
	PROFILE_FRAME_USER = 1u << 3,	/* the vCPU was in user mode */
};

struct profile_frame {
	char *name;		/* cleaned name, "??" when unknown */
	uint64_t pc;		/* 0 when unknown (OSDK files carry no addresses) */
	unsigned flags;
};

/* The task a CPU was running when its stack was taken (Linux kernels: the per-CPU current
 * task's task_struct).  comm is the kernel's own name for it (TASK_COMM_LEN bytes at most:
 * "dd", "swapper/1", "kworker/0:1H"), bytes outside printable ASCII shown as '.'; pid is the
 * kernel's pid (a thread's id), tgid its process id (what ps and perf call the PID).
 * Unknown (the pointer or the struct could not be read): comm "?", pid and tgid -1. */
#define PROFILE_COMM_LEN 16
struct profile_task {
	char comm[PROFILE_COMM_LEN + 1];
	int32_t pid;
	int32_t tgid;
};

struct profile_stack {
	int cpu;
	size_t nframes;
	struct profile_frame *frames;	/* innermost first */
	bool has_task;			/* false: no task information (not Linux, or not read) */
	struct profile_task task;	/* when has_task */
};

#define PROFILE_STAGE_MAX 63	/* bytes of a stage name */
struct profile_sample {
	uint64_t time_ns;	/* since the start of collection; 0 when unknown */
	uint64_t stop_ns;	/* how long the vCPUs were held stopped for this sample */
	char *stage;		/* the guest's boot stage at this stop (collect --by-stage:
				 * a BOOT_TIME: name, "post:0x2a", "kernel" before the first),
				 * NULL when not recorded */
	size_t nstacks;
	struct profile_stack *stacks;	/* one per sampled CPU, ascending cpu */
};

struct profile {
	int format_version;	/* 0 for OSDK's plain files */
	char *kernel;		/* path of the symbols file, or NULL */
	char *build_id;		/* hex GNU build id, or NULL */
	int ncpus;		/* vCPUs of the target, or 1 + the highest cpu seen */
	double interval_s;	/* requested interval, 0 when unknown */
	uint64_t start_unix_ns;	/* wall-clock start of the collection, 0 when unknown */
	size_t nsamples;
	struct profile_sample *samples;
};

/* Read kprof's or OSDK's trace.json.  On error prints one line naming the file and the
 * problem and returns a negative errno. */
int profile_read_json(const char *path, struct profile **out);
/* Write trace.json (OSDK's stack_traces plus kprof's keys). name is used in errors. */
int profile_write_json(const struct profile *p, FILE *f, const char *name);
/* Write speedscope's sampled-profile JSON, one profile per CPU. */
int profile_write_speedscope(const struct profile *p, FILE *f, const char *name);
/* Keep only the stacks of CPUs in mask (samples left with no stack are dropped). */
void profile_filter_cpus(struct profile *p, const struct kp_cpumask *mask);
/* Keep only the stacks whose task's comm is comm (stacks without a task go too). */
void profile_filter_comm(struct profile *p, const char *comm);
/* Does any stack carry a task? */
bool profile_has_tasks(const struct profile *p);
/* Does any sample carry a boot stage? */
bool profile_has_stages(const struct profile *p);
void profile_free(struct profile *p);
/* A profile with ncpus and no samples (for writers that build profiles by hand). */
struct profile *profile_new(void);
/* Append a sample and return it (stacks to be filled by the caller); NULL on ENOMEM. */
struct profile_sample *profile_add_sample(struct profile *p, size_t nstacks);
/* The unknown task: comm "?", pid and tgid -1. */
void profile_task_unknown(struct profile_task *out);

#endif
