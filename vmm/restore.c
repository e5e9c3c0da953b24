/* Resuming a VM from a snapshot: the steps of create.c's restore list that only a restore
 * has (snapshot_read, guest_memory_mmap, memory_state_write, vcpu_state_restore,
 * device_state_restore), and the resume, timed after vmm_start.  A bad file fails before any
 * vCPU runs, with one line naming it. */
#include "vmm/internal.h"
#include "vmm/snapshot_format.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
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

/* RAM reserved anonymously, then every saved extent of the file mapped privately over it:
 * no copy, the guest's writes go to private pages. */
int vmm_restore_map_memory(struct vmm *vm, struct vmm_create_ctx *c)
{
	const struct snap_view *v = c->snap;
	void *p;

	p = mmap(NULL, v->h.mem_size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return kp_fail(-errno, "guest memory (%llu MiB): %s",
			       (unsigned long long)(v->h.mem_size >> 20), strerror(errno));
	vm->mem.base = p;
	vm->mem.size = v->h.mem_size;
	vm->mem_from_file = true;
	for (uint32_t i = 0; i < v->h.nextents; i++) {
		const struct snap_extent *e = &v->ext[i];

		if (mmap(vm->mem.base + e->gpa, e->npages * SNAP_PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_FIXED, vm->restore_fd, (off_t)e->file_offset) == MAP_FAILED)
			return kp_fail(-errno, "%s: mapping it into guest memory: %s",
				       vm->cfg.restore_path, strerror(errno));
	}
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

/* Each vCPU's registers, MSRs, LAPIC, events and mp state. */
int vmm_restore_vcpus(struct vmm *vm, struct vmm_create_ctx *c)
{
	int ret = 0;

	for (unsigned i = 0; !ret && i < vm->ncpus; i++)
		ret = restore_vcpu(&vm->vcpus[i], c->snap);
	return ret;
}

/* KVM's devices (PIC, IOAPIC, PIT, clock), then each device on the bus that saved a record. */
int vmm_restore_devices(struct vmm *vm, struct vmm_create_ctx *c)
{
	const struct snap_view *v = c->snap;
	int ret = 0;

	for (int i = 0; !ret && i < 3; i++)
		ret = set(vm->vm_fd, KVM_SET_IRQCHIP, v->chip[i], "KVM_SET_IRQCHIP", i);
	if (!ret)
		ret = set(vm->vm_fd, KVM_SET_PIT2, v->pit, "KVM_SET_PIT2", 0);
	if (!ret && v->clock) {
		struct kvm_clock_data clock;

		memcpy(&clock, payload(v->clock), sizeof(clock));
		clock.flags = 0;	/* only the clock value is settable */
		if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &clock) < 0)
			ret = kp_fail(-errno, "restore: KVM_SET_CLOCK: %s", strerror(errno));
	}
	for (unsigned i = 0; !ret && i < vm->bus.ndev; i++) {
		const struct vmm_device *d = vm->bus.dev[i].d;
		const struct snap_record *r = d->snap_tag ? vmm_snap_find(v, d->snap_tag, 0) : NULL;

		if (r && d->restore) {
			ret = d->restore(vm->bus.dev[i].ctx, payload(r), r->size);
			if (ret)
				kp_error("restore: %s: %s", d->name, strerror(-ret));
		}
	}
	return ret;
}

/* The mapped extents checked against their CRCs, which also faults them in. */
int vmm_restore_check_memory(struct vmm *vm, struct vmm_create_ctx *c)
{
	const struct snap_view *v = c->snap;

	for (uint32_t i = 0; i < v->h.nextents; i++) {
		const struct snap_extent *e = &v->ext[i];

		if (vmm_snap_crc(0, vm->mem.base + e->gpa, e->npages * SNAP_PAGE) != e->crc)
			return kp_fail(-EINVAL, "%s: memory checksum mismatch at guest address 0x%llx "
				       "(corrupted snapshot)", vm->cfg.restore_path,
				       (unsigned long long)e->gpa);
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

/* The snapshot's header and state, checked; then the snapshot, not the command line, says what
 * the machine is.  The file stays open: its extents are mapped into guest RAM later. */
int vmm_restore_read(struct vmm *vm, struct vmm_create_ctx *c)
{
	const char *path = vm->cfg.restore_path;
	struct snap_view *v;
	int ret;

	vm->restore_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (vm->restore_fd < 0)
		return kp_fail(-errno, "%s: %s", path, strerror(errno));
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->snap = v;
	ret = read_snapshot(path, vm->restore_fd, v);
	if (ret) {
		if (ret != -EINVAL)
			kp_error("%s: %s", path, strerror(-ret));
		return ret;
	}
	vm->ncpus = vm->cfg.ncpus = v->h.ncpus;
	vm->cfg.mem_size = v->h.mem_size;
	snprintf(vm->kernel_path, sizeof(vm->kernel_path), "%.*s", (int)sizeof(v->cfg->kernel) - 1,
		 v->cfg->kernel);
	snprintf(vm->cmdline, sizeof(vm->cmdline), "%.*s", (int)sizeof(v->cfg->cmdline) - 1,
		 v->cfg->cmdline);
	vm->tsc_khz = v->cfg->tsc_khz;
	return 0;
}

void vmm_restore_view_free(struct snap_view *v)
{
	if (v)
		free(v->state);
	free(v);
}

void vmm_restore_release(struct vmm *vm)
{
	if (vm->restore_fd >= 0)
		close(vm->restore_fd);
	vm->restore_fd = -1;
}

void vmm_restore_started(struct vmm *vm)
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
