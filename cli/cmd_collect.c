/* kprof collect: sample every vCPU's stack of a kernel, write a profile.  The kernel runs
 * in-process (booted by kprof) or behind any gdb stub (--remote: QEMU's -gdb, kprof run --gdb).
 *
 *   kprof collect [--samples N] [--interval S | --frequency HZ] [--cpu-mask MASK]
 *                 [--max-depth D] [--inline] [--symbols FILE] [--kaslr-offset OFF]
 *                 [--modules DIR] [--by-stage]
 *                 [--format json|folded|svg|speedscope|pprof] [-o FILE] -- [kprof run options] KERNEL.elf
 *   kprof collect --remote ADDR --symbols KERNEL.elf [the same sampling and output options]
 *
 * Exit status: 0 when the profile was written (also after Ctrl-C, which ends sampling early),
 * 1 when the guest ended or failed, or the gdb stub went away, before every sample was taken
 * (what was sampled is still written), 2 for bad usage or input, 3 when KVM, the connection
 * to the stub, or the output failed.
 */
#include "cli/commands.h"
#include "cli/flame_options.h"
#include "cli/run_options.h"
#include "convert/convert.h"
#include "common/common.h"
#include "gdbstub/client.h"
#include "profiler/profile.h"
#include "profiler/sampler.h"
#include "profiler/symbols.h"
#include "target/target.h"
#include "vmm/vmm.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define DEFAULT_OUTPUT "trace.json"

/* Exit statuses (see the header comment); 2 and 3 agree with `kprof run`'s. */
enum { COLLECT_PARTIAL = 1, COLLECT_USAGE = 2, COLLECT_FAILED = 3 };
#define WAIT_ONLINE_S 30.0

struct collect_opts {
	struct sampler_opts s;
	unsigned max_depth;
	const char *symbols;
	const char *modules;		/* --modules DIR */
	uint64_t kaslr_offset;
	bool kaslr_given;		/* --kaslr-offset N: no search */
	const char *output;
	const char *format;
	const char *remote;	/* --remote ADDR: a gdb stub instead of an in-process VM */
	bool have_interval, have_frequency;
	bool inline_frames;
	struct flame_task_opts task;	/* CONVERT_TASKS_NONE: tasks not even read */
	size_t samples_taken;
};

static int set_interval(void *target, const struct kp_opt *opt, const char *v)
{
	struct collect_opts *o = target;
	double d;

	if (!strcmp(v, "0")) {
		d = 0;	/* back to back: as fast as the target allows */
	} else if (kp_parse_seconds(v, &d) || d > 3600) {
		return kp_fail(-EINVAL, "--%s: '%s' is not a number of seconds (0 to 3600)", opt->name,
			       v);
	}
	o->s.interval_s = d;
	o->have_interval = true;
	return 0;
}

static int set_frequency(void *target, const struct kp_opt *opt, const char *v)
{
	struct collect_opts *o = target;
	double d;

	if (kp_parse_seconds(v, &d) || d > 1e6)
		return kp_fail(-EINVAL, "--%s: '%s' is not a rate in Hz (up to 1000000)", opt->name, v);
	o->s.interval_s = 1.0 / d;
	o->have_frequency = true;
	return 0;
}

static int set_cpu_mask(void *target, const struct kp_opt *opt, const char *v)
{
	struct collect_opts *o = target;

	return flame_cpu_mask_parse(opt, v, &o->s.cpus);
}

static int set_kaslr_offset(void *target, const struct kp_opt *opt, const char *v)
{
	struct collect_opts *o = target;

	if (!strcmp(v, "auto")) {
		o->kaslr_given = false;
		return 0;
	}
	if (kp_parse_u64(v, &o->kaslr_offset))
		return kp_fail(-EINVAL, "--%s: '%s' is not 'auto' or a decimal or 0x-hex number",
			       opt->name, v);
	o->kaslr_given = true;
	return 0;
}

#define COLLECT(field) KP_OPT_FIELD(struct collect_opts, field)

