/* The gdb stub client's target operations (target/target.h) over the remote protocol.
 *
 * All-stop, like the server: while the peer runs, the only thing it sends is a stop
 * reply, so the socket itself is the event fd; while it is stopped, every request gets
 * exactly one reply.  No thread is needed.
 */
#include "gdbstub/client_internal.h"
#include "gdbstub/rsp_sock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct gclient *GC(struct target *t)
{
	return (struct gclient *)t;
}

int gc_note_gone(struct gclient *c, int e)
{
	if (e == -ECONNRESET || e == -EPIPE || e == -ETIMEDOUT) {
		c->ended = true;
		c->end_ev.kind = TARGET_EV_GONE;
		c->end_ev.cpu = -1;
		snprintf(c->end_ev.message, sizeof(c->end_ev.message), "%s",
			 e == -ETIMEDOUT ? "the gdb stub stopped answering" :
					   "the gdb stub closed the connection");
	}
	return e;
}

/* What a request needs: a stub still there and a stopped target (0), else -ESRCH / -EBUSY. */
static int stopped(const struct gclient *c)
{
	return c->ended ? -ESRCH : c->running ? -EBUSY : 0;
}

/* ... and a thread of a CPU the stub has: -EINVAL for any other cpu. */
static int stopped_cpu(const struct gclient *c, int cpu)
{
	return cpu < 0 || cpu >= c->ncpu ? -EINVAL : stopped(c);
}

static int select_thread(struct gclient *c, int cpu)
{
	char id[40];
	int e;

	if ((e = stopped_cpu(c, cpu)))
		return e;
	if (c->g_tid == c->tids[cpu])
		return 0;
	e = gc_request(c, "Hg%s", gc_tid_str(c, c->tids[cpu], id));
	if (!e)
		e = gc_reply_status(c);
	if (!e)
		c->g_tid = c->tids[cpu];
	return gc_note_gone(c, e);
}

static int gc_cpu_count(struct target *t)
{
	return GC(t)->ncpu;
}

static int gc_describe(struct target *t, int cpu, char *buf, size_t len)
{
	struct gclient *c = GC(t);
	char id[40];
	size_t n;
	int e;

	if (cpu < 0 || cpu >= c->ncpu || len == 0)
		return -EINVAL;
	if (c->running || c->ended)
		return -EBUSY;
	e = gc_request(c, "qThreadExtraInfo,%s", gc_tid_str(c, c->tids[cpu], id));
	if (e)
		return gc_note_gone(c, e);
	n = c->reply.len / 2;
	if (n >= len)
		n = len - 1;
	if (!c->reply.len || c->reply.data[0] == 'E' || rsp_hex_decode(c->reply.data, n, buf))
		return -ENOTSUP;	/* threads without names */
	buf[n] = 0;
	return 0;
}

static int gc_cpu_state(struct target *t, int cpu)
{
	char desc[128];

	/* QEMU names threads "CPU#0 [running]" / "[halted ]"; a stub that does not is
	 * taken as running. */
	if (gc_describe(t, cpu, desc, sizeof(desc)) == 0 && strstr(desc, "[halted"))
		return TARGET_CPU_HALTED;
	return TARGET_CPU_RUNNING;
}

static void end_with(struct gclient *c, const struct target_event *ev)
{
	c->ended = true;
	c->end_ev = *ev;
}

static int stop_op(struct target *t)
{
	struct gclient *c = GC(t);
	struct target_event ev;
	int e;

	if (!c->running || c->ended)
		return 0;
	if (kp_buf_putc(&c->wq, 0x03) || gc_flush(c))
		return gc_note_gone(c, -EPIPE);
	for (;;) {
		e = gc_recv(c, c->timeout_ms);
		if (e)
			return gc_note_gone(c, e);
		if (gc_parse_stop(c, c->reply.data, c->reply.len, &ev))
			break;	/* anything else ('O' console output) is not ours to show */
	}
	c->running = false;
	c->g_tid = 0;	/* a stop reply may switch the stub's current thread */
	if (ev.kind == TARGET_EV_EXITED || ev.kind == TARGET_EV_GONE) {
		end_with(c, &ev);
		return -ESRCH;
	}
	return 0;
}

