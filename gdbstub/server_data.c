/* The gdb stub's register and memory packets (g, G, p, P, m, M, X).  Memory goes through
 * the target's page-table walk; every length is bounded by the packet size first. */
#include "gdbstub/server_internal.h"

#include <errno.h>
#include <string.h>

/* The largest m reply, in bytes of memory, so that its hex fits in one packet. */
#define GS_MAX_MEM_XFER (RSP_MAX_PAYLOAD / 2)

enum gs_after gs_h_read_regs(struct gdbstub *gs, char *a, size_t n, struct kp_buf *reply)
{
	struct target_regs r;
	int e;

	(void)a;
	if (n) {
		gs_error(reply, EINVAL);
		return GS_REPLY;
	}
	e = target_get_regs(gs->t, gs->g_cpu, &r);
	if (e)
		gs_error(reply, e);
	else
		rsp_x86_regs_encode(reply, &r);
	return GS_REPLY;
}

enum gs_after gs_h_write_regs(struct gdbstub *gs, char *a, size_t n, struct kp_buf *reply)
{
	struct target_regs r;
	int e = target_get_regs(gs->t, gs->g_cpu, &r);

	if (!e)
		e = rsp_x86_regs_decode(a, n, &r);
	if (!e)
		e = target_set_regs(gs->t, gs->g_cpu, &r);
	if (e)
		gs_error(reply, e);
	else
		kp_buf_puts(reply, "OK");
	return GS_REPLY;
}

enum gs_after gs_h_read_reg(struct gdbstub *gs, char *a, size_t n, struct kp_buf *reply)
{
	struct rsp_cursor c;
	struct target_regs r;
	uint64_t regno;
	int e;

	rsp_cursor_init(&c, a, n);
	if (rsp_get_hex(&c, &regno) || !rsp_at_end(&c) || regno >= (uint64_t)rsp_x86_nregs()) {
		gs_error(reply, EINVAL);
		return GS_REPLY;
	}
	e = target_get_regs(gs->t, gs->g_cpu, &r);
	if (e)
		gs_error(reply, e);
	else
		rsp_x86_reg_encode(reply, (int)regno, &r);
	return GS_REPLY;
}

enum gs_after gs_h_write_reg(struct gdbstub *gs, char *a, size_t n, struct kp_buf *reply)
{
	struct rsp_cursor c;
	struct target_regs r;
	uint64_t regno;
	int e;

	rsp_cursor_init(&c, a, n);
	if (rsp_get_hex(&c, &regno) || rsp_expect(&c, '=') || regno >= (uint64_t)rsp_x86_nregs()) {
		gs_error(reply, EINVAL);
		return GS_REPLY;
	}
	e = target_get_regs(gs->t, gs->g_cpu, &r);
	if (!e)
		e = rsp_x86_reg_decode((int)regno, c.p, (size_t)(c.end - c.p), &r);
	if (!e)
		e = target_set_regs(gs->t, gs->g_cpu, &r);
	if (e == -ENOENT)
		e = -EINVAL;	/* a register we describe but cannot write */
	if (e)
		gs_error(reply, e);
	else
		kp_buf_puts(reply, "OK");
	return GS_REPLY;
}

/* "ADDR,LEN" followed by the end or by sep. */
static int parse_addr_len(struct rsp_cursor *c, uint64_t *addr, uint64_t *len, char sep)
{
	if (rsp_get_hex(c, addr) || rsp_expect(c, ',') || rsp_get_hex(c, len))
		return -EINVAL;
	if (sep ? rsp_expect(c, sep) : !rsp_at_end(c))
		return -EINVAL;
	/* A range that wraps past the top of the address space is cut at the top. */
	if (*len && *addr + *len - 1 < *addr)
		*len = 0 - *addr;
	return 0;
}

enum gs_after gs_h_read_mem(struct gdbstub *gs, char *a, size_t n, struct kp_buf *reply)
{
	struct rsp_cursor c;
	uint64_t addr, len;
	uint8_t buf[GS_MAX_MEM_XFER];
	ssize_t got;

	rsp_cursor_init(&c, a, n);
	if (parse_addr_len(&c, &addr, &len, 0)) {
		gs_error(reply, EINVAL);
		return GS_REPLY;
	}
	/* A stub may answer fewer bytes than asked; gdb asks again for the rest. */
	len = KP_MIN(len, (uint64_t)sizeof(buf));
	if (!len)
		return GS_REPLY;	/* empty data: an empty reply is the only encoding */
	got = target_read_mem(gs->t, gs->g_cpu, addr, buf, len);
	if (got <= 0)
		gs_error(reply, got < 0 ? (int)got : EFAULT);
	else
		rsp_hex_append(reply, buf, (size_t)KP_MIN((uint64_t)got, len));
	return GS_REPLY;
}

static void write_mem_reply(struct gdbstub *gs, uint64_t addr, const void *data, size_t len,
			    struct kp_buf *reply)
{
	ssize_t put = len ? target_write_mem(gs->t, gs->g_cpu, addr, data, len) : 0;

	if (put < 0)
		gs_error(reply, (int)put);
	else if ((size_t)put != len)
		gs_error(reply, EFAULT);
	else
		kp_buf_puts(reply, "OK");
}

enum gs_after gs_h_write_mem(struct gdbstub *gs, char *a, size_t n, struct kp_buf *reply)
{
	struct rsp_cursor c;
	uint64_t addr, len;
	uint8_t buf[RSP_MAX_PAYLOAD / 2];

	rsp_cursor_init(&c, a, n);
	if (parse_addr_len(&c, &addr, &len, ':') || len > sizeof(buf) ||
	    (size_t)(c.end - c.p) != 2 * len || rsp_hex_decode(c.p, len, buf)) {
		gs_error(reply, EINVAL);
		return GS_REPLY;
	}
	write_mem_reply(gs, addr, buf, len, reply);
	return GS_REPLY;
}

enum gs_after gs_h_write_mem_bin(struct gdbstub *gs, char *a, size_t n, struct kp_buf *reply)
{
	struct rsp_cursor c;
	uint64_t addr, len;
	ssize_t got;
	char *data;

	rsp_cursor_init(&c, a, n);
	if (parse_addr_len(&c, &addr, &len, ':')) {
		gs_error(reply, EINVAL);
		return GS_REPLY;
	}
	data = (char *)c.p;
	got = rsp_unescape(data, (size_t)(c.end - c.p));
	if (got < 0 || (uint64_t)got != len) {
		gs_error(reply, EINVAL);
		return GS_REPLY;
	}
	write_mem_reply(gs, addr, data, (size_t)len, reply);
	return GS_REPLY;
}
