/* The gdb stub client's wire: framed requests, replies, stop replies. */
#include "gdbstub/client_internal.h"
#include "gdbstub/rsp_sock.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int gc_send(struct gclient *c, const char *payload, size_t len)
{
	int e;

	c->counters.op[c->op].packets++;
	kp_buf_reset(&c->out);
	e = rsp_frame(&c->out, payload, len);
	if (!e)
		e = kp_buf_append(&c->wq, c->out.data, c->out.len) ? -ENOMEM : 0;
	c->wq_request = true;
	return e;
}

int gc_flush(struct gclient *c)
{
	int e = 0;

	if (c->wq.len) {
		c->counters.op[c->op].writes++;
		c->counters.op[c->op].bytes_out += c->wq.len;
		e = rsp_sock_write_all(c->fd, c->wq.data, c->wq.len, c->timeout_ms);
	}
	kp_buf_reset(&c->wq);
	c->wq_request = false;
	return e ? -EPIPE : 0;
}

/* Read one packet into c->reply.  In ack mode, acknowledge it and resend on '-'. */
int gc_recv(struct gclient *c, int timeout_ms)
{
	/* The timeout bounds the whole packet, not each read: a stub that streams bytes
	 * without ever ending a packet must not hold us forever.  A zero timeout (take only
	 * what is there) is bounded by the connection's timeout. */
	int budget_ms = timeout_ms > 0 ? timeout_ms : c->timeout_ms;
	uint64_t deadline = kp_now_ns() + (uint64_t)budget_ms * 1000000u;
	uint8_t ch;

	for (;;) {
		if (c->rpos == c->rlen) {
			struct pollfd p = { .fd = c->fd, .events = POLLIN };
			uint64_t now = kp_now_ns();
			ssize_t n;
			int r;

			/* Acks alone wait for the next request when the next reply is already
			 * here (the replies to a pipelined batch): one write per batch, not one
			 * per reply.  A stub that wants each ack before its next reply gets it
			 * before we wait. */
			n = -1;
			errno = EAGAIN;
			if (c->wq.len && !c->wq_request)
				n = recv(c->fd, c->rbuf, sizeof(c->rbuf), MSG_DONTWAIT);
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				/* Requests and acks still queued go out before we wait. */
				if (gc_flush(c))
					return -EPIPE;
				if (now >= deadline)
					return -ETIMEDOUT;
				r = poll(&p, 1, timeout_ms > 0 ? (int)((deadline - now + 999999) / 1000000) : 0);
				c->counters.op[c->op].wait_ns += kp_now_ns() - now;
				if (r == 0)
					return -ETIMEDOUT;
				if (r < 0) {
					if (errno == EINTR)
						continue;
					return -errno;
				}
				n = recv(c->fd, c->rbuf, sizeof(c->rbuf), MSG_DONTWAIT);
			}
			if (n == 0)
				return -ECONNRESET;
			if (n < 0) {
				if (errno == EINTR || errno == EAGAIN)
					continue;
				return -errno;
			}
			c->rpos = 0;
			c->rlen = (size_t)n;
			c->counters.op[c->op].bytes_in += (uint64_t)n;
		}
		ch = c->rbuf[c->rpos++];
		switch (rsp_framer_feed(&c->fr, ch)) {
		case RSP_EV_PACKET:
			/* The ack waits for the next write (a stub in ack mode reads it before
			 * our next request either way). */
			if (!c->no_ack && kp_buf_putc(&c->wq, '+'))
				return -ENOMEM;
			kp_buf_reset(&c->reply);
			if (kp_buf_append(&c->reply, c->fr.buf, c->fr.len))
				return -ENOMEM;
			return 0;
		case RSP_EV_BAD_CHECKSUM:
		case RSP_EV_MALFORMED:
			if (!c->no_ack && rsp_sock_write_all(c->fd, "-", 1, c->timeout_ms))
				return -EPIPE;
			break;
		case RSP_EV_OVERSIZE:
			return -EMSGSIZE;
		case RSP_EV_NACK:
			if (!c->no_ack && c->out.len &&
			    rsp_sock_write_all(c->fd, c->out.data, c->out.len, c->timeout_ms))
				return -EPIPE;
			break;
		default:
			break;
		}
	}
}

