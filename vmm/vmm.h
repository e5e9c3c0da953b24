/* vmm: an in-process KVM virtual machine that boots a PVH ELF kernel.
 *
 * Life cycle (names as kvmtool's, lower layers return 0 or a negative errno):
 *
 *     struct vmm_config cfg;
 *     struct vmm_result res;
 *     struct vmm *vm;
 *
 *     vmm_config_init(&cfg);
 *     cfg.kernel = "kernel.elf";  // and any other field (the CLI fills them from `kprof run`
 *                                 // options: cli/run_options.c)
 *     vmm_create(&cfg, &vm);      // the steps of vmm/create.c; vCPU threads exist, parked
 *     vmm_run_until_exit(vm, &res);   // or: vmm_start + your own event loop on vmm_target()
 *     vmm_destroy(vm);
 *
 * vmm_create prints one "kprof: FILE: problem" line for bad input itself and returns -errno;
 * vmm_error_exit_status() maps that errno to the documented process exit status.
 *
 * The VM is also a target (target/target.h): vmm_target() gives the all-stop interface the
 * gdb stub and the profiler use.  Only vmm/ includes linux/kvm.h.
 */
#ifndef KPROF_VMM_H
#define KPROF_VMM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "target/target.h"

#define VMM_MAX_CPUS 16
#define VMM_DEFAULT_MEM (128ull << 20)
#define VMM_MIN_MEM (2ull << 20)
#define VMM_MAX_MEM (3ull << 30)	/* RAM stays below the 32-bit MMIO hole (LAPIC, IOAPIC, TSS) */
#define VMM_CMDLINE_MAX 2048

/* Process exit statuses of `kprof run` (see vmm/README.md).  A guest that ends through the
 * debug-exit port makes kprof exit with the byte it wrote; these are what the monitor itself uses. */
enum vmm_exit_status {
	VMM_EXIT_USAGE = 2,		/* bad option or bad kernel file */
	VMM_EXIT_HOST = 3,		/* no /dev/kvm, no permission, a KVM call failed */
	VMM_EXIT_SHUTDOWN = 120,	/* guest triple fault / shutdown */
	VMM_EXIT_INTERNAL = 121,	/* KVM internal error (e.g. emulation failure) */
	VMM_EXIT_UNHANDLED = 122,	/* unexpected exit reason or failed VM entry */
	VMM_EXIT_KILLED = 123,		/* the run was ended from the host (target kill, cancel_fd) */
};

enum vmm_profile_format {
	VMM_PROFILE_NONE,
	VMM_PROFILE_TEXT,
	VMM_PROFILE_JSON,
};

struct vmm_config {
	unsigned ncpus;			/* 1..VMM_MAX_CPUS */
	uint64_t mem_size;		/* bytes */
	const char *kernel;		/* path of the PVH ELF */
	const char *cmdline;		/* guest command line, "" by default */
	const char *serial_path;	/* NULL: guest serial output to stdout */
	const char *cpu;		/* --cpu template ("host,-cx16"); NULL: KVM's CPUID as is */
	const char *initrd;		/* --initrd FILE, or NULL */
	enum vmm_profile_format boot_profile;
	bool start_halted;		/* vmm_start leaves every vCPU parked until target resume */
	uint64_t t0_ns;			/* kp_now_ns() when the command began (0: at vmm_create) */

	/* Boot lab and snapshots (vmm/endpoint.c, vmm/snapshot.c, vmm/restore.c).  All off when
	 * zero, so vmm_config_init's memset keeps them disabled. */
	const char *end_stage;		/* end when the guest prints BOOT_TIME:<end_stage>: */
	const char *end_text;		/* ... or a serial line containing this text */
	bool end_port80;		/* ... or writes a port-0x80 code in [lo, hi] */
	uint8_t end_port80_lo, end_port80_hi;
	const char *snapshot_path;	/* --snapshot FILE */
	bool snapshot_on_port80;	/* --snapshot-on 0xNN: at the first write of that code */
	uint8_t snapshot_port80;
	int snapshot_signal;		/* --snapshot-on SIGNAME: whenever kprof receives it */
	const char *restore_path;	/* --restore FILE: vmm_create resumes a snapshot */
};

/* Defaults: 1 vCPU, 128 MiB, empty command line, serial on stdout, no profile. */
void vmm_config_init(struct vmm_config *cfg);
/* The checks of values only vmm/ understands; each sets its fields, or returns -EINVAL with
 * what is wrong in err (for the caller's message, which names the option) and prints nothing.
 * A CPUID template in QEMU's -cpu spelling ("host,-cx16"): */
int vmm_config_set_cpu(struct vmm_config *cfg, const char *v, char *err, size_t len);
/* An end point: a BOOT_TIME stage name, a port-0x80 code 0xNN, a range 0xNN-0xMM (the first
 * code in it), or text:TEXT (a serial line containing TEXT): */
