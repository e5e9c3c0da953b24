/* Unit tests that unwind a real stack: this test program captures its own registers and
 * stack window inside a chain of calls and unwinds it with its own ELF's symbols and
 * .eh_frame (minding the PIE load bias), offline, as the sampler does with a guest.  Then
 * the sampler and `monitor stacks` run against a fake target serving that capture. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profiler/profile.h"
#include "profiler/profiler_internal.h"
#include "profiler/sampler.h"
#include "profiler/symbols.h"
#include "profiler/unwind.h"
#include "target/target.h"

#define WINDOW 16384

struct captured {
	struct target_regs regs;
	uint8_t stack[WINDOW];
	size_t len;
};

struct env {
	struct symtab *st;
	struct cfi *cfi;
	struct symbolizer *sym;
	struct unwinder uw;
	struct captured cap;
};

/* A raw copy of live stack memory, other frames' sanitizer redzones included: not a bug to
 * report, so not instrumented (volatile keeps it from becoming a memcpy call). */
static __attribute__((noinline, no_sanitize_address)) void raw_copy(uint8_t *dst, uint64_t src,
								  size_t n)
{
	const volatile uint8_t *p = (const volatile uint8_t *)(uintptr_t)src;

	for (size_t i = 0; i < n; i++)
		dst[i] = p[i];
}

static __attribute__((noinline)) void capture_here(struct captured *c)
{
	uint64_t rip, rsp, rbp, rbx, r12, r13, r14, r15;
	pthread_attr_t attr;
	void *lo;
	size_t size;

	/* One asm block: every value belongs to the same instruction boundary, whose CFI row
	 * describes them. */
	__asm__ volatile("lea 0(%%rip), %%rax\n\t"
			 "mov %%rax, %0\n\t"
			 "mov %%rsp, %1\n\t"
			 "mov %%rbp, %2\n\t"
			 "mov %%rbx, %3\n\t"
			 "mov %%r12, %4\n\t"
			 "mov %%r13, %5\n\t"
			 "mov %%r14, %6\n\t"
			 "mov %%r15, %7\n\t"
			 : "=m"(rip), "=m"(rsp), "=m"(rbp), "=m"(rbx), "=m"(r12), "=m"(r13),
			   "=m"(r14), "=m"(r15)
			 :
			 : "rax");
	memset(&c->regs, 0, sizeof(c->regs));
	c->regs.rip = rip;
	c->regs.gpr[TREG_RSP] = rsp;
	c->regs.gpr[TREG_RBP] = rbp;
	c->regs.gpr[TREG_RBX] = rbx;
	c->regs.gpr[TREG_R12] = r12;
	c->regs.gpr[TREG_R13] = r13;
	c->regs.gpr[TREG_R14] = r14;
	c->regs.gpr[TREG_R15] = r15;
	c->regs.cs = 0x8;
	/* Copy up to WINDOW bytes, but never past the top of this thread's stack. */
	pthread_getattr_np(pthread_self(), &attr);
	pthread_attr_getstack(&attr, &lo, &size);
	pthread_attr_destroy(&attr);
	c->len = KP_MIN((size_t)WINDOW, (size_t)((uint64_t)(uintptr_t)lo + size - rsp));
	raw_copy(c->stack, rsp, c->len);
}

/* volatile keeps the calls from becoming tail calls, so every function keeps its frame. */
static volatile int sink;

/* Inlined into chain_leaf: with --inline it is a frame of its own. */
static inline __attribute__((always_inline)) void inline_hop(struct captured *c)
{
	capture_here(c);
	sink++;
}

static __attribute__((noinline)) void chain_leaf(struct captured *c)
{
	inline_hop(c);
	sink++;
}

static __attribute__((noinline)) void chain_mid(struct captured *c)
{
	chain_leaf(c);
	sink++;
}

static __attribute__((noinline)) void chain_top(struct captured *c)
{
	chain_mid(c);
	sink++;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	uint64_t link;

	if (!e || symtab_open("/proc/self/exe", &e->st) || cfi_open("/proc/self/exe", &e->cfi))
		return -1;
	/* PIE: the load bias is where capture_here is minus where the file says it is. */
	if (symtab_find(e->st, "capture_here", &link, NULL))
		return -1;
	symtab_set_offset(e->st, (uint64_t)(uintptr_t)capture_here - link);
	if (symbolizer_new(e->st, &e->sym))
		return -1;
	e->uw = (struct unwinder){ .cfi = e->cfi, .syms = e->st,
				   .offset = symtab_offset(e->st) };
	chain_top(&e->cap);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	symbolizer_free(e->sym);
	cfi_free(e->cfi);
	symtab_free(e->st);
	free(e);
	return 0;
}

