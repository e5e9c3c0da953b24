/* trace.json and speedscope JSON, read and written with json-c (used from this file only).
 *
 * The core is OSDK's schema, so files travel both ways:
 *   {"stack_traces": [{"0": ["innermost", ..., "outermost"], "1": [...]}, ...]}
 * kprof's additions live under one key beside it, which OSDK ignores:
 *   "kprof": {"format_version": 1, "kernel": ..., "build_id": ..., "cpus": N, "interval": S,
 *             "start_unix_ns": T (wall clock, when known),
 *             "samples": [{"time_ns": T, "stop_ns": D, "pcs": {"0": ["0xffff...", ...]},
 *                          "flags": {"0": [0, 1, ...]},
 *                          "tasks": {"0": {"comm": "dd", "pid": 123, "tgid": 123}},
 *                          "stage": "init_entry"}, ...]}
 * ("tasks" only for a Linux kernel: the task each CPU ran; comm "?" and pid -1 when unknown.
 * "stage" only from collect --by-stage: the guest's boot stage at that stop.)
 * Program counters are hex strings: JSON numbers lose 64-bit precision in most readers.
 */
#include "profiler/profile.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <json.h>
#include <stdlib.h>
#include <string.h>

#define KPROF_FORMAT_VERSION 1

/* ---- writing ---- */

static int add(json_object *obj, const char *key, json_object *val)
{
	if (!val)
		return -ENOMEM;
	json_object_object_add(obj, key, val);
	return 0;
}

static int append(json_object *arr, json_object *val)
{
	if (!val)
		return -ENOMEM;
	return json_object_array_add(arr, val) ? -ENOMEM : 0;
}

static json_object *stack_names(const struct profile_stack *st)
{
	json_object *arr = json_object_new_array_ext((int)st->nframes);

	for (size_t k = 0; arr && k < st->nframes; k++)
		if (append(arr, json_object_new_string(st->frames[k].name ? st->frames[k].name
									   : "??"))) {
			json_object_put(arr);
			return NULL;
		}
	return arr;
}

static json_object *stack_pcs(const struct profile_stack *st, bool flags)
{
	json_object *arr = json_object_new_array_ext((int)st->nframes);

	for (size_t k = 0; arr && k < st->nframes; k++) {
		char hex[24];
		json_object *v;

		if (flags) {
			v = json_object_new_int((int)st->frames[k].flags);
		} else {
			snprintf(hex, sizeof(hex), "0x%" PRIx64, st->frames[k].pc);
			v = json_object_new_string(hex);
		}
		if (append(arr, v)) {
			json_object_put(arr);
			return NULL;
		}
	}
	return arr;
}

static json_object *task_json(const struct profile_task *t)
{
	json_object *o = json_object_new_object();

	if (o && !(add(o, "comm", json_object_new_string(t->comm)) |
		   add(o, "pid", json_object_new_int(t->pid)) |
		   add(o, "tgid", json_object_new_int(t->tgid))))
		return o;
	json_object_put(o);
	return NULL;
}

