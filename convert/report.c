/* kprof report: each function's self samples (it was the innermost frame) and total samples
 * (it was anywhere on the stack, counted once per stack however deep the recursion), overall
 * or per CPU, printed in perf report's layout or as JSON. */
#include "convert/convert_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define NO_CPU (-1)
#define MAX_CPU 4096

struct fn_stats {
	uint64_t self, total;
	uint64_t stamp;		/* the last stack that counted it in total */
	int cpu;		/* NO_CPU unless per CPU */
	bool user;
	const char *name;	/* into the intern table: valid once loading is over */
};

struct convert_report {
	bool per_cpu;
	struct intern keys;	/* cpu, user flag, name */
	struct fn_stats *fns;
	size_t cap;
	uint64_t stamp;
	uint64_t samples;
	uint64_t *cpu_samples;	/* of each CPU id seen */
	int ncpu_slots;
	struct kp_buf key;
};

int convert_report_new(bool per_cpu, struct convert_report **out)
{
	struct convert_report *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->per_cpu = per_cpu;
	*out = r;
	return 0;
}

void convert_report_free(struct convert_report *r)
{
	if (!r)
		return;
	intern_release(&r->keys);
	free(r->fns);
	free(r->cpu_samples);
	kp_buf_release(&r->key);
	free(r);
}

uint64_t convert_report_samples(const struct convert_report *r)
{
	return r->samples;
}

static int add_u64(uint64_t *to, uint64_t v)
{
	return __builtin_add_overflow(*to, v, to) ? -EOVERFLOW : 0;
}

