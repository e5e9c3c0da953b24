/* Saving a stopped VM to a snapshot file (format: vmm/snapshot_format.h, vmm/SNAPSHOT.md).
 *
 * Runs on the controller thread while every vCPU is parked outside KVM_RUN, with any I/O exit
 * already completed (vcpu.c re-enters KVM_RUN with immediate_exit before parking), so each
 * vCPU's state is that of an instruction boundary.
 *
 * Memory is saved sparsely by a scan, not with KVM's dirty log: pages the guest never touched
 * are neither present nor swapped in the anonymous RAM mapping (/proc/self/pagemap), and
 * touched pages that are all zero are dropped too.  A RAM that maps an earlier snapshot (a restored VM) is scanned whole,
 * since residency says nothing about file-backed pages.  Short zero gaps between saved pages
 * are kept, so a restore needs few mappings. */
#include "vmm/internal.h"
#include "vmm/snapshot_format.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define GAP_PAGES 8	/* zero pages kept inside an extent rather than starting a new one */
#define MAX_MSRS 1024

static int put_record(struct kp_buf *b, uint32_t tag, uint32_t index, const void *data,
		      size_t size)
{
	struct snap_record r = { .tag = tag, .index = index, .size = size };
	static const char pad[8];
	int ret = kp_buf_append(b, &r, sizeof(r));

	if (!ret)
		ret = kp_buf_append(b, data, size);
	if (!ret && size % 8)
		ret = kp_buf_append(b, pad, 8 - size % 8);
	return ret;
}

/* ioctl into a record; err names the call for the one-line message. */
static int get_put(struct kp_buf *b, int fd, unsigned long req, void *data, size_t size,
		   uint32_t tag, uint32_t index, const char *what)
{
	if (ioctl(fd, req, data) < 0) {
		int err = errno;
		kp_error("snapshot: %s (%u): %s", what, index, strerror(err));
		return -err;
	}
	return put_record(b, tag, index, data, size);
}

static int msr_list(struct vmm *vm, struct kvm_msr_list **out)
{
	struct kvm_msr_list probe = { .nmsrs = 0 };
	struct kvm_msr_list *l;

	if (ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return -errno;
	if (probe.nmsrs > MAX_MSRS)
		probe.nmsrs = MAX_MSRS;
	l = calloc(1, sizeof(*l) + probe.nmsrs * sizeof(uint32_t));
	if (!l)
		return -ENOMEM;
	l->nmsrs = probe.nmsrs;
	if (ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, l) < 0) {
		int err = errno;
		free(l);
		return -err;
	}
	*out = l;
	return 0;
}

/* Every MSR of KVM's save/restore list that this vCPU can read.  KVM_GET_MSRS stops at the
 * first MSR it refuses, so continue after it. */
static int save_msrs(struct kp_buf *b, struct vmm_vcpu *vcpu, const struct kvm_msr_list *l)
{
	size_t size = sizeof(struct kvm_msrs) + l->nmsrs * sizeof(struct kvm_msr_entry);
	struct kvm_msrs *m = calloc(1, size), *q = calloc(1, size);
	uint32_t kept = 0;
	int ret = -ENOMEM;

	if (!m || !q)
		goto out;
	for (uint32_t k = 0; k < l->nmsrs;) {
		uint32_t want = l->nmsrs - k;
		int n;

		q->nmsrs = want;
		for (uint32_t j = 0; j < want; j++)
			q->entries[j] = (struct kvm_msr_entry){ .index = l->indices[k + j] };
		n = ioctl(vcpu->fd, KVM_GET_MSRS, q);
		if (n < 0)
			n = 0;
		memcpy(&m->entries[kept], q->entries, (size_t)n * sizeof(struct kvm_msr_entry));
		kept += (uint32_t)n;
		k += (uint32_t)n + ((uint32_t)n < want ? 1 : 0);
	}
	m->nmsrs = kept;
	ret = put_record(b, SNAP_TAG_MSRS, (uint32_t)vcpu->id, m,
			 sizeof(*m) + kept * sizeof(struct kvm_msr_entry));
out:
	free(q);
	free(m);
	return ret;
}

