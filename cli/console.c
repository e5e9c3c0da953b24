/* `kprof run --console` (see console.h).  One thread reads standard input and queues it for
 * the guest (vmm_console_write); the queue is bounded:
 * - from a pipe or a file, reading pauses while the queue is full (the writer then waits:
 *   nothing is lost), and end of file changes nothing (the run goes on until the guest ends);
 * - from a terminal, reading goes on so that Ctrl-A X still works; what the full queue cannot
 *   take is dropped, said once on stderr as it happens and counted at the end.
 * Terminal escapes (a terminal only: a pipe stays binary-clean), as QEMU's -nographic:
 * Ctrl-A X ends the run (status 123, "ended from the host"), Ctrl-A Ctrl-A sends one Ctrl-A,
 * Ctrl-A H prints them, any other key after Ctrl-A is swallowed.  Raw mode keeps output
 * processing (OPOST), so the guest's and kprof's own "\n" still start a new line; Ctrl-C
 * and Ctrl-Z go to the guest. */
#include "cli/console.h"

#include "common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define CTRL_A 0x01
#define READ_CHUNK 1024

struct console {
	struct vmm *vm;
	bool tty, raw, eof, quit, escape, told_drop;
	struct termios saved;
	int stop_pipe[2];
	pthread_t thread;
	bool thread_started;
	uint8_t pending[READ_CHUNK];	/* a pipe's bytes the full queue turned away */
	size_t npending, pending_off;
	unsigned long long dropped;	/* a terminal's bytes the full queue turned away */
};

/* The one process-wide state of this file, and of kprof's host code: a handler of SIGSEGV
 * and the like is given the signal number and nothing else, so the terminal settings it puts
 * back (on a crash while the terminal is raw, the shell would be left unusable) must be
 * reachable without a pointer; and the terminal is the process's anyway.  Set while the
 * terminal is raw. */
static const int fatal_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
static struct {
	volatile sig_atomic_t active;
	struct termios saved;
	struct sigaction old[sizeof(fatal_signals) / sizeof(fatal_signals[0])];
} crash_restore;

static void fatal_signal(int sig)
{
	if (crash_restore.active)
		tcsetattr(STDIN_FILENO, TCSANOW, &crash_restore.saved);
	crash_restore.active = 0;
	/* The previous handler (the default, or a sanitizer's report) then runs as it would. */
	for (size_t i = 0; i < KP_ARRAY_SIZE(fatal_signals); i++)
		if (fatal_signals[i] == sig)
			sigaction(sig, &crash_restore.old[i], NULL);
	raise(sig);
}

const struct kp_opt console_options[] = {
	{ "console", 0, KP_OPT_FLAG, NULL, "standard input to the guest's serial port (COM1, IRQ 4);\n"
	  "a terminal goes raw: Ctrl-A X ends the run (status 123),\n"
	  "Ctrl-A Ctrl-A sends Ctrl-A; a pipe is sent as is, and its\n"
	  "end changes nothing (the run goes on)", KP_OPT_FIELD(struct console_opts, on) },
	KP_OPT_END,
};

static void raw_mode(struct console *c)
{
	struct termios t;
	struct sigaction sa;

	if (tcgetattr(STDIN_FILENO, &c->saved) < 0)
		return;
	t = c->saved;
	t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
	t.c_cflag |= CS8;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	crash_restore.saved = c->saved;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fatal_signal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < KP_ARRAY_SIZE(fatal_signals); i++)
		sigaction(fatal_signals[i], &sa, &crash_restore.old[i]);
	crash_restore.active = 1;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t) < 0) {
		kp_warn("console: standard input stays in line mode: %s", strerror(errno));
		crash_restore.active = 0;
		return;
	}
	c->raw = true;
}

static void restore_mode(struct console *c)
{
	if (!c->raw)
		return;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &c->saved) < 0)
		kp_warn("console: restoring the terminal's modes: %s", strerror(errno));
	crash_restore.active = 0;
	for (size_t i = 0; i < KP_ARRAY_SIZE(fatal_signals); i++)
		sigaction(fatal_signals[i], &crash_restore.old[i], NULL);
	c->raw = false;
}

static void flush_pending(struct console *c)
{
	size_t n = vmm_console_write(c->vm, c->pending + c->pending_off,
				     c->npending - c->pending_off);

	c->pending_off += n;
	if (c->pending_off == c->npending)
		c->npending = c->pending_off = 0;
}

