/* pprof's profile.proto, encoded and decoded with libprotobuf-c (used from this file only;
 * the message code is generated from convert/pprof.proto at build time).  Compression is
 * the caller's business (common/zlib.c).
 *
 * Writing: one Function per distinct name, one Location per distinct pc (with the frames
 * symbolized there: inlined functions as Lines before their caller), identical stacks of one
 * CPU merged into one Sample whose value counts them.  Mapping 1 is the kernel ELF (its path
 * and build id), mapping 2 user-mode pcs ("[user]"), frames without a pc have none. */
#include "convert/convert_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "convert/pprof.pb-c.h"

typedef Perftools__Profiles__Profile Profile;
typedef Perftools__Profiles__ValueType ValueType;
typedef Perftools__Profiles__Sample Sample;
typedef Perftools__Profiles__Label Label;
typedef Perftools__Profiles__Mapping Mapping;
typedef Perftools__Profiles__Location Location;
typedef Perftools__Profiles__Line Line;
typedef Perftools__Profiles__Function Function;

enum { MAP_NONE, MAP_KERNEL, MAP_USER };
#define USER_MAPPING_NAME "[user]"

/* ---- encoding ---- */

/* A sample's label, as string-table indices (str) or a number (num, with its unit). */
struct enc_label {
	int64_t key, str, num, unit;
};

struct enc {
	struct intern strings;		/* id - 1 is the string-table index (entry 0 is "") */
	struct intern functions;	/* key: the name's string index */
	struct intern locations;	/* key: pc, mapping, function ids innermost first */
	struct intern samples;		/* key: label count, labels, location ids */
	uint64_t *counts;		/* of each sample */
	size_t ncounts;
	uint64_t lo[3], hi[3];		/* pcs seen per mapping */
	bool inline_frames;
	struct kp_buf key;		/* scratch */
};

static int str_index(struct enc *e, const char *s, int64_t *idx)
{
	size_t id;
	bool added;
	int rc = intern(&e->strings, s, strlen(s), &id, &added);

	*idx = (int64_t)id - 1;
	return rc;
}

/* The labels of one stack: the one place where a sample's context is named.  The CPU is a
 * string label ("cpu" = "1"), as fleet profilers show labels; a numeric label must carry a
 * unit (num_unit), since readers drop a number 0 without one.  A Linux task is "comm" (a
 * string), "pid" (the process id, the task's tgid) and "tid" (the task's own pid), numbers
 * with unit "pid", as perf's converters name them. */
static int stack_labels(struct enc *e, const struct profile_stack *st, struct enc_label *l,
			size_t *n)
{
	char cpu[16];
	int rc;

	snprintf(cpu, sizeof(cpu), "%d", st->cpu);
	memset(l, 0, 4 * sizeof(*l));
	rc = str_index(e, "cpu", &l[0].key);
	rc = rc ? rc : str_index(e, cpu, &l[0].str);
	*n = 1;
	if (rc || !st->has_task)
		return rc;
	rc = str_index(e, "comm", &l[1].key);
	rc = rc ? rc : str_index(e, st->task.comm, &l[1].str);
	rc = rc ? rc : str_index(e, "pid", &l[2].key);
	rc = rc ? rc : str_index(e, "pid", &l[2].unit);
	rc = rc ? rc : str_index(e, "tid", &l[3].key);
	l[3].unit = l[2].unit;
	l[2].num = st->task.tgid;
	l[3].num = st->task.pid;
	*n = 4;
	return rc;
}
#define MAX_LABELS 4

