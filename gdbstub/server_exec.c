/* The gdb stub's execution control: c/s/C/S/vCont, interrupts, stop replies and
 * breakpoints.  All-stop: when anything stops, every vCPU is halted (the target
 * guarantees it), and the stop reply names the vCPU that caused it.
 */
#include "gdbstub/server_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void gs_mark_resumed(struct gdbstub *gs)
{
	pthread_mutex_lock(&gs->lock);
	gs->resumed_once = true;
	pthread_cond_broadcast(&gs->cond);
	pthread_mutex_unlock(&gs->lock);
}

void gs_publish_end(struct gdbstub *gs, const struct target_event *ev)
{
	pthread_mutex_lock(&gs->lock);
	if (!gs->ended) {
		gs->ended = true;
		gs->end_ev = *ev;
		pthread_cond_broadcast(&gs->cond);
	}
	pthread_mutex_unlock(&gs->lock);
}

static const struct gs_bp *find_bp_at(const struct gdbstub *gs, uint64_t addr)
{
	for (int i = 0; i < GS_MAX_BPS; i++)
		if (gs->bps[i].refs && gs->bps[i].type <= 1 && gs->bps[i].addr == addr)
			return &gs->bps[i];
	return NULL;
}

int gs_stop_reply(struct gdbstub *gs, const struct target_event *ev, struct kp_buf *reply)
{
	int cpu = ev->cpu >= 0 && ev->cpu < gs->ncpu ? ev->cpu : gs->stop_cpu;
	const struct gs_bp *bp;
	static const char *const watch[] = { "watch", "rwatch", "awatch" };
	int wk;

	kp_buf_reset(reply);
	if (ev->kind == TARGET_EV_EXITED) {
		gs->exited = true;
		gs->exit_status = ev->exit_status;
		return kp_buf_printf(reply, "W%02x", ev->exit_status & 0xff);
	}
	if (ev->kind == TARGET_EV_GONE) {
		gs->exited = true;
		return kp_buf_puts(reply, "X09");
	}
	/* gdb switches to the thread named here; make later g/m packets follow it. */
	gs->stop_cpu = cpu;
	gs->g_cpu = cpu;
	gs->c_cpu = cpu;
	switch (ev->kind) {
	case TARGET_EV_STOPPED:
		return kp_buf_printf(reply, "T02thread:%x;", cpu + 1);
	case TARGET_EV_BREAKPOINT:
		bp = find_bp_at(gs, ev->addr);
		/* swbreak tells gdb the pc needs no adjusting, which holds for our Z0s since
		 * they are served by debug registers that stop before the instruction. */
		return kp_buf_printf(reply, "T05thread:%x;%s", cpu + 1,
				     !bp ? "" : bp->type == 0 ? "swbreak:;" : "hwbreak:;");
	case TARGET_EV_WATCHPOINT:
		wk = ev->watch_kind - TARGET_WP_WRITE;
		if (wk < 0 || wk > 2)
			wk = 2;
		return kp_buf_printf(reply, "T05thread:%x;%s:%llx;", cpu + 1, watch[wk],
				     (unsigned long long)ev->addr);
	case TARGET_EV_FAULT:
		if (ev->message[0] && gs->running && gs->fd >= 0) {
			struct kp_buf o;

			/* Console output ('O') is allowed only before a stop reply. */
			kp_buf_init(&o);
			kp_buf_putc(&o, 'O');
			rsp_hex_append(&o, "kprof: ", 7);
			rsp_hex_append(&o, ev->message, strnlen(ev->message, sizeof(ev->message)));
			rsp_hex_append(&o, "\n", 1);
			gs_send_packet(gs, o.data, o.len);
			kp_buf_release(&o);
		}
		return kp_buf_printf(reply, "T0bthread:%x;", cpu + 1);
	default:
		return kp_buf_printf(reply, "T05thread:%x;", cpu + 1);
	}
}

