/* Run control: stopping every vCPU (a kick out of KVM_RUN), the all-stop events, and the end
 * of a run.  The vCPU threads (vcpu.c) park on vcpu_cond; everything here is under vm->lock.
 *
 * A stop sets stop_requested, then for every vCPU not yet parked stores
 * kvm_run->immediate_exit = 1 and sends it the kick signal (see vcpu.c); the last vCPU to
 * park wakes the controller and, when an event is pending, makes the event fd readable. */
#include "vmm/internal.h"

#include "common/common.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void vmm_kick_all_locked(struct vmm *vm)
{
	for (unsigned i = 0; i < vm->ncpus; i++) {
		struct vmm_vcpu *v = &vm->vcpus[i];

		if (!v->thread_started || v->parked)
			continue;
		__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		pthread_kill(v->thread, VMM_KICK_SIGNAL);
	}
}

void vmm_publish_event_locked(struct vmm *vm)
{
	uint64_t one = 1;

	if (vm->event_pending && !vm->event_signalled && vm->nparked == vm->ncpus) {
		vm->event_signalled = true;
		if (write(vm->event_fd, &one, sizeof(one)) < 0)
			kp_debug("event fd: %s", strerror(errno));
	}
}

void vmm_raise_event(struct vmm *vm, const struct target_event *ev)
{
	pthread_mutex_lock(&vm->lock);
	/* All-stop: the first event wins; a vCPU that hit a breakpoint at the same moment hits it
	 * again after the resume, since the instruction did not execute. */
	if (!vm->event_pending) {
		vm->event = *ev;
		vm->event_pending = true;
		vm->event_signalled = false;
	}
	vm->stop_requested = true;
	vmm_kick_all_locked(vm);
	pthread_mutex_unlock(&vm->lock);
}

bool vmm_end_run(struct vmm *vm, struct vmm_vcpu *vcpu, enum vmm_end_kind kind, int status,
		 uint32_t value, const char *fmt, ...)
{
	bool ended = false;
	va_list ap;

	pthread_mutex_lock(&vm->lock);
	if (vm->result.kind == VMM_END_NONE) {
		ended = true;
		vm->end_ns = kp_now_ns();
		vm->result.kind = kind;
		vm->result.exit_status = status;
		vm->result.cpu = vcpu ? vcpu->id : -1;
		vm->result.guest_value = value;
		va_start(ap, fmt);
		vsnprintf(vm->result.message, sizeof(vm->result.message), fmt, ap);
		va_end(ap);
		/* The end replaces whatever stop was pending: nothing can run after it. */
		vm->event.kind = (kind == VMM_END_EXIT || kind == VMM_END_KILLED) ?
				 TARGET_EV_EXITED : TARGET_EV_FAULT;
		vm->event.cpu = vm->result.cpu;
		vm->event.exit_status = status;
		vm->event.addr = 0;
		snprintf(vm->event.message, sizeof(vm->event.message), "%s", vm->result.message);
		vm->event_pending = true;
		vm->event_signalled = false;
		vmm_publish_event_locked(vm);
	}
	vm->stop_requested = true;
	vmm_kick_all_locked(vm);
	pthread_mutex_unlock(&vm->lock);
	return ended;
}

bool vmm_all_released_locked(const struct vmm *vm)
{
	unsigned stay = 0;

	for (unsigned i = 0; i < vm->ncpus; i++)
		stay += vm->vcpus[i].action == TARGET_RESUME_STAY;
	return vm->nparked <= stay;
}

int vmm_stop_all(struct vmm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->stop_requested = true;
	while (vm->nparked < vm->ncpus) {
		struct timespec ts;

		vmm_kick_all_locked(vm);
		/* Kicks are reliable (immediate_exit); the timeout only guards against the unknown. */
		kp_deadline(&ts, 50);
		pthread_cond_timedwait(&vm->ctl_cond, &vm->lock, &ts);
	}
	pthread_mutex_unlock(&vm->lock);
	return 0;
}
