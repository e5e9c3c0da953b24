/* The gdb stub client: connecting to any gdb stub (QEMU's, ours) and learning what it
 * offers; client_target.c then serves the target operations over it. */
#include "gdbstub/client_internal.h"
#include "gdbstub/rsp_sock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define GC_DEFAULT_TIMEOUT_MS 5000

/* qSupported, no-ack mode, the stop state, the threads and the register layout. */
static int handshake(struct gclient *c)
{
	const char *r;
	struct target_event ev;
	int e;

	/* An ack first, as gdb sends: it flushes a stub that waits for one. */
	e = rsp_sock_write_all(c->fd, "+", 1, c->timeout_ms);
	if (!e)
		e = gc_request(c, "qSupported:swbreak+;hwbreak+;vContSupported+");
	/* QEMU stops a running VM when a debugger connects and says so with a stop reply
	 * nobody asked for; it may arrive before the answer to qSupported. */
	while (!e && gc_parse_stop(c, c->reply.data, c->reply.len, &ev)) {
		c->found_running = true;	/* a VM already paused sends none */
		e = gc_recv(c, c->timeout_ms);
	}
	if (e)
		return e;
	r = c->reply.data ? c->reply.data : "";
	if (r[0] == 'E')
		return kp_fail(-ECONNREFUSED, "gdb stub refused us: %s", r + (r[1] == '.' ? 2 : 0));
	/* kprof's stub says it in its features, where no other client trips over it. */
	if (strstr(r, RSP_FEATURE_STOPPED_ON_ATTACH))
		c->found_running = true;
	if ((r = strstr(c->reply.data, "PacketSize="))) {
		struct rsp_cursor cur;
		uint64_t v;

		rsp_cursor_init(&cur, r + 11, strcspn(r + 11, ";"));
		if (!rsp_get_hex(&cur, &v) && v >= 64)
			c->packet_size = KP_MIN(v, (uint64_t)RSP_MAX_PAYLOAD);
	}
	if (strstr(c->reply.data, "QStartNoAckMode+")) {
		e = gc_request(c, "QStartNoAckMode");
		if (e)
			return e;
		if (!gc_reply_status(c))
			c->no_ack = true;
	}
	e = gc_request(c, "vCont?");
	if (e)
		return e;
	c->vcont = strstr(c->reply.data, ";c") && strstr(c->reply.data, ";s");
	/* The peer is stopped now (stubs stop the VM when a debugger attaches). */
	e = gc_request(c, "?");
	if (e)
		return e;
	if (gc_parse_stop(c, c->reply.data, c->reply.len, &ev) &&
	    (ev.kind == TARGET_EV_EXITED || ev.kind == TARGET_EV_GONE))
		return -ESRCH;
	for (const char *q = "qfThreadInfo";; q = "qsThreadInfo") {
		struct rsp_cursor cur;
		uint64_t tid;

		e = gc_request(c, "%s", q);
		if (e)
			return e;
		if (c->reply.len == 0 || c->reply.data[0] != 'm')
			break;
		rsp_cursor_init(&cur, c->reply.data + 1, c->reply.len - 1);
		while (!gc_get_tid(c, &cur, &tid)) {
			if (c->ncpu < TARGET_MAX_CPUS)
				c->tids[c->ncpu++] = tid;
			if (rsp_expect(&cur, ','))
				break;
		}
	}
	if (c->ncpu == 0) {
		c->tids[0] = 1;	/* a stub without threads has one */
		c->ncpu = 1;
	}
	return gc_learn_layout(c);
}

struct target *gdbstub_client_attach_fd(int fd, const struct gdbstub_client_opts *o, int *err)
{
	struct gclient *c = calloc(1, sizeof(*c));
	int e;

	if (!c) {
		close(fd);
		*err = -ENOMEM;
		return NULL;
	}
	c->t.ops = &gc_target_ops;
	c->fd = fd;
	c->timeout_ms = o && o->timeout_ms > 0 ? o->timeout_ms : GC_DEFAULT_TIMEOUT_MS;
	c->packet_size = 400;	/* until the peer says */
	c->op = GDBSTUB_OP_OTHER;
	kp_buf_init(&c->out);
	kp_buf_init(&c->wq);
	kp_buf_init(&c->reply);
	rsp_framer_init(&c->fr);
	e = handshake(c);
	if (!e && o && o->stack_prefetch) {
		size_t chunk = gc_mem_chunk(c);

		c->prefetch = KP_MIN(o->stack_prefetch, (size_t)65536);
		/* Room for the largest window guessed from the last stop: the prefetch, with room
		 * for rsp to move 512 bytes either way, in whole m packets. */
		c->pf_stride = (c->prefetch + 1024 + chunk - 1) / chunk * chunk;
		c->pf_buf = malloc(c->pf_stride * (size_t)c->ncpu);
		/* Until a stop's reads say how much: 4 KiB. */
		for (int i = 0; i < c->ncpu; i++)
			c->pf_want[i] = KP_MIN(c->prefetch, (size_t)4096);
		if (!c->pf_buf)
			e = -ENOMEM;
	}
	if (e) {
		*err = e;
		gdbstub_client_close(&c->t);
		return NULL;
	}
	return &c->t;
}

struct target *gdbstub_client_connect(const char *addr, const struct gdbstub_client_opts *o,
				      int *err)
{
	struct gdbstub_addr a;
	int fd, e = gdbstub_parse_addr(addr, &a);

	if (e) {
		*err = e;
		return NULL;
	}
	fd = rsp_sock_connect(&a, o && o->timeout_ms > 0 ? o->timeout_ms : GC_DEFAULT_TIMEOUT_MS);
	if (fd < 0) {
		*err = fd;
		return NULL;
	}
	return gdbstub_client_attach_fd(fd, o, err);
}

void gdbstub_client_close(struct target *t)
{
	struct gclient *c;

	if (!t)
		return;
	c = (struct gclient *)t;	/* the target is the first member */
	if (c->fd >= 0)
		close(c->fd);
	kp_buf_release(&c->out);
	kp_buf_release(&c->wq);
	free(c->pf_buf);
	kp_buf_release(&c->reply);
	free(c);
}
