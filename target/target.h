/* target: something with vCPUs that can be stopped, resumed and read.
 *
 * Two implementations exist: the in-process KVM VM (vmm/) and a remote gdb stub
 * (gdbstub/ client side).  The gdb stub server serves any target and the profiler
 * samples any target, so neither includes KVM headers nor socket code of the other.
 *
 * Execution model: all-stop.  stop() halts every vCPU and returns once all are
 * halted; resume() lets them run again (optionally stepping some, keeping others
 * halted).  While running, a target may stop by itself (breakpoint, step done,
 * guest exit, fault): it then makes event_fd() readable and poll_event() returns
 * the event; at that point every vCPU is already halted.
 *
 * Every operation returns 0 (or a count) on success and a negative errno on failure.
 */
#ifndef KPROF_TARGET_H
#define KPROF_TARGET_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TARGET_MAX_CPUS 128

/* General registers in gdb's amd64 order. */
enum target_gpr {
	TREG_RAX, TREG_RBX, TREG_RCX, TREG_RDX, TREG_RSI, TREG_RDI, TREG_RBP, TREG_RSP,
	TREG_R8, TREG_R9, TREG_R10, TREG_R11, TREG_R12, TREG_R13, TREG_R14, TREG_R15,
	TREG_NGPR
};

struct target_regs {
	uint64_t gpr[TREG_NGPR];
	uint64_t rip;
	uint64_t rflags;
	uint32_t cs, ss, ds, es, fs, gs;
	uint64_t fs_base, gs_base, k_gs_base;
	uint64_t cr0, cr2, cr3, cr4, cr8, efer;
};

enum target_cpu_state {
	TARGET_CPU_RUNNING,	/* executing guest code (or stopped by us while it was) */
	TARGET_CPU_HALTED,	/* the guest executed hlt, or waits for SIPI */
	TARGET_CPU_OFFLINE,	/* not started, or gone */
};

enum target_event_kind {
	TARGET_EV_STOPPED,	/* stopped on request (interrupt) */
	TARGET_EV_BREAKPOINT,	/* a Z0/Z1 breakpoint hit; addr = pc */
	TARGET_EV_WATCHPOINT,	/* a Z2-Z4 watchpoint hit; addr = watched address */
	TARGET_EV_STEP,		/* a single step completed */
	TARGET_EV_EXITED,	/* the guest ended (debug-exit); exit_status set */
	TARGET_EV_FAULT,	/* the guest faulted (triple fault, emulation error) */
	TARGET_EV_GONE,		/* the connection to a remote target dropped */
};

struct target_event {
	enum target_event_kind kind;
	int cpu;		/* vCPU that caused the stop, or -1 */
	int watch_kind;		/* for watchpoints: enum target_bp_kind */
	uint64_t addr;
	int exit_status;
	char message[160];	/* human-readable detail for faults, or empty */
};

/* Numbered as gdb's Z packets. */
enum target_bp_kind {
	TARGET_BP_SW = 0,
	TARGET_BP_HW = 1,
	TARGET_WP_WRITE = 2,
	TARGET_WP_READ = 3,
	TARGET_WP_ACCESS = 4,
};

enum target_resume_action {
	TARGET_RESUME_CONTINUE,
	TARGET_RESUME_STEP,
	TARGET_RESUME_STAY,	/* keep this vCPU halted */
};

struct target;

/* One read of a batch (target_read_mem_batch): got is what read_mem would return. */
struct target_read {
	int cpu;
	uint64_t addr;
	void *buf;
	size_t len;
	ssize_t got;
};

