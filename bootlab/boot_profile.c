/* One boot's profile, as `kprof run --boot-profile` prints it on stderr: an aligned table or
 * one JSON object on one line.  Host phases, the create-VM breakdown and the tVMM/tFW/tKernel
 * split, guest BOOT_TIME stages, port-0x80 events; a VM resumed from a snapshot has the
 * restore profile instead.  vmm/ records the raw timestamps (struct vmm_boot_profile); the
 * split and every label are defined here. */
#include "bootlab/bootlab.h"

#include "common/common.h"

#include <errno.h>
#include <string.h>

const char *bl_port80_range(uint8_t code)
{
	if (code < 0x20)
		return "Firmware";
	if (code < 0x40)
		return "Bootloader";
	if (code < 0x60)
		return "Kernel";
	if (code < 0x80)
		return "Userspace";
	return "Custom";
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static double share(uint64_t part, uint64_t total)
{
	return total ? 100.0 * (double)part / (double)total : 0.0;
}

static const enum vmm_detail create_rows[] = {
	VMM_DETAIL_KVM_CREATE_VM, VMM_DETAIL_VM_ARCH_SETUP, VMM_DETAIL_DEVICES,
	VMM_DETAIL_MEM_MMAP, VMM_DETAIL_MEM_REGION, VMM_DETAIL_ELF_LOAD, VMM_DETAIL_INITRD_READ,
	VMM_DETAIL_INITRD_WRITE, VMM_DETAIL_BOOT_PARAMS,
	VMM_DETAIL_VCPU_CREATE, VMM_DETAIL_CPUID, VMM_DETAIL_MSRS, VMM_DETAIL_REGS,
	VMM_DETAIL_VCPU_THREADS,
};

static const enum vmm_detail restore_rows[] = {
	VMM_DETAIL_SNAPSHOT_READ, VMM_DETAIL_KVM_OPEN, VMM_DETAIL_KVM_CREATE_VM,
	VMM_DETAIL_VM_ARCH_SETUP, VMM_DETAIL_DEVICES, VMM_DETAIL_MEM_MMAP, VMM_DETAIL_MEM_REGION,
	VMM_DETAIL_VCPU_CREATE, VMM_DETAIL_CPUID, VMM_DETAIL_MEMORY_STATE, VMM_DETAIL_VCPU_STATE,
	VMM_DETAIL_DEVICE_STATE, VMM_DETAIL_VCPU_THREADS, VMM_DETAIL_RESUME,
};

const enum vmm_detail *bl_detail_rows(bool restore, size_t *n)
{
	*n = restore ? KP_ARRAY_SIZE(restore_rows) : KP_ARRAY_SIZE(create_rows);
	return restore ? restore_rows : create_rows;
}

/* tVMM: the monitor's work until the guest's first instruction (vmm_start); tFW: from there to
 * the first kernel-range port-0x80 code (0x40-0x5f), or without one the first BOOT_TIME line;
 * tKernel: from there to the end of the run.  An end before the kernel is all tFW. */
void bl_boot_split(const struct vmm_boot_profile *p, struct bl_boot_split *s)
{
	uint64_t fw_end = 0;

	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < p->nport80 && !fw_end; i++)
		if (p->port80[i].code >= 0x40 && p->port80[i].code < 0x60)
			fw_end = p->port80[i].host_ns;
	if (!fw_end && p->nstages)
		fw_end = p->stages[0].host_ns;
	s->tvmm = p->start_ns;
	if (fw_end && fw_end >= p->start_ns && fw_end <= p->end_ns) {
		s->tfw = fw_end - p->start_ns;
		s->tkernel = p->end_ns - fw_end;
		s->has_kernel = true;
	} else if (p->end_ns >= p->start_ns) {
		s->tfw = p->end_ns - p->start_ns;
	}
}

