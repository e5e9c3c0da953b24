/* libFuzzer harness for the frame-name cleaner: any text, never a crash or hang, and the
 * cleaned name is never longer than the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profiler/profiler_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cleaner *c;
	char *in, *out;

	if (size > 4096 || cleaner_new(&c))
		return 0;
	in = malloc(size + 1);
	if (!in) {
		cleaner_free(c);
		return 0;
	}
	memcpy(in, data, size);
	in[size] = '\0';
	out = cleaner_clean(c, in);
	if (out && strlen(out) > strlen(in))
		abort();
	free(out);
	free(in);
	cleaner_free(c);
	return 0;
}
