/* pc -> cleaned function name.  Each symbol is cleaned once, on first use: a profile names
 * the same few hundred functions many thousands of times. */
#include "profiler/profiler.h"

#include <errno.h>
#include <stdlib.h>

struct symbolizer {
	const struct symtab *st;
	struct cleaner *cleaner;
	char **clean;		/* per symbol index, NULL until first use */
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
	cleaner_free(s->cleaner);
	free(s);
}

const char *symbolizer_name(struct symbolizer *s, uint64_t pc, bool *known)
{
	long idx = symtab_lookup(s->st, pc, NULL);

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