static void print_create_text(const struct vmm_boot_profile *p, FILE *f)
{
	struct bl_boot_split s;

	fprintf(f, "\n  %-28s %12s\n", "create-VM step", "time (ms)");
	for (size_t i = 0; i < KP_ARRAY_SIZE(create_rows); i++)
		fprintf(f, "  %-28s %12.3f\n", vmm_detail_name(create_rows[i]),
			ms(p->detail_ns[create_rows[i]]));
	if (!p->start_ns || !p->end_ns)
		return;
	bl_boot_split(p, &s);
	fprintf(f, "\n  %-28s %12s\n", "split (NEMU-style)", "time (ms)");
	fprintf(f, "  %-28s %12.3f\n", "tVMM (to first instruction)", ms(s.tvmm));
	fprintf(f, "  %-28s %12.3f\n", "tFW (to the kernel)", ms(s.tfw));
	if (s.has_kernel)
		fprintf(f, "  %-28s %12.3f\n", "tKernel (to the end)", ms(s.tkernel));
}

static void print_create_json(const struct vmm_boot_profile *p, FILE *f)
{
	struct bl_boot_split s;

	fprintf(f, ",\"create_vm\":[");
	for (size_t i = 0; i < KP_ARRAY_SIZE(create_rows); i++)
		fprintf(f, "%s{\"name\":\"%s\",\"ns\":%llu}", i ? "," : "",
			vmm_detail_name(create_rows[i]),
			(unsigned long long)p->detail_ns[create_rows[i]]);
	fprintf(f, "]");
	if (!p->start_ns || !p->end_ns)
		return;
	bl_boot_split(p, &s);
	fprintf(f, ",\"split\":{\"tvmm_ns\":%llu,\"tfw_ns\":%llu", (unsigned long long)s.tvmm,
		(unsigned long long)s.tfw);
	if (s.has_kernel)
		fprintf(f, ",\"tkernel_ns\":%llu", (unsigned long long)s.tkernel);
	fprintf(f, "}");
}

static void print_restore(const struct vmm_boot_profile *p, enum vmm_profile_format fmt,
			  FILE *f)
{
	/* Without the resume: from the command's start until vmm_start lets the vCPUs go. */
	uint64_t without = p->start_ns, with = p->start_ns + p->detail_ns[VMM_DETAIL_RESUME];
	uint64_t run = p->end_ns > with ? p->end_ns - with : 0;

	if (fmt == VMM_PROFILE_JSON) {
		fprintf(f, "{\"restore\":[");
		for (size_t i = 0; i < KP_ARRAY_SIZE(restore_rows); i++)
			fprintf(f, "%s{\"name\":\"%s\",\"ns\":%llu}", i ? "," : "",
				vmm_detail_name(restore_rows[i]),
				(unsigned long long)p->detail_ns[restore_rows[i]]);
		fprintf(f, "],\"total_without_resume_ns\":%llu,\"total_with_resume_ns\":%llu,"
			   "\"run_after_resume_ns\":%llu,\"total_ns\":%llu}\n",
			(unsigned long long)without, (unsigned long long)with,
			(unsigned long long)run, (unsigned long long)p->total_ns);
		return;
	}
	if (fmt != VMM_PROFILE_TEXT)
		return;
	fprintf(f, "restore profile\n  %-28s %12s %8s\n", "step", "time (ms)", "share");
	for (size_t i = 0; i < KP_ARRAY_SIZE(restore_rows); i++) {
		uint64_t ns = p->detail_ns[restore_rows[i]];

		fprintf(f, "  %-28s %12.3f %7.1f%%\n", vmm_detail_name(restore_rows[i]), ms(ns),
			with ? 100.0 * (double)ns / (double)with : 0.0);
	}
	fprintf(f, "  %-28s %12.3f\n", "total without resume", ms(without));
	fprintf(f, "  %-28s %12.3f\n", "total with resume", ms(with));
	fprintf(f, "\n  %-28s %12.3f\n", "guest run after resume", ms(run));
	fprintf(f, "  %-28s %12.3f\n", "total", ms(p->total_ns));
}

