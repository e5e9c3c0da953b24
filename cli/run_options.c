/* The `kprof run` options: rows onto struct vmm_config.  What a value means is vmm/'s to
 * check where only vmm/ knows (a CPUID template, an end point, a snapshot trigger); the row
 * names the option in the message. */
#include "cli/run_options.h"

#include <errno.h>
#include <string.h>

/* vmm/'s reason, after the option's name. */
static int vmm_check(const struct kp_opt *o, int rc, const char *err)
{
	return rc ? kp_fail(-EINVAL, "--%s: %s", o->name, err) : 0;
}

static int set_cpu(void *cfg, const struct kp_opt *o, const char *v)
{
	char err[160];

	return vmm_check(o, vmm_config_set_cpu(cfg, v, err, sizeof(err)), err);
}

static int set_exit_at(void *cfg, const struct kp_opt *o, const char *v)
{
	return run_options_end_point(cfg, o->name, v);
}

int run_options_end_point(struct vmm_config *cfg, const char *opt, const char *v)
{
	char err[160];

	if (vmm_config_set_end_point(cfg, v, err, sizeof(err)))
		return kp_fail(-EINVAL, "--%s: %s", opt, err);
	return 0;
}

static int set_snapshot_on(void *cfg, const struct kp_opt *o, const char *v)
{
	char err[160];

	return vmm_check(o, vmm_config_set_snapshot_on(cfg, v, err, sizeof(err)), err);
}

static int set_cmdline(void *target, const struct kp_opt *o, const char *v)
{
	struct vmm_config *cfg = target;

	if (strlen(v) >= VMM_CMDLINE_MAX)
		return kp_fail(-EINVAL, "--%s: longer than %d bytes", o->name, VMM_CMDLINE_MAX - 1);
	cfg->cmdline = v;
	return 0;
}

static const struct kp_opt_choice profile_formats[] = {
	{ "text", VMM_PROFILE_TEXT }, { "json", VMM_PROFILE_JSON }, { NULL, 0 },
};

#define CFG(field) KP_OPT_FIELD(struct vmm_config, field)
#define STR1(x) #x
#define STR(x) STR1(x)

const struct kp_opt run_options[] = {
	{ "cpus", 0, KP_OPT_UINT, "N", "vCPUs, 1 to " STR(VMM_MAX_CPUS) " (default 1)", CFG(ncpus),
	  .min = 1, .max = VMM_MAX_CPUS },
	{ "mem", 0, KP_OPT_SIZE, "SIZE",
	  "guest RAM, e.g. 256M or 1G; a bare number is MiB (default 128M)", CFG(mem_size),
	  .scale = 1 << 20, .min = VMM_MIN_MEM, .max = VMM_MAX_MEM, .align = 4096,
	  .what = "2M to 3G, whole 4 KiB pages" },	/* as QEMU's -m */
	{ "cmdline", 0, KP_OPT_CALL, "STR", "kernel command line", .set = set_cmdline },
	{ "serial", 0, KP_OPT_PATH, "FILE",
	  "write the guest's serial output to FILE instead of stdout", CFG(serial_path) },
	{ "initrd", 0, KP_OPT_PATH, "FILE",
	  "initial RAM disk (initramfs), placed high in guest RAM and\n"
	  "passed as PVH module 0 or the zero page's ramdisk", CFG(initrd) },
	{ "cpu", 0, KP_OPT_CALL, "host[,-FEAT|+FEAT]...",
	  "CPUID feature template in QEMU's -cpu spelling,\n"
	  "e.g. host,-cx16,-xsave (default: what KVM supports)",
	  .set = set_cpu },
	{ "boot-profile", 0, KP_OPT_ENUM, "json",
	  "print host phases, guest BOOT_TIME stages and port-0x80\n"
	  "events on stderr at the end, as a table or one JSON line", CFG(boot_profile),
	  .optional = true, .value = VMM_PROFILE_TEXT, .choices = profile_formats,
	  .what = "a format (text or json)" },
	{ "exit-at", 0, KP_OPT_CALL, "STAGE|CODE|text:TEXT",
	  "end the run (status 0) when the guest prints\n"
	  "BOOT_TIME:STAGE: or a serial line containing TEXT, or writes\n"
	  "CODE (0xNN, or 0xNN-0xMM: any code in the range) to port 0x80", .set = set_exit_at },
	{ "snapshot", 0, KP_OPT_PATH, "FILE",
	  "where --snapshot-on saves the VM (format: vmm/SNAPSHOT.md)", CFG(snapshot_path) },
	{ "snapshot-on", 0, KP_OPT_CALL, "CODE|SIGNAL",
	  "save when the guest first writes CODE to port 0x80, or\n"
	  "each time kprof receives SIGNAL (e.g. SIGUSR2); then go on", .set = set_snapshot_on },
	{ "restore", 0, KP_OPT_PATH, "FILE",
	  "resume a snapshot instead of booting (no KERNEL.elf needed;\n"
	  "vCPUs, memory and command line come from the snapshot)", CFG(restore_path) },
	KP_OPT_END,
};

int run_options_kernel(void *target, const char *arg)
{
	struct vmm_config *cfg = target;

	if (cfg->kernel)
		return kp_fail(-EINVAL, "more than one kernel given ('%s' and '%s')", cfg->kernel, arg);
	cfg->kernel = arg;
	return 0;
}

int run_options_check(const struct vmm_config *cfg, const char *cmd)
{
	if (!cfg->kernel && !cfg->restore_path)	/* a snapshot names its kernel */
		return kp_fail(-EINVAL, "no kernel ELF given; see 'kprof %s --help'", cmd);
	if (cfg->initrd && cfg->restore_path)
		return kp_fail(-EINVAL,
			       "--initrd: not with --restore (the snapshot holds the guest's memory)");
	if ((cfg->snapshot_on_port80 || cfg->snapshot_signal) && !cfg->snapshot_path)
		return kp_fail(-EINVAL, "--snapshot-on needs --snapshot FILE");
	if (cfg->snapshot_path && !cfg->snapshot_on_port80 && !cfg->snapshot_signal)
		return kp_fail(-EINVAL, "--snapshot needs --snapshot-on CODE|SIGNAL (when to save)");
	return 0;
}

int run_options_parse(struct vmm_config *cfg, int argc, char **argv, int first)
{
	const struct kp_opt_group g = { .opts = run_options, .target = cfg };
	const struct kp_opts c = { .cmd = "run", .usage = "usage: kprof run [options] KERNEL.elf\n",
				   .groups = &g, .ngroups = 1, .operand = run_options_kernel,
				   .ctx = cfg };
	int rc = kp_opts_parse(&c, argc, argv, &first);

	if (rc == KP_OPTS_HELP)
		return rc;
	return rc ? rc : run_options_check(cfg, "run");
}
