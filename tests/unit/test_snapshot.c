/* Unit tests for end points and snapshots (vmm/endpoint.c, snapshot.c, restore.c): runs
 * ended at a stage and at a port-0x80 range, and a real snapshot of the bundled
 * guest on KVM restored whole and refused when truncated, corrupted, of another version or not
 * a snapshot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"
#include "vmm/vmm.h"

/* ---- a real snapshot ---- */
static const char *guest_path(void)
{
	const char *p = getenv("KPROF_GUEST");

	return p ? p : "build/guest/kprof-guest.elf";
}

struct snap_fixture {
	char dir[64];
	char good[128];
	char bad[128];
};

static int run_vm(struct vmm_config *cfg, struct vmm_result *res, bool *end_hit)
{
	struct vmm *vm;
	int ret = vmm_create(cfg, &vm);

	if (ret)
		return ret;
	ret = vmm_run_until_exit(vm, res);
	if (end_hit)
		*end_hit = vmm_end_point_reached(vm);
	vmm_destroy(vm);
	return ret;
}

static int snap_setup(void **state)
{
	struct snap_fixture *f = calloc(1, sizeof(*f));
	struct vmm_config cfg;
	struct vmm_result res;

	snprintf(f->dir, sizeof(f->dir), "/tmp/kprof-snap.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->good, sizeof(f->good), "%s/good.snap", f->dir);
	snprintf(f->bad, sizeof(f->bad), "%s/bad.snap", f->dir);
	vmm_config_init(&cfg);
	cfg.kernel = guest_path();
	cfg.cmdline = "iterations=1";
	cfg.serial_path = "/dev/null";
	cfg.snapshot_on_port80 = true;
	cfg.snapshot_port80 = 0x60;	/* workloads started */
	cfg.snapshot_path = f->good;
	if (run_vm(&cfg, &res, NULL) || res.kind != VMM_END_EXIT || res.exit_status != 0)
		return -1;
	*state = f;
	return 0;
}

static int snap_teardown(void **state)
{
	struct snap_fixture *f = *state;

	unlink(f->good);
	unlink(f->bad);
	rmdir(f->dir);
	free(f);
	return 0;
}

static int read_all(const char *path, char **data, size_t *len)
{
	return kp_read_file(path, data, len);
}

static void write_all(const char *path, const char *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static int restore(const char *path, struct vmm_result *res)
{
	struct vmm_config cfg;

	vmm_config_init(&cfg);
	cfg.restore_path = path;
	cfg.serial_path = "/dev/null";
	return run_vm(&cfg, res, NULL);
}

static void test_snapshot_restore(void **state)
{
	struct snap_fixture *f = *state;
	struct vmm_result res;
	struct stat st;

	assert_int_equal(stat(f->good, &st), 0);
	/* Header page, state, and a few hundred KiB of touched pages: far below 128 MiB. */
	assert_true(st.st_size > 8192);
	assert_true(st.st_size < (8 << 20));
	assert_int_equal(st.st_size % 4096, 0);
	assert_int_equal(restore(f->good, &res), 0);
	assert_int_equal(res.kind, VMM_END_EXIT);
	assert_int_equal(res.exit_status, 0);
}

static void test_snapshot_bad_files(void **state)
{
	struct snap_fixture *f = *state;
	struct vmm_result res;
	char *data;
	size_t len;

	assert_int_equal(read_all(f->good, &data, &len), 0);

	write_all(f->bad, data, len - 4096);		/* truncated */
	assert_int_equal(restore(f->bad, &res), -EINVAL);
	write_all(f->bad, data, 100);			/* truncated inside the header */
	assert_int_equal(restore(f->bad, &res), -EINVAL);

	data[len - 100] ^= 0x01;			/* a flipped bit in guest memory */
	write_all(f->bad, data, len);
	assert_int_equal(restore(f->bad, &res), -EINVAL);
	data[len - 100] ^= 0x01;

	data[4096 + 40] ^= 0x80;			/* in the vCPU state */
	write_all(f->bad, data, len);
	assert_int_equal(restore(f->bad, &res), -EINVAL);
	data[4096 + 40] ^= 0x80;

	data[8] = 2;					/* version 2 */
	write_all(f->bad, data, len);
	assert_int_equal(restore(f->bad, &res), -EINVAL);
	data[8] = 1;

	memcpy(data, "\177ELF", 4);			/* not a snapshot */
	write_all(f->bad, data, len);
	assert_int_equal(restore(f->bad, &res), -EINVAL);
	write_all(f->bad, "", 0);			/* empty */
	assert_int_equal(restore(f->bad, &res), -EINVAL);

	assert_int_equal(restore("/nonexistent/x.snap", &res), -ENOENT);
	free(data);
}

static void test_end_point_run(void **state)
{
	struct vmm_config cfg;
	struct vmm_result res;
	bool hit = false;
	char err[160];

	(void)state;
	vmm_config_init(&cfg);
	cfg.kernel = guest_path();
	cfg.serial_path = "/dev/null";
	assert_int_equal(vmm_config_set_end_point(&cfg, "idt_ready", err, sizeof(err)), 0);
	assert_int_equal(run_vm(&cfg, &res, &hit), 0);
	assert_true(hit);
	assert_int_equal(res.kind, VMM_END_EXIT);
	assert_int_equal(res.exit_status, 0);

	assert_int_equal(vmm_config_set_end_point(&cfg, "0x41-0x43", err, sizeof(err)), 0);
	assert_int_equal(run_vm(&cfg, &res, &hit), 0);
	assert_true(hit);
	assert_non_null(strstr(res.message, "0x41"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_end_point_run),
		cmocka_unit_test_setup_teardown(test_snapshot_restore, snap_setup, snap_teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_bad_files, snap_setup, snap_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