static json_object *build_json(const struct profile *p)
{
	json_object *root = json_object_new_object(), *traces, *meta, *samples;
	int ret = 0;

	if (!root)
		return NULL;
	traces = json_object_new_array_ext((int)p->nsamples);
	meta = json_object_new_object();
	samples = json_object_new_array_ext((int)p->nsamples);
	ret = add(root, "stack_traces", traces) | add(root, "kprof", meta);
	if (ret || !samples)
		goto fail;
	ret = add(meta, "format_version", json_object_new_int(KPROF_FORMAT_VERSION));
	if (p->kernel)
		ret |= add(meta, "kernel", json_object_new_string(p->kernel));
	if (p->build_id)
		ret |= add(meta, "build_id", json_object_new_string(p->build_id));
	ret |= add(meta, "cpus", json_object_new_int(p->ncpus));
	ret |= add(meta, "interval", json_object_new_double(p->interval_s));
	if (p->start_unix_ns)
		ret |= add(meta, "start_unix_ns", json_object_new_int64((int64_t)p->start_unix_ns));
	ret |= add(meta, "samples", samples);
	if (ret)
		goto fail;
	for (size_t i = 0; i < p->nsamples; i++) {
		const struct profile_sample *s = &p->samples[i];
		json_object *cap = json_object_new_object(), *ks = json_object_new_object();
		json_object *pcs = json_object_new_object(), *flags = NULL, *tasks = NULL;

		if (append(traces, cap) | append(samples, ks) || !pcs) {
			json_object_put(pcs);
			goto fail;
		}
		ret = add(ks, "time_ns", json_object_new_uint64(s->time_ns)) |
		      add(ks, "stop_ns", json_object_new_uint64(s->stop_ns)) | add(ks, "pcs", pcs);
		if (!ret && s->stage)
			ret = add(ks, "stage", json_object_new_string(s->stage));
		for (size_t j = 0; !ret && j < s->nstacks; j++) {
			const struct profile_stack *st = &s->stacks[j];
			char key[16];
			bool any_flags = false;

			snprintf(key, sizeof(key), "%d", st->cpu);
			ret = add(cap, key, stack_names(st)) | add(pcs, key, stack_pcs(st, false));
			for (size_t k = 0; k < st->nframes; k++)
				any_flags |= st->frames[k].flags != 0;
			if (!ret && any_flags) {
				if (!flags && (ret = add(ks, "flags", flags = json_object_new_object())))
					break;
				ret = add(flags, key, stack_pcs(st, true));
			}
			if (!ret && st->has_task) {
				if (!tasks && (ret = add(ks, "tasks", tasks = json_object_new_object())))
					break;
				ret = add(tasks, key, task_json(&st->task));
			}
		}
		if (ret)
			goto fail;
	}
	return root;
fail:
	json_object_put(root);
	return NULL;
}

static int write_obj(json_object *root, FILE *f, const char *name)
{
	const char *text;

	if (!root)
		return kp_fail(-ENOMEM, "%s: out of memory", name);
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN |
							    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!text || fputs(text, f) == EOF || fputc('\n', f) == EOF) {
		json_object_put(root);
		return kp_fail(-EIO, "%s: write failed", name);
	}
	json_object_put(root);
	return 0;
}

int profile_write_json(const struct profile *p, FILE *f, const char *name)
{
	return write_obj(build_json(p), f, name);
}

/* speedscope's file format: shared frames, one "sampled" profile per CPU, stacks listed
 * from the root (outermost) to the leaf. */
