/* Opening KVM, creating the VM with its in-kernel interrupt controllers, and guest RAM. */
#include "vmm/internal.h"

#include "common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

int vmm_kvm_open(struct vmm *vm, struct vmm_create_ctx *c)
{
	int ver;

	(void)c;
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		int err = errno;
		if (err == ENOENT)
			kp_error("/dev/kvm: not found (KVM is not available on this machine)");
		else if (err == EACCES || err == EPERM)
			kp_error("/dev/kvm: permission denied (add yourself to the kvm group)");
		else
			kp_error("/dev/kvm: %s", strerror(err));
		/* Distinct from a bad kernel file's -ENOENT/-EACCES: this is the host's problem. */
		return (err == EACCES || err == EPERM) ? -EPERM : -ENODEV;
	}
	ver = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION) {
		kp_error("/dev/kvm: API version %d, need %d", ver, KVM_API_VERSION);
		return -ENODEV;
	}
	/* The paravirtualized backend (kvm_pvm) runs guest CPL0 code in KVM's instruction
	 * emulator, which checks instruction breakpoints but not data breakpoints: watchpoints
	 * would be accepted and never fire. */
	vm->emulated_cpl0 = access("/sys/module/kvm_pvm", F_OK) == 0;
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT) <= 0) {
		kp_error("/dev/kvm: KVM_CAP_IMMEDIATE_EXIT missing (needed to stop vCPUs)");
		return -ENODEV;
	}
	return 0;
}

static int vm_ioctl(struct vmm *vm, unsigned long req, unsigned long arg, const char *what)
{
	if (ioctl(vm->vm_fd, req, arg) < 0) {
		int err = errno;
		kp_error("%s: %s", what, strerror(err));
		return -err;
	}
	return 0;
}

int vmm_kvm_create_vm(struct vmm *vm, struct vmm_create_ctx *c)
{
	int ret;

	(void)c;
	do {
		vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	} while (vm->vm_fd < 0 && errno == EINTR);
	if (vm->vm_fd < 0) {
		ret = -errno;
		kp_error("KVM_CREATE_VM: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

int vmm_vm_arch_setup(struct vmm *vm, struct vmm_create_ctx *c)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t ident = VMM_IDENTITY_MAP_ADDR;
	int ret;

	(void)c;
	/* VMX needs these two pages for real mode; they sit in the hole below 4 GiB, above RAM. */
	ret = vm_ioctl(vm, KVM_SET_TSS_ADDR, VMM_TSS_ADDR, "KVM_SET_TSS_ADDR");
	if (!ret)
		ret = vm_ioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, (unsigned long)&ident,
			       "KVM_SET_IDENTITY_MAP_ADDR");
	/* The in-kernel LAPICs must exist before the vCPUs: APs then wait for INIT/SIPI. */
	if (!ret)
		ret = vm_ioctl(vm, KVM_CREATE_IRQCHIP, 0, "KVM_CREATE_IRQCHIP");
	if (!ret)
		ret = vm_ioctl(vm, KVM_CREATE_PIT2, (unsigned long)&pit, "KVM_CREATE_PIT2");
	if (!ret) {
		int caps = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_GUEST_DEBUG2);
		vm->guest_debug_caps = caps > 0 ? (uint32_t)caps : 0;
	}
	return ret;
}

int vmm_memory_map(struct vmm *vm, struct vmm_create_ctx *c)
{
	void *p;

	(void)c;
	/* Anonymous and lazily backed: a large --mem costs nothing until the guest touches it. */
	p = mmap(NULL, vm->cfg.mem_size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		int err = errno;
		kp_error("guest memory (%llu MiB): %s", (unsigned long long)(vm->cfg.mem_size >> 20),
			 strerror(err));
		return -err;
	}
	vm->mem.base = p;
	vm->mem.size = vm->cfg.mem_size;
	return 0;
}

/* RAM is one slot at guest-physical 0, whether fresh (vmm_memory_map) or a snapshot's. */
int vmm_memory_region(struct vmm *vm, struct vmm_create_ctx *c)
{
	struct kvm_userspace_memory_region region;

	(void)c;
	memset(&region, 0, sizeof(region));
	region.slot = 0;
	region.guest_phys_addr = 0;
	region.memory_size = vm->mem.size;
	region.userspace_addr = (uintptr_t)vm->mem.base;
	return vm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, (unsigned long)&region,
			"KVM_SET_USER_MEMORY_REGION");
}
