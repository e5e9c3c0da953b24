/* Resuming a VM from a snapshot: vmm_create's path for --restore.
 *
 * Each step is one detail of the restore profile: snapshot_read (header and state checked),
 * kvm_fd_open, kvm_create_vm, vm_arch_setup, devices, guest_memory_mmap (RAM reserved
 * anonymously, then every saved extent of the file mapped privately over it: no copy, the
 * guest's writes go to private pages), kvm_set_user_memory_region, vcpu_creation,
 * cpuid_config, memory_state_write (the mapped extents checked against their CRCs, which also
 * faults them in), vcpu_state_restore, device_state_restore, vcpu_threads; resume is timed by
 * vmm_start.  A bad file fails before any vCPU runs, with one line naming it. */
#include "vmm/internal.h"
#include "vmm/snapshot_format.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int bad(const char *path, const char *what)
{
	kp_error("%s: %s", path, what);
	return -EINVAL;
}

static const void *payload(const struct snap_record *r)
{
	return r + 1;
}

/* Header, size and state checks (snapshot_read.c); then v->state holds the checked state. */
static int read_snapshot(const char *path, int fd, struct snap_view *v)
{
	struct stat st;
	uint8_t head[sizeof(struct snap_header)];
	char err[160];
	ssize_t n;

	memset(v, 0, sizeof(*v));
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return bad(path, "not a regular file");
	n = pread(fd, head, sizeof(head), 0);
	if (n < 0)
		return -errno;
	if (vmm_snap_check_header(head, (size_t)n, (uint64_t)st.st_size, &v->h, err, sizeof(err)))
		return bad(path, err);
	v->state = malloc(v->h.state_size ? v->h.state_size : 1);
	if (!v->state)
		return -ENOMEM;
	n = pread(fd, v->state, v->h.state_size, (off_t)v->h.state_offset);
	if (n < 0)
		return -errno;
	if ((uint64_t)n != v->h.state_size)
		return bad(path, "truncated snapshot (state section)");
	if (vmm_snap_index_state(v, err, sizeof(err)))
		return bad(path, err);
	return 0;
}

static int map_memory(struct vmm *vm, const struct snap_view *v, int fd, uint64_t *t)
{
	struct kvm_userspace_memory_region region;
	void *p;

	p = mmap(NULL, v->h.mem_size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	vm->mem.base = p;
	vm->mem.size = v->h.mem_size;
	vm->lab.mem_from_file = true;
	for (uint32_t i = 0; i < v->h.nextents; i++) {
		const struct snap_extent *e = &v->ext[i];

		if (mmap(vm->mem.base + e->gpa, e->npages * SNAP_PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_FIXED, fd, (off_t)e->file_offset) == MAP_FAILED)
			return -errno;
	}
	vmm_detail_mark(vm, VMM_DETAIL_MEM_MMAP, t);
	memset(&region, 0, sizeof(region));
	region.memory_size = vm->mem.size;
	region.userspace_addr = (uintptr_t)vm->mem.base;
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return -errno;
	vmm_detail_mark(vm, VMM_DETAIL_MEM_REGION, t);
	return 0;
}

static int create_vcpu(struct vmm *vm, int id)
{
	struct vmm_vcpu *vcpu = &vm->vcpus[id];
	int size;

	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
	if (vcpu->fd < 0)
		return -errno;
	size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size <= 0)
		return -EIO;
	vcpu->run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		vcpu->run = NULL;
		return -errno;
	}
	vcpu->run_size = (size_t)size;
	vcpu->action = TARGET_RESUME_CONTINUE;
	return 0;
}

static int set(int fd, unsigned long req, const struct snap_record *r, const char *what,
	       int index)
{
	if (!r)
		return 0;
	if (ioctl(fd, req, payload(r)) < 0) {
		int err = errno;
		kp_error("restore: %s (%d): %s", what, index, strerror(err));
		return -err;
	}
	return 0;
}

