/* libFuzzer: RSP bytes from a hostile client -> framer -> the stub's packet handlers,
 * against a 4 KiB in-memory target (no sockets: replies go nowhere). */
#include "gdbstub/server_internal.h"

#include <errno.h>
#include <string.h>

static uint8_t mem[4096];
static struct target_regs regs[2];

static int one(struct target *t) { (void)t; return 2; }
static int state(struct target *t, int c) { (void)t; return c; }
static int nop(struct target *t) { (void)t; return 0; }
static int resume(struct target *t, const enum target_resume_action *a) { (void)t; (void)a; return 0; }
static int none(struct target *t, struct target_event *e) { (void)t; (void)e; return -EAGAIN; }
static int getr(struct target *t, int c, struct target_regs *r) { (void)t; *r = regs[c & 1]; return 0; }
static int setr(struct target *t, int c, const struct target_regs *r) { (void)t; regs[c & 1] = *r; return 0; }
static ssize_t rw(uint64_t a, void *b, size_t n, int w)
{
	n = a >= sizeof(mem) ? 0 : n < sizeof(mem) - a ? n : sizeof(mem) - a;
	n ? (void)(w ? memcpy(mem + a, b, n) : memcpy(b, mem + a, n)) : (void)0;
	return n ? (ssize_t)n : -EFAULT;
}
static ssize_t rd(struct target *t, int c, uint64_t a, void *b, size_t n) { (void)t; (void)c; return rw(a, b, n, 0); }
static ssize_t wr(struct target *t, int c, uint64_t a, const void *b, size_t n) { (void)t; (void)c; return rw(a, (void *)b, n, 1); }
static int bp(struct target *t, enum target_bp_kind k, uint64_t a, uint64_t l) { (void)t; (void)a; (void)l; return k ? 0 : -ENOTSUP; }

static const struct target_ops ops = {
	.name = "fuzz", .cpu_count = one, .cpu_state = state, .stop = nop, .resume = resume,
	.is_stopped = nop, .poll_event = none, .get_regs = getr, .set_regs = setr, .read_mem = rd,
	.write_mem = wr, .set_bp = bp, .clear_bp = bp, .kill = nop,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct target t = { &ops };
	struct gdbstub_opts o = { .quiet = true };
	struct gdbstub *gs = gdbstub_new(&t, &o);
	struct kp_buf reply = { 0 };

	for (size_t i = 0; gs && i < size; i++)
		if (rsp_framer_feed(&gs->fr, data[i]) == RSP_EV_PACKET) {
			gs->running = false;	/* the fake target stops at once */
			gs_handle_packet(gs, gs->fr.buf, gs->fr.len, &reply);
		}
	kp_buf_release(&reply);
	gdbstub_free(gs);
	return 0;
}
