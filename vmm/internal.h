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

/* ---- the I/O port bus ---- */
struct vmm;
struct vmm_vcpu;

struct vmm_pio_ops {
	/* size is 1, 2 or 4; port is absolute. */
	void (*in)(void *dev, struct vmm_vcpu *vcpu, uint16_t port, uint8_t *data, unsigned size);
	void (*out)(void *dev, struct vmm_vcpu *vcpu, uint16_t port, const uint8_t *data,
		    unsigned size);
};

struct vmm_pio_range {
	uint16_t base, len;
	const struct vmm_pio_ops *ops;
	void *dev;
};

#define VMM_PIO_MAX 16

struct vmm_iobus {
	unsigned n;
	struct vmm_pio_range r[VMM_PIO_MAX];
	/* Unknown accesses are logged once each: a bit per port, a few MMIO addresses. */
	_Atomic uint64_t port_logged[65536 / 64];
	pthread_mutex_t mmio_lock;
	unsigned nmmio_logged;
	uint64_t mmio_logged[32];
};

int vmm_iobus_register(struct vmm_iobus *bus, uint16_t base, uint16_t len,
		       const struct vmm_pio_ops *ops, void *dev);
void vmm_iobus_pio(struct vmm *vm, struct vmm_vcpu *vcpu, struct kvm_run *run);
void vmm_iobus_mmio(struct vmm *vm, struct vmm_vcpu *vcpu, struct kvm_run *run);

/* ---- devices ---- */
struct vmm_serial {
	pthread_mutex_t lock;
	struct vmm *vm;
	FILE *out;
	bool own_out;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm, rbr;
	bool rx_ready;
	size_t linelen;
	char line[256];		/* the current output line, for BOOT_TIME: markers */
};

int vmm_serial_init(struct vmm *vm, const char *path);
void vmm_serial_release(struct vmm_serial *s);
void vmm_serial_flush(struct vmm_serial *s);
int vmm_debugport_init(struct vmm *vm);

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
	bool paging_valid;
	struct vmm_paging paging;
};

struct vmm_bp {
	bool used;
	enum target_bp_kind kind;
	uint64_t addr, len;
};

/* ---- boot lab and snapshots (endpoint.c, snapshot.c, restore.c) ---- */
struct vmm_lab {
	atomic_bool end_hit;		/* the configured end point ended the run */
	atomic_bool snap_port_done;	/* the port-0x80 snapshot trigger fired (once) */
	atomic_bool snap_requested;	/* a trigger fired; the controller saves at the stop */
	bool sig_thread_started;
	atomic_bool sig_quit;
	pthread_t sig_thread;		/* sigwait()s for --snapshot-on SIGNAL */
	bool mem_from_file;		/* guest RAM maps a snapshot file (restore) */
	int restore_fd;			/* the snapshot being restored, mapped into RAM */
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
		uint8_t hdr[0x302];	/* the file's first bytes, through the setup header */
	} linux_boot;
	struct {
		void *map;		/* the file, mapped between reading and writing it */
		uint64_t size, addr;	/* size 0: no --initrd */
	} initrd;
	_Atomic unsigned long emulation_completed;	/* int3/fwait the host failed, done here */

	unsigned ncpus;
	struct vmm_vcpu vcpus[VMM_MAX_CPUS];

	struct vmm_iobus bus;
	struct vmm_serial serial;

	/* Run control (see vcpu.c).  All under lock. */
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

	struct vmm_lab lab;
};

/* Add the time since *t to a detail of the boot profile and restart *t (vmm_create runs before
 * any vCPU thread, so no lock is needed). */
static inline void vmm_detail_mark(struct vmm *vm, enum vmm_detail d, uint64_t *t)
{
	uint64_t now = kp_now_ns();

	vm->prof.detail_ns[d] += now - *t;
	*t = now;
}

