/* Unit tests for gdbstub/: framing, codec, register layout, and the server's packet
 * handling over a socketpair against a small in-memory fake target. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "gdbstub/client.h"
#include "gdbstub/rsp.h"
#include "gdbstub/server.h"

/* ---- a fake target: 2 vCPUs, 8 KiB of memory at 0x1000, 4 debug registers ---------- */

#define FAKE_BASE 0x1000
#define FAKE_SIZE 0x2000

struct fake {
	struct target t;
	pthread_mutex_t lock;
	int efd;
	bool stopped;
	struct target_regs regs[2];
	uint8_t mem[FAKE_SIZE];
	int nbp;
	uint64_t bp_addr[4];
	enum target_resume_action last_act[2];
	int resumes;
	struct target_event pending[4];
	int npending;
	int kills;
};

static struct fake *F(struct target *t)
{
	return (struct fake *)t;
}

static void fake_post(struct fake *f, struct target_event ev)
{
	uint64_t one = 1;

	pthread_mutex_lock(&f->lock);
	f->stopped = true;
	if (f->npending < 4)
		f->pending[f->npending++] = ev;
	pthread_mutex_unlock(&f->lock);
	assert_int_equal(write(f->efd, &one, 8), 8);
}

static int fake_cpu_count(struct target *t)
{
	(void)t;
	return 2;
}

static int fake_cpu_state(struct target *t, int cpu)
{
	(void)t;
	return cpu == 1 ? TARGET_CPU_HALTED : TARGET_CPU_RUNNING;
}

static int fake_stop(struct target *t)
{
	pthread_mutex_lock(&F(t)->lock);
	F(t)->stopped = true;
	pthread_mutex_unlock(&F(t)->lock);
	return 0;
}

static int fake_resume(struct target *t, const enum target_resume_action *a)
{
	struct fake *f = F(t);

	pthread_mutex_lock(&f->lock);
	f->resumes++;
	for (int i = 0; i < 2; i++)
		f->last_act[i] = a ? a[i] : TARGET_RESUME_CONTINUE;
	f->stopped = false;
	pthread_mutex_unlock(&f->lock);
	/* A step finishes at once. */
	for (int i = 0; i < 2; i++)
		if (a && a[i] == TARGET_RESUME_STEP)
			fake_post(f, (struct target_event){ .kind = TARGET_EV_STEP, .cpu = i });
	return 0;
}

static int fake_is_stopped(struct target *t)
{
	int s;

	pthread_mutex_lock(&F(t)->lock);
	s = F(t)->stopped;
	pthread_mutex_unlock(&F(t)->lock);
	return s;
}

static int fake_event_fd(struct target *t)
{
	return F(t)->efd;
}

static int fake_poll_event(struct target *t, struct target_event *ev)
{
	struct fake *f = F(t);
	uint64_t v;
	int r = -EAGAIN;

	pthread_mutex_lock(&f->lock);
	if (f->npending) {
		*ev = f->pending[0];
		memmove(f->pending, f->pending + 1, sizeof(f->pending[0]) * (size_t)--f->npending);
		r = 0;
	}
	if (!f->npending)
		while (read(f->efd, &v, 8) == 8)
			;
	pthread_mutex_unlock(&f->lock);
	return r;
}

static int fake_get_regs(struct target *t, int cpu, struct target_regs *r)
{
	if (cpu < 0 || cpu > 1)
		return -EINVAL;
	*r = F(t)->regs[cpu];
	return 0;
}

static int fake_set_regs(struct target *t, int cpu, const struct target_regs *r)
{
	if (cpu < 0 || cpu > 1)
		return -EINVAL;
	F(t)->regs[cpu] = *r;
	return 0;
}

static ssize_t fake_xfer(struct fake *f, uint64_t addr, void *buf, size_t len, bool write)
{
	size_t n;

	if (addr < FAKE_BASE || addr >= FAKE_BASE + FAKE_SIZE)
		return -EFAULT;
	n = KP_MIN(len, (size_t)(FAKE_BASE + FAKE_SIZE - addr));
	if (write)
		memcpy(f->mem + (addr - FAKE_BASE), buf, n);
	else
		memcpy(buf, f->mem + (addr - FAKE_BASE), n);
	return (ssize_t)n;
}

static ssize_t fake_read_mem(struct target *t, int cpu, uint64_t addr, void *buf, size_t len)
{
	(void)cpu;
	return fake_xfer(F(t), addr, buf, len, false);
}

static ssize_t fake_write_mem(struct target *t, int cpu, uint64_t addr, const void *buf,
			      size_t len)
{
	(void)cpu;
	return fake_xfer(F(t), addr, (void *)buf, len, true);
}

static int fake_set_bp(struct target *t, enum target_bp_kind kind, uint64_t addr, uint64_t len)
{
	(void)len;
	if (kind == TARGET_BP_SW)
		return -ENOTSUP;	/* as on the PVM KVM: the stub must fall back */
	if (kind == TARGET_WP_READ)
		return -ENOTSUP;	/* x86 debug registers cannot trap reads alone */
	if (F(t)->nbp == 4)
		return -ENOSPC;
	F(t)->bp_addr[F(t)->nbp++] = addr;
	return 0;
}

static int fake_clear_bp(struct target *t, enum target_bp_kind kind, uint64_t addr, uint64_t len)
{
	struct fake *f = F(t);

	(void)kind;
	(void)len;
	for (int i = 0; i < f->nbp; i++) {
		if (f->bp_addr[i] == addr) {
			f->bp_addr[i] = f->bp_addr[--f->nbp];
			return 0;
		}
	}
	return -ENOENT;
}

static int fake_kill(struct target *t)
{
	pthread_mutex_lock(&F(t)->lock);
	F(t)->kills++;
	pthread_mutex_unlock(&F(t)->lock);
	return 0;
}

