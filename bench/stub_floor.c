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

static int fd;
static bool ack = true;
static char rbuf[65536];
static size_t rpos, rlen;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void put(const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);

		if (w <= 0) {
			perror("stub_floor: write");
			exit(1);
		}
		s += w;
		n -= (size_t)w;
	}
}

static void send_packet(const char *payload)
{
	char buf[512];
	unsigned sum = 0;

	for (const char *p = payload; *p; p++)
		sum += (unsigned char)*p;
	snprintf(buf, sizeof(buf), "$%s#%02x", payload, sum & 0xff);
	put(buf, strlen(buf));
}

static int getc_sock(void)
{
	if (rpos == rlen) {
		ssize_t n = read(fd, rbuf, sizeof(rbuf));

		if (n <= 0) {
			fprintf(stderr, "stub_floor: the stub closed the connection\n");
			exit(1);
		}
		rpos = 0;
		rlen = (size_t)n;
	}
	return (unsigned char)rbuf[rpos++];
}

/* One packet's payload (the checksum is not checked: this is a loopback benchmark). */
static void recv_packet(char *out, size_t cap)
{
	size_t n = 0;
	int c;

	while ((c = getc_sock()) != '$')
		;
	while ((c = getc_sock()) != '#')
		if (n + 1 < cap)
			out[n++] = (char)c;
	out[n] = 0;
	getc_sock();
	getc_sock();
	if (ack)
		put("+", 1);
}

/* Replies until a stop reply (QEMU may send one unasked when a debugger attaches). */
static void wait_stop(char *buf, size_t cap)
{
	do
		recv_packet(buf, cap);
	while (buf[0] != 'T' && buf[0] != 'S');
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	static char reply[65536];
	int one = 1, rounds;
	double t0, secs;

	if (argc != 4) {
		fprintf(stderr, "usage: stub_floor HOST PORT ROUNDS\n");
		return 2;
	}
	rounds = atoi(argv[3]);
	a.sin_port = htons((uint16_t)atoi(argv[2]));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || inet_pton(AF_INET, argv[1], &a.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("stub_floor: connect");
		return 1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	put("+", 1);
	send_packet("qSupported:vContSupported+");
	do
		recv_packet(reply, sizeof(reply));
	while (reply[0] == 'T' || reply[0] == 'S');
	if (strstr(reply, "QStartNoAckMode+")) {
		send_packet("QStartNoAckMode");
		recv_packet(reply, sizeof(reply));
		ack = strcmp(reply, "OK") != 0;
	}
	send_packet("?");
	wait_stop(reply, sizeof(reply));
	send_packet("c");
	t0 = now();
	for (int i = 0; i < rounds; i++) {
		put("\x03", 1);
		wait_stop(reply, sizeof(reply));
		send_packet("c");
	}
	secs = now() - t0;
	put("\x03", 1);
	wait_stop(reply, sizeof(reply));
	send_packet("D");
	recv_packet(reply, sizeof(reply));
	printf("rounds %d seconds %.3f rate %.1f\n", rounds, secs, rounds / secs);
	close(fd);
	return 0;
}