static int save_vcpu(struct kp_buf *b, struct vmm *vm, struct vmm_vcpu *v,
		     const struct kvm_msr_list *msrs)
{
	uint32_t id = (uint32_t)v->id;
	struct kvm_mp_state mp;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xsave *xsave = NULL;
	struct kvm_fpu fpu;
	struct kvm_xcrs xcrs;
	struct kvm_debugregs dbg;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	int ret;

	ret = get_put(b, v->fd, KVM_GET_MP_STATE, &mp, sizeof(mp), SNAP_TAG_MP_STATE, id,
		      "KVM_GET_MP_STATE");
	if (!ret)
		ret = get_put(b, v->fd, KVM_GET_REGS, &regs, sizeof(regs), SNAP_TAG_REGS, id,
			      "KVM_GET_REGS");
	if (!ret)
		ret = get_put(b, v->fd, KVM_GET_SREGS, &sregs, sizeof(sregs), SNAP_TAG_SREGS, id,
			      "KVM_GET_SREGS");
	if (!ret && ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0) {
		xsave = calloc(1, sizeof(*xsave));
		ret = xsave ? get_put(b, v->fd, KVM_GET_XSAVE, xsave, sizeof(*xsave),
				      SNAP_TAG_XSAVE, id, "KVM_GET_XSAVE") : -ENOMEM;
		free(xsave);
	} else if (!ret) {
		ret = get_put(b, v->fd, KVM_GET_FPU, &fpu, sizeof(fpu), SNAP_TAG_FPU, id,
			      "KVM_GET_FPU");
	}
	if (!ret && ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0)
		ret = get_put(b, v->fd, KVM_GET_XCRS, &xcrs, sizeof(xcrs), SNAP_TAG_XCRS, id,
			      "KVM_GET_XCRS");
	if (!ret && ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_DEBUGREGS) > 0)
		ret = get_put(b, v->fd, KVM_GET_DEBUGREGS, &dbg, sizeof(dbg), SNAP_TAG_DEBUGREGS,
			      id, "KVM_GET_DEBUGREGS");
	if (!ret)
		ret = save_msrs(b, v, msrs);
	if (!ret)
		ret = get_put(b, v->fd, KVM_GET_LAPIC, &lapic, sizeof(lapic), SNAP_TAG_LAPIC, id,
			      "KVM_GET_LAPIC");
	if (!ret)
		ret = get_put(b, v->fd, KVM_GET_VCPU_EVENTS, &events, sizeof(events),
			      SNAP_TAG_EVENTS, id, "KVM_GET_VCPU_EVENTS");
	return ret;
}

static int save_vm_devices(struct kp_buf *b, struct vmm *vm, uint64_t run_ns)
{
	struct kvm_irqchip chip;
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
	struct snap_profile prof;
	int ret = 0;

	for (uint32_t id = 0; !ret && id < 3; id++) {
		memset(&chip, 0, sizeof(chip));
		chip.chip_id = id;
		ret = get_put(b, vm->vm_fd, KVM_GET_IRQCHIP, &chip, sizeof(chip), SNAP_TAG_IRQCHIP,
			      id, "KVM_GET_IRQCHIP");
	}
	if (!ret)
		ret = get_put(b, vm->vm_fd, KVM_GET_PIT2, &pit, sizeof(pit), SNAP_TAG_PIT, 0,
			      "KVM_GET_PIT2");
	if (!ret) {
		memset(&clock, 0, sizeof(clock));
		ret = get_put(b, vm->vm_fd, KVM_GET_CLOCK, &clock, sizeof(clock), SNAP_TAG_CLOCK,
			      0, "KVM_GET_CLOCK");
	}
	if (ret)
		return ret;

	/* Each device on the bus that keeps state, as its own record. */
	for (unsigned i = 0; !ret && i < vm->bus.ndev; i++) {
		const struct vmm_device *d = vm->bus.dev[i].d;
		struct kp_buf rec;

		if (!d->snap_tag || !d->save)
			continue;
		kp_buf_init(&rec);
		ret = d->save(vm->bus.dev[i].ctx, &rec);
		if (!ret)
			ret = put_record(b, d->snap_tag, 0, rec.data, rec.len);
		else
			kp_error("snapshot: %s: %s", d->name, strerror(-ret));
		kp_buf_release(&rec);
	}
	if (ret)
		return ret;

	memset(&prof, 0, sizeof(prof));
	prof.run_ns = run_ns;
	pthread_mutex_lock(&vm->prof_lock);
	prof.nstages = vm->prof.nstages;
	prof.nport80 = vm->prof.nport80 + vm->prof.port80_dropped;
	pthread_mutex_unlock(&vm->prof_lock);
	prof.trigger_port80 = vm->cfg.snapshot_on_port80 ? vm->cfg.snapshot_port80 : 0;
	prof.trigger_signal = (uint8_t)vm->cfg.snapshot_signal;
	return put_record(b, SNAP_TAG_PROFILE, 0, &prof, sizeof(prof));
}

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;

	for (size_t i = 0; i < SNAP_PAGE / 8; i++)
		if (w[i])
			return false;
	return true;
}