/* The operations count their wire traffic under their own name (counters). */
static int gc_stop(struct target *t)
{
	int e;

	GC(t)->op = GDBSTUB_OP_STOP;
	e = stop_op(t);
	GC(t)->op = GDBSTUB_OP_OTHER;
	return e;
}

static int resume_op(struct target *t, const enum target_resume_action *a)
{
	struct gclient *c = GC(t);
	struct kp_buf b;
	char id[40];
	int nstep = 0, step_cpu = -1, e;

	if (c->ended)
		return -ESRCH;
	if (c->running)
		return 0;
	kp_buf_init(&b);
	if (!a) {
		kp_buf_puts(&b, c->vcont ? "vCont;c" : "c");
	} else if (c->vcont) {
		kp_buf_puts(&b, "vCont");
		for (int i = 0; i < c->ncpu; i++)
			if (a[i] != TARGET_RESUME_STAY)
				kp_buf_printf(&b, ";%c:%s", a[i] == TARGET_RESUME_STEP ? 's' : 'c',
					      gc_tid_str(c, c->tids[i], id));
	} else {
		for (int i = 0; i < c->ncpu; i++)
			if (a[i] == TARGET_RESUME_STEP) {
				nstep++;
				step_cpu = i;
			}
		if (nstep > 1) {
			kp_buf_release(&b);
			return -ENOTSUP;	/* plain 's' steps one thread */
		}
		if (step_cpu >= 0) {
			e = gc_request(c, "Hc%s", gc_tid_str(c, c->tids[step_cpu], id));
			if (e || (e = gc_reply_status(c))) {
				kp_buf_release(&b);
				return gc_note_gone(c, e);
			}
		}
		kp_buf_puts(&b, step_cpu >= 0 ? "s" : "c");
	}
	e = gc_send(c, b.data, b.len);
	if (!e)
		e = gc_flush(c);
	kp_buf_release(&b);
	if (e)
		return gc_note_gone(c, e);
	c->running = true;
	memset(c->regs_valid, 0, sizeof(c->regs_valid));
	return 0;
}

static int gc_resume(struct target *t, const enum target_resume_action *a)
{
	int e;

	GC(t)->op = GDBSTUB_OP_RESUME;
	e = resume_op(t, a);
	GC(t)->op = GDBSTUB_OP_OTHER;
	return e;
}

static int gc_is_stopped(struct target *t)
{
	return !GC(t)->running;
}

static int gc_event_fd(struct target *t)
{
	return GC(t)->fd;
}

static int gc_poll_event(struct target *t, struct target_event *ev)
{
	struct gclient *c = GC(t);
	int e;

	if (c->ended) {
		if (c->end_reported)
			return -EAGAIN;
		c->end_reported = true;
		*ev = c->end_ev;
		return 0;
	}
	if (!c->running)
		return -EAGAIN;
	/* Only a stop reply can come now; wait for no more than what is already there. */
	e = gc_recv(c, 0);
	if (e == -ETIMEDOUT)
		return -EAGAIN;
	if (e) {
		gc_note_gone(c, e);
		return gc_poll_event(t, ev);
	}
	if (!gc_parse_stop(c, c->reply.data, c->reply.len, ev))
		return -EAGAIN;
	c->running = false;
	c->g_tid = 0;
	if (ev->kind == TARGET_EV_EXITED || ev->kind == TARGET_EV_GONE) {
		end_with(c, ev);
		c->end_reported = true;
	}
	return 0;
}

size_t gc_mem_chunk(const struct gclient *c)
{
	size_t n = (c->packet_size - 32) / 2;

	return n < 16 ? 16 : n;
}

