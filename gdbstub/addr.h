/* gdbstub: the address syntax the stub listens on and the client connects to. */
#ifndef KPROF_GDBSTUB_ADDR_H
#define KPROF_GDBSTUB_ADDR_H

#include <stdbool.h>

/* "tcp:HOST:PORT", "tcp::PORT", "HOST:PORT", ":PORT", "PORT" or "unix:PATH".  An empty
 * host means 127.0.0.1, as QEMU does for -gdb tcp::1234. */
struct gdbstub_addr {
	bool is_unix;
	char host[256];
	char port[16];
	char path[108];
};
int gdbstub_parse_addr(const char *s, struct gdbstub_addr *a);

#endif
