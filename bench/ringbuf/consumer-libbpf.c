/* Ring buffer consumer the plain libbpf way: the same bpf.o through a
 * `bpftool gen skeleton` header, linked with the system libbpf (-lbpf),
 * ring_buffer__new with a callback; ring_buffer__poll in a loop (stream
 * mode) or ring_buffer__consume (burst mode: records are already waiting,
 * and consume is libbpf's call that makes no system call).
 *
 *   consumer-libbpf stream|burst N BATCH [TIMEOUT_MS]
 *
 * Prints one JSON line, the same fields as consumer-coolbpf (common.h). */
#include "common.h"

#include <bpf/libbpf.h>

#include "ringbuf.skel.h"

static struct ring_buffer *g_rb;

static int on_record(void *ctx, void *data, size_t size)
{
	tally(ctx, data, (uint32_t)size);
	return 0;
}

static uint64_t consume(struct tally *t, int timeout_ms)
{
	uint64_t before = t->delivered + t->bad_size;
	int got = timeout_ms ? ring_buffer__poll(g_rb, timeout_ms) : ring_buffer__consume(g_rb);
	if (got < 0 && got != -EINTR)
		die("ring_buffer__%s: %s", timeout_ms ? "poll" : "consume", strerror(-got));
	return t->delivered + t->bad_size - before;
}

int main(int argc, char **argv)
{
	g_name = "consumer-libbpf";
	if (argc < 4 || argc > 5 || (strcmp(argv[1], "stream") && strcmp(argv[1], "burst")))
		die("usage: consumer-libbpf stream|burst N BATCH [TIMEOUT_MS]");
	int burst = strcmp(argv[1], "burst") == 0;
	uint64_t n = parse_u64("N", argv[2]);
	uint64_t batch = parse_u64("BATCH", argv[3]);
	int timeout = argc > 4 ? (int)parse_u64("TIMEOUT_MS", argv[4]) : 100;

	uint32_t tgid = (uint32_t)producer_fork(n, burst ? batch : 0);

	struct ringbuf *skel = ringbuf__open();
	if (!skel)
		die("ringbuf__open: %s", strerror(errno));
	skel->rodata->producer_tgid = tgid;
	int err = ringbuf__load(skel);
	if (err)
		die("ringbuf__load: %s", strerror(-err));
	if ((err = ringbuf__attach(skel)))
		die("ringbuf__attach: %s", strerror(-err));
	g_rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_record, &g_tally, NULL);
	if (!g_rb)
		die("ring_buffer__new: %s", strerror(errno));

	/* __u64 is unsigned long long, uint64_t unsigned long: both 8 bytes here */
	_Static_assert(sizeof(skel->bss->produced) == sizeof(uint64_t), "u64");
	int rc = run("libbpf", burst, n, batch, timeout, consume, (const volatile uint64_t *)&skel->bss->produced,
		     (const volatile uint64_t *)&skel->bss->dropped);

	ring_buffer__free(g_rb);
	ringbuf__destroy(skel);
	return rc;
}
