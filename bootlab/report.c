/* The boot lab's outputs: an aligned table and JSON (written by hand: json-c belongs to the
 * profiler's trace module, and this is numbers and fixed names). */
#include "bootlab/bootlab.h"

#include "common/common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const group_keys[BL_GROUP_COUNT] = {
	"split", "host_phases", "create_vm", "restore", "guest_stages", "port80", "qemu",
};

static int series_stats(const struct bl_series *s, struct bl_stats *st)
{
	uint64_t *copy = malloc((s->n ? s->n : 1) * sizeof(*copy));

	if (!copy)
		return -ENOMEM;
	memcpy(copy, s->v, s->n * sizeof(*copy));
	bl_stats_compute(copy, s->n, st);
	free(copy);
	return 0;
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static void print_row(FILE *f, const char *name, const struct bl_stats *st)
{
	fprintf(f, "  %-30s %5zu %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f\n", name, st->n,
		ms(st->min), ms(st->median), ms(st->p90), ms(st->p99), ms(st->max),
		ms(st->max - st->min), ms(st->p75 - st->p25));
}

static int print_side_by_side(const struct bootlab *lab, FILE *f)
{
	const struct bl_series *k = bootlab_find(lab, BL_GROUP_SPLIT, "total");
	const struct bl_series *q = bootlab_find(lab, BL_GROUP_QEMU, "wall");
	struct bl_stats a, b;

	if (!k || !q)
		return 0;
	if (series_stats(k, &a) || series_stats(q, &b))
		return -ENOMEM;
	fprintf(f, "\ntotal boot time to the end point, side by side (ms)\n");
	fprintf(f, "  %-12s %14s %14s\n", "", "kprof (KVM)", "QEMU (TCG)");
	fprintf(f, "  %-12s %14zu %14zu\n", "boots", a.n, b.n);
#define ROW(label, field) \
	fprintf(f, "  %-12s %14.3f %14.3f\n", label, ms(a.field), ms(b.field))
	ROW("min", min);
	ROW("median", median);
	ROW("p90", p90);
	ROW("p99", p99);
	ROW("max", max);
#undef ROW
	fprintf(f, "  %-12s %14.3f %14.3f\n", "spread", ms(a.max - a.min), ms(b.max - b.min));
	fprintf(f, "  %-12s %14.3f %14.3f\n", "IQR", ms(a.p75 - a.p25), ms(b.p75 - b.p25));
	fprintf(f, "  kprof: vmm_create to the end point, in process; QEMU: spawning\n"
		   "  qemu-system-x86_64 -accel tcg to the end point (its process start included).\n"
		   "  QEMU runs without KVM: on a paravirtualized (PVM) KVM host such as the test\n"
		   "  machines its firmware runs emulated and a KVM boot takes seconds, so the\n"
		   "  columns compare kprof's VM with QEMU's software emulation.\n");
	return 0;
}

/* The first series of group g at index i or after (lab->nseries: none); both outputs list a
 * group's series in the order they were added. */
static size_t next_in(const struct bootlab *lab, int g, size_t i)
{
	while (i < lab->nseries && (int)lab->series[i].group != g)
		i++;
	return i;
}

int bootlab_print_table(const struct bootlab *lab, const struct bl_report *r, FILE *f)
{
	fprintf(f, "kprof boot: %zu boots of %s", lab->iterations, r->kernel);
	if (r->cpus)
		fprintf(f, " (%u vCPU%s)", r->cpus, r->cpus == 1 ? "" : "s");
	fprintf(f, ", each ended at %s", r->end_point);
	if (r->failures)
		fprintf(f, "; %zu failed", r->failures);
	fprintf(f, "; %.1f s in all\n", r->wall_s);
	fprintf(f, "times in ms; nearest-rank percentiles; spread = max - min; "
		   "IQR = p75 - p25 (robust spread)\n");
	for (int g = 0; g < BL_GROUP_COUNT; g++) {
		bool header = false;

		for (size_t i = next_in(lab, g, 0); i < lab->nseries; i = next_in(lab, g, i + 1)) {
			const struct bl_series *s = &lab->series[i];
			struct bl_stats st;

			if (!header) {
				fprintf(f, "\n%s\n  %-30s %5s %9s %9s %9s %9s %9s %9s %9s\n",
					bl_group_title(s->group), "", "n", "min", "median", "p90",
					"p99", "max", "spread", "IQR");
				header = true;
			}
			if (series_stats(s, &st))
				return -ENOMEM;
			print_row(f, s->name, &st);
		}
	}
	if (print_side_by_side(lab, f))
		return -ENOMEM;
	fflush(f);
	return ferror(f) ? -EIO : 0;
}

static void json_values(FILE *f, const struct bl_series *s)
{
	for (size_t i = 0; s && i < s->n; i++)
		fprintf(f, "%s%llu", i ? "," : "", (unsigned long long)s->v[i]);
}

int bootlab_write_json(const struct bootlab *lab, const struct bl_report *r, FILE *f)
{
	fprintf(f, "{\"kernel\":");
	kp_json_string(f, r->kernel);
	fprintf(f, ",\"cpus\":%u,\"end_point\":", r->cpus);
	kp_json_string(f, r->end_point);
	fprintf(f, ",\"iterations\":%zu,\"failures\":%zu,\"wall_s\":%.3f,\"unit\":\"ns\","
		   "\"percentiles\":\"nearest-rank\",\"spread\":\"max-min\","
		   "\"robust_spread\":\"iqr: p75-p25\",\"groups\":[",
		lab->iterations, r->failures, r->wall_s);
	bool first_group = true;
	for (int g = 0; g < BL_GROUP_COUNT; g++) {
		bool first = true;

		for (size_t i = next_in(lab, g, 0); i < lab->nseries; i = next_in(lab, g, i + 1)) {
			const struct bl_series *s = &lab->series[i];
			struct bl_stats st;

			if (first) {
				fprintf(f, "%s{\"group\":\"%s\",\"title\":", first_group ? "" : ",",
					group_keys[g]);
				kp_json_string(f, bl_group_title(s->group));
				fprintf(f, ",\"rows\":[");
				first_group = false;
			}
			if (series_stats(s, &st))
				return -ENOMEM;
			fprintf(f, "%s{\"name\":", first ? "" : ",");
			kp_json_string(f, s->name);
			fprintf(f, ",\"n\":%zu,\"min\":%llu,\"p25\":%llu,\"median\":%llu,\"p75\":%llu,"
				   "\"p90\":%llu,\"p99\":%llu,\"max\":%llu,\"spread\":%llu,\"iqr\":%llu}",
				st.n, (unsigned long long)st.min, (unsigned long long)st.p25,
				(unsigned long long)st.median, (unsigned long long)st.p75,
				(unsigned long long)st.p90, (unsigned long long)st.p99,
				(unsigned long long)st.max, (unsigned long long)(st.max - st.min),
				(unsigned long long)(st.p75 - st.p25));
			first = false;
		}
		if (!first)
			fprintf(f, "]}");
	}
	fprintf(f, "],\"total_ns\":[");
	json_values(f, bootlab_find(lab, BL_GROUP_SPLIT, "total"));
	fprintf(f, "],\"qemu_wall_ns\":[");
	json_values(f, bootlab_find(lab, BL_GROUP_QEMU, "wall"));
	fprintf(f, "]}\n");
	fflush(f);
	return ferror(f) ? -EIO : 0;
}
