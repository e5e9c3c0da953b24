/* gdbstub's client: a struct target that talks to any gdb stub (QEMU's or kprof's own) over
 * the GDB remote serial protocol, with the round trips a sampler needs kept few.
 *
 * Every function returns 0 on success and a negative errno on failure. */
#ifndef KPROF_GDBSTUB_CLIENT_H
#define KPROF_GDBSTUB_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gdbstub/addr.h"
#include "target/target.h"

struct gdbstub_client_opts {
	int timeout_ms;		/* per reply; 0 means 5000 */
	/* Read each thread's stack with its registers (in the same pipelined batch, around where
	 * its rsp was at the last stop, or in a second batch from its rsp when that missed) and
	 * serve reads inside it from there until the next resume: a profiler's stack reads then
	 * cost no round trip of their own.  As much as the last stop's reads of that thread
	 * reached above rsp (4 KiB at first), at most this many bytes.  0: none; at most 65536. */
	size_t stack_prefetch;
};

/* What the client did on the wire, by the target operation it did it for (--timing).  A
 * write is one batch of packets (a round trip when replies follow); wait is the time spent
 * waiting for replies. */
enum gdbstub_client_op {
	GDBSTUB_OP_STOP,	/* the interrupt and its stop reply */
	GDBSTUB_OP_REGS,	/* a register batch (with the stacks read ahead with it) */
	GDBSTUB_OP_MEM,		/* memory reads beyond what came with the registers */
	GDBSTUB_OP_RESUME,
	GDBSTUB_OP_OTHER,
	GDBSTUB_NOPS
};

struct gdbstub_client_counters {
	struct {
		uint64_t writes, packets, bytes_out, bytes_in, wait_ns;
	} op[GDBSTUB_NOPS];
	uint64_t windows_guessed, windows_hit;	/* stack windows read with the registers */
};

void gdbstub_client_get_counters(struct target *t, struct gdbstub_client_counters *out);

/* Connect to a gdb stub and present it as a target; NULL with *err set on failure.
 * Free with gdbstub_client_close(). */
struct target *gdbstub_client_connect(const char *addr, const struct gdbstub_client_opts *o,
				      int *err);
/* The same over an already-connected stream (taken over: closed on failure and by close). */
struct target *gdbstub_client_attach_fd(int fd, const struct gdbstub_client_opts *o, int *err);
void gdbstub_client_close(struct target *t);
/* True when the peer was running when we attached: it then sends a stop reply unasked, as
 * QEMU does (a VM already paused, by -S or an earlier debugger, sends none). */
bool gdbstub_client_found_running(struct target *t);
/* Leave the peer: stop it if it runs, then with resume send 'D' so that it runs on;
 * without, stay stopped (gdbstub_client_close then disconnects, which leaves QEMU and
 * kprof's stub halted).  0 or -errno. */
int gdbstub_client_detach(struct target *t, bool resume);

#endif
