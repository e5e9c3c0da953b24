/* cli: `kprof run --console`: kprof's standard input to the guest's serial receiver.  A
 * terminal is put in raw mode (restored by console_stop, on a fatal signal too) and Ctrl-A X
 * ends the run as in QEMU -nographic; a pipe or file is passed on byte for byte. */
#ifndef KPROF_CLI_CONSOLE_H
#define KPROF_CLI_CONSOLE_H

#include <stdbool.h>
#include <stdio.h>

#include "common/common.h"
#include "vmm/vmm.h"

struct console;

struct console_opts {
	bool on;	/* --console */
};
/* kprof run's --console, for its option table (common/options.c). */
extern const struct kp_opt console_options[];
/* Start forwarding standard input to vm's serial port.  0, or -errno after one line. */
int console_start(struct vmm *vm, struct console **out);
/* Stop reading, restore the terminal, say how much input the guest never took.  NULL is
 * fine. */
void console_stop(struct console *c);

#endif
