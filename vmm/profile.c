/* The boot profile's raw timestamps: host phases and their details (timed by create.c's
 * steps and the run), guest stages from BOOT_TIME:<stage>:<ns> serial lines and port-0x80
 * events (a marker listener).  Printing it, and splitting it into tVMM/tFW/tKernel, is
 * bootlab/'s (bootlab/boot_profile.c). */
#include "vmm/internal.h"

#include "common/common.h"

#include <errno.h>
#include <string.h>

static const char *const phase_names[VMM_PHASE_COUNT] = {
	"kvm_open", "vm_create", "memory", "kernel_load", "initrd_load", "boot_params",
	"vcpu_setup", "boot_wait", "host_misc",
};

static const char *const detail_names[VMM_DETAIL_COUNT] = {
	"snapshot_read", "kvm_fd_open", "kvm_create_vm", "vm_arch_setup", "devices",
	"guest_memory_mmap", "kvm_set_user_memory_region", "elf_load", "boot_params",
	"vcpu_creation", "cpuid_config", "msr_setup", "register_setup", "vcpu_threads",
	"memory_state_write", "vcpu_state_restore", "device_state_restore", "resume",
	"initrd_read", "initrd_write",
};

const char *vmm_phase_name(enum vmm_phase p)
{
	return (unsigned)p < VMM_PHASE_COUNT ? phase_names[p] : "?";
}

const char *vmm_detail_name(enum vmm_detail d)
{
	return (unsigned)d < VMM_DETAIL_COUNT ? detail_names[d] : "?";
}

bool vmm_profile_marker(struct vmm *vm, struct vmm_vcpu *vcpu, const struct vmm_marker *m)
{
	struct vmm_boot_profile *p = &vm->prof;
	uint64_t now = kp_now_ns();

	(void)vcpu;
	if (m->kind == VMM_MARK_LINE)
		return false;
	pthread_mutex_lock(&vm->prof_lock);
	if (m->kind == VMM_MARK_PORT80 && p->nport80 < VMM_PROFILE_MAX_PORT80) {
		p->port80[p->nport80].code = m->code;
		p->port80[p->nport80].host_ns = now - p->t0_ns;
		p->nport80++;
	} else if (m->kind == VMM_MARK_PORT80) {
		p->port80_dropped++;
	} else if (p->nstages < VMM_PROFILE_MAX_STAGES) {
		struct vmm_boot_stage *s = &p->stages[p->nstages++];

		snprintf(s->name, sizeof(s->name), "%s", m->stage);
		s->guest_ns = m->guest_ns;
		s->host_ns = now - p->t0_ns;
	}
	pthread_mutex_unlock(&vm->prof_lock);
	return false;
}

void vmm_get_boot_profile(struct vmm *vm, struct vmm_boot_profile *out)
{
	uint64_t start, end;

	pthread_mutex_lock(&vm->lock);
	start = vm->started ? vm->start_ns : 0;
	end = vm->end_ns ? vm->end_ns : kp_now_ns();
	pthread_mutex_unlock(&vm->lock);
	pthread_mutex_lock(&vm->prof_lock);
	*out = vm->prof;
	pthread_mutex_unlock(&vm->prof_lock);
	/* boot_wait: from vmm_start until the guest ended the run (or until now). */
	out->phase_ns[VMM_PHASE_BOOT_WAIT] = start ? end - start : 0;
	/* Boot lab: when the guest started and when the run ended (0: not yet), since t0. */
	out->start_ns = start ? start - out->t0_ns : 0;
	pthread_mutex_lock(&vm->lock);
	out->end_ns = vm->end_ns ? vm->end_ns - out->t0_ns : 0;
	pthread_mutex_unlock(&vm->lock);
}

void vmm_boot_profile_finish(struct vmm_boot_profile *p, uint64_t now_ns)
{
	uint64_t named = 0;

	p->total_ns = now_ns - p->t0_ns;
	for (int i = 0; i < VMM_PHASE_COUNT; i++)
		if (i != VMM_PHASE_HOST_MISC)
			named += p->phase_ns[i];
	p->phase_ns[VMM_PHASE_HOST_MISC] = p->total_ns > named ? p->total_ns - named : 0;
}
