/* Loading profiles of any supported kind for parse and diff, and their shared options. */
#include "cli/flame_input.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Expanding folded counts into samples for JSON output stops here: a folded file of a few
 * lines can claim billions of samples. */
#define MAX_EXPANDED_SAMPLES 10000000ull

void flame_opts_init(struct flame_opts *o)
{
	memset(o, 0, sizeof(*o));
	fg_svg_options_init(&o->svg);
	kp_cpumask_all(&o->mask);
}

static int positive(const char *opt, const char *arg, double lo, double hi, double *out)
{
	char *end;
	double v = strtod(arg, &end);

	if (end == arg || *end || !(v >= lo && v <= hi))
		return kp_error("--%s: '%s' is not a number from %g to %g", opt, arg, lo, hi);
	*out = v;
	return 0;
}

int flame_option(int opt, const char *arg, struct flame_opts *o)
{
	double v;

	switch (opt) {
	case OPT_TITLE:
		o->svg.title = arg;
		return 1;
	case OPT_SUBTITLE:
		o->svg.subtitle = arg;
		return 1;
	case OPT_COUNTNAME:
		o->svg.countname = arg;
		return 1;
	case OPT_WIDTH:
		if (positive("width", arg, 100, 1000000, &v))
			return -EINVAL;
		o->svg.width = (unsigned)v;
		return 1;
	case OPT_HEIGHT:
		if (positive("height", arg, 4, 1000, &v))
			return -EINVAL;
		o->svg.frame_height = (unsigned)v;
		return 1;
	case OPT_MINWIDTH:
		if (positive("minwidth", arg, 0, 1e9, &o->svg.minwidth))
			return -EINVAL;
		return 1;
	case OPT_COLORS:
		if (fg_palette_parse(arg, &o->svg.palette)) {
			kp_error("--colors: unknown palette '%s' (one of %s)", arg, fg_palette_names());
			return -EINVAL;
		}
		return 1;
	case OPT_HASH:
		o->svg.hash = true;
		return 1;
	case OPT_INVERTED:
		o->svg.inverted = true;
		return 1;
	case OPT_REVERSE:
		o->reverse = true;
		return 1;
	case OPT_PER_CPU:
		o->per_cpu = true;
		return 1;
	case OPT_NO_TASKS:
		o->tasks = FLAME_TASKS_NONE;
		return 1;
	case OPT_TASKS:
		return flame_tasks_parse(arg, &o->tasks) ? -EINVAL : 1;
	case OPT_COMM:
		o->comm = arg;
		return 1;
	case OPT_CPU_MASK: {
		int rc = kp_cpumask_parse(arg, &o->mask);

		if (rc) {
			kp_error("--cpu-mask: '%s' is not a CPU mask (decimal or 0x-hex, %s)", arg,
				 rc == -ERANGE ? "at most 128 bits" : "e.g. 0x3");
			return rc;
		}
		o->mask_text = arg;
		return 1;
	}
	default:
		return 0;
	}
}

int flame_tasks_parse(const char *arg, enum flame_tasks *out)
{
	if (!strcmp(arg, "comm"))
		*out = FLAME_TASKS_COMM;
	else if (!strcmp(arg, "pid"))
		*out = FLAME_TASKS_PID;
	else if (!strcmp(arg, "tid"))
		*out = FLAME_TASKS_TID;
	else
		return kp_error("--tasks: '%s' is not comm, pid or tid", arg), -EINVAL;
	return 0;
}

void flame_task_root(const struct profile_task *t, enum flame_tasks mode, char *buf)
{
	char *p;

	if (t->pid < 0 || mode == FLAME_TASKS_COMM)
		snprintf(buf, FLAME_TASK_ROOT_MAX, "%s", t->comm);
	else if (mode == FLAME_TASKS_PID)
		snprintf(buf, FLAME_TASK_ROOT_MAX, "%s-%d", t->comm, (int)t->tgid);
	else
		snprintf(buf, FLAME_TASK_ROOT_MAX, "%s-%d/%d", t->comm, (int)t->tgid, (int)t->pid);
	/* As stackcollapse-perf.pl: no blanks in a frame; ';' separates frames in folded. */
	for (p = buf; *p; p++)
		if (*p == ' ' || *p == ';')
			*p = '_';
}

/* --comm on folded or gdb input, which have no tasks: the root frame is the task's, as
 * perf's folded stacks have it ("dd" or "dd-123" or "dd-123/124"). */
static bool root_is_comm(const struct fg_stack *s, const char *comm)
{
	size_t n = strlen(comm);
	const char *root = s->nframes ? s->frames[0] : "";

	return !strncmp(root, comm, n) &&
	       (!root[n] || (root[n] == '-' && root[n + 1] >= '0' && root[n + 1] <= '9'));
}

static int cpu_wanted(const struct flame_source *src, int cpu)
{
	if (!src->mask)
		return 1;
	return cpu >= 0 && cpu < KP_CPUMASK_BITS && kp_cpumask_test(src->mask, (unsigned)cpu);
}