static int count_cpu(struct convert_report *r, int cpu, uint64_t count)
{
	if (cpu < 0)
		return 0;
	if (cpu >= MAX_CPU)
		return -EINVAL;
	if (cpu >= r->ncpu_slots) {
		uint64_t *grown = realloc(r->cpu_samples, (size_t)(cpu + 1) * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		memset(grown + r->ncpu_slots, 0, (size_t)(cpu + 1 - r->ncpu_slots) * sizeof(*grown));
		r->cpu_samples = grown;
		r->ncpu_slots = cpu + 1;
	}
	return add_u64(&r->cpu_samples[cpu], count);
}

static int function_of(struct convert_report *r, int cpu, const struct profile_frame *fr,
		       struct fn_stats **out)
{
	const char *name = fr->name ? fr->name : "??";
	int32_t c = cpu;
	uint8_t user = !!(fr->flags & PROFILE_FRAME_USER);
	size_t id;
	bool added;
	int rc;

	kp_buf_reset(&r->key);
	rc = kp_buf_append(&r->key, &c, sizeof(c));
	rc = rc ? rc : kp_buf_append(&r->key, &user, 1);
	rc = rc ? rc : kp_buf_puts(&r->key, name);
	rc = rc ? rc : intern(&r->keys, r->key.data, r->key.len, &id, &added);
	if (rc)
		return rc;
	if (id > r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		struct fn_stats *grown = realloc(r->fns, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		r->fns = grown;
		r->cap = cap;
	}
	if (added)
		r->fns[id - 1] = (struct fn_stats){ .cpu = cpu, .user = user };
	*out = &r->fns[id - 1];
	return 0;
}

int convert_report_add(void *report, const struct profile_stack *st, uint64_t count)
{
	struct convert_report *r = report;
	int cpu = r->per_cpu ? st->cpu : NO_CPU;
	int rc;

	if (!st->nframes || !count)
		return 0;
	rc = add_u64(&r->samples, count);
	rc = rc ? rc : count_cpu(r, st->cpu, count);
	r->stamp++;
	for (size_t k = 0; k < st->nframes && !rc; k++) {
		struct fn_stats *f;

		rc = function_of(r, cpu, &st->frames[k], &f);
		if (!rc && !k)
			rc = add_u64(&f->self, count);
		if (!rc && f->stamp != r->stamp) {
			f->stamp = r->stamp;
			rc = add_u64(&f->total, count);
		}
	}
	return rc;
}

/* ---- printing ---- */

struct table {
	int cpu;			/* NO_CPU: every CPU together */
	uint64_t samples;
	struct fn_stats **rows;
	size_t nrows;
};

/* Rows by the sort key, then the other count, then by name: the same input, the same order. */
static int cmp_rows(const void *a, const void *b, void *by_total)
{
	const struct fn_stats *x = *(const struct fn_stats *const *)a;
	const struct fn_stats *y = *(const struct fn_stats *const *)b;
	uint64_t kx = by_total ? x->total : x->self, ky = by_total ? y->total : y->self;
	uint64_t ox = by_total ? x->self : x->total, oy = by_total ? y->self : y->total;

	if (kx != ky)
		return kx < ky ? 1 : -1;
	if (ox != oy)
		return ox < oy ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* The rows of one table: perf lists only functions with samples of their own, unless
 * --children, where callers are entries too. */
static int table_rows(const struct convert_report *r, const struct convert_report_opts *o,
		      struct table *t)
{
	bool total = o->sort == CONVERT_SORT_TOTAL || (o->sort == CONVERT_SORT_DEFAULT && o->children);

	t->rows = calloc(r->keys.n ? r->keys.n : 1, sizeof(*t->rows));
	if (!t->rows)
		return -ENOMEM;
	t->nrows = 0;
	for (size_t i = 0; i < r->keys.n; i++) {
		struct fn_stats *f = &r->fns[i];

		f->name = (const char *)intern_key(&r->keys, i + 1, NULL) + sizeof(int32_t) + 1;
		if (f->cpu == t->cpu && (f->self || o->children))
			t->rows[t->nrows++] = f;
	}
	qsort_r(t->rows, t->nrows, sizeof(*t->rows), cmp_rows, total ? (void *)t : NULL);
	if (o->limit && t->nrows > o->limit)
		t->nrows = o->limit;
	return 0;
}

static double share(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static int cpus_seen(const struct convert_report *r)
{
	int n = 0;

	for (int c = 0; c < r->ncpu_slots; c++)
		n += r->cpu_samples[c] != 0;
	return n;
}

#define WIDTH 80

static void print_text_table(const struct table *t, const struct convert_report_opts *o,
			     FILE *f)
{
	char num[24];
	int digits = 7, room;
	size_t i;

	for (i = 0; i < t->nrows; i++) {
		int n = snprintf(num, sizeof(num), "%" PRIu64,
				 o->children ? t->rows[i]->total : t->rows[i]->self);

		digits = KP_MAX(digits, n);
	}
	/* Two 8-wide shares, the count, "[k] ": what is left of 80 columns is the name's. */
	room = WIDTH - (2 + 8) * 2 - (2 + digits) - 2 - 4;
	fprintf(f, "# %8s  %8s  %*s  Symbol\n", o->children ? "Children" : "Self",
		o->children ? "Self" : "Total", digits, "Samples");
	fprintf(f, "# ........  ........  %.*s  %.*s\n", digits, "....................",
		room + 4, "................................................................");
	fprintf(f, "#\n");
	for (i = 0; i < t->nrows; i++) {
		const struct fn_stats *fn = t->rows[i];
		double a = share(o->children ? fn->total : fn->self, t->samples);
		double b = share(o->children ? fn->self : fn->total, t->samples);
		int len = (int)strlen(fn->name);

		fprintf(f, "  %7.2f%%  %7.2f%%  %*" PRIu64 "  [%c] ", a, b, digits,
			o->children ? fn->total : fn->self, fn->user ? '.' : 'k');
		if (len > room)
			fprintf(f, "%.*s...\n", room - 3, fn->name);
		else
			fprintf(f, "%s\n", fn->name);
	}
	if (!t->nrows)
		fprintf(f, "# (no function has samples of its own)\n");
}

static void json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	while (*p) {
		size_t n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 :
			   (*p & 0xf8) == 0xf0 ? 4 : 0;
		size_t k = 1;

		while (k < n && (p[k] & 0xc0) == 0x80)
			k++;
		if (*p == '"' || *p == '\\') {
			fprintf(f, "\\%c", *p);
		} else if (*p < 0x20) {
			fprintf(f, "\\u%04x", *p);
		} else if (n > 1 && k == n) {
			fwrite(p, 1, n, f);	/* a whole UTF-8 sequence */
		} else if (n != 1) {
			fputs("\\ufffd", f);	/* a byte that starts no valid sequence */
			n = 1;
		} else {
			fputc(*p, f);
		}
		p += n ? n : 1;
	}
	fputc('"', f);
}

static void print_json_table(const struct table *t, FILE *f, bool first)
{
	fprintf(f, "%s{\"cpu\":", first ? "" : ",");
	if (t->cpu == NO_CPU)
		fprintf(f, "null");
	else
		fprintf(f, "%d", t->cpu);
	fprintf(f, ",\"samples\":%" PRIu64 ",\"functions\":[", t->samples);
	for (size_t i = 0; i < t->nrows; i++) {
		const struct fn_stats *fn = t->rows[i];

		fprintf(f, "%s{\"symbol\":", i ? "," : "");
		json_string(f, fn->name);
		fprintf(f, ",\"mode\":\"%s\",\"self\":%" PRIu64 ",\"total\":%" PRIu64
			",\"self_share\":%.6f,\"total_share\":%.6f}", fn->user ? "user" : "kernel",
			fn->self, fn->total, share(fn->self, t->samples) / 100,
			share(fn->total, t->samples) / 100);
	}
	fprintf(f, "]}");
}

static int print_table(const struct convert_report *r, const struct convert_report_opts *o,
		       int cpu, uint64_t samples, FILE *f, bool first)
{
	struct table t = { .cpu = cpu, .samples = samples };
	int rc = table_rows(r, o, &t);

	if (rc)
		return rc;
	if (o->json) {
		print_json_table(&t, f, first);
	} else {
		if (cpu != NO_CPU)
			fprintf(f, "%s# CPU %d: %" PRIu64 " samples (%.2f%% of all)\n#\n",
				first ? "" : "\n", cpu, samples, share(samples, r->samples));
		else if (o->per_cpu)
			fprintf(f, "%s# No CPU id: %" PRIu64 " samples (%.2f%% of all)\n#\n",
				first ? "" : "\n", samples, share(samples, r->samples));
		print_text_table(&t, o, f);
	}
	free(t.rows);
	return 0;
}

int convert_report_print(const struct convert_report *r, const struct convert_report_opts *o,
			 FILE *f, const char *name)
{
	bool total = o->sort == CONVERT_SORT_TOTAL || (o->sort == CONVERT_SORT_DEFAULT && o->children);
	int ncpus = cpus_seen(r), rc = 0;
	bool first = true;

	if (o->json) {
		fprintf(f, "{\"input\":");
		json_string(f, o->input ? o->input : "");
		fprintf(f, ",\"samples\":%" PRIu64 ",\"cpus\":", r->samples);
		if (ncpus)	/* folded stacks carry no CPU ids */
			fprintf(f, "%d", ncpus);
		else
			fprintf(f, "null");
		fprintf(f, ",\"sort\":\"%s\",\"children\":%s,\"tables\":[",
			total ? "total" : "self", o->children ? "true" : "false");
	} else {
		fprintf(f, "# kprof report of %s\n# Samples: %" PRIu64, o->input ? o->input : "",
			r->samples);
		if (ncpus)
			fprintf(f, " on %d CPU%s", ncpus, ncpus == 1 ? "" : "s");
		fprintf(f, "; self: innermost frame, total: anywhere on the stack\n#\n");
	}
	if (!o->per_cpu) {
		rc = print_table(r, o, NO_CPU, r->samples, f, true);
	} else {
		uint64_t with_cpu = 0;

		for (int c = 0; c < r->ncpu_slots && !rc; c++) {
			if (!r->cpu_samples[c])
				continue;
			with_cpu += r->cpu_samples[c];
			rc = print_table(r, o, c, r->cpu_samples[c], f, first);
			first = false;
		}
		/* pprof files of other programs may name no CPU: their samples come last. */
		if (!rc && with_cpu < r->samples)
			rc = print_table(r, o, NO_CPU, r->samples - with_cpu, f, first);
	}
	if (o->json)
		fprintf(f, "]}\n");
	if (rc)
		kp_error("%s: %s", name, strerror(-rc));
	return rc;
}
