/* `kprof run` options of the boot lab: --exit-at (an end point), --snapshot and
 * --snapshot-on (when and where to save), --restore.  vmm_config_parse_option calls these. */
#include "vmm/internal.h"

#include "common/common.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

static const struct {
	const char *name;
	int sig;
} snapshot_signals[] = {
	{ "HUP", SIGHUP }, { "USR2", SIGUSR2 }, { "QUIT", SIGQUIT }, { "PWR", SIGPWR },
	{ "WINCH", SIGWINCH }, { "USR1", SIGUSR1 },
};

static int parse_signal(const char *v, int *sig)
{
	const char *n = strncmp(v, "SIG", 3) ? v : v + 3;

	for (size_t i = 0; i < KP_ARRAY_SIZE(snapshot_signals); i++) {
		if (strcmp(n, snapshot_signals[i].name))
			continue;
		if (snapshot_signals[i].sig == VMM_KICK_SIGNAL) {
			kp_error("--snapshot-on: %s kicks the vCPU threads inside kprof; use SIGUSR2", v);
			return -EINVAL;
		}
		*sig = snapshot_signals[i].sig;
		return 0;
	}
	kp_error("--snapshot-on: '%s' is neither a port-0x80 code (0xNN) nor a signal "
		 "(SIGUSR2, SIGHUP, SIGQUIT, SIGPWR, SIGWINCH)", v);
	return -EINVAL;
}

static int parse_code(const char *what, const char *v, uint8_t *code)
{
	uint64_t n;

	if (kp_parse_u64(v, &n) || n > 0xff) {
		kp_error("%s: '%s' is not a port-0x80 code (0x00 to 0xff)", what, v);
		return -EINVAL;
	}
	*code = (uint8_t)n;
	return 0;
}

int vmm_config_set_end_point(struct vmm_config *cfg, const char *what, const char *v)
{
	if (!strncmp(v, "text:", 5)) {
		/* The serial device keeps 255 bytes of a line. */
		if (!v[5] || strlen(v + 5) > 255) {
			kp_error("%s: '%s': the text is empty or longer than 255 bytes", what, v);
			return -EINVAL;
		}
		cfg->end_text = v + 5;
		cfg->end_stage = NULL;
		cfg->end_port80 = false;
		return 0;
	}
	if (v[0] >= '0' && v[0] <= '9') {
		const char *dash = strchr(v, '-');
		char lo[32];

		if (strlen(v) >= sizeof(lo)) {
			kp_error("%s: '%s' is not a port-0x80 code or range", what, v);
			return -EINVAL;
		}
		snprintf(lo, sizeof(lo), "%.*s", dash ? (int)(dash - v) : (int)strlen(v), v);
		if (parse_code(what, lo, &cfg->end_port80_lo))
			return -EINVAL;
		cfg->end_port80_hi = cfg->end_port80_lo;
		if (dash && parse_code(what, dash + 1, &cfg->end_port80_hi))
			return -EINVAL;
		if (cfg->end_port80_hi < cfg->end_port80_lo) {
			kp_error("%s: '%s' is an empty range", what, v);
			return -EINVAL;
		}
		cfg->end_port80 = true;
		cfg->end_stage = NULL;
		cfg->end_text = NULL;
		return 0;
	}
	if (!*v || strlen(v) >= sizeof(((struct vmm_boot_stage *)0)->name) ||
	    strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
		    strlen(v)) {
		kp_error("%s: '%s' is not a BOOT_TIME stage name or a port-0x80 code", what, v);
		return -EINVAL;
	}
	cfg->end_stage = v;
	cfg->end_port80 = false;
	cfg->end_text = NULL;
	return 0;
}

/* A file name option: as vmm_opt_value, and an empty name is an error. */
static int path_option(const char *name, int argc, char **argv, int *i, const char **path)
{
	const char *v;
	int r = vmm_opt_value(name, argc, argv, i, &v);

	if (r > 0 && !*v) {
		kp_error("%s: empty file name", name);
		return -EINVAL;
	}
	if (r > 0)
		*path = v;
	return r;
}

int vmm_config_parse_lab_option(struct vmm_config *cfg, int argc, char **argv, int *i)
{
	const char *v;
	int r;

	if ((r = vmm_opt_value("--exit-at", argc, argv, i, &v)) != 0) {
		if (r > 0 && vmm_config_set_end_point(cfg, "--exit-at", v))
			return -EINVAL;
		return r;
	}
	if ((r = vmm_opt_value("--snapshot-on", argc, argv, i, &v)) != 0) {
		if (r < 0)
			return r;
		if (v[0] >= '0' && v[0] <= '9') {
			if (parse_code("--snapshot-on", v, &cfg->snapshot_port80))
				return -EINVAL;
			cfg->snapshot_on_port80 = true;
		} else if (parse_signal(v, &cfg->snapshot_signal)) {
			return -EINVAL;
		}
		return 1;
	}
	if ((r = path_option("--snapshot", argc, argv, i, &cfg->snapshot_path)) != 0)
		return r;
	if ((r = path_option("--restore", argc, argv, i, &cfg->restore_path)) != 0)
		return r;
	return 0;
}

void vmm_config_lab_usage(FILE *f)
{
	fprintf(f,
		"  --exit-at STAGE|CODE|text:TEXT  end the run (status 0) when the guest prints\n"
		"                       BOOT_TIME:STAGE: or a serial line containing TEXT, or writes\n"
		"                       CODE (0xNN, or 0xNN-0xMM: any code in the range) to port 0x80\n"
		"  --snapshot FILE      where --snapshot-on saves the VM (format: vmm/SNAPSHOT.md)\n"
		"  --snapshot-on CODE|SIGNAL  save when the guest first writes CODE to port 0x80, or\n"
		"                       each time kprof receives SIGNAL (e.g. SIGUSR2); then go on\n"
		"  --restore FILE       resume a snapshot instead of booting (no KERNEL.elf needed;\n"
		"                       vCPUs, memory and command line come from the snapshot)\n");
}
