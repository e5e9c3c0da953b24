/* vmm internal: the VM structure shared by the files of this folder.  Not for other modules. */
#ifndef KPROF_VMM_INTERNAL_H
#define KPROF_VMM_INTERNAL_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/common.h"
#include "target/target.h"
#include "vmm/boot_image.h"
#include "vmm/pagewalk.h"
#include "vmm/vmm.h"

/* Guest-physical layout of what the monitor writes below 1 MiB (Firecracker's PVH layout). */
#define VMM_START_INFO_ADDR 0x6000ull
#define VMM_MODLIST_ADDR 0x6040ull	/* PVH module list: the initrd (Firecracker's address) */
#define VMM_MEMMAP_ADDR 0x7000ull
#define VMM_CMDLINE_ADDR 0x20000ull
#define VMM_ACPI_ADDR 0xe0000ull	/* RSDP, XSDT, FADT, MADT, DSDT (in the BIOS area Linux scans) */
#define VMM_LOW_RAM_END 0xa0000ull
#define VMM_KERNEL_LOWEST 0x100000ull

#define VMM_TSS_ADDR 0xfffbd000ull
#define VMM_IDENTITY_MAP_ADDR 0xfffbc000ull
#define VMM_LAPIC_ADDR 0xfee00000ull
#define VMM_IOAPIC_ADDR 0xfec00000ull

/* Signal that kicks a vCPU thread out of KVM_RUN. */
#define VMM_KICK_SIGNAL SIGUSR1

/* ---- devices on the I/O port bus (iobus.c) ---- */
struct vmm;
struct vmm_vcpu;
struct kp_buf;

#define VMM_DEV_MAX_RANGES 2

/* A device: its name, the ports it answers, one handler for both directions, and its
 * snapshot state (a record of type snap_tag; 0 when it keeps none).  Descriptors are const;
 * the instance they act on is the ctx given to vmm_device_register. */
struct vmm_device {
	const char *name;
	struct { uint16_t base, len; } ports[VMM_DEV_MAX_RANGES];	/* len 0: unused */
	/* size is 1, 2 or 4; port is absolute; data is read (out) or filled (in). */
	void (*pio)(void *ctx, struct vmm_vcpu *vcpu, uint16_t port, uint8_t *data,
		    unsigned size, bool out);
	uint32_t snap_tag;
	int (*save)(void *ctx, struct kp_buf *out);		/* append the record's payload */
	int (*restore)(void *ctx, const void *data, size_t size);
	void (*flush)(void *ctx);	/* make buffered output visible (before the end's message) */
	void (*release)(void *ctx);	/* at vmm_destroy, in reverse order of registration */
};

#define VMM_MAX_DEVICES 8

struct vmm_iobus {
	unsigned ndev;
	struct { const struct vmm_device *d; void *ctx; } dev[VMM_MAX_DEVICES];
	/* Unknown accesses are logged once each: a bit per port, a few MMIO addresses. */
	_Atomic uint64_t port_logged[65536 / 64];
	pthread_mutex_t mmio_lock;
	unsigned nmmio_logged;
	uint64_t mmio_logged[32];
};

/* -EBUSY when a port range overlaps a registered one, -ENOSPC when the bus is full; the
 * caller keeps ownership of ctx then. */
int vmm_device_register(struct vmm_iobus *bus, const struct vmm_device *d, void *ctx);
void vmm_iobus_pio(struct vmm *vm, struct vmm_vcpu *vcpu, struct kvm_run *run);
void vmm_iobus_mmio(struct vmm *vm, struct vmm_vcpu *vcpu, struct kvm_run *run);
void vmm_iobus_flush(struct vmm_iobus *bus);
void vmm_iobus_release(struct vmm_iobus *bus);
/* The devices of this machine (serial.c, debugport.c). */
int vmm_serial_init(struct vmm *vm, const char *path);
int vmm_debugport_init(struct vmm *vm);

/* ---- guest markers (marker.c): BOOT_TIME lines and port-0x80 codes, from the devices to
 * whoever listens (boot profile, end points, snapshot triggers) ---- */
enum vmm_marker_kind {
	VMM_MARK_STAGE,
	VMM_MARK_PORT80,
	VMM_MARK_LINE,		/* any complete serial line (stage = its text), for --exit-at text: */
};

struct vmm_marker {
	enum vmm_marker_kind kind;
	const char *stage;	/* STAGE: the stage name */
	uint64_t guest_ns;	/* STAGE: the time the guest printed */
	uint8_t code;		/* PORT80: the byte written */
};