/* Which pages of an anonymous mapping the guest touched: present or swapped out, from
 * /proc/self/pagemap (bits 63 and 62; readable without privileges).  NULL when unavailable:
 * the caller then scans every page. */
static unsigned char *touched_pages(const uint8_t *base, uint64_t npages)
{
	unsigned char *touched = malloc(npages);
	uint64_t chunk[512];
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (!touched || fd < 0)
		goto fail;
	for (uint64_t pg = 0; pg < npages;) {
		uint64_t n = KP_MIN(npages - pg, (uint64_t)KP_ARRAY_SIZE(chunk));
		off_t off = (off_t)(((uintptr_t)base / SNAP_PAGE + pg) * sizeof(uint64_t));
		ssize_t r = pread(fd, chunk, n * sizeof(uint64_t), off);

		if (r != (ssize_t)(n * sizeof(uint64_t)))
			goto fail;
		for (uint64_t i = 0; i < n; i++)
			touched[pg + i] = (chunk[i] >> 62) != 0;
		pg += n;
	}
	close(fd);
	return touched;
fail:
	if (fd >= 0)
		close(fd);
	free(touched);
	return NULL;
}

/* Extents of pages worth saving; file offsets are assigned from mem_offset on. */
static int find_extents(struct vmm *vm, uint64_t mem_offset, struct snap_extent **out,
			uint32_t *count)
{
	uint64_t npages = vm->mem.size / SNAP_PAGE;
	unsigned char *resident = NULL;
	struct snap_extent *ext = NULL;
	uint32_t n = 0, cap = 0;
	uint64_t off = mem_offset, last = 0;
	bool open = false;

	if (!vm->mem_from_file)
		resident = touched_pages(vm->mem.base, npages);
	for (uint64_t pg = 0; pg < npages; pg++) {
		if (resident && !resident[pg])
			continue;
		if (page_is_zero(vm->mem.base + pg * SNAP_PAGE))
			continue;
		if (open && pg - last <= GAP_PAGES) {
			struct snap_extent *e = &ext[n - 1];

			off += (pg + 1 - (e->gpa / SNAP_PAGE + e->npages)) * SNAP_PAGE;
			e->npages = pg + 1 - e->gpa / SNAP_PAGE;
		} else {
			if (n == cap) {
				struct snap_extent *g;

				cap = cap ? cap * 2 : 64;
				g = realloc(ext, cap * sizeof(*ext));
				if (!g) {
					free(ext);
					free(resident);
					return -ENOMEM;
				}
				ext = g;
			}
			ext[n++] = (struct snap_extent){ .gpa = pg * SNAP_PAGE, .npages = 1,
							 .file_offset = off };
			off += SNAP_PAGE;
			open = true;
		}
		last = pg;
	}
	free(resident);
	for (uint32_t i = 0; i < n; i++)
		ext[i].crc = vmm_snap_crc(0, vm->mem.base + ext[i].gpa, ext[i].npages * SNAP_PAGE);
	*out = ext;
	*count = n;
	return 0;
}

