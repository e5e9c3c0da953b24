/* cli: `kprof run --gdb ADDR [--gdb-wait]` and `-s`: serve the VM to gdb while it runs. */
#ifndef KPROF_CLI_RUN_GDB_H
#define KPROF_CLI_RUN_GDB_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/common.h"
#include "vmm/vmm.h"

struct run_gdb_opts {
	const char *addr;	/* NULL: no gdb stub */
	bool wait;		/* keep the vCPUs halted until gdb resumes them */
	const char *symbols;	/* ELF for `monitor stacks` (--symbols); NULL: the booted one */
	uint64_t kaslr_offset;	/* --kaslr-offset: runtime minus link address */
	bool kaslr_given;
};

/* `kprof run`'s gdb options: rows for a group whose target is a struct run_gdb_opts. */
extern const struct kp_opt run_gdb_options[];
/* After parsing: --gdb-wait alone means the default address; --symbols and --kaslr-offset
 * need a stub.  0 or -EINVAL after one line. */
int run_gdb_check(struct run_gdb_opts *o);
/* Start the VM (created from cfg) with the stub listening, and `monitor stacks` naming
 * frames from o->symbols, or else the booted ELF (cfg->kernel, or the one a restored
 * snapshot names); return when the guest has ended.  When cancel_fd
 * (>= 0, a signalfd for Ctrl-C) becomes readable, the run is ended as killed; the caller
 * reads it. */
int run_gdb(struct vmm *vm, const struct vmm_config *cfg, const struct run_gdb_opts *o,
	    int cancel_fd, struct vmm_result *res);

#endif