static json_object *build_speedscope(const struct profile *p)
{
	json_object *root = json_object_new_object(), *index = json_object_new_object();
	json_object *shared = json_object_new_object(), *frames = json_object_new_array();
	json_object *profiles = json_object_new_array();
	int maxcpu = -1;

	/* Once added, an object belongs to its parent: only root and index need releasing. */
	if (add(root, "shared", shared) | add(root, "profiles", profiles) || !frames ||
	    add(shared, "frames", frames) || !index ||
	    add(root, "$schema", json_object_new_string(
				"https://www.speedscope.app/file-format-schema.json")) ||
	    add(root, "name", json_object_new_string(p->kernel ? p->kernel : "kprof profile")) ||
	    add(root, "exporter", json_object_new_string("kprof")) ||
	    add(root, "activeProfileIndex", json_object_new_int(0)))
		goto fail;
	for (size_t i = 0; i < p->nsamples; i++)
		for (size_t j = 0; j < p->samples[i].nstacks; j++)
			maxcpu = KP_MAX(maxcpu, p->samples[i].stacks[j].cpu);
	for (int cpu = 0; cpu <= maxcpu; cpu++) {
		json_object *prof = json_object_new_object(), *samples = json_object_new_array();
		json_object *weights = json_object_new_array();
		char pname[32];
		size_t count = 0;

		snprintf(pname, sizeof(pname), "CPU %d", cpu);
		if (append(profiles, prof) | add(prof, "samples", samples) |
		    add(prof, "weights", weights) ||
		    add(prof, "type", json_object_new_string("sampled")) ||
		    add(prof, "name", json_object_new_string(pname)) ||
		    add(prof, "unit", json_object_new_string("none")) ||
		    add(prof, "startValue", json_object_new_int(0)))
			goto fail;
		for (size_t i = 0; i < p->nsamples; i++)
			for (size_t j = 0; j < p->samples[i].nstacks; j++) {
				const struct profile_stack *st = &p->samples[i].stacks[j];
				json_object *stack;

				if (st->cpu != cpu)
					continue;
				stack = json_object_new_array_ext((int)st->nframes);
				if (append(samples, stack) || append(weights, json_object_new_int(1)))
					goto fail;
				for (size_t k = st->nframes; k-- > 0;) {
					const char *n = st->frames[k].name ? st->frames[k].name : "??";
					json_object *idx;
					int fi;

					if (json_object_object_get_ex(index, n, &idx)) {
						fi = json_object_get_int(idx);
					} else {
						json_object *fr = json_object_new_object();

						fi = (int)json_object_array_length(frames);
						if (append(frames, fr) ||
						    add(fr, "name", json_object_new_string(n)) ||
						    add(index, n, json_object_new_int(fi)))
							goto fail;
					}
					if (append(stack, json_object_new_int(fi)))
						goto fail;
				}
				count++;
			}
		if (add(prof, "endValue", json_object_new_uint64(count)))
			goto fail;
	}
	json_object_put(index);
	return root;
fail:
	json_object_put(index);
	json_object_put(root);
	return NULL;
}

int profile_write_speedscope(const struct profile *p, FILE *f, const char *name)
{
	return write_obj(build_speedscope(p), f, name);
}

/* ---- reading ---- */

struct reader {
	const char *name;
	const char *text;
};

static int bad(const struct reader *r, const char *where, const char *what)
{
	kp_error("%s: %s: %s", r->name, where, what);
	return -EINVAL;
}

static int parse_cpu_key(const char *key, int *cpu)
{
	char *end;
	long v;

	if (!*key || *key == '-' || *key == '+' || *key == ' ')
		return -EINVAL;
	v = strtol(key, &end, 10);
	if (*end || v < 0 || v >= KP_CPUMASK_BITS)
		return -EINVAL;
	*cpu = (int)v;
	return 0;
}

static int cmp_stack(const void *a, const void *b)
{
	const struct profile_stack *x = a, *y = b;

	return x->cpu - y->cpu;
}

static int read_capture(const struct reader *r, size_t idx, json_object *cap,
			struct profile_sample *s, int *maxcpu)
{
	char where[64];
	size_t j = 0;

	snprintf(where, sizeof(where), "stack_traces[%zu]", idx);
	if (!json_object_is_type(cap, json_type_object))
		return bad(r, where, "expected an object mapping CPU numbers to stacks");
	json_object_object_foreach(cap, key, val) {
		struct profile_stack *st = &s->stacks[j];
		size_t n;

		if (parse_cpu_key(key, &st->cpu))
			return kp_fail(-EINVAL, "%s: %s: key \"%s\" is not a CPU number", r->name,
				      where, key);
		if (!json_object_is_type(val, json_type_array))
			return kp_fail(-EINVAL, "%s: %s: CPU %s: expected an array of frame names",
				      r->name, where, key);
		n = json_object_array_length(val);
		j++;
		st->frames = n ? calloc(n, sizeof(*st->frames)) : NULL;
		if (n && !st->frames)
			return -ENOMEM;
		for (size_t k = 0; k < n; k++) {
			json_object *fr = json_object_array_get_idx(val, k);

			if (!json_object_is_type(fr, json_type_string))
				return kp_fail(-EINVAL, "%s: %s: CPU %s: frame %zu is not a string",
					      r->name, where, key, k);
			st->frames[k].name = strdup(json_object_get_string(fr));
			if (!st->frames[k].name)
				return -ENOMEM;
			st->nframes = k + 1;
			if (!strcmp(st->frames[k].name, "??"))
				st->frames[k].flags = PROFILE_FRAME_UNKNOWN;
		}
		st->nframes = n;
		*maxcpu = KP_MAX(*maxcpu, st->cpu);
	}
	if (s->nstacks > 1)
		qsort(s->stacks, s->nstacks, sizeof(*s->stacks), cmp_stack);
	for (size_t k = 1; k < s->nstacks; k++)
		if (s->stacks[k].cpu == s->stacks[k - 1].cpu)
			return bad(r, where, "a CPU appears twice");
	return 0;
}

