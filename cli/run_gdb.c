/* `kprof run` with a gdb stub: the glue between the VM (vmm/), the stub (gdbstub/) and the
 * profiler's `monitor stacks`, which know nothing of each other.  The stub owns the target's
 * events on its own thread; this thread only waits for the end. */
#include "cli/run_gdb.h"

#include "common/common.h"
#include "gdbstub/server.h"
#include "profiler/sampler.h"
#include "profiler/symbols.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>

#define RUN_GDB_DEFAULT "tcp::1234"	/* what QEMU's -s means */

static int set_gdb(void *target, const struct kp_opt *opt, const char *v)
{
	struct run_gdb_opts *o = target;
	struct gdbstub_addr parsed;

	if (!v) {	/* -s */
		o->addr = RUN_GDB_DEFAULT;
		return 0;
	}
	if (gdbstub_parse_addr(v, &parsed))
		return kp_fail(-EINVAL, "--%s: '%s' is not an address (tcp:HOST:PORT, tcp::PORT or "
			       "unix:PATH)", opt->name, v);
	o->addr = v;
	return 0;
}

static int set_kaslr_offset(void *target, const struct kp_opt *opt, const char *v)
{
	struct run_gdb_opts *o = target;

	if (kp_parse_u64(v, &o->kaslr_offset))
		return kp_fail(-EINVAL, "--%s: '%s' is not a decimal or 0x-hex number", opt->name, v);
	o->kaslr_given = true;
	return 0;
}

#define GDB(field) KP_OPT_FIELD(struct run_gdb_opts, field)

const struct kp_opt run_gdb_options[] = {
	{ "gdb", 0, KP_OPT_CALL, "ADDR", "serve the VM to gdb on tcp:HOST:PORT, tcp::PORT\n"
	  "(127.0.0.1) or unix:PATH; one gdb at a time", .set = set_gdb },
	{ NULL, 's', KP_OPT_CALL, NULL, "same as --gdb tcp::1234", .set = set_gdb },
	{ "gdb-wait", 0, KP_OPT_FLAG, NULL, "keep every vCPU halted until gdb continues", GDB(wait) },
	{ "symbols", 0, KP_OPT_PATH, "FILE", "ELF whose symbols and CFI `monitor stacks` uses, when\n"
	  "not the booted file (e.g. a -dbg build)", GDB(symbols) },
	{ "kaslr-offset", 0, KP_OPT_CALL, "OFF", "runtime address minus link address, for --symbols",
	  .set = set_kaslr_offset },
	KP_OPT_END,
};

int run_gdb_check(struct run_gdb_opts *o)
{
	if (o->wait && !o->addr)
		o->addr = RUN_GDB_DEFAULT;
	if ((o->symbols || o->kaslr_given) && !o->addr)
		return kp_fail(-EINVAL, "--symbols and --kaslr-offset are for `monitor stacks`: they "
			       "need --gdb");
	return 0;
}

/* `monitor stacks [inline]`: the kernel's symbols and CFI are loaded at the first use, not at
 * start, so that a gdb session that never asks does not pay for them and the boot is not
 * delayed.  Without and with inlined frames are two loads, each made once. */
struct stacks_mon {
	const struct run_gdb_opts *o;
	const struct vmm_config *cfg;
	struct kernel_syms *k[2];	/* [0] plain, [1] with inlined frames */
	int err[2];			/* the load's error, kept so that it is not retried */
};

static int stacks_path(struct stacks_mon *m, char *buf, size_t len)
{
	if (m->o->symbols) {
		snprintf(buf, len, "%s", m->o->symbols);
		return 0;
	}
	if (m->cfg->kernel) {
		snprintf(buf, len, "%s", m->cfg->kernel);
		return 0;
	}
	if (m->cfg->restore_path)
		return vmm_snapshot_kernel(m->cfg->restore_path, buf, len);
	return -ENOENT;
}

