/* cli: the `kprof run` options, one table that run, collect (after its own options) and boot
 * share, filling in struct vmm_config. */
#ifndef KPROF_CLI_RUN_OPTIONS_H
#define KPROF_CLI_RUN_OPTIONS_H

#include "common/common.h"
#include "vmm/vmm.h"

/* Rows for a struct kp_opt_group whose target is a struct vmm_config. */
extern const struct kp_opt run_options[];

/* struct kp_opts' operand callback (ctx: the struct vmm_config): the one KERNEL.elf. */
int run_options_kernel(void *cfg, const char *arg);
/* After parsing: a kernel, or --restore, was given, and the options that go in pairs are
 * both there (--snapshot and --snapshot-on) or apart (--initrd, --restore).  0 or -EINVAL
 * after one line. */
int run_options_check(const struct vmm_config *cfg, const char *cmd);
/* --exit-at's check, for a command that takes more end points (kprof boot). */
int run_options_end_point(struct vmm_config *cfg, const char *opt, const char *v);
/* A whole `kprof run` argument list from argv[first]: run options and one KERNEL.elf (for
 * programs that boot a VM with kprof's options, and the tests).  0 or -EINVAL. */
int run_options_parse(struct vmm_config *cfg, int argc, char **argv, int first);

#endif
