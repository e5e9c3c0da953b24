/* The flame-graph options parse and diff share. */
#include "cli/flame_options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void flame_opts_init(struct flame_opts *o)
{
	memset(o, 0, sizeof(*o));
	fg_svg_options_init(&o->svg);
	kp_cpumask_all(&o->mask);
}

static int positive(const char *opt, const char *arg, double lo, double hi, double *out)
{
	char *end;
	double v = strtod(arg, &end);

	if (end == arg || *end || !(v >= lo && v <= hi))
		return kp_fail(-EINVAL, "--%s: '%s' is not a number from %g to %g", opt, arg, lo, hi);
	*out = v;
	return 0;
}

int flame_option(int opt, const char *arg, struct flame_opts *o)
{
	double v;

	switch (opt) {
	case OPT_TITLE:
		o->svg.title = arg;
		return 1;
	case OPT_SUBTITLE:
		o->svg.subtitle = arg;
		return 1;
	case OPT_COUNTNAME:
		o->svg.countname = arg;
		return 1;
	case OPT_WIDTH:
		if (positive("width", arg, 100, 1000000, &v))
			return -EINVAL;
		o->svg.width = (unsigned)v;
		return 1;
	case OPT_HEIGHT:
		if (positive("height", arg, 4, 1000, &v))
			return -EINVAL;
		o->svg.frame_height = (unsigned)v;
		return 1;
	case OPT_MINWIDTH:
		if (positive("minwidth", arg, 0, 1e9, &o->svg.minwidth))
			return -EINVAL;
		return 1;
	case OPT_COLORS:
		if (fg_palette_parse(arg, &o->svg.palette)) {
			kp_error("--colors: unknown palette '%s' (one of %s)", arg, fg_palette_names());
			return -EINVAL;
		}
		return 1;
	case OPT_HASH:
		o->svg.hash = true;
		return 1;
	case OPT_INVERTED:
		o->svg.inverted = true;
		return 1;
	case OPT_REVERSE:
		o->reverse = true;
		return 1;
	case OPT_PER_CPU:
		o->per_cpu = true;
		return 1;
	case OPT_PER_STAGE:
		o->per_stage = true;
		return 1;
	case OPT_NO_TASKS:
		o->tasks = CONVERT_TASKS_NONE;
		return 1;
	case OPT_TASKS:
		return flame_tasks_parse(arg, &o->tasks) ? -EINVAL : 1;
	case OPT_COMM:
		o->comm = arg;
		return 1;
	case OPT_CPU_MASK: {
		int rc = kp_cpumask_parse(arg, &o->mask);

		if (rc) {
			kp_error("--cpu-mask: '%s' is not a CPU mask (decimal or 0x-hex, %s)", arg,
				 rc == -ERANGE ? "at most 128 bits" : "e.g. 0x3");
			return rc;
		}
		o->mask_text = arg;
		return 1;
	}
	default:
		return 0;
	}
}

int flame_tasks_parse(const char *arg, enum convert_tasks *out)
{
	if (!strcmp(arg, "comm"))
		*out = CONVERT_TASKS_COMM;
	else if (!strcmp(arg, "pid"))
		*out = CONVERT_TASKS_PID;
	else if (!strcmp(arg, "tid"))
		*out = CONVERT_TASKS_TID;
	else
		return kp_fail(-EINVAL, "--tasks: '%s' is not comm, pid or tid", arg);
	return 0;
}