/* KVM_SET_MSRS stops at the first MSR it refuses: skip that one and go on. */
static int restore_msrs(struct vmm_vcpu *vcpu, const struct snap_record *r)
{
	const struct kvm_msrs *all = payload(r);
	size_t size = sizeof(struct kvm_msrs) + all->nmsrs * sizeof(struct kvm_msr_entry);
	struct kvm_msrs *q = malloc(size);

	if (!q)
		return -ENOMEM;
	for (uint32_t k = 0; k < all->nmsrs;) {
		uint32_t want = all->nmsrs - k;
		int n;

		q->nmsrs = want;
		q->pad = 0;
		memcpy(q->entries, &all->entries[k], want * sizeof(struct kvm_msr_entry));
		n = ioctl(vcpu->fd, KVM_SET_MSRS, q);
		if (n < 0)
			n = 0;
		if ((uint32_t)n < want)
			kp_debug("restore: cpu %d: KVM refused MSR 0x%x", vcpu->id,
				 all->entries[k + (uint32_t)n].index);
		k += (uint32_t)n + ((uint32_t)n < want ? 1 : 0);
	}
	free(q);
	return 0;
}

static int restore_vcpu(struct vmm_vcpu *vcpu, const struct snap_view *v)
{
	const struct snap_record *const *r = v->rec[vcpu->id];
#define REC(tag) r[(tag) - SNAP_TAG_REGS]
	struct kvm_vcpu_events ev;
	int fd = vcpu->fd, ret;

	/* Segment and control registers first (long mode, APIC base), then what depends on them;
	 * the LAPIC before the events and the mp state that refer to it. */
	ret = set(fd, KVM_SET_SREGS, REC(SNAP_TAG_SREGS), "KVM_SET_SREGS", vcpu->id);
	if (!ret)
		ret = set(fd, KVM_SET_REGS, REC(SNAP_TAG_REGS), "KVM_SET_REGS", vcpu->id);
	if (!ret)
		ret = set(fd, KVM_SET_XSAVE, REC(SNAP_TAG_XSAVE), "KVM_SET_XSAVE", vcpu->id);
	if (!ret)
		ret = set(fd, KVM_SET_FPU, REC(SNAP_TAG_FPU), "KVM_SET_FPU", vcpu->id);
	if (!ret)
		ret = set(fd, KVM_SET_XCRS, REC(SNAP_TAG_XCRS), "KVM_SET_XCRS", vcpu->id);
	if (!ret)
		ret = restore_msrs(vcpu, REC(SNAP_TAG_MSRS));
	if (!ret)
		ret = set(fd, KVM_SET_LAPIC, REC(SNAP_TAG_LAPIC), "KVM_SET_LAPIC", vcpu->id);
	if (!ret) {
		memcpy(&ev, payload(REC(SNAP_TAG_EVENTS)), sizeof(ev));
		ev.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
		if (ioctl(fd, KVM_SET_VCPU_EVENTS, &ev) < 0) {
			ret = -errno;
			kp_error("restore: KVM_SET_VCPU_EVENTS (%d): %s", vcpu->id, strerror(-ret));
		}
	}
	if (!ret)
		ret = set(fd, KVM_SET_MP_STATE, REC(SNAP_TAG_MP_STATE), "KVM_SET_MP_STATE",
			  vcpu->id);
	if (!ret)
		ret = set(fd, KVM_SET_DEBUGREGS, REC(SNAP_TAG_DEBUGREGS), "KVM_SET_DEBUGREGS",
			  vcpu->id);
	if (!ret)
		vcpu->mp_state = (int)((const struct kvm_mp_state *)
					       payload(REC(SNAP_TAG_MP_STATE)))->mp_state;
#undef REC
	return ret;
}

