/* Which task each vCPU of a Linux guest runs (profiler_internal.h, "Linux tasks").
 *
 * x86-64 Linux keeps a pointer to the running task in a per-CPU variable: `current_task` up
 * to 6.1, the `current_task` member of the per-CPU `pcpu_hot` from 6.2.  The per-CPU area is
 * zero-based: the variable's offset in .data..percpu (BTF's DATASEC gives it) plus the CPU's
 * GS base is its address.  In kernel mode GS holds the kernel's base; in user mode `swapgs`
 * has put it in KERNEL_GS_BASE, and in the few entry instructions before (or exit ones after)
 * the `swapgs` the vCPU is in kernel mode with the user's GS, so the base is whichever of the
 * two is a kernel address, GS first.  Both kprof's own target and gdb stubs (QEMU's, kprof's)
 * give gs_base and k_gs_base.
 *
 * In the stop: one read of the pointer, one read spanning the stack pointer, pid, tgid and
 * comm (3 KiB in 6.1's task_struct), into the caller's buffers: no allocation.  The sampler
 * reads every vCPU's pointer in one batch and every task_struct in another
 * (linux_tasks_pointer, linux_tasks_span, linux_tasks_decode); linux_tasks_read does one
 * vCPU's both reads in turn.  Anything that does not read back, or is no kernel pointer, or a
 * comm without its NUL, is the unknown task: a name is never made up.
 *
 * The pointer changes in the middle of a context switch: __switch_to_asm moves to the next
 * task's stack, and __switch_to writes current_task a little later.  A stop in between has
 * the next task's stack and the previous task in current_task; task_struct.stack tells them
 * apart (linux_tasks_on_stack) once the walk has found which stack it ends on.  Only there:
 * elsewhere a walk may well end on another stack of the CPU's own (an interrupt from user
 * mode is entered on the per-CPU entry stack).
 */
#include "profiler/btf.h"
#include "profiler/profile.h"
#include "profiler/profiler_internal.h"
#include "profiler/symbols.h"
#include "target/target.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define KERNEL_HALF 0xffff800000000000ull
#define MAX_SPAN LINUX_TASKS_SPAN_MAX	/* stack..comm in one read this close */
/* THREAD_SIZE: an x86-64 task's kernel stack (16 KiB; twice that only with KASAN). */
#define TASK_STACK_SIZE (16 * 1024)

struct linux_tasks {
	uint64_t current_off;	/* the current task pointer in a CPU's per-CPU area */
	uint64_t stack_off, pid_off, tgid_off, comm_off;
	size_t comm_len;	/* bytes of comm read (TASK_COMM_LEN) */
	uint64_t span_off;	/* one read of [span_off, span_off + span_len) holds all four */
	size_t span_len;
	uint64_t end;		/* past the last byte read: a task address must not wrap */
	uint64_t switch_code[2][2];	/* [start, end) of __switch_to_asm and __switch_to */
};

void profile_task_unknown(struct profile_task *out)
{
	memset(out, 0, sizeof(*out));
	out->comm[0] = '?';
	out->pid = -1;
	out->tgid = -1;
}

static int member(const struct btf *b, const char *path, const char *type, const char *m,
		  uint64_t want_size, uint64_t *off, uint64_t *size)
{
	struct btf_field f;
	int ret = btf_member(b, type, m, &f);

	if (ret)
		return kp_fail(-EINVAL, "%s: its BTF has no %s.%s (%s)", path, type, m,
			       strerror(-ret));
	if (f.bit_size || (want_size && f.size != want_size))
		return kp_fail(-EINVAL, "%s: %s.%s is %llu bytes, not %llu", path, type, m,
			       (unsigned long long)f.size, (unsigned long long)want_size);
	*off = f.offset;
	if (size)
		*size = f.size;
	return 0;
}

/* Where the current task pointer is in a CPU's per-CPU area. */
static int current_offset(const struct btf *b, const char *path, uint64_t *off)
{
	uint64_t size, in_hot;

	if (!btf_var_offset(b, ".data..percpu", "current_task", off, &size))
		return size == 8 ? 0 : kp_fail(-EINVAL, "%s: current_task is %llu bytes", path,
						(unsigned long long)size);
	if (btf_var_offset(b, ".data..percpu", "pcpu_hot", off, &size))
		return kp_fail(-EINVAL, "%s: its BTF has neither the per-CPU current_task nor "
			       "pcpu_hot", path);
	if (member(b, path, "pcpu_hot", "current_task", 8, &in_hot, NULL))
		return -EINVAL;
	*off += in_hot;
	return 0;
}

/* Runtime ranges of the context switch's two functions (sized symbols in every kernel that
 * has them; a kernel without them has no range, and no stop is taken for a switch). */
static void find_switch_code(const struct symtab *st, struct linux_tasks *lt)
{
	static const char *const fns[2] = { "__switch_to_asm", "__switch_to" };

	for (int i = 0; i < 2; i++) {
		uint64_t a, sz;

		if (!symtab_find(st, fns[i], &a, &sz) && sz) {
			lt->switch_code[i][0] = a;
			lt->switch_code[i][1] = a + sz;
		}
	}
}

int linux_tasks_open(const struct symtab *st, const struct btf *b, const char *path,
		     struct linux_tasks **out)
{
	struct linux_tasks *lt;
	uint64_t comm_size, lo, hi;

