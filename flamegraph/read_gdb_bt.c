/* gdb's "thread apply all bt" text, as OSDK's profiler collected it: a "Thread N (...):" header
 * per vCPU, then frames "#0  0xffffffff81001234 in func (args) at file.rs:12" (frame #0 may
 * lack the address).  Each thread's backtrace is one sample.  Lines gdb adds around the
 * frames ("Backtrace stopped", prompts, "[Switching to thread ...]") are skipped. */
#include "flamegraph/fg_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct bt_state {
	const char *name;
	fg_stack_fn fn;
	void *arg;
	int cpu;
	struct kp_buf names;	/* this backtrace's names, NUL-separated, innermost first */
	size_t nframes;
	struct fg_frames fr;
	size_t nstacks;
};

static int flush(struct bt_state *s, size_t lineno)
{
	struct fg_stack st = { 0 };
	const char *p = s->names.data;
	int rc;

	if (!s->nframes)
		return 0;
	s->fr.n = 0;
	for (size_t i = 0; i < s->nframes; i++) {
		rc = fg_frames_push(&s->fr, p);
		if (rc)
			return fg_report_line(s->name, lineno, rc);
		p += strlen(p) + 1;
	}
	/* gdb prints the innermost frame first; stacks go outermost first. */
	for (size_t i = 0, j = s->nframes - 1; i < j; i++, j--) {
		const char *tmp = s->fr.v[i];

		s->fr.v[i] = s->fr.v[j];
		s->fr.v[j] = tmp;
	}
	st.cpu = s->cpu;
	st.frames = s->fr.v;
	st.nframes = s->nframes;
	st.count = 1;
	rc = s->fn(s->arg, &st);
	if (rc)
		return fg_report_line(s->name, lineno, rc);
	s->nframes = 0;
	kp_buf_reset(&s->names);
	s->nstacks++;
	return 0;
}

/* "Thread 3 (Thread 1.3 (CPU#2 [running])):" is CPU 2; without a CPU#, thread N is CPU N-1. */
static int thread_line(struct bt_state *s, size_t lineno, const char *line)
{
	const char *q = strstr(line, "CPU#");
	char *end;
	unsigned long v;

	if (q) {
		v = strtoul(q + 4, &end, 10);
		if (end != q + 4 && v < 4096) {
			s->cpu = (int)v;
			return 0;
		}
	}
	v = strtoul(line + 7, &end, 10);
	if (end == line + 7 || v == 0 || v > 4096) {
		kp_error("%s: line %zu: bad thread number in '%.60s'", s->name, lineno, line);
		return -EINVAL;
	}
	s->cpu = (int)v - 1;
	return 0;
}

static int frame_line(struct bt_state *s, size_t lineno, const char *line)
{
	const char *p = line + 1, *name, *end;
	char *num_end;
	unsigned long idx = strtoul(p, &num_end, 10);
	int rc;

	if (idx == 0 && s->nframes) {
		rc = flush(s, lineno);	/* a new backtrace of the same thread */
		if (rc)
			return rc;
	}
	if (idx != s->nframes) {
		kp_error("%s: line %zu: frame #%lu out of order (expected #%zu)", s->name, lineno,
			 idx, s->nframes);
		return -EINVAL;
	}
	p = num_end;
	while (*p == ' ')
		p++;
	if (p[0] == '0' && p[1] == 'x') {
		p += 2;
		while (isxdigit((unsigned char)*p))
			p++;
		if (strncmp(p, " in ", 4)) {
			kp_error("%s: line %zu: expected 'in FUNCTION' after the address", s->name,
				 lineno);
			return -EINVAL;
		}
		p += 4;
	}
	name = p;
	end = strstr(name, " (");
	if (!end)
		end = strstr(name, " at ");
	if (!end)
		end = strstr(name, " from ");
	if (!end)
		end = name + strlen(name);
	while (end > name && end[-1] == ' ')
		end--;
	if (end == name) {
		kp_error("%s: line %zu: frame #%lu has no function name", s->name, lineno, idx);
		return -EINVAL;
	}
	rc = kp_buf_append(&s->names, name, (size_t)(end - name));
	if (!rc)
		rc = kp_buf_putc(&s->names, '\0');
	if (rc)
		return fg_report_line(s->name, lineno, rc);
	s->nframes++;
	return 0;
}

int fg_read_gdb_bt(FILE *f, const char *name, fg_stack_fn fn, void *arg)
{
	struct bt_state s = { .name = name, .fn = fn, .arg = arg, .cpu = 0 };
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	int rc = 0;

	kp_buf_init(&s.names);
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		rc = fg_line_check(name, lineno, line, &n);
		if (rc)
			break;
		if (!strncmp(line, "Thread ", 7)) {
			rc = flush(&s, lineno);
			if (!rc)
				rc = thread_line(&s, lineno, line);
		} else if (line[0] == '#' && isdigit((unsigned char)line[1])) {
			rc = frame_line(&s, lineno, line);
		} else if (strspn(line, " \t") == (size_t)n) {
			rc = flush(&s, lineno);
		}
		if (rc)
			break;
	}
	if (!rc)
		rc = flush(&s, lineno);
	if (!rc && ferror(f))
		rc = kp_fail(-EIO, "%s: read error", name);
	if (!rc && !s.nstacks)
		rc = kp_fail(-EINVAL, "%s: no backtraces found", name);
	free(line);
	free(s.fr.v);
	kp_buf_release(&s.names);
	return rc;
}