struct names {
	const char *name[64];
	unsigned flags[64];
	int n;
	struct symbolizer *sym;
};

static int name_frame(void *ctx, uint64_t pc, unsigned flags)
{
	struct names *n = ctx;

	n->name[n->n] = flags & PROFILE_FRAME_UNKNOWN
				? "??"
				: symbolizer_name(n->sym, pc - (flags & UNWIND_RETADDR ? 1 : 0), NULL);
	n->flags[n->n] = flags;
	return ++n->n == 64;
}

static void test_symtab(void **state)
{
	struct env *e = *state;
	uint64_t addr, size, off;
	long idx;

	assert_true(symtab_count(e->st) > 10);
	assert_int_equal(symtab_find(e->st, "chain_mid", &addr, &size), 0);
	assert_int_equal(addr, (uint64_t)(uintptr_t)chain_mid);
	assert_true(size > 0);
	idx = symtab_lookup(e->st, addr + size - 1, &off);
	assert_true(idx >= 0);
	assert_string_equal(symtab_name(e->st, idx), "chain_mid");
	assert_int_equal(off, size - 1);
	assert_int_equal(symtab_addr(e->st, idx), addr);
	assert_int_equal(symtab_find(e->st, "no_such_function_here", NULL, NULL), -ENOENT);
	/* Debian builds carry a GNU build id: 40 hex digits for SHA-1. */
	if (symtab_build_id(e->st))
		assert_int_equal(strlen(symtab_build_id(e->st)), 40);
	assert_true(cfi_fde_count(e->cfi) > 10);
}

static void test_symtab_errors(void **state)
{
	struct symtab *st = NULL;
	char path[] = "/tmp/kprof-notelf.XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello, not an ELF file\n", 23), 23);
	close(fd);
	assert_true(symtab_open(path, &st) < 0);
	assert_null(st);
	assert_true(symtab_open("/nonexistent/vmlinux", &st) < 0);
	unlink(path);
}

static void test_self_unwind(void **state)
{
	struct env *e = *state;
	struct unwind_regs regs;
	struct stack_window w = { e->cap.regs.gpr[TREG_RSP], e->cap.stack, e->cap.len };
	struct names n = { .n = 0, .sym = e->sym };
	int count;

	unwind_regs_from_target(&regs, &e->cap.regs);
	count = unwind_stack(&e->uw, &regs, stack_window_read, &w, name_frame, &n);
	assert_true(count >= 5);
	assert_string_equal(n.name[0], "capture_here");
	assert_string_equal(n.name[1], "chain_leaf");
	assert_string_equal(n.name[2], "chain_mid");
	assert_string_equal(n.name[3], "chain_top");
	assert_string_equal(n.name[4], "setup");
	for (int i = 0; i < 5; i++)
		assert_false(n.flags[i] & (PROFILE_FRAME_FP | PROFILE_FRAME_UNKNOWN));
	/* Beyond setup() lies libcmocka, outside this file's symbols: "??" exactly once, last. */
	for (int i = 5; i < count - 1; i++)
		assert_string_not_equal(n.name[i], "??");
	assert_string_equal(n.name[count - 1], "??");
	assert_true(n.flags[count - 1] & PROFILE_FRAME_UNKNOWN);
}

static void test_self_unwind_truncated_window(void **state)
{
	struct env *e = *state;
	struct unwind_regs regs;
	/* Only 64 bytes of stack: the walk must stop inside it without reading outside. */
	struct stack_window w = { e->cap.regs.gpr[TREG_RSP], e->cap.stack, 64 };
	struct names n = { .n = 0, .sym = e->sym };
	int count;

	unwind_regs_from_target(&regs, &e->cap.regs);
	count = unwind_stack(&e->uw, &regs, stack_window_read, &w, name_frame, &n);
	assert_true(count >= 1 && count < 5);
	assert_string_equal(n.name[0], "capture_here");
	for (int i = 0; i < count; i++)
		assert_string_not_equal(n.name[i], "");
}

struct inl_names {
	struct symbolizer *sym;
	const char *name[64];
	unsigned flags[64];
	int n;
};

static int name_inline_frames(void *ctx, uint64_t pc, unsigned flags)
{
	struct inl_names *n = ctx;

	if (flags & PROFILE_FRAME_UNKNOWN || n->n > 48)
		return 1;
	n->n += (int)symbolizer_frames(n->sym, pc, flags, &n->name[n->n], &n->flags[n->n], 8);
	return 0;
}

