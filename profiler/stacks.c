/* `monitor stacks`: kprof's own unwinding of every vCPU at the current stop, printed the way
 * gdb prints `thread apply all bt`, so that a test can hold one against the other. */
#include "profiler/profile.h"
#include "profiler/sampler.h"
#include "profiler/symbols.h"
#include "profiler/unwind.h"
#include "target/target.h"

#include <errno.h>
#include <inttypes.h>

struct mem_ctx {
	struct target *t;
	int cpu;
};

static ssize_t read_target(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct mem_ctx *m = ctx;

	return target_read_mem(m->t, m->cpu, addr, buf, len);
}

struct print_ctx {
	struct kp_buf *out;
	struct symbolizer *sym;
	int n;
	int err;
};

static int print_frame(void *ctx, uint64_t pc, unsigned flags)
{
	struct print_ctx *p = ctx;
	const char *names[16] = { "??" };
	unsigned nflags[16] = { 0 };
	size_t n = 1;

	if (p->sym)
		n = symbolizer_frames(p->sym, pc, flags, names, nflags, KP_ARRAY_SIZE(names));
	for (size_t i = 0; i < n && !p->err; i++) {
		int rc;

		/* gdb prints an inlined frame without an address: it has no frame of its own. */
		if (nflags[i] & PROFILE_FRAME_INLINE)
			rc = kp_buf_printf(p->out, "#%-2d %s ()\n", p->n++, names[i]);
		else
			rc = kp_buf_printf(p->out, "#%-2d 0x%016" PRIx64 " in %s ()\n", p->n++, pc,
					   names[i]);
		if (rc < 0)
			p->err = -ENOMEM;
	}
	return p->err;
}

int profiler_print_stacks(struct target *t, const struct unwinder *uw, struct symbolizer *sym,
			  struct kp_buf *out)
{
	int ncpu = target_cpu_count(t);

	if (ncpu < 0)
		return ncpu;
	if (target_is_stopped(t) != 1)
		return -EBUSY;
	for (int cpu = 0; cpu < ncpu; cpu++) {
		struct target_regs r;
		struct unwind_regs regs;
		struct mem_ctx m = { t, cpu };
		struct print_ctx p = { out, sym, 0, 0 };
		char desc[64];

		target_describe_cpu(t, cpu, desc, sizeof(desc));
		/* gdb numbers threads from 1; vCPU n is thread n + 1. */
		if (kp_buf_printf(out, "%sThread %d (%s):\n", cpu ? "\n" : "", cpu + 1, desc) < 0)
			return -ENOMEM;
		if (target_cpu_state(t, cpu) == TARGET_CPU_OFFLINE)
			continue;
		if (target_get_regs(t, cpu, &r)) {
			if (kp_buf_puts(out, "(registers unavailable)\n") < 0)
				return -ENOMEM;
			continue;
		}
		if ((r.cs & 3) == 3) {
			if (kp_buf_printf(out, "#0  0x%016" PRIx64 " in [user] ()\n", r.rip) < 0)
				return -ENOMEM;
			continue;
		}
		unwind_regs_from_target(&regs, &r);
		unwind_stack(uw, &regs, read_target, &m, print_frame, &p);
		if (p.err)
			return p.err;
	}
	return 0;
}
