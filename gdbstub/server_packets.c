/* The gdb stub's packet table: queries, registers, memory, threads.  Execution
 * control lives in server_exec.c and monitor commands in server_monitor.c.
 *
 * Every handler parses its arguments strictly: anything it does not understand is
 * answered with E22, and nothing is read or written outside the buffers it was given.
 */
#include "gdbstub/server_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum gs_after (*gs_handler)(struct gdbstub *gs, char *args, size_t len,
				    struct kp_buf *reply);

/* A thread id: "-1" (all), "0" (any), hex, or "pPID.TID" (and "pPID" alone: all).  Returns
 * the vCPU index (thread N is vCPU N - 1), TID_ALL, TID_ANY, or TID_BAD for a malformed id
 * or a thread that does not exist. */
#define TID_ALL (-1)
#define TID_ANY (-2)
#define TID_BAD (-3)
static int parse_tid(struct gdbstub *gs, struct rsp_cursor *c)
{
	uint64_t v;

	if (rsp_skip(c, "-1"))
		return TID_ALL;
	if (rsp_skip(c, "p")) {
		/* multiprocess form: the process part names our only process */
		if (!rsp_skip(c, "-1") && rsp_get_hex(c, &v))
			return TID_BAD;
		if (rsp_expect(c, '.'))
			return TID_ALL;
		if (rsp_skip(c, "-1"))
			return TID_ALL;
	}
	if (rsp_get_hex(c, &v))
		return TID_BAD;
	if (v == 0)
		return TID_ANY;
	if (v > (uint64_t)gs->ncpu)
		return TID_BAD;
	return (int)v - 1;
}

static enum gs_after h_stop_reason(struct gdbstub *gs, char *a, size_t n, struct kp_buf *reply)
{
	struct target_event ev = { .kind = TARGET_EV_STEP, .cpu = gs->stop_cpu };

	(void)a;
	(void)n;
	if (gs->exited) {
		ev.kind = TARGET_EV_EXITED;
		ev.exit_status = gs->exit_status;
	}
	/* gdb asks right after attaching: the target was stopped for it, report SIGTRAP. */
	gs_stop_reply(gs, &ev, reply);
	return GS_REPLY;
}

static enum gs_after h_supported(struct gdbstub *gs, char *a, size_t n, struct kp_buf *reply)
{
	(void)a;
	(void)n;
	kp_buf_printf(reply,
		      "PacketSize=%x;qXfer:features:read+;QStartNoAckMode+;vContSupported+;"
		      "swbreak+;hwbreak+%s",
		      RSP_MAX_PAYLOAD,
		      gs->stopped_on_attach ? ";" RSP_FEATURE_STOPPED_ON_ATTACH : "");
	return GS_REPLY;
}

static enum gs_after h_no_ack(struct gdbstub *gs, char *a, size_t n, struct kp_buf *reply)
{
	(void)a;
	(void)n;
	/* The OK itself still travels in ack mode; the loop switches after sending it. */
	gs->no_ack = true;
	kp_buf_puts(reply, "OK");
	return GS_REPLY;
}

static enum gs_after h_xfer_features(struct gdbstub *gs, char *a, size_t n,
				     struct kp_buf *reply)
{
	struct rsp_cursor c;
	uint64_t off, len;
	size_t xlen;
	const char *xml = rsp_x86_target_xml(&xlen);

	(void)gs;
	rsp_cursor_init(&c, a, n);
	if (!rsp_skip(&c, ":target.xml:")) {
		kp_buf_puts(reply, "E00");	/* the spec's answer for an unknown annex */
		return GS_REPLY;
	}
	if (rsp_get_hex(&c, &off) || rsp_expect(&c, ',') || rsp_get_hex(&c, &len) ||
	    !rsp_at_end(&c)) {
		gs_error(reply, EINVAL);
		return GS_REPLY;
	}
	if (off >= xlen) {
		kp_buf_puts(reply, "l");
		return GS_REPLY;
	}
	/* Escaping may double a byte: leave room for it. */
	len = KP_MIN(len, (uint64_t)(RSP_MAX_PAYLOAD / 2 - 1));
	len = KP_MIN(len, xlen - off);
	kp_buf_putc(reply, off + len >= xlen ? 'l' : 'm');
	rsp_escape(reply, xml + off, len);
	return GS_REPLY;
}

