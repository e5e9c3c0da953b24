/* Command-line options: every kprof command describes its options as tables of struct kp_opt
 * (common.h), and this one parser reads argv against them and prints --help from them, so an
 * option's spelling, its checks, its messages and its help line are written once. */
#include "common/common.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HELP_COLUMN 23	/* where an option's text starts in --help, as man/mkman.sh expects */

/* How the option was spelled on the command line, for messages: "--name" or "-n". */
static void label(const struct kp_opt *o, char *buf, size_t len)
{
	if (o->name)
		snprintf(buf, len, "--%s", o->name);
	else
		snprintf(buf, len, "-%c", o->short_name);
}

/* The row of this spelling (a long name of n bytes, or a short letter) in the groups the
 * current phase matches; the first group that has it wins. */
static const struct kp_opt *find(const struct kp_opts *c, bool tail, const char *name, size_t n,
				 char letter, void **target)
{
	for (size_t g = 0; g < c->ngroups; g++) {
		if (c->groups[g].tail != tail)
			continue;
		for (const struct kp_opt *o = c->groups[g].opts; o->name || o->short_name; o++) {
			bool hit = name ? o->name && strlen(o->name) == n && !strncmp(o->name, name, n)
					: o->short_name == letter;

			if (hit) {
				*target = c->groups[g].target;
				return o;
			}
		}
	}
	return NULL;
}

static void store(void *field, size_t size, uint64_t v)
{
	uint8_t u8 = (uint8_t)v;
	uint16_t u16 = (uint16_t)v;
	uint32_t u32 = (uint32_t)v;

	/* Through memcpy: the field is a bool, an enum or an unsigned type of this size. */
	if (size == 1)
		memcpy(field, &u8, 1);
	else if (size == 2)
		memcpy(field, &u16, 2);
	else if (size == 4)
		memcpy(field, &u32, 4);
	else
		memcpy(field, &v, sizeof(v));
}

static int parse_size(const struct kp_opt *o, const char *v, uint64_t *out)
{
	size_t len = strlen(v);
	uint64_t n, scale = o->scale ? o->scale : 1;

	if (len && isdigit((unsigned char)v[len - 1])) {	/* a bare number counts .scale */
		if (kp_parse_u64(v, &n) || n > UINT64_MAX / scale)
			return -EINVAL;
		*out = n * scale;
		return 0;
	}
	return kp_parse_size(v, out) ? -EINVAL : 0;
}

static int enum_value(const struct kp_opt *o, const char *name, const char *v, int *out)
{
	char list[256] = "";
	size_t n = 0, len = 0;

	for (const struct kp_opt_choice *ch = o->choices; ch->name; ch++, n++) {
		if (!strcmp(ch->name, v)) {
			*out = ch->value;
			return 0;
		}
	}
	if (o->what)
		return kp_fail(-EINVAL, "%s: '%s' is not %s", name, v, o->what);
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(list + len, len < sizeof(list) ? sizeof(list) - len : 0, "%s%s",
					!i ? "" : i + 1 == n ? " or " : ", ", o->choices[i].name);
	return kp_fail(-EINVAL, "%s: '%s' is not %s", name, v, list);
}

/* Check v against the row's kind and store it in target. */
static int apply(const struct kp_opt *o, void *target, const char *v)
{
	char *field = (char *)target + o->offset;
	char name[64];
	uint64_t n;
	double d;
	int e = 0;
	char *end;

	label(o, name, sizeof(name));
	switch (o->kind) {
	case KP_OPT_FLAG:
		store(field, o->size, o->value ? (uint64_t)o->value : 1);
		return 0;
	case KP_OPT_PATH:
		if (!*v)
			return kp_fail(-EINVAL, "%s: empty file name", name);
		/* fall through */
	case KP_OPT_STR:
		memcpy(field, &v, sizeof(v));
		return 0;
	case KP_OPT_UINT:
		if (kp_parse_u64(v, &n) || n < o->min || n > o->max)
			return kp_fail(-EINVAL, "%s: '%s' is not a %s from %llu to %llu", name, v,
				       o->what ? o->what : "number", (unsigned long long)o->min,
				       (unsigned long long)o->max);
		store(field, o->size, n);
		return 0;
	case KP_OPT_SIZE:
		if (parse_size(o, v, &n))
			return kp_fail(-EINVAL, "%s: '%s' is not a size (e.g. 256M, 1G)", name, v);
		if (n < o->min || n > o->max || (o->align && n % o->align))
			return kp_fail(-EINVAL, "%s: '%s' is out of range (%s)", name, v,
				       o->what ? o->what : "too small or too large");
		store(field, o->size, n);
		return 0;
	case KP_OPT_DOUBLE:
		d = strtod(v, &end);
		if (end == v || *end || isspace((unsigned char)*v) || !(d >= o->dmin && d <= o->dmax))
			return kp_fail(-EINVAL, "%s: '%s' is not a number from %g to %g", name, v, o->dmin,
				       o->dmax);
		memcpy(field, &d, sizeof(d));
		return 0;
	case KP_OPT_ENUM:
		if (!v) {
			e = o->value;
		} else if (enum_value(o, name, v, &e)) {
			return -EINVAL;
		}
		store(field, o->size, (uint64_t)(unsigned)e);
		return 0;
	case KP_OPT_CALL:
		return o->set(target, o, v);
	}
	return -EINVAL;
}

