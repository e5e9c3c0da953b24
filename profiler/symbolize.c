/* pc -> cleaned function name.  Each symbol is cleaned once, on first use: a profile names
 * the same few hundred functions many thousands of times. */
#include "profiler/profile.h"
#include "profiler/profiler_internal.h"
#include "profiler/symbols.h"
#include "profiler/unwind.h"

#include <errno.h>
#include <stdlib.h>

struct symbolizer {
	const struct symtab *st;
	struct cleaner *cleaner;
	char **clean;		/* per symbol index, NULL until first use */
	const struct inline_index *inl;
	char **inl_clean;	/* per inline name id, NULL until first use */
	struct modules *mods;	/* NULL, or a Linux kernel's modules for pcs outside st */
};

int symbolizer_new(const struct symtab *st, struct symbolizer **out)
{
	struct symbolizer *s = calloc(1, sizeof(*s));
	int ret;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->st = st;
	s->clean = calloc(symtab_count(st) ? symtab_count(st) : 1, sizeof(*s->clean));
	if (!s->clean) {
		free(s);
		return -ENOMEM;
	}
	ret = cleaner_new(&s->cleaner);
	if (ret) {
		free(s->clean);
		free(s);
		return ret;
	}
	*out = s;
	return 0;
}

void symbolizer_free(struct symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < symtab_count(s->st); i++)
		free(s->clean[i]);
	free(s->clean);
	for (size_t i = 0; s->inl && i < inline_index_names(s->inl); i++)
		free(s->inl_clean[i]);
	free(s->inl_clean);
	cleaner_free(s->cleaner);
	free(s);
}

const char *symbolizer_name(struct symbolizer *s, uint64_t pc, bool *known)
{
	long idx = symtab_lookup(s->st, pc, NULL);

	if (idx < 0 && s->mods) {
		const char *name = modules_name(s->mods, pc, s->cleaner);

		if (known)
			*known = name != NULL;
		return name ? name : "??";
	}
	if (known)
		*known = idx >= 0;
	if (idx < 0)
		return "??";
	if (!s->clean[idx]) {
		s->clean[idx] = cleaner_clean(s->cleaner, symtab_name(s->st, idx));
		if (!s->clean[idx])
			return symtab_name(s->st, idx);	/* out of memory: the raw name will do */
	}
	return s->clean[idx];
}

int symbolizer_set_inline(struct symbolizer *s, const struct inline_index *ix)
{
	size_t n = inline_index_names(ix);

	s->inl_clean = calloc(n ? n : 1, sizeof(*s->inl_clean));
	if (!s->inl_clean)
		return -ENOMEM;
	s->inl = ix;
	return 0;
}

void symbolizer_set_modules(struct symbolizer *s, struct modules *m)
{
	s->mods = m;
}

static const char *inline_name(struct symbolizer *s, uint32_t id)
{
	if (!s->inl_clean[id])
		s->inl_clean[id] = cleaner_clean(s->cleaner, inline_index_name(s->inl, id));
	return s->inl_clean[id] ? s->inl_clean[id] : inline_index_name(s->inl, id);
}

size_t symbolizer_frames(struct symbolizer *s, uint64_t pc, unsigned unwind_flags,
			 const char **names, unsigned *flags, size_t max)
{
	uint32_t ids[32];
	size_t n = 0, k;
	bool known;

	/* A return address names the call instruction just before it. */
	if (unwind_flags & UNWIND_RETADDR)
		pc--;
	if (unwind_flags & PROFILE_FRAME_UNKNOWN) {
		names[0] = "??";
		flags[0] = PROFILE_FRAME_UNKNOWN;
		return 1;
	}
	if (s->inl && max > 1) {
		/* Inlined code lies inside its caller's symbol: only look where one is known. */
		if (symtab_lookup(s->st, pc, NULL) >= 0)
			n = inline_lookup(s->inl, pc - symtab_offset(s->st),
					  unwind_flags & UNWIND_INNERMOST, ids,
					  KP_MIN(max - 1, KP_ARRAY_SIZE(ids)));
		for (k = 0; k < n; k++) {
			names[k] = inline_name(s, ids[k]);
			flags[k] = PROFILE_FRAME_INLINE;
		}
	}
	names[n] = symbolizer_name(s, pc, &known);
	flags[n] = known ? 0 : PROFILE_FRAME_UNKNOWN;
	return n + 1;
}
