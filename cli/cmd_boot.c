/* kprof boot: boot a kernel many times (a fresh VM each time) and report the distributions of
 * its boot phases, optionally beside QEMU's.
 *
 * Exit status: 0 when every boot reached the end point, 1 when some did not (the others are
 * reported), 2 for bad usage or input, 3 when KVM is unavailable or a report cannot be written. */
#include "bootlab/bootlab.h"
#include "cli/commands.h"
#include "cli/run_options.h"
#include "common/common.h"
#include "vmm/vmm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_ITERATIONS 20
#define DEFAULT_END "ready"

struct boot_opts {
	uint64_t iterations;
	const char *json_path;
	const char *svg_path;
	bool compare_qemu;
	const char *qemu;
	bool to_debug_exit;
	struct vmm_config *cfg;	/* where --exit-at's end points go */
};

/* --exit-at takes debug-exit here too (the guest's own end), as well as run's end points. */
static int set_exit_at(void *target, const struct kp_opt *opt, const char *v)
{
	struct boot_opts *o = target;

	if (!strcmp(v, "debug-exit")) {
		o->to_debug_exit = true;
		o->cfg->end_stage = NULL;
		o->cfg->end_port80 = false;
		return 0;
	}
	if (run_options_end_point(o->cfg, opt->name, v))
		return -EINVAL;
	if (o->cfg->end_stage || o->cfg->end_port80)
		o->to_debug_exit = false;
	return 0;
}

#define BOOT(field) KP_OPT_FIELD(struct boot_opts, field)
#define STR1(x) #x
#define STR(x) STR1(x)

static const struct kp_opt boot_options[] = {
	{ "iterations", 0, KP_OPT_UINT, "N", "boots (default " STR(DEFAULT_ITERATIONS) ")",
	  BOOT(iterations), .min = 1, .max = 1000000 },
	{ "exit-at", 0, KP_OPT_CALL, "STAGE|CODE",
	  "end point: BOOT_TIME stage, port-0x80 code 0xNN or range\n"
	  "0xNN-0xMM, or debug-exit (the guest's own end); default\n"
	  "'" DEFAULT_END "' (the bundled guest's last boot stage)", .set = set_exit_at },
	{ "json", 0, KP_OPT_STR, "FILE", "the distributions (and every boot's total) as JSON",
	  BOOT(json_path) },
	{ "histogram", 0, KP_OPT_STR, "FILE", "an SVG histogram of total boot time", BOOT(svg_path) },
	{ "compare-qemu", 0, KP_OPT_FLAG, NULL,
	  "also boot N times under qemu-system-x86_64 -accel tcg and\n"
	  "print both totals side by side", BOOT(compare_qemu) },
	{ "qemu", 0, KP_OPT_STR, "PROGRAM", "the QEMU to run (default qemu-system-x86_64)",
	  BOOT(qemu) },
	KP_OPT_END,
};

static int parse(int argc, char **argv, struct boot_opts *o, struct vmm_config *cfg)
{
	const struct kp_opt_group groups[] = {
		{ .title = "options:", .opts = boot_options, .target = o },
		{ .title = "\nrun options (as kprof run; the guest's serial output goes to /dev/null unless\n"
			   "--serial is given; --restore FILE boots from a snapshot and reports the restore):",
		  .opts = run_options, .target = cfg },
	};
	const struct kp_opts opts = {
		.cmd = "boot", .groups = groups, .ngroups = KP_ARRAY_SIZE(groups),
		.usage = "usage: kprof boot [options] [run options] KERNEL.elf\n\n"
			 "Boot KERNEL.elf N times, each in a fresh VM ended at the end point, and print the\n"
			 "min, median, p90, p99, max, spread (max - min) and IQR (p75 - p25) of every host\n"
			 "phase, create-VM step, tVMM/tFW/tKernel, guest BOOT_TIME stage and port-0x80 event.\n\n",
		.operand = run_options_kernel, .ctx = cfg,
	};
	int next = 1, rc;

	o->cfg = cfg;
	rc = kp_opts_parse(&opts, argc, argv, &next);
	if (rc)
		return rc;
	if (run_options_check(cfg, "boot"))
		return -EINVAL;
	if (cfg->snapshot_path)
		return kp_fail(-EINVAL, "kprof boot takes no --snapshot (use kprof run)");
	if (o->compare_qemu && cfg->restore_path)
		return kp_fail(-EINVAL, "--compare-qemu needs a kernel ELF, not --restore");
	if (!o->to_debug_exit && !cfg->end_stage && !cfg->end_port80)
		cfg->end_stage = DEFAULT_END;
	return 0;
}

