/* Creating a VM: one ordered list of steps for a cold boot and one for a restore from a
 * snapshot, run by one loop that times each step and maps its errors (kvmtool's init levels,
 * as a table).
 *
 * Each step is one detail row of the boot profile and adds its time to one host phase; the
 * per-vCPU steps loop over the vCPUs, so their detail is summed over them.  Errors: a step on
 * the user's input (kernel file, --serial, snapshot file, /dev/kvm itself) keeps its errno,
 * which vmm_error_exit_status maps to 2 or 3; a KVM call's failure is a host problem whatever
 * errno it carries (-EIO, status 3), except -ENOMEM.  Every step prints its own one line. */
#include "vmm/internal.h"

#include "common/common.h"

#include <errno.h>

enum step_errors {
	KEEP_ERRNO,	/* the user's input: the errno says what is wrong with it */
	HOST_ERROR,	/* KVM's failure: -EIO, or -ENOMEM */
};

/* Phase COUNT: timed, but outside the host phases (host_misc).  Detail COUNT: not timed. */
#define NO_PHASE VMM_PHASE_COUNT
#define NO_DETAIL VMM_DETAIL_COUNT

struct vmm_step {
	enum vmm_phase phase;
	enum vmm_detail detail;
	vmm_step_fn *fn;
	enum step_errors errors;
};

/* Devices after the kernel checks, so a bad kernel does not truncate the --serial file. */
static int create_devices(struct vmm *vm, struct vmm_create_ctx *c)
{
	int ret = vmm_serial_init(vm, vm->cfg.serial_path);

	(void)c;
	return ret ? ret : vmm_debugport_init(vm);
}

static int create_vcpus(struct vmm *vm, struct vmm_create_ctx *c)
{
	int ret = 0;

	(void)c;
	for (unsigned i = 0; !ret && i < vm->ncpus; i++)
		ret = vmm_vcpu_create(vm, (int)i);
	return ret;
}

static int supported_cpuid(struct vmm *vm, struct vmm_create_ctx *c)
{
	(void)c;
	return vmm_cpuid_init(vm);
}

static int set_cpuid(struct vmm *vm, struct vmm_create_ctx *c)
{
	int ret = 0;

	(void)c;
	for (unsigned i = 0; !ret && i < vm->ncpus; i++)
		ret = vmm_vcpu_set_cpuid(vm, &vm->vcpus[i]);
	return ret;
}

static int set_msrs(struct vmm *vm, struct vmm_create_ctx *c)
{
	int ret = 0;

	(void)c;
	for (unsigned i = 0; !ret && i < vm->ncpus; i++)
		ret = vmm_vcpu_set_msrs(&vm->vcpus[i]);
	return ret;
}

static int set_boot_regs(struct vmm *vm, struct vmm_create_ctx *c)
{
	int ret = 0;

	for (unsigned i = 0; !ret && i < vm->ncpus; i++)
		ret = vmm_vcpu_set_boot_regs(&vm->vcpus[i], c->entry);
	return ret;
}

/* The threads park at once; wait for that so the VM is a stopped target from here on. */
static int start_threads(struct vmm *vm, struct vmm_create_ctx *c)
{
	int ret = vmm_vcpus_start_threads(vm);

	(void)c;
	return ret ? ret : vmm_stop_all(vm);
}

