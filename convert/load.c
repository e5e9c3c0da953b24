/* Loading an input of any supported kind: the file (or standard input) is sniffed, then read
 * by the reader of its kind into a flame-graph tree and/or a profile. */
#include "convert/convert_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int cpu_wanted(const struct convert_source *src, int cpu)
{
	if (!src->mask)
		return 1;
	return cpu >= 0 && cpu < KP_CPUMASK_BITS && kp_cpumask_test(src->mask, (unsigned)cpu);
}

/* A flame-graph stack (outermost first) seen as a profile stack (innermost first), its names
 * borrowed; free view->frames after. */
static int stack_view(const struct fg_stack *s, struct profile_stack *view)
{
	*view = (struct profile_stack){ 0 };	/* no task: folded stacks carry it as a frame */
	view->cpu = s->cpu;
	view->nframes = s->nframes;
	view->frames = calloc(s->nframes ? s->nframes : 1, sizeof(*view->frames));
	if (!view->frames)
		return -ENOMEM;
	for (size_t i = 0; i < s->nframes; i++)
		view->frames[i].name = (char *)s->frames[s->nframes - 1 - i];
	return 0;
}

/* count samples of st into src->profile, within the bound on expanded samples. */
static int expand(struct convert_source *src, const struct profile_stack *st, uint64_t count)
{
	if (count > CONVERT_MAX_EXPANDED_SAMPLES ||
	    src->nstacks + count > CONVERT_MAX_EXPANDED_SAMPLES)
		return kp_fail(-ECANCELED, "%s: more than %llu samples; too many to write as a "
			       "profile (folded and svg output have no limit)", src->path,
			       CONVERT_MAX_EXPANDED_SAMPLES);
	for (uint64_t i = 0; i < count; i++) {
		int rc = convert_profile_copy(src->profile, st);

		if (rc)
			return rc;
	}
	return 0;
}

/* --comm on folded or backtrace input, which have no tasks: the root frame is the task's, as
 * perf's folded stacks have it ("dd" or "dd-123" or "dd-123/124"). */
static bool root_is_comm(const struct fg_stack *s, const char *comm)
{
	size_t n = strlen(comm);
	const char *root = s->nframes ? s->frames[0] : "";

	return !strncmp(root, comm, n) &&
	       (!root[n] || (root[n] == '-' && root[n + 1] >= '0' && root[n + 1] <= '9'));
}

