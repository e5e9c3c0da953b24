/* One boot under QEMU (TCG), timed from spawning it to the end point.
 *
 * The end points map onto QEMU as follows: a BOOT_TIME stage is read from the serial port
 * (stdout); a port-0x80 code through an isa-debugcon device moved to port 0x80, which writes
 * every byte the guest puts there to a pipe on fd 3; the default end is QEMU's own exit through
 * isa-debug-exit at 0xf4 (status (value << 1) | 1). */
#include "bootlab/bootlab.h"

#include "common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void child(const struct bl_qemu_opts *o, int out_w, int dbg_w)
{
	char smp[16], mem[32];
	const char *argv[40];
	int n = 0, null = open("/dev/null", O_RDWR);

	snprintf(smp, sizeof(smp), "%u", o->cpus);
	snprintf(mem, sizeof(mem), "%lluM", (unsigned long long)(o->mem_size >> 20));
	argv[n++] = o->qemu;
	argv[n++] = "-accel";
	argv[n++] = "tcg";
	argv[n++] = "-smp";
	argv[n++] = smp;
	argv[n++] = "-m";
	argv[n++] = mem;
	argv[n++] = "-kernel";
	argv[n++] = o->kernel;
	if (o->cmdline && *o->cmdline) {
		argv[n++] = "-append";
		argv[n++] = o->cmdline;
	}
	argv[n++] = "-device";
	argv[n++] = "isa-debug-exit,iobase=0xf4,iosize=4";
	argv[n++] = "-nodefaults";
	argv[n++] = "-display";
	argv[n++] = "none";
	argv[n++] = "-monitor";
	argv[n++] = "none";
	argv[n++] = "-serial";
	argv[n++] = "stdio";
	argv[n++] = "-no-reboot";
	if (dbg_w >= 0) {
		argv[n++] = "-debugcon";
		argv[n++] = "file:/dev/fd/3";
		argv[n++] = "-global";
		argv[n++] = "isa-debugcon.iobase=0x80";
	}
	argv[n] = NULL;
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 2);
	}
	dup2(out_w, 1);
	if (dbg_w >= 0)
		dup2(dbg_w, 3);
	execvp(o->qemu, (char *const *)argv);
	_exit(127);
}

struct scan {
	char line[512];
	size_t len;
};

/* Feed serial bytes; true when the end stage's line has arrived. */
static bool stage_seen(struct scan *sc, const char *buf, size_t n, const char *stage)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] != '\n') {
			if (sc->len < sizeof(sc->line) - 1)
				sc->line[sc->len++] = buf[i];
			continue;
		}
		sc->line[sc->len] = 0;
		sc->len = 0;
		if (!strncmp(sc->line, "BOOT_TIME:", 10) &&
		    !strncmp(sc->line + 10, stage, strlen(stage)) &&
		    sc->line[10 + strlen(stage)] == ':')
			return true;
	}
	return false;
}

int bootlab_qemu_boot(const struct bl_qemu_opts *o, uint64_t *wall_ns)
{
	int out[2] = { -1, -1 }, dbg[2] = { -1, -1 };
	bool want_dbg = o->end_port80 && !o->end_stage, reached = false;
	uint64_t t0, deadline, t_end = 0;
	struct scan sc = { .len = 0 };
	int status = 0, ret = 0;
	pid_t pid;

	if (pipe2(out, O_CLOEXEC) < 0 || (want_dbg && pipe2(dbg, O_CLOEXEC) < 0)) {
		ret = -errno;
		goto out;
	}
	t0 = kp_now_ns();
	deadline = t0 + (uint64_t)(o->timeout_s * 1e9);
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		goto out;
	}
	if (pid == 0)
		child(o, out[1], dbg[1]);
	close(out[1]);
	out[1] = -1;
	if (dbg[1] >= 0) {
		close(dbg[1]);
		dbg[1] = -1;
	}
	/* Read until the end point, or until QEMU closes its output (it exited). */
	while (!reached) {
		struct pollfd p[2] = { { .fd = out[0], .events = POLLIN },
				       { .fd = dbg[0], .events = POLLIN } };
		uint64_t now = kp_now_ns();
		char buf[4096];
		int r;

		if (now >= deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		r = poll(p, 2, (int)((deadline - now) / 1000000 + 1));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			break;
		}
		if ((p[1].revents & (POLLHUP | POLLERR)) && !(p[1].revents & POLLIN)) {
			close(dbg[0]);	/* the debugcon pipe closed: stop polling it */
			dbg[0] = -1;
		}
		if (p[1].revents & POLLIN) {
			ssize_t n = read(dbg[0], buf, sizeof(buf));

			for (ssize_t i = 0; i < n && !reached; i++)
				if ((uint8_t)buf[i] >= o->end_port80_lo &&
				    (uint8_t)buf[i] <= o->end_port80_hi)
					reached = true;
			if (reached)
				t_end = kp_now_ns();
		}
		if (!reached && (p[0].revents & (POLLIN | POLLHUP))) {
			ssize_t n = read(out[0], buf, sizeof(buf));

			if (n <= 0)
				break;	/* QEMU exited */
			if (o->end_stage && stage_seen(&sc, buf, (size_t)n, o->end_stage)) {
				reached = true;
				t_end = kp_now_ns();
			}
		}
	}
	if (reached || ret)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!t_end)
		t_end = kp_now_ns();
	if (ret == -ETIMEDOUT) {
		kp_error("%s: QEMU did not reach the end point within %.0f s", o->kernel, o->timeout_s);
	} else if (ret) {
		kp_error("%s: QEMU: %s", o->kernel, strerror(-ret));
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		kp_error("%s: cannot run (install qemu-system-x86)", o->qemu);
		ret = -ENOENT;
	} else if (!reached && (o->end_stage || o->end_port80)) {
		kp_error("%s: QEMU exited before the end point", o->kernel);
		ret = -EPROTO;
	} else if (!reached && !(WIFEXITED(status) && (WEXITSTATUS(status) & 1))) {
		kp_error("%s: QEMU ended without a debug-exit (status 0x%x)", o->kernel, status);
		ret = -EPROTO;
	}
	*wall_ns = t_end - t0;
out:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (dbg[i] >= 0)
			close(dbg[i]);
	}
	return ret;
}
