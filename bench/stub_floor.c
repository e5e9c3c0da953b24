/* The floor of sampling through a gdb stub: the least a client can do per round, which is to
 * interrupt the target (0x03), wait for the stop reply and continue it, reading nothing.  What
 * `kprof collect --remote` costs above this is its own work: registers, stack reads, unwinding.
 * Written against the remote protocol alone (no kprof code), so it measures the stub.
 *
 *   stub_floor HOST PORT ROUNDS
 *
 * Prints "rounds N seconds S rate R" and leaves the target running (D, detach).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The connection to the stub: its socket, whether it still wants acks, and the bytes read
 * from it and not yet used. */
struct conn {
	int fd;
	bool ack;
	char rbuf[65536];
	size_t rpos, rlen;
	char reply[65536];
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void put(struct conn *c, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(c->fd, s, n);

		if (w <= 0) {
			perror("stub_floor: write");
			exit(1);
		}
		s += w;
		n -= (size_t)w;
	}
}

static void send_packet(struct conn *c, const char *payload)
{
	char buf[512];
	unsigned sum = 0;

	for (const char *p = payload; *p; p++)
		sum += (unsigned char)*p;
	snprintf(buf, sizeof(buf), "$%s#%02x", payload, sum & 0xff);
	put(c, buf, strlen(buf));
}

static int getc_sock(struct conn *c)
{
	if (c->rpos == c->rlen) {
		ssize_t n = read(c->fd, c->rbuf, sizeof(c->rbuf));

		if (n <= 0) {
			fprintf(stderr, "stub_floor: the stub closed the connection\n");
			exit(1);
		}
		c->rpos = 0;
		c->rlen = (size_t)n;
	}
	return (unsigned char)c->rbuf[c->rpos++];
}

/* One packet's payload (the checksum is not checked: this is a loopback benchmark). */
static void recv_packet(struct conn *c, char *out, size_t cap)
{
	size_t n = 0;
	int ch;

	while ((ch = getc_sock(c)) != '$')
		;
	while ((ch = getc_sock(c)) != '#')
		if (n + 1 < cap)
			out[n++] = (char)ch;
	out[n] = 0;
	getc_sock(c);
	getc_sock(c);
	if (c->ack)
		put(c, "+", 1);
}

/* Replies until a stop reply (QEMU may send one unasked when a debugger attaches). */
static void wait_stop(struct conn *c, char *buf, size_t cap)
{
	do
		recv_packet(c, buf, cap);
	while (buf[0] != 'T' && buf[0] != 'S');
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct conn *c;
	char *reply;
	size_t cap;
	int one = 1, rounds;
	double t0, secs;

	if (argc != 4) {
		fprintf(stderr, "usage: stub_floor HOST PORT ROUNDS\n");
		return 2;
	}
	c = calloc(1, sizeof(*c));	/* two 64 KiB buffers: not on the stack */
	if (!c) {
		perror("stub_floor");
		return 1;
	}
	c->ack = true;
	reply = c->reply;
	cap = sizeof(c->reply);
	rounds = atoi(argv[3]);
	a.sin_port = htons((uint16_t)atoi(argv[2]));
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0 || inet_pton(AF_INET, argv[1], &a.sin_addr) != 1 ||
	    connect(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("stub_floor: connect");
		return 1;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	put(c, "+", 1);
	send_packet(c, "qSupported:vContSupported+");
	do
		recv_packet(c, reply, cap);
	while (reply[0] == 'T' || reply[0] == 'S');
	if (strstr(reply, "QStartNoAckMode+")) {
		send_packet(c, "QStartNoAckMode");
		recv_packet(c, reply, cap);
		c->ack = strcmp(reply, "OK") != 0;
	}
	send_packet(c, "?");
	wait_stop(c, reply, cap);
	send_packet(c, "c");
	t0 = now();
	for (int i = 0; i < rounds; i++) {
		put(c, "\x03", 1);
		wait_stop(c, reply, cap);
		send_packet(c, "c");
	}
	secs = now() - t0;
	put(c, "\x03", 1);
	wait_stop(c, reply, cap);
	send_packet(c, "D");
	recv_packet(c, reply, cap);
	printf("rounds %d seconds %.3f rate %.1f\n", rounds, secs, rounds / secs);
	close(c->fd);
	free(c);
	return 0;
}