/* Append one sample holding stack s (outermost first) to the profile, innermost first. */
static int profile_append(struct profile *p, const struct fg_stack *s)
{
	struct profile_sample *smp = profile_add_sample(p, 1);
	struct profile_stack *st;

	if (!smp)
		return -ENOMEM;
	st = &smp->stacks[0];
	st->cpu = s->cpu < 0 ? 0 : s->cpu;
	st->frames = calloc(s->nframes, sizeof(*st->frames));
	if (!st->frames)
		return -ENOMEM;
	for (size_t i = 0; i < s->nframes; i++) {
		st->frames[i].name = strdup(s->frames[s->nframes - 1 - i]);
		if (!st->frames[i].name)
			return -ENOMEM;
		st->nframes = i + 1;
	}
	if (st->cpu >= p->ncpus)
		p->ncpus = st->cpu + 1;
	return 0;
}

static int on_stack(void *arg, const struct fg_stack *s)
{
	struct flame_source *src = arg;
	struct fg_stack st = *s;
	int rc;

	if (!cpu_wanted(src, s->cpu) || (src->comm && !root_is_comm(s, src->comm)))
		return 0;
	if (src->want_profile) {
		if (s->count > MAX_EXPANDED_SAMPLES ||
		    src->nstacks + s->count > MAX_EXPANDED_SAMPLES) {
			kp_error("%s: more than %llu samples; too many to write as a profile "
				 "(folded and svg output have no limit)", src->path,
				 MAX_EXPANDED_SAMPLES);
			return -ECANCELED;
		}
		for (uint64_t i = 0; i < s->count; i++) {
			rc = profile_append(src->profile, s);
			if (rc)
				return rc;
		}
	}
	if (src->tree) {
		if (!src->per_cpu)
			st.cpu = FG_CPU_ANY;
		rc = fg_tree_add(src->tree, &st, src->slot);
		if (rc)
			return rc;
	}
	src->nstacks += s->count;
	return 0;
}

/* A trace.json profile's stacks into the tree: innermost-first frames turned around. */
static int profile_to_tree(struct flame_source *src, const struct profile *p)
{
	struct kp_buf ann;
	int rc = 0;

	kp_buf_init(&ann);
	for (size_t i = 0; i < p->nsamples && !rc; i++) {
		for (size_t j = 0; j < p->samples[i].nstacks && !rc; j++) {
			const struct profile_stack *ps = &p->samples[i].stacks[j];
			struct fg_stack st = { .cpu = src->per_cpu ? ps->cpu : FG_CPU_ANY, .count = 1 };
			bool root = ps->has_task && src->tasks != FLAME_TASKS_NONE;
			size_t *offs, n = ps->nframes + root;
			const char **names;

			if (!ps->nframes ||
			    (src->comm && (!ps->has_task || strcmp(ps->task.comm, src->comm))))
				continue;
			offs = calloc(n, sizeof(*offs));
			names = calloc(n, sizeof(*names));
			if (!offs || !names) {
				free(offs);
				free(names);
				rc = -ENOMEM;
				break;
			}
			/* Names are copied into one buffer first: pointers into it move as it grows. */
			kp_buf_reset(&ann);
			if (root) {
				char name[FLAME_TASK_ROOT_MAX];

				flame_task_root(&ps->task, src->tasks, name);
				offs[0] = 0;
				rc = kp_buf_append(&ann, name, strlen(name) + 1);
			}
			for (size_t k = 0; k < ps->nframes && !rc; k++) {
				const struct profile_frame *fr = &ps->frames[ps->nframes - 1 - k];

				offs[k + root] = ann.len;
				rc = kp_buf_puts(&ann, fr->name ? fr->name : "??");
				if (!rc && src->annotate_user && (fr->flags & PROFILE_FRAME_USER))
					rc = kp_buf_puts(&ann, "_[u]");
				if (!rc)
					rc = kp_buf_putc(&ann, '\0');
			}
			for (size_t k = 0; k < n && !rc; k++)
				names[k] = ann.data + offs[k];
			st.frames = names;
			st.nframes = n;
			if (!rc)
				rc = fg_tree_add(src->tree, &st, src->slot);
			free(offs);
			free(names);
			src->nstacks++;
		}
	}
	kp_buf_release(&ann);
	if (rc == -EOVERFLOW)
		kp_error("%s: sample counts overflow 64 bits", src->path);
	else if (rc)
		kp_error("%s: %s", src->path, strerror(-rc));
	return rc;
}

int flame_add_profile(struct flame_source *src, const struct profile *p)
{
	return profile_to_tree(src, p);
}

static int load_json(struct flame_source *src)
{
	struct profile *p;
	int rc = profile_read_json(src->path, &p);

	if (rc)
		return rc;
	if (src->mask)
		profile_filter_cpus(p, src->mask);
	if (src->comm)
		profile_filter_comm(p, src->comm);
	if (src->tree) {
		rc = profile_to_tree(src, p);
	} else {
		for (size_t i = 0; i < p->nsamples; i++)
			src->nstacks += p->samples[i].nstacks;
	}
	if (!rc && src->want_profile)
		src->profile = p;
	else
		profile_free(p);
	return rc;
}

