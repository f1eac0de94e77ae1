/* Holds many open loopback TCP connections for bench/memory.ts.
 *
 *   holdconns N K [FIRST]
 *
 * K listeners on 127.0.0.FIRST .. 127.0.0.(FIRST+K-1) (FIRST defaults to 2;
 * kernel-chosen ports), then N
 * connections from 127.0.0.1, round-robin over the listeners, each connected,
 * accepted and used for one byte (both ends stay open in this process: 2N
 * descriptors). The soft
 * RLIMIT_NOFILE is raised as needed, the hard one too when allowed
 * (CAP_SYS_RESOURCE); without it N is bounded by about hard/2 and bench/memory.ts
 * spreads the connections over several holdconns processes.
 * Several destination addresses give enough ephemeral ports for N > 28k.
 *
 * Once all are established and accepted, prints one JSON line:
 *   {"ready":N,"seconds":S,"pid":PID,"listeners":[{"addr":"127.0.0.2","port":P},...]}
 * then waits until standard input has a line or reaches EOF, closes everything
 * and exits.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "holdconns: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int first = argc > 3 ? atoi(argv[3]) : 2;
	if (argc < 3 || atol(argv[1]) <= 0 || atoi(argv[2]) <= 0 || first < 2 ||
	    first + atoi(argv[2]) > 255) {
		fprintf(stderr, "usage: holdconns N K [FIRST]   (2 <= FIRST, FIRST + K <= 255)\n");
		return 2;
	}
	long n = atol(argv[1]);
	int k = atoi(argv[2]);

	rlim_t want = (rlim_t)(2 * n + k + 64);
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < want) {
		struct rlimit up = {want, rl.rlim_max < want ? want : rl.rlim_max};
		if (setrlimit(RLIMIT_NOFILE, &up)) {
			if (rl.rlim_max < want) {
				fprintf(stderr,
					"holdconns: %ld connections need %lu descriptors; the hard "
					"limit is %lu and cannot be raised (no CAP_SYS_RESOURCE)\n",
					n, (unsigned long)want, (unsigned long)rl.rlim_max);
				return 1;
			}
			die("setrlimit(RLIMIT_NOFILE)");
		}
	}

	struct sockaddr_in *addrs = calloc(k, sizeof(*addrs));
	int *listeners = calloc(k, sizeof(int));
	int *fds = malloc(sizeof(int) * 2 * n);
	if (!addrs || !listeners || !fds)
		die("malloc");
	int one = 1;
	for (int i = 0; i < k; i++) {
		addrs[i].sin_family = AF_INET;
		addrs[i].sin_addr.s_addr = htonl(0x7f000000u + (unsigned)(first + i));
		listeners[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (listeners[i] < 0)
			die("socket");
		setsockopt(listeners[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(listeners[i], (struct sockaddr *)&addrs[i], sizeof(addrs[i])))
			die("bind");
		if (listen(listeners[i], 4096))
			die("listen");
		socklen_t len = sizeof(addrs[i]);
		if (getsockname(listeners[i], (struct sockaddr *)&addrs[i], &len))
			die("getsockname");
	}

	struct sockaddr_in src = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001u)};
	double t0 = now();
	for (long i = 0; i < n; i++) {
		int l = (int)(i % k);
		int c = socket(AF_INET, SOCK_STREAM, 0);
		if (c < 0)
			die("socket");
		/* Source 127.0.0.1, port chosen at connect() for the full 4-tuple. */
		setsockopt(c, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(c, (struct sockaddr *)&src, sizeof(src)))
			die("bind (client)");
		if (connect(c, (struct sockaddr *)&addrs[l], sizeof(addrs[l])))
			die("connect");
		int s;
		do
			s = accept(listeners[l], NULL, NULL);
		while (s < 0 && errno == EINTR);
		if (s < 0)
			die("accept");
		/* One byte each way, as a server reads a request: the accepting
		 * process is then known to the tracer at once (it learns the owner
		 * of an accepted connection at its first send/receive/close). */
		char b = 'x';
		if (write(c, &b, 1) != 1 || read(s, &b, 1) != 1)
			die("exchange");
		fds[2 * i] = c;
		fds[2 * i + 1] = s;
	}
	double secs = now() - t0;

	printf("{\"ready\":%ld,\"seconds\":%.3f,\"pid\":%d,\"listeners\":[", n, secs, getpid());
	for (int i = 0; i < k; i++) {
		char buf[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &addrs[i].sin_addr, buf, sizeof(buf));
		printf("%s{\"addr\":\"%s\",\"port\":%u}", i ? "," : "", buf,
		       ntohs(addrs[i].sin_port));
	}
	printf("]}\n");
	fflush(stdout);

	char line[16];
	while (read(0, line, sizeof(line)) < 0 && errno == EINTR)
		;
	for (long i = 0; i < 2 * n; i++)
		close(fds[i]);
	for (int i = 0; i < k; i++)
		close(listeners[i]);
	return 0;
}