/* The piece of [base, base + len) at off: a chunk, cut at a page boundary, because a stub
 * refuses a whole m packet when any byte of it is unmapped (a kernel stack's top is often in
 * the window, the unmapped guard page just above it). */
#define GC_PAGE 4096u

static size_t piece(const struct gclient *c, uint64_t base, size_t off, size_t len)
{
	size_t to_page = GC_PAGE - (size_t)((base + off) & (GC_PAGE - 1));

	return KP_MIN(KP_MIN(gc_mem_chunk(c), len - off), to_page);
}

/* Queue m packets for [base, base + len), in pieces. */
static int send_pieces(struct gclient *c, uint64_t base, size_t len)
{
	int e = 0;

	for (size_t off = 0, n; off < len && !e; off += n) {
		n = piece(c, base, off, len);
		e = gc_sendf(c, "m%llx,%zx", (unsigned long long)(base + off), n);
	}
	return e;
}

/* Read the replies to send_pieces(base, len) into dst; *got bytes are good from the start,
 * *cut when a piece was refused or short (an unmapped page: nothing readable beyond).  Every
 * reply is read, also after the cut.  discard: keep nothing (the thread was not selected). */
static int read_pieces(struct gclient *c, uint64_t base, size_t len, uint8_t *dst, bool discard,
		       size_t *got, bool *cut)
{
	size_t want;
	int e = 0;

	*got = 0;
	*cut = discard;
	for (size_t off = 0; off < len && !e; off += want) {
		size_t n;

		want = piece(c, base, off, len);
		e = gc_reply(c);
		if (e || *cut)
			continue;
		if (!c->reply.len || c->reply.data[0] == 'E' || c->reply.len % 2) {
			*cut = true;
			continue;
		}
		n = KP_MIN(c->reply.len / 2, want);
		if (rsp_hex_decode(c->reply.data, n, dst + *got)) {
			*cut = true;
			continue;
		}
		*got += n;
		*cut = n < want;
	}
	if (discard)
		*got = 0;
	return e;
}

static bool kernel_stack(const struct gclient *c, int cpu)
{
	return c->regs_valid[cpu] && (c->regs[cpu].cs & 3) != 3;	/* user mode: none to read */
}

/* Whether the window read ahead for cpu serves its stack: it holds rsp and the bytes above it
 * this thread's reads are expected to need, or everything readable above it. */
static bool window_holds_stack(const struct gclient *c, int cpu)
{
	uint64_t rsp = c->regs[cpu].gpr[TREG_RSP], base = c->pf_base[cpu];

	if (!kernel_stack(c, cpu) || rsp < base || rsp - base >= c->pf_len[cpu])
		return false;
	return c->pf_cut[cpu] || c->pf_len[cpu] - (rsp - base) >= c->pf_want[cpu];
}

/* How much of a thread's stack to read ahead: what the reads of its last stop reached above
 * rsp, and a quarter more (a stack seldom grows much between samples), at most the prefetch
 * the client was opened with.  Reading less is reading what the unwinder does not need. */
static void size_window(struct gclient *c, int cpu)
{
	size_t need = c->pf_need[cpu];

	if (need)
		c->pf_want[cpu] = KP_MAX((size_t)512, KP_MIN(need + need / 4 + 128, c->prefetch));
	c->pf_need[cpu] = 0;
}

/* The bytes below a guessed rsp a window starts at: the stack pointer moves both ways. */
static size_t window_below(const struct gclient *c)
{
	return KP_MIN(gc_mem_chunk(c) / 2, (size_t)512);
}

/* A guessed window's size: the bytes wanted and room for rsp to move either way. */
static size_t window_size(const struct gclient *c, int cpu)
{
	return KP_MIN(c->pf_want[cpu] + 2 * window_below(c), c->pf_stride);
}

/* After a register batch, for the threads whose stack the guessed window missed: Hg and the m
 * packets for [rsp, rsp + the bytes wanted) of each, all back to back, then every reply in order (one
 * more round trip). */
