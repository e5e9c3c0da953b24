/* The sampler (sampler.c): stop all vCPUs on an absolute schedule, copy registers and stack
 * windows into buffers allocated beforehand, resume, then unwind and name outside the stop;
 * and every vCPU's stack printed once, for gdb's `monitor stacks` (stacks.c).
 */
#ifndef KPROF_PROFILER_SAMPLER_H
#define KPROF_PROFILER_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/common.h"

struct linux_tasks;
struct modules;
struct profile;
struct symbolizer;
struct target;
struct unwinder;

struct sampler_opts {
	size_t samples;			/* 0: 200 */
	double interval_s;		/* 0: as fast as possible */
	struct kp_cpumask cpus;		/* CPUs to sample (intersected with the target's) */
	size_t stack_bytes;		/* window copied from rsp; 0: 16 KiB */
	double wait_online_s;		/* first wait up to this long for every CPU to come up */
	int stop_fd;			/* readable means stop (e.g. a signalfd), or -1 */
	bool progress;			/* progress bar (tty) or summary line on stderr */
	bool lazy_stack;		/* read only the stack the unwinder needs, in growing
					 * blocks (for targets where each read is a round trip) */
	bool stay_stopped;		/* no resume after the last sample: a target found halted
					 * is left halted where that sample saw it */
	const struct linux_tasks *tasks;	/* read each CPU's current task in the stop, or
					 * NULL (not Linux, or not wanted) */
	struct modules *modules;	/* NULL, or the modules the unwinder and symbolizer use:
					 * the list is re-read when a stop meets unknown code */
	bool timing;			/* keep each round's phases; sampler_print_timing */
	bool stages;			/* label each sample with the target's boot stage
					 * (target_stage, read in the stop); vCPUs not started
					 * yet give no stack */
	const char *kernel;		/* recorded in the profile */
	const char *build_id;		/* recorded in the profile */
};

enum sampler_end {
	SAMPLER_DONE,			/* every sample taken */
	SAMPLER_INTERRUPTED,		/* stop_fd became readable */
	SAMPLER_TARGET_ENDED,		/* the target exited, faulted or went away */
	SAMPLER_TARGET_ERROR,		/* stopping or reading the target failed */
};

/* Where a round's time goes (--timing): medians and p99 over the rounds, in ns. */
enum sampler_phase {
	SAMPLER_PH_STOP,		/* target_stop: until every vCPU is held */
	SAMPLER_PH_REGS,		/* reading registers, every sampled vCPU */
	SAMPLER_PH_STACKS,		/* copying the stacks the unwinder reads */
	SAMPLER_PH_RESUME,		/* target_resume */
	SAMPLER_PH_AFTER,		/* after the resume: unwinding and naming the copies */
	SAMPLER_NPHASES
};

struct sampler_stats {
	uint64_t phase_median_ns[SAMPLER_NPHASES], phase_p99_ns[SAMPLER_NPHASES];
	size_t samples;
	size_t late;			/* schedule slots missed because a sample overran */
	uint64_t elapsed_ns;
	uint64_t stop_median_ns, stop_p99_ns, stop_max_ns;
	double rate_hz;
	enum sampler_end end;
	char end_message[200];		/* why it ended early, or empty */
};

/* Sample target into a new profile.  Returns 0 (with what was sampled, even when the
 * target went away: see stats->end_reason) or a negative errno. */
int sampler_run(struct target *t, const struct unwinder *uw, struct symbolizer *sym,
		const struct sampler_opts *opts, struct profile **out,
		struct sampler_stats *stats);

/* One line: samples, rate, elapsed, median/p99 stop time. */
void sampler_print_summary(FILE *f, const struct sampler_stats *st);
/* One line: each phase's median and p99 per round (opts.timing). */
void sampler_print_timing(FILE *f, const struct sampler_stats *st);

/* `monitor stacks`: every vCPU of a stopped target, one frame per line in gdb's style
 * ("#0  0x... in work_leaf ()"). */
int profiler_print_stacks(struct target *t, const struct unwinder *uw,
			  struct symbolizer *sym, struct kp_buf *out);
/* `monitor stacks` for the gdb stub, shaped as its gdbstub_monitor_fn; ctx is a struct
 * kernel_syms.  Register with gdbstub_add_monitor(gs, "stacks", ..., profiler_monitor_stacks, k). */
int profiler_monitor_stacks(void *ctx, struct target *t, const char *args, struct kp_buf *out);

#endif