static const struct kp_opt collect_options[] = {
	{ "remote", 0, KP_OPT_STR, "ADDR",
	  "sample through a gdb stub: tcp:HOST:PORT, HOST:PORT, :PORT or\n"
	  "unix:PATH (QEMU's -gdb, kprof run --gdb); needs --symbols", COLLECT(remote) },
	{ "samples", 0, KP_OPT_UINT, "N", "samples to take (default 200)", COLLECT(s.samples),
	  .min = 1, .max = 100000000, .what = "count" },
	{ "interval", 0, KP_OPT_CALL, "SECONDS", "time between samples (default 0.1)",
	  .set = set_interval },
	{ "frequency", 0, KP_OPT_CALL, "HZ", "samples per second (instead of --interval)",
	  .set = set_frequency },
	{ "cpu-mask", 0, KP_OPT_CALL, "MASK",
	  "vCPUs to sample, decimal or 0x-hex up to 128 bits (default all)", .set = set_cpu_mask },
	{ "max-depth", 0, KP_OPT_UINT, "D", "frames per stack at most (default 256)",
	  COLLECT(max_depth), .min = 1, .max = 4096, .what = "depth" },
	{ "inline", 0, KP_OPT_FLAG, NULL, "show inlined functions (DWARF debug info) as frames",
	  COLLECT(inline_frames) },
	{ "symbols", 0, KP_OPT_STR, "FILE",
	  "ELF with symbols and CFI, when not the booted file (e.g. -dbg)", COLLECT(symbols) },
	{ "modules", 0, KP_OPT_STR, "DIR",
	  "a Linux kernel's .ko (or .ko.xz) files, e.g. lib/modules/VERSION\n"
	  "or the -dbg package's usr/lib/debug/lib/modules/VERSION: frames in\n"
	  "loaded modules are unwound and named ('brd_submit_bio [brd]')", COLLECT(modules) },
	{ "kaslr-offset", 0, KP_OPT_CALL, "OFF",
	  "runtime address minus link address (decimal or 0x-hex); with\n"
	  "--remote and a Linux vmlinux, found in the target when not\n"
	  "given (or 'auto')", .set = set_kaslr_offset },
	{ "format", 0, KP_OPT_STR, "FMT",
	  "json (trace.json), folded, svg, speedscope or pprof (default:\n"
	  "from -o's extension: .json .folded .svg .speedscope.json\n"
	  ".pb.gz; else json)", COLLECT(format) },
	{ "output", 'o', KP_OPT_STR, "FILE", "output file (default " DEFAULT_OUTPUT ", \"-\" for stdout)",
	  COLLECT(output) },
	{ "timing", 0, KP_OPT_FLAG, NULL,
	  "print where each round's time goes (stop, registers, stacks,\n"
	  "resume, after; with --remote also the packets and round trips)", COLLECT(s.timing) },
	{ "by-stage", 0, KP_OPT_FLAG, NULL,
	  "profile the boot from its first instruction: each sample keeps\n"
	  "the guest's boot stage (the last BOOT_TIME:<stage> line, or\n"
	  "port-0x80 code as post:0xNN; kernel before the first); svg and\n"
	  "folded output get one graph or root frame per stage (not with\n"
	  "--remote)", COLLECT(s.stages) },
	KP_OPT_END,
};

#define COLLECT_USAGE_TEXT                                                                    \
	"usage: kprof collect [options] [--] [kprof run options] KERNEL.elf\n"                  \
	"       kprof collect --remote ADDR --symbols KERNEL.elf [options]\n\n"                \
	"Boot KERNEL.elf under KVM (or attach to a running kernel's gdb stub), stop every vCPU\n" \
	"on a fixed schedule, unwind each stack with the kernel's DWARF CFI (frame pointers\n"  \
	"where there is none) and write a profile.\n\n"

#define COLLECT_EPILOG                                                                        \
	"\nThe guest's serial output is discarded unless --serial FILE is given.\n"             \
	"With --remote the target is left as it was found: running, or halted (a VM started\n" \
	"with -S, or stopped by a debugger, is sampled where it stands first).\n"              \
	"Exit status: 0 profile written (also after Ctrl-C), 1 the guest ended or the gdb\n"   \
	"stub went away before the last sample (the samples taken are written), 2 bad usage\n" \
	"or input, 3 KVM, connection or output failure.\n"

/* The collect options, then the run options (after "--" or the first that is no collect
 * option) and the kernel.  0, KP_OPTS_HELP, or -EINVAL; *tail is where the run options
 * began (argc when none were given). */
static int parse_options(int argc, char **argv, struct collect_opts *o, struct vmm_config *cfg,
			 int *tail)
{
	const struct kp_opt_group groups[] = {
		{ .title = "options:", .opts = collect_options, .target = o },
		{ .opts = flame_task_options, .target = &o->task },
		{ .title = "\nkprof run options (after the collect options, or after --):",
		  .opts = run_options, .target = cfg, .tail = true },
	};
	const struct kp_opts opts = {
		.cmd = "collect", .usage = COLLECT_USAGE_TEXT, .epilog = COLLECT_EPILOG,
		.groups = groups, .ngroups = KP_ARRAY_SIZE(groups), .operand = run_options_kernel,
		.ctx = cfg,
	};
	int rc;

	*tail = 1;
	rc = kp_opts_parse(&opts, argc, argv, tail);
	if (rc)
		return rc;
	if (o->have_interval && o->have_frequency)
		return kp_fail(-EINVAL, "collect: give --interval or --frequency, not both");
	return 0;
}

