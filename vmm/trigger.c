/* Snapshot triggers (--snapshot-on): the first write of a port-0x80 code (a marker
 * listener), or each delivery of a signal (a sigwait thread).  A trigger only asks for a stop:
 * the controller's run loop (vmm_wait) saves the VM once every vCPU is parked
 * (vmm_trigger_stop_event), then resumes it. */
#include "vmm/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static void request_snapshot(struct vmm *vm, int cpu)
{
	struct target_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = TARGET_EV_STOPPED;
	ev.cpu = cpu;
	snprintf(ev.message, sizeof(ev.message), "snapshot requested");
	atomic_store(&vm->trigger.requested, true);
	vmm_raise_event(vm, &ev);
}

static void *signal_thread(void *arg)
{
	struct vmm *vm = arg;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, vm->cfg.snapshot_signal);
	for (;;) {
		if (sigwait(&set, &sig))
			continue;
		if (atomic_load(&vm->trigger.quit))
			break;
		request_snapshot(vm, -1);
	}
	return NULL;
}

int vmm_trigger_init(struct vmm *vm, struct vmm_create_ctx *c)
{
	const struct vmm_config *cfg = &vm->cfg;
	int ret;

	(void)c;
	if ((cfg->snapshot_on_port80 || cfg->snapshot_signal) && !cfg->snapshot_path) {
		kp_error("a snapshot trigger needs a snapshot file");
		return -EINVAL;
	}
	if (cfg->snapshot_path && !cfg->snapshot_on_port80 && !cfg->snapshot_signal) {
		kp_error("a snapshot file needs a trigger (when to save)");
		return -EINVAL;
	}
	if (cfg->snapshot_path) {
		/* Fail now on an unwritable path rather than in the middle of the run. */
		int fd = open(cfg->snapshot_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

		if (fd < 0) {
			ret = -errno;
			kp_error("%s: %s", cfg->snapshot_path, strerror(-ret));
			return ret;
		}
		close(fd);
	}
	if (cfg->snapshot_signal) {
		sigset_t set;

		/* Blocked in this thread before the vCPU threads exist, so they inherit the block
		 * and only the sigwait thread takes the signal.  It stays blocked afterwards. */
		sigemptyset(&set);
		sigaddset(&set, cfg->snapshot_signal);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
		ret = pthread_create(&vm->trigger.thread, NULL, signal_thread, vm);
		if (ret) {
			kp_error("snapshot signal thread: %s", strerror(ret));
			return -ret;
		}
		vm->trigger.thread_started = true;
	}
	return 0;
}

void vmm_trigger_release(struct vmm *vm)
{
	if (!vm->trigger.thread_started)
		return;
	atomic_store(&vm->trigger.quit, true);
	pthread_kill(vm->trigger.thread, vm->cfg.snapshot_signal);
	pthread_join(vm->trigger.thread, NULL);
	vm->trigger.thread_started = false;
}

bool vmm_trigger_marker(struct vmm *vm, struct vmm_vcpu *vcpu, const struct vmm_marker *m)
{
	const struct vmm_config *cfg = &vm->cfg;

	if (m->kind == VMM_MARK_PORT80 && cfg->snapshot_on_port80 &&
	    m->code == cfg->snapshot_port80 && !atomic_exchange(&vm->trigger.port_done, true))
		request_snapshot(vm, vcpu ? vcpu->id : -1);
	return false;
}

int vmm_trigger_stop_event(struct vmm *vm)
{
	if (!atomic_exchange(&vm->trigger.requested, false))
		return 0;
	int ret = vmm_snapshot_save(vm, vm->cfg.snapshot_path);
	return ret < 0 ? ret : 1;
}
