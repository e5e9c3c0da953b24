/* profiler: sampling, unwinding, symbols, name cleaning, and the profile data model.
 *
 * The profile model below is the contract between the profiler (which fills it and
 * reads/writes trace.json with json-c) and the command line (which renders it through
 * flamegraph/).  Stacks are innermost frame first, as in OSDK's trace.json.
 */
#ifndef KPROF_PROFILER_H
#define KPROF_PROFILER_H

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

struct profile_stack {
	int cpu;
	size_t nframes;
	struct profile_frame *frames;	/* innermost first */
};

struct profile_sample {
	uint64_t time_ns;	/* since the start of collection; 0 when unknown */
	uint64_t stop_ns;	/* how long the vCPUs were held stopped for this sample */
	size_t nstacks;
	struct profile_stack *stacks;	/* one per sampled CPU, ascending cpu */
};

struct profile {
	int format_version;	/* 0 for OSDK's plain files */
	char *kernel;		/* path of the symbols file, or NULL */
	char *build_id;		/* hex GNU build id, or NULL */
	int ncpus;		/* vCPUs of the target, or 1 + the highest cpu seen */
	double interval_s;	/* requested interval, 0 when unknown */
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
void profile_free(struct profile *p);

#endif
