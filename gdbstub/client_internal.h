/* Internals of the gdb stub client (not a public header). */
#ifndef KPROF_GDBSTUB_CLIENT_INTERNAL_H
#define KPROF_GDBSTUB_CLIENT_INTERNAL_H

#include "gdbstub/gdbstub.h"

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
	bool ended;		/* the peer said W/X, or the connection dropped */
	bool end_reported;
	struct target_event end_ev;
	int ncpu;
	uint64_t tids[TARGET_MAX_CPUS];
	uint64_t g_tid;		/* last Hg sent, 0: none */
	struct gc_reg layout[GC_NFIELDS];
	struct kp_buf out;	/* packet being sent */
	struct kp_buf reply;	/* last reply */
	struct rsp_framer fr;
};

/* client_target.c */
extern const struct target_ops gc_target_ops;
/* A dropped or silent connection ends the target (TARGET_EV_GONE); returns e. */
int gc_note_gone(struct gclient *c, int e);

/* client_io.c: one request, one reply (console 'O' packets skipped). */
int gc_send(struct gclient *c, const char *payload, size_t len);
int gc_recv(struct gclient *c, int timeout_ms);
int gc_request(struct gclient *c, const char *fmt, ...) KP_PRINTF(2, 3);
/* The reply as an errno: 0 for OK, -ENOTSUP for empty, -EIO/-EFAULT for Exx. */
int gc_reply_status(const struct gclient *c);
/* Parse a stop reply into ev; returns 1 for a stop, 0 for something else. */
int gc_parse_stop(struct gclient *c, const char *p, size_t n, struct target_event *ev);
/* client_regs.c: learn the peer's register layout (target.xml, or gdb's amd64 default). */
int gc_learn_layout(struct gclient *c);
int gc_decode_regs(const struct gclient *c, const char *hex, size_t n, struct target_regs *r);

#endif