static const struct target_ops fake_ops = {
	.name = "fake",
	.cpu_count = fake_cpu_count,
	.cpu_state = fake_cpu_state,
	.stop = fake_stop,
	.resume = fake_resume,
	.is_stopped = fake_is_stopped,
	.event_fd = fake_event_fd,
	.poll_event = fake_poll_event,
	.get_regs = fake_get_regs,
	.set_regs = fake_set_regs,
	.read_mem = fake_read_mem,
	.write_mem = fake_write_mem,
	.set_bp = fake_set_bp,
	.clear_bp = fake_clear_bp,
	.kill = fake_kill,
};

/* ---- framing and codec --------------------------------------------------------------- */

static enum rsp_event feed_str(struct rsp_framer *f, const char *s)
{
	enum rsp_event ev = RSP_EV_NONE, e;

	/* the last event that was not "nothing yet" */
	while (*s)
		if ((e = rsp_framer_feed(f, (uint8_t)*s++)) != RSP_EV_NONE)
			ev = e;
	return ev;
}

static void test_framer(void **state)
{
	static struct rsp_framer f;
	struct kp_buf b;

	(void)state;
	rsp_framer_init(&f);
	assert_int_equal(feed_str(&f, "$g#67"), RSP_EV_PACKET);
	assert_string_equal(f.buf, "g");
	assert_int_equal(feed_str(&f, "$g#68"), RSP_EV_BAD_CHECKSUM);
	assert_int_equal(feed_str(&f, "$g#zz"), RSP_EV_MALFORMED);
	assert_int_equal(rsp_framer_feed(&f, '+'), RSP_EV_ACK);
	assert_int_equal(rsp_framer_feed(&f, '-'), RSP_EV_NACK);
	assert_int_equal(rsp_framer_feed(&f, 0x03), RSP_EV_INTERRUPT);
	/* noise between packets, and a restart inside one */
	assert_int_equal(feed_str(&f, "garbage$abc$g#67"), RSP_EV_PACKET);
	assert_string_equal(f.buf, "g");
	/* run-length: "0* " is '0' repeated 3 more times (' ' = 32 = 29 + 3) */
	assert_int_equal(feed_str(&f, "$0* #7a"), RSP_EV_PACKET);
	assert_string_equal(f.buf, "0000");
	/* a count with no preceding byte is malformed, as is a dangling '*' */
	assert_int_equal(feed_str(&f, "$* #4a"), RSP_EV_MALFORMED);
	assert_int_equal(feed_str(&f, "$a*#8b"), RSP_EV_MALFORMED);

	/* encoding round trip, binary escaping */
	kp_buf_init(&b);
	assert_int_equal(rsp_frame(&b, "OK", 2), 0);
	assert_string_equal(b.data, "$OK#9a");
	kp_buf_reset(&b);
	assert_int_equal(rsp_escape(&b, "a#b$c}d*", 8), 0);
	assert_int_equal(b.len, 12);
	assert_int_equal(rsp_unescape(b.data, b.len), 8);
	assert_memory_equal(b.data, "a#b$c}d*", 8);
	kp_buf_reset(&b);
	kp_buf_puts(&b, "ab}");
	assert_true(rsp_unescape(b.data, b.len) < 0);
	kp_buf_release(&b);
}

static void test_framer_oversize(void **state)
{
	static struct rsp_framer f;
	enum rsp_event ev = RSP_EV_NONE;
	uint8_t sum = 0;
	char tail[4];

	(void)state;
	rsp_framer_init(&f);
	rsp_framer_feed(&f, '$');
	for (int i = 0; i < RSP_MAX_PAYLOAD + 100; i++) {
		sum += 'a';
		ev = rsp_framer_feed(&f, 'a');
		assert_int_equal(ev, RSP_EV_NONE);
	}
	snprintf(tail, sizeof(tail), "#%02x", sum);
	assert_int_equal(feed_str(&f, tail), RSP_EV_OVERSIZE);
	assert_true(f.len <= RSP_MAX_PAYLOAD);
	/* a run-length count cannot overflow the buffer either */
	rsp_framer_init(&f);
	rsp_framer_feed(&f, '$');
	for (int i = 0; i < 400; i++) {
		rsp_framer_feed(&f, 'x');
		rsp_framer_feed(&f, '*');
		rsp_framer_feed(&f, '~');
	}
	assert_true(f.len <= RSP_MAX_PAYLOAD);
	assert_true(f.overflow);
}