/* Frames [k, *end) of st are one Location: inlined functions at one pc, then their caller. */
static int frame_location(struct enc *e, const struct profile_stack *st, size_t k, size_t *end,
			  uint64_t *loc)
{
	const struct profile_frame *fr = st->frames;
	size_t last = k, fid;
	uint64_t pc = fr[k].pc;
	uint8_t map = fr[k].flags & PROFILE_FRAME_USER ? MAP_USER : pc ? MAP_KERNEL : MAP_NONE;
	bool added;
	int rc;

	while (last + 1 < st->nframes && (fr[last].flags & PROFILE_FRAME_INLINE) &&
	       fr[last + 1].pc == pc)
		last++;
	kp_buf_reset(&e->key);
	rc = kp_buf_append(&e->key, &pc, sizeof(pc));
	rc = rc ? rc : kp_buf_append(&e->key, &map, 1);
	for (size_t i = k; i <= last && !rc; i++) {
		int64_t sid;
		uint64_t f;

		if (fr[i].flags & PROFILE_FRAME_INLINE)
			e->inline_frames = true;
		rc = str_index(e, fr[i].name ? fr[i].name : "??", &sid);
		rc = rc ? rc : intern(&e->functions, &sid, sizeof(sid), &fid, &added);
		f = fid;
		rc = rc ? rc : kp_buf_append(&e->key, &f, sizeof(f));
	}
	if (!rc)
		rc = intern(&e->locations, e->key.data, e->key.len, &fid, &added);
	if (rc)
		return rc;
	if (map != MAP_NONE) {
		e->lo[map] = e->hi[map] ? KP_MIN(e->lo[map], pc) : pc;
		e->hi[map] = KP_MAX(e->hi[map], pc + 1);
	}
	*loc = fid;
	*end = last + 1;
	return 0;
}

static int add_stack(struct enc *e, const struct profile_stack *st, struct kp_buf *locs)
{
	struct enc_label labels[MAX_LABELS];
	uint32_t nl;
	size_t n, id;
	bool added;
	int rc = stack_labels(e, st, labels, &n);

	kp_buf_reset(locs);
	for (size_t k = 0; k < st->nframes && !rc;) {
		uint64_t loc;

		rc = frame_location(e, st, k, &k, &loc);
		rc = rc ? rc : kp_buf_append(locs, &loc, sizeof(loc));
	}
	if (rc || !st->nframes)
		return rc;
	nl = (uint32_t)n;
	kp_buf_reset(&e->key);
	rc = kp_buf_append(&e->key, &nl, sizeof(nl));
	rc = rc ? rc : kp_buf_append(&e->key, labels, n * sizeof(labels[0]));
	rc = rc ? rc : kp_buf_append(&e->key, locs->data, locs->len);
	rc = rc ? rc : intern(&e->samples, e->key.data, e->key.len, &id, &added);
	if (rc)
		return rc;
	if (added) {
		uint64_t *c = realloc(e->counts, e->samples.n * sizeof(*c));

		if (!c)
			return -ENOMEM;
		e->counts = c;
		c[id - 1] = 0;
	}
	e->counts[id - 1]++;
	return 0;
}

/* The message's parts, allocated together and freed together after packing. */
struct msg {
	Profile pb;
	ValueType sample_type, period_type, *sample_types[1];
	Mapping maps[2], *mapp[2];
	Function *funcs, **funcp;
	Location *locs, **locp;
	Line *lines, **linep;
	Sample *samples, **samplep;
	Label *labels, **labelp;
	uint64_t *locids;
	char **strings;
	uint64_t map_id[3];		/* the Mapping id of MAP_KERNEL, MAP_USER; 0: none */
};

static void msg_release(struct msg *m)
{
	free(m->funcs);
	free(m->funcp);
	free(m->locs);
	free(m->locp);
	free(m->lines);
	free(m->linep);
	free(m->samples);
	free(m->samplep);
	free(m->labels);
	free(m->labelp);
	free(m->locids);
	free(m->strings);
}

