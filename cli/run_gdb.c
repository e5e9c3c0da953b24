/* `kprof run` with a gdb stub: the glue between the VM (vmm/) and the stub (gdbstub/),
 * which know nothing of each other.  The stub owns the target's events on its own
 * thread; this thread only waits for the end. */
#include "cli/run_gdb.h"

#include "common/common.h"
#include "gdbstub/gdbstub.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

#define RUN_GDB_DEFAULT "tcp::1234"	/* what QEMU's -s means */

int run_gdb_take_options(struct run_gdb_opts *o, int *argc, char **argv)
{
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
		} else {
			argv[out++] = argv[i];
		}
	}
	*argc = out;
	argv[out] = NULL;
	if (o->wait && !o->addr)
		o->addr = RUN_GDB_DEFAULT;
	return 0;
}

void run_gdb_usage(FILE *f)
{
	fprintf(f, "  --gdb ADDR           serve the VM to gdb on tcp:HOST:PORT, tcp::PORT\n"
		   "                       (127.0.0.1) or unix:PATH; one gdb at a time\n"
		   "  -s                   same as --gdb tcp::1234\n"
		   "  --gdb-wait           keep every vCPU halted until gdb continues\n");
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

int run_gdb(struct vmm *vm, const struct run_gdb_opts *o, int cancel_fd, struct vmm_result *res)
{
	struct gdbstub *gs = gdbstub_new(vmm_target(vm), NULL);
	int e;

	if (!gs)
		return -ENOMEM;
	/* Start the VM before the stub thread, so a gdb that attaches at once finds the
	 * vCPUs already under the target's control and halts them for good. */
	e = gdbstub_listen(gs, o->addr);
	if (!e)
		e = vmm_start(vm);
	if (!e)
		e = gdbstub_start(gs);
	if (!e && o->wait)
		fprintf(stderr, "kprof: vCPUs halted until gdb attaches and continues\n");
	if (!e)
		e = wait_end(gs, vmm_target(vm), cancel_fd);
	gdbstub_free(gs);
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
