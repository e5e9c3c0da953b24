/* The sampler: stop every vCPU on a fixed schedule, copy what the unwinder needs, resume.
 *
 * While the vCPUs are held stopped this code only copies registers and the stack memory one
 * walk of the unwinder reads into buffers allocated before the first sample: no allocation,
 * file I/O or symbol naming, so the stop time is the copy time.  Unwinding the copy into
 * frames and naming them happen after the resume.
 * Sample k is due at start + k * interval (a schedule, not a sleep after work): a slow
 * sample does not stretch the period, and slots that a sample overran are skipped.
 */
#include "profiler/profile.h"
#include "profiler/profiler_internal.h"
#include "profiler/sampler.h"
#include "profiler/symbols.h"
#include "profiler/unwind.h"
#include "target/target.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_SAMPLES 200
#define DEFAULT_STACK_BYTES (16 * 1024)
#define PAGE 4096u

/* A stack is captured as a few segments of guest memory: the one rsp points into, and any
 * other stack the unwinder walks onto (Linux runs interrupts on a per-CPU irq stack and
 * saves the interrupted stack pointer at its top).  Segment k holds [base, base + len) in
 * buf[off, off + len). */
#define MAX_SEGMENTS 8

struct segment {
	uint64_t base;
	size_t off, len;
};

struct capture {
	int cpu;
	bool ok;			/* registers were read */
	struct target_regs regs;
	uint8_t *stack;			/* 2 * stack_bytes: the first segment and the others */
	struct segment seg[MAX_SEGMENTS];
	size_t nseg;
	struct profile_task task;	/* with opts->tasks: the task this CPU runs */
	uint64_t task_stack;		/* and its kernel stack's base */
	uint64_t task_ptr;		/* read in the stop: current_task, */
	uint8_t task_span[LINUX_TASKS_SPAN_MAX];	/* and the task_struct's fields */
	int task_via;			/* the vCPU they were read through */
	bool task_tried;		/* ... both of them */
	bool offline, seen_online;	/* with opts->stages: not started yet (no stack) */
};

struct sampler {
	struct target *t;
	const struct unwinder *uw;
	struct symbolizer *sym;
	const struct sampler_opts *o;
	size_t stack_bytes;
	struct capture *caps;
	size_t ncaps;
	uint64_t *pcs;			/* one unwind's frames */
	unsigned *flags;
	size_t max_frames, nframes;
	uint64_t *stop_ns;		/* per sample */
	struct target_read *reads;	/* with opts->tasks: one per capture, */
	size_t *read_cap;		/* ... and which capture each is for */
	uint64_t *phase_ns[SAMPLER_NPHASES];	/* per sample, with opts.timing */
	uint64_t regs_ns, stacks_ns;	/* this round's */
	struct profile *prof;
	struct sampler_stats *stats;
	char stage[PROFILE_STAGE_MAX + 1];	/* with opts->stages: read in this stop */
};

/* Copy [rsp, rsp + stack_bytes): in one read when the target allows it (a short count means
 * the range ran into an unmapped page), else page by page up to the first unmapped page, for
 * targets (such as a gdb stub's 'm' packet) that refuse a range as soon as any byte of it is
 * unreadable. */
static size_t copy_stack(struct target *t, int cpu, uint64_t rsp, uint8_t *buf, size_t max)
{
	ssize_t n = target_read_mem(t, cpu, rsp, buf, max);
	size_t got = n > 0 ? (size_t)n : 0;

	/* A short count may also mean that a stub split the read into packets and refused one
	 * that ran into an unmapped page: the pages before that one are still readable. */
	if (got == max || (got && (rsp + got) % PAGE == 0))
		return got;
	while (got < max) {
		uint64_t addr = rsp + got;
		size_t chunk = KP_MIN(max - got, PAGE - (size_t)(addr & (PAGE - 1)));

		n = target_read_mem(t, cpu, addr, buf + got, chunk);
		if (n <= 0)
			break;
		got += (size_t)n;
		if ((size_t)n < chunk)
			break;
	}
	return got;
}