static int restore_devices(struct vmm *vm, const struct snap_view *v)
{
	int ret = 0;

	for (int i = 0; !ret && i < 3; i++)
		ret = set(vm->vm_fd, KVM_SET_IRQCHIP, v->chip[i], "KVM_SET_IRQCHIP", i);
	if (!ret)
		ret = set(vm->vm_fd, KVM_SET_PIT2, v->pit, "KVM_SET_PIT2", 0);
	if (!ret && v->clock) {
		struct kvm_clock_data c;

		memcpy(&c, payload(v->clock), sizeof(c));
		c.flags = 0;	/* only the clock value is settable */
		if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &c) < 0) {
			ret = -errno;
			kp_error("restore: KVM_SET_CLOCK: %s", strerror(-ret));
		}
	}
	if (!ret && v->serial) {
		struct vmm_serial *s = &vm->serial;
		const struct snap_serial *ss = v->serial;

		pthread_mutex_lock(&s->lock);
		s->ier = ss->ier;
		s->lcr = ss->lcr;
		s->mcr = ss->mcr;
		s->scr = ss->scr;
		s->fcr = ss->fcr;
		s->dll = ss->dll;
		s->dlm = ss->dlm;
		s->rbr = ss->rbr;
		s->rx_ready = ss->rx_ready;
		s->linelen = KP_MIN(ss->linelen, sizeof(s->line) - 1);
		memcpy(s->line, ss->line, s->linelen);
		pthread_mutex_unlock(&s->lock);
	}
	return ret;
}

static int check_memory(struct vmm *vm, const char *path, const struct snap_view *v)
{
	for (uint32_t i = 0; i < v->h.nextents; i++) {
		const struct snap_extent *e = &v->ext[i];

		if (vmm_snap_crc(0, vm->mem.base + e->gpa, e->npages * SNAP_PAGE) != e->crc) {
			kp_error("%s: memory checksum mismatch at guest address 0x%llx "
				 "(corrupted snapshot)", path, (unsigned long long)e->gpa);
			return -EINVAL;
		}
	}
	return 0;
}

int vmm_snapshot_kernel(const char *path, char *buf, size_t len)
{
	struct snap_view v;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		kp_error("%s: %s", path, strerror(-ret));
		return ret;
	}
	ret = read_snapshot(path, fd, &v);
	if (ret && ret != -EINVAL)
		kp_error("%s: %s", path, strerror(-ret));
	if (!ret)
		snprintf(buf, len, "%.*s", (int)sizeof(v.cfg->kernel) - 1, v.cfg->kernel);
	free(v.state);
	close(fd);
	return ret;
}

/* KVM failures are host problems (exit status 3); file problems are the user's (2). */
static int kvm_failed(const char *what, int ret)
{
	if (ret != -ENOMEM)
		kp_error("restore: %s: %s", what, strerror(-ret));
	return ret == -ENOMEM ? ret : -EIO;
}

