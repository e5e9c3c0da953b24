/* gdbstub's protocol layer, shared by the server and the client and tested on its own (the
 * unit tests and fuzzers include it; nothing else outside gdbstub/ does): the codec (framing,
 * checksums, run-length decoding, binary escaping, hex) and the x86-64 register description.
 *
 * Every function returns 0 (or a count) on success and a negative errno on failure. */
#ifndef KPROF_GDBSTUB_RSP_H
#define KPROF_GDBSTUB_RSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/common.h"
#include "target/target.h"

/* ---- Codec ---- */

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

/* ---- x86-64 register description ---- */

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

#endif
