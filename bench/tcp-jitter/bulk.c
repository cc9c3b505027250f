// Bulk TCP transfer on IPv4 loopback for bench/tcp-jitter.mjs: the parent
// writes 1 MiB blocks to a forked child that reads them into a 256 KiB
// buffer, until the parent gets SIGTERM (or SIGINT). The receiver prints one
// line per window of about WINDOW_MS milliseconds (default 50):
//   START END BYTES
// START and END in CLOCK_MONOTONIC seconds (the clock of Node's
// process.hrtime), BYTES read in between, so the benchmark can add up the
// throughput of any interval of a long transfer.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

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

static void receive(int ls, double window)
{
	int c = accept(ls, NULL, NULL);
	if (c < 0)
		die("accept");
	static char buf[256 * 1024];
	uint64_t bytes = 0;
	double start = now();
	for (;;) {
		ssize_t n = read(c, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read");
		bytes += n;
		double t = now();
		if (t - start >= window || n == 0) {
			printf("%.6f %.6f %llu\n", start, t, (unsigned long long)bytes);
			fflush(stdout);
			start = t;
			bytes = 0;
		}
		if (n == 0)
			return;
	}
}

int main(int argc, char **argv)
{
	double window = (argc > 1 ? atof(argv[1]) : 50) / 1e3;
	if (window <= 0) {
		fprintf(stderr, "usage: bulk [WINDOW_MS]\n");
		return 1;
	}
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 1) ||
	    getsockname(ls, (struct sockaddr *)&a, &alen))
		die("listen");
	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		signal(SIGTERM, SIG_IGN); // the writer stops; the reader drains to EOF
		signal(SIGINT, SIG_IGN);
		receive(ls, window);
		_exit(0);
	}
	struct sigaction sa = { .sa_handler = on_stop }; // no SA_RESTART: a blocked write returns
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)))
		die("connect");
	static char block[1 << 20];
	memset(block, 'x', sizeof(block));
	while (!stopping) {
		size_t off = 0;
		while (off < sizeof(block) && !stopping) {
			ssize_t n = write(s, block + off, sizeof(block) - off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				die("write");
			off += n;
		}
	}
	close(s);
	int status;
	if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return 1;
	return 0;
}