static enum gs_after h_thread_first(struct gdbstub *gs, char *a, size_t n, struct kp_buf *reply)
{
	(void)a;
	(void)n;
	kp_buf_putc(reply, 'm');
	for (int i = 0; i < gs->ncpu; i++)
		kp_buf_printf(reply, "%s%x", i ? "," : "", i + 1);
	return GS_REPLY;
}

static enum gs_after h_thread_next(struct gdbstub *gs, char *a, size_t n, struct kp_buf *reply)
{
	(void)gs;
	(void)a;
	(void)n;
	kp_buf_puts(reply, "l");
	return GS_REPLY;
}

static enum gs_after h_thread_extra(struct gdbstub *gs, char *a, size_t n, struct kp_buf *reply)
{
	struct rsp_cursor c;
	char desc[64];
	int cpu;

	rsp_cursor_init(&c, a, n);
	if (rsp_expect(&c, ',') || (cpu = parse_tid(gs, &c)) < 0 || !rsp_at_end(&c)) {
		gs_error(reply, EINVAL);
		return GS_REPLY;
	}
	if (target_describe_cpu(gs->t, cpu, desc, sizeof(desc)))
		snprintf(desc, sizeof(desc), "CPU#%d", cpu);
	rsp_hex_append(reply, desc, strlen(desc));
	return GS_REPLY;
}

static enum gs_after h_current_thread(struct gdbstub *gs, char *a, size_t n,
				      struct kp_buf *reply)
{
	(void)a;
	(void)n;
	kp_buf_printf(reply, "QC%x", gs->g_cpu + 1);
	return GS_REPLY;
}

static enum gs_after h_attached(struct gdbstub *gs, char *a, size_t n, struct kp_buf *reply)
{
	(void)gs;
	(void)a;
	(void)n;
	/* "attached to an existing process": gdb detaches rather than kills on quit. */
	kp_buf_puts(reply, "1");
	return GS_REPLY;
}

static enum gs_after h_symbol(struct gdbstub *gs, char *a, size_t n, struct kp_buf *reply)
{
	(void)gs;
	(void)a;
	(void)n;
	kp_buf_puts(reply, "OK");	/* we need no symbols from gdb */
	return GS_REPLY;
}

static enum gs_after h_rcmd(struct gdbstub *gs, char *a, size_t n, struct kp_buf *reply)
{
	if (n < 1 || a[0] != ',') {
		gs_error(reply, EINVAL);
		return GS_REPLY;
	}
	gs_monitor(gs, a + 1, n - 1, reply);
	return GS_REPLY;
}

static enum gs_after h_set_thread(struct gdbstub *gs, char *a, size_t n, struct kp_buf *reply)
{
	struct rsp_cursor c;
	char op;
	int cpu;

	rsp_cursor_init(&c, a, n);
	if (n < 2 || (a[0] != 'g' && a[0] != 'c')) {
		gs_error(reply, EINVAL);
		return GS_REPLY;
	}
	op = a[0];
	c.p++;
	cpu = parse_tid(gs, &c);
	if (cpu == TID_BAD || !rsp_at_end(&c)) {
		gs_error(reply, EINVAL);
		return GS_REPLY;
	}
	if (cpu >= 0) {
		if (op == 'g')
			gs->g_cpu = cpu;
		else
			gs->c_cpu = cpu;
	}
	kp_buf_puts(reply, "OK");
	return GS_REPLY;
}

static enum gs_after h_thread_alive(struct gdbstub *gs, char *a, size_t n, struct kp_buf *reply)
{
	struct rsp_cursor c;
	int cpu;

	rsp_cursor_init(&c, a, n);
	cpu = parse_tid(gs, &c);
	if (cpu < 0 || !rsp_at_end(&c) || target_cpu_state(gs->t, cpu) == TARGET_CPU_OFFLINE)
		gs_error(reply, ESRCH);
	else
		kp_buf_puts(reply, "OK");
	return GS_REPLY;
}

static enum gs_after h_breakpoint(struct gdbstub *gs, char *a, size_t n, struct kp_buf *reply)
{
	gs_breakpoint(gs, a[-1] == 'Z', a, n, reply);
	return GS_REPLY;
}

static enum gs_after h_detach(struct gdbstub *gs, char *a, size_t n, struct kp_buf *reply)
{
	(void)a;
	(void)n;
	gs_remove_all_breakpoints(gs);
	if (!gs->exited && target_is_stopped(gs->t) == 1) {
		int e = target_resume(gs->t, NULL);

		if (e) {
			gs_error(reply, e);
			return GS_REPLY;
		}
		gs_mark_resumed(gs);
	}
	kp_buf_puts(reply, "OK");
	return GS_REPLY_CLOSE;
}