static int build_functions(struct enc *e, struct msg *m)
{
	size_t n = e->functions.n;

	m->funcs = calloc(n, sizeof(*m->funcs));
	m->funcp = calloc(n, sizeof(*m->funcp));
	if (n && (!m->funcs || !m->funcp))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int64_t sid;

		memcpy(&sid, intern_key(&e->functions, i + 1, NULL), sizeof(sid));
		perftools__profiles__function__init(&m->funcs[i]);
		m->funcs[i].id = i + 1;
		m->funcs[i].name = m->funcs[i].system_name = sid;
		m->funcp[i] = &m->funcs[i];
	}
	m->pb.n_function = n;
	m->pb.function = m->funcp;
	return 0;
}

static int build_locations(struct enc *e, struct msg *m)
{
	size_t n = e->locations.n, nlines = 0, at = 0;

	for (size_t i = 0; i < n; i++) {
		size_t len;

		intern_key(&e->locations, i + 1, &len);
		nlines += (len - 9) / 8;
	}
	m->locs = calloc(n, sizeof(*m->locs));
	m->locp = calloc(n, sizeof(*m->locp));
	m->lines = calloc(nlines, sizeof(*m->lines));
	m->linep = calloc(nlines, sizeof(*m->linep));
	if (n && (!m->locs || !m->locp || !m->lines || !m->linep))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		size_t len;
		const uint8_t *k = intern_key(&e->locations, i + 1, &len);
		Location *l = &m->locs[i];

		perftools__profiles__location__init(l);
		l->id = i + 1;
		memcpy(&l->address, k, 8);
		l->mapping_id = m->map_id[k[8]];
		l->n_line = (len - 9) / 8;
		l->line = &m->linep[at];
		for (size_t j = 0; j < l->n_line; j++, at++) {
			perftools__profiles__line__init(&m->lines[at]);
			memcpy(&m->lines[at].function_id, k + 9 + 8 * j, 8);
			m->linep[at] = &m->lines[at];
		}
		m->locp[i] = l;
	}
	m->pb.n_location = n;
	m->pb.location = m->locp;
	return 0;
}

static int build_samples(struct enc *e, struct msg *m)
{
	size_t n = e->samples.n, nlabels = 0, nlocs = 0, at = 0, lat = 0;

	for (size_t i = 0; i < n; i++) {
		size_t len;
		uint32_t nl;

		memcpy(&nl, intern_key(&e->samples, i + 1, &len), sizeof(nl));
		nlabels += nl;
		nlocs += (len - sizeof(nl) - nl * sizeof(struct enc_label)) / 8;
	}
	m->locids = calloc(nlocs, sizeof(*m->locids));
	m->samples = calloc(n, sizeof(*m->samples));
	m->samplep = calloc(n, sizeof(*m->samplep));
	m->labels = calloc(nlabels, sizeof(*m->labels));
	m->labelp = calloc(nlabels, sizeof(*m->labelp));
	if (n && (!m->samples || !m->samplep || !m->locids ||
		  (nlabels && (!m->labels || !m->labelp))))
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		size_t len;
		const uint8_t *k = intern_key(&e->samples, i + 1, &len);
		Sample *s = &m->samples[i];
		uint32_t nl;

		memcpy(&nl, k, sizeof(nl));
		k += sizeof(nl);
		len -= sizeof(nl);
		perftools__profiles__sample__init(s);
		s->n_label = nl;
		s->label = &m->labelp[at];
		for (uint32_t j = 0; j < nl; j++, at++) {
			struct enc_label el;

			memcpy(&el, k, sizeof(el));
			k += sizeof(el);
			len -= sizeof(el);
			perftools__profiles__label__init(&m->labels[at]);
			m->labels[at].key = el.key;
			m->labels[at].str = el.str;
			m->labels[at].num = el.num;
			m->labels[at].num_unit = el.unit;
			m->labelp[at] = &m->labels[at];
		}
		/* The key's bytes are not 8-aligned: the ids are copied into place. */
		s->n_location_id = len / 8;
		s->location_id = &m->locids[lat];
		memcpy(s->location_id, k, len / 8 * 8);
		lat += len / 8;
		s->n_value = 1;
		s->value = (int64_t *)&e->counts[i];
		m->samplep[i] = s;
	}
	m->pb.n_sample = n;
	m->pb.sample = m->samplep;
	return 0;
}

