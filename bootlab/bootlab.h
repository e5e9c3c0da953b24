/* bootlab: boot-latency distributions over many boots (`kprof boot`).
 *
 * A lab collects one boot profile per iteration (vmm/vmm.h) into named series of nanosecond
 * values, grouped as the report shows them: host phases, the create-VM breakdown, the
 * tVMM/tFW/tKernel split (as NEMU and cloud-hypervisor split boot time), guest BOOT_TIME
 * stages and port-0x80 events, or the restore steps of a VM resumed from a snapshot.  Each
 * series is summarised by min, median, p90, p99, max, and two spreads: max - min and the
 * interquartile range (p75 - p25, robust to outliers).  Percentiles are nearest-rank.
 *
 * QEMU runs (bootlab_qemu_boot) add a series of wall times to compare with kprof's totals.
 * Output: an aligned table, JSON written by hand (numbers and fixed names only, strings
 * escaped), and an SVG histogram of total boot time. */
#ifndef KPROF_BOOTLAB_H
#define KPROF_BOOTLAB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vmm/vmm.h"

struct bl_stats {
	size_t n;
	uint64_t min, p25, median, p75, p90, p99, max;
};

/* Nearest-rank percentiles of vals (sorted in place).  n may be 0 (all fields 0). */
void bl_stats_compute(uint64_t *vals, size_t n, struct bl_stats *out);
/* The value at percentile pct (0-100) of sorted vals, nearest rank. */
uint64_t bl_percentile(const uint64_t *sorted, size_t n, double pct);

enum bl_group {
	BL_GROUP_SPLIT,		/* tVMM, tFW, tKernel, total */
	BL_GROUP_HOST,		/* host phases */
	BL_GROUP_DETAIL,	/* create-VM breakdown */
	BL_GROUP_RESTORE,	/* restore steps */
	BL_GROUP_STAGE,		/* guest BOOT_TIME stages (guest clock, since its entry) */
	BL_GROUP_PORT80,	/* port-0x80 events (host clock, since the command began) */
	BL_GROUP_QEMU,		/* wall time of QEMU runs */
	BL_GROUP_COUNT
};

struct bl_series {
	enum bl_group group;
	char name[48];
	uint64_t *v;
	size_t n, cap;
};

struct bootlab {
	struct bl_series *series;
	size_t nseries, cap;
	size_t iterations;	/* profiles added */
};

void bootlab_init(struct bootlab *lab);
void bootlab_release(struct bootlab *lab);
const char *bl_group_title(enum bl_group g);
/* Append a value to the series (group, name), creating it at the end of the order. */
int bootlab_add(struct bootlab *lab, enum bl_group g, const char *name, uint64_t ns);
/* All rows of one finished boot (vmm_get_boot_profile after the run). */
int bootlab_add_profile(struct bootlab *lab, const struct vmm_boot_profile *p);
/* The series (group, name), or NULL. */
const struct bl_series *bootlab_find(const struct bootlab *lab, enum bl_group g,
				     const char *name);

struct bl_report {
	const char *kernel;
	const char *end_point;	/* human text: "BOOT_TIME:ready", "port 0x80 code 0x60", ... */
	unsigned cpus;
	size_t failures;
	double wall_s;		/* the whole series of boots */
	double qemu_wall_s;
};

/* The aligned table; with QEMU series present, kprof's and QEMU's totals side by side. */
int bootlab_print_table(const struct bootlab *lab, const struct bl_report *r, FILE *f);
int bootlab_write_json(const struct bootlab *lab, const struct bl_report *r, FILE *f);
/* Histogram(s) of the total (and QEMU's wall time), as a standalone SVG document. */
int bootlab_write_svg(const struct bootlab *lab, const struct bl_report *r, FILE *f);

/* ---- one boot's profile (bootlab/boot_profile.c) ---- */
/* "Firmware", "Bootloader", "Kernel", "Userspace" or "Custom" (cloud-hypervisor's ranges). */
const char *bl_port80_range(uint8_t code);
/* The detail rows reported for a cold boot (the create-VM breakdown) or for a restore, in
 * the order they are shown; *n receives the count. */
const enum vmm_detail *bl_detail_rows(bool restore, size_t *n);
struct bl_boot_split {
	uint64_t tvmm, tfw, tkernel;	/* ns; tkernel only when has_kernel */
	bool has_kernel;		/* the run reached the kernel before its end */
};
/* The NEMU/cloud-hypervisor split of a finished run's profile (definitions in
 * boot_profile.c). */
void bl_boot_split(const struct vmm_boot_profile *p, struct bl_boot_split *s);
/* `kprof run --boot-profile`: an aligned table, or one JSON object on one line (a restore
 * profile for a VM resumed from a snapshot).  0, or -EIO when writing f failed. */
int bl_boot_profile_print(const struct vmm_boot_profile *p, enum vmm_profile_format fmt,
			  FILE *f);

/* ---- QEMU (bootlab/qemu.c) ---- */
struct bl_qemu_opts {
	const char *qemu;	/* program, "qemu-system-x86_64" by default */
	const char *kernel;
	const char *cmdline;
	unsigned cpus;
	uint64_t mem_size;
	const char *end_stage;	/* as vmm_config: a stage, a port-0x80 range, or neither */
	bool end_port80;
	uint8_t end_port80_lo, end_port80_hi;
	double timeout_s;
};

/* Boot once under QEMU with TCG and measure the wall time from spawning QEMU to the end
 * point (the stage's serial line, the port-0x80 code seen through an isa-debugcon at 0x80,
 * or QEMU's exit through isa-debug-exit).  QEMU is killed at the end point.  Returns 0 or
 * -errno after one line (no QEMU, end point not reached, timeout). */
int bootlab_qemu_boot(const struct bl_qemu_opts *o, uint64_t *wall_ns);

#endif