/* Output format: --format, else -o's extension, else json. */
static int pick_format(const struct collect_opts *o, enum convert_format *fmt)
{
	if (o->format) {
		if (convert_format_parse(o->format, fmt))
			return kp_fail(-EINVAL, "--format: '%s' is not json, folded, svg, speedscope or pprof",
					o->format);
		return 0;
	}
	if (o->output && strcmp(o->output, "-") && !convert_format_from_path(o->output, fmt))
		return 0;
	*fmt = CONVERT_JSON;
	return 0;
}

/* Ctrl-C and SIGTERM end sampling through a signalfd the sampler polls: the profile is
 * still written.  Blocked before the vCPU threads exist, so they inherit the mask. */
static int stop_signals_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Sample any target and write the profile: shared by the in-process VM and, through the
 * gdb client's target, a remote stub.  what names the target in messages; describe_end, when
 * set, may say better than the sampler why the target went away.  Returns the exit status. */
static int collect_target(struct target *t, const char *what, struct kernel_syms *syms,
			  struct collect_opts *o, enum convert_format fmt,
			  void (*describe_end)(void *ctx, char *buf, size_t len), void *ctx)
{
	struct sampler_stats stats;
	struct profile *prof = NULL;
	struct convert_source out = { .path = o->output, .tasks = o->task.tasks,
				      .per_stage = o->s.stages };
	struct fg_svg_options svg;
	struct linux_tasks *lt = NULL;
	int rc, status = 0;

	o->s.kernel = o->symbols;
	o->s.build_id = symtab_build_id(syms->st);
	/* Not Linux, or no BTF: no tasks (a Linux kernel without BTF says so). */
	if (o->task.tasks != CONVERT_TASKS_NONE &&
	    kernel_syms_tasks(syms, o->symbols, &lt) == -ENOENT && symtab_linux(syms->st))
		kp_warn("%s: no BTF (.BTF section): tasks are not shown", o->symbols);
	o->s.tasks = lt;
	o->s.modules = syms->mods;
	rc = sampler_run(t, &syms->uw, syms->sym, &o->s, &prof, &stats);
	o->s.tasks = NULL;
	linux_tasks_free(lt);
	if (rc) {
		kp_error("%s: sampling failed: %s", what,
			 rc == -ENOENT ? "no vCPU matches --cpu-mask" : strerror(-rc));
		return rc == -ENOENT ? COLLECT_USAGE : COLLECT_FAILED;
	}
	if (syms->mods)
		fprintf(stderr, "kprof: %s: module list read %zu times, %zu modules loaded at the "
			"last reading\n", what, modules_reads(syms->mods), modules_count(syms->mods));
	if (stats.end == SAMPLER_TARGET_ENDED || stats.end == SAMPLER_TARGET_ERROR) {
		char why[sizeof(stats.end_message)];

		snprintf(why, sizeof(why), "%s", stats.end_message);
		if (describe_end)
			describe_end(ctx, why, sizeof(why));
		kp_warn("%s: sampling ended after %zu of %zu samples: %s", what, stats.samples,
			o->s.samples ? o->s.samples : 200, why);
		status = COLLECT_PARTIAL;
	}
	o->samples_taken = stats.samples;
	if (o->task.comm) {
		profile_filter_comm(prof, o->task.comm);
		if (!prof->nsamples)
			kp_warn("%s: no stack of a task called %s", what, o->task.comm);
	}
	out.profile = prof;
	fg_svg_options_init(&svg);
	svg.subtitle = prof->kernel;
	if (convert_write(&out, fmt, &svg, o->output, NULL, 0))
		status = COLLECT_FAILED;
	profile_free(prof);
	return status;
}

/* The VM's own account of its end ("guest wrote 0x0 to the debug-exit port"). */
static void vm_end_message(void *ctx, char *buf, size_t len)
{
	struct vmm_result res;

	vmm_get_result(ctx, &res);
	if (res.kind != VMM_END_NONE && res.message[0])
		snprintf(buf, len, "%s", res.message);
}

/* A Linux kernel's KASLR slide, looked up in the target (kaslr_find) unless --kaslr-offset
 * gave it.  A running target is stopped for it and resumed; if no vCPU is in kernel code at
 * that moment, a few more tries.  A halted one is only read. */
