// Bulk TCP transfer on loopback for bench/tcp-jitter.mjs: a receiver (a forked
// child) reads everything into a 256 KiB buffer, the parent writes 1 MiB
// blocks for SECONDS after a short warmup; prints {"bytes":…,"seconds":…}
// measured by the receiver (first byte after the warmup to the end).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 1.0, warmup = 0.2;
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 1) ||
	    getsockname(ls, (struct sockaddr *)&a, &alen))
		die("listen");
	int fds[2];
	if (pipe(fds))
		die("pipe");
	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		int c = accept(ls, NULL, NULL);
		if (c < 0)
			die("accept");
		static char buf[256 * 1024];
		uint64_t bytes = 0;
		double start = 0, end = 0, t0 = now();
		for (;;) {
			ssize_t n = read(c, buf, sizeof(buf));
			if (n < 0)
				die("read");
			if (n == 0)
				break;
			double t = now();
			if (t - t0 < warmup)
				continue;
			if (start == 0)
				start = t;
			else
				bytes += n;
			end = t;
		}
		double r[2] = { (double)bytes, end - start };
		if (write(fds[1], r, sizeof(r)) != sizeof(r))
			die("write result");
		_exit(0);
	}
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)))
		die("connect");
	static char block[1 << 20];
	memset(block, 'x', sizeof(block));
	double stop = now() + warmup + seconds;
	while (now() < stop) {
		size_t off = 0;
		while (off < sizeof(block)) {
			ssize_t n = write(s, block + off, sizeof(block) - off);
			if (n < 0)
				die("write");
			off += n;
		}
	}
	close(s);
	double r[2];
	if (read(fds[0], r, sizeof(r)) != sizeof(r))
		die("read result");
	waitpid(child, NULL, 0);
	printf("{\"bytes\":%.0f,\"seconds\":%.6f}\n", r[0], r[1]);
	return 0;
}
