/* VM life cycle: create (the steps of create.c), start, wait for the end, destroy in
 * reverse. */
#include "vmm/internal.h"

#include "common/common.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static int check_config(const struct vmm_config *cfg)
{
	if (cfg->ncpus < 1 || cfg->ncpus > VMM_MAX_CPUS)
		return kp_fail(-EINVAL, "%u vCPUs is out of range (1 to %d)", cfg->ncpus,
			       VMM_MAX_CPUS);
	if (cfg->mem_size < VMM_MIN_MEM || cfg->mem_size > VMM_MAX_MEM || cfg->mem_size % 4096)
		return kp_fail(-EINVAL, "guest RAM of %llu bytes is out of range (2M to 3G, whole pages)",
			       (unsigned long long)cfg->mem_size);
	if (!cfg->kernel && !cfg->restore_path)
		return kp_fail(-EINVAL, "no kernel given");
	if (cfg->initrd && cfg->restore_path)
		return kp_fail(-EINVAL,
			       "an initrd and a snapshot to restore: the snapshot holds the guest's memory");
	if (cfg->cmdline && strlen(cfg->cmdline) >= VMM_CMDLINE_MAX)
		return kp_fail(-EINVAL, "kernel command line longer than %d bytes", VMM_CMDLINE_MAX - 1);
	return 0;
}

int vmm_create(const struct vmm_config *cfg, struct vmm **out)
{
	struct vmm *vm;
	int ret;

	*out = NULL;
	ret = check_config(cfg);
	if (ret)
		return ret;
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->cfg = *cfg;
	snprintf(vm->kernel_path, sizeof(vm->kernel_path), "%s", cfg->kernel ? cfg->kernel : "");
	snprintf(vm->cmdline, sizeof(vm->cmdline), "%s", cfg->cmdline ? cfg->cmdline : "");
	vm->cfg.kernel = vm->kernel_path;
	vm->cfg.cmdline = vm->cmdline;
	vm->ncpus = cfg->ncpus;
	vm->kvm_fd = vm->vm_fd = vm->event_fd = -1;
	vm->restore_fd = -1;
	for (unsigned i = 0; i < VMM_MAX_CPUS; i++)
		vm->vcpus[i].fd = -1;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_mutex_init(&vm->prof_lock, NULL);
	vmm_stage_init(vm);
	pthread_mutex_init(&vm->bus.mmio_lock, NULL);
	pthread_cond_init(&vm->vcpu_cond, NULL);
	kp_cond_init(&vm->ctl_cond);	/* timed waits (vmm_stop_all) */
	vm->stop_requested = true;	/* nothing runs before vmm_start */
	vm->result.cpu = -1;
	vmm_target_init(vm);
	vm->prof.t0_ns = cfg->t0_ns ? cfg->t0_ns : kp_now_ns();
	*out = vm;

	ret = vmm_create_steps(vm);
	if (ret) {
		vmm_destroy(vm);
		*out = NULL;
	}
	return ret;
}

int vmm_start(struct vmm *vm)
{
	pthread_mutex_lock(&vm->lock);
	if (!vm->started) {
		vm->started = true;
		vm->start_ns = kp_now_ns();
		if (!vm->cfg.start_halted) {
			vm->stop_requested = false;
			pthread_cond_broadcast(&vm->vcpu_cond);
		}
	}
	pthread_mutex_unlock(&vm->lock);
	vmm_restore_started(vm);
	return 0;
}

void vmm_get_result(struct vmm *vm, struct vmm_result *res)
{
	pthread_mutex_lock(&vm->lock);
	*res = vm->result;
	pthread_mutex_unlock(&vm->lock);
}

int vmm_error_exit_status(int err)
{
	switch (err) {
	case -EINVAL:
	case -ENOEXEC:
	case -ENOENT:
	case -EISDIR:
	case -EACCES:
	case -ENOTDIR:
	case -ENAMETOOLONG:
		return VMM_EXIT_USAGE;
	default:
		return VMM_EXIT_HOST;
	}
}

