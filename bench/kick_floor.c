/* The in-process floor of sampling: stop every vCPU and resume it, reading nothing, on the
 * schedule `kprof collect` keeps (sample k due at start + k * interval), through the same
 * target operations (vmm_target: kick, park, resume) and nothing else.  What kprof's rounds
 * cost above this is kprof's own work: registers, stack copies, unwinding and naming.
 *
 *   kick_floor ROUNDS INTERVAL_S [kprof run options] KERNEL.elf
 *   kick_floor ROUNDS INTERVAL_S --restore SNAPSHOT
 *
 * ROUNDS 0: until the guest ends (else at most 10 s).  Prints one line
 *   "rounds N seconds S rate R stop_median_us M stop_p99_us P"
 * on stdout; the guest's serial output goes where --serial says (default: discarded).
 * A bench program (linked with libkprof.a), not a kprof command: see bench/README.md.
 */
#include "cli/run_options.h"
#include "common/common.h"
#include "target/target.h"
#include "vmm/vmm.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void sleep_until(uint64_t deadline_ns)
{
	struct timespec ts = { .tv_sec = (time_t)(deadline_ns / 1000000000u),
			       .tv_nsec = (long)(deadline_ns % 1000000000u) };

	/* kp_now_ns is CLOCK_MONOTONIC. */
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static bool ended(struct vmm *vm)
{
	struct vmm_result res;

	vmm_get_result(vm, &res);
	return res.kind != VMM_END_NONE;
}

int main(int argc, char **argv)
{
	struct vmm_config cfg;
	struct vmm *vm = NULL;
	struct target *t;
	uint64_t *stop_ns, start, slot = 0, interval;
	size_t rounds, cap, n = 0;
	double secs;

	if (argc < 4) {
		fprintf(stderr, "usage: kick_floor ROUNDS INTERVAL_S [kprof run options] KERNEL.elf\n");
		return 2;
	}
	rounds = strtoul(argv[1], NULL, 10);
	interval = (uint64_t)(strtod(argv[2], NULL) * 1e9);
	vmm_config_init(&cfg);
	cfg.t0_ns = kp_now_ns();
	cfg.serial_path = "/dev/null";
	if (run_options_parse(&cfg, argc, argv, 3))
		return 2;
	cap = rounds ? rounds : 1000000;
	stop_ns = calloc(cap, sizeof(*stop_ns));
	if (!stop_ns || vmm_create(&cfg, &vm) || vmm_start(vm)) {
		fprintf(stderr, "kick_floor: cannot start the VM\n");
		return 3;
	}
	t = vmm_target(vm);
	start = kp_now_ns();
	/* Bounded in time too: with several vCPUs on a busy host a round can take milliseconds. */
	while (n < cap && !ended(vm) && (rounds == 0 || kp_now_ns() - start < 10000000000u)) {
		uint64_t t0, t1;

		if (interval)
			sleep_until(start + slot * interval);
		t0 = kp_now_ns();
		if (target_stop(t))
			break;
		if (target_resume(t, NULL))
			break;
		t1 = kp_now_ns();
		stop_ns[n++] = t1 - t0;
		/* The schedule of sampler.c: a round that overran skips the slots it missed. */
		slot++;
		if (interval) {
			uint64_t first_future = (kp_now_ns() - start + interval - 1) / interval;

			if (first_future > slot)
				slot = first_future;
		}
	}
	secs = (double)(kp_now_ns() - start) / 1e9;
	if (!rounds)	/* until the guest ends: let it finish its output */
		vmm_wait(vm, -1, &(struct vmm_result){ 0 });
	vmm_destroy(vm);
	if (!n) {
		fprintf(stderr, "kick_floor: no round completed\n");
		return 1;
	}
	qsort(stop_ns, n, sizeof(*stop_ns), cmp_u64);
	printf("rounds %zu seconds %.3f rate %.1f stop_median_us %.1f stop_p99_us %.1f\n", n, secs,
	       (double)n / secs, (double)stop_ns[n / 2] / 1e3,
	       (double)stop_ns[KP_MIN(n - 1, (size_t)ceil((double)n * 0.99) - 1)] / 1e3);
	free(stop_ns);
	return 0;
}
