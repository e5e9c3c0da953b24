/* gdbstub: the GDB remote serial protocol (RSP), both ways.
 *
 * - The codec (framing, checksums, run-length decoding, binary escaping, hex) is shared
 *   by both halves.
 * - The server serves any struct target to a stock gdb (all-stop mode): vCPUs are gdb
 *   threads (thread id = vCPU index + 1), registers are described by a target.xml for
 *   i386:x86-64, breakpoints use the target's debug registers.
 * - The client is a struct target that talks to any gdb stub (QEMU's or ours).
 *
 * Every function returns 0 (or a count) on success and a negative errno on failure.
 */
#ifndef KPROF_GDBSTUB_H
#define KPROF_GDBSTUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "target/target.h"

/* ---- Codec --------------------------------------------------------------------- */

/* Largest packet payload we accept or send (advertised as PacketSize). */
#define RSP_MAX_PAYLOAD 0x4000
/* In kprof's answer to qSupported: the stub stopped a running VM when this client
 * attached (QEMU says so with an unsolicited stop reply instead). */
#define RSP_FEATURE_STOPPED_ON_ATTACH "kprof-stopped-on-attach+"

enum rsp_event {
	RSP_EV_NONE,		/* byte consumed, nothing complete yet */
	RSP_EV_PACKET,		/* a packet with a good checksum: rsp_framer.buf/len */
	RSP_EV_BAD_CHECKSUM,	/* a packet whose checksum did not match (nack it) */
	RSP_EV_MALFORMED,	/* bad run-length encoding or bad checksum digits */
	RSP_EV_OVERSIZE,	/* a packet longer than RSP_MAX_PAYLOAD (dropped) */
	RSP_EV_ACK,		/* '+' */
	RSP_EV_NACK,		/* '-' */
	RSP_EV_INTERRUPT,	/* 0x03 outside a packet */
};

/* A byte-at-a-time parser for the stream between '$' and the checksum.  The payload
 * is run-length expanded but not unescaped (escaping belongs to binary packets). */
struct rsp_framer {
	int state;
	uint8_t sum;		/* running checksum of the raw bytes */
	uint8_t csum;		/* checksum digits received */
	bool overflow;
	bool bad;
	size_t len;
	char buf[RSP_MAX_PAYLOAD + 1];	/* NUL-terminated for convenience */
};

void rsp_framer_init(struct rsp_framer *f);
enum rsp_event rsp_framer_feed(struct rsp_framer *f, uint8_t c);

/* Append "$payload#cs" to out.  The payload must already be escaped. */
int rsp_frame(struct kp_buf *out, const void *payload, size_t len);
/* Append data with '#', '$', '}' and '*' escaped as '}' (c ^ 0x20). */
int rsp_escape(struct kp_buf *out, const void *data, size_t len);
/* Undo rsp_escape in place; returns the new length or -EINVAL on a dangling '}'. */
ssize_t rsp_unescape(char *data, size_t len);
/* Append data as lowercase hex, two digits a byte. */
int rsp_hex_append(struct kp_buf *out, const void *data, size_t len);
/* Decode exactly 2*n hex digits into out; -EINVAL on a non-hex digit. */
int rsp_hex_decode(const char *hex, size_t n, void *out);
int rsp_hex_value(int c);

/* A cursor over a packet payload for strict parsing. */
struct rsp_cursor {
	const char *p;
	const char *end;
};
void rsp_cursor_init(struct rsp_cursor *c, const char *data, size_t len);
/* 1 to 16 hex digits; -EINVAL otherwise. */
int rsp_get_hex(struct rsp_cursor *c, uint64_t *v);
/* Consume ch or fail with -EINVAL. */
int rsp_expect(struct rsp_cursor *c, char ch);
bool rsp_at_end(const struct rsp_cursor *c);
/* Consume a literal prefix; true when it was there. */
bool rsp_skip(struct rsp_cursor *c, const char *lit);

/* ---- x86-64 register description ----------------------------------------------- */

/* The target.xml we serve (NUL-terminated, static). */
const char *rsp_x86_target_xml(size_t *len);
/* Number of registers in the description, and the g packet's size in bytes. */
int rsp_x86_nregs(void);
/* Append register regno as gdb expects (little-endian hex, 'x' when unavailable). */
int rsp_x86_reg_encode(struct kp_buf *out, int regno, const struct target_regs *r);
/* Store hex (2*size digits) into register regno; -ENOENT for one we cannot write. */
int rsp_x86_reg_decode(int regno, const char *hex, size_t n, struct target_regs *r);
/* The whole g packet, and its inverse (unavailable parts are skipped). */
int rsp_x86_regs_encode(struct kp_buf *out, const struct target_regs *r);
int rsp_x86_regs_decode(const char *hex, size_t n, struct target_regs *r);

/* ---- Addresses ----------------------------------------------------------------- */

/* "tcp:HOST:PORT", "tcp::PORT", "HOST:PORT", ":PORT", "PORT" or "unix:PATH".  An empty
 * host means 127.0.0.1, as QEMU does for -gdb tcp::1234. */
struct gdbstub_addr {
	bool is_unix;
	char host[256];
	char port[16];
	char path[108];
};
int gdbstub_parse_addr(const char *s, struct gdbstub_addr *a);

/* ---- Server -------------------------------------------------------------------- */

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

/* ---- Client -------------------------------------------------------------------- */

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