int gs_interrupt(struct gdbstub *gs, struct kp_buf *reply)
{
	struct target_event ev = { .kind = TARGET_EV_STOPPED, .cpu = gs->c_cpu }, got;
	int e = target_stop(gs->t);

	if (e && e != -EALREADY)
		kp_debug("gdb stub: stopping the target failed: %s", strerror(-e));
	/* A breakpoint may have fired just before our stop: report it rather than lose it. */
	while (target_poll_event(gs->t, &got) == 0)
		if (got.kind != TARGET_EV_STOPPED || ev.kind == TARGET_EV_STOPPED)
			ev = got;
	return gs_stop_reply(gs, &ev, reply);
}

/* Apply one vCont action to the vCPUs it names that have no action yet. */
static int vcont_apply(struct gdbstub *gs, enum target_resume_action *act, bool *set, char a,
		       struct rsp_cursor *c)
{
	enum target_resume_action what = (a == 's' || a == 'S') ? TARGET_RESUME_STEP :
					 a == 't' ? TARGET_RESUME_STAY : TARGET_RESUME_CONTINUE;
	uint64_t v;
	int lo = 0, hi = gs->ncpu;

	if (rsp_skip(c, ":")) {
		if (rsp_skip(c, "p")) {
			/* multiprocess thread id: skip the process part */
			if (!rsp_skip(c, "-1") && rsp_get_hex(c, &v))
				return -EINVAL;
			if (rsp_expect(c, '.'))
				goto range;
		}
		if (!rsp_skip(c, "-1")) {
			if (rsp_get_hex(c, &v) || v > (uint64_t)gs->ncpu)
				return -EINVAL;
			if (v) {
				lo = (int)v - 1;
				hi = lo + 1;
			}
		}
	}
range:
	for (int i = lo; i < hi; i++) {
		if (!set[i]) {
			act[i] = what;
			set[i] = true;
		}
	}
	return 0;
}

static int parse_vcont(struct gdbstub *gs, struct rsp_cursor *c, enum target_resume_action *act)
{
	bool set[TARGET_MAX_CPUS] = { false };
	uint64_t sig;

	if (rsp_at_end(c))
		return -EINVAL;
	while (!rsp_at_end(c)) {
		char a;

		if (rsp_expect(c, ';') || rsp_at_end(c))
			return -EINVAL;
		a = *c->p++;
		if (a == 'C' || a == 'S') {
			/* Signals mean nothing to a VM: deliver none, as QEMU does. */
			if (rsp_get_hex(c, &sig))
				return -EINVAL;
		} else if (a != 'c' && a != 's' && a != 't') {
			return -EINVAL;
		}
		if (vcont_apply(gs, act, set, a, c))
			return -EINVAL;
	}
	for (int i = 0; i < gs->ncpu; i++)
		if (!set[i])
			act[i] = TARGET_RESUME_STAY;
	return 0;
}

enum gs_after gs_handle_resume(struct gdbstub *gs, const char *pkt, size_t len,
			       struct kp_buf *reply)
{
	enum target_resume_action act[TARGET_MAX_CPUS];
	struct rsp_cursor c;
	struct target_event ev = { .kind = TARGET_EV_EXITED, .cpu = -1 };
	bool any = false;
	uint64_t v;
	int e;

	if (gs->exited) {
		ev.exit_status = gs->exit_status;
		gs_stop_reply(gs, &ev, reply);
		return GS_REPLY;
	}
	rsp_cursor_init(&c, pkt, len);
	if (rsp_skip(&c, "vCont")) {
		e = parse_vcont(gs, &c, act);
	} else {
		char op = *c.p++;
		bool step = op == 's' || op == 'S';

		e = 0;
		if ((op == 'C' || op == 'S') && (rsp_get_hex(&c, &v) || (!rsp_at_end(&c) &&
								      rsp_expect(&c, ';'))))
			e = -EINVAL;
		if (!e && !rsp_at_end(&c)) {
			struct target_regs r;

			/* "c ADDR": resume at ADDR */
			e = rsp_get_hex(&c, &v);
			if (!e && !rsp_at_end(&c))
				e = -EINVAL;
			if (!e)
				e = target_get_regs(gs->t, gs->c_cpu, &r);
			if (!e) {
				r.rip = v;
				e = target_set_regs(gs->t, gs->c_cpu, &r);
			}
		}
		/* 's' steps the Hc vCPU alone: the others stay halted. */
		for (int i = 0; i < gs->ncpu; i++)
			act[i] = !step ? TARGET_RESUME_CONTINUE :
				 i == gs->c_cpu ? TARGET_RESUME_STEP : TARGET_RESUME_STAY;
	}
	for (int i = 0; !e && i < gs->ncpu; i++)
		any |= act[i] != TARGET_RESUME_STAY;
	if (!e && !any)
		e = -EINVAL;
	if (!e)
		e = target_resume(gs->t, act);
	if (e) {
		gs_error(reply, e);
		return GS_REPLY;
	}
	gs->running = true;
	gs_mark_resumed(gs);
	return GS_RESUMED;
}