static void test_cursor(void **state)
{
	struct rsp_cursor c;
	uint64_t v;
	const char *s = "ffffffffffffffff,10:x";
	const char *t = "1ffffffffffffffff";

	(void)state;
	rsp_cursor_init(&c, s, strlen(s));
	assert_int_equal(rsp_get_hex(&c, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(rsp_expect(&c, ','), 0);
	assert_int_equal(rsp_get_hex(&c, &v), 0);
	assert_int_equal(v, 16);
	assert_true(rsp_expect(&c, ',') < 0);
	assert_true(rsp_skip(&c, ":x"));
	assert_true(rsp_at_end(&c));
	assert_true(rsp_get_hex(&c, &v) < 0);
	rsp_cursor_init(&c, t, strlen(t));
	assert_true(rsp_get_hex(&c, &v) < 0);	/* 17 digits: out of range */
}

static void test_regs(void **state)
{
	struct target_regs r = { 0 }, back = { 0 };
	struct kp_buf b;
	size_t xlen;
	const char *xml = rsp_x86_target_xml(&xlen);

	(void)state;
	for (int i = 0; i < TREG_NGPR; i++)
		r.gpr[i] = 0x1111111111111111ull * (uint64_t)(i % 15 + 1);
	r.rip = 0xffffffff81000000ull;
	r.rflags = 0x246;
	r.cs = 0x10;
	r.cr3 = 0x1000;
	r.efer = 0xd01;
	kp_buf_init(&b);
	assert_int_equal(rsp_x86_regs_encode(&b, &r), 0);
	/* 16*8 + 8 + 4 + 6*4 + 8*10 + 8*4 + 16*16 + 4 + 2*8 + 7*8 bytes */
	assert_int_equal(b.len, 2 * 608);
	assert_memory_equal(b.data + 2 * 128, "00000081ffffffff", 16);	/* rip, little-endian */
	assert_memory_equal(b.data + 2 * 136, "46020000", 8);			/* eflags */
	assert_int_equal(b.data[2 * 164], 'x');					/* st0 unavailable */
	assert_int_equal(rsp_x86_regs_decode(b.data, b.len, &back), 0);
	assert_memory_equal(&back, &r, sizeof(r));
	assert_true(rsp_x86_regs_decode(b.data, b.len - 1, &back) < 0);
	kp_buf_reset(&b);
	assert_int_equal(rsp_x86_reg_encode(&b, 16, &r), 0);
	assert_string_equal(b.data, "00000081ffffffff");
	assert_int_equal(rsp_x86_reg_decode(16, "efbeadde00000000", 16, &back), 0);
	assert_true(back.rip == 0xdeadbeef);
	assert_true(rsp_x86_reg_decode(24, "00000000000000000000", 20, &back) < 0);
	assert_true(rsp_x86_reg_encode(&b, rsp_x86_nregs(), &r) < 0);
	kp_buf_release(&b);
	assert_non_null(strstr(xml, "<architecture>i386:x86-64</architecture>"));
	assert_non_null(strstr(xml, "name=\"cr3\""));
	assert_null(strchr(xml, '$'));
	assert_null(strchr(xml, '#'));
}

static void test_parse_addr(void **state)
{
	struct gdbstub_addr a;

	(void)state;
	assert_int_equal(gdbstub_parse_addr("tcp::1234", &a), 0);
	assert_string_equal(a.host, "127.0.0.1");
	assert_string_equal(a.port, "1234");
	assert_int_equal(gdbstub_parse_addr("tcp:0.0.0.0:99", &a), 0);
	assert_string_equal(a.host, "0.0.0.0");
	assert_int_equal(gdbstub_parse_addr("localhost:1", &a), 0);
	assert_string_equal(a.host, "localhost");
	assert_int_equal(gdbstub_parse_addr("4321", &a), 0);
	assert_string_equal(a.port, "4321");
	assert_int_equal(gdbstub_parse_addr("[::1]:5", &a), 0);
	assert_string_equal(a.host, "::1");
	assert_int_equal(gdbstub_parse_addr("unix:/tmp/x.sock", &a), 0);
	assert_true(a.is_unix);
	assert_true(gdbstub_parse_addr("tcp:host:99999", &a) < 0);
	assert_true(gdbstub_parse_addr("tcp:host:", &a) < 0);
	assert_true(gdbstub_parse_addr("unix:", &a) < 0);
	assert_true(gdbstub_parse_addr("", &a) < 0);
	assert_true(gdbstub_parse_addr("host:12ab", &a) < 0);
}

/* ---- the server over a socketpair ----------------------------------------------------- */

struct conn {
	struct fake *f;
	struct gdbstub *gs;
	int fd;		/* the test's end */
	int sfd;	/* the server's end (closed by the server) */
	pthread_t th;
	struct rsp_framer fr;
};

static void *serve(void *arg)
{
	struct conn *c = arg;

	gdbstub_serve_fd(c->gs, c->sfd);
	return NULL;
}

static int mon_hello(void *ctx, struct target *t, const char *args, struct kp_buf *out)
{
	(void)t;
	return kp_buf_printf(out, "hello %s from %s\n", args, (const char *)ctx);
}

static struct fake *fake_new(void)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->t.ops = &fake_ops;
	pthread_mutex_init(&f->lock, NULL);
	f->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	f->stopped = true;
	for (int i = 0; i < 2; i++) {
		f->regs[i].rip = 0x1000 + 0x10 * (uint64_t)i;
		f->regs[i].gpr[TREG_RSP] = 0x2ff0;
	}
	for (int i = 0; i < FAKE_SIZE; i++)
		f->mem[i] = (uint8_t)i;
	return f;
}

static void fake_free(struct fake *f)
{
	close(f->efd);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

/* The stub serving FAKE (running or halted as it is) over a socketpair. */
static struct conn *conn_open_on(struct fake *fake)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct gdbstub_opts o = { .quiet = true };
	int sv[2];

	assert_non_null(c);
	c->f = fake;
	c->gs = gdbstub_new(&c->f->t, &o);
	assert_non_null(c->gs);
	assert_int_equal(gdbstub_add_monitor(c->gs, "hello", "greets", mon_hello, "test"), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	c->sfd = sv[0];
	c->fd = sv[1];
	rsp_framer_init(&c->fr);
	assert_int_equal(pthread_create(&c->th, NULL, serve, c), 0);
	return c;
}

static struct conn *conn_open(void)
{
	return conn_open_on(fake_new());
}

static void conn_close(struct conn *c)
{
	close(c->fd);
	pthread_join(c->th, NULL);
	gdbstub_free(c->gs);
	fake_free(c->f);
	free(c);
}

/* Read one packet (acknowledging it); "" on timeout.  Acks are skipped. */
static const char *recv_packet(struct conn *c, int timeout_ms)
{
	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		uint8_t ch;

		if (poll(&p, 1, timeout_ms) <= 0)
			return NULL;
		if (read(c->fd, &ch, 1) != 1)
			return NULL;
		if (rsp_framer_feed(&c->fr, ch) == RSP_EV_PACKET) {
			/* the stub may already be gone (after D): no SIGPIPE for that */
			send(c->fd, "+", 1, MSG_NOSIGNAL);
			return c->fr.buf;
		}
	}
}

static void send_packet(struct conn *c, const char *payload, size_t len)
{
	struct kp_buf b;

	kp_buf_init(&b);
	rsp_frame(&b, payload, len);
	assert_int_equal(write(c->fd, b.data, b.len), (ssize_t)b.len);
	kp_buf_release(&b);
}

static const char *xchg(struct conn *c, const char *payload)
{
	send_packet(c, payload, strlen(payload));
	return recv_packet(c, 5000);
}

/* Send a resuming packet and wait until the target saw the resume, so that events the
 * test posts afterwards arrive while the stub waits for them. */
static void send_resume(struct conn *c, const char *payload)
{
	int before;

	pthread_mutex_lock(&c->f->lock);
	before = c->f->resumes;
	pthread_mutex_unlock(&c->f->lock);
	send_packet(c, payload, strlen(payload));
	for (int i = 0; i < 5000; i++) {
		int now;

		pthread_mutex_lock(&c->f->lock);
		now = c->f->resumes;
		pthread_mutex_unlock(&c->f->lock);
		if (now != before)
			return;
		usleep(1000);
	}
	fail_msg("the stub did not resume the target for '%s'", payload);
}

#define assert_reply(c, req, want) assert_string_equal(xchg(c, req), want)

static void test_server_queries(void **state)
{
	struct conn *c = conn_open();
	struct kp_buf xml;
	size_t xlen;
	const char *r;

	(void)state;
	r = xchg(c, "qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386");
	assert_non_null(strstr(r, "PacketSize=4000"));
	assert_non_null(strstr(r, "qXfer:features:read+"));
	assert_non_null(strstr(r, "QStartNoAckMode+"));
	assert_reply(c, "vMustReplyEmpty", "");
	assert_reply(c, "qTStatus", "");
	assert_reply(c, "qfThreadInfo", "m1,2");
	assert_reply(c, "qsThreadInfo", "l");
	assert_reply(c, "qAttached", "1");
	assert_reply(c, "qC", "QC1");
	assert_reply(c, "?", "T05thread:1;");
	assert_reply(c, "vCont?", "vCont;c;C;s;S;t");
	assert_reply(c, "T2", "OK");
	assert_reply(c, "T3", "E03");
	assert_reply(c, "T", "E03");
	/* "CPU#1 [halted ]" in hex */
	r = xchg(c, "qThreadExtraInfo,2");
	assert_string_equal(r, "4350552331205b68616c746564205d");
	/* target.xml read in small pieces, joined back */
	kp_buf_init(&xml);
	for (size_t off = 0;; off += 100) {
		char q[64];

		snprintf(q, sizeof(q), "qXfer:features:read:target.xml:%zx,64", off);
		r = xchg(c, q);
		assert_true(r[0] == 'm' || r[0] == 'l');
		kp_buf_puts(&xml, r + 1);
		if (r[0] == 'l')
			break;
	}
	assert_string_equal(xml.data, rsp_x86_target_xml(&xlen));
	kp_buf_release(&xml);
	assert_reply(c, "qXfer:features:read:other.xml:0,10", "E00");
	assert_reply(c, "qXfer:features:read:target.xml:zz", "E22");
	/* no-ack mode: after the OK, replies arrive without '+' */
	assert_reply(c, "QStartNoAckMode", "OK");
	assert_reply(c, "qC", "QC1");
	conn_close(c);
}

static void test_server_regs_mem(void **state)
{
	struct conn *c = conn_open();
	const char *r;
	char big[64];

	(void)state;
	r = xchg(c, "g");
	assert_int_equal(strlen(r), 2 * 608);
	assert_memory_equal(r + 2 * 128, "0010000000000000", 16);
	assert_reply(c, "Hg2", "OK");
	assert_reply(c, "p10", "1010000000000000");
	assert_reply(c, "P10=2010000000000000", "OK");
	assert_true(c->f->regs[1].rip == 0x1020);
	assert_reply(c, "p18", "xxxxxxxxxxxxxxxxxxxx");
	assert_reply(c, "P18=00000000000000000000", "E22");
	assert_reply(c, "p999", "E22");
	assert_reply(c, "Hg9", "E22");
	assert_reply(c, "Hx1", "E22");
	assert_reply(c, "Hg0", "OK");
	/* memory: mapped, partly mapped, unmapped, wrapping, huge */
	assert_reply(c, "m1000,4", "00010203");
	assert_reply(c, "m2ffe,8", "feff");
	assert_reply(c, "mffffffffffff0000,100", "E14");
	assert_reply(c, "mffffffffffffffff,ffffffffffffffff", "E14");
	r = xchg(c, "m1000,ffffffff");
	assert_int_equal(strlen(r), RSP_MAX_PAYLOAD);
	assert_reply(c, "m1000,0", "");
	assert_reply(c, "mzz,4", "E22");
	assert_reply(c, "m1000", "E22");
	assert_reply(c, "m1000,4,", "E22");
	assert_reply(c, "M1000,2:abcd", "OK");
	assert_int_equal(c->f->mem[1], 0xcd);
	assert_reply(c, "M1000,2:abc", "E22");
	assert_reply(c, "M1000,2:abzz", "E22");
	assert_reply(c, "M0,1:00", "E14");
	assert_reply(c, "M2fff,2:0000", "E14");
	/* X with escaped '#' (0x23 -> "}\x03") and a zero-length probe */
	send_packet(c, "X1004,2:}\x03Z", 11);
	assert_string_equal(recv_packet(c, 5000), "OK");
	assert_int_equal(c->f->mem[4], 0x23);
	assert_int_equal(c->f->mem[5], 'Z');
	assert_reply(c, "X1000,0:", "OK");
	assert_reply(c, "X1000,3:ab", "E22");
	snprintf(big, sizeof(big), "M1000,%x:00", RSP_MAX_PAYLOAD);
	assert_reply(c, big, "E22");
	conn_close(c);
}

static void test_server_exec(void **state)
{
	struct conn *c = conn_open();
	const char *r;

	(void)state;
	assert_int_equal(gdbstub_wait_resumed(c->gs, 10), -ETIMEDOUT);
	/* stepping vCPU 1 keeps vCPU 2 halted */
	assert_reply(c, "vCont;s:1", "T05thread:1;");
	assert_int_equal(c->f->last_act[0], TARGET_RESUME_STEP);
	assert_int_equal(c->f->last_act[1], TARGET_RESUME_STAY);
	assert_int_equal(gdbstub_wait_resumed(c->gs, 1000), 0);	/* what --gdb-wait needs */
	assert_reply(c, "vCont;s:2;c", "T05thread:2;");
	assert_int_equal(c->f->last_act[0], TARGET_RESUME_CONTINUE);
	assert_int_equal(c->f->last_act[1], TARGET_RESUME_STEP);
	assert_reply(c, "qC", "QC2");	/* the stop reply moved the current thread */
	assert_reply(c, "Hc1", "OK");
	assert_reply(c, "s", "T05thread:1;");
	assert_int_equal(c->f->last_act[1], TARGET_RESUME_STAY);
	assert_reply(c, "vCont;x", "E22");
	assert_reply(c, "vCont;t", "E22");
	assert_reply(c, "vCont;c:9", "E22");
	assert_reply(c, "vCont", "E22");
	/* continue, then interrupt with 0x03 */
	send_packet(c, "vCont;c", 7);
	assert_null(recv_packet(c, 100));
	assert_reply(c, "g", "E16");	/* busy while running */
	assert_int_equal(write(c->fd, "\x03", 1), 1);
	assert_string_equal(recv_packet(c, 5000), "T02thread:1;");
	assert_true(c->f->stopped);
	/* breakpoints: Z0 falls back to a debug register; the fifth fails */
	assert_reply(c, "Z0,1100,1", "OK");
	assert_reply(c, "Z0,1100,1", "OK");	/* same one again: counted, not re-set */
	assert_reply(c, "Z1,1200,1", "OK");
	assert_reply(c, "Z2,1300,8", "OK");
	assert_reply(c, "Z4,1400,4", "OK");
	assert_int_equal(c->f->nbp, 4);
	assert_reply(c, "Z0,1500,1", "E28");
	assert_reply(c, "Z9,1500,1", "");
	assert_reply(c, "Z3,1500,8", "");	/* a kind the target lacks: unsupported */
	assert_reply(c, "Z0,1500", "E22");
	assert_reply(c, "z0,1600,1", "E02");
	/* a breakpoint hit while running: swbreak for a Z0 */
	send_resume(c, "c");
	fake_post(c->f, (struct target_event){ .kind = TARGET_EV_BREAKPOINT, .cpu = 1,
					       .addr = 0x1100 });
	assert_string_equal(recv_packet(c, 5000), "T05thread:2;swbreak:;");
	send_resume(c, "c");
	fake_post(c->f, (struct target_event){ .kind = TARGET_EV_BREAKPOINT, .cpu = 0,
					       .addr = 0x1200 });
	assert_string_equal(recv_packet(c, 5000), "T05thread:1;hwbreak:;");
	send_resume(c, "vCont;c");
	fake_post(c->f, (struct target_event){ .kind = TARGET_EV_WATCHPOINT, .cpu = 0,
					       .addr = 0x1300,
					       .watch_kind = TARGET_WP_WRITE });
	assert_string_equal(recv_packet(c, 5000), "T05thread:1;watch:1300;");
	assert_reply(c, "z0,1100,1", "OK");
	assert_int_equal(c->f->nbp, 4);
	assert_reply(c, "z0,1100,1", "OK");
	assert_int_equal(c->f->nbp, 3);
	/* detach clears what is left and resumes */
	r = xchg(c, "D");
	assert_string_equal(r, "OK");
	assert_int_equal(c->f->nbp, 0);
	assert_false(c->f->stopped);
	conn_close(c);
}

static void test_server_exit_and_monitor(void **state)
{
	struct conn *c = conn_open();
	const char *r;
	char hex[256];
	struct kp_buf b;

	(void)state;
	kp_buf_init(&b);
	rsp_hex_append(&b, "help", 4);
	snprintf(hex, sizeof(hex), "qRcmd,%s", b.data);
	r = xchg(c, hex);
	assert_true(strlen(r) > 0);
	assert_int_equal(r[0] != 'E', 1);
	kp_buf_reset(&b);
	rsp_hex_append(&b, "info cpus", 9);
	snprintf(hex, sizeof(hex), "qRcmd,%s", b.data);
	r = xchg(c, hex);
	{
		char text[512] = { 0 };

		assert_int_equal(rsp_hex_decode(r, strlen(r) / 2, text), 0);
		assert_non_null(strstr(text, "CPU#0 [running] thread 1 pc=0x0000000000001000"));
		assert_non_null(strstr(text, "CPU#1 [halted ] thread 2 pc=0x0000000000001010"));
	}
	kp_buf_reset(&b);
	rsp_hex_append(&b, "hello  world ", 13);
	snprintf(hex, sizeof(hex), "qRcmd,%s", b.data);
	r = xchg(c, hex);
	{
		char text[512] = { 0 };

		assert_int_equal(rsp_hex_decode(r, strlen(r) / 2, text), 0);
		assert_string_equal(text, "hello world from test\n");
	}
	assert_reply(c, "qRcmd,6", "E22");
	assert_reply(c, "qRcmd,zz", "E22");
	kp_buf_release(&b);
	/* the guest exits while running: W, and '?' keeps saying so */
	send_resume(c, "c");
	fake_post(c->f, (struct target_event){ .kind = TARGET_EV_EXITED, .cpu = -1,
					       .exit_status = 3 });
	assert_string_equal(recv_packet(c, 5000), "W03");
	assert_reply(c, "?", "W03");
	assert_reply(c, "c", "W03");
	conn_close(c);
}

/* k: the target is killed and the client hears W00 before the stub hangs up, as from
 * QEMU (lldb waits for that reply); vKill answers OK. */
static void test_server_kill(void **state)
{
	struct conn *c = conn_open();
	uint8_t ch;

	(void)state;
	assert_reply(c, "Z0,1100,1", "OK");
	assert_reply(c, "k", "W00");
	assert_int_equal(c->f->kills, 1);
	assert_int_equal(c->f->nbp, 0);
	/* then the connection ends, not another packet: EOF, or a reset when our ack of the
	 * W00 reached a stub that had already closed */
	{
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		ssize_t n;

		assert_int_equal(poll(&p, 1, 5000), 1);
		n = read(c->fd, &ch, 1);
		assert_true(n == 0 || (n < 0 && errno == ECONNRESET));
	}
	conn_close(c);

	c = conn_open();
	assert_reply(c, "QStartNoAckMode", "OK");
	assert_reply(c, "vKill;1", "OK");
	assert_int_equal(c->f->kills, 1);
	conn_close(c);
}

/* Attaching to a running VM stops it and says so among the features, not with a stop
 * reply nobody asked for (lldb takes that for the ack of its first packet). */
static void test_server_attach_running(void **state)
{
	struct fake *f = fake_new();
	struct conn *c;
	const char *r;

	(void)state;
	f->stopped = false;
	c = conn_open_on(f);
	/* lldb's first packet: the ack comes first, then OK */
	send_packet(c, "QStartNoAckMode", 15);
	{
		char ch = 0;
		struct pollfd p = { .fd = c->fd, .events = POLLIN };

		assert_int_equal(poll(&p, 1, 5000), 1);
		assert_int_equal(read(c->fd, &ch, 1), 1);
		assert_int_equal(ch, '+');
	}
	assert_string_equal(recv_packet(c, 5000), "OK");
	assert_true(fake_is_stopped(&f->t));
	r = xchg(c, "qSupported:multiprocess+");
	assert_non_null(strstr(r, ";" RSP_FEATURE_STOPPED_ON_ATTACH));
	assert_reply(c, "?", "T05thread:1;");
	conn_close(c);
	/* a VM halted already: no such feature */
	c = conn_open();
	r = xchg(c, "qSupported");
	assert_null(strstr(r, RSP_FEATURE_STOPPED_ON_ATTACH));
	conn_close(c);
}

static void test_server_garbage(void **state)
{
	struct conn *c = conn_open();
	char buf[64];
	struct pollfd p = { .events = POLLIN };

	(void)state;
	/* a bad checksum is nacked */
	assert_int_equal(write(c->fd, "$g#00", 5), 5);
	p.fd = c->fd;
	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_int_equal(read(c->fd, buf, 1), 1);
	assert_int_equal(buf[0], '-');
	/* an oversize packet gets an error, and the stub still answers after */
	{
		size_t n = RSP_MAX_PAYLOAD + 10;
		char *big = malloc(n);

		memset(big, 'q', n);
		send_packet(c, big, n);
		free(big);
		assert_string_equal(recv_packet(c, 5000), "E90");
	}
	assert_int_equal(write(c->fd, "\x01\xff noise $abc", 13), 13);
	assert_reply(c, "qC", "QC1");
	assert_reply(c, "zz", "E22");
	assert_reply(c, "Hg", "E22");
	conn_close(c);
}

/* ---- the client against the server, over TCP ----------------------------------------- */

static void test_client(void **state)
{
	struct conn cs = { .f = fake_new() }, *c = &cs;	/* only one stub may own the events */
	struct gdbstub_opts o = { .quiet = true };
	struct gdbstub *gs = gdbstub_new(&c->f->t, &o);
	struct target_event ev;
	struct target_regs r;
	struct target *t;
	uint8_t buf[0x2000], w[4] = { 1, 2, 3, 4 };
	char desc[64];
	int err = 0;

	(void)state;
	assert_int_equal(gdbstub_listen(gs, "tcp:127.0.0.1:0"), 0);
	assert_int_equal(gdbstub_start(gs), 0);
	t = gdbstub_client_connect(gdbstub_address(gs), NULL, &err);
	assert_non_null(t);
	assert_false(gdbstub_client_found_running(t));
	/* left running, the VM is found running by the next client (and stopped for it) */
	assert_int_equal(gdbstub_client_detach(t, true), 0);
	gdbstub_client_close(t);
	assert_false(fake_is_stopped(&c->f->t));
	t = gdbstub_client_connect(gdbstub_address(gs), NULL, &err);
	assert_non_null(t);
	assert_true(gdbstub_client_found_running(t));
	assert_true(fake_is_stopped(&c->f->t));
	assert_int_equal(target_cpu_count(t), 2);
	assert_int_equal(target_cpu_state(t, 0), TARGET_CPU_RUNNING);
	assert_int_equal(target_cpu_state(t, 1), TARGET_CPU_HALTED);
	assert_int_equal(target_describe_cpu(t, 1, desc, sizeof(desc)), 0);
	assert_string_equal(desc, "CPU#1 [halted ]");
	assert_int_equal(target_get_regs(t, 1, &r), 0);
	assert_true(r.rip == 0x1010 && r.gpr[TREG_RSP] == 0x2ff0);
	/* larger than one packet: read in PacketSize-bounded pieces */
	assert_int_equal(target_read_mem(t, 0, 0x1000, buf, 0x2000), 0x2000);
	assert_memory_equal(buf, c->f->mem, 0x2000);
	assert_int_equal(target_read_mem(t, 0, 0x2ff0, buf, 0x100), 0x10);
	assert_int_equal(target_read_mem(t, 0, 0x100000, buf, 8), -EFAULT);
	/* A batch: threads alternating (Hg pipelined with the m packets), a read of several
	 * pieces, one that runs into unmapped memory, one unmapped, one of no thread, and more
	 * packets than one window holds. */
	{
		static uint8_t big[0x2000], small[24][16], part[0x100], none[8], bad[8];
		struct target_read rd[28] = {
			{ .cpu = 1, .addr = 0x1000, .buf = big, .len = sizeof(big) },
			{ .cpu = 0, .addr = 0x2ff0, .buf = part, .len = sizeof(part) },
			{ .cpu = 1, .addr = 0x100000, .buf = none, .len = sizeof(none) },
			{ .cpu = 5, .addr = 0x1000, .buf = bad, .len = sizeof(bad) },
		};

		for (int i = 0; i < 24; i++)
			rd[4 + i] = (struct target_read){ .cpu = i & 1, .addr = 0x1000 + 0x100 * (uint64_t)i,
							  .buf = small[i], .len = 16 };
		assert_non_null(t->ops->read_mem_batch);
		target_read_mem_batch(t, rd, 28);
		assert_int_equal(rd[0].got, 0x2000);
		assert_memory_equal(big, c->f->mem, 0x2000);
		assert_int_equal(rd[1].got, 0x10);
		assert_memory_equal(part, c->f->mem + 0x1ff0, 0x10);
		assert_int_equal(rd[2].got, -EFAULT);
		assert_int_equal(rd[3].got, -EINVAL);
		for (int i = 0; i < 24; i++) {
			assert_int_equal(rd[4 + i].got, 16);
			assert_memory_equal(small[i], c->f->mem + 0x100 * i, 16);
		}
		/* Single reads after a batch still go to the right thread. */
		assert_int_equal(target_read_mem(t, 1, 0x1000, buf, 16), 16);
		assert_memory_equal(buf, c->f->mem, 16);
	}
	assert_int_equal(target_write_mem(t, 1, 0x1100, w, 4), 4);
	assert_memory_equal(c->f->mem + 0x100, w, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(t->ops->set_bp(t, TARGET_BP_HW, 0x1100 + (uint64_t)i, 1), 0);
	assert_int_equal(t->ops->set_bp(t, TARGET_BP_HW, 0x1200, 1), -ENOSPC);
	assert_int_equal(t->ops->clear_bp(t, TARGET_BP_HW, 0x1100, 1), 0);
	/* run, interrupt */
	assert_int_equal(target_resume(t, NULL), 0);
	assert_int_equal(target_is_stopped(t), 0);
	assert_int_equal(target_get_regs(t, 0, &r), -EBUSY);
	assert_int_equal(target_stop(t), 0);
	assert_int_equal(target_is_stopped(t), 1);
	assert_int_equal(target_poll_event(t, &ev), -EAGAIN);
	/* step one vCPU: the stub's stop reply becomes an event on the socket */
	{
		enum target_resume_action a[2] = { TARGET_RESUME_STAY, TARGET_RESUME_STEP };
		struct pollfd p = { .fd = target_event_fd(t), .events = POLLIN };

		assert_int_equal(target_resume(t, a), 0);
		assert_int_equal(poll(&p, 1, 5000), 1);
		while (target_poll_event(t, &ev) == -EAGAIN)
			assert_int_equal(poll(&p, 1, 5000), 1);
		assert_int_equal(ev.kind, TARGET_EV_STEP);
		assert_int_equal(ev.cpu, 1);
		assert_int_equal(c->f->last_act[0], TARGET_RESUME_STAY);
	}
	/* the guest exits while running */
	assert_int_equal(target_resume(t, NULL), 0);
	while (fake_is_stopped(&c->f->t))
		usleep(1000);
	fake_post(c->f, (struct target_event){ .kind = TARGET_EV_EXITED, .cpu = -1,
					       .exit_status = 7 });
	{
		struct pollfd p = { .fd = target_event_fd(t), .events = POLLIN };

		assert_int_equal(poll(&p, 1, 5000), 1);
		while (target_poll_event(t, &ev) == -EAGAIN)
			assert_int_equal(poll(&p, 1, 5000), 1);
	}
	assert_int_equal(ev.kind, TARGET_EV_EXITED);
	assert_int_equal(ev.exit_status, 7);
	assert_int_equal(target_get_regs(t, 0, &r), -ESRCH);
	assert_int_equal(target_resume(t, NULL), -ESRCH);
	gdbstub_client_close(t);
	gdbstub_free(gs);
	/* nobody listening */
	assert_null(gdbstub_client_connect("tcp:127.0.0.1:1", NULL, &err));
	assert_int_equal(err, -ECONNREFUSED);
	assert_null(gdbstub_client_connect("nonsense:", NULL, &err));
	fake_free(c->f);
}

/* A scripted stub that answers as QEMU 7.2 does: an unsolicited stop reply on connect,
 * ack mode only, one thread per qfThreadInfo/qsThreadInfo reply, a target.xml that
 * includes another annex and comments registers out, explicit regnums. */
struct script {
	int lfd;
	char path[64];
	bool multiprocess;	/* thread ids as pPID.TID, as QEMU keeps them once a gdb asked */
	bool paused;		/* a VM paused already: no stop reply on connect */
};

static void *qemu_like(void *arg)
{
	struct script *sc = arg;
	static struct rsp_framer fr;
	struct kp_buf out;
	int fd = accept(sc->lfd, NULL, NULL), nth = 0;
	uint8_t ch;

	kp_buf_init(&out);
	rsp_framer_init(&fr);
	/* sent ahead of the first reply, as QEMU's arrives when it stops the VM */
	if (!sc->paused)
		kp_buf_puts(&out, sc->multiprocess ? "$T02thread:p01.01;#03" : "$T02thread:01;#04");
	while (fd >= 0 && read(fd, &ch, 1) == 1) {
		const char *r = NULL;

		if (rsp_framer_feed(&fr, ch) != RSP_EV_PACKET)
			continue;
		if (!strncmp(fr.buf, "qSupported", 10))
			r = "PacketSize=1000;qXfer:features:read+;vContSupported+";
		else if (!strcmp(fr.buf, "vCont?"))
			r = "vCont;c;C;s;S";
		else if (!strcmp(fr.buf, "?"))
			r = "T05thread:01;";
		else if (!strcmp(fr.buf, "qfThreadInfo"))
			r = sc->multiprocess ? "mp01.01" : "m01";
		else if (!strcmp(fr.buf, "qsThreadInfo"))
			r = nth++ ? "l" : sc->multiprocess ? "mp01.02" : "m02";
		else if (!strncmp(fr.buf, "qXfer:features:read:target.xml:", 31))
			r = "l<target><xi:include href=\"a.xml\"/></target>";
		else if (!strncmp(fr.buf, "qXfer:features:read:a.xml:", 26))
			r = "l<feature><reg name=\"rax\" bitsize=\"64\" regnum=\"0\"/>"
			    "<!-- <reg name=\"junk\" bitsize=\"64\"/> -->"
			    "<reg name=\"rip\" bitsize=\"64\"/><reg name=\"eflags\" bitsize=\"32\"/>"
			    "<reg name=\"cr3\" bitsize=\"64\" regnum=\"5\"/>"
			    "<reg name=\"cs\" bitsize=\"32\" regnum=\"3\"/></feature>";
		else if (!strncmp(fr.buf, "Hg", 2))
			r = (fr.buf[2] == 'p') == sc->multiprocess ? "OK" : "E22";
		else if (!strcmp(fr.buf, "g"))
			r = "1100000000000000" "00000081ffffffff" "46020000" "10000000"
			    "0040230100000000";
		else
			r = "";
		kp_buf_putc(&out, '+');
		rsp_frame(&out, r, strlen(r));
		if (write(fd, out.data, out.len) != (ssize_t)out.len)
			break;
		kp_buf_reset(&out);
	}
	kp_buf_release(&out);
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void client_qemu_like(bool multiprocess, bool paused)
{
	struct script sc = { .multiprocess = multiprocess, .paused = paused };
	struct gdbstub_addr a;
	struct target_regs r;
	struct target *t;
	pthread_t th;
	char addr[80];
	int err = 0, fd;

	snprintf(sc.path, sizeof(sc.path), "/tmp/kprof-test-gdb.%d.sock", (int)getpid());
	snprintf(addr, sizeof(addr), "unix:%s", sc.path);
	assert_int_equal(gdbstub_parse_addr(addr, &a), 0);
	unlink(sc.path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	{
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		memcpy(sun.sun_path, sc.path, strlen(sc.path));
		assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	}
	assert_int_equal(listen(fd, 1), 0);
	sc.lfd = fd;
	assert_int_equal(pthread_create(&th, NULL, qemu_like, &sc), 0);
	t = gdbstub_client_connect(addr, NULL, &err);
	assert_non_null(t);
	assert_int_equal(target_cpu_count(t), 2);
	assert_int_equal(target_get_regs(t, 1, &r), 0);
	assert_int_equal(r.gpr[TREG_RAX], 0x11);
	assert_true(r.rip == 0xffffffff81000000ull);
	assert_int_equal(r.rflags, 0x246);
	assert_int_equal(r.cs, 0x10);
	assert_int_equal(r.cr3, 0x1234000);
	assert_int_equal(target_get_regs(t, 0, &r), 0);	/* cached from the same batch */
	assert_int_equal(r.gpr[TREG_RAX], 0x11);
	assert_int_equal(gdbstub_client_found_running(t), !paused);
	gdbstub_client_close(t);
	pthread_join(th, NULL);
	close(fd);
	unlink(sc.path);
}

static void test_client_qemu_like(void **state)
{
	(void)state;
	client_qemu_like(false, false);
}

/* QEMU after a gdb that negotiated multiprocess+ has left: pPID.TID ids, VM paused. */
static void test_client_qemu_multiprocess_paused(void **state)
{
	(void)state;
	client_qemu_like(true, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_framer),
		cmocka_unit_test(test_framer_oversize),
		cmocka_unit_test(test_cursor),
		cmocka_unit_test(test_regs),
		cmocka_unit_test(test_parse_addr),
		cmocka_unit_test(test_server_queries),
		cmocka_unit_test(test_server_regs_mem),
		cmocka_unit_test(test_server_exec),
		cmocka_unit_test(test_server_exit_and_monitor),
		cmocka_unit_test(test_server_kill),
		cmocka_unit_test(test_server_attach_running),
		cmocka_unit_test(test_server_garbage),
		cmocka_unit_test(test_client),
		cmocka_unit_test(test_client_qemu_like),
		cmocka_unit_test(test_client_qemu_multiprocess_paused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