static void print_text(const struct vmm_boot_profile *p, FILE *f)
{
	fprintf(f, "boot profile\n");
	fprintf(f, "  %-16s %12s %8s\n", "host phase", "time (ms)", "share");
	for (int i = 0; i < VMM_PHASE_COUNT; i++)
		fprintf(f, "  %-16s %12.3f %7.1f%%\n", vmm_phase_name(i), ms(p->phase_ns[i]),
			share(p->phase_ns[i], p->total_ns));
	fprintf(f, "  %-16s %12.3f %7.1f%%\n", "total", ms(p->total_ns), 100.0);
	print_create_text(p, f);	/* create-VM steps, tVMM/tFW/tKernel */

	fprintf(f, "\n  %-24s %12s %12s %12s\n", "guest stage (BOOT_TIME)", "delta (ms)",
		"guest (ms)", "host (ms)");
	if (!p->nstages)
		fprintf(f, "  (the guest printed no BOOT_TIME lines)\n");
	for (unsigned i = 0; i < p->nstages; i++) {
		const struct vmm_boot_stage *s = &p->stages[i];
		uint64_t prev = i ? p->stages[i - 1].guest_ns : 0;
		uint64_t delta = s->guest_ns >= prev ? s->guest_ns - prev : 0;

		fprintf(f, "  %-24s %12.3f %12.3f %12.3f\n", s->name, ms(delta), ms(s->guest_ns),
			ms(s->host_ns));
	}

	fprintf(f, "\n  %-24s %12s %12s\n", "port 0x80 event", "host (ms)", "delta (ms)");
	if (!p->nport80)
		fprintf(f, "  (the guest wrote nothing to port 0x80)\n");
	for (unsigned i = 0; i < p->nport80; i++) {
		const struct vmm_port80_event *e = &p->port80[i];
		uint64_t prev = i ? p->port80[i - 1].host_ns : 0;
		char label[32];

		snprintf(label, sizeof(label), "0x%02x %s", e->code, bl_port80_range(e->code));
		fprintf(f, "  %-24s %12.3f %12.3f\n", label, ms(e->host_ns), ms(e->host_ns - prev));
	}
	if (p->port80_dropped)
		fprintf(f, "  (%u more events not recorded)\n", p->port80_dropped);
}

/* Written by hand (strings through kp_json_string): json-c belongs to the profiler's trace
 * writer, and this is flat. */
static void print_json(const struct vmm_boot_profile *p, FILE *f)
{
	fprintf(f, "{\"host_phases\":[");
	for (int i = 0; i < VMM_PHASE_COUNT; i++)
		fprintf(f, "%s{\"name\":\"%s\",\"ns\":%llu,\"share\":%.4f}", i ? "," : "",
			vmm_phase_name(i), (unsigned long long)p->phase_ns[i],
			share(p->phase_ns[i], p->total_ns) / 100.0);
	fprintf(f, "],\"total_ns\":%llu,\"guest_stages\":[", (unsigned long long)p->total_ns);
	for (unsigned i = 0; i < p->nstages; i++) {
		const struct vmm_boot_stage *s = &p->stages[i];
		uint64_t prev = i ? p->stages[i - 1].guest_ns : 0;

		fprintf(f, "%s{\"name\":", i ? "," : "");
		kp_json_string(f, s->name);
		fprintf(f, ",\"delta_ns\":%llu,\"cumulative_ns\":%llu,\"host_ns\":%llu}",
			(unsigned long long)(s->guest_ns >= prev ? s->guest_ns - prev : 0),
			(unsigned long long)s->guest_ns, (unsigned long long)s->host_ns);
	}
	fprintf(f, "],\"port80\":[");
	for (unsigned i = 0; i < p->nport80; i++)
		fprintf(f, "%s{\"code\":%u,\"range\":\"%s\",\"host_ns\":%llu}", i ? "," : "",
			p->port80[i].code, bl_port80_range(p->port80[i].code),
			(unsigned long long)p->port80[i].host_ns);
	fprintf(f, "],\"port80_dropped\":%u", p->port80_dropped);
	print_create_json(p, f);	/* create_vm steps, split */
	fprintf(f, "}\n");
}

int bl_boot_profile_print(const struct vmm_boot_profile *p, enum vmm_profile_format fmt, FILE *f)
{
	if (p->restored)	/* a restore has its own profile */
		print_restore(p, fmt, f);
	else if (fmt == VMM_PROFILE_JSON)
		print_json(p, f);
	else if (fmt == VMM_PROFILE_TEXT)
		print_text(p, f);
	fflush(f);
	return ferror(f) ? -EIO : 0;
}
