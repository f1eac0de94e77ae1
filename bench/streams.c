/* Small-message streams for bench/walk.ts: the per-call cost of the send and
 * receive hooks on each kind of socket.
 *
 *   streams MODE N
 *
 * MODE: tcp (a loopback TCP connection), unix (a UNIX stream socketpair),
 * udp (two connected loopback UDP sockets), pingpong (TCP: a 64-byte request,
 * a 64-byte answer, N times). A forked peer reads every message (one
 * receive call per message for unix and udp; TCP reads what has arrived).
 * Each send is one 64-byte message per call. Prints one JSON line:
 *   {"mode":"tcp","messages":N,"seconds":S,"port":P}
 * (port: the TCP listener's, 0 for unix and udp).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MSG 64

static void die(const char *what)
{
	fprintf(stderr, "streams: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A connected loopback TCP pair: *a the client, *b the accepted end. */
static int tcp_pair(int *a, int *b)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&sa, &len))
		die("listen");
	*a = socket(AF_INET, SOCK_STREAM, 0);
	if (*a < 0 || connect(*a, (struct sockaddr *)&sa, sizeof(sa)))
		die("connect");
	*b = accept(l, NULL, NULL);
	if (*b < 0)
		die("accept");
	int one = 1;
	setsockopt(*a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(*b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	close(l);
	return ntohs(sa.sin_port);
}

static void udp_pair(int *a, int *b)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct sockaddr_in sb = sa;
	socklen_t len = sizeof(sa);
	*a = socket(AF_INET, SOCK_DGRAM, 0);
	*b = socket(AF_INET, SOCK_DGRAM, 0);
	if (*a < 0 || *b < 0 || bind(*a, (struct sockaddr *)&sa, sizeof(sa)) ||
	    bind(*b, (struct sockaddr *)&sb, sizeof(sb)) ||
	    getsockname(*a, (struct sockaddr *)&sa, &len))
		die("udp");
	len = sizeof(sb);
	if (getsockname(*b, (struct sockaddr *)&sb, &len) ||
	    connect(*a, (struct sockaddr *)&sb, sizeof(sb)) ||
	    connect(*b, (struct sockaddr *)&sa, sizeof(sa)))
		die("udp connect");
	/* Room for a burst: the reader keeps up, but not message by message. */
	int buf = 8 << 20;
	setsockopt(*b, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
}

static void send_all(int fd, const char *m)
{
	for (size_t off = 0; off < MSG;) {
		ssize_t n = send(fd, m + off, MSG - off, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("send");
		off += n;
	}
}

static void recv_all(int fd, char *m)
{
	for (size_t off = 0; off < MSG;) {
		ssize_t n = recv(fd, m + off, MSG - off, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("recv");
		off += n;
	}
}

int main(int argc, char **argv)
{
	if (argc < 3 || atol(argv[2]) <= 0) {
		fprintf(stderr, "usage: streams tcp|unix|udp|pingpong N\n");
		return 2;
	}
	const char *mode = argv[1];
	long n = atol(argv[2]);
	int a, b, port = 0;
	char m[MSG];
	memset(m, 'x', sizeof(m));

	if (!strcmp(mode, "tcp") || !strcmp(mode, "pingpong")) {
		port = tcp_pair(&a, &b);
	} else if (!strcmp(mode, "unix")) {
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
			die("socketpair");
		a = sv[0];
		b = sv[1];
	} else if (!strcmp(mode, "udp")) {
		udp_pair(&a, &b);
	} else {
		fprintf(stderr, "streams: unknown mode %s\n", mode);
		return 2;
	}
	int pingpong = !strcmp(mode, "pingpong");
	int dgram = !strcmp(mode, "udp");
	double t0 = now();
	pid_t peer = fork();
	if (peer < 0)
		die("fork");
	if (peer == 0) {
		close(a);
		if (pingpong) {
			for (long i = 0; i < n; i++) {
				recv_all(b, m);
				send_all(b, m);
			}
		} else if (dgram) {
			/* The last datagrams may be dropped under load: stop at a
			 * zero-length one, which the sender sends last (and repeats). */
			for (;;) {
				ssize_t r = recv(b, m, MSG, 0);
				if (r == 0)
					break;
				if (r < 0 && errno != EINTR)
					die("recv");
			}
		} else {
			long total = n * MSG;
			char big[MSG];
			while (total > 0) {
				ssize_t r =
					recv(b, big, !strcmp(mode, "unix") ? MSG : sizeof(big), 0);
				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0)
					die("recv");
				total -= r;
			}
		}
		_exit(0);
	}
	close(b);
	for (long i = 0; i < n; i++) {
		if (pingpong) {
			send_all(a, m);
			recv_all(a, m);
		} else if (dgram) {
			if (send(a, m, MSG, 0) < 0 && errno != ENOBUFS && errno != ECONNREFUSED)
				die("send");
		} else {
			send_all(a, m);
		}
	}
	if (dgram) {
		for (int i = 0; i < 100; i++) {
			send(a, m, 0, 0);
			struct timespec ms = {0, 1000000};
			if (waitpid(peer, NULL, WNOHANG) == peer) {
				peer = 0;
				break;
			}
			nanosleep(&ms, NULL);
		}
	}
	if (peer)
		waitpid(peer, NULL, 0);
	double secs = now() - t0;
	printf("{\"mode\":\"%s\",\"messages\":%ld,\"seconds\":%.6f,\"port\":%d}\n", mode, n, secs,
	       port);
	return 0;
}
