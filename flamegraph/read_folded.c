/* Folded stacks ("outermost;...;innermost COUNT"), read a line at a time so that a file of any
 * size streams into the tree; and the guess of what kind of input a file is. */
#include "flamegraph/fg_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum fg_input_kind fg_detect_input(const char *head, size_t len)
{
	size_t i = 0;

	if (len >= 3 && !memcmp(head, "\xef\xbb\xbf", 3))
		i = 3;
	while (i < len && isspace((unsigned char)head[i]))
		i++;
	if (i < len && head[i] == '{')
		return FG_INPUT_JSON;
	/* A backtrace shows itself by a "Thread N" header or a "#N " frame line at a line start;
	 * folded lines end in a count and rarely start that way. */
	for (size_t lines = 0; i < len && lines < 64; lines++) {
		const char *p = head + i, *nl = memchr(p, '\n', len - i);
		size_t n = nl ? (size_t)(nl - p) : len - i;

		if ((n > 8 && !memcmp(p, "Thread ", 7) && isdigit((unsigned char)p[7])) ||
		    (n > 2 && p[0] == '#' && isdigit((unsigned char)p[1])))
			return FG_INPUT_GDB_BT;
		i += n + 1;
	}
	return FG_INPUT_FOLDED;
}

int fg_frames_push(struct fg_frames *fr, const char *name)
{
	if (fr->n == fr->cap) {
		size_t cap = fr->cap ? fr->cap * 2 : 64;
		const char **v = realloc(fr->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		fr->v = v;
		fr->cap = cap;
	}
	fr->v[fr->n++] = name;
	return 0;
}

int fg_report_line(const char *name, size_t lineno, int rc)
{
	const char *what;

	switch (rc) {
	case -ECANCELED:
		return rc;	/* the callback has said why */
	case -EOVERFLOW:
		what = "sample counts overflow 64 bits";
		break;
	case -ENOMEM:
		what = "out of memory";
		break;
	case -EINVAL:
		what = "invalid stack";
		break;
	default:
		what = strerror(-rc);
	}
	kp_error("%s: line %zu: %s", name, lineno, what);
	return rc;
}

int fg_line_check(const char *name, size_t lineno, char *line, ssize_t *n)
{
	if (memchr(line, '\0', (size_t)*n)) {
		kp_error("%s: line %zu: binary data (a NUL byte); not a text profile", name, lineno);
		return -EINVAL;
	}
	while (*n > 0 && (line[*n - 1] == '\n' || line[*n - 1] == '\r'))
		line[--*n] = '\0';
	return 0;
}

/* A whole unsigned decimal count; -ERANGE above 64 bits. */
static int parse_count(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

static int parse_line(const char *name, size_t lineno, char *line, size_t n,
		      struct fg_frames *fr, struct fg_stack *st)
{
	char *sp, *count;
	int rc;

	while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		line[--n] = '\0';
	sp = line + n;
	while (sp > line && sp[-1] != ' ' && sp[-1] != '\t')
		sp--;
	if (sp == line) {
		kp_error("%s: line %zu: missing count (expected 'frame;frame;... COUNT')", name,
			 lineno);
		return -EINVAL;
	}
	count = sp;
	if (*count == '-') {
		kp_error("%s: line %zu: negative count '%s'", name, lineno, count);
		return -EINVAL;
	}
	rc = parse_count(count, &st->count);
	if (rc == -ERANGE) {
		kp_error("%s: line %zu: count '%s' is too large (64 bits at most)", name, lineno,
			 count);
		return rc;
	}
	if (rc) {
		kp_error("%s: line %zu: bad count '%.40s' (expected a whole number)", name, lineno,
			 count);
		return rc;
	}
	while (sp > line && (sp[-1] == ' ' || sp[-1] == '\t'))
		sp--;
	*sp = '\0';
	if (sp == line) {
		kp_error("%s: line %zu: empty stack before the count", name, lineno);
		return -EINVAL;
	}
	fr->n = 0;
	for (char *p = line;;) {
		char *semi = strchr(p, ';');

		if (semi)
			*semi = '\0';
		rc = fg_frames_push(fr, p);
		if (rc)
			return fg_report_line(name, lineno, rc);
		if (!semi)
			break;
		p = semi + 1;
	}
	st->cpu = FG_CPU_ANY;
	st->frames = fr->v;
	st->nframes = fr->n;
	return 0;
}

int fg_read_folded(FILE *f, const char *name, fg_stack_fn fn, void *arg)
{
	struct fg_frames fr = { 0 };
	char *line = NULL;
	size_t cap = 0, lineno = 0, nstacks = 0;
	ssize_t n;
	int rc = 0;

	while ((n = getline(&line, &cap, f)) >= 0) {
		struct fg_stack st = { 0 };

		lineno++;
		rc = fg_line_check(name, lineno, line, &n);
		if (rc)
			break;
		if (!n || strspn(line, " \t") == (size_t)n)
			continue;
		rc = parse_line(name, lineno, line, (size_t)n, &fr, &st);
		if (rc)
			break;
		rc = fn(arg, &st);
		if (rc) {
			fg_report_line(name, lineno, rc);
			break;
		}
		nstacks++;
	}
	if (!rc && ferror(f))
		rc = kp_fail(-EIO, "%s: read error", name);
	if (!rc && !nstacks)
		rc = kp_fail(-EINVAL, "%s: no stacks (empty input)", name);
	free(line);
	free(fr.v);
	return rc;
}
