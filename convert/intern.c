/* An interning table: byte strings to dense ids 1, 2, ... (pprof's string table, functions,
 * locations and merged samples; the report's functions). */
#include "convert/convert_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash(const void *key, size_t len)
{
	const uint8_t *p = key;
	uint64_t h = 1469598103934665603ull;	/* FNV-1a */

	while (len--)
		h = (h ^ *p++) * 1099511628211ull;
	return h;
}

static int intern_grow(struct intern *t)
{
	size_t ns = t->nslots ? t->nslots * 2 : 1024, *slot = calloc(ns, sizeof(*slot));

	if (!slot)
		return -ENOMEM;
	for (size_t id = 1; id <= t->n; id++) {
		size_t h = hash(t->keys.data + t->off[id - 1], t->len[id - 1]) & (ns - 1);

		while (slot[h])
			h = (h + 1) & (ns - 1);
		slot[h] = id;
	}
	free(t->slot);
	t->slot = slot;
	t->nslots = ns;
	return 0;
}

int intern(struct intern *t, const void *key, size_t len, size_t *id, bool *added)
{
	size_t h;

	*added = false;
	if (2 * (t->n + 1) > t->nslots && intern_grow(t))
		return -ENOMEM;
	for (h = hash(key, len) & (t->nslots - 1); t->slot[h]; h = (h + 1) & (t->nslots - 1)) {
		size_t i = t->slot[h] - 1;

		if (t->len[i] == len && !memcmp(t->keys.data + t->off[i], key, len)) {
			*id = i + 1;
			return 0;
		}
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		size_t *off = realloc(t->off, cap * sizeof(*off)), *ln;

		if (!off)
			return -ENOMEM;
		t->off = off;
		ln = realloc(t->len, cap * sizeof(*ln));
		if (!ln)
			return -ENOMEM;
		t->len = ln;
		t->cap = cap;
	}
	t->off[t->n] = t->keys.len;
	t->len[t->n] = len;
	if (kp_buf_append(&t->keys, key, len) || kp_buf_putc(&t->keys, '\0'))
		return -ENOMEM;
	t->slot[h] = ++t->n;
	*id = t->n;
	*added = true;
	return 0;
}

const void *intern_key(const struct intern *t, size_t id, size_t *len)
{
	if (len)
		*len = t->len[id - 1];
	return t->keys.data + t->off[id - 1];
}

void intern_release(struct intern *t)
{
	kp_buf_release(&t->keys);
	free(t->off);
	free(t->len);
	free(t->slot);
	memset(t, 0, sizeof(*t));
}