static void mapping(struct msg *m, struct enc *e, int which, uint64_t id, int64_t file,
		    int64_t build_id)
{
	Mapping *mp = &m->maps[id - 1];

	perftools__profiles__mapping__init(mp);
	mp->id = id;
	mp->memory_start = e->lo[which];
	mp->memory_limit = e->hi[which];
	mp->filename = file;
	mp->build_id = build_id;
	mp->has_functions = true;
	mp->has_inline_frames = which == MAP_KERNEL && e->inline_frames;
	m->mapp[id - 1] = mp;
	m->map_id[which] = id;
}

/* Profile-wide fields: what a sample is, the period, time, duration, the mappings. */
static int build_header(struct enc *e, struct msg *m, const struct profile *p)
{
	int64_t samples, count, cpu, ns, kernel = 0, build_id = 0, user;
	uint64_t period = (uint64_t)(p->interval_s * 1e9 + 0.5);
	int rc = str_index(e, "samples", &samples);

	rc = rc ? rc : str_index(e, "count", &count);
	rc = rc ? rc : str_index(e, "cpu", &cpu);
	rc = rc ? rc : str_index(e, "nanoseconds", &ns);
	rc = rc ? rc : str_index(e, p->kernel ? p->kernel : "[kernel]", &kernel);
	rc = rc ? rc : str_index(e, p->build_id ? p->build_id : "", &build_id);
	rc = rc ? rc : str_index(e, USER_MAPPING_NAME, &user);
	if (rc)
		return rc;
	perftools__profiles__value_type__init(&m->sample_type);
	m->sample_type.type = samples;
	m->sample_type.unit = count;
	m->sample_types[0] = &m->sample_type;
	m->pb.n_sample_type = 1;
	m->pb.sample_type = m->sample_types;
	m->pb.default_sample_type = samples;
	/* Each sample stands for one interval of one vCPU's time. */
	perftools__profiles__value_type__init(&m->period_type);
	m->period_type.type = cpu;
	m->period_type.unit = ns;
	m->pb.period_type = &m->period_type;
	m->pb.period = (int64_t)period;
	m->pb.time_nanos = (int64_t)p->start_unix_ns;
	if (p->nsamples) {
		uint64_t first = p->samples[0].time_ns, last = p->samples[p->nsamples - 1].time_ns;

		m->pb.duration_nanos = (int64_t)((last > first ? last - first : 0) + period);
	}
	if (e->hi[MAP_KERNEL])
		mapping(m, e, MAP_KERNEL, 1, kernel, build_id);
	if (e->hi[MAP_USER])
		mapping(m, e, MAP_USER, m->map_id[MAP_KERNEL] + 1, user, 0);
	m->pb.n_mapping = !!m->map_id[MAP_KERNEL] + !!m->map_id[MAP_USER];
	m->pb.mapping = m->mapp;
	return 0;
}

static int build_strings(struct enc *e, struct msg *m)
{
	size_t n = e->strings.n;

	m->strings = calloc(n, sizeof(*m->strings));
	if (!m->strings)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		m->strings[i] = (char *)intern_key(&e->strings, i + 1, NULL);
	m->pb.n_string_table = n;
	m->pb.string_table = m->strings;
	return 0;
}

