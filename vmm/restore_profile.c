/* The restore profile: the steps of vmm_create from a snapshot (restore.c) and the resume,
 * printed by vmm_boot_profile_print for a restored VM, as a table or one JSON line. */
#include "vmm/internal.h"

static const enum vmm_detail restore_rows[] = {
	VMM_DETAIL_SNAPSHOT_READ, VMM_DETAIL_KVM_OPEN, VMM_DETAIL_KVM_CREATE_VM,
	VMM_DETAIL_VM_ARCH_SETUP, VMM_DETAIL_DEVICES, VMM_DETAIL_MEM_MMAP, VMM_DETAIL_MEM_REGION,
	VMM_DETAIL_VCPU_CREATE, VMM_DETAIL_CPUID, VMM_DETAIL_MEMORY_STATE, VMM_DETAIL_VCPU_STATE,
	VMM_DETAIL_DEVICE_STATE, VMM_DETAIL_VCPU_THREADS, VMM_DETAIL_RESUME,
};

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
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