int vmm_config_set_end_point(struct vmm_config *cfg, const char *v, char *err, size_t len);
/* When to save a snapshot: a port-0x80 code 0xNN or a signal name (SIGUSR2, USR2): */
int vmm_config_set_snapshot_on(struct vmm_config *cfg, const char *v, char *err, size_t len);

struct vmm;

int vmm_create(const struct vmm_config *cfg, struct vmm **out);
/* Let the vCPUs run (BSP at the PVH entry; APs wait for INIT/SIPI).  With cfg->start_halted
 * they stay parked: the target is "stopped" and the first target resume starts them. */
int vmm_start(struct vmm *vm);
void vmm_destroy(struct vmm *vm);

enum vmm_end_kind {
	VMM_END_NONE,		/* still running */
	VMM_END_EXIT,		/* debug-exit written */
	VMM_END_SHUTDOWN,
	VMM_END_INTERNAL,
	VMM_END_UNHANDLED,
	VMM_END_KILLED,
};

struct vmm_result {
	enum vmm_end_kind kind;
	int exit_status;	/* what `kprof run` exits with */
	int cpu;		/* vCPU that ended the run, or -1 */
	uint32_t guest_value;	/* value written to the debug-exit port */
	char message[160];
};

/* How the VM ended, or kind VMM_END_NONE while it runs. */
void vmm_get_result(struct vmm *vm, struct vmm_result *res);
/* Wait until the run ends, consuming the target's events: breakpoint and step events are
 * continued over (use it only when nobody else handles events).  When cancel_fd (>= 0, e.g. a
 * signalfd for SIGINT) becomes readable the run is ended as VMM_END_KILLED; the caller drains
 * it.  A fault prints a message and a register dump on stderr. */
int vmm_wait(struct vmm *vm, int cancel_fd, struct vmm_result *res);
/* vmm_start (resuming at once even with start_halted), then vmm_wait without a cancel fd. */
int vmm_run_until_exit(struct vmm *vm, struct vmm_result *res);
/* The same, ending the run when cancel_fd becomes readable (see vmm_wait). */
int vmm_run_until_exit_fd(struct vmm *vm, int cancel_fd, struct vmm_result *res);
/* Process exit status for an error returned by vmm_create / vmm_config_*. */
int vmm_error_exit_status(int err);

/* ---- console input (kprof run --console) ---- */
#define VMM_CONSOLE_QUEUE 4096	/* host bytes waiting for the guest's receive FIFO */
/* Queue bytes for the guest's serial receiver; they enter its 16-byte FIFO as the guest reads
 * it, while the guest holds DTR up (raising IRQ 4 when it enabled the receive interrupt).  Returns how many were
 * taken: fewer than len when the queue is full, and then vmm_console_room_fd becomes
 * readable (an eventfd: read it to reset) once the guest has made room.  Any thread. */
size_t vmm_console_write(struct vmm *vm, const void *buf, size_t len);
int vmm_console_room_fd(struct vmm *vm);

/* The in-process target; valid until vmm_destroy. */
struct target *vmm_target(struct vmm *vm);
/* Registers of a parked vCPU, as text (general, segment and control registers). */
void vmm_dump_regs(struct vmm *vm, int cpu, FILE *f);

/* ---- boot profile ---- */
enum vmm_phase {
	VMM_PHASE_KVM_OPEN,	/* open /dev/kvm, check the API version */
	VMM_PHASE_VM_CREATE,	/* KVM_CREATE_VM, TSS, identity map, irqchip, PIT */
	VMM_PHASE_MEMORY,	/* guest RAM mmap and KVM_SET_USER_MEMORY_REGION */
	VMM_PHASE_KERNEL_LOAD,	/* read, check and copy the ELF */
	VMM_PHASE_INITRD_LOAD,	/* --initrd: read the file, write it to guest RAM */
	VMM_PHASE_BOOT_PARAMS,	/* hvm_start_info, memory map, command line, ACPI, devices */
	VMM_PHASE_VCPU_SETUP,	/* vCPUs, CPUID, MSRs, registers, threads */
	VMM_PHASE_BOOT_WAIT,	/* vmm_start until the guest ended the run */
	VMM_PHASE_HOST_MISC,	/* the rest of total: option parsing, output, teardown */
	VMM_PHASE_COUNT
};

#define VMM_PROFILE_MAX_STAGES 64
#define VMM_PROFILE_MAX_PORT80 512

struct vmm_boot_stage {
	char name[40];
	uint64_t guest_ns;	/* as the guest printed it (its own clock) */
	uint64_t host_ns;	/* when the line reached the monitor, since t0 */
};

