/* vCPUs: creation and boot state, their threads, the exit loop, and parking (the stop and
 * event side of run control is run.c).
 *
 * Each vCPU runs KVM_RUN on its own thread.  The controller (the command, the gdb stub or the
 * profiler) stops them by setting stop_requested and kicking each thread: kvm_run->immediate_exit
 * closes the window between checking the flag and entering KVM_RUN, and a signal interrupts a
 * KVM_RUN in progress (also one blocked in hlt: with the in-kernel LAPIC, hlt never exits to us).
 * A kicked thread parks on vcpu_cond; the last one to park wakes the controller and, when a vCPU
 * caused the stop (breakpoint, step, exit, fault), makes the event fd readable.  A parked vCPU is
 * outside KVM_RUN, so the controller may use its fd (registers, memory via its CR3) directly.
 *
 * An I/O or MMIO exit is only complete once KVM_RUN is entered again, so a thread with such an
 * exit pending re-enters KVM_RUN before parking (immediate_exit makes that return at once). */
#include "vmm/internal.h"

#include "common/common.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define DR6_BS (1u << 14)
#define DR7_FIXED 0x600ull	/* GE and the always-one bit 10 */

static void kick_handler(int sig)
{
	(void)sig;
}

/* Process-wide, idempotent: an empty handler without SA_RESTART, so the signal only
 * interrupts KVM_RUN. */
static int install_kick_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	if (sigaction(VMM_KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;
	return 0;
}

static int set_boot_regs(struct vmm_vcpu *vcpu, uint32_t entry)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (vcpu->vm->linux_boot.on)
		return vmm_linux_boot_regs(vcpu);
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	/* PVH: 32-bit protected mode, flat 4 GiB segments, paging off. */
	vmm_flat_segments(&sregs, false);
	sregs.cr0 = 0x11ull;	/* PE | ET */
	sregs.cr4 = 0;
	sregs.efer = 0;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	memset(&regs, 0, sizeof(regs));
	regs.rip = entry;
	regs.rbx = VMM_START_INFO_ADDR;
	regs.rflags = 0x2;
	if (ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

static int set_fpu_and_lapic(struct vmm_vcpu *vcpu)
{
	struct kvm_fpu fpu;
	struct kvm_lapic_state lapic;
	uint32_t lvt;

	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80;
	if (ioctl(vcpu->fd, KVM_SET_FPU, &fpu) < 0)
		return -errno;
	/* LINT0 as ExtINT (the 8259 behind it) and LINT1 as NMI, as a PC's firmware leaves them. */
	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic) < 0)
		return -errno;
	memcpy(&lvt, lapic.regs + 0x350, 4);
	lvt = (lvt & ~0x700u) | (7u << 8);
	memcpy(lapic.regs + 0x350, &lvt, 4);
	memcpy(&lvt, lapic.regs + 0x360, 4);
	lvt = (lvt & ~0x700u) | (4u << 8);
	memcpy(lapic.regs + 0x360, &lvt, 4);
	if (ioctl(vcpu->fd, KVM_SET_LAPIC, &lapic) < 0)
		return -errno;
	return 0;
}

int vmm_vcpu_create(struct vmm *vm, int id)
{
	struct vmm_vcpu *vcpu = &vm->vcpus[id];
	int mmap_size, ret;

	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
	if (vcpu->fd < 0) {
		ret = -errno;
		kp_error("cpu %d: KVM_CREATE_VCPU: %s", id, strerror(-ret));
		return ret;
	}
	mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size <= 0) {
		kp_error("KVM_GET_VCPU_MMAP_SIZE failed");
		return -EIO;
	}
	vcpu->run = mmap(NULL, (size_t)mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		ret = -errno;
		vcpu->run = NULL;
		kp_error("cpu %d: kvm_run mapping: %s", id, strerror(-ret));
		return ret;
	}
	vcpu->run_size = (size_t)mmap_size;
	/* A restored VM keeps the TSC rate its guest calibrated against (the snapshot's). */
	if (id == 0 && !vm->tsc_khz) {
		int khz = ioctl(vcpu->fd, KVM_GET_TSC_KHZ, 0);
		vm->tsc_khz = khz > 0 ? (uint32_t)khz : 0;
	}
	vcpu->action = TARGET_RESUME_CONTINUE;
	vcpu->mp_state = id == 0 ? KVM_MP_STATE_RUNNABLE : KVM_MP_STATE_UNINITIALIZED;
	return 0;
}

int vmm_vcpu_set_boot_regs(struct vmm_vcpu *vcpu, uint32_t entry)
{
	int ret = set_fpu_and_lapic(vcpu);

	if (ret) {
		kp_error("cpu %d: FPU/LAPIC setup: %s", vcpu->id, strerror(-ret));
		return ret;
	}
	/* Only the BSP gets registers: the APs stay in KVM_MP_STATE_UNINITIALIZED until the
	 * guest sends them INIT and SIPI through its local APIC. */
	if (vcpu->id == 0) {
		ret = set_boot_regs(vcpu, entry);
		if (ret)
			kp_error("cpu 0: boot registers: %s", strerror(-ret));
	}
	return ret;
}

