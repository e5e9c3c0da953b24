/* RSP framing: the byte-at-a-time receive state machine and packet encoding.
 *
 * The framer never grows its buffer: a packet longer than RSP_MAX_PAYLOAD is consumed
 * to its end and reported as oversize, so a hostile peer costs a fixed amount of memory.
 */
#include "gdbstub/rsp.h"

#include <errno.h>
#include <string.h>

enum {
	FR_IDLE,	/* between packets: acks, 0x03 and noise */
	FR_DATA,	/* after '$' */
	FR_RLE,		/* after '*': the next byte is a repeat count */
	FR_CSUM1,	/* after '#' */
	FR_CSUM2,
};

void rsp_framer_init(struct rsp_framer *f)
{
	f->state = FR_IDLE;
	f->len = 0;
	f->sum = 0;
	f->csum = 0;
	f->overflow = false;
	f->bad = false;
	f->buf[0] = 0;
}

static void framer_put(struct rsp_framer *f, char c)
{
	if (f->len >= RSP_MAX_PAYLOAD) {
		f->overflow = true;
		return;
	}
	f->buf[f->len++] = c;
}

static void framer_begin(struct rsp_framer *f)
{
	rsp_framer_init(f);
	f->state = FR_DATA;
}

enum rsp_event rsp_framer_feed(struct rsp_framer *f, uint8_t c)
{
	int v;

	switch (f->state) {
	case FR_IDLE:
		if (c == '$') {
			framer_begin(f);
			return RSP_EV_NONE;
		}
		if (c == '+')
			return RSP_EV_ACK;
		if (c == '-')
			return RSP_EV_NACK;
		if (c == 0x03)
			return RSP_EV_INTERRUPT;
		return RSP_EV_NONE;	/* line noise between packets is ignored, as gdb does */
	case FR_DATA:
		if (c == '#') {
			f->state = FR_CSUM1;
			return RSP_EV_NONE;
		}
		if (c == '$') {
			/* A new start inside a packet: the sender gave up on the old one. */
			framer_begin(f);
			return RSP_EV_NONE;
		}
		f->sum += c;
		if (c == '*') {
			f->state = FR_RLE;
			return RSP_EV_NONE;
		}
		framer_put(f, (char)c);
		return RSP_EV_NONE;
	case FR_RLE:
		if (c == '#' || c == '$') {
			/* A '*' with no count: malformed; resynchronise on this byte. */
			f->bad = true;
			f->state = FR_DATA;
			return rsp_framer_feed(f, c);
		}
		f->sum += c;
		f->state = FR_DATA;
		/* "X*n" repeats X n - 29 more times; counts below 3 are not produced by gdb. */
		if (c < 29 + 3 || c > 126 || f->len == 0) {
			f->bad = true;
			return RSP_EV_NONE;
		}
		for (int i = 0; i < c - 29; i++)
			framer_put(f, f->len ? f->buf[f->len - 1] : 0);
		return RSP_EV_NONE;
	case FR_CSUM1:
		v = rsp_hex_value(c);
		if (v < 0) {
			f->state = FR_IDLE;
			return c == '$' ? (framer_begin(f), RSP_EV_MALFORMED) : RSP_EV_MALFORMED;
		}
		f->csum = (uint8_t)(v << 4);
		f->state = FR_CSUM2;
		return RSP_EV_NONE;
	case FR_CSUM2:
		v = rsp_hex_value(c);
		f->state = FR_IDLE;
		if (v < 0)
			return c == '$' ? (framer_begin(f), RSP_EV_MALFORMED) : RSP_EV_MALFORMED;
		f->csum |= (uint8_t)v;
		f->buf[f->len] = 0;
		if (f->csum != f->sum)
			return RSP_EV_BAD_CHECKSUM;
		if (f->overflow)
			return RSP_EV_OVERSIZE;
		if (f->bad)
			return RSP_EV_MALFORMED;
		return RSP_EV_PACKET;
	}
	f->state = FR_IDLE;
	return RSP_EV_NONE;
}

int rsp_frame(struct kp_buf *out, const void *payload, size_t len)
{
	const uint8_t *p = payload;
	uint8_t sum = 0;
	int r;

	for (size_t i = 0; i < len; i++)
		sum += p[i];
	r = kp_buf_putc(out, '$');
	if (!r)
		r = kp_buf_append(out, payload, len);
	if (!r)
		r = kp_buf_printf(out, "#%02x", sum);
	return r;
}

int rsp_escape(struct kp_buf *out, const void *data, size_t len)
{
	const uint8_t *p = data;
	int r = 0;

	for (size_t i = 0; i < len && !r; i++) {
		if (p[i] == '#' || p[i] == '$' || p[i] == '}' || p[i] == '*') {
			r = kp_buf_putc(out, '}');
			if (!r)
				r = kp_buf_putc(out, (char)(p[i] ^ 0x20));
		} else {
			r = kp_buf_putc(out, (char)p[i]);
		}
	}
	return r;
}

ssize_t rsp_unescape(char *data, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (data[i] == '}') {
			if (++i == len)
				return -EINVAL;
			data[o++] = (char)(data[i] ^ 0x20);
		} else {
			data[o++] = data[i];
		}
	}
	return (ssize_t)o;
}
