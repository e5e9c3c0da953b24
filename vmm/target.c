/* The in-process VM as a target (target/target.h): all-stop control over the vCPU threads,
 * registers through KVM_GET/SET_(S)REGS on parked vCPUs, guest-virtual memory through a walk of
 * the vCPU's own page tables, and hardware breakpoints/watchpoints in the four debug registers.
 *
 * stop, get_regs and read_mem allocate nothing: the profiler calls them while the guest is
 * stopped. */
#include "vmm/internal.h"

#include "common/common.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define MSR_KERNEL_GS_BASE 0xc0000102

static struct vmm *to_vm(struct target *t)
{
	return (struct vmm *)t;	/* the target is the first member */
}

static int vt_cpu_count(struct target *t)
{
	return (int)to_vm(t)->ncpus;
}

static int vt_cpu_state(struct target *t, int cpu)
{
	struct vmm *vm = to_vm(t);
	struct kvm_mp_state kmp;
	struct vmm_vcpu *v;
	bool parked;
	int mp, state;

	if (cpu < 0 || (unsigned)cpu >= vm->ncpus)
		return -EINVAL;
	v = &vm->vcpus[cpu];
	pthread_mutex_lock(&vm->lock);
	parked = v->parked;
	mp = v->mp_state;	/* as last asked: a running vCPU cannot be asked */
	pthread_mutex_unlock(&vm->lock);
	/* Asked here rather than at every park: a sample's stop does not wait for it. */
	if (parked && ioctl(v->fd, KVM_GET_MP_STATE, &kmp) == 0) {
		mp = (int)kmp.mp_state;
		pthread_mutex_lock(&vm->lock);
		v->mp_state = mp;
		pthread_mutex_unlock(&vm->lock);
	}
	switch (mp) {
	case KVM_MP_STATE_HALTED:
		state = TARGET_CPU_HALTED;
		break;
	case KVM_MP_STATE_UNINITIALIZED:
	case KVM_MP_STATE_INIT_RECEIVED:
	case KVM_MP_STATE_SIPI_RECEIVED:
		state = TARGET_CPU_OFFLINE;
		break;
	default:
		state = TARGET_CPU_RUNNING;
		break;
	}
	return state;
}

static int vt_stop(struct target *t)
{
	return vmm_stop_all(to_vm(t));
}

/* Until every vCPU a resume released has left its park (or something stopped the VM again).
 * Without this a stop right after a resume finds the threads not yet woken, "stops" a guest
 * that never ran, and costs nothing: a sampler at interval 0 would sample the same state
 * again while the guest starves, and the cost of a round would not be measured. */
static void wait_released_locked(struct vmm *vm)
{
	uint64_t until = kp_now_ns() + 1000000000u;

	while (!vm->stop_requested && !vm->quit && !vmm_all_released_locked(vm) &&
	       kp_now_ns() < until) {
		struct timespec ts;

		/* The timeout only guards against the unknown: unparking vCPUs signal. */
		kp_deadline(&ts, 50);
		pthread_cond_timedwait(&vm->ctl_cond, &vm->lock, &ts);
	}
}