/* Reading a stack during the stop: the unwinder runs once over the segments, which fill
 * only as far as it reads.  The first segment starts at rsp; eager capture reads stack_bytes
 * of it at once, lazy capture (a gdb stub) in blocks that double (1 KiB, then 2, 4, ...), so
 * a shallow stack costs one small read, and the stub client, which reads ahead with the
 * registers as much as the last stop's reads reached, learns how much is needed.  A read outside
 * every segment opens a new one there (another stack).  The unwind after the resume reads the
 * same segments and so gives the same frames. */
#define LAZY_FIRST_BLOCK 1024u

struct stack_reader {
	struct target *t;
	struct capture *c;
	size_t cap;		/* bytes of c->stack */
	size_t seg_max;		/* most bytes one segment may hold */
	size_t next_block;	/* the next growth of the last segment */
	bool dead;		/* a read came back short: the last segment cannot grow */
	size_t frames, max_frames;
	const struct modules *mods;
	uint64_t unknown_pc;	/* where the walk met code it does not know (or a module's
				 * init text, which may be gone), or 0 */
};

/* Grow the last segment until it covers end (an offset from its base), if it can. */
static void grow_last(struct stack_reader *r, size_t end)
{
	struct segment *g = &r->c->seg[r->c->nseg - 1];
	size_t limit = KP_MIN(r->seg_max, r->cap - g->off);

	end = KP_MIN(end, limit);
	while (end > g->len && !r->dead) {
		size_t want = KP_MIN(KP_MAX(r->next_block, end - g->len), limit - g->len);
		size_t n = copy_stack(r->t, r->c->cpu, g->base + g->len, r->c->stack + g->off + g->len,
				      want);

		g->len += n;
		r->next_block *= 2;
		if (n < want)
			r->dead = true;
	}
}

static ssize_t serve(const struct capture *c, uint64_t addr, void *out, size_t len)
{
	for (size_t i = 0; i < c->nseg; i++) {
		const struct segment *g = &c->seg[i];

		if (addr < g->base || addr - g->base >= g->len)
			continue;
		size_t off = (size_t)(addr - g->base);

		len = KP_MIN(len, g->len - off);
		memcpy(out, c->stack + g->off + off, len);
		return (ssize_t)len;
	}
	return -EFAULT;
}

static ssize_t reader_read(void *ctx, uint64_t addr, void *out, size_t len)
{
	struct stack_reader *r = ctx;
	struct capture *c = r->c;
	struct segment *last = c->nseg ? &c->seg[c->nseg - 1] : NULL;
	ssize_t n = serve(c, addr, out, len);

	if (n == (ssize_t)len)
		return n;
	/* Past the end of the last segment but within its reach: grow it. */
	if (last && !r->dead && addr >= last->base && addr - last->base < r->seg_max) {
		grow_last(r, (size_t)(addr - last->base) + len);
		return serve(c, addr, out, len);
	}
	if (n > 0)
		return n;
	/* Somewhere else: another stack, if a segment and room are left. */
	size_t used = last ? last->off + last->len : 0;

	if (c->nseg == MAX_SEGMENTS || used >= r->cap)
		return -EFAULT;
	c->seg[c->nseg++] = (struct segment){ .base = addr & ~(uint64_t)15, .off = used };
	r->dead = false;
	r->next_block = LAZY_FIRST_BLOCK;
	grow_last(r, (size_t)(addr - c->seg[c->nseg - 1].base) + len);
	return serve(c, addr, out, len);
}

static int count_frame(void *ctx, uint64_t pc, unsigned flags)
{
	struct stack_reader *r = ctx;

	uint64_t at = flags & UNWIND_RETADDR ? pc - 1 : pc;

	if ((flags & PROFILE_FRAME_UNKNOWN) || (r->mods && modules_in_init(r->mods, at)))
		r->unknown_pc = at;
	return ++r->frames >= r->max_frames;	/* the same depth limit as the real unwind */
}