/* kvm.c */
int vmm_kvm_open(struct vmm *vm);
int vmm_kvm_create_vm(struct vmm *vm);
int vmm_memory_init(struct vmm *vm);
/* load.c */
int vmm_load_kernel(struct vmm *vm, uint32_t *entry);
/* initrd.c: --initrd read (file checks, mapping) and written to guest RAM (placement) */
int vmm_initrd_read(struct vmm *vm);
int vmm_initrd_write(struct vmm *vm);
void vmm_initrd_release(struct vmm *vm);
/* linux_boot.c: the 64-bit Linux boot protocol for a bzImage */
int vmm_linux_load(struct vmm *vm, const uint8_t *data, size_t len, const struct vmm_bzimage *img);
int vmm_linux_write_zero_page(struct vmm *vm, uint64_t rsdp, const struct vmm_e820 *map,
			      unsigned nmap);
int vmm_linux_boot_regs(struct vmm_vcpu *vcpu);
/* boot_params.c, acpi.c */
int vmm_write_boot_params(struct vmm *vm);
int vmm_acpi_write(struct vmm *vm, uint64_t addr, uint64_t *rsdp);
/* cpuid.c */
int vmm_cpuid_init(struct vmm *vm);
int vmm_vcpu_set_cpuid(struct vmm *vm, struct vmm_vcpu *vcpu);
int vmm_vcpu_set_msrs(struct vmm_vcpu *vcpu);
/* vcpu.c */
int vmm_vcpu_create(struct vmm *vm, int id, uint32_t entry);
int vmm_vcpus_start_threads(struct vmm *vm);
void vmm_vcpus_join(struct vmm *vm);
/* Called from a vCPU thread: end the run or report a stop; every vCPU is then parked. */
void vmm_raise_event(struct vmm *vm, const struct target_event *ev);
void vmm_end_run(struct vmm *vm, struct vmm_vcpu *vcpu, enum vmm_end_kind kind, int status,
		 uint32_t value, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Kick every vCPU out of KVM_RUN (under vm->lock). */
void vmm_kick_all_locked(struct vmm *vm);
int vmm_stop_all(struct vmm *vm);
/* profile.c */
void vmm_profile_port80(struct vmm *vm, uint8_t code);
void vmm_profile_stage(struct vmm *vm, const char *name, uint64_t guest_ns);
/* endpoint.c: hooks of the boot lab in vmm_create, the devices and the run loop */
int vmm_lab_init(struct vmm *vm);
void vmm_lab_release(struct vmm *vm);
void vmm_lab_stage(struct vmm *vm, const char *name);
void vmm_lab_port80(struct vmm *vm, struct vmm_vcpu *vcpu, uint8_t code);
/* After a stop event in vmm_run_until_exit: save a requested snapshot.  1 when it did (the
 * caller resumes), 0 when the event was not ours, -errno when the save failed. */
int vmm_lab_stop_event(struct vmm *vm);
/* After vmm_start: time the resume of a restored VM. */
void vmm_lab_started(struct vmm *vm);
/* lab_profile.c: the create-VM breakdown and split, inside the boot profile's table / JSON */
void vmm_lab_profile_print_text(const struct vmm_boot_profile *p, FILE *f);
void vmm_lab_profile_print_json(const struct vmm_boot_profile *p, FILE *f);
/* restore.c: vmm_create's path for cfg.restore_path (vm allocated, nothing else done). */
int vmm_restore_create(struct vmm *vm);
/* emulation.c: after KVM_EXIT_INTERNAL_ERROR (emulation) on a vCPU thread.  True when the
 * guest may run on (an int3 or fwait completed); false with *why describing the instruction. */
bool vmm_emulation_failure(struct vmm_vcpu *vcpu, char *why, size_t len);
/* target.c */
void vmm_target_init(struct vmm *vm);
int vmm_vcpu_read_state(struct vmm_vcpu *vcpu, struct kvm_regs *regs, struct kvm_sregs *sregs);

#endif