int convert_pprof_encode(const struct profile *p, struct kp_buf *out)
{
	struct enc e;
	struct msg m;
	struct kp_buf locs;
	int64_t empty;
	int rc;

	memset(&e, 0, sizeof(e));
	memset(&m, 0, sizeof(m));
	kp_buf_init(&locs);
	perftools__profiles__profile__init(&m.pb);
	rc = str_index(&e, "", &empty);		/* string 0 is always "" */
	for (size_t i = 0; i < p->nsamples && !rc; i++)
		for (size_t j = 0; j < p->samples[i].nstacks && !rc; j++)
			rc = add_stack(&e, &p->samples[i].stacks[j], &locs);
	/* The header's strings go in before the table is taken. */
	rc = rc ? rc : build_header(&e, &m, p);
	rc = rc ? rc : build_functions(&e, &m);
	rc = rc ? rc : build_locations(&e, &m);
	rc = rc ? rc : build_samples(&e, &m);
	rc = rc ? rc : build_strings(&e, &m);
	if (!rc) {
		size_t n = perftools__profiles__profile__get_packed_size(&m.pb);

		rc = kp_buf_reserve(out, n);
		if (!rc)
			out->len += perftools__profiles__profile__pack(&m.pb,
								      (uint8_t *)out->data + out->len);
	}
	msg_release(&m);
	kp_buf_release(&locs);
	kp_buf_release(&e.key);
	free(e.counts);
	intern_release(&e.strings);
	intern_release(&e.functions);
	intern_release(&e.locations);
	intern_release(&e.samples);
	return rc;
}

/* ---- decoding ---- */

struct ids {
	uint64_t id;
	size_t i;
};

struct dec {
	const Profile *pb;
	const char *name;
	struct ids *funcs, *locs, *maps;
	size_t vi;			/* the value that counts samples */
	struct profile_frame *frames;
	size_t cap;
};

static int bad(const struct dec *d, const char *fmt, ...) KP_PRINTF(2, 3);
static int bad(const struct dec *d, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return kp_fail(-EBADMSG, "%s: not a valid pprof profile: %s", d->name, msg);
}

static const char *str(const struct dec *d, int64_t idx)
{
	return idx >= 0 && (uint64_t)idx < d->pb->n_string_table ? d->pb->string_table[idx] : NULL;
}