/* Returns the pc of code the walk did not know (or cannot trust), or 0. */
static uint64_t capture_stack(struct sampler *s, struct capture *c)
{
	uint64_t rsp = c->regs.gpr[TREG_RSP];
	struct stack_reader r = { .t = s->t, .c = c, .cap = 2 * s->stack_bytes,
				  .seg_max = s->stack_bytes, .max_frames = s->max_frames,
				  .mods = s->o->modules };
	struct unwind_regs regs;

	c->seg[0] = (struct segment){ .base = rsp };
	c->nseg = 1;
	r.next_block = s->o->lazy_stack ? LAZY_FIRST_BLOCK : s->stack_bytes;
	if (!s->o->lazy_stack)
		grow_last(&r, s->stack_bytes);
	unwind_regs_from_target(&regs, &c->regs);
	unwind_stack(s->uw, &regs, reader_read, &r, count_frame, &r);
	return r.unknown_pc;
}

static bool kernel_mode(const struct capture *c)
{
	return c->ok && (c->regs.cs & 3) != 3;
}

/* Each CPU's task, in the stop (it changes once the vCPUs run again): every current task
 * pointer in one batch of reads, every task_struct in another (a remote stub pipelines each
 * batch into one round trip).  A user-mode vCPU's through a vCPU in kernel mode: with
 * page-table isolation (Meltdown's mitigation) a user-mode vCPU's page tables do not map the
 * kernel's data, while every kernel-mode vCPU's map the same kernel memory.  Any still unknown
 * (read through a vCPU in entry code, on the user's page tables) is tried through the other
 * kernel-mode vCPUs, one by one. */
static void capture_tasks(struct sampler *s)
{
	const struct linux_tasks *lt = s->o->tasks;
	size_t n = 0, m = 0;
	int kcpu = -1;
	uint64_t addr;

	for (size_t i = 0; i < s->ncaps && kcpu < 0; i++)
		if (kernel_mode(&s->caps[i]))
			kcpu = s->caps[i].cpu;
	for (size_t i = 0; i < s->ncaps; i++) {
		struct capture *c = &s->caps[i];

		profile_task_unknown(&c->task);
		c->task_stack = 0;
		c->task_tried = false;
		if (!c->ok || !linux_tasks_pointer(lt, &c->regs, &addr))
			continue;
		c->task_via = kernel_mode(c) || kcpu < 0 ? c->cpu : kcpu;
		s->read_cap[n] = i;
		s->reads[n++] = (struct target_read){ .cpu = c->task_via, .addr = addr,
						      .buf = &c->task_ptr, .len = 8 };
	}
	target_read_mem_batch(s->t, s->reads, n);
	for (size_t k = 0; k < n; k++) {
		struct capture *c = &s->caps[s->read_cap[k]];
		size_t len, i = s->read_cap[k];

		c->task_tried = true;
		if (s->reads[k].got != 8)
			continue;
		if (!linux_tasks_span(lt, c->task_ptr, &addr, &len)) {
			c->task_tried = false;	/* fields too far apart: one by one below */
			continue;
		}
		s->read_cap[m] = i;
		s->reads[m++] = (struct target_read){ .cpu = c->task_via, .addr = addr,
						      .buf = c->task_span, .len = len };
	}
	target_read_mem_batch(s->t, s->reads, m);
	for (size_t k = 0; k < m; k++) {
		struct capture *c = &s->caps[s->read_cap[k]];

		if (s->reads[k].got == (ssize_t)s->reads[k].len)
			linux_tasks_decode(lt, c->task_span, &c->task, &c->task_stack);
	}
	for (size_t i = 0; i < s->ncaps; i++) {
		struct capture *c = &s->caps[i];

		for (size_t k = 0; c->ok && c->task.pid < 0 && k <= s->ncaps; k++) {
			/* Every kernel-mode vCPU, then the vCPU itself. */
			int via = k < s->ncaps ? s->caps[k].cpu : c->cpu;

			if ((k < s->ncaps && (k == i || !kernel_mode(&s->caps[k]))) ||
			    (c->task_tried && via == c->task_via))
				continue;
			linux_tasks_read(lt, s->t, via, &c->regs, &c->task, &c->task_stack);
		}
	}
}

