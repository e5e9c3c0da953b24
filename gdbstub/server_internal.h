/* Internals of the gdb stub server, shared by its files (not a public header). */
#ifndef KPROF_GDBSTUB_SERVER_INTERNAL_H
#define KPROF_GDBSTUB_SERVER_INTERNAL_H

#include "gdbstub/rsp.h"
#include "gdbstub/server.h"

#include <pthread.h>

#define GS_MAX_BPS 64
#define GS_MAX_MONITORS 16

/* What a packet handler asks the connection loop to do after it returns. */
enum gs_after {
	GS_REPLY,		/* send the reply */
	GS_RESUMED,		/* the target runs: the reply is the stop reply, later */
	GS_REPLY_CLOSE,		/* send the reply, then drop the client (D, k) */
};

struct gs_bp {
	int type;		/* Z packet type, 0-4 */
	int target_kind;	/* what we asked the target for (Z0 may become HW) */
	uint64_t addr, len;
	int refs;
};

struct gs_monitor {
	char name[32];
	char help[96];
	gdbstub_monitor_fn fn;
	void *ctx;
};

struct gdbstub {
	struct target *t;
	struct gdbstub_opts opts;
	int ncpu;

	/* listening */
	int listen_fd;
	int wake_fd[2];		/* gdbstub_free wakes the thread through this pipe */
	char address[300];
	char unix_path[108];
	pthread_t thread;
	bool thread_started;

	/* --gdb-wait: set once a client resumes the target */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool resumed_once;
	/* the target's end (exit, fault, kill), once the stub has seen it */
	bool ended;
	struct target_event end_ev;
	bool end_deferred;	/* a fault stays inspectable until the client leaves */
	struct target_event deferred_ev;

	/* the current connection */
	int fd;
	bool no_ack;
	bool running;		/* resumed by the client; a stop reply is owed */
	bool stopped_on_attach;	/* the VM ran until this client attached */
	bool exited;		/* the guest is gone: '?' answers W */
	int exit_status;
	int g_cpu, c_cpu;	/* Hg / Hc selections (vCPU index) */
	int stop_cpu;		/* vCPU named in the last stop reply */
	struct rsp_framer fr;
	struct kp_buf last;	/* last packet sent, for '-' retransmission */

	/* a second client being refused */
	int refuse_fd;
	uint64_t refuse_deadline;
	struct rsp_framer refuse_fr;

	struct gs_bp bps[GS_MAX_BPS];
	struct gs_monitor mons[GS_MAX_MONITORS];
	int nmons;
};

/* server_packets.c: dispatch one received packet. */
enum gs_after gs_handle_packet(struct gdbstub *gs, char *pkt, size_t len, struct kp_buf *reply);
/* server_data.c: register and memory packets (arguments after the packet letter). */
enum gs_after gs_h_read_regs(struct gdbstub *gs, char *a, size_t n, struct kp_buf *reply);
enum gs_after gs_h_write_regs(struct gdbstub *gs, char *a, size_t n, struct kp_buf *reply);
enum gs_after gs_h_read_reg(struct gdbstub *gs, char *a, size_t n, struct kp_buf *reply);
enum gs_after gs_h_write_reg(struct gdbstub *gs, char *a, size_t n, struct kp_buf *reply);
enum gs_after gs_h_read_mem(struct gdbstub *gs, char *a, size_t n, struct kp_buf *reply);
enum gs_after gs_h_write_mem(struct gdbstub *gs, char *a, size_t n, struct kp_buf *reply);
enum gs_after gs_h_write_mem_bin(struct gdbstub *gs, char *a, size_t n, struct kp_buf *reply);
/* server_exec.c: execution control and stop replies. */
enum gs_after gs_handle_resume(struct gdbstub *gs, const char *pkt, size_t len,
			       struct kp_buf *reply);
int gs_stop_reply(struct gdbstub *gs, const struct target_event *ev, struct kp_buf *reply);
int gs_interrupt(struct gdbstub *gs, struct kp_buf *reply);
int gs_breakpoint(struct gdbstub *gs, bool insert, const char *pkt, size_t len,
		  struct kp_buf *reply);
void gs_remove_all_breakpoints(struct gdbstub *gs);
void gs_mark_resumed(struct gdbstub *gs);
void gs_publish_end(struct gdbstub *gs, const struct target_event *ev);
/* server_monitor.c */
int gs_monitor(struct gdbstub *gs, const char *hexcmd, size_t len, struct kp_buf *reply);
/* server_session.c: serve one client (1: asked to quit); events while nobody is attached. */
int gs_session(struct gdbstub *gs, int fd);
void gs_idle_events(struct gdbstub *gs);

/* server_reply.c */
#define GS_WRITE_TIMEOUT_MS 5000	/* a client that reads nothing for this long is dropped */
int gs_send_packet(struct gdbstub *gs, const char *payload, size_t len);
/* "Enn" with a decimal errno, as QEMU and gdbserver answer (E14 = EFAULT, E22 = EINVAL). */
int gs_error(struct kp_buf *reply, int err);

#endif
