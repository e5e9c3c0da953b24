/* Internals of the gdb stub client (not a public header). */
#ifndef KPROF_GDBSTUB_CLIENT_INTERNAL_H
#define KPROF_GDBSTUB_CLIENT_INTERNAL_H

#include "gdbstub/client.h"
#include "gdbstub/rsp.h"

/* Where one register of ours sits in the peer's g packet. */
struct gc_reg {
	int offset;		/* in bytes from the start of the g data, -1: not there */
	int bytes;
};

/* Our target_regs fields, in this order, located in the peer's layout. */
enum gc_field {
	GC_GPR0,		/* GC_GPR0 + enum target_gpr */
	GC_RIP = GC_GPR0 + TREG_NGPR,
	GC_EFLAGS, GC_CS, GC_SS, GC_DS, GC_ES, GC_FS, GC_GS,
	GC_FS_BASE, GC_GS_BASE, GC_K_GS_BASE,
	GC_CR0, GC_CR2, GC_CR3, GC_CR4, GC_CR8, GC_EFER,
	GC_NFIELDS
};

struct gclient {
	struct target t;	/* first: the target interface */
	int fd;
	int timeout_ms;
	bool no_ack;
	bool vcont;
	size_t packet_size;
	bool running;
	bool found_running;
	bool multiprocess;	/* thread ids come as pPID.TID (QEMU keeps this once a gdb asked) */	/* the peer announced stopping a running VM when we attached */
	bool ended;		/* the peer said W/X, or the connection dropped */
	bool end_reported;
	struct target_event end_ev;
	int ncpu;
	uint64_t tids[TARGET_MAX_CPUS];
	uint64_t g_tid;		/* last Hg sent, 0: none */
	struct gc_reg layout[GC_NFIELDS];
	struct kp_buf out;	/* last packet sent (resent on a '-') */
	struct kp_buf wq;	/* packets and acks not yet written: flushed in one write
				 * before waiting for a reply, or by gc_flush */
	bool wq_request;	/* wq holds more than acks */
	struct kp_buf reply;	/* last reply */
	struct rsp_framer fr;
	/* Bytes received but not yet framed: replies are read in blocks, not a byte a call. */
	size_t rpos, rlen;
	uint8_t rbuf[16384];
	/* Registers of every thread, fetched in one pipelined batch per stop. */
	bool regs_valid[TARGET_MAX_CPUS];
	struct target_regs regs[TARGET_MAX_CPUS];
	/* With them, the stack each thread's last stop needed (at most stack_prefetch bytes
	 * from its rsp, opts): a window around the rsp of the last stop, read in the register
	 * batch, or when that misses, [rsp, rsp + pf_want) in a second one. */
	size_t prefetch;
	size_t pf_stride;		/* bytes per thread in pf_buf: the guessed window's size */
	uint8_t *pf_buf;		/* ncpu * pf_stride bytes */
	uint64_t pf_base[TARGET_MAX_CPUS];	/* guest address of the thread's window */
	size_t pf_len[TARGET_MAX_CPUS];	/* of it read */
	bool pf_cut[TARGET_MAX_CPUS];	/* nothing readable beyond pf_len */
	bool pf_guessed[TARGET_MAX_CPUS];	/* this stop's window was guessed */
	bool pf_hit[TARGET_MAX_CPUS];	/* ... and holds the stack */
	size_t pf_want[TARGET_MAX_CPUS];	/* bytes above rsp to read ahead (size_window) */
	size_t pf_need[TARGET_MAX_CPUS];	/* how far above rsp this stop's reads reached */
	bool guess_valid[TARGET_MAX_CPUS];
	uint64_t guess[TARGET_MAX_CPUS];	/* rsp at the last stop (kernel mode) */
	enum gdbstub_client_op op;	/* what the wire traffic is for, in counters */
	struct gdbstub_client_counters counters;
};

/* client_target.c */
extern const struct target_ops gc_target_ops;
/* A dropped or silent connection ends the target (TARGET_EV_GONE); returns e. */
int gc_note_gone(struct gclient *c, int e);

/* client_io.c: one request, one reply (console 'O' packets skipped).  gc_send queues; the
 * queue goes out in one write when a reply is awaited (gc_recv) or on gc_flush. */
int gc_send(struct gclient *c, const char *payload, size_t len);
int gc_flush(struct gclient *c);
int gc_recv(struct gclient *c, int timeout_ms);
int gc_request(struct gclient *c, const char *fmt, ...) KP_PRINTF(2, 3);
/* The two halves of gc_request, for pipelining: several requests go out back to back and
 * their replies, which a stub sends in order, are read afterwards. */
int gc_sendf(struct gclient *c, const char *fmt, ...) KP_PRINTF(2, 3);
int gc_reply(struct gclient *c);
/* The reply as an errno: 0 for OK, -ENOTSUP for empty, -EIO/-EFAULT for Exx. */
int gc_reply_status(const struct gclient *c);
/* Parse a stop reply into ev; returns 1 for a stop, 0 for something else. */
int gc_parse_stop(struct gclient *c, const char *p, size_t n, struct target_event *ev);
/* Thread ids: "TID" or "pPID.TID", kept as PID << 32 | TID; formatted back the same way. */
int gc_get_tid(struct gclient *c, struct rsp_cursor *cur, uint64_t *tid);
const char *gc_tid_str(const struct gclient *c, uint64_t tid, char buf[40]);
/* The largest m/M chunk: its hex must fit the peer's PacketSize. */
size_t gc_mem_chunk(const struct gclient *c);
/* client_regs.c: learn the peer's register layout (target.xml, or gdb's amd64 default). */
int gc_learn_layout(struct gclient *c);
int gc_decode_regs(const struct gclient *c, const char *hex, size_t n, struct target_regs *r);

#endif