static int on_stack(void *arg, const struct fg_stack *s)
{
	struct convert_source *src = arg;
	struct fg_stack st = *s;
	int rc = 0;

	if (!cpu_wanted(src, s->cpu) || (src->comm && !root_is_comm(s, src->comm)))
		return 0;
	if (src->on_stack || src->want_profile) {
		struct profile_stack view;

		rc = stack_view(s, &view);
		if (!rc && src->on_stack)
			rc = src->on_stack(src->on_stack_arg, &view, s->count);
		if (!rc && src->want_profile)
			rc = expand(src, &view, s->count);
		free(view.frames);
		if (rc)
			return rc;
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

/* The stack sink, for readers that print nothing of their callbacks' errors (the folded and
 * backtrace readers print them with the line number). */
static int sink(struct convert_source *src, const struct profile_stack *st, uint64_t count)
{
	int rc = src->on_stack(src->on_stack_arg, st, count);

	if (rc == -EOVERFLOW)
		kp_error("%s: sample counts overflow 64 bits", src->path);
	return rc;
}

/* A profile read whole (trace.json): masked, then into the tree and/or kept. */
static int take_profile(struct convert_source *src, struct profile *p)
{
	int rc = 0;

	if (src->per_stage && !profile_has_stages(p)) {
		kp_error("%s: no sample has a boot stage (it was collected without --by-stage); "
			 "--per-stage needs them", src->path);
		profile_free(p);
		return -EINVAL;
	}
	if (src->mask)
		profile_filter_cpus(p, src->mask);
	if (src->comm)
		profile_filter_comm(p, src->comm);
	for (size_t i = 0; i < p->nsamples && src->on_stack && !rc; i++)
		for (size_t j = 0; j < p->samples[i].nstacks && !rc; j++)
			if (p->samples[i].stacks[j].nframes)
				rc = sink(src, &p->samples[i].stacks[j], 1);
	if (rc) {
		if (rc == -ENOMEM)
			kp_error("%s: out of memory", src->path);
		profile_free(p);
		return rc;
	}
	if (src->tree) {
		rc = convert_add_profile(src, p);
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

static int load_json(struct convert_source *src)
{
	struct profile *p;
	int rc = profile_read_json(src->path, &p);

	return rc ? rc : take_profile(src, p);
}

/* pprof files are gzip data: decompressed whole (at most this much), then decoded. */
#define MAX_PPROF_BYTES (512ull << 20)

struct pprof_load {
	struct convert_source *src;
	struct kp_buf ann;
};

static int on_pprof_stack(void *arg, const struct profile_stack *st, uint64_t count)
{
	struct pprof_load *pl = arg;
	struct convert_source *src = pl->src;
	int rc;

	if (!cpu_wanted(src, st->cpu) || !convert_task_wanted(src, st))
		return 0;
	if (src->on_stack) {
		rc = sink(src, st, count);
		if (rc)
			return rc;
	}
	if (src->want_profile) {
		rc = expand(src, st, count);
		if (rc)
			return rc;
	}
	if (src->tree) {
		rc = convert_stack_to_tree(src, st, NULL, count, &pl->ann);
		if (rc == -EOVERFLOW)
			return kp_fail(rc, "%s: sample counts overflow 64 bits", src->path);
		if (rc)
			return rc;
	}
	src->nstacks += count;
	return 0;
}

static int load_pprof(struct convert_source *src)
{
	struct pprof_load pl = { .src = src };
	struct profile *meta = src->want_profile ? profile_new() : NULL, scratch = { 0 };
	struct kp_buf raw;
	char *gz = NULL;
	size_t len;
	int rc;

	if (src->want_profile && !meta)
		return -ENOMEM;
	src->profile = meta;
	kp_buf_init(&raw);
	kp_buf_init(&pl.ann);
	rc = kp_read_file(src->path, &gz, &len);
	if (rc) {
		kp_error("%s: %s", src->path, strerror(-rc));
		goto out;
	}
	rc = kp_gunzip(gz, len, MAX_PPROF_BYTES, &raw);
	if (rc == -EINVAL) {
		rc = kp_fail(-EBADMSG, "%s: not a pprof profile (damaged or truncated gzip data)",
			     src->path);
		goto out;
	}
	if (rc == -EFBIG) {
		rc = kp_fail(-EBADMSG, "%s: more than %llu MiB once decompressed; not read",
			     src->path, MAX_PPROF_BYTES >> 20);
		goto out;
	}
	if (!rc)
		rc = convert_pprof_decode(raw.data, raw.len, src->path, meta ? meta : &scratch,
					  on_pprof_stack, &pl);
out:
	if (rc == -ENOMEM)
		kp_error("%s: out of memory", src->path);
	free(scratch.kernel);
	free(scratch.build_id);
	free(gz);
	kp_buf_release(&raw);
	kp_buf_release(&pl.ann);
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

int convert_load(struct convert_source *src)
{
	bool from_stdin = !strcmp(src->path, "-");
	const char *name = from_stdin ? "standard input" : src->path;
	struct replay *r = calloc(1, sizeof(*r));
	FILE *f;
	enum convert_input kind;
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
	kind = convert_sniff(r->head, r->n);
	if (kind != CONVERT_IN_JSON && src->per_stage) {
		kp_error("%s: %s carry no boot stages; --per-stage needs a trace.json from "
			 "kprof collect --by-stage", name,
			 kind == CONVERT_IN_PPROF ? "pprof profiles" :
			 kind == CONVERT_IN_FOLDED ? "folded stacks" : "gdb backtraces");
		rc = -EINVAL;
		goto out;
	}
	if (kind == CONVERT_IN_JSON || kind == CONVERT_IN_PPROF) {
		if (from_stdin) {
			kp_error("%s: %s is read from a file, not from standard input", name,
				 kind == CONVERT_IN_JSON ? "trace.json" : "a pprof profile");
			rc = -EINVAL;
			goto out;
		}
		rc = kind == CONVERT_IN_JSON ? load_json(src) : load_pprof(src);
		goto out;
	}
	if (kind == CONVERT_IN_FOLDED && (src->mask || src->per_cpu)) {
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
	if (kind == CONVERT_IN_GDB_BT)
		rc = fg_read_gdb_bt(f, name, on_stack, src);
	else
		rc = fg_read_folded(f, name, on_stack, src);
out:
	if (f != stdin)
		fclose(f);
	free(r);
	return rc;
}