static int cmp_ids(const void *a, const void *b)
{
	const struct ids *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* Sorted (id, index) pairs of one kind of message; ids must be nonzero and unique. */
static int index_ids(const struct dec *d, const char *what, size_t n, const void *const *msgs,
		     size_t id_off, struct ids **out)
{
	struct ids *v = calloc(n ? n : 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		memcpy(&v[i].id, (const char *)msgs[i] + id_off, sizeof(uint64_t));
		v[i].i = i;
	}
	qsort(v, n, sizeof(*v), cmp_ids);
	*out = v;
	for (size_t i = 0; i < n; i++)
		if (!v[i].id || (i && v[i].id == v[i - 1].id))
			return bad(d, "%s id %llu is %s", what, (unsigned long long)v[i].id,
				   v[i].id ? "used twice" : "zero");
	return 0;
}

static long find_id(const struct ids *v, size_t n, uint64_t id)
{
	struct ids key = { .id = id };
	const struct ids *hit = bsearch(&key, v, n, sizeof(*v), cmp_ids);

	return hit ? (long)hit->i : -1;
}

/* Which value counts samples: the type "samples", else the first in unit "count", else the
 * first value. */
static int pick_value(struct dec *d)
{
	const Profile *pb = d->pb;
	bool count_seen = false;

	if (!pb->n_sample_type)
		return bad(d, "no sample types");
	d->vi = 0;
	for (size_t i = 0; i < pb->n_sample_type; i++) {
		const char *type = str(d, pb->sample_type[i]->type);
		const char *unit = str(d, pb->sample_type[i]->unit);

		if (!type || !unit)
			return bad(d, "sample type %zu names no string", i);
		if (!strcmp(type, "samples")) {
			d->vi = i;
			break;
		}
		if (!strcmp(unit, "count") && !count_seen) {
			d->vi = i;
			count_seen = true;
		}
	}
	return 0;
}

static int sample_cpu(const struct dec *d, const Sample *s, int *cpu)
{
	*cpu = -1;	/* no label: profiles of other programs name no CPU */
	for (size_t i = 0; i < s->n_label; i++) {
		const char *key = str(d, s->label[i]->key), *v = str(d, s->label[i]->str);
		int64_t num = s->label[i]->num;

		if (!key || !v)
			return bad(d, "a label names no string");
		if (strcmp(key, "cpu"))
			continue;
		if (*v) {
			char *end;

			num = strtoll(v, &end, 10);
			if (*end)
				num = -1;
		}
		if (num < 0 || num >= KP_CPUMASK_BITS)
			return bad(d, "cpu label %s is not a CPU from 0 to %d", *v ? v : "(number)",
				   KP_CPUMASK_BITS - 1);
		*cpu = (int)num;
	}
	return 0;
}

/* The task labels stack_labels writes; a sample with a "comm" label has a task (pid and tid
 * -1 where not given). */
static int sample_task(const struct dec *d, const Sample *s, struct profile_stack *st)
{
	struct profile_task t;

	profile_task_unknown(&t);
	for (size_t i = 0; i < s->n_label; i++) {
		const char *key = str(d, s->label[i]->key), *v = str(d, s->label[i]->str);
		int64_t num = s->label[i]->num;

		if (!key || !v)
			return bad(d, "a label names no string");
		if (!strcmp(key, "comm")) {
			snprintf(t.comm, sizeof(t.comm), "%s", v);
			st->has_task = true;
		} else if (!strcmp(key, "pid") || !strcmp(key, "tid")) {
			if (num < INT32_MIN || num > INT32_MAX)
				return bad(d, "%s label %lld is not a pid", key, (long long)num);
			*(!strcmp(key, "pid") ? &t.tgid : &t.pid) = (int32_t)num;
		}
	}
	if (st->has_task)
		st->task = t;
	return 0;
}

static int push_frame(struct dec *d, size_t *n, const char *name, uint64_t pc, unsigned flags)
{
	if (*n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct profile_frame *f = realloc(d->frames, cap * sizeof(*f));

		if (!f)
			return -ENOMEM;
		d->frames = f;
		d->cap = cap;
	}
	d->frames[*n].name = (char *)name;
	d->frames[*n].pc = pc;
	d->frames[*n].flags = flags | (strcmp(name, "??") ? 0 : PROFILE_FRAME_UNKNOWN);
	(*n)++;
	return 0;
}

/* One Location's frames: its Lines, inlined functions first; "??" when it has none. */
static int location_frames(struct dec *d, uint64_t id, size_t *n)
{
	const Profile *pb = d->pb;
	long li = find_id(d->locs, pb->n_location, id), mi;
	const Location *l;
	unsigned flags = 0;
	int rc = 0;

	if (li < 0)
		return bad(d, "a sample refers to location %llu, which is absent",
			   (unsigned long long)id);
	l = pb->location[li];
	if (l->mapping_id) {
		const char *file;

		mi = find_id(d->maps, pb->n_mapping, l->mapping_id);
		if (mi < 0)
			return bad(d, "location %llu refers to mapping %llu, which is absent",
				   (unsigned long long)id, (unsigned long long)l->mapping_id);
		file = str(d, pb->mapping[mi]->filename);
		if (!file)
			return bad(d, "mapping %llu names no string",
				   (unsigned long long)l->mapping_id);
		if (!strcmp(file, USER_MAPPING_NAME))
			flags |= PROFILE_FRAME_USER;
	}
	if (!l->n_line)
		return push_frame(d, n, "??", l->address, flags);
	for (size_t i = 0; i < l->n_line && !rc; i++) {
		long fi = find_id(d->funcs, pb->n_function, l->line[i]->function_id);
		const char *name;

		if (fi < 0)
			return bad(d, "location %llu refers to function %llu, which is absent",
				   (unsigned long long)id,
				   (unsigned long long)l->line[i]->function_id);
		name = str(d, pb->function[fi]->name);
		if (!name)
			return bad(d, "function %llu names no string",
				   (unsigned long long)pb->function[fi]->id);
		rc = push_frame(d, n, *name ? name : "??", l->address,
				flags | (i + 1 < l->n_line ? PROFILE_FRAME_INLINE : 0));
	}
	return rc;
}

/* What the profile says of itself: the main mapping's file and build id, the period. */
static void take_header(const struct dec *d, struct profile *meta)
{
	const Profile *pb = d->pb;
	const char *unit = pb->period_type ? str(d, pb->period_type->unit) : NULL;

	if (pb->n_mapping) {
		const char *file = str(d, pb->mapping[0]->filename);
		const char *bid = str(d, pb->mapping[0]->build_id);

		if (file && *file && strcmp(file, USER_MAPPING_NAME) && !meta->kernel)
			meta->kernel = strdup(file);
		if (bid && *bid && !meta->build_id)
			meta->build_id = strdup(bid);
	}
	if (unit && !strcmp(unit, "nanoseconds") && pb->period > 0)
		meta->interval_s = (double)pb->period / 1e9;
	if (pb->time_nanos > 0)
		meta->start_unix_ns = (uint64_t)pb->time_nanos;
}

static int decode(struct dec *d, struct profile *meta, convert_stack_fn fn, void *arg)
{
	const Profile *pb = d->pb;
	int rc;

	if (!pb->n_string_table || *pb->string_table[0])
		return bad(d, "the string table does not begin with \"\"");
	rc = pick_value(d);
	rc = rc ? rc : index_ids(d, "function", pb->n_function, (const void *const *)pb->function,
				 offsetof(Function, id), &d->funcs);
	rc = rc ? rc : index_ids(d, "location", pb->n_location, (const void *const *)pb->location,
				 offsetof(Location, id), &d->locs);
	rc = rc ? rc : index_ids(d, "mapping", pb->n_mapping, (const void *const *)pb->mapping,
				 offsetof(Mapping, id), &d->maps);
	if (rc)
		return rc;
	take_header(d, meta);
	for (size_t i = 0; i < pb->n_sample; i++) {
		const Sample *s = pb->sample[i];
		struct profile_stack st = { 0 };
		size_t n = 0;

		if (s->n_value != pb->n_sample_type)
			return bad(d, "sample %zu has %zu values for %zu sample types", i,
				   s->n_value, pb->n_sample_type);
		if (s->value[d->vi] < 0)
			return bad(d, "sample %zu counts %lld", i, (long long)s->value[d->vi]);
		if (!s->value[d->vi] || !s->n_location_id)
			continue;
		rc = sample_cpu(d, s, &st.cpu);
		rc = rc ? rc : sample_task(d, s, &st);
		for (size_t k = 0; k < s->n_location_id && !rc; k++)
			rc = location_frames(d, s->location_id[k], &n);
		if (rc)
			return rc;
		st.frames = d->frames;
		st.nframes = n;
		if (st.cpu >= meta->ncpus)
			meta->ncpus = st.cpu + 1;
		rc = fn(arg, &st, (uint64_t)s->value[d->vi]);
		if (rc)
			return rc;
	}
	return 0;
}

int convert_pprof_decode(const void *data, size_t len, const char *name, struct profile *meta,
			 convert_stack_fn fn, void *arg)
{
	struct dec d = { .name = name };
	Profile *pb = perftools__profiles__profile__unpack(NULL, len, data);
	int rc;

	if (!pb)
		return kp_fail(-EBADMSG, "%s: not a pprof profile (gzip data that holds no "
			       "profile.proto message)", name);
	d.pb = pb;
	rc = decode(&d, meta, fn, arg);
	free(d.funcs);
	free(d.locs);
	free(d.maps);
	free(d.frames);
	perftools__profiles__profile__free_unpacked(pb, NULL);
	return rc;
}