int vmm_restore_create(struct vmm *vm)
{
	const char *path = vm->cfg.restore_path;
	struct snap_view v;
	uint64_t t = kp_now_ns(), t_phase;
	int fd, ret;

	memset(&v, 0, sizeof(v));
	vm->prof.restored = true;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		kp_error("%s: %s", path, strerror(-ret));
		return ret;
	}
	vm->lab.restore_fd = fd;
	ret = read_snapshot(path, fd, &v);
	if (ret) {
		if (ret != -EINVAL)
			kp_error("%s: %s", path, strerror(-ret));
		goto out;
	}
	/* The snapshot, not the command line, says what the machine is. */
	vm->ncpus = vm->cfg.ncpus = v.h.ncpus;
	vm->cfg.mem_size = v.h.mem_size;
	snprintf(vm->kernel_path, sizeof(vm->kernel_path), "%.*s", (int)sizeof(v.cfg->kernel) - 1,
		 v.cfg->kernel);
	snprintf(vm->cmdline, sizeof(vm->cmdline), "%.*s", (int)sizeof(v.cfg->cmdline) - 1,
		 v.cfg->cmdline);
	vm->tsc_khz = v.cfg->tsc_khz;
	vmm_detail_mark(vm, VMM_DETAIL_SNAPSHOT_READ, &t);
	t_phase = t;

	ret = vmm_kvm_open(vm);
	if (ret)
		goto out;
	vmm_detail_mark(vm, VMM_DETAIL_KVM_OPEN, &t);
	ret = vmm_kvm_create_vm(vm);	/* marks kvm_create_vm and vm_arch_setup itself */
	if (ret) {
		ret = kvm_failed("creating the VM", ret);
		goto out;
	}
	t = kp_now_ns();
	ret = vmm_serial_init(vm, vm->cfg.serial_path);
	if (!ret)
		ret = vmm_debugport_init(vm);
	if (ret)
		goto out;
	vmm_detail_mark(vm, VMM_DETAIL_DEVICES, &t);
	ret = map_memory(vm, &v, fd, &t);
	if (ret) {
		ret = kvm_failed("guest memory", ret);
		goto out;
	}
	for (unsigned i = 0; !ret && i < vm->ncpus; i++)
		ret = create_vcpu(vm, (int)i);
	if (ret) {
		ret = kvm_failed("KVM_CREATE_VCPU", ret);
		goto out;
	}
	vmm_detail_mark(vm, VMM_DETAIL_VCPU_CREATE, &t);
	ret = vmm_cpuid_init(vm);
	for (unsigned i = 0; !ret && i < vm->ncpus; i++)
		ret = vmm_vcpu_set_cpuid(vm, &vm->vcpus[i]);
	if (ret) {
		ret = kvm_failed("CPUID", ret);
		goto out;
	}
	vmm_detail_mark(vm, VMM_DETAIL_CPUID, &t);
	ret = check_memory(vm, path, &v);
	if (ret)
		goto out;
	vmm_detail_mark(vm, VMM_DETAIL_MEMORY_STATE, &t);
	for (unsigned i = 0; !ret && i < vm->ncpus; i++)
		ret = restore_vcpu(&vm->vcpus[i], &v);
	if (ret) {
		ret = -EIO;
		goto out;
	}
	vmm_detail_mark(vm, VMM_DETAIL_VCPU_STATE, &t);
	ret = restore_devices(vm, &v);
	if (ret) {
		ret = -EIO;
		goto out;
	}
	vmm_detail_mark(vm, VMM_DETAIL_DEVICE_STATE, &t);
	ret = vmm_vcpus_start_threads(vm);
	if (!ret)
		ret = vmm_stop_all(vm);
	if (ret) {
		ret = kvm_failed("vCPU threads", ret);
		goto out;
	}
	vmm_detail_mark(vm, VMM_DETAIL_VCPU_THREADS, &t);
	/* The host phases, for readers of the plain boot profile. */
	vm->prof.phase_ns[VMM_PHASE_KVM_OPEN] = vm->prof.detail_ns[VMM_DETAIL_KVM_OPEN];
	vm->prof.phase_ns[VMM_PHASE_VM_CREATE] = vm->prof.detail_ns[VMM_DETAIL_KVM_CREATE_VM] +
						 vm->prof.detail_ns[VMM_DETAIL_VM_ARCH_SETUP] +
						 vm->prof.detail_ns[VMM_DETAIL_DEVICES];
	vm->prof.phase_ns[VMM_PHASE_MEMORY] = vm->prof.detail_ns[VMM_DETAIL_MEM_MMAP] +
					      vm->prof.detail_ns[VMM_DETAIL_MEM_REGION] +
					      vm->prof.detail_ns[VMM_DETAIL_MEMORY_STATE];
	vm->prof.phase_ns[VMM_PHASE_VCPU_SETUP] = t - t_phase - vm->prof.phase_ns[VMM_PHASE_KVM_OPEN] -
						  vm->prof.phase_ns[VMM_PHASE_VM_CREATE] -
						  vm->prof.phase_ns[VMM_PHASE_MEMORY];
out:
	free(v.state);
	return ret;
}