static void find_kaslr_offset(struct target *t, struct kernel_syms *syms,
			      const struct collect_opts *o, bool was_running)
{
	uint64_t off = 0;
	int rc;

	if (!was_running) {
		rc = kaslr_find(t, syms->st, &off);
	} else {
		for (int tries = 0;; tries++) {
			if (target_stop(t))
				return;
			rc = kaslr_find(t, syms->st, &off);
			if (target_resume(t, NULL))
				return;
			if (rc != -EAGAIN || tries == 49)
				break;
			usleep(20000);
		}
	}
	if (rc == -ENOENT)
		return;		/* not a Linux kernel: link addresses are runtime addresses */
	if (rc == -EAGAIN) {
		kp_warn("%s: no vCPU was in kernel code, so the KASLR offset was not found: "
			"assuming 0 (give --kaslr-offset if the kernel was relocated)", o->remote);
		return;
	}
	if (rc) {
		kp_warn("%s: %s is not the running kernel: its linux_banner is nowhere the kernel "
			"could have been moved to (give the matching vmlinux, or --kaslr-offset)",
			o->remote, o->symbols);
		return;
	}
	kernel_syms_set_offset(syms, off);
	if (off)
		fprintf(stderr, "kprof: %s: KASLR offset 0x%" PRIx64 " (found in the target: "
			"where its linux_banner is)\n", o->remote, off);
}

/* --timing with --remote: per round, the batches written (round trips when replies follow),
 * packets, bytes and the time waiting for replies, by target operation. */
static void print_wire_timing(struct target *t, const struct gdbstub_client_counters *before,
			      size_t rounds)
{
	static const char *const names[GDBSTUB_NOPS] = { "stop", "registers", "memory", "resume",
							  "other" };
	struct gdbstub_client_counters now;
	double n = rounds ? (double)rounds : 1;

	gdbstub_client_get_counters(t, &now);
	fprintf(stderr, "kprof: wire per round (writes, packets, bytes out/in, wait us):");
	for (int i = 0; i < GDBSTUB_OP_OTHER; i++)
		fprintf(stderr, " %s %.2f %.2f %.0f/%.0f %.1f%s", names[i],
			(double)(now.op[i].writes - before->op[i].writes) / n,
			(double)(now.op[i].packets - before->op[i].packets) / n,
			(double)(now.op[i].bytes_out - before->op[i].bytes_out) / n,
			(double)(now.op[i].bytes_in - before->op[i].bytes_in) / n,
			(double)(now.op[i].wait_ns - before->op[i].wait_ns) / n / 1e3,
			i + 1 < GDBSTUB_OP_OTHER ? "," : "");
	fprintf(stderr, "; stack windows read with the registers: %llu, holding the stack: %llu\n",
		(unsigned long long)(now.windows_guessed - before->windows_guessed),
		(unsigned long long)(now.windows_hit - before->windows_hit));
}

/* --remote: sample through a gdb stub, then leave the target as it was found: running
 * (detach with 'D', which resumes QEMU and kprof's stub), or halted (stop, then close without
 * 'D': both keep a VM halted when the debugger just goes). */
static int collect_remote(struct collect_opts *o, enum convert_format fmt, int argc, char **argv,
			  int tail)
{
	/* Each stack comes with the registers, as much as the last stop needed (up to 16 KiB, a
	 * Linux task's stack). */
	struct gdbstub_client_opts copts = { .timeout_ms = 5000, .stack_prefetch = 16384 };
	struct gdbstub_client_counters before;
	struct kernel_syms *syms = NULL;
	struct target *t;
	bool was_running;
	int err = 0, status, e;

	if (tail < argc) {
		kp_error("collect --remote: unexpected argument '%s' (the kernel runs elsewhere; "
			 "name its ELF with --symbols)", argv[tail]);
		return COLLECT_USAGE;
	}
	if (!o->symbols) {
		kp_error("collect --remote: --symbols KERNEL.elf is needed to unwind and name "
			 "the stacks");
		return COLLECT_USAGE;
	}
	if (o->s.stages) {
		kp_error("collect --remote: --by-stage needs kprof's own VM (a gdb stub does not "
			 "report the guest's boot stages)");
		return COLLECT_USAGE;
	}
	struct kernel_syms_opts ko = { .offset = o->kaslr_offset, .inline_frames = o->inline_frames,
				       .max_depth = o->max_depth, .modules_dir = o->modules };
	if (kernel_syms_open(o->symbols, &ko, &syms))
		return COLLECT_USAGE;
	o->s.stop_fd = stop_signals_fd();
	t = gdbstub_client_connect(o->remote, &copts, &err);
	if (!t) {
		kp_error("%s: cannot attach to the gdb stub: %s", o->remote,
			 err == -EINVAL ? "not an address (tcp:HOST:PORT, HOST:PORT or unix:PATH)" :
			 err == -ESRCH ? "the target has already exited" : strerror(-err));
		status = err == -EINVAL ? COLLECT_USAGE : COLLECT_FAILED;
		goto out;
	}
	was_running = gdbstub_client_found_running(t);
	if (!o->kaslr_given)
		find_kaslr_offset(t, syms, o, was_running);
	/* The stub's threads are the vCPUs; they all exist from the start (no bring-up wait). */
	o->s.wait_online_s = 0;
	o->s.stay_stopped = !was_running;
	o->s.lazy_stack = true;	/* every read is a round trip to the stub */
	if (!was_running)
		fprintf(stderr, "kprof: %s: the target is halted: the first sample is where it "
			"stands, and it is left halted after the last\n", o->remote);
	gdbstub_client_get_counters(t, &before);
	status = collect_target(t, o->remote, syms, o, fmt, NULL, NULL);
	if (o->s.timing)
		print_wire_timing(t, &before, o->samples_taken);
	e = gdbstub_client_detach(t, was_running);
	if (e && e != -ESRCH)
		kp_warn("%s: could not leave the target %s: %s", o->remote,
			was_running ? "running" : "halted", strerror(-e));
	else if (!e)
		fprintf(stderr, "kprof: %s: detached, the target %s\n", o->remote,
			was_running ? "runs on" : "stays halted");
	gdbstub_client_close(t);
out:
	kernel_syms_free(syms);
	if (o->s.stop_fd >= 0)
		close(o->s.stop_fd);
	return status;
}

