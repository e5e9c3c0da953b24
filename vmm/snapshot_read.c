/* Checking a snapshot file's header and state (format: vmm/snapshot_format.h).  Pure: no KVM
 * calls, no I/O, messages into a buffer, so a fuzzer can drive it (tests/fuzz/fuzz_snapshot.c).
 * The KVM structure sizes the records must have come from linux/kvm.h. */
#include "vmm/snapshot_format.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/common.h"
#include "vmm/vmm.h"

_Static_assert(SNAP_MAX_CPUS == VMM_MAX_CPUS, "a snapshot holds as many vCPUs as a VM");

uint32_t vmm_snap_crc(uint32_t crc, const void *data, size_t len)
{
	return kp_crc32(crc, data, len);
}

static int fail(char *err, size_t len, const char *what)
{
	snprintf(err, len, "%s", what);
	return -EINVAL;
}

int vmm_snap_check_header(const void *buf, size_t n, uint64_t file_size, struct snap_header *h,
			  char *err, size_t errlen)
{
	uint32_t crc;

	memset(h, 0, sizeof(*h));
	memcpy(h, buf, n < sizeof(*h) ? n : sizeof(*h));
	if (n < sizeof(h->magic) || memcmp(h->magic, SNAP_MAGIC, sizeof(h->magic)))
		return fail(err, errlen, "not a kprof snapshot (bad magic)");
	/* The version before anything else: another version may lay the header out otherwise. */
	if (n >= sizeof(h->magic) + sizeof(h->version) && h->version != SNAP_VERSION) {
		snprintf(err, errlen, "snapshot format version %u; this kprof reads version %u",
			 h->version, SNAP_VERSION);
		return -EINVAL;
	}
	if (n < sizeof(*h))
		return fail(err, errlen, "truncated snapshot (shorter than its header)");
	crc = h->header_crc;
	h->header_crc = 0;
	if (vmm_snap_crc(0, h, sizeof(*h)) != crc || h->header_size != sizeof(*h))
		return fail(err, errlen, "header checksum mismatch (corrupted snapshot)");
	h->header_crc = crc;
	if (file_size < h->file_size) {
		snprintf(err, errlen, "truncated snapshot (%llu of %llu bytes)",
			 (unsigned long long)file_size, (unsigned long long)h->file_size);
		return -EINVAL;
	}
	if (file_size > h->file_size)
		return fail(err, errlen, "snapshot has trailing bytes after its end");
	if (h->ncpus < 1 || h->ncpus > SNAP_MAX_CPUS || h->mem_size < VMM_MIN_MEM ||
	    h->mem_size > VMM_MAX_MEM || h->mem_size % SNAP_PAGE ||
	    h->state_offset < sizeof(*h) || h->state_size > h->file_size ||
	    h->state_offset > h->file_size - h->state_size || h->mem_offset % SNAP_PAGE ||
	    h->mem_offset > h->file_size)
		return fail(err, errlen, "header fields out of range");
	return 0;
}

static const void *payload(const struct snap_record *r)
{
	return r + 1;
}

static const struct { uint32_t tag; size_t size; } record_sizes[] = {
	{ SNAP_TAG_CONFIG, sizeof(struct snap_config) },
	{ SNAP_TAG_REGS, sizeof(struct kvm_regs) },
	{ SNAP_TAG_SREGS, sizeof(struct kvm_sregs) },
	{ SNAP_TAG_XSAVE, sizeof(struct kvm_xsave) },
	{ SNAP_TAG_FPU, sizeof(struct kvm_fpu) },
	{ SNAP_TAG_XCRS, sizeof(struct kvm_xcrs) },
	{ SNAP_TAG_DEBUGREGS, sizeof(struct kvm_debugregs) },
	{ SNAP_TAG_LAPIC, sizeof(struct kvm_lapic_state) },
	{ SNAP_TAG_EVENTS, sizeof(struct kvm_vcpu_events) },
	{ SNAP_TAG_MP_STATE, sizeof(struct kvm_mp_state) },
	{ SNAP_TAG_IRQCHIP, sizeof(struct kvm_irqchip) },
	{ SNAP_TAG_PIT, sizeof(struct kvm_pit_state2) },
	{ SNAP_TAG_CLOCK, sizeof(struct kvm_clock_data) },
	{ SNAP_TAG_SERIAL, sizeof(struct snap_serial) },
	{ SNAP_TAG_PROFILE, sizeof(struct snap_profile) },
};

