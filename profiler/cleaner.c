/* Frame-name cleaning with pcre2 (used from this file only).
 *
 * Kernel developers read `sched::local_mut_rq_with`, not
 * `sched::{impl#1}::local_mut_rq_with<ostd::task::Task> (...)`.  The passes, in order:
 *   1. a "0x... in " prefix (gdb's frame lines),
 *   2. the final argument list "(...)", "()" or "(int const&) const",
 *   3. "::{impl#N}" and "::{closure#N}" path segments (and the older "{{closure}}"),
 *   4. generic arguments "<...>", nested, but never the "<" of operator<, operator<<, ...
 * then runs of blanks collapse.  A C name passes through unchanged.  Input is demangled
 * text (from gdb or OSDK files, or an unmangled C symbol table).
 */
#include "profiler/profiler_internal.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

enum { RE_PREFIX, RE_ARGS, RE_IMPL, RE_GENERIC, RE_BLANKS, RE_COUNT };

static const char *const patterns[RE_COUNT] = {
	[RE_PREFIX] = "^\\s*0x[0-9a-fA-F]+\\s+in\\s+",
	/* Balanced parentheses at the very end, then C++ qualifiers.  Not "(anonymous namespace)"
	 * in the middle, and not the "()" of "operator()" itself. */
	[RE_ARGS] = "(?<!operator)\\s*(?<p>\\((?:[^()]++|(?&p))*\\))"
		    "(?:\\s*(?:const|volatile|&&|&|noexcept))*\\s*$",
	[RE_IMPL] = "::\\{\\{?(?:impl|closure|shim|constant|opaque)[^{}]*\\}?\\}",
	/* Balanced angle brackets, unless the "<" belongs to an operator name. */
	[RE_GENERIC] = "(?<!operator)(?<!operator<)(?<!operator-)"
		       "(?<g><(?:[^<>]++|(?&g))*>)",
	[RE_BLANKS] = "\\s+",
};

struct cleaner {
	pcre2_code *re[RE_COUNT];
};

int cleaner_new(struct cleaner **out)
{
	struct cleaner *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c)
		return -ENOMEM;
	for (int i = 0; i < RE_COUNT; i++) {
		int err;
		PCRE2_SIZE off;

		c->re[i] = pcre2_compile((PCRE2_SPTR)patterns[i], PCRE2_ZERO_TERMINATED, PCRE2_UTF,
					 &err, &off, NULL);
		if (!c->re[i]) {
			PCRE2_UCHAR msg[128];

			pcre2_get_error_message(err, msg, sizeof(msg));
			kp_error("cleaner: pattern %d at %zu: %s", i, (size_t)off, (char *)msg);
			cleaner_free(c);
			return -EINVAL;
		}
	}
	*out = c;
	return 0;
}

void cleaner_free(struct cleaner *c)
{
	if (!c)
		return;
	for (int i = 0; i < RE_COUNT; i++)
		pcre2_code_free(c->re[i]);
	free(c);
}

/* Replace matches of re in *s (global or first only).  On a pcre2 failure (e.g. a
 * pathological nesting depth) the string is left as it was: cleaning is cosmetic. */
static int subst(pcre2_code *re, char **s, const char *repl, bool global)
{
	size_t inlen = strlen(*s);
	PCRE2_SIZE outlen = inlen + strlen(repl) + 1;
	uint32_t opts = PCRE2_SUBSTITUTE_OVERFLOW_LENGTH | (global ? PCRE2_SUBSTITUTE_GLOBAL : 0);

	for (int attempt = 0; attempt < 2; attempt++) {
		char *out = malloc(outlen);
		int rc;

		if (!out)
			return -ENOMEM;
		rc = pcre2_substitute(re, (PCRE2_SPTR)*s, inlen, 0, opts, NULL, NULL,
				      (PCRE2_SPTR)repl, PCRE2_ZERO_TERMINATED, (PCRE2_UCHAR *)out,
				      &outlen);
		if (rc >= 0) {
			free(*s);
			*s = out;
			return 0;
		}
		free(out);
		if (rc != PCRE2_ERROR_NOMEMORY)
			return 0;
		/* outlen now holds the size needed. */
	}
	return 0;
}

/* Rust's qualified paths "<Type as Trait>::method" name the type: keep "Type". */
static int unqualify(char **s)
{
	char *p = *s;
	size_t depth = 0, i, as_at = 0;

	if (p[0] != '<')
		return 0;
	for (i = 0; p[i]; i++) {
		if (p[i] == '<')
			depth++;
		else if (p[i] == '>' && !--depth)
			break;
		else if (depth == 1 && !as_at && !strncmp(p + i, " as ", 4))
			as_at = i;
	}
	if (!p[i] || !as_at)
		return 0;
	/* "<" Type " as Trait" ">" rest  ->  Type rest */
	memmove(p + as_at, p + i + 1, strlen(p + i + 1) + 1);
	memmove(p, p + 1, strlen(p + 1) + 1);
	return 0;
}

static void trim(char *s)
{
	size_t n = strlen(s), start = 0;

	while (n && s[n - 1] == ' ')
		s[--n] = '\0';
	while (s[start] == ' ')
		start++;
	memmove(s, s + start, n - start + 1);
}

char *cleaner_clean(struct cleaner *c, const char *name)
{
	char *s = strdup(name);

	if (!s)
		return NULL;
	if (subst(c->re[RE_PREFIX], &s, "", false) || subst(c->re[RE_ARGS], &s, "", false) ||
	    subst(c->re[RE_IMPL], &s, "", true) || unqualify(&s) ||
	    subst(c->re[RE_GENERIC], &s, "", true) || subst(c->re[RE_BLANKS], &s, " ", true)) {
		free(s);
		return NULL;
	}
	trim(s);
	/* Nothing left (e.g. the input was only "()"): keep the original rather than "". */
	if (!*s) {
		free(s);
		return strdup(name);
	}
	return s;
}
