/* Socket helpers shared by the gdb stub server and client (internal header). */
#ifndef KPROF_GDBSTUB_RSP_SOCK_H
#define KPROF_GDBSTUB_RSP_SOCK_H

#include <stddef.h>

#include "gdbstub/addr.h"

/* Listen on a; desc receives the bound address ("tcp:127.0.0.1:1234").  Returns an fd. */
int rsp_sock_listen(const struct gdbstub_addr *a, char *desc, size_t desclen);
/* Connect to a within timeout_ms.  Returns an fd. */
int rsp_sock_connect(const struct gdbstub_addr *a, int timeout_ms);
/* Write all of buf, waiting at most timeout_ms for the peer to make room. */
int rsp_sock_write_all(int fd, const void *buf, size_t len, int timeout_ms);

#endif