/* vcpu is the vCPU that wrote the marker (NULL when it is not known, as for a serial line). */
void vmm_marker(struct vmm *vm, struct vmm_vcpu *vcpu, const struct vmm_marker *m);
/* The listeners: each returns true when the marker ended the run, which stops the rest. */
bool vmm_profile_marker(struct vmm *vm, struct vmm_vcpu *vcpu, const struct vmm_marker *m);
bool vmm_endpoint_marker(struct vmm *vm, struct vmm_vcpu *vcpu, const struct vmm_marker *m);
bool vmm_trigger_marker(struct vmm *vm, struct vmm_vcpu *vcpu, const struct vmm_marker *m);
/* stage.c: the current stage (vm->stage), kept by a listener, read by the target. */
#define VMM_STAGE_FIRST "kernel"	/* before the guest's first marker */
void vmm_stage_init(struct vmm *vm);
bool vmm_stage_marker(struct vmm *vm, struct vmm_vcpu *vcpu, const struct vmm_marker *m);
int vmm_stage_read(struct target *t, char *buf, size_t len);

/* ---- vCPUs ---- */
struct vmm_vcpu {
	struct vmm *vm;
	int id;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	bool thread_started;
	/* Under vm->lock. */
	bool parked;
	enum target_resume_action action;
	uint32_t dbg_applied;		/* guest-debug control last set, to skip redundant ioctls */
	uint64_t dbg_gen_applied;
	int mp_state;			/* last known KVM_MP_STATE_*, refreshed while parked */
	bool needs_completion;		/* an I/O exit must be completed by KVM_RUN before parking */
	/* Paging registers read while parked, reused by every memory access of that stop (an
	 * unwinder reads many small pieces); dropped when the vCPU runs again. */
	struct {			/* emulation.c: vanished int3s re-run at one address */
		uint64_t rip, ns;
		unsigned count;
	} int3_retry;
	bool paging_valid;
	struct vmm_paging paging;
	/* KVM_CAP_SYNC_REGS: every KVM_RUN exit leaves the registers in run->s.regs, so a sampler
	 * reads a parked vCPU's registers without an ioctl.  sync_valid: they are the vCPU's
	 * state (its last KVM_RUN returned, and nobody has set registers since). */
	bool sync_regs, sync_valid;
};

struct vmm_bp {
	bool used;
	enum target_bp_kind kind;
	uint64_t addr, len;
};

/* ---- the VM ---- */
struct vmm {
	struct target target;		/* first: vmm_target() hands out &vm->target */
	struct vmm_config cfg;
	char kernel_path[4096];
	char cmdline[VMM_CMDLINE_MAX];

	int kvm_fd, vm_fd;
	struct vmm_physmem mem;
	uint32_t tsc_khz;
	uint32_t guest_debug_caps;	/* KVM_CAP_SET_GUEST_DEBUG2: supported KVM_GUESTDBG_* */
	bool emulated_cpl0;		/* PVM backend: guest kernel code is emulated (see README) */
	struct kvm_cpuid2 *cpuid;	/* supported CPUID, patched per vCPU before it is set */
	uint64_t kernel_end;		/* guest-physical end of the loaded kernel */
	uint64_t initrd_addr_max;	/* highest initrd byte the boot protocol allows (0: 4 GiB) */
	struct {			/* a bzImage (linux_boot.c); off: PVH */
		bool on;
		uint64_t entry;		/* startup_64: load address + 0x200 */
		struct vmm_bzimage img;
		uint8_t hdr[VMM_LINUX_HDR_BYTES];	/* the file's bytes through the header */
	} linux_boot;
	struct {
		void *map;		/* the file, mapped between reading and writing it */
		uint64_t size, addr;	/* size 0: no --initrd */
	} initrd;
	_Atomic unsigned long emulation_completed;	/* int3/fwait the host failed, done here */

	unsigned ncpus;
	struct vmm_vcpu vcpus[VMM_MAX_CPUS];

	struct vmm_iobus bus;
	struct serial *serial;		/* serial.c: the console's receiver (vmm_console_write) */

	/* Run control (see run.c).  All under lock. */
	pthread_mutex_t lock;
	pthread_cond_t vcpu_cond;	/* vCPU threads wait here while parked */
	pthread_cond_t ctl_cond;	/* the controller waits here for vCPUs to park */
	bool stop_requested;
	bool started;
	bool quit;
	unsigned nparked;
	int event_fd;
	bool event_pending, event_signalled;
	struct target_event event;
	struct vmm_result result;	/* kind != NONE once the run has ended */
	uint64_t end_ns;

	/* Hardware breakpoints, applied to every vCPU. */
	struct vmm_bp bps[4];
	uint64_t dbg_gen;

	/* Boot profile, under prof_lock (written from vCPU threads). */
	pthread_mutex_t prof_lock;
	struct vmm_boot_profile prof;
	uint64_t start_ns;
	char stage[48];			/* stage.c: the current stage, under prof_lock */

	atomic_bool end_hit;		/* endpoint.c: the configured end point ended the run */
	struct {			/* trigger.c: --snapshot-on */
		atomic_bool port_done;	/* the port-0x80 trigger fired (once) */
		atomic_bool requested;	/* a trigger fired; the controller saves at the stop */
		bool thread_started;
		atomic_bool quit;
		pthread_t thread;	/* sigwait()s for --snapshot-on SIGNAL */
	} trigger;
	bool mem_from_file;		/* restore.c: guest RAM maps a snapshot file */
	int restore_fd;			/* the snapshot being restored, mapped into RAM */
};

