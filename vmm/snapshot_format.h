/* vmm internal: the on-disk layout of a kprof VM snapshot, version 1 (described for users in
 * vmm/SNAPSHOT.md).  Little-endian, x86-64 only; KVM structures are stored as linux/kvm.h lays
 * them out (a stable ABI).
 *
 *   offset 0        struct snap_header, zero-padded to 4096 bytes
 *   state_offset    the state: records (struct snap_record + payload, 8-byte aligned)
 *   mem_offset      guest memory extents, each a page-aligned run of whole pages, so a restore
 *                   maps them privately (MAP_PRIVATE) straight into guest RAM
 *
 * Checksums (CRC-32, the zlib/IEEE polynomial): the header over itself (header_crc taken as 0),
 * the whole state section, and each memory extent (in its extent record). */
#ifndef KPROF_VMM_SNAPSHOT_FORMAT_H
#define KPROF_VMM_SNAPSHOT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define SNAP_MAGIC "KPROFSNP"
#define SNAP_VERSION 1u
#define SNAP_PAGE 4096ull
#define SNAP_HEADER_AREA 4096ull

struct snap_header {
	char magic[8];		/* "KPROFSNP" */
	uint32_t version;	/* SNAP_VERSION */
	uint32_t header_size;	/* sizeof(struct snap_header) */
	uint64_t file_size;	/* the whole file: a shorter file is truncated */
	uint64_t state_offset;
	uint64_t state_size;
	uint64_t mem_offset;
	uint64_t mem_size;	/* guest RAM size */
	uint32_t ncpus;
	uint32_t state_crc;
	uint32_t nextents;
	uint32_t header_crc;
};

struct snap_record {
	uint32_t tag;		/* enum snap_tag */
	uint32_t index;		/* vCPU number, or irqchip id; 0 otherwise */
	uint64_t size;		/* payload bytes (the next record starts 8-byte aligned) */
};

enum snap_tag {
	SNAP_TAG_CONFIG = 1,		/* struct snap_config */
	SNAP_TAG_EXTENTS = 2,		/* struct snap_extent[nextents] */
	SNAP_TAG_REGS = 0x10,		/* struct kvm_regs */
	SNAP_TAG_SREGS = 0x11,		/* struct kvm_sregs */
	SNAP_TAG_XSAVE = 0x12,		/* struct kvm_xsave (when KVM has KVM_CAP_XSAVE) */
	SNAP_TAG_FPU = 0x13,		/* struct kvm_fpu (otherwise) */
	SNAP_TAG_XCRS = 0x14,		/* struct kvm_xcrs */
	SNAP_TAG_DEBUGREGS = 0x15,	/* struct kvm_debugregs */
	SNAP_TAG_MSRS = 0x16,		/* uint32_t n, uint32_t 0, struct kvm_msr_entry[n] */
	SNAP_TAG_LAPIC = 0x17,		/* struct kvm_lapic_state */
	SNAP_TAG_EVENTS = 0x18,		/* struct kvm_vcpu_events */
	SNAP_TAG_MP_STATE = 0x19,	/* struct kvm_mp_state */
	SNAP_TAG_IRQCHIP = 0x20,	/* struct kvm_irqchip; index 0 PIC master, 1 slave, 2 IOAPIC */
	SNAP_TAG_PIT = 0x21,		/* struct kvm_pit_state2 */
	SNAP_TAG_CLOCK = 0x22,		/* struct kvm_clock_data */
	SNAP_TAG_SERIAL = 0x30,		/* struct snap_serial */
	SNAP_TAG_PROFILE = 0x31,	/* struct snap_profile */
};

struct snap_config {
	uint32_t ncpus;
	uint32_t tsc_khz;
	uint64_t mem_size;
	char kernel[4096];		/* the ELF it was booted from (symbols for collect) */
	char cmdline[2048];
};

struct snap_extent {
	uint64_t gpa;			/* guest-physical address, page-aligned */
	uint64_t npages;
	uint64_t file_offset;		/* page-aligned */
	uint32_t crc;			/* CRC-32 of the extent's bytes */
	uint32_t reserved;
};

struct snap_serial {
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm, rbr;
	uint8_t rx_ready;		/* rbr is the receive FIFO's next byte */
	uint8_t reserved[3];		/* [0] bit 0: a THR-empty interrupt is pending */
	uint32_t linelen;		/* the output line in progress (for BOOT_TIME: parsing) */
	char line[256];
	/* Since the console: the whole receive FIFO (rx[0] is rbr then) and a pending overrun.
	 * A record of the first size (SNAP_SERIAL_V1_SIZE) ends at line and keeps one byte. */
	uint8_t rx_count;		/* 0 to 16 */
	uint8_t lsr_err;		/* LSR's overrun bit, until LSR is read */
	uint8_t reserved2[6];
	uint8_t rx[16];
};
#define SNAP_SERIAL_V1_SIZE 272u

struct snap_profile {
	uint64_t run_ns;		/* host time from vmm_start to the snapshot */
	uint32_t nstages;		/* BOOT_TIME lines and port-0x80 writes seen before it */
	uint32_t nport80;
	uint8_t trigger_port80;		/* the code that triggered it, or 0 */
	uint8_t trigger_signal;		/* the signal that triggered it, or 0 */
	uint8_t reserved[6];
};

_Static_assert(sizeof(struct snap_header) == 72, "header layout of format version 1");
_Static_assert(sizeof(struct snap_serial) == 296, "serial record of format version 1");
_Static_assert(offsetof(struct snap_serial, rx_count) == SNAP_SERIAL_V1_SIZE, "first serial record");
_Static_assert(sizeof(struct snap_profile) == 24, "profile record of format version 1");
_Static_assert(sizeof(struct snap_extent) == 32, "extent record of format version 1");

/* A checked snapshot's header and state, indexed (vmm/snapshot_read.c).  Record pointers
 * point into state. */
#define SNAP_VCPU_TAGS (SNAP_TAG_MP_STATE - SNAP_TAG_REGS + 1)
#define SNAP_MAX_CPUS 16
struct snap_view {
	struct snap_header h;
	char *state;
	const struct snap_config *cfg;
	const struct snap_extent *ext;
	const struct snap_record *rec[SNAP_MAX_CPUS][SNAP_VCPU_TAGS];
	const struct snap_record *chip[3];
	const struct snap_record *pit, *clock;
};

/* CRC-32 (common/zlib.c, the one user of zlib). */
uint32_t vmm_snap_crc(uint32_t crc, const void *data, size_t len);
/* Check the first n bytes of a file of file_size bytes as a snapshot header: magic, version,
 * header CRC, size, field ranges.  0 and *h, or -EINVAL with a message in err. */
int vmm_snap_check_header(const void *buf, size_t n, uint64_t file_size, struct snap_header *h,
			  char *err, size_t errlen);
/* Check v->state (v->h.state_size bytes, after v->h was checked): its CRC, every record's
 * size and bounds, a complete vCPU state per vCPU, extents inside RAM and the file; and index
 * the records into v.  0, or -EINVAL with a message in err. */
int vmm_snap_index_state(struct snap_view *v, char *err, size_t errlen);
/* The first record (tag, index) of an indexed state, or NULL (device records: their devices
 * read them, through the bus). */
const struct snap_record *vmm_snap_find(const struct snap_view *v, uint32_t tag, uint32_t index);

#endif