static uint32_t debug_control_locked(struct vmm *vm, struct vmm_vcpu *vcpu, struct kvm_guest_debug *dbg)
{
	uint64_t dr7 = 0;

	memset(dbg, 0, sizeof(*dbg));
	for (int i = 0; i < 4; i++) {
		const struct vmm_bp *b = &vm->bps[i];
		uint64_t rw = 0, len = 0;

		if (!b->used)
			continue;
		if (b->kind == TARGET_WP_WRITE)
			rw = 1;
		else if (b->kind == TARGET_WP_ACCESS)
			rw = 3;
		if (rw)
			len = b->len == 1 ? 0 : b->len == 2 ? 1 : b->len == 8 ? 2 : 3;
		dbg->arch.debugreg[i] = b->addr;
		dr7 |= (2ull << (i * 2)) | (rw << (16 + i * 4)) | (len << (18 + i * 4));
	}
	if (dr7) {
		dbg->control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
		dbg->arch.debugreg[7] = dr7 | DR7_FIXED;
	}
	if (vcpu->action == TARGET_RESUME_STEP) {
		dbg->control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
		/* As QEMU does: a step executes the next instruction rather than entering
		 * whatever interrupt (e.g. the guest's timer) is pending. */
		if (vm->guest_debug_caps & KVM_GUESTDBG_BLOCKIRQ)
			dbg->control |= KVM_GUESTDBG_BLOCKIRQ;
	}
	return dbg->control;
}

static void apply_debug_locked(struct vmm *vm, struct vmm_vcpu *vcpu)
{
	struct kvm_guest_debug dbg;
	uint32_t control = debug_control_locked(vm, vcpu, &dbg);

	if (control == vcpu->dbg_applied && vcpu->dbg_gen_applied == vm->dbg_gen)
		return;
	if (ioctl(vcpu->fd, KVM_SET_GUEST_DEBUG, &dbg) < 0)
		kp_warn("cpu %d: KVM_SET_GUEST_DEBUG: %s", vcpu->id, strerror(errno));
	vcpu->dbg_applied = control;
	vcpu->dbg_gen_applied = vm->dbg_gen;
}

/* Wait while the controller wants this vCPU stopped.  Returns true when the thread must end. */
static bool park_if_needed(struct vmm_vcpu *vcpu)
{
	struct vmm *vm = vcpu->vm;
	bool quit;

	pthread_mutex_lock(&vm->lock);
	while (!vm->quit && (vm->stop_requested || vcpu->action == TARGET_RESUME_STAY)) {
		if (!vcpu->parked) {
			/* (Its mp_state is read when someone asks: target.c, vt_cpu_state.) */
			vcpu->parked = true;
			vm->nparked++;
			if (vm->nparked == vm->ncpus) {
				pthread_cond_broadcast(&vm->ctl_cond);
				vmm_publish_event_locked(vm);
			}
		}
		pthread_cond_wait(&vm->vcpu_cond, &vm->lock);
	}
	quit = vm->quit;
	if (!quit) {
		if (vcpu->parked) {
			vcpu->parked = false;
			vm->nparked--;
			/* A resume returns once every vCPU it released has left its park. */
			if (vmm_all_released_locked(vm))
				pthread_cond_broadcast(&vm->ctl_cond);
		}
		vcpu->paging_valid = false;
		vcpu->run->immediate_exit = 0;
		apply_debug_locked(vm, vcpu);
	}
	pthread_mutex_unlock(&vm->lock);
	return quit;
}

static void debug_exit(struct vmm_vcpu *vcpu)
{
	struct vmm *vm = vcpu->vm;
	struct kvm_debug_exit_arch *d = &vcpu->run->debug.arch;
	struct target_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.cpu = vcpu->id;
	ev.addr = d->pc;
	ev.kind = TARGET_EV_STEP;
	if (d->dr6 & 0xf) {
		int i = __builtin_ctz((unsigned)(d->dr6 & 0xf));

		pthread_mutex_lock(&vm->lock);
		struct vmm_bp b = vm->bps[i];
		pthread_mutex_unlock(&vm->lock);
		if (b.used && b.kind != TARGET_BP_HW && b.kind != TARGET_BP_SW) {
			ev.kind = TARGET_EV_WATCHPOINT;
			ev.watch_kind = b.kind;
			ev.addr = b.addr;
		} else {
			ev.kind = TARGET_EV_BREAKPOINT;
		}
	} else if (!(d->dr6 & DR6_BS)) {
		kp_debug("cpu %d: debug exit with dr6 0x%llx, reported as a step", vcpu->id,
			 (unsigned long long)d->dr6);
	}
	vmm_raise_event(vm, &ev);
}