static int index_record(struct snap_view *v, const struct snap_record *r, char *err,
			size_t errlen)
{
	for (size_t i = 0; i < sizeof(record_sizes) / sizeof(record_sizes[0]); i++)
		if (record_sizes[i].tag == r->tag && record_sizes[i].size != r->size &&
		    !(r->tag == SNAP_TAG_SERIAL && r->size == SNAP_SERIAL_V1_SIZE))
			return fail(err, errlen, "state record of the wrong size (another KVM ABI?)");
	switch (r->tag) {
	case SNAP_TAG_CONFIG:
		v->cfg = payload(r);
		break;
	case SNAP_TAG_EXTENTS:
		if (r->size != (uint64_t)v->h.nextents * sizeof(struct snap_extent))
			return fail(err, errlen, "extent table does not match the header");
		v->ext = payload(r);
		break;
	case SNAP_TAG_REGS ... SNAP_TAG_MP_STATE:
		if (r->index >= v->h.ncpus)
			return fail(err, errlen, "vCPU record for a vCPU the snapshot does not have");
		if (r->tag == SNAP_TAG_MSRS) {
			const struct kvm_msrs *m = payload(r);

			if (r->size < sizeof(*m) ||
			    r->size != sizeof(*m) + (uint64_t)m->nmsrs * sizeof(struct kvm_msr_entry))
				return fail(err, errlen, "MSR record of the wrong size");
		}
		v->rec[r->index][r->tag - SNAP_TAG_REGS] = r;
		break;
	case SNAP_TAG_IRQCHIP:
		if (r->index >= 3)
			return fail(err, errlen, "irqchip record with a bad chip id");
		v->chip[r->index] = r;
		break;
	case SNAP_TAG_PIT:
		v->pit = r;
		break;
	case SNAP_TAG_CLOCK:
		v->clock = r;
		break;
	default:	/* devices' records (vmm_snap_find), the profile counters, and records a
			 * later minor addition may bring */
		break;
	}
	return 0;
}

static bool optional_vcpu_tag(int tag)
{
	return tag == SNAP_TAG_XSAVE || tag == SNAP_TAG_FPU || tag == SNAP_TAG_XCRS ||
	       tag == SNAP_TAG_DEBUGREGS;
}

int vmm_snap_index_state(struct snap_view *v, char *err, size_t errlen)
{
	uint64_t off = 0;
	int ret;

	if (vmm_snap_crc(0, v->state, v->h.state_size) != v->h.state_crc)
		return fail(err, errlen, "state checksum mismatch (corrupted snapshot)");
	/* Records are 8-byte aligned within a malloc'd (16-aligned) buffer. */
	while (off < v->h.state_size) {
		const struct snap_record *r = (const void *)(v->state + off);

		if (off % 8 || v->h.state_size - off < sizeof(*r) ||
		    r->size > v->h.state_size - off - sizeof(*r))
			return fail(err, errlen, "state record runs past the state section");
		ret = index_record(v, r, err, errlen);
		if (ret)
			return ret;
		off += sizeof(*r) + ((r->size + 7) & ~7ull);
	}
	if (!v->cfg || (!v->ext && v->h.nextents))
		return fail(err, errlen, "state lacks the configuration or the extent table");
	if (v->cfg->ncpus != v->h.ncpus || v->cfg->mem_size != v->h.mem_size)
		return fail(err, errlen, "configuration record does not match the header");
	for (uint32_t c = 0; c < v->h.ncpus; c++)
		for (int t = SNAP_TAG_REGS; t <= SNAP_TAG_MP_STATE; t++)
			if (!v->rec[c][t - SNAP_TAG_REGS] && !optional_vcpu_tag(t))
				return fail(err, errlen, "a vCPU's state is incomplete");
	for (uint32_t i = 0; i < v->h.nextents; i++) {
		const struct snap_extent *e = &v->ext[i];

		if (e->gpa % SNAP_PAGE || e->file_offset % SNAP_PAGE || !e->npages ||
		    e->npages > v->h.mem_size / SNAP_PAGE ||
		    e->gpa > v->h.mem_size - e->npages * SNAP_PAGE ||
		    e->file_offset < v->h.mem_offset ||
		    e->npages > v->h.file_size / SNAP_PAGE ||
		    e->file_offset > v->h.file_size - e->npages * SNAP_PAGE)
			return fail(err, errlen, "memory extent outside guest RAM or the file");
	}
	return 0;
}

const struct snap_record *vmm_snap_find(const struct snap_view *v, uint32_t tag, uint32_t index)
{
	/* Walks a state vmm_snap_index_state has checked, so every record is in bounds. */
	for (uint64_t off = 0; off < v->h.state_size;) {
		const struct snap_record *r = (const void *)(v->state + off);

		if (r->tag == tag && r->index == index)
			return r;
		off += sizeof(*r) + ((r->size + 7) & ~7ull);
	}
	return NULL;
}