static int monitor_stacks(void *ctx, struct target *t, const char *args, struct kp_buf *out)
{
	struct stacks_mon *m = ctx;
	char path[PATH_MAX];
	int inl;

	if (!*args)
		inl = 0;
	else if (!strcmp(args, "inline") || !strcmp(args, "--inline"))
		inl = 1;
	else
		return kp_buf_printf(out, "usage: monitor stacks [inline]\n") < 0 ? -ENOMEM : 0;
	if (!m->k[inl] && !m->err[inl]) {
		struct kernel_syms_opts ko = { .offset = m->o->kaslr_offset, .inline_frames = inl };

		m->err[inl] = stacks_path(m, path, sizeof(path));
		if (!m->err[inl])
			m->err[inl] = kernel_syms_open(path, &ko, &m->k[inl]);
		if (m->err[inl] == -ENOENT && !m->o->symbols && !m->cfg->kernel &&
		    !m->cfg->restore_path)
			return kp_buf_puts(out, "kprof: no kernel ELF known for this VM; "
					   "run kprof with --symbols FILE\n") < 0 ? -ENOMEM : 0;
	}
	if (m->err[inl])
		return kp_buf_printf(out, "kprof: cannot load the kernel's symbols: %s (see kprof's "
				     "standard error)\n", strerror(-m->err[inl])) < 0 ? -ENOMEM : 0;
	return profiler_monitor_stacks(m->k[inl], t, "", out);
}

static void stacks_mon_release(struct stacks_mon *m)
{
	for (size_t i = 0; i < KP_ARRAY_SIZE(m->k); i++)
		kernel_syms_free(m->k[i]);
}

/* Wait for the guest's end as the stub reports it; Ctrl-C kills the run, and the stub then
 * reports that end (to gdb too, if one is attached). */
static int wait_end(struct gdbstub *gs, struct target *t, int cancel_fd)
{
	struct target_event ev;
	bool killed = false;

	for (;;) {
		struct pollfd p = { .fd = cancel_fd, .events = POLLIN };

		if (!killed && cancel_fd >= 0 && poll(&p, 1, 0) == 1) {
			t->ops->kill(t);
			killed = true;
		}
		if (gdbstub_wait_end(gs, &ev, cancel_fd >= 0 && !killed ? 100 : -1) == 0)
			return 0;
	}
}

int run_gdb(struct vmm *vm, const struct vmm_config *cfg, const struct run_gdb_opts *o,
	    int cancel_fd, struct vmm_result *res)
{
	struct gdbstub *gs = gdbstub_new(vmm_target(vm), NULL);
	struct stacks_mon mon = { .o = o, .cfg = cfg };
	int e;

	if (!gs)
		return -ENOMEM;
	e = gdbstub_add_monitor(gs, "stacks", "every vCPU's stack as kprof unwinds it "
				"('stacks inline': with inlined calls)", monitor_stacks, &mon);
	/* Start the VM before the stub thread, so a gdb that attaches at once finds the
	 * vCPUs already under the target's control and halts them for good. */
	if (!e)
		e = gdbstub_listen(gs, o->addr);
	if (!e)
		e = vmm_start(vm);
	if (!e)
		e = gdbstub_start(gs);
	if (!e && o->wait)
		fprintf(stderr, "kprof: vCPUs halted until gdb attaches and continues\n");
	if (!e)
		e = wait_end(gs, vmm_target(vm), cancel_fd);
	/* The stub's thread is gone: nothing uses the symbols any more. */
	gdbstub_free(gs);
	stacks_mon_release(&mon);
	if (e)
		return e;
	vmm_get_result(vm, res);
	if (res->kind != VMM_END_EXIT && res->kind != VMM_END_KILLED) {
		kp_error("%s", res->message);
		if (res->cpu >= 0)
			vmm_dump_regs(vm, res->cpu, stderr);
	}
	return 0;
}