#define STEP(name, phase, detail, fn, errors) \
	static const struct vmm_step name = { VMM_PHASE_##phase, VMM_DETAIL_##detail, fn, errors }

STEP(snapshot_options, COUNT, COUNT, vmm_trigger_init, KEEP_ERRNO);	/* not timed */
STEP(kvm_open, KVM_OPEN, KVM_OPEN, vmm_kvm_open, KEEP_ERRNO);
STEP(kvm_create_vm, VM_CREATE, KVM_CREATE_VM, vmm_kvm_create_vm, HOST_ERROR);
STEP(vm_arch_setup, VM_CREATE, VM_ARCH_SETUP, vmm_vm_arch_setup, HOST_ERROR);
STEP(memory_map, MEMORY, MEM_MMAP, vmm_memory_map, HOST_ERROR);
STEP(memory_region, MEMORY, MEM_REGION, vmm_memory_region, HOST_ERROR);
STEP(kernel_load, KERNEL_LOAD, ELF_LOAD, vmm_load_kernel, KEEP_ERRNO);
STEP(initrd_read, INITRD_LOAD, INITRD_READ, vmm_initrd_read, KEEP_ERRNO);
STEP(initrd_write, INITRD_LOAD, INITRD_WRITE, vmm_initrd_write, KEEP_ERRNO);
STEP(boot_params, BOOT_PARAMS, BOOT_PARAMS, vmm_write_boot_params, KEEP_ERRNO);
STEP(devices, BOOT_PARAMS, DEVICES, create_devices, KEEP_ERRNO);
STEP(cpuid_supported, VCPU_SETUP, CPUID, supported_cpuid, HOST_ERROR);
STEP(cpu_template, VCPU_SETUP, CPUID, vmm_cpu_template, KEEP_ERRNO);	/* --cpu */
STEP(vcpu_create, VCPU_SETUP, VCPU_CREATE, create_vcpus, HOST_ERROR);
STEP(vcpu_cpuid, VCPU_SETUP, CPUID, set_cpuid, HOST_ERROR);
STEP(vcpu_msrs, VCPU_SETUP, MSRS, set_msrs, HOST_ERROR);
STEP(vcpu_boot_regs, VCPU_SETUP, REGS, set_boot_regs, HOST_ERROR);
STEP(vcpu_threads, VCPU_SETUP, VCPU_THREADS, start_threads, HOST_ERROR);
/* Only a restore's: the snapshot replaces the kernel, the boot parameters and the boot
 * registers, and brings the state of memory, vCPUs and devices.  A restore's devices count
 * as VM creation (nothing is loaded before them). */
STEP(snapshot_read, COUNT, SNAPSHOT_READ, vmm_restore_read, KEEP_ERRNO);
STEP(restore_devices_create, VM_CREATE, DEVICES, create_devices, KEEP_ERRNO);
STEP(snapshot_map, MEMORY, MEM_MMAP, vmm_restore_map_memory, HOST_ERROR);
STEP(memory_state, MEMORY, MEMORY_STATE, vmm_restore_check_memory, KEEP_ERRNO);
STEP(vcpu_state, VCPU_SETUP, VCPU_STATE, vmm_restore_vcpus, HOST_ERROR);
STEP(device_state, VCPU_SETUP, DEVICE_STATE, vmm_restore_devices, HOST_ERROR);

static const struct vmm_step *const cold_boot[] = {
	&snapshot_options, &kvm_open, &kvm_create_vm, &vm_arch_setup, &memory_map, &memory_region,
	&kernel_load, &initrd_read, &initrd_write, &boot_params, &devices, &cpuid_supported,
	&cpu_template, &vcpu_create, &vcpu_cpuid,
	&vcpu_msrs, &vcpu_boot_regs, &vcpu_threads,
};

static const struct vmm_step *const restore[] = {
	&snapshot_options, &snapshot_read, &kvm_open, &kvm_create_vm, &vm_arch_setup,
	&restore_devices_create, &snapshot_map, &memory_region, &vcpu_create, &cpuid_supported,
	&cpu_template, &vcpu_cpuid, &memory_state, &vcpu_state, &device_state, &vcpu_threads,
};

static int run_steps(struct vmm *vm, const struct vmm_step *const *steps, size_t n,
		     struct vmm_create_ctx *c)
{
	/* vmm_create runs before any vCPU thread, so the profile needs no lock here. */
	struct vmm_boot_profile *p = &vm->prof;
	uint64_t t = kp_now_ns();

	for (size_t i = 0; i < n; i++) {
		const struct vmm_step *s = steps[i];
		int ret = s->fn(vm, c);
		uint64_t now = kp_now_ns();

		if (s->detail != NO_DETAIL)
			p->detail_ns[s->detail] += now - t;
		if (s->phase != NO_PHASE && s->detail != NO_DETAIL)
			p->phase_ns[s->phase] += now - t;
		t = now;
		if (ret && s->errors == HOST_ERROR)
			return ret == -ENOMEM ? ret : -EIO;
		if (ret)
			return ret;
	}
	return 0;
}

int vmm_create_steps(struct vmm *vm)
{
	struct vmm_create_ctx c = { 0 };
	int ret;

	if (!vm->cfg.restore_path)
		return run_steps(vm, cold_boot, KP_ARRAY_SIZE(cold_boot), &c);
	vm->prof.restored = true;
	ret = run_steps(vm, restore, KP_ARRAY_SIZE(restore), &c);
	vmm_restore_view_free(c.snap);	/* the state is applied; RAM keeps the file mapped */
	return ret;
}
