/* What every part of the server answers through: a packet sent to the attached client, and
 * the error reply.  Kept apart from the session loop and the packet table so that the
 * handlers they dispatch to call down into this file, never back up into theirs. */
#include "gdbstub/server_internal.h"
#include "gdbstub/rsp_sock.h"

#include <errno.h>

int gs_send_packet(struct gdbstub *gs, const char *payload, size_t len)
{
	int e;

	if (gs->fd < 0)
		return -ENOTCONN;
	kp_buf_reset(&gs->last);
	e = rsp_frame(&gs->last, payload, len);
	if (!e)
		e = rsp_sock_write_all(gs->fd, gs->last.data, gs->last.len, GS_WRITE_TIMEOUT_MS);
	return e;
}

int gs_error(struct kp_buf *reply, int err)
{
	if (err < 0)
		err = -err;
	if (err <= 0 || err > 99)
		err = 1;
	kp_buf_reset(reply);
	return kp_buf_printf(reply, "E%02d", err);
}
