/* Parsing of numbers, sizes, intervals and CPU masks given on the command line. */
#include "common/common.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The decimal or 0x-hex number s starts with, and where it ends.  strtoull alone would take
 * leading blanks and a minus sign (wrapping around). */
static int leading_u64(const char *s, unsigned long long *v, char **end)
{
	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	return *end == s ? -EINVAL : 0;
}

int kp_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	int ret = leading_u64(s, &v, &end);

	if (ret)
		return ret;
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

int kp_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;
	int ret = leading_u64(s, &v, &end);

	if (ret)
		return ret;
	switch (toupper((unsigned char)*end)) {
	case 0:
		break;
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	default:
		return -EINVAL;
	}
	if (*end) {
		end++;
		if (*end == 'i' || *end == 'I')
			end++;
		if (*end == 'b' || *end == 'B')
			end++;
		if (*end)
			return -EINVAL;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

int kp_parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno == ERANGE || !isfinite(v) || v < 0)
		return -EINVAL;
	*out = v;
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int kp_cpumask_parse(const char *s, struct kp_cpumask *m)
{
	struct kp_cpumask r = { { 0, 0 } };

	if (!s || !*s)
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		if (!*s)
			return -EINVAL;
		for (; *s; s++) {
			int d = hexval((unsigned char)*s);

			if (d < 0)
				return -EINVAL;
			if (r.bits[1] >> 60)
				return -ERANGE;
			r.bits[1] = (r.bits[1] << 4) | (r.bits[0] >> 60);
			r.bits[0] = (r.bits[0] << 4) | (uint64_t)d;
		}
	} else {
		for (; *s; s++) {
			unsigned __int128 v, carry;

			if (!isdigit((unsigned char)*s))
				return -EINVAL;
			v = ((unsigned __int128)r.bits[1] << 64) | r.bits[0];
			/* Overflow check for v * 10 + d within 128 bits. */
			carry = v >> 124;
			if (carry)
				return -ERANGE;
			v = v * 10;
			if (v + (unsigned)(*s - '0') < v)
				return -ERANGE;
			v += (unsigned)(*s - '0');
			r.bits[0] = (uint64_t)v;
			r.bits[1] = (uint64_t)(v >> 64);
		}
	}
	*m = r;
	return 0;
}

void kp_cpumask_all(struct kp_cpumask *m)
{
	m->bits[0] = m->bits[1] = ~0ull;
}

bool kp_cpumask_test(const struct kp_cpumask *m, unsigned cpu)
{
	if (cpu >= KP_CPUMASK_BITS)
		return false;
	return (m->bits[cpu / 64] >> (cpu % 64)) & 1;
}

void kp_cpumask_set(struct kp_cpumask *m, unsigned cpu)
{
	if (cpu < KP_CPUMASK_BITS)
		m->bits[cpu / 64] |= 1ull << (cpu % 64);
}

void kp_cpumask_format(const struct kp_cpumask *m, char *buf, size_t len)
{
	if (m->bits[1])
		snprintf(buf, len, "0x%llx%016llx", (unsigned long long)m->bits[1],
			 (unsigned long long)m->bits[0]);
	else
		snprintf(buf, len, "0x%llx", (unsigned long long)m->bits[0]);
}
