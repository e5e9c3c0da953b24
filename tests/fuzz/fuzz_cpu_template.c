/* libFuzzer: any --cpu value -> the template parser and, when it parses, its application to a
 * CPUID table; and any bytes -> the instruction-to-feature hint.  Nothing may be read outside
 * the input (ASan), and an applied template never sets a bit the table did not have. */
#include "vmm/cpu_template.h"
#include "vmm/insn_hint.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmm_cpuid_leaf l[4] = {
		{ 1, 0, { 0, 0, 0x81202000u, 0x0f8bfbffu } }, { 7, 0, { 2, 0x01802852u, 0, 0 } },
		{ 0xd, 1, { 0xf, 0, 0, 0 } }, { 0x80000001, 0, { 0, 0, 0x121, 0x2c100800u } },
	}, before[4];
	struct vmm_cpu_template t;
	char err[160], *spec = malloc(size + 1);
	const char *mn;

	if (!spec)
		return 0;
	memcpy(spec, data, size);
	spec[size] = 0;
	memcpy(before, l, sizeof(l));
	if (vmm_cpu_template_parse(spec, &t, err, sizeof(err)) == 0 &&
	    vmm_cpu_template_apply(&t, l, 4, err, sizeof(err)) == 0)
		for (int i = 0; i < 4; i++)
			for (int r = 0; r < 4; r++)
				if (l[i].reg[r] & ~before[i].reg[r])
					abort();
	vmm_insn_feature(data, size, &mn);
	free(spec);
	return 0;
}