void vmm_dump_regs(struct vmm *vm, int cpu, FILE *f)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (cpu < 0 || (unsigned)cpu >= vm->ncpus ||
	    vmm_vcpu_read_state(&vm->vcpus[cpu], &r, &s)) {
		fprintf(f, "  (registers of cpu %d unavailable)\n", cpu);
		return;
	}
	const struct { const char *name; unsigned long long v; } gpr[] = {
		{ "rip", r.rip }, { "rflags", r.rflags }, { "rsp", r.rsp }, { "rbp", r.rbp },
		{ "rax", r.rax }, { "rbx", r.rbx }, { "rcx", r.rcx }, { "rdx", r.rdx },
		{ "rsi", r.rsi }, { "rdi", r.rdi }, { "r8 ", r.r8 }, { "r9 ", r.r9 },
		{ "r10", r.r10 }, { "r11", r.r11 }, { "r12", r.r12 }, { "r13", r.r13 },
		{ "r14", r.r14 }, { "r15", r.r15 },
	};

	fprintf(f, "  cpu %d registers:\n", cpu);
	/* Four to a line, as "  rip 0000000000001000  rflags 0000000000000002  ...". */
	for (size_t i = 0; i < KP_ARRAY_SIZE(gpr); i++)
		fprintf(f, "  %s %016llx%s", gpr[i].name, gpr[i].v,
			i % 4 == 3 || i + 1 == KP_ARRAY_SIZE(gpr) ? "\n" : "");
	fprintf(f, "  cs %04x (l=%u db=%u)  ss %04x  ds %04x  es %04x  fs %04x  gs %04x\n",
		s.cs.selector, s.cs.l, s.cs.db, s.ss.selector, s.ds.selector, s.es.selector,
		s.fs.selector, s.gs.selector);
	fprintf(f, "  cr0 %016llx  cr2 %016llx  cr3 %016llx  cr4 %016llx  efer %llx\n",
		(unsigned long long)s.cr0, (unsigned long long)s.cr2, (unsigned long long)s.cr3,
		(unsigned long long)s.cr4, (unsigned long long)s.efer);
	fprintf(f, "  gdt %016llx/%x  idt %016llx/%x\n", (unsigned long long)s.gdt.base,
		s.gdt.limit, (unsigned long long)s.idt.base, s.idt.limit);
}

int vmm_wait(struct vmm *vm, int cancel_fd, struct vmm_result *res)
{
	struct target *t = &vm->target;
	struct target_event ev;
	int ret;

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = vm->event_fd, .events = POLLIN },
			{ .fd = cancel_fd, .events = POLLIN },	/* poll ignores a negative fd */
		};

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return -errno;
		if (p[1].revents) {
			vmm_end_run(vm, NULL, VMM_END_KILLED, VMM_EXIT_KILLED, 0,
				    "ended from the host");
			cancel_fd = -1;
		}
		ret = target_poll_event(t, &ev);
		if (ret == -EAGAIN)
			continue;
		if (ret)
			return ret;
		if (ev.kind == TARGET_EV_EXITED || ev.kind == TARGET_EV_FAULT)
			break;
		/* A stop requested by --snapshot-on saves the VM here. */
		ret = vmm_trigger_stop_event(vm);
		if (ret < 0) {
			t->ops->kill(t);
			return ret;
		}
		/* Nobody debugs this run: carry on over breakpoints and steps. */
		target_resume(t, NULL);
	}
	vmm_iobus_flush(&vm->bus);
	vmm_get_result(vm, res);
	if (res->kind != VMM_END_EXIT && res->kind != VMM_END_KILLED) {
		kp_error("%s: %s", vm->kernel_path, res->message);
		vmm_dump_regs(vm, res->cpu, stderr);
	}
	return 0;
}

int vmm_run_until_exit_fd(struct vmm *vm, int cancel_fd, struct vmm_result *res)
{
	int ret = vmm_start(vm);

	if (ret)
		return ret;
	if (vm->cfg.start_halted)
		target_resume(&vm->target, NULL);
	return vmm_wait(vm, cancel_fd, res);
}

int vmm_run_until_exit(struct vmm *vm, struct vmm_result *res)
{
	return vmm_run_until_exit_fd(vm, -1, res);
}

void vmm_destroy(struct vmm *vm)
{
	if (!vm)
		return;
	vmm_vcpus_join(vm);
	vmm_trigger_release(vm);
	vmm_restore_release(vm);
	for (unsigned i = 0; i < VMM_MAX_CPUS; i++) {
		struct vmm_vcpu *v = &vm->vcpus[i];

		if (v->run)
			munmap(v->run, v->run_size);
		if (v->fd >= 0)
			close(v->fd);
	}
	vmm_iobus_release(&vm->bus);
	vmm_initrd_release(vm);
	if (vm->mem.base)
		munmap(vm->mem.base, vm->mem.size);
	if (vm->event_fd >= 0)
		close(vm->event_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	free(vm->cpuid);
	pthread_cond_destroy(&vm->vcpu_cond);
	pthread_cond_destroy(&vm->ctl_cond);
	pthread_mutex_destroy(&vm->bus.mmio_lock);
	pthread_mutex_destroy(&vm->prof_lock);
	pthread_mutex_destroy(&vm->lock);
	free(vm);
}
