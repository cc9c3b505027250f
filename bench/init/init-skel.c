/* init() latency of a bpftool-generated skeleton (the peer of
 * init-coolbpf): ROUNDS times SKEL__open_and_load() + SKEL__attach() (timed)
 * and SKEL__destroy() (timed apart, not in the ratio), linked with the system libbpf (-lbpf).
 *
 *   cc -DSKEL_HEADER='"x.skel.h"' -DSKEL=x init-skel.c -lbpf
 *   init-skel [ROUNDS]
 *
 * Prints {"init_us":[..],"destroy_us":[..]} on stdout; fails loudly. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/libbpf.h>

#include SKEL_HEADER

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define SKEL_FN(f) CAT(SKEL, f)

static int64_t now_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts)) {
		fprintf(stderr, "init-skel: clock_gettime: %s\n", strerror(errno));
		exit(1);
	}
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc > 2) {
		fprintf(stderr, "usage: init-skel [ROUNDS]\n");
		return 2;
	}
	int rounds = argc > 1 ? atoi(argv[1]) : 1;
	if (rounds < 1 || rounds > 1000) {
		fprintf(stderr, "init-skel: ROUNDS must be 1..1000, got '%s'\n", argv[1]);
		return 2;
	}
	int64_t *t_init = calloc((size_t)rounds, sizeof(int64_t)), *t_destroy = calloc((size_t)rounds, sizeof(int64_t));
	if (!t_init || !t_destroy) {
		fprintf(stderr, "init-skel: out of memory\n");
		return 1;
	}
	for (int i = 0; i < rounds; i++) {
		int64_t t0 = now_ns();
		struct SKEL *s = SKEL_FN(__open_and_load)();
		if (!s) {
			fprintf(stderr, "init-skel: open_and_load (round %d): %s\n", i + 1, strerror(errno));
			return 1;
		}
		int err = SKEL_FN(__attach)(s);
		t_init[i] = now_ns() - t0;
		if (err) {
			fprintf(stderr, "init-skel: attach (round %d): %s\n", i + 1, strerror(-err));
			return 1;
		}
		t0 = now_ns();
		SKEL_FN(__destroy)(s);
		t_destroy[i] = now_ns() - t0;
	}
	printf("{\"init_us\":[");
	for (int i = 0; i < rounds; i++)
		printf("%s%.1f", i ? "," : "", t_init[i] / 1e3);
	printf("],\"destroy_us\":[");
	for (int i = 0; i < rounds; i++)
		printf("%s%.1f", i ? "," : "", t_destroy[i] / 1e3);
	printf("]}\n");
	return fflush(stdout) ? 1 : 0;
}
