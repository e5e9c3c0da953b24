/* Boot lab hooks: ending a run at a chosen point (--exit-at), triggering a snapshot
 * (--snapshot-on), and the options that configure them.
 *
 * An end point ends the run exactly as a debug-exit write of 0 would (vmm_end_run from the
 * device that saw it), so every consumer of the run (kprof run, boot, collect) treats it as a
 * clean end.  A snapshot trigger only asks for a stop: the controller's run loop saves the VM
 * once every vCPU is parked (vmm_lab_stop_event), then resumes it. */
#include "vmm/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sched.h>
#include <unistd.h>

static const char *const detail_names[VMM_DETAIL_COUNT] = {
	"snapshot_read", "kvm_fd_open", "kvm_create_vm", "vm_arch_setup", "devices",
	"guest_memory_mmap", "kvm_set_user_memory_region", "elf_load", "boot_params",
	"vcpu_creation", "cpuid_config", "msr_setup", "register_setup", "vcpu_threads",
	"memory_state_write", "vcpu_state_restore", "device_state_restore", "resume",
	"initrd_read", "initrd_write",
};

const char *vmm_detail_name(enum vmm_detail d)
{
	return (unsigned)d < VMM_DETAIL_COUNT ? detail_names[d] : "?";
}

/* ---- options ---- */

static const struct {
	const char *name;
	int sig;
} snapshot_signals[] = {
	{ "HUP", SIGHUP }, { "USR2", SIGUSR2 }, { "QUIT", SIGQUIT }, { "PWR", SIGPWR },
	{ "WINCH", SIGWINCH }, { "USR1", SIGUSR1 },
};

static int parse_signal(const char *v, int *sig)
{
	const char *n = strncmp(v, "SIG", 3) ? v : v + 3;

	for (size_t i = 0; i < KP_ARRAY_SIZE(snapshot_signals); i++) {
		if (strcmp(n, snapshot_signals[i].name))
			continue;
		if (snapshot_signals[i].sig == VMM_KICK_SIGNAL) {
			kp_error("--snapshot-on: %s kicks the vCPU threads inside kprof; use SIGUSR2", v);
			return -EINVAL;
		}
		*sig = snapshot_signals[i].sig;
		return 0;
	}
	kp_error("--snapshot-on: '%s' is neither a port-0x80 code (0xNN) nor a signal "
		 "(SIGUSR2, SIGHUP, SIGQUIT, SIGPWR, SIGWINCH)", v);
	return -EINVAL;
}

static int parse_code(const char *what, const char *v, uint8_t *code)
{
	uint64_t n;

	if (kp_parse_u64(v, &n) || n > 0xff) {
		kp_error("%s: '%s' is not a port-0x80 code (0x00 to 0xff)", what, v);
		return -EINVAL;
	}
	*code = (uint8_t)n;
	return 0;
}

int vmm_config_set_end_point(struct vmm_config *cfg, const char *what, const char *v)
{
	if (v[0] >= '0' && v[0] <= '9') {
		const char *dash = strchr(v, '-');
		char lo[32];

		if (strlen(v) >= sizeof(lo)) {
			kp_error("%s: '%s' is not a port-0x80 code or range", what, v);
			return -EINVAL;
		}
		snprintf(lo, sizeof(lo), "%.*s", dash ? (int)(dash - v) : (int)strlen(v), v);
		if (parse_code(what, lo, &cfg->end_port80_lo))
			return -EINVAL;
		cfg->end_port80_hi = cfg->end_port80_lo;
		if (dash && parse_code(what, dash + 1, &cfg->end_port80_hi))
			return -EINVAL;
		if (cfg->end_port80_hi < cfg->end_port80_lo) {
			kp_error("%s: '%s' is an empty range", what, v);
			return -EINVAL;
		}
		cfg->end_port80 = true;
		cfg->end_stage = NULL;
		return 0;
	}
	if (!*v || strlen(v) >= sizeof(((struct vmm_boot_stage *)0)->name) ||
	    strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
		    strlen(v)) {
		kp_error("%s: '%s' is not a BOOT_TIME stage name or a port-0x80 code", what, v);
		return -EINVAL;
	}
	cfg->end_stage = v;
	cfg->end_port80 = false;
	return 0;
}

