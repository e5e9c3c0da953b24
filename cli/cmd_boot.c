/* kprof boot: boot a kernel many times (a fresh VM each time) and report the distributions of
 * its boot phases, optionally beside QEMU's.
 *
 * Exit status: 0 when every boot reached the end point, 1 when some did not (the others are
 * reported), 2 for bad usage or input, 3 when KVM is unavailable or a report cannot be written. */
#include "bootlab/bootlab.h"
#include "cli/commands.h"
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
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kprof boot [options] [run options] KERNEL.elf\n\n"
		"Boot KERNEL.elf N times, each in a fresh VM ended at the end point, and print the\n"
		"min, median, p90, p99, max, spread (max - min) and IQR (p75 - p25) of every host\n"
		"phase, create-VM step, tVMM/tFW/tKernel, guest BOOT_TIME stage and port-0x80 event.\n\n"
		"options:\n"
		"  --iterations N       boots (default %d)\n"
		"  --exit-at STAGE|CODE  end point: BOOT_TIME stage, port-0x80 code 0xNN or range\n"
		"                       0xNN-0xMM, or debug-exit (the guest's own end); default\n"
		"                       '%s' (the bundled guest's last boot stage)\n"
		"  --json FILE          the distributions (and every boot's total) as JSON\n"
		"  --histogram FILE     an SVG histogram of total boot time\n"
		"  --compare-qemu       also boot N times under qemu-system-x86_64 -accel tcg and\n"
		"                       print both totals side by side\n"
		"  --qemu PROGRAM       the QEMU to run (default qemu-system-x86_64)\n\n"
		"run options (as kprof run; the guest's serial output goes to /dev/null unless\n"
		"--serial is given; --restore FILE boots from a snapshot and reports the restore):\n",
		DEFAULT_ITERATIONS, DEFAULT_END);
	vmm_config_usage(f);
}

static int value(int argc, char **argv, int *i, const char **v)
{
	const char *a = argv[*i], *eq = strchr(a, '=');

	if (eq) {
		*v = eq + 1;
		(*i)++;
		return 0;
	}
	if (*i + 1 >= argc) {
		kp_error("%s: missing value", a);
		return -EINVAL;
	}
	*v = argv[*i + 1];
	*i += 2;
	return 0;
}

static bool is_opt(const char *a, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(a, name, n) && (!a[n] || a[n] == '=');
}

static int parse(int argc, char **argv, struct boot_opts *o, struct vmm_config *cfg)
{
	const char *v;
	int i = 1;

	while (i < argc) {
		const char *a = argv[i];
		int r;

		if (is_opt(a, "--iterations")) {
			if (value(argc, argv, &i, &v))
				return -EINVAL;
			if (kp_parse_u64(v, &o->iterations) || !o->iterations ||
			    o->iterations > 1000000) {
				kp_error("--iterations: '%s' is not a number from 1 to 1000000", v);
				return -EINVAL;
			}
		} else if (is_opt(a, "--json")) {
			if (value(argc, argv, &i, &o->json_path))
				return -EINVAL;
		} else if (is_opt(a, "--histogram")) {
			if (value(argc, argv, &i, &o->svg_path))
				return -EINVAL;
		} else if (is_opt(a, "--qemu")) {
			if (value(argc, argv, &i, &o->qemu))
				return -EINVAL;
		} else if (!strcmp(a, "--compare-qemu")) {
			o->compare_qemu = true;
			i++;
		} else if (is_opt(a, "--exit-at") &&
			   ((a[9] == '=' && !strcmp(a + 10, "debug-exit")) ||
			    (!a[9] && i + 1 < argc && !strcmp(argv[i + 1], "debug-exit")))) {
			o->to_debug_exit = true;
			cfg->end_stage = NULL;
			cfg->end_port80 = false;
			i += a[9] ? 1 : 2;
		} else if ((r = vmm_config_parse_option(cfg, argc, argv, &i)) != 0) {
			if (r < 0)
				return r;
			if (cfg->end_stage || cfg->end_port80)
				o->to_debug_exit = false;
		} else if (!strcmp(a, "--") && !cfg->kernel) {
			i++;
		} else if (a[0] == '-' && a[1]) {
			kp_error("unknown option '%s'; see 'kprof boot --help'", a);
			return -EINVAL;
		} else if (cfg->kernel) {
			kp_error("more than one kernel given ('%s' and '%s')", cfg->kernel, a);
			return -EINVAL;
		} else {
			cfg->kernel = argv[i++];
		}
	}
	if (!cfg->kernel && !cfg->restore_path) {
		kp_error("no kernel ELF given; see 'kprof boot --help'");
		return -EINVAL;
	}
	if (cfg->snapshot_path) {
		kp_error("kprof boot takes no --snapshot (use kprof run)");
		return -EINVAL;
	}
	if (o->compare_qemu && cfg->restore_path) {
		kp_error("--compare-qemu needs a kernel ELF, not --restore");
		return -EINVAL;
	}
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

	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		}
	}
	vmm_config_init(&cfg);
	if (parse(argc, argv, &o, &cfg))
		return 2;
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