static int prefetch_stacks(struct gclient *c, int first, int n)
{
	char id[40];
	int e = 0;

	for (int i = 0; i < n && !e; i++) {
		int cpu = first + i;

		if (!kernel_stack(c, cpu) || c->pf_hit[cpu])
			continue;
		e = gc_sendf(c, "Hg%s", gc_tid_str(c, c->tids[cpu], id));
		if (!e)
			e = send_pieces(c, c->regs[cpu].gpr[TREG_RSP], c->pf_want[cpu]);
	}
	for (int i = 0; i < n && !e; i++) {
		int cpu = first + i;
		bool refused;

		if (!kernel_stack(c, cpu) || c->pf_hit[cpu])
			continue;
		e = gc_reply(c);
		refused = e || gc_reply_status(c) != 0;	/* Hg refused: keep nothing */
		if (!refused)
			c->g_tid = c->tids[cpu];
		c->pf_base[cpu] = c->regs[cpu].gpr[TREG_RSP];
		if (!e)
			e = read_pieces(c, c->pf_base[cpu], c->pf_want[cpu],
					c->pf_buf + (size_t)cpu * c->pf_stride, refused,
					&c->pf_len[cpu], &c->pf_cut[cpu]);
	}
	return e;
}

/* Registers of threads first..first+n-1: Hg and g for each, all sent back to back, then the
 * replies read in order: one round trip for the whole batch.  With a stack prefetch, the same
 * batch reads a window around where each thread's rsp was at the last stop (a kernel's stack
 * pointer seldom moves far between samples): when it holds the new rsp, the stack costs no
 * round trip of its own. */
#define GC_REG_BATCH 16

static int fetch_regs(struct gclient *c, int first)
{
	int n = KP_MIN(c->ncpu - first, GC_REG_BATCH), e = 0, sel_err = 0;
	size_t below = window_below(c);
	char id[40];

	for (int i = 0; i < n && !e; i++) {
		int cpu = first + i;

		e = gc_sendf(c, "Hg%s", gc_tid_str(c, c->tids[cpu], id));
		if (!e)
			e = gc_send(c, "g", 1);
		if (c->prefetch)
			size_window(c, cpu);
		c->pf_guessed[cpu] = c->prefetch && c->guess_valid[cpu];
		if (!e && c->pf_guessed[cpu])
			e = send_pieces(c, c->guess[cpu] - below, window_size(c, cpu));
	}
	c->g_tid = 0;
	for (int i = 0; i < n && !e; i++) {
		int cpu = first + i;

		e = gc_reply(c);
		if (!e && gc_reply_status(c))
			sel_err = -EIO;	/* the g that follows reads some other thread */
		if (!e)
			e = gc_reply(c);
		if (e)
			break;
		c->g_tid = c->tids[cpu];
		if (sel_err || (c->reply.len && c->reply.data[0] == 'E') ||
		    gc_decode_regs(c, c->reply.data, c->reply.len, &c->regs[cpu]))
			c->g_tid = 0;	/* left unread: get_regs says so */
		else
			c->regs_valid[cpu] = true;
		c->pf_len[cpu] = 0;
		if (c->pf_guessed[cpu]) {
			c->pf_base[cpu] = c->guess[cpu] - below;
			e = read_pieces(c, c->pf_base[cpu], window_size(c, cpu),
					c->pf_buf + (size_t)cpu * c->pf_stride, sel_err != 0,
					&c->pf_len[cpu], &c->pf_cut[cpu]);
		}
		c->pf_hit[cpu] = c->pf_guessed[cpu] && window_holds_stack(c, cpu);
		c->counters.windows_guessed += c->pf_guessed[cpu];
		c->counters.windows_hit += c->pf_hit[cpu];
		c->guess_valid[cpu] = kernel_stack(c, cpu);
		c->guess[cpu] = c->regs[cpu].gpr[TREG_RSP];
		sel_err = 0;
	}
	if (!e && c->prefetch)
		e = prefetch_stacks(c, first, n);
	return gc_note_gone(c, e);
}