/* Standard input cannot seek back after its first bytes were read to guess its kind: a
 * stream that serves those bytes again, then the rest of the input. */
struct replay {
	char head[4096];
	size_t n, pos;
	FILE *rest;
};

static ssize_t replay_read(void *cookie, char *buf, size_t size)
{
	struct replay *r = cookie;

	if (r->pos < r->n) {
		size_t k = KP_MIN(size, r->n - r->pos);

		memcpy(buf, r->head + r->pos, k);
		r->pos += k;
		return (ssize_t)k;
	}
	size = fread(buf, 1, size, r->rest);
	return ferror(r->rest) ? -1 : (ssize_t)size;
}

static int replay_close(void *cookie)
{
	free(cookie);
	return 0;
}

int flame_load(struct flame_source *src)
{
	bool from_stdin = !strcmp(src->path, "-");
	const char *name = from_stdin ? "standard input" : src->path;
	struct replay *r = calloc(1, sizeof(*r));
	FILE *f;
	enum fg_input_kind kind;
	int rc;

	if (!r)
		return -ENOMEM;
	f = from_stdin ? stdin : fopen(src->path, "rb");
	if (!f) {
		rc = -errno;
		kp_error("%s: %s", name, strerror(-rc));
		free(r);
		return rc;
	}
	r->n = fread(r->head, 1, sizeof(r->head), f);
	r->rest = f;
	if (ferror(f) || (!from_stdin && fseek(f, 0, SEEK_SET))) {
		kp_error("%s: cannot read%s", name, from_stdin ? "" : " (a regular file is needed)");
		rc = -EIO;
		goto out;
	}
	kind = fg_detect_input(r->head, r->n);
	if (kind == FG_INPUT_JSON) {
		if (from_stdin) {
			kp_error("%s: trace.json is read from a file, not from standard input", name);
			rc = -EINVAL;
			goto out;
		}
		rc = load_json(src);
		goto out;
	}
	if (kind == FG_INPUT_FOLDED && (src->mask || src->per_cpu)) {
		kp_error("%s: folded stacks carry no CPU ids; --cpu-mask and --per-cpu need "
			 "trace.json or gdb backtraces", name);
		rc = -EINVAL;
		goto out;
	}
	if (src->want_profile) {
		src->profile = profile_new();
		if (!src->profile) {
			rc = -ENOMEM;
			goto out;
		}
	}
	if (from_stdin) {
		static const cookie_io_functions_t io = { .read = replay_read,
							  .close = replay_close };
		FILE *rf = fopencookie(r, "r", io);

		if (!rf) {
			rc = -ENOMEM;
			goto out;
		}
		r = NULL;	/* the stream owns it now */
		f = rf;
	}
	if (kind == FG_INPUT_GDB_BT)
		rc = fg_read_gdb_bt(f, name, on_stack, src);
	else
		rc = fg_read_folded(f, name, on_stack, src);
out:
	if (f != stdin)
		fclose(f);
	free(r);
	return rc;
}

int flame_format_parse(const char *s, enum flame_format *out)
{
	static const struct {
		const char *name;
		enum flame_format fmt;
	} names[] = {
		{ "svg", FLAME_SVG }, { "folded", FLAME_FOLDED }, { "json", FLAME_JSON },
		{ "speedscope", FLAME_SPEEDSCOPE },
	};

	for (size_t i = 0; i < KP_ARRAY_SIZE(names); i++) {
		if (!strcmp(s, names[i].name)) {
			*out = names[i].fmt;
			return 0;
		}
	}
	return -EINVAL;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcasecmp(s + n - m, suffix);
}

int flame_format_from_path(const char *path, enum flame_format *out)
{
	if (ends_with(path, ".speedscope.json"))
		*out = FLAME_SPEEDSCOPE;
	else if (ends_with(path, ".json"))
		*out = FLAME_JSON;
	else if (ends_with(path, ".folded") || ends_with(path, ".txt"))
		*out = FLAME_FOLDED;
	else if (ends_with(path, ".svg"))
		*out = FLAME_SVG;
	else
		return -EINVAL;
	return 0;
}

FILE *flame_open_output(const char *out, const char *const *inputs, size_t ninputs)
{
	FILE *f;

	if (!out || !strcmp(out, "-"))
		return stdout;
	for (size_t i = 0; i < ninputs; i++) {
		if (kp_same_file(out, inputs[i])) {
			kp_error("%s: refusing to overwrite an input file", out);
			return NULL;
		}
	}
	f = fopen(out, "w");
	if (!f)
		kp_error("%s: %s", out, strerror(errno));
	return f;
}

int flame_close_output(FILE *f, const char *out, const char *name, int rc)
{
	if (rc) {
		if (f != stdout)
			fclose(f);
	} else if (kp_close_output(f, name)) {
		rc = -EIO;
	}
	if (rc && f != stdout)
		unlink(out);
	return rc;
}
