/* Test helper for test_unwind_oracle.sh: unwind vCPU states that gdb dumped (registers and a
 * stack window) with kprof's unwinder, and compare with the backtrace gdb printed for the
 * same state.  Input lines, one record per vCPU and stop:
 *   STATE <stack-file> <rip> <rsp> <rax> <rbx> <rcx> <rdx> <rsi> <rdi> <rbp> <r8>..<r15> (hex)
 *   GDB <event> <name> <name> ...   (innermost first; event 1 for the thread that reported
 *                                    the stop, the only one for which gdb hides an inlined
 *                                    call that starts at the stop pc, as kprof does always)
 * Prints one line per record, "same: a b c" or "differs: kprof a b | gdb a c", then a count.
 * Exit status 0 when every record is the same. */
#include "profiler/profiler_internal.h"
#include "profiler/symbols.h"
#include "profiler/unwind.h"
#include "target/target.h"

#include <stdlib.h>
#include <string.h>

struct names {
	struct symbolizer *sym;
	bool gdb_event_thread;
	char buf[4096];
	size_t len;
};

static int add_frame(void *ctx, uint64_t pc, unsigned flags)
{
	struct names *n = ctx;
	const char *names[16];
	unsigned fl[16];
	size_t count;

	/* To compare with gdb's view of a thread other than the event thread, keep inlined calls
	 * that start exactly at the stop pc, as gdb does there. */
	if (!n->gdb_event_thread)
		flags &= ~UNWIND_INNERMOST;
	count = symbolizer_frames(n->sym, pc, flags, names, fl, 16);
	for (size_t i = 0; i < count; i++)
		n->len += (size_t)snprintf(n->buf + n->len, sizeof(n->buf) - n->len, "%s%s",
					   n->len ? " " : "", names[i]);
	return n->len > sizeof(n->buf) - 256;
}

int main(int argc, char **argv)
{
	static const int order[] = { TREG_RAX, TREG_RBX, TREG_RCX, TREG_RDX, TREG_RSI, TREG_RDI,
				     TREG_RBP, TREG_R8, TREG_R9, TREG_R10, TREG_R11, TREG_R12,
				     TREG_R13, TREG_R14, TREG_R15 };
	struct kernel_syms_opts ko = { .inline_frames = true };
	struct kernel_syms *k;
	char line[8192], stack_path[512];
	struct target_regs regs;
	struct names kp = { .len = 0 };
	int same = 0, differs = 0;
	bool have_state = false;
	FILE *in;

	if (argc != 3) {
		fprintf(stderr, "usage: oracle_unwind KERNEL.elf RECORDS\n");
		return 2;
	}
	if (kernel_syms_open(argv[1], &ko, &k) || !(in = fopen(argv[2], "r")))
		return 2;
	kp.sym = k->sym;
	while (fgets(line, sizeof(line), in)) {
		line[strcspn(line, "\n")] = '\0';
		if (!strncmp(line, "STATE ", 6)) {
			char *p = line + 6, *end;
			size_t n = strcspn(p, " ");

			memset(&regs, 0, sizeof(regs));
			snprintf(stack_path, sizeof(stack_path), "%.*s", (int)n, p);
			p += n;
			regs.rip = strtoull(p, &end, 16);
			regs.gpr[TREG_RSP] = strtoull(end, &end, 16);
			for (size_t i = 0; i < KP_ARRAY_SIZE(order); i++)
				regs.gpr[order[i]] = strtoull(end, &end, 16);
			have_state = true;
		} else if (!strncmp(line, "GDB ", 4) && strlen(line) > 6 && have_state) {
			struct unwind_regs u;
			struct stack_window w;
			char *data;
			size_t len;

			if (kp_read_file(stack_path, &data, &len))
				return 2;
			w = (struct stack_window){ regs.gpr[TREG_RSP], (const uint8_t *)data, len };
			unwind_regs_from_target(&u, &regs);
			kp.gdb_event_thread = line[4] == '1';
			kp.len = 0;
			kp.buf[0] = '\0';
			unwind_stack(&k->uw, &u, stack_window_read, &w, add_frame, &kp);
			free(data);
			if (!strcmp(kp.buf, line + 6)) {
				printf("same: %s\n", kp.buf);
				same++;
			} else {
				printf("differs: kprof %s | gdb %s\n", kp.buf, line + 6);
				differs++;
			}
			have_state = false;
		}
	}
	fclose(in);
	kernel_syms_free(k);
	printf("%d same, %d differ\n", same, differs);
	return differs || !same;
}