static enum gs_after h_kill(struct gdbstub *gs, char *a, size_t n, struct kp_buf *reply)
{
	(void)a;
	(void)n;
	gs_remove_all_breakpoints(gs);
	if (gs->t->ops->kill)
		gs->t->ops->kill(gs->t);
	/* The protocol gives 'k' no reply, but lldb waits for one and fails without it
	 * ("failed to send the k packet"); QEMU answers W00 (the process exited, status 0)
	 * before it closes, and gdb ignores whatever follows its 'k'.  vKill answers OK.
	 * Either way the connection ends. */
	kp_buf_puts(reply, a[-1] == 'k' ? "W00" : "OK");
	return GS_REPLY_CLOSE;
}

static enum gs_after h_vcont_query(struct gdbstub *gs, char *a, size_t n, struct kp_buf *reply)
{
	(void)gs;
	(void)a;
	if (n)
		gs_error(reply, EINVAL);
	else
		kp_buf_puts(reply, "vCont;c;C;s;S;t");
	return GS_REPLY;
}

static enum gs_after h_resume(struct gdbstub *gs, char *a, size_t n, struct kp_buf *reply)
{
	/* server_exec.c parses the whole packet, name included ("vCont" or one letter). */
	size_t name = a[-1] == 't' ? 5 : 1;

	return gs_handle_resume(gs, a - name, n + name, reply);
}

struct gs_packet {
	const char *name;
	bool exact;		/* name must be followed by ':', ',', ';' or the end */
	bool needs_stopped;	/* answer E16 (busy) while the target runs */
	gs_handler fn;
};

/* Longer names first where one is a prefix of another (vCont? before vCont). */
static const struct gs_packet packets[] = {
	{ "?", false, false, h_stop_reason },
	{ "qSupported", true, false, h_supported },
	{ "QStartNoAckMode", true, false, h_no_ack },
	{ "qXfer:features:read", true, false, h_xfer_features },
	{ "qfThreadInfo", true, false, h_thread_first },
	{ "qsThreadInfo", true, false, h_thread_next },
	{ "qThreadExtraInfo", true, false, h_thread_extra },
	{ "qC", true, false, h_current_thread },
	{ "qAttached", true, false, h_attached },
	{ "qSymbol", true, false, h_symbol },
	{ "qRcmd", true, true, h_rcmd },
	{ "vCont?", true, false, h_vcont_query },
	{ "vCont", true, true, h_resume },
	{ "vKill", true, false, h_kill },
	{ "H", false, false, h_set_thread },
	{ "T", false, false, h_thread_alive },
	{ "g", false, true, gs_h_read_regs },
	{ "G", false, true, gs_h_write_regs },
	{ "p", false, true, gs_h_read_reg },
	{ "P", false, true, gs_h_write_reg },
	{ "m", false, true, gs_h_read_mem },
	{ "M", false, true, gs_h_write_mem },
	{ "X", false, true, gs_h_write_mem_bin },
	{ "Z", false, true, h_breakpoint },
	{ "z", false, true, h_breakpoint },
	{ "c", false, true, h_resume },
	{ "C", false, true, h_resume },
	{ "s", false, true, h_resume },
	{ "S", false, true, h_resume },
	{ "D", false, false, h_detach },
	{ "k", false, false, h_kill },
};

enum gs_after gs_handle_packet(struct gdbstub *gs, char *pkt, size_t len, struct kp_buf *reply)
{
	kp_buf_reset(reply);
	if (!reply->data)
		kp_buf_reserve(reply, 64);
	for (size_t i = 0; i < KP_ARRAY_SIZE(packets); i++) {
		const struct gs_packet *p = &packets[i];
		size_t nl = strlen(p->name);

		if (len < nl || memcmp(pkt, p->name, nl))
			continue;
		if (p->exact && len > nl && !strchr(":,;", pkt[nl]))
			continue;
		if (p->needs_stopped && gs->running) {
			gs_error(reply, EBUSY);
			return GS_REPLY;
		}
		/* vCont's actions start at ';': hand them over with it. */
		return p->fn(gs, pkt + nl, len - nl, reply);
	}
	return GS_REPLY;	/* unknown: the empty reply tells gdb we lack it */
}
