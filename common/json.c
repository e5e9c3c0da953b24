/* UTF-8 sequences, and JSON strings for the hand-written JSON outputs (the boot profile, the
 * boot lab report).
 * json-c stays the profiler's (profiler/trace_json.c, the trace reader and writer); these
 * outputs are flat objects of numbers and names, and need only their strings escaped. */
#include "common/common.h"

#include <string.h>

size_t kp_utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] < 0xc2 || s[0] > 0xf4 || len > n)
		return 0;
	c = s[0] & (0x7fu >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (c < 0x800 || (c >= 0xd800 && c < 0xe000))) ||
	    (len == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	*cp = c;
	return len;
}

void kp_json_string(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t left = strlen(str);
	uint32_t cp;

	fputc('"', f);
	while (*s) {
		size_t n = kp_utf8_seq(s, left, &cp);

		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if (*s < 0x20 || *s == 0x7f || !n)
			fprintf(f, "\\u%04x", *s);	/* a stray byte reads as Latin-1 */
		else
			fwrite(s, 1, n, f);		/* ASCII and valid UTF-8 pass through */
		s += n ? n : 1;
		left -= n ? n : 1;
	}
	fputc('"', f);
}
