/* Frame colours.  Colours carry no data in a flame graph (except in differential graphs); they
 * only separate neighbours, so each palette is a band of hues picked by three pseudo-random
 * values, drawn from the name (--hash: the same name is the same colour in every graph) or
 * from the frame's position (still deterministic: same input, same picture). */
#include "flamegraph/fg_internal.h"

#include <errno.h>
#include <string.h>

static const struct {
	const char *name;
	enum fg_palette palette;
} palettes[] = {
	{ "hot", FG_PALETTE_HOT },	{ "mem", FG_PALETTE_MEM },
	{ "io", FG_PALETTE_IO },	{ "kernel", FG_PALETTE_KERNEL },
	{ "red", FG_PALETTE_RED },	{ "green", FG_PALETTE_GREEN },
	{ "blue", FG_PALETTE_BLUE },	{ "aqua", FG_PALETTE_AQUA },
	{ "yellow", FG_PALETTE_YELLOW }, { "purple", FG_PALETTE_PURPLE },
	{ "orange", FG_PALETTE_ORANGE },
};

int fg_palette_parse(const char *s, enum fg_palette *out)
{
	for (size_t i = 0; i < KP_ARRAY_SIZE(palettes); i++) {
		if (!strcmp(s, palettes[i].name)) {
			*out = palettes[i].palette;
			return 0;
		}
	}
	return -EINVAL;
}

const char *fg_palette_names(void)
{
	return "hot, mem, io, kernel, red, green, blue, aqua, yellow, purple, orange";
}

/* Annotations that perf and stackcollapse scripts append to say what kind of code a frame is. */
static int annotation(const char *name, size_t len)
{
	if (len >= 4 && name[len - 4] == '_' && name[len - 3] == '[' && name[len - 1] == ']' &&
	    strchr("kuijw", name[len - 2]))
		return name[len - 2];
	return 0;
}

size_t fg_display_len(const char *name)
{
	size_t len = strlen(name);

	return annotation(name, len) ? len - 4 : len;
}

static uint64_t mix(uint64_t x)
{
	/* splitmix64's finalizer: spreads nearby seeds far apart. */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static unsigned char band(unsigned base, unsigned span, double v)
{
	return (unsigned char)(base + (unsigned)(span * v));
}

static bool is_unknown(const char *name, size_t len)
{
	return (len == 2 && !memcmp(name, "??", 2)) || (len == 9 && !memcmp(name, "[unknown]", 9));
}

void fg_palette_color(enum fg_palette p, const char *name, bool hash, uint64_t seed,
		      unsigned char rgb[3])
{
	size_t len = strlen(name), dlen = fg_display_len(name);
	uint64_t h = 0xcbf29ce484222325ull;
	double v1, v2, v3;

	if (hash) {
		for (size_t i = 0; i < dlen; i++) {
			h ^= (unsigned char)name[i];
			h *= 0x100000001b3ull;
		}
		h = mix(h);
	} else {
		h = mix(seed + 0x9e3779b97f4a7c15ull);
	}
	v1 = (double)(h & 0xffff) / 65536.0;
	v2 = (double)((h >> 16) & 0xffff) / 65536.0;
	v3 = (double)((h >> 32) & 0xffff) / 65536.0;

	if (p == FG_PALETTE_KERNEL) {
		int a = annotation(name, len);

		if (is_unknown(name, dlen)) {
			/* Grey: an unknown frame should not look like code. */
			rgb[0] = rgb[1] = rgb[2] = band(175, 40, v1);
			return;
		}
		if (a == 'u')
			p = FG_PALETTE_AQUA;
		else
			p = FG_PALETTE_ORANGE;
	}
	switch (p) {
	case FG_PALETTE_MEM:
		rgb[0] = band(40, 60, v3), rgb[1] = band(180, 70, v1), rgb[2] = band(40, 60, v2);
		break;
	case FG_PALETTE_IO:
		rgb[0] = band(70, 60, v3), rgb[1] = band(120, 70, v2), rgb[2] = band(210, 45, v1);
		break;
	case FG_PALETTE_RED:
		rgb[0] = band(200, 55, v1), rgb[1] = rgb[2] = band(50, 80, v2);
		break;
	case FG_PALETTE_GREEN:
		rgb[1] = band(190, 60, v1), rgb[0] = rgb[2] = band(50, 80, v2);
		break;
	case FG_PALETTE_BLUE:
		rgb[2] = band(205, 50, v1), rgb[0] = rgb[1] = band(80, 70, v2);
		break;
	case FG_PALETTE_AQUA:
		rgb[0] = band(50, 60, v2), rgb[1] = rgb[2] = band(165, 70, v1);
		break;
	case FG_PALETTE_YELLOW:
		rgb[0] = rgb[1] = band(175, 60, v1), rgb[2] = band(50, 40, v2);
		break;
	case FG_PALETTE_PURPLE:
		rgb[0] = rgb[2] = band(190, 55, v1), rgb[1] = band(80, 60, v2);
		break;
	case FG_PALETTE_ORANGE:
		rgb[0] = band(220, 35, v1), rgb[1] = band(130, 60, v2), rgb[2] = band(30, 40, v3);
		break;
	case FG_PALETTE_HOT:
	case FG_PALETTE_KERNEL:
	default:
		rgb[0] = band(200, 55, v1), rgb[1] = band(60, 160, v2), rgb[2] = band(20, 40, v3);
		break;
	}
}
