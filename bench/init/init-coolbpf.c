/* init() latency of a bpf.so: dlopen it (timed on its own), then ROUNDS times
 * coolbpf_init(NULL) (open + load + attach, timed) and coolbpf_destroy (not
 * in the ratio; its time is printed too). The first round is the cold one: libbpf probes the kernel's
 * features and reads vmlinux BTF on first use in a process.
 *
 *   init-coolbpf BPF_SO [ROUNDS]
 *
 * Prints {"dlopen_us":..,"init_us":[..],"destroy_us":[..]} on stdout; fails
 * loudly. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coolbpf.h"

static int64_t now_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts)) {
		fprintf(stderr, "init-coolbpf: clock_gettime: %s\n", strerror(errno));
		exit(1);
	}
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: init-coolbpf BPF_SO [ROUNDS]\n");
		return 2;
	}
	int rounds = argc > 2 ? atoi(argv[2]) : 1;
	if (rounds < 1 || rounds > 1000) {
		fprintf(stderr, "init-coolbpf: ROUNDS must be 1..1000, got '%s'\n", argv[2]);
		return 2;
	}

	int64_t t0 = now_ns();
	void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	int64_t dl = now_ns() - t0;
	if (!h) {
		fprintf(stderr, "init-coolbpf: dlopen %s: %s\n", argv[1], dlerror());
		return 1;
	}
	__typeof__(coolbpf_init) *init = (__typeof__(init))dlsym(h, "coolbpf_init");
	__typeof__(coolbpf_destroy) *destroy = (__typeof__(destroy))dlsym(h, "coolbpf_destroy");
	__typeof__(coolbpf_last_error) *last_error = (__typeof__(last_error))dlsym(h, "coolbpf_last_error");
	__typeof__(coolbpf_abi_version) *abi_version = (__typeof__(abi_version))dlsym(h, "coolbpf_abi_version");
	if (!init || !destroy || !last_error || !abi_version) {
		fprintf(stderr, "init-coolbpf: %s lacks a coolbpf_* symbol\n", argv[1]);
		return 1;
	}
	if (abi_version() != COOLBPF_ABI_VERSION) {
		fprintf(stderr, "init-coolbpf: %s has ABI %u, expected %u\n", argv[1], abi_version(), COOLBPF_ABI_VERSION);
		return 1;
	}

	int64_t *t_init = calloc((size_t)rounds, sizeof(int64_t)), *t_destroy = calloc((size_t)rounds, sizeof(int64_t));
	if (!t_init || !t_destroy) {
		fprintf(stderr, "init-coolbpf: out of memory\n");
		return 1;
	}
	for (int i = 0; i < rounds; i++) {
		t0 = now_ns();
		struct coolbpf *c = init(NULL);
		t_init[i] = now_ns() - t0;
		if (!c) {
			fprintf(stderr, "init-coolbpf: coolbpf_init (round %d): %s\n", i + 1, last_error());
			return 1;
		}
		t0 = now_ns();
		destroy(c);
		t_destroy[i] = now_ns() - t0;
	}
	printf("{\"dlopen_us\":%.1f,\"init_us\":[", dl / 1e3);
	for (int i = 0; i < rounds; i++)
		printf("%s%.1f", i ? "," : "", t_init[i] / 1e3);
	printf("],\"destroy_us\":[");
	for (int i = 0; i < rounds; i++)
		printf("%s%.1f", i ? "," : "", t_destroy[i] / 1e3);
	printf("]}\n");
	return fflush(stdout) ? 1 : 0;
}