static int gc_get_regs(struct target *t, int cpu, struct target_regs *r)
{
	struct gclient *c = GC(t);
	int e = stopped_cpu(c, cpu);

	if (e)
		return e;
	if (!c->regs_valid[cpu]) {
		c->op = GDBSTUB_OP_REGS;
		e = fetch_regs(c, cpu);
		c->op = GDBSTUB_OP_OTHER;
		if (e)
			return e;
		if (!c->regs_valid[cpu])
			return -EIO;
	}
	*r = c->regs[cpu];
	return 0;
}

/* m requests in flight at once: a stack read is one round trip however many packets it
 * takes, while the replies (up to PacketSize each) still fit the socket buffers. */
#define GC_PIPELINE 16

static ssize_t read_mem_op(struct target *t, int cpu, uint64_t addr, void *buf, size_t len)
{
	struct gclient *c = GC(t);
	size_t done = 0, chunk = gc_mem_chunk(c);
	bool stop = false;
	int e;

	/* Served from the stack read ahead with the registers, as far as it goes. */
	if (cpu >= 0 && cpu < c->ncpu && !c->running && c->regs_valid[cpu] && c->pf_len[cpu]) {
		uint64_t base = c->pf_base[cpu];

		if (addr >= base && addr - base < c->pf_len[cpu]) {
			size_t off = (size_t)(addr - base);

			done = KP_MIN(len, c->pf_len[cpu] - off);
			memcpy(buf, c->pf_buf + (size_t)cpu * c->pf_stride + off, done);
			if (done == len || c->pf_cut[cpu])
				return (ssize_t)done;	/* complete, or unmapped beyond */
		}
	}
	e = select_thread(c, cpu);
	if (e)
		return done ? (ssize_t)done : e;
	while (done < len && !stop) {
		size_t batch = KP_MIN((len - done + chunk - 1) / chunk, (size_t)GC_PIPELINE);
		size_t sent = 0;

		for (; sent < batch && !e; sent++) {
			size_t off = done + sent * chunk;

			e = gc_sendf(c, "m%llx,%zx", (unsigned long long)(addr + off),
				     KP_MIN(len - off, chunk));
		}
		/* Every reply sent for is read, also after one that ends the range. */
		for (size_t i = 0; i < sent; i++) {
			size_t want = KP_MIN(len - done, chunk), got;
			int er = gc_reply(c);

			if (er) {
				e = er;
				break;
			}
			if (stop)
				continue;
			if (c->reply.len == 0 || c->reply.data[0] == 'E' || c->reply.len % 2) {
				stop = true;	/* unmapped from here */
				continue;
			}
			got = KP_MIN(c->reply.len / 2, want);
			if (rsp_hex_decode(c->reply.data, got, (char *)buf + done)) {
				e = -EPROTO;
				break;
			}
			done += got;
			if (got < want)
				stop = true;
		}
		if (e) {
			gc_note_gone(c, e);
			return done ? (ssize_t)done : e;
		}
	}
	return done ? (ssize_t)done : -EFAULT;
}

static ssize_t gc_read_mem(struct target *t, int cpu, uint64_t addr, void *buf, size_t len)
{
	ssize_t n;

	struct gclient *c = GC(t);

	c->op = GDBSTUB_OP_MEM;
	n = read_mem_op(t, cpu, addr, buf, len);
	c->op = GDBSTUB_OP_OTHER;
	/* How far above rsp this stop's reads reach sizes the next stop's window. */
	if (n > 0 && cpu >= 0 && cpu < c->ncpu && c->regs_valid[cpu]) {
		uint64_t rsp = c->regs[cpu].gpr[TREG_RSP];

		if (addr >= rsp && addr - rsp < c->prefetch)
			c->pf_need[cpu] = KP_MAX(c->pf_need[cpu], (size_t)(addr - rsp) + (size_t)n);
	}
	return n;
}