/* "--name VALUE" or "--name=VALUE": 1 matched, 0 not this option, -EINVAL without a value. */
static int lab_value(const char *name, int argc, char **argv, int *i, const char **val)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n) || (a[n] && a[n] != '='))
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
		(*i)++;
		return 1;
	}
	if (*i + 1 >= argc) {
		kp_error("%s: missing value", name);
		return -EINVAL;
	}
	*val = argv[*i + 1];
	*i += 2;
	return 1;
}

int vmm_config_parse_lab_option(struct vmm_config *cfg, int argc, char **argv, int *i)
{
	const char *v;
	int r;

	if ((r = lab_value("--exit-at", argc, argv, i, &v)) != 0) {
		if (r > 0 && vmm_config_set_end_point(cfg, "--exit-at", v))
			return -EINVAL;
		return r;
	}
	if ((r = lab_value("--snapshot-on", argc, argv, i, &v)) != 0) {
		if (r < 0)
			return r;
		if (v[0] >= '0' && v[0] <= '9') {
			if (parse_code("--snapshot-on", v, &cfg->snapshot_port80))
				return -EINVAL;
			cfg->snapshot_on_port80 = true;
		} else if (parse_signal(v, &cfg->snapshot_signal)) {
			return -EINVAL;
		}
		return 1;
	}
	if ((r = lab_value("--snapshot", argc, argv, i, &v)) != 0) {
		if (r > 0 && !*v) {
			kp_error("--snapshot: empty file name");
			return -EINVAL;
		}
		if (r > 0)
			cfg->snapshot_path = v;
		return r;
	}
	if ((r = lab_value("--restore", argc, argv, i, &v)) != 0) {
		if (r > 0 && !*v) {
			kp_error("--restore: empty file name");
			return -EINVAL;
		}
		if (r > 0)
			cfg->restore_path = v;
		return r;
	}
	return 0;
}

void vmm_config_lab_usage(FILE *f)
{
	fprintf(f,
		"  --exit-at STAGE|CODE  end the run (status 0) when the guest prints\n"
		"                       BOOT_TIME:STAGE: or writes CODE (0xNN, or 0xNN-0xMM: any\n"
		"                       code in the range) to port 0x80\n"
		"  --snapshot FILE      where --snapshot-on saves the VM (format: vmm/SNAPSHOT.md)\n"
		"  --snapshot-on CODE|SIGNAL  save when the guest first writes CODE to port 0x80, or\n"
		"                       each time kprof receives SIGNAL (e.g. SIGUSR2); then go on\n"
		"  --restore FILE       resume a snapshot instead of booting (no KERNEL.elf needed;\n"
		"                       vCPUs, memory and command line come from the snapshot)\n");
}

/* ---- hooks ---- */

static void request_snapshot(struct vmm *vm, int cpu)
{
	struct target_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = TARGET_EV_STOPPED;
	ev.cpu = cpu;
	snprintf(ev.message, sizeof(ev.message), "snapshot requested");
	atomic_store(&vm->lab.snap_requested, true);
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
		if (atomic_load(&vm->lab.sig_quit))
			break;
		request_snapshot(vm, -1);
	}
	return NULL;
}

int vmm_lab_init(struct vmm *vm)
{
	const struct vmm_config *cfg = &vm->cfg;
	int ret;

	if ((cfg->snapshot_on_port80 || cfg->snapshot_signal) && !cfg->snapshot_path) {
		kp_error("--snapshot-on needs --snapshot FILE");
		return -EINVAL;
	}
	if (cfg->snapshot_path && !cfg->snapshot_on_port80 && !cfg->snapshot_signal) {
		kp_error("--snapshot needs --snapshot-on CODE|SIGNAL (when to save)");
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
		ret = pthread_create(&vm->lab.sig_thread, NULL, signal_thread, vm);
		if (ret) {
			kp_error("snapshot signal thread: %s", strerror(ret));
			return -ret;
		}
		vm->lab.sig_thread_started = true;
	}
	return 0;
}