static void test_inline_frames(void **state)
{
	struct env *e = *state;
	struct inline_index *ix;
	struct unwind_regs regs;
	struct stack_window w = { e->cap.regs.gpr[TREG_RSP], e->cap.stack, e->cap.len };
	struct inl_names n = { .n = 0 };
	uint32_t ids[8];
	uint64_t leaf;

	assert_int_equal(inline_index_open("/proc/self/exe", &ix), 0);
	assert_true(inline_index_count(ix) > 0);
	assert_int_equal(symbolizer_new(e->st, &n.sym), 0);
	assert_int_equal(symbolizer_set_inline(n.sym, ix), 0);
	unwind_regs_from_target(&regs, &e->cap.regs);
	unwind_stack(&e->uw, &regs, stack_window_read, &w, name_inline_frames, &n);
	assert_true(n.n >= 4);
	assert_string_equal(n.name[0], "capture_here");
	assert_int_equal(n.flags[0], 0);
	assert_string_equal(n.name[1], "inline_hop");
	assert_int_equal(n.flags[1], PROFILE_FRAME_INLINE);
	assert_string_equal(n.name[2], "chain_leaf");
	assert_int_equal(n.flags[2], 0);
	assert_string_equal(n.name[3], "chain_mid");
	/* The first byte of chain_leaf is not inside the inlined call. */
	assert_int_equal(symtab_find(e->st, "chain_leaf", &leaf, NULL), 0);
	assert_int_equal(inline_lookup(ix, leaf - symtab_offset(e->st), false, ids, 8), 0);
	symbolizer_free(n.sym);
	inline_index_free(ix);
}

static void test_inline_no_debug_info(void **state)
{
	struct inline_index *ix;

	(void)state;
	/* A file that is not ELF has no debug info: an empty index, not an error. */
	assert_int_equal(inline_index_open("/proc/self/cmdline", &ix), 0);
	assert_int_equal(inline_index_count(ix), 0);
	inline_index_free(ix);
	assert_true(inline_index_open("/nonexistent/vmlinux", &ix) < 0);
}

/* ---- a fake target serving the capture on every vCPU ---- */

struct fake {
	struct target t;
	const struct captured *cap;
	int ncpu;
	int stops;
	int exit_after;		/* stop() fails after this many stops; 0: never */
	bool stopped;
	bool exited;
	int reads_while_running;
};

static struct fake *fake_of(struct target *t)
{
	return (struct fake *)t;
}

static int f_cpu_count(struct target *t) { return fake_of(t)->ncpu; }
static int f_cpu_state(struct target *t, int cpu)
{
	(void)t;
	(void)cpu;
	return TARGET_CPU_RUNNING;
}
static int f_stop(struct target *t)
{
	struct fake *f = fake_of(t);

	if (f->exit_after && f->stops >= f->exit_after) {
		f->exited = true;
		return -ESRCH;
	}
	f->stops++;
	f->stopped = true;
	return 0;
}
static int f_resume(struct target *t, const enum target_resume_action *a)
{
	(void)a;
	fake_of(t)->stopped = false;
	return 0;
}
static int f_is_stopped(struct target *t) { return fake_of(t)->stopped; }
static int f_poll_event(struct target *t, struct target_event *ev)
{
	struct fake *f = fake_of(t);

	if (!f->exited)
		return -EAGAIN;
	memset(ev, 0, sizeof(*ev));
	ev->kind = TARGET_EV_EXITED;
	ev->exit_status = 3;
	f->exited = false;
	return 0;
}
static int f_get_regs(struct target *t, int cpu, struct target_regs *r)
{
	struct fake *f = fake_of(t);

	if (!f->stopped)
		f->reads_while_running++;
	*r = f->cap->regs;
	/* CPU 1 pretends to be in user mode. */
	if (cpu == 1)
		r->cs = 0x33;
	return 0;
}
static ssize_t f_read_mem(struct target *t, int cpu, uint64_t addr, void *buf, size_t len)
{
	struct fake *f = fake_of(t);
	struct stack_window w = { f->cap->regs.gpr[TREG_RSP], f->cap->stack, f->cap->len };

	(void)cpu;
	if (!f->stopped)
		f->reads_while_running++;
	return stack_window_read(&w, addr, buf, len);
}

static const struct target_ops fake_ops = {
	.name = "fake",
	.cpu_count = f_cpu_count,
	.cpu_state = f_cpu_state,
	.stop = f_stop,
	.resume = f_resume,
	.is_stopped = f_is_stopped,
	.poll_event = f_poll_event,
	.get_regs = f_get_regs,
	.read_mem = f_read_mem,
};