/* One option at argv[*i] (with its value, which may be the next argument); *i moves past
 * what it took.  1 when no row of this phase has that name. */
static int take_option(const struct kp_opts *c, bool tail, int argc, char **argv, int *i)
{
	const char *a = argv[*i], *v = NULL, *eq = NULL;
	const struct kp_opt *o;
	void *target;
	char name[64];

	if (a[1] == '-') {
		eq = strchr(a + 2, '=');
		o = find(c, tail, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2), 0, &target);
	} else {
		o = find(c, tail, NULL, 0, a[1], &target);
		if (o && a[2] && !o->arg)
			o = NULL;	/* no clusters of short flags ("-sx") */
		if (o && a[2])
			v = a + 2;	/* "-oFILE" */
	}
	if (!o)
		return 1;
	label(o, name, sizeof(name));
	(*i)++;
	if (eq && !o->arg)
		return kp_fail(-EINVAL, "%s: takes no value", name);
	if (eq)
		v = eq + 1;
	else if (o->arg && !o->optional && !v) {
		if (*i >= argc)
			return kp_fail(-EINVAL, "%s: missing value", name);
		v = argv[(*i)++];
	}
	return apply(o, target, v);
}

static bool has_tail(const struct kp_opts *c)
{
	for (size_t g = 0; g < c->ngroups; g++)
		if (c->groups[g].tail)
			return true;
	return false;
}

static int operand(const struct kp_opts *c, const char *a)
{
	if (!c->operand)
		return kp_fail(-EINVAL, "%s: unexpected argument '%s'; see 'kprof %s --help'", c->cmd, a,
			       c->cmd);
	return c->operand(c->ctx, a);
}

int kp_opts_parse(const struct kp_opts *c, int argc, char **argv, int *next)
{
	bool tail = false, can_switch = has_tail(c), only_operands = false;
	int i = *next, r;

	*next = argc;
	while (i < argc) {
		const char *a = argv[i];

		if (only_operands || a[0] != '-' || !a[1]) {
			if (can_switch && !tail) {
				tail = true;
				*next = i;
			}
			if ((r = operand(c, a)))
				return r;
			i++;
			continue;
		}
		if (!strcmp(a, "--")) {
			i++;
			if (can_switch && !tail) {	/* the tail group's options follow */
				tail = true;
				*next = i;
			} else {
				only_operands = true;
			}
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			kp_opts_help(c, stdout);
			return KP_OPTS_HELP;
		}
		r = take_option(c, tail, argc, argv, &i);
		if (r == 1 && can_switch && !tail) {
			tail = true;	/* perhaps the first of the tail group's options */
			*next = i;
			r = take_option(c, tail, argc, argv, &i);
		}
		if (r == 1)
			return kp_fail(-EINVAL, "unknown option '%s'; see 'kprof %s --help'", a, c->cmd);
		if (r)
			return r;
	}
	return 0;
}

/* True when a group before g has a row of this name: that one is used, and listed. */
static bool shadowed(const struct kp_opts *c, size_t g, const struct kp_opt *row)
{
	if (!row->name)
		return false;
	for (size_t k = 0; k < g; k++)
		for (const struct kp_opt *o = c->groups[k].opts; o->name || o->short_name; o++)
			if (o->name && !strcmp(o->name, row->name))
				return true;
	return false;
}

static void help_row(FILE *f, const char *spec, const char *text)
{
	const char *nl;

	if (strlen(spec) + 2 <= HELP_COLUMN)
		fprintf(f, "%-*s", HELP_COLUMN, spec);
	else
		fprintf(f, "%s  ", spec);
	/* Each further line of the text starts at the same column. */
	while ((nl = strchr(text, '\n'))) {
		fprintf(f, "%.*s\n%*s", (int)(nl - text), text, HELP_COLUMN, "");
		text = nl + 1;
	}
	fprintf(f, "%s\n", text);
}

void kp_opts_help(const struct kp_opts *c, FILE *f)
{
	bool printed_help = false;

	fputs(c->usage, f);
	for (size_t g = 0; g < c->ngroups; g++) {
		if (c->groups[g].title)
			fprintf(f, "%s\n", c->groups[g].title);
		for (const struct kp_opt *o = c->groups[g].opts; o->name || o->short_name; o++) {
			char spec[128];
			int n = 0;

			if (!o->help || shadowed(c, g, o))
				continue;
			n += snprintf(spec + n, sizeof(spec) - (size_t)n, "  ");
			if (o->short_name)
				n += snprintf(spec + n, sizeof(spec) - (size_t)n, "-%c%s", o->short_name,
					      o->name ? ", " : "");
			if (o->name)
				n += snprintf(spec + n, sizeof(spec) - (size_t)n, "--%s", o->name);
			if (o->arg)
				snprintf(spec + n, sizeof(spec) - (size_t)n, o->optional ? "[=%s]" : " %s",
					 o->arg);
			help_row(f, spec, o->help);
		}
		/* -h ends the first section: the rows up to the next titled group. */
		if (!printed_help && (g + 1 == c->ngroups || c->groups[g + 1].title)) {
			help_row(f, "  -h, --help", "this text");
			printed_help = true;
		}
	}
	if (c->epilog)
		fputs(c->epilog, f);
}
