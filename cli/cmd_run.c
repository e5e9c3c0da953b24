/* kprof run: boot a PVH kernel ELF under KVM until it ends through the debug-exit port.
 *
 * Exit status: the byte the guest wrote to port 0xf4; otherwise one of enum vmm_exit_status
 * (2 bad usage or input, 3 host/KVM problem, 120 guest shutdown/triple fault, 121 KVM internal
 * error, 122 unhandled exit, 123 killed by a debugger), or 128+N after signal N.  The boot
 * profile goes to stderr, so stdout stays the console. */
#include "bootlab/bootlab.h"
#include "cli/commands.h"
#include "common/common.h"
#include "vmm/vmm.h"
#include "cli/console.h"
#include "cli/run_gdb.h"
#include "cli/run_options.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define RUN_EPILOG                                                                            \
	"\nkprof exits with the value the guest writes to the debug-exit port 0xf4,\n"          \
	"2 for bad usage or input, 3 when KVM is unavailable or fails, 120 when the\n"          \
	"guest shuts down (triple fault), 121 on a KVM internal error, 122 on an\n"             \
	"unhandled exit, 123 when a debugger's kill or the console's Ctrl-A X ends it,\n"      \
	"128+N when ended by signal N (Ctrl-C: 130).\n"

/* Ctrl-C or SIGTERM end the run cleanly (console flushed, profile printed), and with
 * --console a hang-up too (the terminal's modes are restored first).  Blocked before the
 * vCPU threads exist, so they inherit the mask and only the signalfd sees these signals. */
static int stop_signal_fd(bool console)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (console)
		sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* 128 + the signal that ended the run, as a shell reports it, or the run's own status. */
static int signal_status(int sfd, const struct vmm_result *res)
{
	struct signalfd_siginfo si;

	if (res->kind == VMM_END_KILLED && sfd >= 0 &&
	    read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		return 128 + (int)si.ssi_signo;
	return res->exit_status;
}

int cmd_run(int argc, char **argv)
{
	struct vmm_config cfg;
	struct vmm_boot_profile prof;
	struct vmm_result res;
	struct vmm *vm;
	struct run_gdb_opts gdb = { 0 };
	struct console *con = NULL;
	struct console_opts console = { 0 };
	int ret, status, sfd;

	const struct kp_opt_group groups[] = {
		{ .title = "options:", .opts = run_options, .target = &cfg },
		{ .opts = console_options, .target = &console },
		{ .opts = run_gdb_options, .target = &gdb },
	};
	const struct kp_opts opts = {
		.cmd = "run", .groups = groups, .ngroups = KP_ARRAY_SIZE(groups),
		.usage = "usage: kprof run [options] KERNEL.elf\n\n"
			 "Boot an x86-64 ELF kernel with a PVH entry note under KVM.\n\n",
		.epilog = RUN_EPILOG, .operand = run_options_kernel, .ctx = &cfg,
	};
	int next = 1;

	vmm_config_init(&cfg);
	cfg.t0_ns = kp_now_ns();
	ret = kp_opts_parse(&opts, argc, argv, &next);
	if (ret == KP_OPTS_HELP)
		return 0;
	if (ret || run_gdb_check(&gdb) || run_options_check(&cfg, "run"))
		return VMM_EXIT_USAGE;
	cfg.start_halted = gdb.wait;
	sfd = stop_signal_fd(console.on);
	ret = vmm_create(&cfg, &vm);
	if (!ret && console.on)
		ret = console_start(vm, &con);
	if (ret) {
		vmm_destroy(vm);
		if (sfd >= 0)
			close(sfd);
		return vmm_error_exit_status(ret);
	}
	ret = gdb.addr ? run_gdb(vm, &cfg, &gdb, sfd, &res) : vmm_run_until_exit_fd(vm, sfd, &res);
	/* Before anything else is printed: the terminal is itself again. */
	console_stop(con);
	if (ret) {
		kp_error("%s: run failed: %s", cfg.kernel ? cfg.kernel : cfg.restore_path, strerror(-ret));
		vmm_destroy(vm);
		return VMM_EXIT_HOST;
	}
	status = signal_status(sfd, &res);
	if (sfd >= 0)
		close(sfd);
	vmm_get_boot_profile(vm, &prof);
	vmm_destroy(vm);
	/* After Ctrl-C a write blocked on a full pipe may have been cut short by the stop:
	 * say so, but the status stays the signal's. */
	if (kp_close_output(stdout, "standard output") && res.kind != VMM_END_KILLED)
		return VMM_EXIT_HOST;
	if (cfg.boot_profile != VMM_PROFILE_NONE) {
		vmm_boot_profile_finish(&prof, kp_now_ns());
		bl_boot_profile_print(&prof, cfg.boot_profile, stderr);
	}
	return status;
}