struct target_ops {
	const char *name;
	int (*cpu_count)(struct target *t);
	int (*cpu_state)(struct target *t, int cpu);	/* enum target_cpu_state */
	int (*stop)(struct target *t);
	/* actions: one per vCPU, or NULL for "all continue". */
	int (*resume)(struct target *t, const enum target_resume_action *actions);
	/* True (1) when the target is currently halted by us (after stop or an event). */
	int (*is_stopped)(struct target *t);
	int (*event_fd)(struct target *t);	/* -1 when the target has none */
	int (*poll_event)(struct target *t, struct target_event *ev);	/* -EAGAIN: none */
	int (*get_regs)(struct target *t, int cpu, struct target_regs *r);
	int (*set_regs)(struct target *t, int cpu, const struct target_regs *r);
	/* Guest-virtual memory through that vCPU's page tables.  Returns the number of
	 * bytes copied (short when the range runs into an unmapped page; 0 or -EFAULT
	 * when the first byte is unmapped). */
	ssize_t (*read_mem)(struct target *t, int cpu, uint64_t addr, void *buf, size_t len);
	ssize_t (*write_mem)(struct target *t, int cpu, uint64_t addr, const void *buf, size_t len);
	/* -ENOSPC when no debug register is free, -ENOTSUP when the kind is unsupported. */
	int (*set_bp)(struct target *t, enum target_bp_kind kind, uint64_t addr, uint64_t len);
	int (*clear_bp)(struct target *t, enum target_bp_kind kind, uint64_t addr, uint64_t len);
	int (*kill)(struct target *t);
	/* Optional: a one-line description of a vCPU for gdb ("CPU#0 [running]"). */
	int (*describe_cpu)(struct target *t, int cpu, char *buf, size_t len);
	/* Optional: several reads at once, each as read_mem (a remote stub pipelines them into
	 * one round trip).  0, or a negative errno when the batch as a whole failed. */
	int (*read_mem_batch)(struct target *t, struct target_read *reads, size_t n);
	/* Optional: the guest's boot stage now (the last BOOT_TIME: stage or port-0x80 code it
	 * reported, "kernel" before the first), NUL-terminated in buf.  0, or a negative errno;
	 * a target that cannot know (a remote stub) leaves it NULL. */
	int (*stage)(struct target *t, char *buf, size_t len);
	/* Optional: get_regs, the registers outside `extra` (TARGET_REGS_*) left 0, for a target
	 * that pays for some of them on their own (the in-process VM: an ioctl per MSR). */
	int (*get_regs_some)(struct target *t, int cpu, struct target_regs *r, unsigned extra);
};

/* The registers target_get_regs_some reads only when asked; all the others it always reads. */
#define TARGET_REGS_MSRS 1u	/* k_gs_base */

/* Implementations embed this as their first member. */
struct target {
	const struct target_ops *ops;
};

static inline int target_cpu_count(struct target *t) { return t->ops->cpu_count(t); }
static inline int target_cpu_state(struct target *t, int cpu) { return t->ops->cpu_state(t, cpu); }
static inline int target_stop(struct target *t) { return t->ops->stop(t); }
static inline int target_resume(struct target *t, const enum target_resume_action *a)
{
	return t->ops->resume(t, a);
}
static inline int target_is_stopped(struct target *t) { return t->ops->is_stopped(t); }
static inline int target_event_fd(struct target *t)
{
	return t->ops->event_fd ? t->ops->event_fd(t) : -1;
}
static inline int target_poll_event(struct target *t, struct target_event *ev)
{
	return t->ops->poll_event(t, ev);
}
static inline int target_get_regs(struct target *t, int cpu, struct target_regs *r)
{
	return t->ops->get_regs(t, cpu, r);
}
/* A sampler asks only for what it reads: e.g. no MSR when it reads no Linux task. */
static inline int target_get_regs_some(struct target *t, int cpu, struct target_regs *r,
				       unsigned extra)
{
	return t->ops->get_regs_some ? t->ops->get_regs_some(t, cpu, r, extra)
				     : t->ops->get_regs(t, cpu, r);
}
static inline int target_set_regs(struct target *t, int cpu, const struct target_regs *r)
{
	return t->ops->set_regs ? t->ops->set_regs(t, cpu, r) : -EOPNOTSUPP;
}
static inline ssize_t target_read_mem(struct target *t, int cpu, uint64_t addr, void *buf,
				      size_t len)
{
	return t->ops->read_mem(t, cpu, addr, buf, len);
}
/* Every read of the batch, in one go where the target can (else one after the other). */
static inline void target_read_mem_batch(struct target *t, struct target_read *reads, size_t n)
{
	if (t->ops->read_mem_batch && t->ops->read_mem_batch(t, reads, n) == 0)
		return;
	for (size_t i = 0; i < n; i++)
		reads[i].got = target_read_mem(t, reads[i].cpu, reads[i].addr, reads[i].buf,
					       reads[i].len);
}
static inline ssize_t target_write_mem(struct target *t, int cpu, uint64_t addr, const void *buf,
				       size_t len)
{
	return t->ops->write_mem ? t->ops->write_mem(t, cpu, addr, buf, len) : -EOPNOTSUPP;
}

static inline int target_stage(struct target *t, char *buf, size_t len)
{
	return t->ops->stage ? t->ops->stage(t, buf, len) : -EOPNOTSUPP;
}

/* Fill buf with "CPU#n [running]" / "CPU#n [halted ]" as QEMU names its threads. */
int target_describe_cpu(struct target *t, int cpu, char *buf, size_t len);
/* Human name of an event ("breakpoint", "exited with status 3", ...). */
const char *target_event_name(enum target_event_kind kind);

#endif