static void handle_exit(struct vmm_vcpu *vcpu)
{
	struct vmm *vm = vcpu->vm;
	struct kvm_run *run = vcpu->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vmm_iobus_pio(vm, vcpu, run);
		vcpu->needs_completion = true;
		break;
	case KVM_EXIT_MMIO:
		vmm_iobus_mmio(vm, vcpu, run);
		vcpu->needs_completion = true;
		break;
	case KVM_EXIT_DEBUG:
		debug_exit(vcpu);
		break;
	case KVM_EXIT_INTR:
	case KVM_EXIT_HLT:	/* not with the in-kernel LAPIC; harmless to re-enter */
		break;
	case KVM_EXIT_SHUTDOWN:
		vmm_end_run(vm, vcpu, VMM_END_SHUTDOWN, VMM_EXIT_SHUTDOWN, 0,
			    "cpu %d: guest shutdown (triple fault)", vcpu->id);
		break;
	case KVM_EXIT_SYSTEM_EVENT:
		vmm_end_run(vm, vcpu, VMM_END_SHUTDOWN, VMM_EXIT_SHUTDOWN, 0,
			    "cpu %d: guest requested %s", vcpu->id,
			    run->system_event.type == KVM_SYSTEM_EVENT_RESET ? "a reset" : "power-off");
		break;
	case KVM_EXIT_INTERNAL_ERROR: {
		char why[128] = "";

		if (run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
		    vmm_emulation_failure(vcpu, why, sizeof(why)))
			break;
		vmm_end_run(vm, vcpu, VMM_END_INTERNAL, VMM_EXIT_INTERNAL, 0,
			    "cpu %d: KVM internal error, suberror %u%s%s%s", vcpu->id,
			    run->internal.suberror, why[0] ? " (" : "", why, why[0] ? ")" : "");
		break;
	}
	case KVM_EXIT_FAIL_ENTRY:
		vmm_end_run(vm, vcpu, VMM_END_UNHANDLED, VMM_EXIT_UNHANDLED, 0,
			    "cpu %d: VM entry failed, reason 0x%llx", vcpu->id,
			    (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	default:
		vmm_end_run(vm, vcpu, VMM_END_UNHANDLED, VMM_EXIT_UNHANDLED, 0,
			    "cpu %d: unhandled KVM exit reason %u", vcpu->id, run->exit_reason);
		break;
	}
}

static void *vcpu_thread(void *arg)
{
	struct vmm_vcpu *vcpu = arg;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, VMM_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	if (vcpu->sync_regs)
		vcpu->run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
	for (;;) {
		if (!vcpu->needs_completion && park_if_needed(vcpu))
			break;
		int r = ioctl(vcpu->fd, KVM_RUN, 0);
		int err = errno;

		vcpu->needs_completion = false;
		vcpu->sync_valid = vcpu->sync_regs && (r == 0 || err == EINTR);
		if (r == 0) {
			handle_exit(vcpu);
			continue;
		}
		/* EINTR: kicked.  EAGAIN: an AP received INIT (seen once per INIT here); run again. */
		if (err == EINTR || err == EAGAIN)
			continue;
		vmm_end_run(vcpu->vm, vcpu, VMM_END_INTERNAL, VMM_EXIT_INTERNAL, 0,
			    "cpu %d: KVM_RUN: %s", vcpu->id, strerror(err));
	}
	return NULL;
}

int vmm_vcpus_start_threads(struct vmm *vm)
{
	int ret = install_kick_handler();

	if (ret)
		return ret;
	vm->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (vm->event_fd < 0)
		return -errno;
	int sync = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
	for (unsigned i = 0; i < vm->ncpus; i++)
		vm->vcpus[i].sync_regs = sync > 0 && (sync & KVM_SYNC_X86_REGS) &&
					 (sync & KVM_SYNC_X86_SREGS);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		ret = pthread_create(&vm->vcpus[i].thread, NULL, vcpu_thread, &vm->vcpus[i]);
		if (ret) {
			kp_error("cpu %u: thread: %s", i, strerror(ret));
			return -ret;
		}
		vm->vcpus[i].thread_started = true;
	}
	return 0;
}

void vmm_vcpus_join(struct vmm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->quit = true;
	vm->stop_requested = true;
	vmm_kick_all_locked(vm);
	pthread_cond_broadcast(&vm->vcpu_cond);
	pthread_mutex_unlock(&vm->lock);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		if (!vm->vcpus[i].thread_started)
			continue;
		/* A thread may have missed the first kick between checks; kick until it ends.
		 * A timed join returns as soon as it does (a sleep between tries would add a
		 * millisecond to every run's end). */
		for (;;) {
			struct timespec ts;

			kp_deadline(&ts, 1);
			if (pthread_clockjoin_np(vm->vcpus[i].thread, NULL, CLOCK_MONOTONIC, &ts) !=
			    ETIMEDOUT)
				break;
			pthread_mutex_lock(&vm->lock);
			vmm_kick_all_locked(vm);
			pthread_cond_broadcast(&vm->vcpu_cond);
			pthread_mutex_unlock(&vm->lock);
		}
		vm->vcpus[i].thread_started = false;
	}
}
