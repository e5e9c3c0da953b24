/* `kprof run` options, shared with every command that boots a VM (collect, boot). */
#include "vmm/cpu_template.h"
#include "vmm/internal.h"

#include "common/common.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

void vmm_config_init(struct vmm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ncpus = 1;
	cfg->mem_size = VMM_DEFAULT_MEM;
	cfg->cmdline = "";
}

void vmm_config_usage(FILE *f)
{
	fprintf(f,
		"  --cpus N             vCPUs, 1 to %d (default 1)\n"
		"  --mem SIZE           guest RAM, e.g. 256M or 1G; a bare number is MiB (default 128M)\n"
		"  --cmdline STR        kernel command line\n"
		"  --serial FILE        write the guest's serial output to FILE instead of stdout\n"
		"  --initrd FILE        initial RAM disk (initramfs), placed high in guest RAM and\n"
		"                       passed as PVH module 0 or the zero page's ramdisk\n"
		"  --cpu host[,-FEAT|+FEAT]...  CPUID feature template in QEMU's -cpu spelling,\n"
		"                       e.g. host,-cx16,-xsave (default: what KVM supports)\n"
		"  --boot-profile[=json]  print host phases, guest BOOT_TIME stages and port-0x80\n"
		"                       events on stderr at the end, as a table or one JSON line\n",
		VMM_MAX_CPUS);
	vmm_config_lab_usage(f);
}

/* "--name VALUE" or "--name=VALUE".  Returns 1 matched (value set), 0 not this option,
 * -EINVAL when the value is missing. */
int vmm_opt_value(const char *name, int argc, char **argv, int *i, const char **val)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n))
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
		(*i)++;
		return 1;
	}
	if (a[n])
		return 0;
	if (*i + 1 >= argc) {
		kp_error("%s: missing value", name);
		return -EINVAL;
	}
	*val = argv[*i + 1];
	*i += 2;
	return 1;
}

static int parse_mem(const char *v, uint64_t *out)
{
	uint64_t n;
	size_t len = strlen(v);

	/* As QEMU's -m: a bare number counts MiB. */
	if (len && isdigit((unsigned char)v[len - 1])) {
		if (kp_parse_u64(v, &n) || n > (UINT64_MAX >> 20))
			return -EINVAL;
		n <<= 20;
	} else if (kp_parse_size(v, &n)) {
		return -EINVAL;
	}
	*out = n;
	return 0;
}

int vmm_config_parse_option(struct vmm_config *cfg, int argc, char **argv, int *i)
{
	const char *v;
	int r;

	if ((r = vmm_config_parse_lab_option(cfg, argc, argv, i)) != 0)
		return r;
	if ((r = vmm_opt_value("--cpus", argc, argv, i, &v)) != 0) {
		uint64_t n;

		if (r < 0)
			return r;
		if (kp_parse_u64(v, &n) || n < 1 || n > VMM_MAX_CPUS) {
			kp_error("--cpus: '%s' is not a number from 1 to %d", v, VMM_MAX_CPUS);
			return -EINVAL;
		}
		cfg->ncpus = (unsigned)n;
		return 1;
	}
	if ((r = vmm_opt_value("--mem", argc, argv, i, &v)) != 0) {
		uint64_t n;

		if (r < 0)
			return r;
		if (parse_mem(v, &n)) {
			kp_error("--mem: '%s' is not a size (e.g. 256M, 1G)", v);
			return -EINVAL;
		}
		if (n < VMM_MIN_MEM || n > VMM_MAX_MEM || n % 4096) {
			kp_error("--mem: '%s' is out of range (2M to 3G, whole 4 KiB pages)", v);
			return -EINVAL;
		}
		cfg->mem_size = n;
		return 1;
	}
	if ((r = vmm_opt_value("--cmdline", argc, argv, i, &v)) != 0) {
		if (r < 0)
			return r;
		if (strlen(v) >= VMM_CMDLINE_MAX) {
			kp_error("--cmdline: longer than %d bytes", VMM_CMDLINE_MAX - 1);
			return -EINVAL;
		}
		cfg->cmdline = v;
		return 1;
	}
	if ((r = vmm_opt_value("--cpu", argc, argv, i, &v)) != 0) {
		struct vmm_cpu_template t;
		char err[160];

		if (r < 0)
			return r;
		if (vmm_cpu_template_parse(v, &t, err, sizeof(err))) {
			kp_error("--cpu: %s", err);
			return -EINVAL;
		}
		cfg->cpu = v;
		return 1;
	}
	if ((r = vmm_opt_value("--initrd", argc, argv, i, &v)) != 0) {
		if (r < 0)
			return r;
		if (!*v) {
			kp_error("--initrd: empty file name");
			return -EINVAL;
		}
		cfg->initrd = v;
		return 1;
	}
	if ((r = vmm_opt_value("--serial", argc, argv, i, &v)) != 0) {
		if (r < 0)
			return r;
		if (!*v) {
			kp_error("--serial: empty file name");
			return -EINVAL;
		}
		cfg->serial_path = v;
		return 1;
	}
	if (!strcmp(argv[*i], "--boot-profile") || !strcmp(argv[*i], "--boot-profile=text")) {
		cfg->boot_profile = VMM_PROFILE_TEXT;
		(*i)++;
		return 1;
	}
	if (!strcmp(argv[*i], "--boot-profile=json")) {
		cfg->boot_profile = VMM_PROFILE_JSON;
		(*i)++;
		return 1;
	}
	if (!strncmp(argv[*i], "--boot-profile=", 15)) {
		kp_error("--boot-profile: '%s' is not a format (text or json)", argv[*i] + 15);
		return -EINVAL;
	}
	return 0;
}

int vmm_config_parse_args(struct vmm_config *cfg, int argc, char **argv, bool skip_first)
{
	int i = skip_first ? 1 : 0;

	while (i < argc) {
		int r = vmm_config_parse_option(cfg, argc, argv, &i);

		if (r < 0)
			return r;
		if (r > 0)
			continue;
		if (!strcmp(argv[i], "--") && !cfg->kernel) {
			i++;
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1]) {
			kp_error("unknown option '%s'", argv[i]);
			return -EINVAL;
		}
		if (cfg->kernel) {
			kp_error("more than one kernel given ('%s' and '%s')", cfg->kernel, argv[i]);
			return -EINVAL;
		}
		cfg->kernel = argv[i++];
	}
	if (!cfg->kernel && !cfg->restore_path) {	/* a snapshot names its kernel */
		kp_error("no kernel ELF given");
		return -EINVAL;
	}
	return 0;
}
