/* gdb's "monitor" commands (qRcmd): built-ins plus commands other modules register,
 * such as the profiler's "monitor stacks". */
#include "gdbstub/server_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define GS_MAX_CMD 1024

int gdbstub_add_monitor(struct gdbstub *gs, const char *name, const char *help,
			gdbstub_monitor_fn fn, void *ctx)
{
	struct gs_monitor *m;

	if (!name || !*name || strlen(name) >= sizeof(m->name) || !fn)
		return -EINVAL;
	if (gs->nmons >= GS_MAX_MONITORS)
		return -ENOSPC;
	m = &gs->mons[gs->nmons++];
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->help, sizeof(m->help), "%s", help ? help : "");
	m->fn = fn;
	m->ctx = ctx;
	return 0;
}

static int mon_info_cpus(struct gdbstub *gs, struct kp_buf *out)
{
	for (int i = 0; i < gs->ncpu; i++) {
		struct target_regs r;
		char desc[64];

		if (target_describe_cpu(gs->t, i, desc, sizeof(desc)))
			snprintf(desc, sizeof(desc), "CPU#%d", i);
		if (target_get_regs(gs->t, i, &r) == 0)
			kp_buf_printf(out, "* %s thread %d pc=0x%016llx sp=0x%016llx\n", desc, i + 1,
				      (unsigned long long)r.rip,
				      (unsigned long long)r.gpr[TREG_RSP]);
		else
			kp_buf_printf(out, "* %s thread %d (registers unreadable)\n", desc, i + 1);
	}
	return 0;
}

static void mon_help(struct gdbstub *gs, struct kp_buf *out)
{
	kp_buf_puts(out, "kprof gdb stub monitor commands:\n"
			 "  help       this list\n"
			 "  info cpus  each vCPU's state, pc and stack pointer\n");
	for (int i = 0; i < gs->nmons; i++)
		kp_buf_printf(out, "  %-10s %s\n", gs->mons[i].name, gs->mons[i].help);
}

/* "name" or "name args": returns the arguments, or NULL when cmd is another command. */
static const char *match_cmd(const char *cmd, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(cmd, name, n))
		return NULL;
	if (cmd[n] == 0)
		return cmd + n;
	if (cmd[n] != ' ')
		return NULL;
	while (cmd[n] == ' ')
		n++;
	return cmd + n;
}

static int run_cmd(struct gdbstub *gs, const char *cmd, struct kp_buf *out)
{
	const char *args;

	if (match_cmd(cmd, "help")) {
		mon_help(gs, out);
		return 0;
	}
	if (match_cmd(cmd, "info cpus") || match_cmd(cmd, "cpus"))
		return mon_info_cpus(gs, out);
	for (int i = 0; i < gs->nmons; i++)
		if ((args = match_cmd(cmd, gs->mons[i].name)))
			return gs->mons[i].fn(gs->mons[i].ctx, gs->t, args, out);
	kp_buf_printf(out, "unknown monitor command '%s'; try 'monitor help'\n", cmd);
	return 0;
}

int gs_monitor(struct gdbstub *gs, const char *hexcmd, size_t len, struct kp_buf *reply)
{
	char cmd[GS_MAX_CMD + 1];
	struct kp_buf out;
	size_t n = len / 2, b, e;
	int r;

	if (len % 2 || n > GS_MAX_CMD || rsp_hex_decode(hexcmd, n, cmd))
		return gs_error(reply, EINVAL);
	cmd[n] = 0;
	if (strlen(cmd) != n)
		return gs_error(reply, EINVAL);	/* an embedded NUL */
	for (b = 0; cmd[b] == ' '; b++)
		;
	for (e = n; e > b && (cmd[e - 1] == ' ' || cmd[e - 1] == '\n'); e--)
		;
	cmd[e] = 0;

	kp_buf_init(&out);
	r = run_cmd(gs, cmd + b, &out);
	if (r) {
		kp_buf_release(&out);
		return gs_error(reply, r);
	}
	kp_buf_reset(reply);
	if (out.len == 0) {
		kp_buf_release(&out);
		return kp_buf_puts(reply, "OK");
	}
	if (2 * out.len <= RSP_MAX_PAYLOAD) {
		r = rsp_hex_append(reply, out.data, out.len);
		kp_buf_release(&out);
		return r;
	}
	/* Long output travels as console packets before the final OK. */
	for (size_t off = 0; off < out.len; off += RSP_MAX_PAYLOAD / 4) {
		struct kp_buf o;
		size_t chunk = KP_MIN(out.len - off, (size_t)RSP_MAX_PAYLOAD / 4);

		kp_buf_init(&o);
		kp_buf_putc(&o, 'O');
		rsp_hex_append(&o, out.data + off, chunk);
		gs_send_packet(gs, o.data, o.len);
		kp_buf_release(&o);
	}
	kp_buf_release(&out);
	return kp_buf_puts(reply, "OK");
}
