/* struct vmm_config: its defaults, and the checks of the values only vmm/ understands (a CPUID
 * template, an end point, when to save a snapshot).  The command line that fills it in is the
 * CLI's (cli/run_options.c); these report what is wrong in err, and the caller names the
 * option. */
#include "vmm/cpu_template.h"
#include "vmm/internal.h"

#include "common/common.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

void vmm_config_init(struct vmm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ncpus = 1;
	cfg->mem_size = VMM_DEFAULT_MEM;
	cfg->cmdline = "";
}

int vmm_config_set_cpu(struct vmm_config *cfg, const char *v, char *err, size_t len)
{
	struct vmm_cpu_template t;

	if (vmm_cpu_template_parse(v, &t, err, len))
		return -EINVAL;
	cfg->cpu = v;
	return 0;
}

static const struct {
	const char *name;
	int sig;
} snapshot_signals[] = {
	{ "HUP", SIGHUP }, { "USR2", SIGUSR2 }, { "QUIT", SIGQUIT }, { "PWR", SIGPWR },
	{ "WINCH", SIGWINCH }, { "USR1", SIGUSR1 },
};

static int parse_signal(const char *v, int *sig, char *err, size_t len)
{
	const char *n = strncmp(v, "SIG", 3) ? v : v + 3;

	for (size_t i = 0; i < KP_ARRAY_SIZE(snapshot_signals); i++) {
		if (strcmp(n, snapshot_signals[i].name))
			continue;
		if (snapshot_signals[i].sig == VMM_KICK_SIGNAL) {
			snprintf(err, len, "%s kicks the vCPU threads inside kprof; use SIGUSR2", v);
			return -EINVAL;
		}
		*sig = snapshot_signals[i].sig;
		return 0;
	}
	snprintf(err, len, "'%s' is neither a port-0x80 code (0xNN) nor a signal "
		 "(SIGUSR2, SIGHUP, SIGQUIT, SIGPWR, SIGWINCH)", v);
	return -EINVAL;
}

static int parse_code(const char *v, uint8_t *code, char *err, size_t len)
{
	uint64_t n;

	if (kp_parse_u64(v, &n) || n > 0xff) {
		snprintf(err, len, "'%s' is not a port-0x80 code (0x00 to 0xff)", v);
		return -EINVAL;
	}
	*code = (uint8_t)n;
	return 0;
}

int vmm_config_set_snapshot_on(struct vmm_config *cfg, const char *v, char *err, size_t len)
{
	if (v[0] >= '0' && v[0] <= '9') {
		if (parse_code(v, &cfg->snapshot_port80, err, len))
			return -EINVAL;
		cfg->snapshot_on_port80 = true;
		return 0;
	}
	return parse_signal(v, &cfg->snapshot_signal, err, len);
}

/* One end point at a time: the last --exit-at wins. */
static void set_end(struct vmm_config *cfg, const char *stage, const char *text, bool port80)
{
	cfg->end_stage = stage;
	cfg->end_text = text;
	cfg->end_port80 = port80;
}

int vmm_config_set_end_point(struct vmm_config *cfg, const char *v, char *err, size_t len)
{
	if (!strncmp(v, "text:", 5)) {
		/* The serial device keeps 255 bytes of a line. */
		if (!v[5] || strlen(v + 5) > 255) {
			snprintf(err, len, "'%s': the text is empty or longer than 255 bytes", v);
			return -EINVAL;
		}
		set_end(cfg, NULL, v + 5, false);
		return 0;
	}
	if (v[0] >= '0' && v[0] <= '9') {
		const char *dash = strchr(v, '-');
		char lo[32];

		if (strlen(v) >= sizeof(lo)) {
			snprintf(err, len, "'%s' is not a port-0x80 code or range", v);
			return -EINVAL;
		}
		snprintf(lo, sizeof(lo), "%.*s", dash ? (int)(dash - v) : (int)strlen(v), v);
		if (parse_code(lo, &cfg->end_port80_lo, err, len))
			return -EINVAL;
		cfg->end_port80_hi = cfg->end_port80_lo;
		if (dash && parse_code(dash + 1, &cfg->end_port80_hi, err, len))
			return -EINVAL;
		if (cfg->end_port80_hi < cfg->end_port80_lo) {
			snprintf(err, len, "'%s' is an empty range", v);
			return -EINVAL;
		}
		set_end(cfg, NULL, NULL, true);
		return 0;
	}
	if (!*v || strlen(v) >= sizeof(((struct vmm_boot_stage *)0)->name) ||
	    strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") !=
		    strlen(v)) {
		snprintf(err, len, "'%s' is not a BOOT_TIME stage name or a port-0x80 code", v);
		return -EINVAL;
	}
	set_end(cfg, v, NULL, false);
	return 0;
}