int cmd_collect(int argc, char **argv)
{
	struct collect_opts o = { .s = { .stop_fd = -1, .progress = true } };
	struct vmm_config cfg;
	struct kernel_syms *syms = NULL;
	enum convert_format fmt;
	struct vmm *vm = NULL;
	int rc, status, tail;

	kp_cpumask_all(&o.s.cpus);
	o.s.interval_s = 0.1;
	vmm_config_init(&cfg);
	cfg.t0_ns = kp_now_ns();
	cfg.serial_path = "/dev/null";
	rc = parse_options(argc, argv, &o, &cfg, &tail);
	if (rc)
		return rc == KP_OPTS_HELP ? 0 : COLLECT_USAGE;
	if (pick_format(&o, &fmt))
		return COLLECT_USAGE;
	if (!o.output)
		o.output = DEFAULT_OUTPUT;
	if (o.remote)
		return collect_remote(&o, fmt, argc, argv, tail);
	if (run_options_check(&cfg, "collect"))
		return COLLECT_USAGE;
	if (cfg.snapshot_path) {	/* the sampler owns the stops a snapshot would need */
		kp_error("kprof collect takes no --snapshot (save one with kprof run)");
		return 2;
	}
	/* --restore FILE: profile from a snapshot; its kernel gives the symbols. */
	char snap_kernel[4096];
	if (!cfg.kernel && cfg.restore_path) {
		rc = vmm_snapshot_kernel(cfg.restore_path, snap_kernel, sizeof(snap_kernel));
		if (rc)
			return vmm_error_exit_status(rc);
		cfg.kernel = snap_kernel;
	}
	if (!o.symbols)
		o.symbols = cfg.kernel;
	/* Symbols before the VM: a bad file is reported before anything boots. */
	struct kernel_syms_opts ko = { .offset = o.kaslr_offset, .inline_frames = o.inline_frames,
				       .max_depth = o.max_depth, .modules_dir = o.modules };
	if (kernel_syms_open(o.symbols, &ko, &syms))
		return COLLECT_USAGE;

	o.s.stop_fd = stop_signals_fd();
	o.s.wait_online_s = WAIT_ONLINE_S;
	/* --by-stage: from the first instruction, so the vCPUs wait for the first sample and
	 * the APs are not waited for. */
	if (o.s.stages) {
		cfg.start_halted = true;
		o.s.wait_online_s = 0;
	}
	rc = vmm_create(&cfg, &vm);
	if (rc) {
		status = vmm_error_exit_status(rc);
		goto out;
	}
	rc = vmm_start(vm);
	if (rc) {
		kp_error("%s: cannot start the VM: %s", cfg.kernel, strerror(-rc));
		status = VMM_EXIT_HOST;
		goto out;
	}
	status = collect_target(vmm_target(vm), cfg.kernel, syms, &o, fmt, vm_end_message, vm);
out:
	vmm_destroy(vm);
	kernel_syms_free(syms);
	if (o.s.stop_fd >= 0)
		close(o.s.stop_fd);
	return status;
}
