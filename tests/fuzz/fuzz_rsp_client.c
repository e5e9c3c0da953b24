/* libFuzzer: a hostile gdb stub.  The input is everything the stub says; the client must
 * connect or fail cleanly, and read registers and memory without going out of bounds. */
#include "gdbstub/client.h"

#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* stack_prefetch: the stack read ahead with the registers is parsed too. */
	struct gdbstub_client_opts o = { .timeout_ms = 1, .stack_prefetch = 4096 };
	struct target_regs r;
	struct target_event ev = { .kind = TARGET_EV_STOPPED };
	struct target *t;
	uint8_t mem[64];
	char desc[32];
	int sv[2], err;

	if (size > 60000 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return 0;
	/* Enough buffer for the whole script and for what the client writes back. */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &(int){ 1 << 20 }, sizeof(int));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &(int){ 1 << 20 }, sizeof(int));
	if (write(sv[0], data, size) != (ssize_t)size)
		goto out;
	shutdown(sv[0], SHUT_WR);
	t = gdbstub_client_attach_fd(sv[1], &o, &err);
	sv[1] = -1;
	if (t) {
		/* Twice: the second stop reads the stack windows guessed from the first. */
		for (int round = 0; round < 2; round++) {
			for (int i = 0; i < target_cpu_count(t); i++) {
				if (target_get_regs(t, i, &r) == 0)
					target_read_mem(t, i, r.gpr[TREG_RSP] + 8, mem, sizeof(mem));
				target_read_mem(t, i, 0x1000, mem, sizeof(mem));
				target_describe_cpu(t, i, desc, sizeof(desc));
			}
			if (target_resume(t, NULL) == 0 && round == 0)
				target_stop(t);
		}
		while (target_poll_event(t, &ev) == 0 && ev.kind != TARGET_EV_GONE)
			;
		gdbstub_client_detach(t, ev.kind != TARGET_EV_GONE);
		gdbstub_client_close(t);
	}
out:
	close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	return 0;
}