static struct profile_stack *find_stack(struct profile_sample *s, int cpu)
{
	for (size_t j = 0; j < s->nstacks; j++)
		if (s->stacks[j].cpu == cpu)
			return &s->stacks[j];
	return NULL;
}

/* pcs / flags of one kprof sample: per CPU, one entry per frame of the matching stack. */
static int read_frame_extra(const struct reader *r, const char *where, json_object *obj,
			    struct profile_sample *s, bool flags)
{
	if (!json_object_is_type(obj, json_type_object))
		return bad(r, where, flags ? "\"flags\" is not an object" : "\"pcs\" is not an object");
	json_object_object_foreach(obj, key, val) {
		struct profile_stack *st;
		int cpu;

		if (parse_cpu_key(key, &cpu) || !(st = find_stack(s, cpu)))
			return kp_fail(-EINVAL, "%s: %s: key \"%s\" names no CPU of this capture",
				      r->name, where, key);
		if (!json_object_is_type(val, json_type_array) ||
		    json_object_array_length(val) != st->nframes)
			return kp_fail(-EINVAL, "%s: %s: CPU %s: %s must have one entry per frame",
				      r->name, where, key, flags ? "flags" : "pcs");
		for (size_t k = 0; k < st->nframes; k++) {
			json_object *v = json_object_array_get_idx(val, k);

			if (flags) {
				if (!json_object_is_type(v, json_type_int))
					return bad(r, where, "a frame's flags are not an integer");
				st->frames[k].flags = (unsigned)json_object_get_int(v) & 0xff;
			} else {
				const char *hex = json_object_get_string(v);
				uint64_t pc;

				if (!json_object_is_type(v, json_type_string) || kp_parse_u64(hex, &pc))
					return bad(r, where, "a pc is not a hex string");
				st->frames[k].pc = pc;
			}
		}
	}
	return 0;
}

static bool stage_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > PROFILE_STAGE_MAX)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == ';')
			return false;
	return true;
}

/* "tasks" of one kprof sample: per CPU, {"comm": NAME, "pid": N, "tgid": N}. */
static int read_tasks(const struct reader *r, const char *where, json_object *obj,
		      struct profile_sample *s)
{
	if (!json_object_is_type(obj, json_type_object))
		return bad(r, where, "\"tasks\" is not an object");
	json_object_object_foreach(obj, key, val) {
		struct profile_stack *st;
		json_object *comm, *pid, *tgid;
		int64_t p, g;
		int cpu;

		if (parse_cpu_key(key, &cpu) || !(st = find_stack(s, cpu)))
			return kp_fail(-EINVAL, "%s: %s: tasks: key \"%s\" names no CPU of this "
				      "capture", r->name, where, key);
		if (!json_object_is_type(val, json_type_object) ||
		    !json_object_object_get_ex(val, "comm", &comm) ||
		    !json_object_is_type(comm, json_type_string) ||
		    !json_object_object_get_ex(val, "pid", &pid) ||
		    !json_object_is_type(pid, json_type_int) ||
		    !json_object_object_get_ex(val, "tgid", &tgid) ||
		    !json_object_is_type(tgid, json_type_int))
			return kp_fail(-EINVAL, "%s: %s: tasks: CPU %s: expected {\"comm\": NAME, "
				      "\"pid\": N, \"tgid\": N}", r->name, where, key);
		p = json_object_get_int64(pid);
		g = json_object_get_int64(tgid);
		if (json_object_get_string_len(comm) < 1 ||
		    json_object_get_string_len(comm) > PROFILE_COMM_LEN ||
		    strlen(json_object_get_string(comm)) != (size_t)json_object_get_string_len(comm) ||
		    p < -1 || p > INT32_MAX || g < -1 || g > INT32_MAX)
			return kp_fail(-EINVAL, "%s: %s: tasks: CPU %s: a comm of 1 to %d bytes and "
				      "pids from -1 to 2^31-1 are expected", r->name, where, key,
				      PROFILE_COMM_LEN);
		st->has_task = true;
		memcpy(st->task.comm, json_object_get_string(comm),
		       (size_t)json_object_get_string_len(comm) + 1);
		st->task.pid = (int32_t)p;
		st->task.tgid = (int32_t)g;
	}
	return 0;
}

