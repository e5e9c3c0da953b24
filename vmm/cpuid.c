/* CPUID and boot MSRs for each vCPU.
 *
 * CPUID starts from what KVM supports and is patched per vCPU: the initial APIC id (leaf 1,
 * leaf 0xb/0x1f x2APIC id), a flat topology (one thread per core, all cores in one package),
 * the hypervisor bit, and KVM's hypervisor leaves with a VMware-style timing leaf 0x40000010
 * (EAX = TSC kHz, EBX = APIC bus kHz) so a guest can calibrate its clock without a PIT. */
#include "vmm/cpu_template.h"
#include "vmm/internal.h"

#include "common/common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define MAX_ENTRIES 256
#define EXTRA_ENTRIES 16
#define CPUID_HYPERVISOR (1u << 31)
#define CPUID_HTT (1u << 28)
#define KVM_SIG_EBX 0x4b4d564bu	/* "KVMK" */
#define KVM_SIG_ECX 0x564b4d56u	/* "VMKV" */
#define KVM_SIG_EDX 0x0000004du	/* "M\0\0\0" */
#define APIC_BUS_KHZ 1000000u	/* KVM's LAPIC timer counts at 1 GHz */

/* Measured on the PVM backend: KVM_GET_SUPPORTED_CPUID lists only the bits KVM governs (leaf 1
 * ECX: cx16, x2apic, tsc-deadline, hypervisor), and the guest's CPUID shows the host's own value
 * for every other bit, whatever the table says.  Removing such a feature cannot work there;
 * say so, and what the guest can do instead. */
static void warn_ungoverned(const struct vmm_cpu_template *t, const struct vmm_cpuid_leaf *l,
			    size_t n)
{
	for (unsigned i = 0; i < t->n; i++) {
		struct vmm_cpu_bit b;
		const char *name;
		bool governed = false;

		if (t->items[i].on || !vmm_cpu_feature(t->items[i].feature, &name, &b))
			continue;
		for (size_t j = 0; j < n; j++)
			if (l[j].leaf == b.leaf && l[j].subleaf == b.subleaf)
				governed = l[j].reg[b.reg] & (1u << b.bit);
		if (!governed)
			kp_warn("CPU template: -%s: this host's KVM (PVM) shows the guest the host's %s bit "
				"whatever CPUID says; ask the guest instead (Linux: clearcpuid=%s)",
				name, name, name);
	}
}

/* --cpu: the feature template on the supported table, before the per-vCPU patches (which
 * touch no feature bit but the hypervisor flag). */
static int apply_template(struct kvm_cpuid2 *c, const char *spec, bool emulated_cpl0)
{
	struct vmm_cpuid_leaf *l = calloc(c->nent ? c->nent : 1, sizeof(*l));
	struct vmm_cpu_template t;
	char err[160];
	int ret;

	if (!l)
		return -ENOMEM;
	for (uint32_t i = 0; i < c->nent; i++)
		l[i] = (struct vmm_cpuid_leaf){ c->entries[i].function, c->entries[i].index,
			{ c->entries[i].eax, c->entries[i].ebx, c->entries[i].ecx, c->entries[i].edx } };
	ret = vmm_cpu_template_parse(spec, &t, err, sizeof(err));
	if (!ret && emulated_cpl0)
		warn_ungoverned(&t, l, c->nent);
	if (!ret)
		ret = vmm_cpu_template_apply(&t, l, c->nent, err, sizeof(err));
	if (ret) {
		kp_error("CPU template '%s': %s", spec, err);
		free(l);
		return -EINVAL;
	}
	for (uint32_t i = 0; i < c->nent; i++) {
		c->entries[i].eax = l[i].reg[0];
		c->entries[i].ebx = l[i].reg[1];
		c->entries[i].ecx = l[i].reg[2];
		c->entries[i].edx = l[i].reg[3];
	}
	free(l);
	return 0;
}

int vmm_cpuid_init(struct vmm *vm)
{
	size_t size = sizeof(struct kvm_cpuid2) + (MAX_ENTRIES + EXTRA_ENTRIES) *
						   sizeof(struct kvm_cpuid_entry2);

	vm->cpuid = calloc(1, size);
	if (!vm->cpuid)
		return -ENOMEM;
	vm->cpuid->nent = MAX_ENTRIES;
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, vm->cpuid) < 0) {
		int err = errno;
		kp_error("KVM_GET_SUPPORTED_CPUID: %s", strerror(err));
		return -err;
	}
	return 0;
}

int vmm_cpu_template(struct vmm *vm, struct vmm_create_ctx *c)
{
	(void)c;
	return vm->cfg.cpu ? apply_template(vm->cpuid, vm->cfg.cpu, vm->emulated_cpl0) : 0;
}

static unsigned order(unsigned n)
{
	unsigned s = 0;

	while ((1u << s) < n)
		s++;
	return s;
}

/* Append or overwrite (function, index). */
static struct kvm_cpuid_entry2 *entry(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx, bool add)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	if (!add || c->nent >= MAX_ENTRIES + EXTRA_ENTRIES)
		return NULL;
	struct kvm_cpuid_entry2 *e = &c->entries[c->nent++];
	memset(e, 0, sizeof(*e));
	e->function = fn;
	e->index = idx;
	return e;
}