static void deliver(struct console *c, const uint8_t *buf, size_t len)
{
	size_t n = vmm_console_write(c->vm, buf, len);

	if (n == len)
		return;
	if (!c->tty) {			/* wait for room (room_fd) before reading more */
		memcpy(c->pending, buf + n, len - n);
		c->npending = len - n;
		c->pending_off = 0;
		return;
	}
	c->dropped += len - n;
	if (!c->told_drop)
		kp_warn("console: the guest does not read its serial port; input is dropped "
			"while %d bytes wait", VMM_CONSOLE_QUEUE);
	c->told_drop = true;
}

/* Terminal input through the Ctrl-A escapes. */
static void terminal_input(struct console *c, const uint8_t *in, size_t len)
{
	uint8_t out[READ_CHUNK];
	size_t n = 0;

	for (size_t i = 0; i < len && !c->quit; i++) {
		uint8_t ch = in[i];

		if (!c->escape && ch == CTRL_A) {
			c->escape = true;
			continue;
		}
		if (!c->escape) {
			out[n++] = ch;
			continue;
		}
		c->escape = false;
		if (ch == CTRL_A) {
			out[n++] = ch;
		} else if (ch == 'x' || ch == 'X') {
			c->quit = true;
		} else if (ch == 'h' || ch == 'H' || ch == '?') {
			fprintf(stderr, "kprof console: Ctrl-A X ends the run, Ctrl-A Ctrl-A sends "
					"Ctrl-A, Ctrl-A H this help\n");
		}
	}
	deliver(c, out, n);
	if (c->quit) {
		struct target *t = vmm_target(c->vm);

		fprintf(stderr, "kprof: Ctrl-A X: ending the run\n");
		t->ops->kill(t);
	}
}

static void read_input(struct console *c)
{
	uint8_t buf[READ_CHUNK];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {			/* end of file, or a terminal hung up (EIO) */
		c->eof = true;
		return;
	}
	if (c->tty)
		terminal_input(c, buf, (size_t)n);
	else
		deliver(c, buf, (size_t)n);
}

static void *console_thread(void *arg)
{
	struct console *c = arg;
	int room_fd = vmm_console_room_fd(c->vm);

	for (;;) {
		bool want_input = !c->eof && !c->quit && !c->npending;
		struct pollfd p[3] = {
			{ .fd = c->stop_pipe[0], .events = POLLIN },
			{ .fd = c->npending ? room_fd : -1, .events = POLLIN },
			{ .fd = want_input ? STDIN_FILENO : -1, .events = POLLIN },
		};

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			kp_error("console: poll: %s", strerror(errno));
			break;
		}
		if (p[0].revents)
			break;
		if (p[1].revents) {
			uint64_t v;

			if (read(room_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				kp_debug("console room fd: %s", strerror(errno));
			flush_pending(c);
		}
		if (p[2].revents & POLLNVAL)
			c->eof = true;
		else if (p[2].revents)
			read_input(c);
	}
	return NULL;
}

int console_start(struct vmm *vm, struct console **out)
{
	struct console *c = calloc(1, sizeof(*c));
	int err;

	*out = NULL;
	if (!c)
		return -ENOMEM;
	c->vm = vm;
	if (pipe2(c->stop_pipe, O_CLOEXEC) < 0) {
		err = -errno;
		kp_error("console: pipe: %s", strerror(-err));
		free(c);
		return err;
	}
	c->tty = isatty(STDIN_FILENO);
	if (c->tty)
		raw_mode(c);
	err = pthread_create(&c->thread, NULL, console_thread, c);
	if (err) {
		kp_error("console: thread: %s", strerror(err));
		c->thread_started = false;
		console_stop(c);
		return -err;
	}
	c->thread_started = true;
	*out = c;
	return 0;
}

void console_stop(struct console *c)
{
	if (!c)
		return;
	if (c->thread_started) {
		if (write(c->stop_pipe[1], "", 1) < 0)
			kp_debug("console stop pipe: %s", strerror(errno));
		pthread_join(c->thread, NULL);
	}
	restore_mode(c);
	if (c->dropped)
		kp_warn("console: %llu bytes of input dropped (the guest did not read them)",
			c->dropped);
	close(c->stop_pipe[0]);
	close(c->stop_pipe[1]);
	free(c);
}