/* The stopped part of a sample: registers, stacks and tasks of every sampled CPU. */
static void capture_all(struct sampler *s)
{
	uint64_t t = kp_now_ns(), u;

	s->regs_ns = s->stacks_ns = 0;
	for (size_t i = 0; i < s->ncaps; i++) {
		struct capture *c = &s->caps[i];

		c->nseg = 0;
		if (c->offline) {	/* opts->stages: sampled from the first instruction */
			c->ok = false;
			continue;
		}
		/* k_gs_base (an MSR) only finds Linux's per-CPU data: not read without tasks. */
		c->ok = target_get_regs_some(s->t, c->cpu, &c->regs,
					     s->o->tasks ? TARGET_REGS_MSRS : 0) == 0;
		u = kp_now_ns();
		s->regs_ns += u - t;
		t = u;
		/* A vCPU in user mode has no kernel stack to read. */
		if (!c->ok || (c->regs.cs & 3) == 3)
			continue;
		uint64_t unknown = capture_stack(s, c);
		/* Code in no known function may be a module loaded since the list was read.
		 * Reading the list, and a new module's file, is the one thing done during a stop
		 * besides the copy: only when the list changed (modules_check), and then the
		 * stack is captured again, through the module. */
		if (unknown && s->o->modules &&
		    modules_check(s->o->modules, s->t, c->cpu, unknown) > 0)
			capture_stack(s, c);
		u = kp_now_ns();
		s->stacks_ns += u - t;
		t = u;
	}
	if (s->o->tasks) {	/* counted with the stacks: reads of guest memory */
		capture_tasks(s);
		s->stacks_ns += kp_now_ns() - t;
	}
}

/* opts->stages, in the stop: the guest's boot stage, and which vCPUs have not started yet (a
 * boot is sampled from its first instruction, before the APs are up: they have no stack
 * then).  A vCPU once seen online is not asked again. */
static void capture_stage(struct sampler *s)
{
	if (target_stage(s->t, s->stage, sizeof(s->stage)) || !s->stage[0])
		snprintf(s->stage, sizeof(s->stage), "?");
	for (size_t i = 0; i < s->ncaps; i++) {
		struct capture *c = &s->caps[i];

		if (c->seen_online)
			continue;
		c->offline = target_cpu_state(s->t, c->cpu) == TARGET_CPU_OFFLINE;
		c->seen_online = !c->offline;
	}
}

/* A vCPU not started yet (opts->stages) refused nothing: it has no stack to give. */
static bool any_captured(const struct sampler *s)
{
	for (size_t i = 0; i < s->ncaps; i++)
		if (s->caps[i].ok || s->caps[i].offline)
			return true;
	return false;
}

/* The captured segments, after the resume. */
static ssize_t capture_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	return serve(ctx, addr, buf, len);
}

static int on_frame(void *ctx, uint64_t pc, unsigned flags)
{
	struct sampler *s = ctx;

	if (s->nframes == s->max_frames)
		return 1;
	s->pcs[s->nframes] = pc;
	s->flags[s->nframes] = flags;
	s->nframes++;
	return 0;
}

