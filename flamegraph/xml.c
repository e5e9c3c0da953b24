/* XML character data from arbitrary bytes: frame names come from symbol tables and text files
 * and may hold markup characters, broken UTF-8 or control bytes; the SVG must still parse. */
#include "flamegraph/fg_internal.h"

#include <string.h>

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when it is not one.
 * Overlong forms, surrogates and code points above U+10FFFF are invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

int fg_xml_escape(struct kp_buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	int rc = 0;

	while (i < n && !rc) {
		uint32_t cp;
		size_t len = utf8_seq(p + i, n - i, &cp);

		if (!len || (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') ||
		    cp == 0xfffe || cp == 0xffff) {
			rc = kp_buf_puts(b, "\xef\xbf\xbd");
			i += len ? len : 1;
			continue;
		}
		switch (cp) {
		case '<':
			rc = kp_buf_puts(b, "&lt;");
			break;
		case '>':
			rc = kp_buf_puts(b, "&gt;");
			break;
		case '&':
			rc = kp_buf_puts(b, "&amp;");
			break;
		case '"':
			rc = kp_buf_puts(b, "&quot;");
			break;
		case '\'':
			rc = kp_buf_puts(b, "&apos;");
			break;
		default:
			rc = kp_buf_append(b, p + i, len);
		}
		i += len;
	}
	return rc;
}

size_t fg_utf8_chars(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, chars = 0;

	while (i < n) {
		uint32_t cp;
		size_t len = utf8_seq(p + i, n - i, &cp);

		i += len ? len : 1;
		chars++;
	}
	return chars;
}

size_t fg_utf8_prefix(const char *s, size_t n, size_t chars)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n && chars) {
		uint32_t cp;
		size_t len = utf8_seq(p + i, n - i, &cp);

		i += len ? len : 1;
		chars--;
	}
	return i;
}
