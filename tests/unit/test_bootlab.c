/* Unit tests for bootlab/: nearest-rank percentiles, the rows a boot profile adds (the
 * tVMM/tFW/tKernel split, first port-0x80 writes, restore steps), and the JSON report. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootlab/bootlab.h"

/* ---- statistics ---- */
static void test_percentiles(void **state)
{
	uint64_t v[100];
	struct bl_stats st;

	(void)state;
	for (int i = 0; i < 100; i++)
		v[i] = (uint64_t)(100 - i);	/* 100..1, unsorted */
	bl_stats_compute(v, 100, &st);
	assert_int_equal(st.n, 100);
	assert_int_equal(st.min, 1);
	assert_int_equal(st.max, 100);
	assert_int_equal(st.median, 50);
	assert_int_equal(st.p25, 25);
	assert_int_equal(st.p75, 75);
	assert_int_equal(st.p90, 90);
	assert_int_equal(st.p99, 99);

	uint64_t one = 7;
	bl_stats_compute(&one, 1, &st);
	assert_int_equal(st.min, 7);
	assert_int_equal(st.p99, 7);
	bl_stats_compute(NULL, 0, &st);
	assert_int_equal(st.n, 0);
	assert_int_equal(st.max, 0);

	uint64_t three[] = { 30, 10, 20 };
	bl_stats_compute(three, 3, &st);
	assert_int_equal(st.median, 20);
	assert_int_equal(st.p90, 30);
}

static void fill_profile(struct vmm_boot_profile *p, uint64_t scale)
{
	memset(p, 0, sizeof(*p));
	for (int i = 0; i < VMM_PHASE_COUNT; i++)
		p->phase_ns[i] = 1000 * scale;
	p->start_ns = 10000 * scale;
	p->end_ns = 50000 * scale;
	p->nport80 = 3;
	p->port80[0] = (struct vmm_port80_event){ .code = 0x20, .host_ns = 11000 * scale };
	p->port80[1] = (struct vmm_port80_event){ .code = 0x40, .host_ns = 12000 * scale };
	p->port80[2] = (struct vmm_port80_event){ .code = 0x40, .host_ns = 13000 * scale };
	p->nstages = 2;
	snprintf(p->stages[0].name, sizeof(p->stages[0].name), "init_entry");
	p->stages[0].guest_ns = 100 * scale;
	p->stages[0].host_ns = 12500 * scale;
	snprintf(p->stages[1].name, sizeof(p->stages[1].name), "ready");
	p->stages[1].guest_ns = 900 * scale;
	p->stages[1].host_ns = 49000 * scale;
}

static void test_lab_profile_rows(void **state)
{
	struct vmm_boot_profile *p = malloc(sizeof(*p));
	struct bootlab lab;
	const struct bl_series *s;

	(void)state;
	bootlab_init(&lab);
	for (uint64_t k = 1; k <= 3; k++) {
		fill_profile(p, k);
		assert_int_equal(bootlab_add_profile(&lab, p), 0);
	}
	assert_int_equal(lab.iterations, 3);
	/* tVMM = start; tFW = first kernel-range code (0x40) - start; tKernel = end - that. */
	s = bootlab_find(&lab, BL_GROUP_SPLIT, "tVMM");
	assert_non_null(s);
	assert_int_equal(s->n, 3);
	assert_int_equal(s->v[1], 20000);
	s = bootlab_find(&lab, BL_GROUP_SPLIT, "tFW");
	assert_int_equal(s->v[0], 2000);
	s = bootlab_find(&lab, BL_GROUP_SPLIT, "tKernel");
	assert_int_equal(s->v[0], 38000);
	s = bootlab_find(&lab, BL_GROUP_SPLIT, "total");
	assert_int_equal(s->v[2], 150000);
	/* A repeated port code counts once per boot, at its first write. */
	s = bootlab_find(&lab, BL_GROUP_PORT80, "0x40 Kernel");
	assert_non_null(s);
	assert_int_equal(s->n, 3);
	assert_int_equal(s->v[0], 12000);
	s = bootlab_find(&lab, BL_GROUP_STAGE, "ready");
	assert_int_equal(s->v[0], 900);
	assert_non_null(bootlab_find(&lab, BL_GROUP_HOST, "boot_wait"));
	assert_non_null(bootlab_find(&lab, BL_GROUP_DETAIL, "kvm_set_user_memory_region"));
	assert_null(bootlab_find(&lab, BL_GROUP_RESTORE, "resume"));

	/* The JSON report carries the fixed names and every boot's total. */
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct bl_report r = { .kernel = "k\"1.elf", .end_point = "BOOT_TIME:ready", .cpus = 2 };
	assert_int_equal(bootlab_write_json(&lab, &r, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "\"kernel\":\"k\\\"1.elf\""));
	assert_non_null(strstr(buf, "\"total_ns\":[50000,100000,150000]"));
	assert_non_null(strstr(buf, "{\"name\":\"tFW\",\"n\":3,\"min\":2000,"));
	free(buf);

	/* A restored VM reports restore steps instead of host phases. */
	fill_profile(p, 1);
	p->restored = true;
	p->detail_ns[VMM_DETAIL_RESUME] = 77;
	bootlab_release(&lab);
	bootlab_init(&lab);
	assert_int_equal(bootlab_add_profile(&lab, p), 0);
	s = bootlab_find(&lab, BL_GROUP_RESTORE, "total with resume");
	assert_non_null(s);
	assert_int_equal(s->v[0], 10077);
	assert_null(bootlab_find(&lab, BL_GROUP_DETAIL, "elf_load"));
	bootlab_release(&lab);
	free(p);
}

static void test_svg(void **state)
{
	struct bootlab lab;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct bl_report r = { .kernel = "a<b>&c.elf", .end_point = "BOOT_TIME:ready", .cpus = 1 };

	(void)state;
	bootlab_init(&lab);
	for (uint64_t v = 1; v <= 10; v++)
		assert_int_equal(bootlab_add(&lab, BL_GROUP_SPLIT, "total", v * 1000000), 0);
	assert_int_equal(bootlab_add(&lab, BL_GROUP_QEMU, "wall", 20000000), 0);
	assert_int_equal(bootlab_write_svg(&lab, &r, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "a&lt;b&gt;&amp;c.elf"));
	assert_non_null(strstr(buf, "(10 boots)"));
	assert_non_null(strstr(buf, "QEMU (TCG)"));
	assert_non_null(strstr(buf, "</svg>"));
	free(buf);
	bootlab_release(&lab);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_percentiles),
		cmocka_unit_test(test_lab_profile_rows),
		cmocka_unit_test(test_svg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