static void end_point_text(const struct vmm_config *cfg, char *buf, size_t len)
{
	if (cfg->end_stage)
		snprintf(buf, len, "BOOT_TIME:%s", cfg->end_stage);
	else if (cfg->end_port80 && cfg->end_port80_lo == cfg->end_port80_hi)
		snprintf(buf, len, "port 0x80 code 0x%02x", cfg->end_port80_lo);
	else if (cfg->end_port80)
		snprintf(buf, len, "the first port 0x80 code in 0x%02x-0x%02x", cfg->end_port80_lo,
			 cfg->end_port80_hi);
	else
		snprintf(buf, len, "the guest's debug-exit");
}

static void progress(bool tty, const char *what, uint64_t done, uint64_t total, uint64_t last_ns)
{
	char bar[41];
	size_t fill;

	if (!tty)
		return;
	fill = (size_t)(done * 40 / total);
	memset(bar, '#', fill);
	memset(bar + fill, '.', 40 - fill);
	bar[40] = 0;
	fprintf(stderr, "\r%s [%s] %llu/%llu  last %.1f ms ", what, bar, (unsigned long long)done,
		(unsigned long long)total, (double)last_ns / 1e6);
	fflush(stderr);
}

static void progress_clear(bool tty)
{
	if (tty)
		fprintf(stderr, "\r\033[K");
}

/* One boot: 0 and its profile when it reached the end point; -EPROTO after a message when it
 * ended otherwise; another -errno when the VM could not be created (bad input, no KVM). */
static int boot_once(const struct vmm_config *base, struct vmm_boot_profile *prof,
		     const char *end_text, bool to_debug_exit)
{
	struct vmm_config cfg = *base;
	struct vmm_result res;
	struct vmm *vm;
	bool ok;
	int ret;

	cfg.t0_ns = kp_now_ns();
	ret = vmm_create(&cfg, &vm);
	if (ret)
		return ret;
	ret = vmm_run_until_exit(vm, &res);
	if (ret) {
		kp_error("%s: run failed: %s", cfg.kernel ? cfg.kernel : cfg.restore_path,
			 strerror(-ret));
		vmm_destroy(vm);
		return -EIO;
	}
	vmm_get_boot_profile(vm, prof);
	ok = to_debug_exit ? res.kind == VMM_END_EXIT : vmm_end_point_reached(vm);
	vmm_destroy(vm);
	if (ok)
		return 0;
	if (res.kind == VMM_END_EXIT)
		kp_error("boot ended by the guest's debug-exit (status %d) before %s", res.exit_status,
			 end_text);
	/* Faults were reported by vmm_run_until_exit. */
	return -EPROTO;
}

static int write_outputs(const struct boot_opts *o, const struct bootlab *lab,
			 const struct bl_report *r)
{
	int ret = bootlab_print_table(lab, r, stdout);

	for (int k = 0; !ret && k < 2; k++) {
		const char *path = k ? o->svg_path : o->json_path;
		FILE *f;

		if (!path)
			continue;
		f = fopen(path, "w");
		if (!f) {
			kp_error("%s: %s", path, strerror(errno));
			return -EIO;
		}
		ret = k ? bootlab_write_svg(lab, r, f) : bootlab_write_json(lab, r, f);
		if (kp_close_output(f, path))
			ret = -EIO;
	}
	return ret;
}