static int vt_resume(struct target *t, const enum target_resume_action *actions)
{
	struct vmm *vm = to_vm(t);
	uint64_t drain;
	int ret = 0;

	pthread_mutex_lock(&vm->lock);
	if (vm->result.kind != VMM_END_NONE) {
		ret = -ESRCH;
		goto out;
	}
	for (unsigned i = 0; i < vm->ncpus; i++)
		vm->vcpus[i].action = actions ? actions[i] : TARGET_RESUME_CONTINUE;
	/* An event not collected before resuming is stale: the vCPUs move on. */
	vm->event_pending = false;
	vm->event_signalled = false;
	if (read(vm->event_fd, &drain, sizeof(drain)) < 0 && errno != EAGAIN)
		ret = -errno;
	vm->stop_requested = false;
	pthread_cond_broadcast(&vm->vcpu_cond);
	wait_released_locked(vm);
out:
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

static int vt_is_stopped(struct target *t)
{
	struct vmm *vm = to_vm(t);
	int r;

	pthread_mutex_lock(&vm->lock);
	r = vm->stop_requested && vm->nparked == vm->ncpus;
	pthread_mutex_unlock(&vm->lock);
	return r;
}

static int vt_event_fd(struct target *t)
{
	return to_vm(t)->event_fd;
}

static int vt_poll_event(struct target *t, struct target_event *ev)
{
	struct vmm *vm = to_vm(t);
	uint64_t drain;
	int ret = -EAGAIN;

	pthread_mutex_lock(&vm->lock);
	if (vm->event_pending && vm->event_signalled) {
		*ev = vm->event;
		vm->event_pending = false;
		vm->event_signalled = false;
		ret = 0;
		if (read(vm->event_fd, &drain, sizeof(drain)) < 0 && errno != EAGAIN)
			ret = -errno;
	}
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

/* The vCPU's fd may be used from this thread only while the vCPU is parked. */
static struct vmm_vcpu *parked_vcpu(struct vmm *vm, int cpu, int *err)
{
	bool parked;

	if (cpu < 0 || (unsigned)cpu >= vm->ncpus) {
		*err = -EINVAL;
		return NULL;
	}
	pthread_mutex_lock(&vm->lock);
	parked = vm->vcpus[cpu].parked;
	pthread_mutex_unlock(&vm->lock);
	if (!parked) {
		*err = -EBUSY;
		return NULL;
	}
	return &vm->vcpus[cpu];
}

int vmm_vcpu_read_state(struct vmm_vcpu *vcpu, struct kvm_regs *regs, struct kvm_sregs *sregs)
{
	if (regs && ioctl(vcpu->fd, KVM_GET_REGS, regs) < 0)
		return -errno;
	if (sregs && ioctl(vcpu->fd, KVM_GET_SREGS, sregs) < 0)
		return -errno;
	return 0;
}

static void remember_paging(struct vmm *vm, struct vmm_vcpu *v, const struct kvm_sregs *sregs)
{
	pthread_mutex_lock(&vm->lock);
	if (v->parked) {
		v->paging = (struct vmm_paging){ .cr0 = sregs->cr0, .cr3 = sregs->cr3,
						 .cr4 = sregs->cr4, .efer = sregs->efer };
		v->paging_valid = true;
	}
	pthread_mutex_unlock(&vm->lock);
}

/* A parked vCPU and its registers, for reading or changing them. */
struct parked {
	struct vmm_vcpu *v;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
};

static int parked_state(struct target *t, int cpu, struct parked *p)
{
	int err = 0;

	p->v = parked_vcpu(to_vm(t), cpu, &err);
	if (!p->v)
		return err;
	if (p->v->sync_valid) {	/* left by the last KVM_RUN: no ioctl */
		p->regs = p->v->run->s.regs.regs;
		p->sregs = p->v->run->s.regs.sregs;
	} else {
		err = vmm_vcpu_read_state(p->v, &p->regs, &p->sregs);
		if (err)
			return err;
	}
	/* The stack reads that follow walk these page tables: no KVM_GET_SREGS of their own. */
	remember_paging(to_vm(t), p->v, &p->sregs);
	return 0;
}

/* The general registers as target.h numbers them, in struct kvm_regs. */
static const struct { int treg; size_t off; } gprs[] = {
	{ TREG_RAX, offsetof(struct kvm_regs, rax) }, { TREG_RBX, offsetof(struct kvm_regs, rbx) },
	{ TREG_RCX, offsetof(struct kvm_regs, rcx) }, { TREG_RDX, offsetof(struct kvm_regs, rdx) },
	{ TREG_RSI, offsetof(struct kvm_regs, rsi) }, { TREG_RDI, offsetof(struct kvm_regs, rdi) },
	{ TREG_RBP, offsetof(struct kvm_regs, rbp) }, { TREG_RSP, offsetof(struct kvm_regs, rsp) },
	{ TREG_R8, offsetof(struct kvm_regs, r8) }, { TREG_R9, offsetof(struct kvm_regs, r9) },
	{ TREG_R10, offsetof(struct kvm_regs, r10) }, { TREG_R11, offsetof(struct kvm_regs, r11) },
	{ TREG_R12, offsetof(struct kvm_regs, r12) }, { TREG_R13, offsetof(struct kvm_regs, r13) },
	{ TREG_R14, offsetof(struct kvm_regs, r14) }, { TREG_R15, offsetof(struct kvm_regs, r15) },
};

static int vt_get_regs_some(struct target *t, int cpu, struct target_regs *r, unsigned extra)
{
	struct parked p;
	int err = parked_state(t, cpu, &p);

	if (err)
		return err;
	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < KP_ARRAY_SIZE(gprs); i++)
		memcpy(&r->gpr[gprs[i].treg], (const char *)&p.regs + gprs[i].off, sizeof(uint64_t));
	r->rip = p.regs.rip;
	r->rflags = p.regs.rflags;
	r->cs = p.sregs.cs.selector;
	r->ss = p.sregs.ss.selector;
	r->ds = p.sregs.ds.selector;
	r->es = p.sregs.es.selector;
	r->fs = p.sregs.fs.selector;
	r->gs = p.sregs.gs.selector;
	r->fs_base = p.sregs.fs.base;
	r->gs_base = p.sregs.gs.base;
	r->cr0 = p.sregs.cr0;
	r->cr2 = p.sregs.cr2;
	r->cr3 = p.sregs.cr3;
	r->cr4 = p.sregs.cr4;
	r->cr8 = p.sregs.cr8;
	r->efer = p.sregs.efer;
	/* KERNEL_GS_BASE (swapgs) is an MSR, not in the registers KVM_RUN leaves: one more ioctl,
	 * which costs a sample as much as the registers and a stack together (every vCPU ioctl
	 * loads the vCPU's state).  A failure to read it leaves 0 rather than failing the whole
	 * register read. */
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e;
	} msr = { .hdr.nmsrs = 1, .e.index = MSR_KERNEL_GS_BASE };
	if ((extra & TARGET_REGS_MSRS) && ioctl(p.v->fd, KVM_GET_MSRS, &msr) == 1)
		r->k_gs_base = msr.e.data;
	return 0;
}

