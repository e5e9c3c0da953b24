/* `kprof run` with a gdb stub: the glue between the VM (vmm/), the stub (gdbstub/) and the
 * profiler's `monitor stacks`, which know nothing of each other.  The stub owns the target's
 * events on its own thread; this thread only waits for the end. */
#include "cli/run_gdb.h"

#include "common/common.h"
#include "gdbstub/server.h"
#include "profiler/profiler.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>

#define RUN_GDB_DEFAULT "tcp::1234"	/* what QEMU's -s means */

int run_gdb_take_options(struct run_gdb_opts *o, int *argc, char **argv)
{
	bool have_syms_opt = false;
	int out = 1;

	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			/* the kernel's own arguments follow: leave them alone */
			while (i < *argc)
				argv[out++] = argv[i++];
			break;
		}
		if (!strcmp(a, "--gdb") || !strncmp(a, "--gdb=", 6)) {
			struct gdbstub_addr parsed;
			const char *v = a[5] == '=' ? a + 6 : (i + 1 < *argc ? argv[++i] : NULL);

			if (!v || gdbstub_parse_addr(v, &parsed)) {
				kp_error("--gdb: '%s' is not an address (tcp:HOST:PORT, tcp::PORT or "
					 "unix:PATH)", v ? v : "");
				return -EINVAL;
			}
			o->addr = v;
		} else if (!strcmp(a, "-s")) {
			o->addr = RUN_GDB_DEFAULT;
		} else if (!strcmp(a, "--gdb-wait")) {
			o->wait = true;
		} else if (!strcmp(a, "--symbols") || !strcmp(a, "--kaslr-offset")) {
			const char *v = i + 1 < *argc ? argv[++i] : NULL;

			if (!v || !*v) {
				kp_error("%s: needs a value", a);
				return -EINVAL;
			}
			if (a[2] == 's') {
				o->symbols = v;
			} else if (kp_parse_u64(v, &o->kaslr_offset)) {
				kp_error("--kaslr-offset: '%s' is not a decimal or 0x-hex number", v);
				return -EINVAL;
			}
			have_syms_opt = true;
		} else {
			argv[out++] = argv[i];
		}
	}
	*argc = out;
	argv[out] = NULL;
	if (o->wait && !o->addr)
		o->addr = RUN_GDB_DEFAULT;
	if (have_syms_opt && !o->addr) {
		kp_error("--symbols and --kaslr-offset are for `monitor stacks`: they need --gdb");
		return -EINVAL;
	}
	return 0;
}

void run_gdb_usage(FILE *f)
{
	fprintf(f, "  --gdb ADDR           serve the VM to gdb on tcp:HOST:PORT, tcp::PORT\n"
		   "                       (127.0.0.1) or unix:PATH; one gdb at a time\n"
		   "  -s                   same as --gdb tcp::1234\n"
		   "  --gdb-wait           keep every vCPU halted until gdb continues\n"
		   "  --symbols FILE       ELF whose symbols and CFI `monitor stacks` uses, when\n"
		   "                       not the booted file (e.g. a -dbg build)\n"
		   "  --kaslr-offset OFF   runtime address minus link address, for --symbols\n");
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