int cmd_boot(int argc, char **argv)
{
	struct boot_opts o = { .iterations = DEFAULT_ITERATIONS, .qemu = "qemu-system-x86_64" };
	struct vmm_boot_profile *prof;
	struct vmm_config cfg;
	struct bl_report rep;
	struct bootlab lab;
	char end_text[64];
	bool tty = isatty(2);
	uint64_t t_all;
	int ret, status = 0;

	vmm_config_init(&cfg);
	ret = parse(argc, argv, &o, &cfg);
	if (ret)
		return ret == KP_OPTS_HELP ? 0 : 2;
	if (!cfg.serial_path)
		cfg.serial_path = "/dev/null";
	cfg.boot_profile = VMM_PROFILE_NONE;
	end_point_text(&cfg, end_text, sizeof(end_text));
	prof = malloc(sizeof(*prof));	/* large: keep it off the stack */
	if (!prof)
		return 3;
	bootlab_init(&lab);
	memset(&rep, 0, sizeof(rep));
	rep.kernel = cfg.kernel ? cfg.kernel : cfg.restore_path;
	rep.end_point = end_text;
	rep.cpus = cfg.restore_path ? 0 : cfg.ncpus;	/* 0: as the snapshot says */

	t_all = kp_now_ns();
	for (uint64_t i = 0; i < o.iterations; i++) {
		ret = boot_once(&cfg, prof, end_text, o.to_debug_exit);
		if (ret == -EPROTO && i > 0) {
			rep.failures++;
			continue;
		}
		if (ret) {	/* bad input, no KVM, or the very first boot failed: stop here */
			progress_clear(tty);
			status = ret == -EPROTO ? 1 : vmm_error_exit_status(ret);
			goto out;
		}
		if (bootlab_add_profile(&lab, prof)) {
			status = 3;
			goto out;
		}
		progress(tty, "kprof", i + 1, o.iterations, prof->end_ns);
	}
	progress_clear(tty);
	rep.wall_s = (double)(kp_now_ns() - t_all) / 1e9;
	fprintf(stderr, "kprof: %zu boots in %.1f s (%zu failed), ended at %s\n", lab.iterations,
		rep.wall_s, rep.failures, end_text);

	if (o.compare_qemu) {
		struct bl_qemu_opts q = {
			.qemu = o.qemu, .kernel = cfg.kernel, .cmdline = cfg.cmdline,
			.cpus = cfg.ncpus, .mem_size = cfg.mem_size, .end_stage = cfg.end_stage,
			.end_port80 = cfg.end_port80, .end_port80_lo = cfg.end_port80_lo,
			.end_port80_hi = cfg.end_port80_hi, .timeout_s = 60,
		};
		uint64_t tq = kp_now_ns();

		for (uint64_t i = 0; i < o.iterations; i++) {
			uint64_t ns;

			ret = bootlab_qemu_boot(&q, &ns);
			if (!ret)
				ret = bootlab_add(&lab, BL_GROUP_QEMU, "wall", ns);
			if (ret) {
				progress_clear(tty);
				status = ret == -ENOENT ? 3 : 1;
				goto out;
			}
			progress(tty, "qemu ", i + 1, o.iterations, ns);
		}
		progress_clear(tty);
		rep.qemu_wall_s = (double)(kp_now_ns() - tq) / 1e9;
		fprintf(stderr, "kprof: %llu QEMU boots in %.1f s\n",
			(unsigned long long)o.iterations, rep.qemu_wall_s);
	}
	if (write_outputs(&o, &lab, &rep))
		status = 3;
	else if (rep.failures)
		status = 1;
out:
	bootlab_release(&lab);
	free(prof);
	if (kp_close_output(stdout, "standard output"))
		status = 3;
	return status;
}
