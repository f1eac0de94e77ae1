/* Connection-churn generator for the benchmarks (bench/churn.ts and others).
 *
 *   churn N [ADDR]
 *
 * One process: a listener thread on ADDR (default 127.0.0.1), port chosen by
 * the kernel, and a client (the main thread) making exactly N sequential
 * connections: connect, send 100 bytes, the server reads them and closes, the
 * client reads the EOF and closes. Every connection is fully established and
 * torn down by both ends before the next one starts.
 *
 * Prints one JSON line on stdout when done:
 *   {"connections":N,"seconds":S,"rate":R,"port":P,"pid":PID,"retries":K}
 * "port" is the listener's port (the server end of every connection);
 * "retries" counts connect() calls that failed before a connection was made
 * (e.g. EADDRNOTAVAIL when ephemeral ports run out); they are retried and
 * never counted in N.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PAYLOAD 100

static int listener;
static long total;

static void die(const char *what)
{
	fprintf(stderr, "churn: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void *server(void *arg)
{
	(void)arg;
	char buf[PAYLOAD];
	for (long i = 0; i < total; i++) {
		int s = accept(listener, NULL, NULL);
		if (s < 0) {
			if (errno == EINTR || errno == ECONNABORTED) {
				i--;
				continue;
			}
			die("accept");
		}
		size_t got = 0;
		while (got < PAYLOAD) {
			ssize_t n = read(s, buf + got, PAYLOAD - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		close(s);
	}
	return NULL;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 2 || atol(argv[1]) <= 0) {
		fprintf(stderr, "usage: churn N [ADDR]\n");
		return 2;
	}
	total = atol(argv[1]);
	const char *addr = argc > 2 ? argv[2] : "127.0.0.1";

	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "churn: bad address %s\n", addr);
		return 2;
	}
	listener = socket(AF_INET, SOCK_STREAM, 0);
	if (listener < 0)
		die("socket");
	int one = 1;
	setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(listener, (struct sockaddr *)&sa, sizeof(sa)))
		die("bind");
	if (listen(listener, 1024))
		die("listen");
	socklen_t len = sizeof(sa);
	if (getsockname(listener, (struct sockaddr *)&sa, &len))
		die("getsockname");

	pthread_t th;
	if (pthread_create(&th, NULL, server, NULL))
		die("pthread_create");

	char msg[PAYLOAD], buf[64];
	memset(msg, 'x', sizeof(msg));
	long retries = 0;
	double t0 = now();
	for (long i = 0; i < total; i++) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		if (c < 0)
			die("socket");
		if (connect(c, (struct sockaddr *)&sa, sizeof(sa))) {
			if (errno == EADDRNOTAVAIL || errno == EAGAIN || errno == EINTR ||
			    errno == ECONNREFUSED || errno == ETIMEDOUT) {
				close(c);
				if (++retries > 100000)
					die("connect (too many retries)");
				usleep(1000);
				i--;
				continue;
			}
			die("connect");
		}
		size_t sent = 0;
		while (sent < PAYLOAD) {
			ssize_t n = write(c, msg + sent, PAYLOAD - sent);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				die("write");
			sent += (size_t)n;
		}
		/* Wait for the server's close (EOF), then close our end. */
		for (;;) {
			ssize_t n = read(c, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
		}
		close(c);
	}
	double secs = now() - t0;
	pthread_join(th, NULL);
	printf("{\"connections\":%ld,\"seconds\":%.6f,\"rate\":%.1f,\"port\":%u,\"pid\":%d,"
	       "\"retries\":%ld}\n",
	       total, secs, total / secs, ntohs(sa.sin_port), getpid(), retries);
	return 0;
}