/* ---- creation (create.c): ordered steps, each timed as one detail of one phase ---- */
struct snap_view;

/* What one step hands to the next. */
struct vmm_create_ctx {
	uint32_t entry;			/* the kernel's PVH entry (cold boot) */
	struct snap_view *snap;		/* the checked snapshot (restore) */
};

/* Run the cold-boot or the restore list on a VM that vmm_create has just allocated. */
int vmm_create_steps(struct vmm *vm);

/* A step: 0, or -errno after one line naming what failed. */
typedef int vmm_step_fn(struct vmm *vm, struct vmm_create_ctx *c);

/* The steps, in the files that know the hardware: kvm.c, load.c, boot_params.c, trigger.c,
 * restore.c. */
vmm_step_fn vmm_kvm_open, vmm_kvm_create_vm, vmm_vm_arch_setup, vmm_memory_map,
	vmm_memory_region, vmm_load_kernel, vmm_initrd_read, vmm_initrd_write,
	vmm_write_boot_params, vmm_cpu_template, vmm_trigger_init,
	vmm_restore_read, vmm_restore_map_memory, vmm_restore_check_memory, vmm_restore_vcpus,
	vmm_restore_devices;
int vmm_acpi_write(struct vmm *vm, uint64_t addr, uint64_t *rsdp);
void vmm_initrd_release(struct vmm *vm);
/* linux_boot.c: the 64-bit Linux boot protocol for a bzImage */
int vmm_linux_load(struct vmm *vm, const uint8_t *data, size_t len, const struct vmm_bzimage *img);
/* An ELF vmlinux without a PVH note, its segments loaded: enter e_entry the same way. */
int vmm_linux_elf(struct vmm *vm, uint64_t entry, uint64_t kernel_end);
int vmm_linux_write_zero_page(struct vmm *vm, uint64_t rsdp, const struct vmm_e820 *map,
			      unsigned nmap);
int vmm_linux_boot_regs(struct vmm_vcpu *vcpu);
/* Flat 4 GiB code (0x10; 64-bit when long_mode) and data (0x18) segments, busy TSS: the
 * selectors of the boot GDT built here, which PVH's 32-bit entry (vcpu.c) loads too. */
void vmm_flat_segments(struct kvm_sregs *sregs, bool long_mode);
/* emulation.c: after KVM_EXIT_INTERNAL_ERROR (emulation) on a vCPU thread.  True when the
 * guest may run on (an int3 or fwait completed); false with *why describing the instruction. */
bool vmm_emulation_failure(struct vmm_vcpu *vcpu, char *why, size_t len);
int vmm_cpuid_init(struct vmm *vm);
int vmm_vcpu_set_cpuid(struct vmm *vm, struct vmm_vcpu *vcpu);
int vmm_vcpu_set_msrs(struct vmm_vcpu *vcpu);
/* vcpu.c: one vCPU's part of a step (create.c loops over the vCPUs) */
int vmm_vcpu_create(struct vmm *vm, int id);
int vmm_vcpu_set_boot_regs(struct vmm_vcpu *vcpu, uint32_t entry);
int vmm_vcpus_start_threads(struct vmm *vm);
void vmm_vcpus_join(struct vmm *vm);
/* restore.c.  After vmm_start: time the resume of a restored VM. */
void vmm_restore_started(struct vmm *vm);
void vmm_restore_release(struct vmm *vm);
void vmm_restore_view_free(struct snap_view *v);

/* ---- run control (run.c) ---- */
/* Called from a vCPU thread: end the run or report a stop; every vCPU is then parked.
 * vmm_end_run returns true when this call ended the run (false: it had already ended). */
void vmm_raise_event(struct vmm *vm, const struct target_event *ev);
bool vmm_end_run(struct vmm *vm, struct vmm_vcpu *vcpu, enum vmm_end_kind kind, int status,
		 uint32_t value, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Kick every vCPU out of KVM_RUN (under vm->lock). */
void vmm_kick_all_locked(struct vmm *vm);
/* Make the event fd readable when an event waits and every vCPU is parked (under vm->lock). */
void vmm_publish_event_locked(struct vmm *vm);
int vmm_stop_all(struct vmm *vm);
/* After a resume: every vCPU not told to stay has left its park (under vm->lock). */
bool vmm_all_released_locked(const struct vmm *vm);

/* ---- snapshot triggers (trigger.c) ---- */
/* vmm_trigger_init (a step): check the --snapshot options and start the --snapshot-on
 * SIGNAL thread. */
void vmm_trigger_release(struct vmm *vm);
/* After a stop event in vmm_wait: save a requested snapshot.  1 when it did (the caller
 * resumes), 0 when the event was not ours, -errno when the save failed. */
int vmm_trigger_stop_event(struct vmm *vm);

/* target.c */
void vmm_target_init(struct vmm *vm);
int vmm_vcpu_read_state(struct vmm_vcpu *vcpu, struct kvm_regs *regs, struct kvm_sregs *sregs);

#endif