int gc_sendf(struct gclient *c, const char *fmt, ...)
{
	char payload[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(payload, sizeof(payload), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(payload))
		return -EINVAL;
	return gc_send(c, payload, (size_t)n);
}

int gc_reply(struct gclient *c)
{
	int e;

	/* Console output ('O' + hex) may come before the reply (qRcmd); skip it. */
	do
		e = gc_recv(c, c->timeout_ms);
	while (!e && c->reply.len >= 2 && c->reply.data[0] == 'O' && strcmp(c->reply.data, "OK"));
	if (e == -ECONNRESET || e == -EPIPE) {
		c->ended = true;
		c->end_ev.kind = TARGET_EV_GONE;
		c->end_ev.cpu = -1;
	}
	return e;
}

int gc_request(struct gclient *c, const char *fmt, ...)
{
	char payload[256];
	va_list ap;
	int n, e;

	va_start(ap, fmt);
	n = vsnprintf(payload, sizeof(payload), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(payload))
		return -EINVAL;
	e = gc_send(c, payload, (size_t)n);
	return e ? e : gc_reply(c);
}

int gc_reply_status(const struct gclient *c)
{
	const char *r = c->reply.data ? c->reply.data : "";

	if (!strcmp(r, "OK"))
		return 0;
	if (!*r)
		return -ENOTSUP;
	if (r[0] == 'E')
		return r[1] == '1' && r[2] == '4' ? -EFAULT : -EIO;
	return -EPROTO;
}

int gc_get_tid(struct gclient *c, struct rsp_cursor *cur, uint64_t *tid)
{
	uint64_t pid = 0, t;
	int e;

	if (rsp_skip(cur, "p")) {
		if ((e = rsp_get_hex(cur, &pid)) || (e = rsp_expect(cur, '.')))
			return e;
		c->multiprocess = true;
	}
	e = rsp_get_hex(cur, &t);
	if (!e)
		*tid = (pid & 0xffffffffu) << 32 | (t & 0xffffffffu);
	return e;
}

const char *gc_tid_str(const struct gclient *c, uint64_t tid, char buf[40])
{
	if (c->multiprocess)
		snprintf(buf, 40, "p%llx.%llx", (unsigned long long)(tid >> 32),
			 (unsigned long long)(tid & 0xffffffffu));
	else
		snprintf(buf, 40, "%llx", (unsigned long long)tid);
	return buf;
}

static uint64_t hex_field(const char *p, const char *end)
{
	uint64_t v = 0;
	struct rsp_cursor cur;

	rsp_cursor_init(&cur, p, (size_t)(end - p));
	if (rsp_get_hex(&cur, &v))
		return 0;
	return v;
}

int gc_parse_stop(struct gclient *c, const char *p, size_t n, struct target_event *ev)
{
	const char *end = p + n, *q;
	int sig;

	memset(ev, 0, sizeof(*ev));
	ev->cpu = -1;
	if (n < 3 || rsp_hex_value((unsigned char)p[1]) < 0 ||
	    rsp_hex_value((unsigned char)p[2]) < 0)
		return 0;
	sig = rsp_hex_value((unsigned char)p[1]) << 4 | rsp_hex_value((unsigned char)p[2]);
	switch (p[0]) {
	case 'W':
		ev->kind = TARGET_EV_EXITED;
		ev->exit_status = sig;
		return 1;
	case 'X':
		ev->kind = TARGET_EV_GONE;
		ev->exit_status = 128 + sig;
		return 1;
	case 'S':
	case 'T':
		break;
	default:
		return 0;
	}
	ev->kind = sig == 2 ? TARGET_EV_STOPPED : sig == 5 ? TARGET_EV_STEP : TARGET_EV_FAULT;
	/* "T05thread:2;swbreak:;watch:addr;..." */
	for (q = p + 3; q < end;) {
		const char *colon = memchr(q, ':', (size_t)(end - q));
		const char *semi = colon ? memchr(colon, ';', (size_t)(end - colon)) : NULL;
		size_t kl;

		if (!colon || !semi)
			break;
		kl = (size_t)(colon - q);
		if (kl == 6 && !memcmp(q, "thread", 6)) {
			struct rsp_cursor cur;
			uint64_t tid;

			rsp_cursor_init(&cur, colon + 1, (size_t)(semi - colon - 1));
			if (!gc_get_tid(c, &cur, &tid))
				for (int i = 0; i < c->ncpu; i++)
					if (c->tids[i] == tid)
						ev->cpu = i;
		} else if ((kl == 7 && !memcmp(q, "swbreak", 7)) ||
			   (kl == 7 && !memcmp(q, "hwbreak", 7))) {
			ev->kind = TARGET_EV_BREAKPOINT;
		} else if ((kl == 5 && !memcmp(q, "watch", 5)) ||
			   (kl == 6 && !memcmp(q, "rwatch", 6)) ||
			   (kl == 6 && !memcmp(q, "awatch", 6))) {
			ev->kind = TARGET_EV_WATCHPOINT;
			ev->watch_kind = q[0] == 'w' ? TARGET_WP_WRITE :
					 q[0] == 'r' ? TARGET_WP_READ : TARGET_WP_ACCESS;
			ev->addr = hex_field(colon + 1, semi);
		}
		q = semi + 1;
	}
	return 1;
}
