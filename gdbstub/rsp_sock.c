/* Addresses and sockets for the remote protocol: tcp:HOST:PORT and unix:PATH. */
#include "gdbstub/rsp_sock.h"

#include "common/common.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int copy_field(char *dst, size_t cap, const char *src, size_t n)
{
	if (n >= cap)
		return -ENAMETOOLONG;
	memcpy(dst, src, n);
	dst[n] = 0;
	return 0;
}

int gdbstub_parse_addr(const char *s, struct gdbstub_addr *a)
{
	const char *colon, *host;
	size_t hlen;
	uint64_t port;

	memset(a, 0, sizeof(*a));
	if (!s || !*s)
		return -EINVAL;
	if (!strncmp(s, "unix:", 5)) {
		a->is_unix = true;
		if (!s[5])
			return -EINVAL;
		return copy_field(a->path, sizeof(a->path), s + 5, strlen(s + 5));
	}
	if (!strncmp(s, "tcp:", 4))
		s += 4;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		host = s + 1;
		hlen = (size_t)(close - host);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		host = s;
		hlen = colon ? (size_t)(colon - s) : 0;
		if (!colon)
			colon = s - 1;	/* a bare port */
	}
	if (colon[1] < '0' || colon[1] > '9' || kp_parse_u64(colon + 1, &port) || port > 65535)
		return -EINVAL;
	if (hlen == 0) {
		host = "127.0.0.1";	/* QEMU's default for tcp::PORT: never all interfaces */
		hlen = strlen(host);
	}
	if (copy_field(a->host, sizeof(a->host), host, hlen))
		return -ENAMETOOLONG;
	snprintf(a->port, sizeof(a->port), "%u", (unsigned)port);
	return 0;
}

static int unix_sockaddr(const struct gdbstub_addr *a, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(a->path) >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	memcpy(sun->sun_path, a->path, strlen(a->path));
	return 0;
}

int rsp_sock_listen(const struct gdbstub_addr *a, char *desc, size_t desclen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *res, *ai;
	int fd = -1, e = -EADDRNOTAVAIL, one = 1;

	if (a->is_unix) {
		struct sockaddr_un sun;
		struct stat st;

		e = unix_sockaddr(a, &sun);
		if (e)
			return e;
		/* A socket left by an earlier run is stale; anything else is not ours. */
		if (lstat(a->path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(a->path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) || listen(fd, 4)) {
			e = -errno;
			close(fd);
			return e;
		}
		snprintf(desc, desclen, "unix:%s", a->path);
		return fd;
	}
	if (getaddrinfo(a->host, a->port, &hints, &res))
		return -EADDRNOTAVAIL;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			e = -errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 4) == 0)
			break;
		e = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return e;
	{
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		char h[128] = "?", p[16] = "?";

		if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
			getnameinfo((struct sockaddr *)&ss, sl, h, sizeof(h), p, sizeof(p),
				    NI_NUMERICHOST | NI_NUMERICSERV);
		snprintf(desc, desclen, strchr(h, ':') ? "tcp:[%s]:%s" : "tcp:%s:%s", h, p);
	}
	return fd;
}

static int connect_wait(int fd, const struct sockaddr *sa, socklen_t len, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int err = 0;
	socklen_t el = sizeof(err);

	if (connect(fd, sa, len) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return -errno;
	if (poll(&p, 1, timeout_ms) <= 0)
		return -ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el))
		return -errno;
	return -err;
}

int rsp_sock_connect(const struct gdbstub_addr *a, int timeout_ms)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int fd = -1, e = -ECONNREFUSED, one = 1;

	if (a->is_unix) {
		struct sockaddr_un sun;

		e = unix_sockaddr(a, &sun);
		if (e)
			return e;
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return -errno;
		e = connect_wait(fd, (struct sockaddr *)&sun, sizeof(sun), timeout_ms);
		if (e) {
			close(fd);
			return e;
		}
		return fd;
	}
	if (getaddrinfo(a->host, a->port, &hints, &res))
		return -EHOSTUNREACH;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0) {
			e = -errno;
			continue;
		}
		e = connect_wait(fd, ai->ai_addr, ai->ai_addrlen, timeout_ms);
		if (!e)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return e;
	/* Packets are small and latency-bound: do not let Nagle hold them back. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int rsp_sock_write_all(int fd, const void *buf, size_t len, int timeout_ms)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };
			int r = poll(&pf, 1, timeout_ms);

			if (r == 0)
				return -ETIMEDOUT;	/* a peer that never reads is dropped */
			if (r < 0 && errno != EINTR)
				return -errno;
			continue;
		}
		return n < 0 ? -errno : -EPIPE;
	}
	return 0;
}