static int write_all(int fd, const void *data, size_t len, uint64_t off)
{
	const char *p = data;

	while (len) {
		ssize_t w = pwrite(fd, p, len, (off_t)off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		p += w;
		len -= (size_t)w;
		off += (uint64_t)w;
	}
	return 0;
}

static int write_file(const char *path, const struct snap_header *h, const struct kp_buf *state,
		      const struct snap_extent *ext, uint32_t next, const uint8_t *mem)
{
	char tmp[4200];
	int fd, ret;

	/* Written beside the target and renamed over it: a reader never sees half a file. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	ret = write_all(fd, h, sizeof(*h), 0);
	if (!ret)
		ret = write_all(fd, state->data, state->len, h->state_offset);
	for (uint32_t i = 0; !ret && i < next; i++)
		ret = write_all(fd, mem + ext[i].gpa, ext[i].npages * SNAP_PAGE, ext[i].file_offset);
	if (!ret && ftruncate(fd, (off_t)h->file_size) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

int vmm_snapshot_save(struct vmm *vm, const char *path)
{
	uint64_t t = kp_now_ns();
	struct kvm_msr_list *msrs = NULL;
	struct snap_extent *ext = NULL;
	struct snap_config *cfg;
	struct snap_header h;
	struct kp_buf state;
	uint32_t next = 0;
	uint64_t saved = 0;
	int ret;

	if (!target_is_stopped(&vm->target)) {
		kp_error("%s: snapshot: the VM is running", path);
		return -EBUSY;
	}
	kp_buf_init(&state);
	cfg = calloc(1, sizeof(*cfg));
	ret = cfg ? msr_list(vm, &msrs) : -ENOMEM;
	if (ret) {
		kp_error("%s: snapshot: KVM_GET_MSR_INDEX_LIST: %s", path, strerror(-ret));
		goto out;
	}
	cfg->ncpus = vm->ncpus;
	cfg->tsc_khz = vm->tsc_khz;
	cfg->mem_size = vm->mem.size;
	snprintf(cfg->kernel, sizeof(cfg->kernel), "%s", vm->kernel_path);
	snprintf(cfg->cmdline, sizeof(cfg->cmdline), "%s", vm->cmdline);
	ret = put_record(&state, SNAP_TAG_CONFIG, 0, cfg, sizeof(*cfg));
	for (unsigned i = 0; !ret && i < vm->ncpus; i++)
		ret = save_vcpu(&state, vm, &vm->vcpus[i], msrs);
	if (!ret)
		ret = save_vm_devices(&state, vm, vm->start_ns ? t - vm->start_ns : 0);
	if (ret)
		goto out;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, SNAP_MAGIC, sizeof(h.magic));
	h.version = SNAP_VERSION;
	h.header_size = sizeof(h);
	h.state_offset = SNAP_HEADER_AREA;
	h.ncpus = vm->ncpus;
	h.mem_size = vm->mem.size;
	/* The extent table is part of the state, whose size must be known to place the pages:
	 * find the extents first with a provisional offset, then shift them. */
	ret = find_extents(vm, 0, &ext, &next);
	if (ret)
		goto out;
	{
		uint64_t state_size = state.len + sizeof(struct snap_record) +
				      ((next * sizeof(*ext) + 7) & ~7ull);

		h.mem_offset = (h.state_offset + state_size + SNAP_PAGE - 1) & ~(SNAP_PAGE - 1);
	}
	for (uint32_t i = 0; i < next; i++) {
		ext[i].file_offset += h.mem_offset;
		saved += ext[i].npages;
	}
	ret = put_record(&state, SNAP_TAG_EXTENTS, 0, ext, next * sizeof(*ext));
	if (ret)
		goto out;
	h.nextents = next;
	h.state_size = state.len;
	h.state_crc = vmm_snap_crc(0, state.data, state.len);
	h.file_size = next ? ext[next - 1].file_offset + ext[next - 1].npages * SNAP_PAGE :
			     h.mem_offset;
	h.header_crc = vmm_snap_crc(0, &h, sizeof(h));
	ret = write_file(path, &h, &state, ext, next, vm->mem.base);
	if (ret) {
		kp_error("%s: %s", path, strerror(-ret));
		goto out;
	}
	fprintf(stderr, "kprof: snapshot %s: %u vCPUs, %llu of %llu pages in %u extents, %.1f ms\n",
		path, vm->ncpus, (unsigned long long)saved,
		(unsigned long long)(vm->mem.size / SNAP_PAGE), next,
		(double)(kp_now_ns() - t) / 1e6);
out:
	free(ext);
	free(msrs);
	free(cfg);
	kp_buf_release(&state);
	return ret;
}
