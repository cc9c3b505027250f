/* Ring buffer consumer through bpf.so's C ABI, reached with dlopen/dlsym as
 * language wrappers reach it:
 *
 *   consumer-coolbpf BPF_SO stream|burst N BATCH TGID_OFF PRODUCED_OFF DROPPED_OFF [TIMEOUT_MS]
 *
 * TGID_OFF: offset of producer_tgid in .rodata; PRODUCED_OFF, DROPPED_OFF:
 * offsets of the two u64 counters in .bss (all from coolbpf-gen's model). BATCH: records per burst (burst mode). Reads with
 * coolbpf_events_read into a 256 KiB buffer and walks the records
 * ({u32 size, u32 cpu}, data, pad to 8). Prints one JSON line (common.h). */
#include "common.h"

#include <dlfcn.h>

#include "coolbpf.h"

#define BUF_SIZE (256 * 1024)

#define FUNCS(X) X(abi_version) X(last_error) X(open) X(set_initial) X(load) X(attach) X(data) \
	X(events_open) X(events_read) X(events_stats) X(events_close) X(destroy)

static struct {
#define FIELD(f) __typeof__(coolbpf_##f) *f;
	FUNCS(FIELD)
#undef FIELD
} cb;

static void load_abi(const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		die("dlopen %s: %s", path, dlerror());
#define SYM(f)                                                   \
	if (!(cb.f = (__typeof__(cb.f))dlsym(h, "coolbpf_" #f))) \
		die("%s: no symbol coolbpf_%s", path, #f);
	FUNCS(SYM)
#undef SYM
	if (cb.abi_version() != COOLBPF_ABI_VERSION)
		die("%s: ABI version %u, this consumer was built for %u", path, cb.abi_version(), COOLBPF_ABI_VERSION);
}

static struct coolbpf_events *g_events;
static unsigned char *g_buf;

static uint64_t consume(struct tally *t, int timeout_ms)
{
	int64_t got = cb.events_read(g_events, g_buf, BUF_SIZE, timeout_ms);
	if (got < 0)
		die("coolbpf_events_read: %s", cb.last_error());
	uint64_t before = t->delivered + t->bad_size;
	for (int64_t at = 0; at < got;) {
		const struct coolbpf_record *r = (const void *)(g_buf + at);
		tally(t, r + 1, r->size);
		at += (int64_t)(sizeof(*r) + ((r->size + 7) & ~7u));
		if (at > got)
			die("a record at %" PRId64 " runs past the %" PRId64 " bytes read", at, got);
	}
	return t->delivered + t->bad_size - before;
}

int main(int argc, char **argv)
{
	g_name = "consumer-coolbpf";
	if (argc < 8 || argc > 9 || (strcmp(argv[2], "stream") && strcmp(argv[2], "burst")))
		die("usage: consumer-coolbpf BPF_SO stream|burst N BATCH TGID_OFF PRODUCED_OFF DROPPED_OFF [TIMEOUT_MS]");
	int burst = strcmp(argv[2], "burst") == 0;
	uint64_t n = parse_u64("N", argv[3]);
	uint64_t batch = parse_u64("BATCH", argv[4]);
	size_t ro_off = (size_t)parse_u64("TGID_OFF", argv[5]);
	size_t produced_off = (size_t)parse_u64("PRODUCED_OFF", argv[6]);
	size_t dropped_off = (size_t)parse_u64("DROPPED_OFF", argv[7]);
	int timeout = argc > 8 ? (int)parse_u64("TIMEOUT_MS", argv[8]) : 100;

	/* the producer first: its pid goes into .rodata before load */
	uint32_t tgid = (uint32_t)producer_fork(n, burst ? batch : 0);

	load_abi(argv[1]);
	struct coolbpf *c = cb.open(NULL);
	if (!c)
		die("coolbpf_open: %s", cb.last_error());
	size_t ro_size = 0;
	if (!cb.data(c, ".rodata", &ro_size))
		die("coolbpf_data(.rodata): %s", cb.last_error());
	if (ro_off + sizeof(tgid) > ro_size)
		die(".rodata is %zu bytes, no producer_tgid at offset %zu", ro_size, ro_off);
	if (cb.set_initial(c, ".rodata", ro_off, &tgid, sizeof(tgid)))
		die("coolbpf_set_initial(.rodata): %s", cb.last_error());
	if (cb.load(c))
		die("coolbpf_load: %s", cb.last_error());
	if (cb.attach(c))
		die("coolbpf_attach: %s", cb.last_error());
	size_t bss_size = 0;
	unsigned char *bss = cb.data(c, ".bss", &bss_size);
	if (!bss)
		die("coolbpf_data(.bss): %s", cb.last_error());
	if (produced_off % 8 || produced_off + 8 > bss_size || dropped_off % 8 || dropped_off + 8 > bss_size)
		die(".bss is %zu bytes, no 8-aligned counters at offsets %zu and %zu", bss_size, produced_off,
		    dropped_off);
	const volatile uint64_t *produced = (const volatile uint64_t *)(bss + produced_off);
	const volatile uint64_t *dropped = (const volatile uint64_t *)(bss + dropped_off);
	if (!(g_events = cb.events_open(c, "events", 0)))
		die("coolbpf_events_open(events): %s", cb.last_error());
	if (!(g_buf = malloc(BUF_SIZE)))
		die("malloc: out of memory");
	memset(g_buf, 0, BUF_SIZE); /* fault it in outside the window */

	int rc = run("coolbpf", burst, n, batch, timeout, consume, produced, dropped);

	uint64_t recs = 0, lost = 0;
	cb.events_stats(g_events, &recs, &lost);
	if (lost)
		die("coolbpf_events_stats reports %" PRIu64 " lost", lost);
	cb.events_close(g_events);
	cb.destroy(c);
	free(g_buf);
	return rc;
}