/* Reads of several ranges, of any threads, at once: Hg where the thread changes and an m
 * packet per piece, sent in windows of GC_PIPELINE packets whose replies are then read in
 * order (one round trip a window).  A read ends at its first short or refused piece. */
#define GC_BATCH_MAX 512

/* One packet of a batch's window: an Hg (selecting tid) or the piece [off, off + want) of a
 * read. */
struct gc_slot {
	size_t read, want, off;
	bool hg;
	uint64_t tid;
};

static int read_mem_batch_op(struct target *t, struct target_read *r, size_t n)
{
	struct gclient *c = GC(t);
	size_t chunk = gc_mem_chunk(c), i = 0, off = 0;
	bool dead[GC_BATCH_MAX];
	uint64_t tid = c->g_tid;
	int e = 0;

	if (n > GC_BATCH_MAX)
		return -E2BIG;	/* the caller reads them one by one */
	if ((e = stopped(c)))
		return e;
	for (size_t k = 0; k < n; k++) {
		dead[k] = r[k].cpu < 0 || r[k].cpu >= c->ncpu;
		r[k].got = 0;
	}
	while (i < n && !e) {
		struct gc_slot win[GC_PIPELINE];
		size_t w = 0;
		char id[40];

		while (w < GC_PIPELINE && i < n && !e) {
			if (dead[i] || off == r[i].len) {
				i++;
				off = 0;
				continue;
			}
			if (c->tids[r[i].cpu] != tid) {
				if (w + 2 > GC_PIPELINE)
					break;
				tid = c->tids[r[i].cpu];
				win[w++] = (struct gc_slot){ .read = i, .hg = true, .tid = tid };
				e = gc_sendf(c, "Hg%s", gc_tid_str(c, tid, id));
			}
			size_t want = KP_MIN(chunk, r[i].len - off);

			win[w++] = (struct gc_slot){ .read = i, .want = want, .off = off };
			if (!e)
				e = gc_sendf(c, "m%llx,%zx", (unsigned long long)(r[i].addr + off), want);
			off += want;
		}
		for (size_t k = 0; k < w && !e; k++) {
			size_t got, j = win[k].read;

			if ((e = gc_reply(c)))
				break;
			if (win[k].hg) {
				if (gc_reply_status(c) == 0) {
					c->g_tid = win[k].tid;
				} else {	/* what follows would read another thread */
					c->g_tid = 0;
					dead[j] = true;
				}
				continue;
			}
			if (dead[j])
				continue;
			if (!c->reply.len || c->reply.data[0] == 'E' || c->reply.len % 2) {
				dead[j] = true;		/* unmapped from here */
				continue;
			}
			got = KP_MIN(c->reply.len / 2, win[k].want);
			if (rsp_hex_decode(c->reply.data, got, (char *)r[j].buf + win[k].off)) {
				e = -EPROTO;
				break;
			}
			r[j].got += (ssize_t)got;
			dead[j] = got < win[k].want;
		}
		/* A window cut short by an earlier read's end resumes where that read is. */
		if (!e && i < n && off && dead[i]) {
			i++;
			off = 0;
		}
	}
	for (size_t k = 0; k < n; k++)
		if (!r[k].got)
			r[k].got = r[k].cpu < 0 || r[k].cpu >= c->ncpu ? -EINVAL : e ? e : -EFAULT;
	if (e)
		gc_note_gone(c, e);
	return 0;	/* each read says how far it got */
}

static int gc_read_mem_batch(struct target *t, struct target_read *r, size_t n)
{
	struct gclient *c = GC(t);
	int e;

	c->op = GDBSTUB_OP_MEM;
	e = read_mem_batch_op(t, r, n);
	c->op = GDBSTUB_OP_OTHER;
	return e;
}

