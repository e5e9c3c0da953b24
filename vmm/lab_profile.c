/* The boot lab's additions to the boot profile: the tVMM/tFW/tKernel split, the create-VM
 * breakdown (both added to the table and JSON of a boot), and the restore profile, which
 * replaces the boot profile of a VM resumed from a snapshot. */
#include "vmm/internal.h"

#include <string.h>

static const enum vmm_detail create_rows[] = {
	VMM_DETAIL_KVM_CREATE_VM, VMM_DETAIL_VM_ARCH_SETUP, VMM_DETAIL_DEVICES,
	VMM_DETAIL_MEM_MMAP, VMM_DETAIL_MEM_REGION, VMM_DETAIL_ELF_LOAD, VMM_DETAIL_INITRD_READ,
	VMM_DETAIL_INITRD_WRITE, VMM_DETAIL_BOOT_PARAMS, VMM_DETAIL_VCPU_CREATE, VMM_DETAIL_CPUID, VMM_DETAIL_MSRS, VMM_DETAIL_REGS,
	VMM_DETAIL_VCPU_THREADS,
};

static const enum vmm_detail restore_rows[] = {
	VMM_DETAIL_SNAPSHOT_READ, VMM_DETAIL_KVM_OPEN, VMM_DETAIL_KVM_CREATE_VM,
	VMM_DETAIL_VM_ARCH_SETUP, VMM_DETAIL_DEVICES, VMM_DETAIL_MEM_MMAP, VMM_DETAIL_MEM_REGION,
	VMM_DETAIL_VCPU_CREATE, VMM_DETAIL_CPUID, VMM_DETAIL_MEMORY_STATE, VMM_DETAIL_VCPU_STATE,
	VMM_DETAIL_DEVICE_STATE, VMM_DETAIL_VCPU_THREADS, VMM_DETAIL_RESUME,
};

const enum vmm_detail *vmm_detail_rows(bool restore, size_t *n)
{
	*n = restore ? KP_ARRAY_SIZE(restore_rows) : KP_ARRAY_SIZE(create_rows);
	return restore ? restore_rows : create_rows;
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

/* tVMM: the monitor's work until the guest's first instruction (vmm_start); tFW: from there to
 * the first kernel-range port-0x80 code (0x40-0x5f), or without one the first BOOT_TIME line;
 * tKernel: from there to the end of the run.  An end before the kernel is all tFW. */
void vmm_boot_split(const struct vmm_boot_profile *p, struct vmm_boot_split *s)
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

void vmm_lab_profile_print_text(const struct vmm_boot_profile *p, FILE *f)
{
	struct vmm_boot_split s;

	fprintf(f, "\n  %-28s %12s\n", "create-VM step", "time (ms)");
	for (size_t i = 0; i < KP_ARRAY_SIZE(create_rows); i++)
		fprintf(f, "  %-28s %12.3f\n", vmm_detail_name(create_rows[i]),
			ms(p->detail_ns[create_rows[i]]));
	if (!p->start_ns || !p->end_ns)
		return;
	vmm_boot_split(p, &s);
	fprintf(f, "\n  %-28s %12s\n", "split (NEMU-style)", "time (ms)");
	fprintf(f, "  %-28s %12.3f\n", "tVMM (to first instruction)", ms(s.tvmm));
	fprintf(f, "  %-28s %12.3f\n", "tFW (to the kernel)", ms(s.tfw));
	if (s.has_kernel)
		fprintf(f, "  %-28s %12.3f\n", "tKernel (to the end)", ms(s.tkernel));
}

void vmm_lab_profile_print_json(const struct vmm_boot_profile *p, FILE *f)
{
	struct vmm_boot_split s;

	fprintf(f, ",\"create_vm\":[");
	for (size_t i = 0; i < KP_ARRAY_SIZE(create_rows); i++)
		fprintf(f, "%s{\"name\":\"%s\",\"ns\":%llu}", i ? "," : "",
			vmm_detail_name(create_rows[i]),
			(unsigned long long)p->detail_ns[create_rows[i]]);
	fprintf(f, "]");
	if (!p->start_ns || !p->end_ns)
		return;
	vmm_boot_split(p, &s);
	fprintf(f, ",\"split\":{\"tvmm_ns\":%llu,\"tfw_ns\":%llu", (unsigned long long)s.tvmm,
		(unsigned long long)s.tfw);
	if (s.has_kernel)
		fprintf(f, ",\"tkernel_ns\":%llu", (unsigned long long)s.tkernel);
	fprintf(f, "}");
}

void vmm_restore_profile_print(const struct vmm_boot_profile *p, enum vmm_profile_format fmt,
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