static int vt_get_regs(struct target *t, int cpu, struct target_regs *r)
{
	return vt_get_regs_some(t, cpu, r, TARGET_REGS_MSRS);
}

static int vt_set_regs(struct target *t, int cpu, const struct target_regs *r)
{
	struct parked p;
	int err = parked_state(t, cpu, &p);

	if (err)
		return err;
	for (size_t i = 0; i < KP_ARRAY_SIZE(gprs); i++)
		memcpy((char *)&p.regs + gprs[i].off, &r->gpr[gprs[i].treg], sizeof(uint64_t));
	p.regs.rip = r->rip;
	p.regs.rflags = r->rflags;
	p.v->sync_valid = false;	/* run->s.regs no longer the vCPU's until it runs */
	if (ioctl(p.v->fd, KVM_SET_REGS, &p.regs) < 0)
		return -errno;
	/* Segment selectors cannot be loaded without their descriptors; only the bases change. */
	if (p.sregs.fs.base != r->fs_base || p.sregs.gs.base != r->gs_base) {
		p.sregs.fs.base = r->fs_base;
		p.sregs.gs.base = r->gs_base;
		if (ioctl(p.v->fd, KVM_SET_SREGS, &p.sregs) < 0)
			return -errno;
	}
	return 0;
}

static ssize_t mem_access(struct target *t, int cpu, uint64_t addr, void *buf, size_t len,
			  int write)
{
	struct vmm *vm = to_vm(t);
	struct vmm_vcpu *v;
	struct vmm_paging pg;
	bool cached;

	if (cpu < 0 || (unsigned)cpu >= vm->ncpus)
		return -EINVAL;
	v = &vm->vcpus[cpu];
	pthread_mutex_lock(&vm->lock);
	if (!v->parked) {
		pthread_mutex_unlock(&vm->lock);
		return -EBUSY;
	}
	cached = v->paging_valid;
	pg = v->paging;
	pthread_mutex_unlock(&vm->lock);
	if (len == 0)
		return 0;
	if (!cached) {
		struct kvm_sregs sregs;

		if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
			return -errno;
		pg = (struct vmm_paging){ .cr0 = sregs.cr0, .cr3 = sregs.cr3, .cr4 = sregs.cr4,
					  .efer = sregs.efer };
		remember_paging(vm, v, &sregs);
	}
	return vmm_linear_copy(&vm->mem, &pg, addr, buf, len, write);
}