void vmm_lab_release(struct vmm *vm)
{
	if (vm->lab.sig_thread_started) {
		atomic_store(&vm->lab.sig_quit, true);
		pthread_kill(vm->lab.sig_thread, vm->cfg.snapshot_signal);
		pthread_join(vm->lab.sig_thread, NULL);
		vm->lab.sig_thread_started = false;
	}
	if (vm->lab.restore_fd >= 0)
		close(vm->lab.restore_fd);
	vm->lab.restore_fd = -1;
}

static void end_at(struct vmm *vm, struct vmm_vcpu *vcpu, const char *what)
{
	atomic_store(&vm->lab.end_hit, true);
	vmm_end_run(vm, vcpu, VMM_END_EXIT, 0, 0, "end point reached: %s", what);
}

void vmm_lab_stage(struct vmm *vm, const char *name)
{
	char what[64];

	if (!vm->cfg.end_stage || strcmp(vm->cfg.end_stage, name))
		return;
	snprintf(what, sizeof(what), "BOOT_TIME:%s", name);
	end_at(vm, NULL, what);
}

void vmm_lab_port80(struct vmm *vm, struct vmm_vcpu *vcpu, uint8_t code)
{
	const struct vmm_config *cfg = &vm->cfg;

	if (cfg->end_port80 && code >= cfg->end_port80_lo && code <= cfg->end_port80_hi) {
		char what[32];

		snprintf(what, sizeof(what), "port 0x80 code 0x%02x", code);
		end_at(vm, vcpu, what);
		return;
	}
	if (cfg->snapshot_on_port80 && code == cfg->snapshot_port80 &&
	    !atomic_exchange(&vm->lab.snap_port_done, true))
		request_snapshot(vm, vcpu->id);
}

bool vmm_end_point_reached(struct vmm *vm)
{
	struct vmm_result res;

	vmm_get_result(vm, &res);
	/* Another vCPU may have ended the run first (debug-exit, fault): the result tells. */
	return atomic_load(&vm->lab.end_hit) && res.kind == VMM_END_EXIT &&
	       !strncmp(res.message, "end point reached", 17);
}

int vmm_lab_stop_event(struct vmm *vm)
{
	if (!atomic_exchange(&vm->lab.snap_requested, false))
		return 0;
	int ret = vmm_snapshot_save(vm, vm->cfg.snapshot_path);
	return ret < 0 ? ret : 1;
}

void vmm_lab_started(struct vmm *vm)
{
	uint64_t deadline;
	unsigned parked;

	/* Only the first start of a restored VM that runs at once (not parked for a debugger). */
	if (!vm->prof.restored || vm->cfg.start_halted || vm->prof.detail_ns[VMM_DETAIL_RESUME])
		return;
	/* Resume ends when every vCPU thread has left its parking place for KVM_RUN (or the run
	 * already ended, or 200 ms passed: a vCPU may stop again at once). */
	deadline = vm->start_ns + 200 * 1000000ull;
	for (;;) {
		bool ended;

		pthread_mutex_lock(&vm->lock);
		parked = vm->nparked;
		ended = vm->result.kind != VMM_END_NONE;
		pthread_mutex_unlock(&vm->lock);
		if (!parked || ended || kp_now_ns() > deadline)
			break;
		sched_yield();	/* the vCPU threads need the CPU more than this loop */
	}
	pthread_mutex_lock(&vm->prof_lock);
	vm->prof.detail_ns[VMM_DETAIL_RESUME] = kp_now_ns() - vm->start_ns;
	pthread_mutex_unlock(&vm->prof_lock);
}