static ssize_t gc_write_mem(struct target *t, int cpu, uint64_t addr, const void *buf,
			    size_t len)
{
	struct gclient *c = GC(t);
	size_t done = 0;
	struct kp_buf b;
	int e = select_thread(c, cpu);

	if (e)
		return e;
	kp_buf_init(&b);
	while (done < len) {
		size_t n = KP_MIN(len - done, gc_mem_chunk(c));

		kp_buf_reset(&b);
		kp_buf_printf(&b, "M%llx,%zx:", (unsigned long long)(addr + done), n);
		rsp_hex_append(&b, (const char *)buf + done, n);
		e = gc_send(c, b.data, b.len);
		if (!e)
			e = gc_recv(c, c->timeout_ms);
		if (!e)
			e = gc_reply_status(c);
		if (e)
			break;
		done += n;
	}
	kp_buf_release(&b);
	gc_note_gone(c, e);
	return done ? (ssize_t)done : e;
}

static int breakpoint(struct target *t, char op, enum target_bp_kind kind, uint64_t addr,
		      uint64_t len)
{
	struct gclient *c = GC(t);
	int e = stopped(c);

	if (e)
		return e;
	e = gc_note_gone(c, gc_request(c, "%c%d,%llx,%llx", op, (int)kind, (unsigned long long)addr,
				    (unsigned long long)len));
	if (!e)
		e = gc_reply_status(c);
	return e == -EIO ? -ENOSPC : e;	/* stubs answer an error when out of registers */
}

static int gc_set_bp(struct target *t, enum target_bp_kind k, uint64_t a, uint64_t l)
{
	return breakpoint(t, 'Z', k, a, l);
}

static int gc_clear_bp(struct target *t, enum target_bp_kind k, uint64_t a, uint64_t l)
{
	return breakpoint(t, 'z', k, a, l);
}

static int gc_kill(struct target *t)
{
	struct gclient *c = GC(t);

	if (c->ended)
		return 0;
	gc_send(c, "k", 1);
	gc_flush(c);
	c->ended = true;
	c->end_ev = (struct target_event){ .kind = TARGET_EV_EXITED, .cpu = -1 };
	return 0;
}

const struct target_ops gc_target_ops = {
	.name = "gdb-remote",
	.cpu_count = gc_cpu_count,
	.cpu_state = gc_cpu_state,
	.stop = gc_stop,
	.resume = gc_resume,
	.is_stopped = gc_is_stopped,
	.event_fd = gc_event_fd,
	.poll_event = gc_poll_event,
	.get_regs = gc_get_regs,
	.set_regs = NULL,
	.read_mem = gc_read_mem,
	.write_mem = gc_write_mem,
	.set_bp = gc_set_bp,
	.clear_bp = gc_clear_bp,
	.kill = gc_kill,
	.describe_cpu = gc_describe,
	.read_mem_batch = gc_read_mem_batch,
};

void gdbstub_client_get_counters(struct target *t, struct gdbstub_client_counters *out)
{
	*out = GC(t)->counters;
}

bool gdbstub_client_found_running(struct target *t)
{
	return GC(t)->found_running;
}

int gdbstub_client_detach(struct target *t, bool resume)
{
	struct gclient *c = GC(t);
	int e;

	if (c->ended)
		return -ESRCH;
	e = gc_stop(t);
	if (e || !resume)
		return e;	/* closing without 'D' leaves the peer halted */
	/* A stub that speaks in pPID.TID (QEMU, once any gdb asked for it, even on a later
	 * connection) refuses a 'D' without the process: E22, and the VM stays halted. */
	if (c->multiprocess)
		e = gc_note_gone(c, gc_request(c, "D;%llx", (unsigned long long)(c->tids[0] >> 32)));
	else
		e = gc_note_gone(c, gc_request(c, "D"));
	if (!e)
		e = gc_reply_status(c);
	if (!e) {
		c->ended = true;
		c->end_reported = true;
		c->end_ev = (struct target_event){ .kind = TARGET_EV_GONE, .cpu = -1 };
	}
	return e;
}
