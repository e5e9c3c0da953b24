/* cli: `kprof run --gdb ADDR [--gdb-wait]` and `-s`: serve the VM to gdb while it runs. */
#ifndef KPROF_CLI_RUN_GDB_H
#define KPROF_CLI_RUN_GDB_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vmm/vmm.h"

struct run_gdb_opts {
	const char *addr;	/* NULL: no gdb stub */
	bool wait;		/* keep the vCPUs halted until gdb resumes them */
	const char *symbols;	/* ELF for `monitor stacks` (--symbols); NULL: the booted one */
	uint64_t kaslr_offset;	/* --kaslr-offset: runtime minus link address */
};

/* Take the gdb options out of argv (shifting the rest down, updating *argc), so the
 * VM's option parser never sees them.  0, or -EINVAL after printing one line. */
int run_gdb_take_options(struct run_gdb_opts *o, int *argc, char **argv);
void run_gdb_usage(FILE *f);
/* Start the VM (created from cfg) with the stub listening, and `monitor stacks` naming
 * frames from o->symbols, or else the booted ELF (cfg->kernel, or the one a restored
 * snapshot names); return when the guest has ended.  When cancel_fd
 * (>= 0, a signalfd for Ctrl-C) becomes readable, the run is ended as killed; the caller
 * reads it. */
int run_gdb(struct vmm *vm, const struct vmm_config *cfg, const struct run_gdb_opts *o,
	    int cancel_fd, struct vmm_result *res);

#endif
