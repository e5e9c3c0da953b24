/* RSP hex encoding and a strict cursor for parsing packet arguments. */
#include "gdbstub/rsp.h"

#include <errno.h>
#include <string.h>

int rsp_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int rsp_hex_append(struct kp_buf *out, const void *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *p = data;
	int r = kp_buf_reserve(out, 2 * len);

	if (r)
		return r;
	for (size_t i = 0; i < len; i++) {
		out->data[out->len++] = digits[p[i] >> 4];
		out->data[out->len++] = digits[p[i] & 15];
	}
	out->data[out->len] = 0;
	return 0;
}

int rsp_hex_decode(const char *hex, size_t n, void *out)
{
	uint8_t *o = out;

	for (size_t i = 0; i < n; i++) {
		int hi = rsp_hex_value((unsigned char)hex[2 * i]);
		int lo = rsp_hex_value((unsigned char)hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		o[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void rsp_cursor_init(struct rsp_cursor *c, const char *data, size_t len)
{
	c->p = data;
	c->end = data + len;
}

int rsp_get_hex(struct rsp_cursor *c, uint64_t *v)
{
	uint64_t x = 0;
	int n = 0, d;

	while (c->p < c->end && (d = rsp_hex_value((unsigned char)*c->p)) >= 0) {
		if (++n > 16)
			return -EINVAL;
		x = x << 4 | (uint64_t)d;
		c->p++;
	}
	if (!n)
		return -EINVAL;
	*v = x;
	return 0;
}

int rsp_expect(struct rsp_cursor *c, char ch)
{
	if (c->p >= c->end || *c->p != ch)
		return -EINVAL;
	c->p++;
	return 0;
}

bool rsp_at_end(const struct rsp_cursor *c)
{
	return c->p >= c->end;
}

bool rsp_skip(struct rsp_cursor *c, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n))
		return false;
	c->p += n;
	return true;
}
