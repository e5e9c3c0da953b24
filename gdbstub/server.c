/* The gdb stub server's life cycle: listening socket, the thread that accepts one client
 * at a time (server_session.c serves it), and the waits the command line uses.
 *
 * It runs on a thread of its own so the vCPUs keep running while nobody is attached;
 * the target is responsible for making its operations safe against its vCPU threads.
 */
#include "gdbstub/server_internal.h"
#include "gdbstub/rsp_sock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>


struct gdbstub *gdbstub_new(struct target *t, const struct gdbstub_opts *o)
{
	struct gdbstub *gs = calloc(1, sizeof(*gs));

	if (!gs)
		return NULL;
	gs->t = t;
	if (o)
		gs->opts = *o;
	gs->ncpu = KP_MIN(target_cpu_count(t), TARGET_MAX_CPUS);
	if (gs->ncpu < 1)
		gs->ncpu = 1;
	gs->listen_fd = -1;
	gs->fd = -1;
	gs->refuse_fd = -1;
	if (pipe2(gs->wake_fd, O_CLOEXEC | O_NONBLOCK)) {
		free(gs);
		return NULL;
	}
	pthread_mutex_init(&gs->lock, NULL);
	kp_cond_init(&gs->cond);
	kp_buf_init(&gs->last);
	return gs;
}

int gdbstub_listen(struct gdbstub *gs, const char *addr)
{
	struct gdbstub_addr a;
	int fd, e;

	e = gdbstub_parse_addr(addr, &a);
	if (e)
		return kp_fail(e, "%s: expected tcp:HOST:PORT, HOST:PORT or unix:PATH", addr);
	fd = rsp_sock_listen(&a, gs->address, sizeof(gs->address));
	if (fd < 0)
		return kp_fail(fd, "gdb stub: cannot listen on %s: %s", addr, strerror(-fd));
	if (a.is_unix)
		snprintf(gs->unix_path, sizeof(gs->unix_path), "%s", a.path);
	gs->listen_fd = fd;
	if (!gs->opts.quiet)
		fprintf(stderr, "kprof: gdb stub listening on %s\n", gs->address);
	return 0;
}

const char *gdbstub_address(const struct gdbstub *gs)
{
	return gs->address;
}

static void *server_thread(void *arg)
{
	struct gdbstub *gs = arg;

	for (;;) {
		int efd = target_event_fd(gs->t);
		struct pollfd p[3] = {
			{ .fd = gs->listen_fd, .events = POLLIN },
			{ .fd = gs->wake_fd[0], .events = POLLIN },
			{ .fd = efd, .events = POLLIN },
		};
		int fd;

		/* Without an event fd, look for the end now and then. */
		if (poll(p, efd >= 0 ? 3 : 2, efd >= 0 ? -1 : 50) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		if (efd < 0 || (p[2].revents & POLLIN))
			gs_idle_events(gs);
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept4(gs->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			continue;
		if (!gs->opts.quiet)
			fprintf(stderr, "kprof: gdb stub: gdb attached on %s\n", gs->address);
		if (gs_session(gs, fd))
			break;
	}
	return NULL;
}

int gdbstub_start(struct gdbstub *gs)
{
	int e;

	if (gs->listen_fd < 0)
		return -EINVAL;
	e = pthread_create(&gs->thread, NULL, server_thread, gs);
	if (e)
		return -e;
	gs->thread_started = true;
	return 0;
}

/* Wait on the stub's condition until *flag is set; the lock is held on return. */
static int wait_flag(struct gdbstub *gs, const bool *flag, int timeout_ms)
{
	struct timespec ts;
	int e = 0;

	kp_deadline(&ts, timeout_ms < 0 ? 0 : timeout_ms);
	while (!*flag && !e)
		e = timeout_ms < 0 ? pthread_cond_wait(&gs->cond, &gs->lock) :
				     pthread_cond_timedwait(&gs->cond, &gs->lock, &ts);
	return *flag ? 0 : -ETIMEDOUT;
}

int gdbstub_wait_resumed(struct gdbstub *gs, int timeout_ms)
{
	int e;

	pthread_mutex_lock(&gs->lock);
	e = wait_flag(gs, &gs->resumed_once, timeout_ms);
	pthread_mutex_unlock(&gs->lock);
	return e;
}

int gdbstub_wait_end(struct gdbstub *gs, struct target_event *ev, int timeout_ms)
{
	int e;

	pthread_mutex_lock(&gs->lock);
	e = wait_flag(gs, &gs->ended, timeout_ms);
	if (!e && ev)
		*ev = gs->end_ev;
	pthread_mutex_unlock(&gs->lock);
	return e;
}

void gdbstub_free(struct gdbstub *gs)
{
	if (!gs)
		return;
	if (gs->thread_started) {
		ssize_t w = write(gs->wake_fd[1], "q", 1);

		(void)w;
		pthread_join(gs->thread, NULL);
	}
	if (gs->listen_fd >= 0)
		close(gs->listen_fd);
	if (gs->unix_path[0])
		unlink(gs->unix_path);
	close(gs->wake_fd[0]);
	close(gs->wake_fd[1]);
	pthread_mutex_destroy(&gs->lock);
	pthread_cond_destroy(&gs->cond);
	kp_buf_release(&gs->last);
	free(gs);
}