/* When the collection began, for readers that place profiles in time (pprof's time_nanos). */
static uint64_t wall_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Name the unwound pcs: each may stand for several frames when inlined functions show. */
static int name_frames(struct sampler *s, struct profile_stack *st)
{
	size_t cap = s->nframes ? s->nframes : 1;

	st->frames = calloc(cap, sizeof(*st->frames));
	if (!st->frames)
		return -ENOMEM;
	for (size_t k = 0; k < s->nframes; k++) {
		unsigned fl = s->flags[k], nflags[16];
		const char *names[16];
		size_t n = 1;

		if (fl & PROFILE_FRAME_USER) {
			names[0] = "[user]";
			nflags[0] = 0;
		} else if (fl & PROFILE_FRAME_UNKNOWN || !s->sym) {
			names[0] = "??";
			nflags[0] = 0;
		} else {
			n = symbolizer_frames(s->sym, s->pcs[k], fl, names, nflags,
					      KP_ARRAY_SIZE(names));
		}
		if (st->nframes + n > cap) {
			struct profile_frame *grown;

			cap = (st->nframes + n) * 2;
			grown = realloc(st->frames, cap * sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			st->frames = grown;
		}
		for (size_t i = 0; i < n; i++) {
			struct profile_frame *f = &st->frames[st->nframes];

			f->name = strdup(names[i]);
			if (!f->name)
				return -ENOMEM;
			f->pc = s->pcs[k];
			/* The physical frame keeps how it was found; inlined ones say so. */
			f->flags = (fl & ~UNWIND_FLAGS) | (nflags[i] & PROFILE_FRAME_INLINE);
			st->nframes++;
		}
	}
	return 0;
}

/* A stop in the context switch: when the walk ends (its last segment) on another stack than
 * current_task's, the switch has moved to the next task's stack but not yet current_task:
 * the stack's task is unknown. */
static void check_task_stack(const struct sampler *s, const struct capture *c,
			     struct profile_task *task)
{
	size_t k = 0;

	while (k < s->nframes && !linux_tasks_in_switch(s->o->tasks, s->pcs[k]))
		k++;
	if (k == s->nframes)
		return;
	for (size_t i = c->nseg; i-- > 0;) {
		if (!c->seg[i].len)
			continue;
		if (!linux_tasks_on_stack(c->task_stack, c->seg[i].base))
			profile_task_unknown(task);
		return;
	}
}

static int fill_stack(struct sampler *s, const struct capture *c, struct profile_stack *st)
{
	st->cpu = c->cpu;
	st->has_task = s->o->tasks != NULL;
	st->task = c->task;
	s->nframes = 0;
	if (!c->ok) {
		/* Registers unreadable: one honest unknown frame. */
		s->pcs[0] = 0;
		s->flags[0] = PROFILE_FRAME_UNKNOWN;
		s->nframes = 1;
	} else if ((c->regs.cs & 3) == 3) {
		s->pcs[0] = c->regs.rip;
		s->flags[0] = PROFILE_FRAME_USER;
		s->nframes = 1;
	} else {
		struct unwind_regs regs;

		unwind_regs_from_target(&regs, &c->regs);
		unwind_stack(s->uw, &regs, capture_read, (void *)c, on_frame, s);
		if (st->has_task)
			check_task_stack(s, c, &st->task);
	}
	return name_frames(s, st);
}

static int process(struct sampler *s, uint64_t time_ns, uint64_t stop_ns)
{
	struct profile_sample *ps = profile_add_sample(s->prof, s->ncaps);
	size_t k = 0;

	if (!ps)
		return -ENOMEM;
	ps->time_ns = time_ns;
	ps->stop_ns = stop_ns;
	if (s->o->stages) {
		if (!(ps->stage = strdup(s->stage)))
			return -ENOMEM;
		/* A guest's name may hold anything; a stage becomes a folded root frame and an
		 * SVG heading, and trace.json's reader takes no ';' or control byte. */
		for (char *c = ps->stage; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f || *c == ';')
				*c = '_';
	}
	for (size_t i = 0; i < s->ncaps; i++) {
		int ret;

		if (s->caps[i].offline)
			continue;
		ret = fill_stack(s, &s->caps[i], &ps->stacks[k++]);
		if (ret)
			return ret;
	}
	ps->nstacks = k;
	return 0;
}

/* Consume pending target events; true when the target is gone for good. */
static bool target_ended(struct sampler *s)
{
	struct target_event ev;

	while (target_poll_event(s->t, &ev) == 0) {
		switch (ev.kind) {
		case TARGET_EV_EXITED:
			snprintf(s->stats->end_message, sizeof(s->stats->end_message),
				 "the guest exited with status %d", ev.exit_status);
			return true;
		case TARGET_EV_FAULT:
		case TARGET_EV_GONE:
			snprintf(s->stats->end_message, sizeof(s->stats->end_message), "the target %s%s%s",
				 ev.kind == TARGET_EV_FAULT ? "faulted" : "went away",
				 ev.message[0] ? ": " : "", ev.message);
			return true;
		default:
			/* Stopped by itself (e.g. someone's breakpoint): keep it running. */
			if (target_is_stopped(s->t) == 1)
				target_resume(s->t, NULL);
			break;
		}
	}
	return false;
}

/* Sleep until deadline (monotonic ns), waking early for a stop request or a target event.
 * Returns 1 to stop sampling. */
static int wait_until(struct sampler *s, uint64_t deadline)
{
	struct pollfd fds[2];
	int nfds = 0, efd = target_event_fd(s->t);

	if (s->o->stop_fd >= 0)
		fds[nfds++] = (struct pollfd){ .fd = s->o->stop_fd, .events = POLLIN };
	if (efd >= 0)
		fds[nfds++] = (struct pollfd){ .fd = efd, .events = POLLIN };
	for (;;) {
		uint64_t now = kp_now_ns();
		struct timespec ts;
		int n;

		if (now >= deadline && nfds == 0)
			return 0;
		ts.tv_sec = now >= deadline ? 0 : (time_t)((deadline - now) / 1000000000u);
		ts.tv_nsec = now >= deadline ? 0 : (long)((deadline - now) % 1000000000u);
		n = ppoll(fds, (nfds_t)nfds, &ts, NULL);
		if (n < 0 && errno != EINTR)
			return 0;
		for (int i = 0; n > 0 && i < nfds; i++) {
			if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (fds[i].fd == s->o->stop_fd) {
				s->stats->end = SAMPLER_INTERRUPTED;
				snprintf(s->stats->end_message, sizeof(s->stats->end_message),
					 "interrupted");
				return 1;
			}
			if (target_ended(s)) {
				s->stats->end = SAMPLER_TARGET_ENDED;
				return 1;
			}
		}
		if (kp_now_ns() >= deadline)
			return 0;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void progress_bar(size_t done, size_t total, uint64_t elapsed)
{
	char bar[31];
	size_t fill = total ? done * 30 / total : 30;
	double secs = (double)elapsed / 1e9;

	memset(bar, '#', fill);
	memset(bar + fill, '.', 30 - fill);
	bar[30] = '\0';
	fprintf(stderr, "\rkprof: [%s] %zu/%zu samples  %.1f/s  %.1f s ", bar, done, total,
		secs > 0 ? (double)done / secs : 0.0, secs);
}

static size_t p99_index(size_t n)
{
	return KP_MIN(n - 1, (size_t)ceil((double)n * 0.99) - 1);
}

static void finish_stats(struct sampler *s, uint64_t elapsed)
{
	struct sampler_stats *st = s->stats;
	size_t n = st->samples;

	st->elapsed_ns = elapsed;
	st->rate_hz = elapsed ? (double)n * 1e9 / (double)elapsed : 0;
	if (!n)
		return;
	qsort(s->stop_ns, n, sizeof(*s->stop_ns), cmp_u64);
	st->stop_median_ns = s->stop_ns[n / 2];
	st->stop_p99_ns = s->stop_ns[p99_index(n)];
	st->stop_max_ns = s->stop_ns[n - 1];
	for (int p = 0; p < SAMPLER_NPHASES && s->phase_ns[p]; p++) {
		qsort(s->phase_ns[p], n, sizeof(uint64_t), cmp_u64);
		st->phase_median_ns[p] = s->phase_ns[p][n / 2];
		st->phase_p99_ns[p] = s->phase_ns[p][p99_index(n)];
	}
}

void sampler_print_timing(FILE *f, const struct sampler_stats *st)
{
	static const char *const names[SAMPLER_NPHASES] = {
		"stop", "registers", "stacks", "resume", "after-resume",
	};

	fprintf(f, "kprof: timing per round, median/p99 us:");
	for (int p = 0; p < SAMPLER_NPHASES; p++)
		fprintf(f, " %s %.1f/%.1f", names[p], (double)st->phase_median_ns[p] / 1e3,
			(double)st->phase_p99_ns[p] / 1e3);
	fputc('\n', f);
}

void sampler_print_summary(FILE *f, const struct sampler_stats *st)
{
	char late[48] = "";

	if (st->late)
		snprintf(late, sizeof(late), ", %zu slots missed", st->late);
	fprintf(f, "kprof: %zu samples in %.2f s (%.1f/s), stop time median %.1f us, p99 %.1f us, "
		   "max %.1f us%s%s%s\n",
		st->samples, (double)st->elapsed_ns / 1e9, st->rate_hz,
		(double)st->stop_median_ns / 1e3, (double)st->stop_p99_ns / 1e3,
		(double)st->stop_max_ns / 1e3, late, st->end_message[0] ? "; " : "",
		st->end_message);
}

static int setup(struct sampler *s)
{
	int ncpu = target_cpu_count(s->t);

	if (ncpu <= 0)
		return ncpu < 0 ? ncpu : -ENODEV;
	s->caps = calloc((size_t)ncpu, sizeof(*s->caps));
	if (!s->caps)
		return -ENOMEM;
	for (int cpu = 0; cpu < ncpu && cpu < KP_CPUMASK_BITS; cpu++) {
		struct capture *c;

		if (!kp_cpumask_test(&s->o->cpus, (unsigned)cpu))
			continue;
		c = &s->caps[s->ncaps++];
		c->cpu = cpu;
		c->stack = malloc(2 * s->stack_bytes);
		if (!c->stack)
			return -ENOMEM;
	}
	if (!s->ncaps)
		return -ENOENT;
	s->max_frames = s->uw->max_depth ? s->uw->max_depth : 256;
	s->pcs = calloc(s->max_frames, sizeof(*s->pcs));
	s->flags = calloc(s->max_frames, sizeof(*s->flags));
	s->stop_ns = calloc(s->o->samples ? s->o->samples : DEFAULT_SAMPLES, sizeof(*s->stop_ns));
	s->reads = calloc(s->ncaps, sizeof(*s->reads));
	s->read_cap = calloc(s->ncaps, sizeof(*s->read_cap));
	for (int p = 0; p < SAMPLER_NPHASES && s->o->timing; p++)
		if (!(s->phase_ns[p] = calloc(s->o->samples ? s->o->samples : DEFAULT_SAMPLES,
					      sizeof(uint64_t))))
			return -ENOMEM;
	s->prof = profile_new();
	if (!s->pcs || !s->flags || !s->stop_ns || !s->prof || !s->reads || !s->read_cap)
		return -ENOMEM;
	s->prof->ncpus = ncpu;
	s->prof->interval_s = s->o->interval_s;
	if ((s->o->kernel && !(s->prof->kernel = strdup(s->o->kernel))) ||
	    (s->o->build_id && !(s->prof->build_id = strdup(s->o->build_id))))
		return -ENOMEM;
	return 0;
}

static void teardown(struct sampler *s)
{
	for (size_t i = 0; i < s->ncaps; i++)
		free(s->caps[i].stack);
	free(s->caps);
	free(s->pcs);
	free(s->flags);
	free(s->stop_ns);
	free(s->reads);
	free(s->read_cap);
	for (int p = 0; p < SAMPLER_NPHASES; p++)
		free(s->phase_ns[p]);
	profile_free(s->prof);
}

/* APs come up some time after the boot CPU: a capture should hold every CPU asked for.
 * A target may only know a vCPU's state while it is stopped, so look during short stops. */
static void wait_online(struct sampler *s)
{
	uint64_t until = kp_now_ns() + (uint64_t)(s->o->wait_online_s * 1e9);

	for (;;) {
		int offline = -1;

		if (target_stop(s->t))
			return;
		for (size_t i = 0; i < s->ncaps && offline < 0; i++)
			if (target_cpu_state(s->t, s->caps[i].cpu) == TARGET_CPU_OFFLINE)
				offline = s->caps[i].cpu;
		if (target_resume(s->t, NULL) || offline < 0)
			return;
		if (kp_now_ns() >= until) {
			kp_warn("vCPU %d did not come online within %.0f s; sampling it anyway",
				offline, s->o->wait_online_s);
			return;
		}
		if (wait_until(s, kp_now_ns() + 10000000))
			return;
	}
}

int sampler_run(struct target *t, const struct unwinder *uw, struct symbolizer *sym,
		const struct sampler_opts *opts, struct profile **out, struct sampler_stats *stats)
{
	struct sampler s = { .t = t, .uw = uw, .sym = sym, .o = opts, .stats = stats };
	size_t total = opts->samples ? opts->samples : DEFAULT_SAMPLES;
	uint64_t interval = (uint64_t)(opts->interval_s * 1e9), start, slot = 0, last_bar = 0;
	bool tty = opts->progress && isatty(STDERR_FILENO);
	int ret;

	*out = NULL;
	memset(stats, 0, sizeof(*stats));
	s.stack_bytes = opts->stack_bytes ? opts->stack_bytes : DEFAULT_STACK_BYTES;
	ret = setup(&s);
	if (ret) {
		teardown(&s);
		return ret;
	}
	if (opts->wait_online_s > 0)
		wait_online(&s);
	start = kp_now_ns();
	s.prof->start_unix_ns = wall_clock_ns();
	while (stats->samples < total && stats->end == SAMPLER_DONE) {
		uint64_t t0, t1, t_stopped, t_captured, t2;

		if (wait_until(&s, start + slot * interval))
			break;
		t0 = kp_now_ns();
		ret = target_stop(t);
		t_stopped = kp_now_ns();
		if (ret) {
			if (target_ended(&s)) {
				stats->end = SAMPLER_TARGET_ENDED;
			} else {
				stats->end = SAMPLER_TARGET_ERROR;
				snprintf(stats->end_message, sizeof(stats->end_message),
					 "stopping the target failed: %s", strerror(-ret));
			}
			break;
		}
		if (opts->stages)
			capture_stage(&s);
		capture_all(&s);
		t_captured = kp_now_ns();
		ret = opts->stay_stopped && stats->samples + 1 == total ? 0 : target_resume(t, NULL);
		t1 = kp_now_ns();
		/* A target that went away during the capture (a remote stub's connection
		 * dropping) left it incomplete: end without it, saying why. */
		if (ret && target_ended(&s)) {
			stats->end = SAMPLER_TARGET_ENDED;
			break;
		}
		/* Not one vCPU's registers readable: the target answers nothing but errors
		 * (a remote stub refusing every read); more samples would only say '??'. */
		if (!any_captured(&s)) {
			stats->end = SAMPLER_TARGET_ERROR;
			snprintf(stats->end_message, sizeof(stats->end_message),
				 "the target refused to give the vCPUs' registers");
			break;
		}
		s.stop_ns[stats->samples] = t1 - t0;
		if (process(&s, t0 - start, t1 - t0)) {
			teardown(&s);
			return -ENOMEM;
		}
		t2 = kp_now_ns();
		if (opts->timing) {
			size_t k = stats->samples;

			s.phase_ns[SAMPLER_PH_STOP][k] = t_stopped - t0;
			s.phase_ns[SAMPLER_PH_REGS][k] = s.regs_ns;
			s.phase_ns[SAMPLER_PH_STACKS][k] = s.stacks_ns;
			s.phase_ns[SAMPLER_PH_RESUME][k] = t1 - t_captured;
			s.phase_ns[SAMPLER_PH_AFTER][k] = t2 - t1;
		}
		stats->samples++;
		if (ret) {
			snprintf(stats->end_message, sizeof(stats->end_message),
				 "resuming the target failed: %s", strerror(-ret));
			stats->end = SAMPLER_TARGET_ERROR;
			break;
		}
		/* Next slot: this one's successor, or the first one still in the future. */
		slot++;
		if (interval) {
			uint64_t now = kp_now_ns() - start;
			uint64_t first_future = (now + interval - 1) / interval;

			if (first_future > slot) {
				stats->late += first_future - slot;
				slot = first_future;
			}
		}
		if (tty && (t1 - last_bar > 100000000u || stats->samples == total)) {
			progress_bar(stats->samples, total, t1 - start);
			last_bar = t1;
		}
	}
	finish_stats(&s, kp_now_ns() - start);
	if (tty)
		fputc('\n', stderr);
	if (opts->progress)
		sampler_print_summary(stderr, stats);
	if (opts->progress && opts->timing && stats->samples)
		sampler_print_timing(stderr, stats);
	*out = s.prof;
	s.prof = NULL;
	teardown(&s);
	return 0;
}
