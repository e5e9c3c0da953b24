/* libFuzzer harness for the BTF reader (profiler/btf.c).  Input: a type name, NUL, a member
 * path, NUL, then BTF bytes.  The bytes are parsed as a base and, split at their middle, as a
 * base with a module's split BTF on top; the name and path are asked of each as a member, a
 * size, an enumerator and a data-section variable.  Never a crash, leak or hang. */
#include <stdint.h>
#include <string.h>

#include "profiler/btf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ask(const struct btf *b, const char *type, const char *path)
{
	struct btf_field f;
	uint64_t v, sz;
	int64_t e;

	btf_member(b, type, path, &f);
	btf_sizeof(b, type, &v);
	btf_enum_value(b, path, &e);
	btf_var_offset(b, type, path, &v, &sz);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *t = data, *p, *end = data + size, *blob;
	struct btf *base, *split;
	size_t len, half;

	if (!(p = memchr(t, 0, size)) || !(blob = memchr(p + 1, 0, (size_t)(end - p - 1))))
		return 0;
	p++;
	blob++;
	len = (size_t)(end - blob);
	if (!btf_parse(blob, len, NULL, &base)) {
		ask(base, (const char *)t, (const char *)p);
		btf_free(base);
	}
	half = len / 2;
	if (!btf_parse(blob, half, NULL, &base)) {
		if (!btf_parse(blob + half, len - half, base, &split)) {
			ask(split, (const char *)t, (const char *)p);
			btf_free(split);
		}
		btf_free(base);
	}
	return 0;
}