static int bp_target_set(struct gdbstub *gs, struct gs_bp *b)
{
	int e;

	if (b->type == 0) {
		/* Software breakpoints where the target has them, else a debug register. */
		e = gs->t->ops->set_bp(gs->t, TARGET_BP_SW, b->addr, b->len);
		if (e != -ENOTSUP && e != -EOPNOTSUPP) {
			b->target_kind = TARGET_BP_SW;
			return e;
		}
		b->target_kind = TARGET_BP_HW;
		return gs->t->ops->set_bp(gs->t, TARGET_BP_HW, b->addr, b->len);
	}
	b->target_kind = b->type;
	return gs->t->ops->set_bp(gs->t, (enum target_bp_kind)b->type, b->addr, b->len);
}

int gs_breakpoint(struct gdbstub *gs, bool insert, const char *pkt, size_t len,
		  struct kp_buf *reply)
{
	struct rsp_cursor c;
	uint64_t type, addr, kind;
	struct gs_bp *b = NULL, *free_slot = NULL;
	int e;

	rsp_cursor_init(&c, pkt, len);
	if (rsp_get_hex(&c, &type) || rsp_expect(&c, ',') || rsp_get_hex(&c, &addr) ||
	    rsp_expect(&c, ',') || rsp_get_hex(&c, &kind) ||
	    (!rsp_at_end(&c) && *c.p != ';'))
		return gs_error(reply, EINVAL);
	if (type > 4)
		return 0;	/* empty reply: a kind we do not know */
	if (!gs->t->ops->set_bp || !gs->t->ops->clear_bp)
		return 0;
	for (int i = 0; i < GS_MAX_BPS; i++) {
		struct gs_bp *x = &gs->bps[i];

		if (x->refs && x->type == (int)type && x->addr == addr && x->len == kind)
			b = x;
		else if (!x->refs && !free_slot)
			free_slot = x;
	}
	if (!insert) {
		if (!b)
			return gs_error(reply, ENOENT);
		if (--b->refs == 0) {
			e = gs->t->ops->clear_bp(gs->t, (enum target_bp_kind)b->target_kind,
						 b->addr, b->len);
			if (e)
				return gs_error(reply, e);
		}
		return kp_buf_puts(reply, "OK");
	}
	if (b) {
		b->refs++;
		return kp_buf_puts(reply, "OK");
	}
	if (!free_slot)
		return gs_error(reply, ENOSPC);
	b = free_slot;
	b->type = (int)type;
	b->addr = addr;
	b->len = kind;
	e = bp_target_set(gs, b);
	if (e == -ENOTSUP || e == -EOPNOTSUPP)
		return 0;	/* empty reply: gdb then knows this kind is unsupported */
	if (e) {
		if (e == -ENOSPC)
			kp_warn("gdb stub: all hardware debug registers are in use; cannot %s at "
				"0x%llx (delete one first)",
				type <= 1 ? "break" : "watch", (unsigned long long)addr);
		return gs_error(reply, e);
	}
	b->refs = 1;
	return kp_buf_puts(reply, "OK");
}

void gs_remove_all_breakpoints(struct gdbstub *gs)
{
	for (int i = 0; i < GS_MAX_BPS; i++) {
		struct gs_bp *b = &gs->bps[i];

		if (!b->refs)
			continue;
		if (gs->t->ops->clear_bp)
			gs->t->ops->clear_bp(gs->t, (enum target_bp_kind)b->target_kind, b->addr,
					     b->len);
		b->refs = 0;
	}
}
