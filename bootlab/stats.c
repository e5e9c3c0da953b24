/* Series of per-boot values and their summary statistics. */
#include "bootlab/bootlab.h"

#include "common/common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t bl_percentile(const uint64_t *sorted, size_t n, double pct)
{
	size_t rank;

	if (!n)
		return 0;
	/* Nearest rank: the smallest value with at least pct% of the values at or below it. */
	rank = (size_t)(pct / 100.0 * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

void bl_stats_compute(uint64_t *vals, size_t n, struct bl_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->n = n;
	if (!n)
		return;
	qsort(vals, n, sizeof(*vals), cmp_u64);
	out->min = vals[0];
	out->max = vals[n - 1];
	out->p25 = bl_percentile(vals, n, 25);
	out->median = bl_percentile(vals, n, 50);
	out->p75 = bl_percentile(vals, n, 75);
	out->p90 = bl_percentile(vals, n, 90);
	out->p99 = bl_percentile(vals, n, 99);
}

void bootlab_init(struct bootlab *lab)
{
	memset(lab, 0, sizeof(*lab));
}

void bootlab_release(struct bootlab *lab)
{
	for (size_t i = 0; i < lab->nseries; i++)
		free(lab->series[i].v);
	free(lab->series);
	memset(lab, 0, sizeof(*lab));
}

const char *bl_group_title(enum bl_group g)
{
	static const char *const titles[BL_GROUP_COUNT] = {
		"boot split (NEMU/cloud-hypervisor: tVMM, tFW, tKernel)",
		"host phases",
		"create-VM breakdown",
		"restore from snapshot",
		"guest stages (BOOT_TIME, guest clock since its entry)",
		"port 0x80 events (host clock since the command began)",
		"QEMU (TCG) wall time to the end point",
	};
	return (unsigned)g < BL_GROUP_COUNT ? titles[g] : "?";
}

const struct bl_series *bootlab_find(const struct bootlab *lab, enum bl_group g,
				     const char *name)
{
	for (size_t i = 0; i < lab->nseries; i++)
		if (lab->series[i].group == g && !strcmp(lab->series[i].name, name))
			return &lab->series[i];
	return NULL;
}

int bootlab_add(struct bootlab *lab, enum bl_group g, const char *name, uint64_t ns)
{
	struct bl_series *s = (struct bl_series *)bootlab_find(lab, g, name);

	if (!s) {
		if (lab->nseries == lab->cap) {
			size_t cap = lab->cap ? lab->cap * 2 : 64;
			struct bl_series *n = realloc(lab->series, cap * sizeof(*n));

			if (!n)
				return -ENOMEM;
			lab->series = n;
			lab->cap = cap;
		}
		s = &lab->series[lab->nseries++];
		memset(s, 0, sizeof(*s));
		s->group = g;
		snprintf(s->name, sizeof(s->name), "%s", name);
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		uint64_t *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = ns;
	return 0;
}

static int add_split(struct bootlab *lab, const struct vmm_boot_profile *p)
{
	struct bl_boot_split s;
	int ret;

	bl_boot_split(p, &s);
	ret = bootlab_add(lab, BL_GROUP_SPLIT, "tVMM", s.tvmm);
	if (!ret)
		ret = bootlab_add(lab, BL_GROUP_SPLIT, "tFW", s.tfw);
	if (!ret && s.has_kernel)
		ret = bootlab_add(lab, BL_GROUP_SPLIT, "tKernel", s.tkernel);
	return ret;
}

static bool seen_stage(const struct vmm_boot_profile *p, unsigned i)
{
	for (unsigned k = 0; k < i; k++)
		if (!strcmp(p->stages[k].name, p->stages[i].name))
			return true;
	return false;
}

int bootlab_add_profile(struct bootlab *lab, const struct vmm_boot_profile *p)
{
	bool code_seen[256] = { false };
	size_t nrows;
	const enum vmm_detail *rows = bl_detail_rows(p->restored, &nrows);
	int ret = 0;

	if (p->restored) {
		for (size_t i = 0; !ret && i < nrows; i++)
			ret = bootlab_add(lab, BL_GROUP_RESTORE, vmm_detail_name(rows[i]),
					  p->detail_ns[rows[i]]);
		if (!ret)
			ret = bootlab_add(lab, BL_GROUP_RESTORE, "total without resume", p->start_ns);
		if (!ret)
			ret = bootlab_add(lab, BL_GROUP_RESTORE, "total with resume",
					  p->start_ns + p->detail_ns[VMM_DETAIL_RESUME]);
		if (!ret)
			ret = bootlab_add(lab, BL_GROUP_HOST, "boot_wait",
					  p->phase_ns[VMM_PHASE_BOOT_WAIT]);
	} else {
		for (int i = 0; !ret && i <= VMM_PHASE_BOOT_WAIT; i++)
			ret = bootlab_add(lab, BL_GROUP_HOST, vmm_phase_name(i), p->phase_ns[i]);
		for (size_t i = 0; !ret && i < nrows; i++)
			ret = bootlab_add(lab, BL_GROUP_DETAIL, vmm_detail_name(rows[i]),
					  p->detail_ns[rows[i]]);
		if (!ret)
			ret = add_split(lab, p);
	}
	if (!ret)
		ret = bootlab_add(lab, BL_GROUP_SPLIT, "total", p->end_ns);
	for (unsigned i = 0; !ret && i < p->nstages; i++)
		if (!seen_stage(p, i))
			ret = bootlab_add(lab, BL_GROUP_STAGE, p->stages[i].name,
					  p->stages[i].guest_ns);
	for (unsigned i = 0; !ret && i < p->nport80; i++) {
		char name[24];
		uint8_t c = p->port80[i].code;

		if (code_seen[c])
			continue;
		code_seen[c] = true;
		snprintf(name, sizeof(name), "0x%02x %s", c, bl_port80_range(c));
		ret = bootlab_add(lab, BL_GROUP_PORT80, name, p->port80[i].host_ns);
	}
	if (!ret)
		lab->iterations++;
	return ret;
}