static void topology_leaf(struct kvm_cpuid2 *c, uint32_t leaf, unsigned ncpus, unsigned apic)
{
	/* Subleaf 0: SMT level (1 thread per core); 1: core level (ncpus per package). */
	for (uint32_t sub = 0; sub < 4; sub++) {
		struct kvm_cpuid_entry2 *e = entry(c, leaf, sub, sub < 3);

		if (!e)
			continue;
		e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
		e->edx = apic;
		if (sub == 0) {
			e->eax = 0;
			e->ebx = 1;
			e->ecx = (1u << 8) | sub;
		} else if (sub == 1) {
			e->eax = order(ncpus);
			e->ebx = ncpus;
			e->ecx = (2u << 8) | sub;
		} else {
			e->eax = e->ebx = 0;
			e->ecx = sub;
		}
	}
}

int vmm_vcpu_set_cpuid(struct vmm *vm, struct vmm_vcpu *vcpu)
{
	size_t size = sizeof(struct kvm_cpuid2) + (MAX_ENTRIES + EXTRA_ENTRIES) *
						   sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *c = malloc(size);
	unsigned apic = (unsigned)vcpu->id, n = vm->ncpus;
	uint32_t max_basic = 0;
	int ret = 0;

	if (!c)
		return -ENOMEM;
	memcpy(c, vm->cpuid, size);
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 0:
			max_basic = e->eax;
			break;
		case 1:
			e->ebx = (e->ebx & 0x0000ffffu) | (apic << 24) | ((n > 1 ? n : 1) << 16);
			e->ecx |= CPUID_HYPERVISOR;
			if (n > 1)
				e->edx |= CPUID_HTT;
			break;
		case 4:
			/* EAX[31:26]: cores per package - 1; EAX[25:14]: logical CPUs sharing this
			 * cache - 1: each core has its own L1/L2, the L3 is shared by all. */
			if (e->eax & 0x1f) {
				unsigned level = (e->eax >> 5) & 7;

				e->eax &= 0x00003fffu;
				e->eax |= ((n - 1) & 0x3f) << 26;
				if (level >= 3)
					e->eax |= ((n - 1) & 0xfff) << 14;
			}
			break;
		}
	}
	if (max_basic >= 0xb)
		topology_leaf(c, 0xb, n, apic);
	if (max_basic >= 0x1f)
		topology_leaf(c, 0x1f, n, apic);

	struct kvm_cpuid_entry2 *h = entry(c, 0x40000000, 0, true);
	if (h) {
		h->eax = 0x40000010;
		h->ebx = KVM_SIG_EBX;
		h->ecx = KVM_SIG_ECX;
		h->edx = KVM_SIG_EDX;
	}
	struct kvm_cpuid_entry2 *t = entry(c, 0x40000010, 0, true);
	if (t) {
		t->eax = vm->tsc_khz;
		t->ebx = APIC_BUS_KHZ;
		t->ecx = t->edx = 0;
	}
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, c) < 0) {
		ret = -errno;
		kp_error("cpu %d: KVM_SET_CPUID2: %s", vcpu->id, strerror(-ret));
	}
	free(c);
	return ret;
}

/* The MSRs Firecracker and kvmtool set on every vCPU at boot. */
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_IA32_TSC 0x10
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MISC_ENABLE_FAST_STRING 1ull
#define MTRR_ENABLE (1ull << 11)
#define MTRR_WB 6ull

int vmm_vcpu_set_msrs(struct vmm_vcpu *vcpu)
{
	static const struct { uint32_t index; uint64_t data; } boot[] = {
		{ MSR_IA32_SYSENTER_CS, 0 }, { MSR_IA32_SYSENTER_ESP, 0 },
		{ MSR_IA32_SYSENTER_EIP, 0 }, { MSR_STAR, 0 }, { MSR_CSTAR, 0 },
		{ MSR_KERNEL_GS_BASE, 0 }, { MSR_SYSCALL_MASK, 0 }, { MSR_LSTAR, 0 },
		{ MSR_IA32_TSC, 0 }, { MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING },
		{ MSR_MTRR_DEF_TYPE, MTRR_ENABLE | MTRR_WB },
	};
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[KP_ARRAY_SIZE(boot)];
	} msrs;
	int n;

	memset(&msrs, 0, sizeof(msrs));
	msrs.hdr.nmsrs = KP_ARRAY_SIZE(boot);
	for (size_t i = 0; i < KP_ARRAY_SIZE(boot); i++) {
		msrs.e[i].index = boot[i].index;
		msrs.e[i].data = boot[i].data;
	}
	n = ioctl(vcpu->fd, KVM_SET_MSRS, &msrs);
	if (n < 0) {
		int err = errno;
		kp_error("cpu %d: KVM_SET_MSRS: %s", vcpu->id, strerror(err));
		return -err;
	}
	/* KVM stops at the first MSR it refuses; not fatal, the guest programs what it uses. */
	if ((size_t)n < KP_ARRAY_SIZE(boot))
		kp_debug("cpu %d: KVM accepted %d of %zu boot MSRs (stopped at 0x%x)", vcpu->id, n,
			 KP_ARRAY_SIZE(boot), boot[n].index);
	return 0;
}
