/* vmm internal: CPU feature templates in QEMU's -cpu spelling ("host,-cx16,-xsave,+pdpe1gb"),
 * parsed and applied to a CPUID table.  Independent of KVM so it can be tested on a buffer. */
#ifndef KPROF_VMM_CPU_TEMPLATE_H
#define KPROF_VMM_CPU_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMM_CPU_TEMPLATE_MAX 32

/* One CPUID bit: leaf, subleaf (0 when the leaf has none) and register 0-3 = EAX, EBX, ECX,
 * EDX. */
struct vmm_cpu_bit {
	uint32_t leaf, subleaf;
	uint8_t reg, bit;
};

struct vmm_cpu_template {
	unsigned n;
	struct {
		unsigned feature;	/* index into the feature table */
		bool on;
	} items[VMM_CPU_TEMPLATE_MAX];
};

/* One CPUID entry as the template sees it (the caller converts from kvm_cpuid_entry2). */
struct vmm_cpuid_leaf {
	uint32_t leaf, subleaf;
	uint32_t reg[4];
};

/* Parse "host[,+f|-f|f|f=on|f=off]..."; the model must be "host" (or QEMU's synonym "max").
 * -EINVAL with err naming the bad item. */
int vmm_cpu_template_parse(const char *spec, struct vmm_cpu_template *t, char *err, size_t len);

/* Apply the template to a CPUID table in place.  A removed feature also removes the features
 * that need it (-xsave takes AVX and the XSAVE extensions with it, as Linux's own CPUID
 * dependency table does).  An added feature must be in the table already (KVM supports it):
 * otherwise -ENOTSUP with err naming it. */
int vmm_cpu_template_apply(const struct vmm_cpu_template *t, struct vmm_cpuid_leaf *leaves,
			   size_t nleaves, char *err, size_t len);

/* The name and CPUID bit of feature i (false past the end of the table). */
bool vmm_cpu_feature(unsigned i, const char **name, struct vmm_cpu_bit *bit);

#endif