struct vmm_port80_event {
	uint8_t code;
	uint64_t host_ns;	/* since t0 */
};

/* The steps of vmm_create (vmm/create.c), finer than the host phases, for a cold boot and for
 * a restore from a snapshot.  Each is the time spent in it, summed over vCPUs where it is per
 * vCPU. */
enum vmm_detail {
	VMM_DETAIL_SNAPSHOT_READ,	/* restore: read and check the snapshot's header and state */
	VMM_DETAIL_KVM_OPEN,		/* open /dev/kvm */
	VMM_DETAIL_KVM_CREATE_VM,	/* the KVM_CREATE_VM ioctl */
	VMM_DETAIL_VM_ARCH_SETUP,	/* TSS, identity map, irqchip, PIT */
	VMM_DETAIL_DEVICES,		/* serial port, debug ports */
	VMM_DETAIL_MEM_MMAP,		/* guest RAM mmap (restore: the snapshot mapped privately) */
	VMM_DETAIL_MEM_REGION,		/* KVM_SET_USER_MEMORY_REGION */
	VMM_DETAIL_ELF_LOAD,		/* read, check and copy the kernel ELF */
	VMM_DETAIL_BOOT_PARAMS,		/* hvm_start_info, memory map, command line, ACPI */
	VMM_DETAIL_VCPU_CREATE,		/* KVM_CREATE_VCPU and the kvm_run mapping */
	VMM_DETAIL_CPUID,		/* KVM_GET_SUPPORTED_CPUID, patching, KVM_SET_CPUID2 */
	VMM_DETAIL_MSRS,		/* boot MSRs */
	VMM_DETAIL_REGS,		/* boot registers, FPU, LAPIC LVTs */
	VMM_DETAIL_VCPU_THREADS,	/* vCPU threads started and parked */
	VMM_DETAIL_MEMORY_STATE,	/* restore: saved memory checked (CRC) through the mapping */
	VMM_DETAIL_VCPU_STATE,		/* restore: registers, MSRs, LAPIC, events, mp state */
	VMM_DETAIL_DEVICE_STATE,	/* restore: PIC, IOAPIC, PIT, clock, serial */
	VMM_DETAIL_RESUME,		/* restore: vmm_start until every vCPU is back in KVM_RUN */
	VMM_DETAIL_INITRD_READ,		/* --initrd: open, check and map the file */
	VMM_DETAIL_INITRD_WRITE,	/* --initrd: copy it into guest RAM */
	VMM_DETAIL_COUNT
};

struct vmm_boot_profile {
	uint64_t t0_ns;		/* monotonic time at which the profile starts */
	uint64_t phase_ns[VMM_PHASE_COUNT];
	uint64_t total_ns;	/* 0 until vmm_boot_profile_finish */
	unsigned nstages;
	struct vmm_boot_stage stages[VMM_PROFILE_MAX_STAGES];
	unsigned nport80;
	unsigned port80_dropped;
	struct vmm_port80_event port80[VMM_PROFILE_MAX_PORT80];
	/* The steps of vmm_create (create.c), and the run's two ends. */
	uint64_t detail_ns[VMM_DETAIL_COUNT];
	uint64_t start_ns;	/* vmm_start (the guest's first instruction), since t0; 0: not yet */
	uint64_t end_ns;	/* the run ended, since t0; 0: still running */
	bool restored;		/* the VM was resumed from a snapshot: detail_ns is a restore profile */
};

const char *vmm_phase_name(enum vmm_phase p);
const char *vmm_detail_name(enum vmm_detail d);
/* Copy the VM's profile so far (safe while the VM runs; boot_wait then counts up to now). */
void vmm_get_boot_profile(struct vmm *vm, struct vmm_boot_profile *out);
/* Set total (t0 to now_ns) and host_misc (what the named phases do not cover).  Printing a
 * profile is bootlab/'s (bl_boot_profile_print). */
void vmm_boot_profile_finish(struct vmm_boot_profile *p, uint64_t now_ns);

/* ---- boot lab: end points and snapshots (vmm/endpoint.c, vmm/trigger.c, vmm/snapshot.c,
 * vmm/restore.c; file format in vmm/SNAPSHOT.md) ---- */
/* True when the run ended at the configured end point (--exit-at), not by the guest's own
 * debug-exit.  The result then reads as a debug-exit with status 0. */
bool vmm_end_point_reached(struct vmm *vm);
/* Save the stopped VM (every vCPU parked) to path.  Returns 0 or -errno after one line. */
int vmm_snapshot_save(struct vmm *vm, const char *path);
/* The kernel ELF a snapshot was booted from (for symbols), after checking the snapshot's header
 * and state.  0, or -errno after one line naming the file. */
int vmm_snapshot_kernel(const char *path, char *buf, size_t len);

#endif