/* A non-negative JSON integer (json-c keeps values above INT64_MAX as unsigned). */
static bool is_count(json_object *v)
{
	return json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0;
}

static int read_meta(const struct reader *r, json_object *meta, struct profile *p)
{
	json_object *v, *samples;

	if (!json_object_is_type(meta, json_type_object))
		return bad(r, "kprof", "expected an object");
	if (json_object_object_get_ex(meta, "format_version", &v)) {
		if (!json_object_is_type(v, json_type_int))
			return bad(r, "kprof.format_version", "expected an integer");
		p->format_version = json_object_get_int(v);
		if (p->format_version > KPROF_FORMAT_VERSION || p->format_version < 1)
			return kp_fail(-EINVAL, "%s: format version %d is not supported "
				      "(this kprof reads %d)", r->name, p->format_version,
				      KPROF_FORMAT_VERSION);
	}
	if (json_object_object_get_ex(meta, "kernel", &v) && json_object_is_type(v, json_type_string) &&
	    !(p->kernel = strdup(json_object_get_string(v))))
		return -ENOMEM;
	if (json_object_object_get_ex(meta, "build_id", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    !(p->build_id = strdup(json_object_get_string(v))))
		return -ENOMEM;
	if (json_object_object_get_ex(meta, "cpus", &v)) {
		int n = json_object_get_int(v);

		if (!json_object_is_type(v, json_type_int) || n < 0 || n > KP_CPUMASK_BITS)
			return bad(r, "kprof.cpus", "expected a CPU count from 0 to 128");
		p->ncpus = KP_MAX(p->ncpus, n);
	}
	if (json_object_object_get_ex(meta, "interval", &v)) {
		if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
			return bad(r, "kprof.interval", "expected a number of seconds");
		p->interval_s = json_object_get_double(v);
	}
	if (json_object_object_get_ex(meta, "start_unix_ns", &v)) {
		if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
			return bad(r, "kprof.start_unix_ns", "expected nanoseconds since 1970");
		p->start_unix_ns = (uint64_t)json_object_get_int64(v);
	}
	if (!json_object_object_get_ex(meta, "samples", &samples))
		return 0;
	if (!json_object_is_type(samples, json_type_array) ||
	    json_object_array_length(samples) != p->nsamples)
		return bad(r, "kprof.samples", "expected an array with one entry per stack_traces entry");
	for (size_t i = 0; i < p->nsamples; i++) {
		json_object *s = json_object_array_get_idx(samples, i);
		char where[48];
		int ret;

		snprintf(where, sizeof(where), "kprof.samples[%zu]", i);
		if (!json_object_is_type(s, json_type_object))
			return bad(r, where, "expected an object");
		if (json_object_object_get_ex(s, "time_ns", &v)) {
			if (!is_count(v))
				return bad(r, where, "time_ns: expected a count of nanoseconds");
			p->samples[i].time_ns = json_object_get_uint64(v);
		}
		if (json_object_object_get_ex(s, "stop_ns", &v)) {
			if (!is_count(v))
				return bad(r, where, "stop_ns: expected a count of nanoseconds");
			p->samples[i].stop_ns = json_object_get_uint64(v);
		}
		if (json_object_object_get_ex(s, "pcs", &v) &&
		    (ret = read_frame_extra(r, where, v, &p->samples[i], false)))
			return ret;
		if (json_object_object_get_ex(s, "flags", &v) &&
		    (ret = read_frame_extra(r, where, v, &p->samples[i], true)))
			return ret;
		if (json_object_object_get_ex(s, "tasks", &v) &&
		    (ret = read_tasks(r, where, v, &p->samples[i])))
			return ret;
		if (json_object_object_get_ex(s, "stage", &v)) {
			const char *name = json_object_get_string(v);

			/* A stage is a root frame and an SVG heading: no ';' (the folded
			 * separator) and no control characters. */
			if (!json_object_is_type(v, json_type_string) || !stage_name_ok(name))
				return bad(r, where, "stage: expected a name of 1 to 63 printable "
					   "characters without ';'");
			if (!(p->samples[i].stage = strdup(name)))
				return -ENOMEM;
		}
	}
	return 0;
}

static int line_of(const char *text, size_t off)
{
	int line = 1;

	for (size_t i = 0; i < off && text[i]; i++)
		line += text[i] == '\n';
	return line;
}

static int read_root(const struct reader *r, json_object *root, struct profile *p)
{
	json_object *traces, *meta;
	int maxcpu = -1, ret;
	size_t n;

	if (!json_object_is_type(root, json_type_object))
		return bad(r, "line 1", "expected an object");
	if (!json_object_object_get_ex(root, "stack_traces", &traces))
		return kp_fail(-EINVAL, "%s: no \"stack_traces\" key (not a trace.json file?)",
			      r->name);
	if (!json_object_is_type(traces, json_type_array))
		return bad(r, "stack_traces", "expected an array");
	n = json_object_array_length(traces);
	for (size_t i = 0; i < n; i++) {
		json_object *cap = json_object_array_get_idx(traces, i);
		size_t nst = json_object_is_type(cap, json_type_object)
				     ? (size_t)json_object_object_length(cap) : 0;
		struct profile_sample *s = profile_add_sample(p, nst);

		if (!s)
			return -ENOMEM;
		if ((ret = read_capture(r, i, cap, s, &maxcpu)))
			return ret;
	}
	p->ncpus = maxcpu + 1;
	p->format_version = 0;
	if (json_object_object_get_ex(root, "kprof", &meta) && (ret = read_meta(r, meta, p)))
		return ret;
	return 0;
}

int profile_read_json(const char *path, struct profile **out)
{
	struct reader r = { .name = path };
	json_tokener *tok;
	json_object *root;
	struct profile *p;
	char *text;
	size_t len, end;
	int ret;

	*out = NULL;
	ret = kp_read_file(path, &text, &len);
	if (ret)
		return kp_fail(ret, "%s: %s", path, strerror(-ret));
	r.text = text;
	tok = json_tokener_new();
	if (!tok) {
		free(text);
		return -ENOMEM;
	}
	/* Strict: what other tools wrote must be JSON, and what we accept they must read. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, text, (int)KP_MIN(len, (size_t)INT32_MAX));
	end = json_tokener_get_parse_end(tok);
	if (!root) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		if (e == json_tokener_continue)
			kp_error("%s: line %d: unexpected end of file", path, line_of(text, len));
		else
			kp_error("%s: line %d: %s", path, line_of(text, end),
				 json_tokener_error_desc(e));
		ret = -EINVAL;
		goto out;
	}
	while (end < len && strchr(" \t\r\n", text[end]))
		end++;
	if (end < len) {
		kp_error("%s: line %d: unexpected data after the JSON value", path, line_of(text, end));
		ret = -EINVAL;
		goto out;
	}
	p = profile_new();
	if (!p) {
		ret = -ENOMEM;
		goto out;
	}
	ret = read_root(&r, root, p);
	if (ret) {
		if (ret == -ENOMEM)
			kp_error("%s: out of memory", path);
		profile_free(p);
		goto out;
	}
	*out = p;
out:
	json_object_put(root);
	json_tokener_free(tok);
	free(text);
	return ret;
}
