/* gdbstub's server: serves any struct target to a stock gdb (or lldb) over the GDB remote
 * serial protocol, in all-stop mode: vCPUs are threads (thread id = vCPU index + 1), registers
 * are described by a target.xml for i386:x86-64, breakpoints use the target's debug registers.
 *
 * Every function returns 0 on success and a negative errno on failure. */
#ifndef KPROF_GDBSTUB_SERVER_H
#define KPROF_GDBSTUB_SERVER_H

#include <stdbool.h>

#include "common/common.h"
#include "gdbstub/addr.h"
#include "target/target.h"

/* A monitor command ("monitor NAME ARGS" in gdb): append text to out; 0 or -errno.
 * Runs on the stub's thread with every vCPU halted. */
typedef int (*gdbstub_monitor_fn)(void *ctx, struct target *t, const char *args,
				  struct kp_buf *out);

struct gdbstub_opts {
	bool quiet;		/* no "listening on" / "attached" lines on stderr */
};

struct gdbstub;

struct gdbstub *gdbstub_new(struct target *t, const struct gdbstub_opts *o);
/* Bind and listen; prints "kprof: gdb stub listening on ADDR" unless quiet. */
int gdbstub_listen(struct gdbstub *gs, const char *addr);
/* The address actually bound ("tcp:127.0.0.1:41234"), after gdbstub_listen. */
const char *gdbstub_address(const struct gdbstub *gs);
/* Register "monitor NAME" (up to 16 commands). */
int gdbstub_add_monitor(struct gdbstub *gs, const char *name, const char *help,
			gdbstub_monitor_fn fn, void *ctx);
/* Serve clients on a thread of its own; the vCPUs keep running meanwhile. */
int gdbstub_start(struct gdbstub *gs);
/* Block until a gdb has attached and resumed the target (for --gdb-wait), or until
 * timeout_ms passes (-1: forever).  Returns 0, or -ETIMEDOUT. */
int gdbstub_wait_resumed(struct gdbstub *gs, int timeout_ms);
/* The stub consumes the target's events (nobody else may).  Block until the target
 * has ended -- the guest exited, was killed, or faulted -- and fill ev with that event.
 * A fault while gdb is attached counts once gdb has gone, so it can be inspected.
 * Returns 0, or -ETIMEDOUT after timeout_ms (-1: forever). */
int gdbstub_wait_end(struct gdbstub *gs, struct target_event *ev, int timeout_ms);
/* Serve one already-connected client on the calling thread until it disconnects. */
int gdbstub_serve_fd(struct gdbstub *gs, int fd);
/* Stop the thread, close sockets, free. */
void gdbstub_free(struct gdbstub *gs);

#endif