static void test_sampler(void **state)
{
	struct env *e = *state;
	struct fake f = { .t = { &fake_ops }, .cap = &e->cap, .ncpu = 3 };
	struct sampler_opts o = { .samples = 20, .interval_s = 0.001, .stop_fd = -1,
				  .kernel = "self" };
	struct sampler_stats st;
	struct profile *p;

	kp_cpumask_all(&o.cpus);
	assert_int_equal(sampler_run(&f.t, &e->uw, e->sym, &o, &p, &st), 0);
	assert_int_equal(st.end, SAMPLER_DONE);
	assert_int_equal(st.samples, 20);
	assert_int_equal(f.stops, 20);
	assert_int_equal(f.reads_while_running, 0);
	assert_false(f.stopped);
	assert_int_equal(p->nsamples, 20);
	assert_int_equal(p->ncpus, 3);
	assert_string_equal(p->kernel, "self");
	for (size_t i = 0; i < p->nsamples; i++) {
		const struct profile_sample *s = &p->samples[i];

		assert_int_equal(s->nstacks, 3);
		assert_true(s->stop_ns > 0);
		if (i)
			assert_true(s->time_ns > s[-1].time_ns);
		for (size_t j = 0; j < 3; j++) {
			const struct profile_stack *stk = &s->stacks[j];

			assert_int_equal(stk->cpu, (int)j);
			if (j == 1) {
				assert_int_equal(stk->nframes, 1);
				assert_string_equal(stk->frames[0].name, "[user]");
				assert_int_equal(stk->frames[0].flags, PROFILE_FRAME_USER);
				continue;
			}
			assert_true(stk->nframes >= 5);
			assert_string_equal(stk->frames[0].name, "capture_here");
			assert_string_equal(stk->frames[3].name, "chain_top");
			assert_int_equal(stk->frames[0].pc, e->cap.regs.rip);
			assert_false(stk->frames[1].flags & UNWIND_RETADDR);
		}
	}
	assert_true(st.stop_median_ns > 0 && st.stop_p99_ns >= st.stop_median_ns);
	profile_free(p);
}

static void test_sampler_target_exits(void **state)
{
	struct env *e = *state;
	struct fake f = { .t = { &fake_ops }, .cap = &e->cap, .ncpu = 2, .exit_after = 7 };
	struct sampler_opts o = { .samples = 50, .interval_s = 0, .stop_fd = -1 };
	struct sampler_stats st;
	struct profile *p;

	kp_cpumask_parse("0x1", &o.cpus);
	assert_int_equal(sampler_run(&f.t, &e->uw, e->sym, &o, &p, &st), 0);
	assert_int_equal(st.end, SAMPLER_TARGET_ENDED);
	assert_non_null(strstr(st.end_message, "status 3"));
	/* What was sampled before the exit is kept; CPU 1 was not asked for. */
	assert_int_equal(p->nsamples, 7);
	assert_int_equal(p->samples[6].nstacks, 1);
	assert_int_equal(p->samples[6].stacks[0].cpu, 0);
	profile_free(p);
}

static void test_print_stacks(void **state)
{
	struct env *e = *state;
	struct fake f = { .t = { &fake_ops }, .cap = &e->cap, .ncpu = 2 };
	struct kp_buf out;

	kp_buf_init(&out);
	/* Only a stopped target can be walked. */
	assert_int_equal(profiler_print_stacks(&f.t, &e->uw, e->sym, &out), -EBUSY);
	f.stopped = true;
	assert_int_equal(profiler_print_stacks(&f.t, &e->uw, e->sym, &out), 0);
	assert_non_null(strstr(out.data, "Thread 1 (CPU#0 [running]):\n#0  0x"));
	assert_non_null(strstr(out.data, " in capture_here ()\n#1  0x"));
	assert_non_null(strstr(out.data, " in chain_leaf ()\n#2  0x"));
	assert_non_null(strstr(out.data, " in chain_mid ()\n"));
	assert_non_null(strstr(out.data, "Thread 2 (CPU#1 [running]):\n#0  0x"));
	assert_non_null(strstr(out.data, " in [user] ()"));
	kp_buf_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_symtab),
		cmocka_unit_test(test_symtab_errors),
		cmocka_unit_test(test_self_unwind),
		cmocka_unit_test(test_self_unwind_truncated_window),
		cmocka_unit_test(test_inline_frames),
		cmocka_unit_test(test_inline_no_debug_info),
		cmocka_unit_test(test_sampler),
		cmocka_unit_test(test_sampler_target_exits),
		cmocka_unit_test(test_print_stacks),
	};
	return cmocka_run_group_tests_name("profiler unwind", tests, setup, teardown);
}
