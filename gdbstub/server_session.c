/* One gdb connection: the loop that multiplexes the client, the target's stop events,
 * a second client being refused, and our own shutdown request. */
#include "gdbstub/server_internal.h"
#include "gdbstub/rsp_sock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define GS_REFUSAL "E.kprof: another gdb is already attached to this VM"

static int send_raw(struct gdbstub *gs, const char *s)
{
	return rsp_sock_write_all(gs->fd, s, strlen(s), GS_WRITE_TIMEOUT_MS);
}

/* Refuse a second gdb.  gdb shows an error reply to its first packet (qSupported) as
 * "Remote failure reply: E.<text>", so wait for that packet, answer it, then close.
 * Only one refusal is pending at a time; any further connection is closed at once. */
static void refuse_accept(struct gdbstub *gs)
{
	int fd = accept4(gs->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return;
	if (!gs->opts.quiet)
		fprintf(stderr, "kprof: gdb stub: refused a second connection (one gdb at a time)\n");
	if (gs->refuse_fd >= 0) {
		close(fd);
		return;
	}
	gs->refuse_fd = fd;
	gs->refuse_deadline = kp_now_ns() + 2000000000ull;
	rsp_framer_init(&gs->refuse_fr);
}

static void refuse_close(struct gdbstub *gs)
{
	if (gs->refuse_fd < 0)
		return;
	shutdown(gs->refuse_fd, SHUT_RDWR);
	close(gs->refuse_fd);
	gs->refuse_fd = -1;
}

static void refuse_input(struct gdbstub *gs)
{
	uint8_t in[512];
	ssize_t n = recv(gs->refuse_fd, in, sizeof(in), MSG_DONTWAIT);
	struct kp_buf b;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	for (ssize_t i = 0; i < n; i++) {
		if (rsp_framer_feed(&gs->refuse_fr, in[i]) != RSP_EV_PACKET)
			continue;
		kp_buf_init(&b);
		kp_buf_putc(&b, '+');
		rsp_frame(&b, GS_REFUSAL, strlen(GS_REFUSAL));
		rsp_sock_write_all(gs->refuse_fd, b.data, b.len, 100);
		kp_buf_release(&b);
		break;
	}
	refuse_close(gs);
}

static bool is_end(const struct target_event *ev)
{
	return ev->kind == TARGET_EV_EXITED || ev->kind == TARGET_EV_FAULT ||
	       ev->kind == TARGET_EV_GONE;
}

/* An end seen while gdb is attached: exits end at once, faults once gdb leaves. */
static void note_end(struct gdbstub *gs, const struct target_event *ev)
{
	if (ev->kind == TARGET_EV_FAULT && gs->fd >= 0) {
		gs->end_deferred = true;
		gs->deferred_ev = *ev;
		return;
	}
	gs->exited = true;
	gs->exit_status = ev->exit_status;
	gs_publish_end(gs, ev);
}

static void drain_target_events(struct gdbstub *gs)
{
	struct target_event ev;
	struct kp_buf reply;

	kp_buf_init(&reply);
	while (target_poll_event(gs->t, &ev) == 0) {
		if (gs->running) {
			gs_stop_reply(gs, &ev, &reply);
			gs->running = false;
			gs_send_packet(gs, reply.data, reply.len);
		}
		/* A stop we did not ask for while halted can only be stale: ignore it. */
		if (is_end(&ev))
			note_end(gs, &ev);
	}
	kp_buf_release(&reply);
}

/* Returns false when the connection is over. */
static bool on_packet(struct gdbstub *gs, struct kp_buf *reply)
{
	enum gs_after after = gs_handle_packet(gs, gs->fr.buf, gs->fr.len, reply);

	if (after == GS_RESUMED)
		return true;	/* the stop reply comes when the target stops */
	if (gs_send_packet(gs, reply->data, reply->len))
		return false;
	return after != GS_REPLY_CLOSE;
}

static bool on_bytes(struct gdbstub *gs, const uint8_t *p, size_t n, struct kp_buf *reply)
{
	for (size_t i = 0; i < n; i++) {
		switch (rsp_framer_feed(&gs->fr, p[i])) {
		case RSP_EV_PACKET:
			if (!gs->no_ack && send_raw(gs, "+"))
				return false;
			if (!on_packet(gs, reply))
				return false;
			break;
		case RSP_EV_BAD_CHECKSUM:
		case RSP_EV_MALFORMED:
			/* Ask for it again; in no-ack mode there is nobody to ask: drop it. */
			if (!gs->no_ack && send_raw(gs, "-"))
				return false;
			break;
		case RSP_EV_OVERSIZE:
			if (!gs->no_ack && send_raw(gs, "+"))
				return false;
			gs_error(reply, EMSGSIZE);
			if (gs_send_packet(gs, reply->data, reply->len))
				return false;
			break;
		case RSP_EV_NACK:
			if (gs->last.len && !gs->no_ack &&
			    rsp_sock_write_all(gs->fd, gs->last.data, gs->last.len,
					       GS_WRITE_TIMEOUT_MS))
				return false;
			break;
		case RSP_EV_INTERRUPT:
			if (gs->running) {
				gs_interrupt(gs, reply);
				gs->running = false;
				if (gs_send_packet(gs, reply->data, reply->len))
					return false;
			}
			break;
		case RSP_EV_ACK:
		case RSP_EV_NONE:
			break;
		}
	}
	return true;
}

/* gdb expects a halted target when it attaches, as QEMU stops the VM on connect. */
static void session_begin(struct gdbstub *gs, int fd)
{
	struct target_event ev;
	bool was_running = !gs->exited && target_is_stopped(gs->t) != 1;

	gs->fd = fd;
	gs->no_ack = false;
	gs->running = false;
	/* A new gdb starts on the vCPU the last stop named, as it was left. */
	gs->g_cpu = gs->c_cpu = gs->stop_cpu;
	rsp_framer_init(&gs->fr);
	kp_buf_reset(&gs->last);
	if (was_running)
		target_stop(gs->t);
	while (target_poll_event(gs->t, &ev) == 0) {
		if (is_end(&ev))
			note_end(gs, &ev);
		else if (ev.cpu >= 0 && ev.cpu < gs->ncpu)
			gs->stop_cpu = gs->g_cpu = gs->c_cpu = ev.cpu;
	}
	/* QEMU says that it stopped a running VM for this debugger with a stop reply nobody
	 * asked for; lldb 14 takes that packet for the ack of its first request and gives up
	 * ("failed to get reply to handshake packet").  We say it in the answer to
	 * qSupported instead, which gdb and lldb ignore and kprof collect --remote reads
	 * to leave the VM running afterwards. */
	gs->stopped_on_attach = was_running && !gs->exited;
}

static void session_end(struct gdbstub *gs)
{
	/* gdb removes its breakpoints before it detaches or disconnects; a client that
	 * just vanished did not, and its debug registers must not outlive it. */
	gs_remove_all_breakpoints(gs);
	close(gs->fd);
	gs->fd = -1;
	gs->running = false;
	if (gs->end_deferred) {
		gs->end_deferred = false;
		note_end(gs, &gs->deferred_ev);
	}
	if (!gs->opts.quiet)
		fprintf(stderr, "kprof: gdb stub: gdb disconnected\n");
}

/* With nobody attached, the stub still owns the target's events: it reports the end
 * and lets the guest carry on over anything else (a stale breakpoint or step). */
void gs_idle_events(struct gdbstub *gs)
{
	struct target_event ev;

	while (target_poll_event(gs->t, &ev) == 0) {
		if (is_end(&ev))
			note_end(gs, &ev);
		else if (!gs->exited && target_is_stopped(gs->t) == 1)
			target_resume(gs->t, NULL);
	}
}

/* Serve one client until it goes; returns 1 when asked to quit. */
int gs_session(struct gdbstub *gs, int fd)
{
	struct kp_buf reply;
	uint8_t in[4096];
	int quit = 0;

	kp_buf_init(&reply);
	session_begin(gs, fd);
	for (;;) {
		struct pollfd p[5];
		int np = 0, ifd = -1, ilisten = -1, iev = -1, iwake, irefuse = -1;
		int efd = target_event_fd(gs->t);

		p[np] = (struct pollfd){ .fd = fd, .events = POLLIN };
		ifd = np++;
		p[np] = (struct pollfd){ .fd = gs->wake_fd[0], .events = POLLIN };
		iwake = np++;
		if (gs->listen_fd >= 0) {
			p[np] = (struct pollfd){ .fd = gs->listen_fd, .events = POLLIN };
			ilisten = np++;
		}
		if (efd >= 0) {
			p[np] = (struct pollfd){ .fd = efd, .events = POLLIN };
			iev = np++;
		}
		if (gs->refuse_fd >= 0) {
			p[np] = (struct pollfd){ .fd = gs->refuse_fd, .events = POLLIN };
			irefuse = np++;
		}
		/* Without an event fd, look for stops now and then; a refusal has a deadline. */
		if (poll(p, (nfds_t)np, efd < 0 || gs->refuse_fd >= 0 ? 20 : -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[iwake].revents) {
			quit = 1;
			break;
		}
		if (iev < 0 || (p[iev].revents & POLLIN))
			drain_target_events(gs);
		if (irefuse >= 0 && p[irefuse].revents)
			refuse_input(gs);
		else if (gs->refuse_fd >= 0 && kp_now_ns() > gs->refuse_deadline)
			refuse_close(gs);
		if (ilisten >= 0 && (p[ilisten].revents & POLLIN))
			refuse_accept(gs);
		if (p[ifd].revents) {
			ssize_t n = recv(fd, in, sizeof(in), MSG_DONTWAIT);

			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n <= 0 || !on_bytes(gs, in, (size_t)n, &reply))
				break;
		}
	}
	kp_buf_release(&reply);
	refuse_close(gs);
	session_end(gs);
	return quit;
}

int gdbstub_serve_fd(struct gdbstub *gs, int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	return gs_session(gs, fd);
}