static ssize_t vt_read_mem(struct target *t, int cpu, uint64_t addr, void *buf, size_t len)
{
	return mem_access(t, cpu, addr, buf, len, 0);
}

static ssize_t vt_write_mem(struct target *t, int cpu, uint64_t addr, const void *buf, size_t len)
{
	return mem_access(t, cpu, addr, (void *)buf, len, 1);
}

/* Software breakpoints (int3) do not work with every KVM backend (not on PVM), so both Z0 and
 * Z1 use a debug register; the caller learns of the limit through -ENOSPC. */
static int vt_set_bp(struct target *t, enum target_bp_kind kind, uint64_t addr, uint64_t len)
{
	struct vmm *vm = to_vm(t);
	int slot = -1;

	switch (kind) {
	case TARGET_BP_SW:
	case TARGET_BP_HW:
		len = 1;
		break;
	case TARGET_WP_WRITE:
	case TARGET_WP_ACCESS:
		if ((len != 1 && len != 2 && len != 4 && len != 8) || (addr & (len - 1)))
			return -EINVAL;
		/* Say so rather than accept a watchpoint that cannot fire (gdb then falls back to
		 * software watchpoints by single-stepping, which do work). */
		if (vm->emulated_cpl0)
			return -ENOTSUP;
		break;
	default:
		/* x86 debug registers cannot trap reads alone. */
		return -ENOTSUP;
	}
	pthread_mutex_lock(&vm->lock);
	for (int i = 0; i < 4; i++) {
		struct vmm_bp *b = &vm->bps[i];

		if (b->used && b->kind == kind && b->addr == addr && b->len == len) {
			pthread_mutex_unlock(&vm->lock);
			return 0;	/* already set: gdb may insert twice */
		}
		if (!b->used && slot < 0)
			slot = i;
	}
	if (slot >= 0) {
		vm->bps[slot] = (struct vmm_bp){ .used = true, .kind = kind, .addr = addr, .len = len };
		vm->dbg_gen++;
	}
	pthread_mutex_unlock(&vm->lock);
	return slot >= 0 ? 0 : -ENOSPC;
}

static int vt_clear_bp(struct target *t, enum target_bp_kind kind, uint64_t addr, uint64_t len)
{
	struct vmm *vm = to_vm(t);
	int ret = -ENOENT;

	if (kind == TARGET_BP_SW || kind == TARGET_BP_HW)
		len = 1;
	pthread_mutex_lock(&vm->lock);
	for (int i = 0; i < 4; i++) {
		struct vmm_bp *b = &vm->bps[i];

		if (b->used && b->kind == kind && b->addr == addr && b->len == len) {
			b->used = false;
			vm->dbg_gen++;
			ret = 0;
			break;
		}
	}
	pthread_mutex_unlock(&vm->lock);
	return ret;
}

static int vt_kill(struct target *t)
{
	struct vmm *vm = to_vm(t);

	vmm_end_run(vm, NULL, VMM_END_KILLED, VMM_EXIT_KILLED, 0, "killed from the host");
	return vmm_stop_all(vm);
}

static const struct target_ops vmm_target_ops = {
	.name = "kvm",
	.cpu_count = vt_cpu_count,
	.cpu_state = vt_cpu_state,
	.stop = vt_stop,
	.resume = vt_resume,
	.is_stopped = vt_is_stopped,
	.event_fd = vt_event_fd,
	.poll_event = vt_poll_event,
	.get_regs = vt_get_regs,
	.set_regs = vt_set_regs,
	.read_mem = vt_read_mem,
	.write_mem = vt_write_mem,
	.set_bp = vt_set_bp,
	.clear_bp = vt_clear_bp,
	.kill = vt_kill,
	.describe_cpu = NULL,
	.stage = vmm_stage_read,
	.get_regs_some = vt_get_regs_some,
};

void vmm_target_init(struct vmm *vm)
{
	vm->target.ops = &vmm_target_ops;
}

struct target *vmm_target(struct vmm *vm)
{
	return &vm->target;
}
