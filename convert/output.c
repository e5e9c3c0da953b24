/* Outputs: which format a name or an extension asks for, and writing one whole (or not at
 * all: a file left half written is removed). */
#include "convert/convert_internal.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static const struct {
	const char *name;
	enum convert_format fmt;
} format_names[] = {
	{ "svg", CONVERT_SVG }, { "folded", CONVERT_FOLDED }, { "json", CONVERT_JSON },
	{ "speedscope", CONVERT_SPEEDSCOPE }, { "pprof", CONVERT_PPROF },
};

int convert_format_parse(const char *s, enum convert_format *out)
{
	for (size_t i = 0; i < KP_ARRAY_SIZE(format_names); i++) {
		if (!strcmp(s, format_names[i].name)) {
			*out = format_names[i].fmt;
			return 0;
		}
	}
	return -EINVAL;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcasecmp(s + n - m, suffix);
}

int convert_format_from_path(const char *path, enum convert_format *out)
{
	if (ends_with(path, ".speedscope.json"))
		*out = CONVERT_SPEEDSCOPE;
	else if (ends_with(path, ".json"))
		*out = CONVERT_JSON;
	else if (ends_with(path, ".folded") || ends_with(path, ".txt"))
		*out = CONVERT_FOLDED;
	else if (ends_with(path, ".pb.gz"))
		*out = CONVERT_PPROF;
	else if (ends_with(path, ".svg"))
		*out = CONVERT_SVG;
	else
		return -EINVAL;
	return 0;
}

bool convert_format_wants_profile(enum convert_format fmt)
{
	return fmt == CONVERT_JSON || fmt == CONVERT_SPEEDSCOPE || fmt == CONVERT_PPROF;
}

static FILE *open_output(const char *out, const char *const *inputs, size_t ninputs)
{
	FILE *f;

	if (!out || !strcmp(out, "-"))
		return stdout;
	for (size_t i = 0; i < ninputs; i++) {
		if (kp_same_file(out, inputs[i])) {
			kp_error("%s: refusing to overwrite an input file", out);
			return NULL;
		}
	}
	f = fopen(out, "w");
	if (!f)
		kp_error("%s: %s", out, strerror(errno));
	return f;
}

static int close_output(FILE *f, const char *out, const char *name, int rc)
{
	if (rc) {
		if (f != stdout)
			fclose(f);
	} else if (kp_close_output(f, name)) {
		rc = -EIO;
	}
	if (rc && f != stdout)
		unlink(out);
	return rc;
}

/* pprof on disk: the encoded message, gzip-compressed. */
static int write_pprof(const struct profile *p, FILE *f, const char *name)
{
	struct kp_buf pb, gz;
	int rc;

	kp_buf_init(&pb);
	kp_buf_init(&gz);
	rc = convert_pprof_encode(p, &pb);
	rc = rc ? rc : kp_gzip(pb.data, pb.len, &gz);
	if (rc)
		kp_error("%s: %s", name, strerror(-rc));
	else if (fwrite(gz.data, 1, gz.len, f) != gz.len)
		rc = kp_fail(-EIO, "%s: write error", name);
	kp_buf_release(&pb);
	kp_buf_release(&gz);
	return rc;
}

static int write_tree(struct convert_source *src, enum convert_format fmt,
		      const struct fg_svg_options *svg, FILE *f, const char *name)
{
	struct fg_svg_options defaults;

	if (fmt == CONVERT_FOLDED)
		return fg_write_folded(src->tree, f, name);
	if (!svg) {
		fg_svg_options_init(&defaults);
		svg = &defaults;
	}
	return fg_write_svg(src->tree, svg, f, name);
}

int convert_write(struct convert_source *src, enum convert_format fmt,
		  const struct fg_svg_options *svg, const char *out, const char *const *inputs,
		  size_t ninputs)
{
	const char *name = out && strcmp(out, "-") ? out : "standard output";
	struct convert_source built = { .path = name, .tasks = src->tasks,
					.per_stage = src->per_stage };
	FILE *f = open_output(out, inputs, ninputs);
	int rc;

	if (!f)
		return -EIO;
	switch (fmt) {
	case CONVERT_JSON:
		rc = profile_write_json(src->profile, f, name);
		break;
	case CONVERT_SPEEDSCOPE:
		rc = profile_write_speedscope(src->profile, f, name);
		break;
	case CONVERT_PPROF:
		rc = write_pprof(src->profile, f, name);
		break;
	default:
		if (src->tree) {
			rc = write_tree(src, fmt, svg, f, name);
			break;
		}
		/* A profile only (just collected): its tree, merged across CPUs. */
		rc = fg_tree_new(0, &built.tree);
		if (!rc)
			rc = convert_add_profile(&built, src->profile);
		if (!rc)
			rc = write_tree(&built, fmt, svg, f, name);
		fg_tree_free(built.tree);
		break;
	}
	return close_output(f, out, name, rc);
}