	*out = NULL;
	if (!symtab_linux(st))
		return -ENOENT;
	lt = calloc(1, sizeof(*lt));
	if (!lt)
		return -ENOMEM;
	if (current_offset(b, path, &lt->current_off) ||
	    member(b, path, "task_struct", "stack", 8, &lt->stack_off, NULL) ||
	    member(b, path, "task_struct", "pid", 4, &lt->pid_off, NULL) ||
	    member(b, path, "task_struct", "tgid", 4, &lt->tgid_off, NULL) ||
	    member(b, path, "task_struct", "comm", 0, &lt->comm_off, &comm_size)) {
		free(lt);
		return -EINVAL;
	}
	find_switch_code(st, lt);
	lt->comm_len = (size_t)KP_MIN(comm_size, (uint64_t)PROFILE_COMM_LEN);
	lo = KP_MIN(KP_MIN(lt->pid_off, lt->tgid_off), KP_MIN(lt->comm_off, lt->stack_off));
	hi = KP_MAX(KP_MAX(lt->pid_off, lt->tgid_off) + 4,
		    KP_MAX(lt->comm_off + lt->comm_len, lt->stack_off + 8));
	lt->span_off = lo;
	lt->end = hi;
	lt->span_len = hi - lo <= MAX_SPAN ? (size_t)(hi - lo) : 0;	/* 0: one read each */
	*out = lt;
	return 0;
}

void linux_tasks_free(struct linux_tasks *lt)
{
	free(lt);
}

static uint64_t percpu_base(const struct target_regs *r)
{
	if ((r->cs & 3) == 3)
		return r->k_gs_base >= KERNEL_HALF ? r->k_gs_base : 0;
	if (r->gs_base >= KERNEL_HALF)
		return r->gs_base;
	return r->k_gs_base >= KERNEL_HALF ? r->k_gs_base : 0;
}

bool linux_tasks_pointer(const struct linux_tasks *lt, const struct target_regs *r,
			 uint64_t *addr)
{
	uint64_t base = percpu_base(r);

	*addr = base + lt->current_off;
	return base != 0;
}

bool linux_tasks_span(const struct linux_tasks *lt, uint64_t task, uint64_t *addr, size_t *len)
{
	if (task < KERNEL_HALF || task > UINT64_MAX - lt->end || !lt->span_len)
		return false;
	*addr = task + lt->span_off;
	*len = lt->span_len;
	return true;
}

/* The task from its fields; unknown when they are no task's. */
static void decode(const struct linux_tasks *lt, uint64_t stk, int32_t pid, int32_t tgid,
		   const char *comm, struct profile_task *out, uint64_t *stack)
{
	/* The kernel keeps comm NUL-terminated; bytes that are not are no task's name. */
	size_t len = strnlen(comm, lt->comm_len);

	profile_task_unknown(out);
	*stack = 0;
	if (!len || len == lt->comm_len || pid < 0 || tgid < 0)
		return;
	for (size_t i = 0; i < len; i++)
		out->comm[i] = comm[i] >= 0x20 && comm[i] < 0x7f ? comm[i] : '.';
	out->comm[len] = 0;
	out->pid = pid;
	out->tgid = tgid;
	*stack = stk;
}

void linux_tasks_decode(const struct linux_tasks *lt, const void *span,
			struct profile_task *out, uint64_t *stack)
{
	const uint8_t *p = span;
	char comm[PROFILE_COMM_LEN];
	uint64_t stk;
	int32_t pid, tgid;

	memcpy(&stk, p + (lt->stack_off - lt->span_off), 8);
	memcpy(&pid, p + (lt->pid_off - lt->span_off), 4);
	memcpy(&tgid, p + (lt->tgid_off - lt->span_off), 4);
	memcpy(comm, p + (lt->comm_off - lt->span_off), lt->comm_len);
	decode(lt, stk, pid, tgid, comm, out, stack);
}

static bool read_exact(struct target *t, int cpu, uint64_t addr, void *buf, size_t len)
{
	return target_read_mem(t, cpu, addr, buf, len) == (ssize_t)len;
}

void linux_tasks_read(const struct linux_tasks *lt, struct target *t, int via,
		      const struct target_regs *r, struct profile_task *out, uint64_t *stack)
{
	uint8_t span[MAX_SPAN];
	char comm[PROFILE_COMM_LEN];
	uint64_t addr, task, stk;
	int32_t pid, tgid;
	size_t len;

	profile_task_unknown(out);
	*stack = 0;
	if (!linux_tasks_pointer(lt, r, &addr) || !read_exact(t, via, addr, &task, sizeof(task)) ||
	    task < KERNEL_HALF || task > UINT64_MAX - lt->end)
		return;
	if (linux_tasks_span(lt, task, &addr, &len)) {
		if (read_exact(t, via, addr, span, len))
			linux_tasks_decode(lt, span, out, stack);
		return;
	}
	if (read_exact(t, via, task + lt->stack_off, &stk, 8) &&
	    read_exact(t, via, task + lt->pid_off, &pid, 4) &&
	    read_exact(t, via, task + lt->tgid_off, &tgid, 4) &&
	    read_exact(t, via, task + lt->comm_off, comm, lt->comm_len))
		decode(lt, stk, pid, tgid, comm, out, stack);
}

bool linux_tasks_in_switch(const struct linux_tasks *lt, uint64_t pc)
{
	for (int i = 0; i < 2; i++)
		if (pc >= lt->switch_code[i][0] && pc < lt->switch_code[i][1])
			return true;
	return false;
}

bool linux_tasks_on_stack(uint64_t stack, uint64_t addr)
{
	return stack && addr >= stack && addr - stack < TASK_STACK_SIZE;
}
