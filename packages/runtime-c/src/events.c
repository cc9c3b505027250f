/* SPDX-License-Identifier: Apache-2.0 */
/* Event readers without callbacks into the caller: each read copies whole
 * records into the caller's buffer as {u32 size, u32 cpu, data, pad to 8}.
 *
 * Ring buffers are read straight from their memory mapping (the protocol
 * libbpf's ringbuf.c follows), so a read that finds records waiting makes no
 * system call at all, and a record that does not fit simply stays queued.
 * Perf buffers go through libbpf's perf_buffer, whose callback cannot refuse
 * a record: what does not fit waits in a spill buffer for the next read. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "internal.h"

#define REC_HDR sizeof(struct coolbpf_record)
#define ALIGN8(x) (((x) + 7) & ~(size_t)7)

struct coolbpf_events {
	struct coolbpf *owner;
	struct coolbpf_events *next;
	char map[64];
	bool perf;
	int epfd;
	uint64_t records, lost;
	/* ring buffer */
	size_t page_size;
	size_t mask;
	unsigned long *consumer_pos;
	unsigned long *producer_pos;
	unsigned char *data;
	size_t producer_len;
	/* perf buffer */
	struct perf_buffer *pb;
	size_t nbufs, next_buf;
	unsigned char *out; /* the buffer of the read in progress */
	size_t out_size, out_len;
	unsigned char *spill;
	size_t spill_len, spill_off, spill_cap;
};

/* ---------------------------------------------------------------- ring buffer */

static int ringbuf_open(struct coolbpf_events *e, int map_fd, uint32_t max_entries)
{
	e->page_size = (size_t)sysconf(_SC_PAGESIZE);
	e->mask = (size_t)max_entries - 1;
	void *cons = mmap(NULL, e->page_size, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (cons == MAP_FAILED)
		return -errno;
	e->consumer_pos = cons;
	/* data pages are mapped twice in a row, so a record that wraps reads contiguously */
	e->producer_len = e->page_size + 2 * (size_t)max_entries;
	void *prod = mmap(NULL, e->producer_len, PROT_READ, MAP_SHARED, map_fd, (off_t)e->page_size);
	if (prod == MAP_FAILED) {
		int err = -errno;
		munmap(cons, e->page_size);
		e->consumer_pos = NULL;
		return err;
	}
	e->producer_pos = prod;
	e->data = (unsigned char *)prod + e->page_size;
	e->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (e->epfd < 0)
		return -errno;
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 0};
	if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, map_fd, &ev) < 0)
		return -errno;
	return 0;
}

/* Copies n bytes of a record in 8-byte words: both ends are 8-aligned and a
 * ring record's length is a multiple of 8, so the last word never leaves it.
 * The bytes past n are zeroed so a batch does not depend on stale ring data. */
static inline void copy_record(unsigned char *dst, const unsigned char *src, size_t n)
{
	size_t words = ALIGN8(n) / 8;
	for (size_t i = 0; i < words; i++) {
		uint64_t w;
		memcpy(&w, src + 8 * i, 8);
		memcpy(dst + 8 * i, &w, 8);
	}
	if (n & 7)
		memset(dst + n, 0, 8 - (n & 7));
}

/* Copies waiting records into buf; returns bytes written, or -ENOSPC when
 * the first waiting record alone is larger than size.
 *
 * consumer_pos is published once per pass rather than per record: the
 * producer reads that cache line on every reserve, so each store would pull
 * it away from the producing CPU. After publishing, a full fence and a
 * second look at producer_pos: a record committed while consumer_pos was
 * behind did not wake anyone, so it must be seen here, not waited for. */
static int64_t ringbuf_drain(struct coolbpf_events *e, unsigned char *buf, size_t size)
{
	size_t used = 0;
	uint64_t delivered = 0;
	unsigned long cons = __atomic_load_n(e->consumer_pos, __ATOMIC_ACQUIRE);
	unsigned long prod = __atomic_load_n(e->producer_pos, __ATOMIC_ACQUIRE);
	int64_t result = 0;
	for (;;) {
		bool stop = false;
		while (cons < prod) {
			uint32_t *hdr = (uint32_t *)(e->data + (cons & e->mask));
			uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
			if (len & BPF_RINGBUF_BUSY_BIT) {
				stop = true; /* reserved, not yet committed: later records wait too */
				break;
			}
			/* the ring is read sequentially; ask for a page ahead */
			__builtin_prefetch(e->data + ((cons + 4096) & e->mask));
			uint32_t n = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
			if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
				size_t need = REC_HDR + ALIGN8((size_t)n);
				if (need > size - used) {
					if (used == 0)
						result = -ENOSPC;
					stop = true;
					break;
				}
				struct coolbpf_record rec = {.size = n, .cpu = 0};
				memcpy(buf + used, &rec, REC_HDR);
				copy_record(buf + used + REC_HDR, (const unsigned char *)(hdr + 2), n);
				used += need;
				delivered++;
			}
			cons += ALIGN8((size_t)n + BPF_RINGBUF_HDR_SZ);
		}
		__atomic_store_n(e->consumer_pos, cons, __ATOMIC_RELEASE);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (stop)
			break;
		unsigned long again = __atomic_load_n(e->producer_pos, __ATOMIC_ACQUIRE);
		if (again == prod)
			break;
		prod = again;
	}
	e->records += delivered;
	return result < 0 ? result : (int64_t)used;
}

/* ---------------------------------------------------------------- perf buffer */

static int spill_push(struct coolbpf_events *e, const struct coolbpf_record *rec, const void *data)
{
	size_t need = REC_HDR + ALIGN8(rec->size);
	if (e->spill_len + need > e->spill_cap) {
		if (e->spill_off > 0) {
			memmove(e->spill, e->spill + e->spill_off, e->spill_len - e->spill_off);
			e->spill_len -= e->spill_off;
			e->spill_off = 0;
		}
		size_t cap = e->spill_cap ? e->spill_cap : 65536;
		while (cap < e->spill_len + need)
			cap *= 2;
		unsigned char *n = realloc(e->spill, cap);
		if (!n)
			return -ENOMEM;
		e->spill = n;
		e->spill_cap = cap;
	}
	memcpy(e->spill + e->spill_len, rec, REC_HDR);
	memcpy(e->spill + e->spill_len + REC_HDR, data, rec->size);
	memset(e->spill + e->spill_len + REC_HDR + rec->size, 0, need - REC_HDR - rec->size);
	e->spill_len += need;
	return 0;
}

static void perf_sample(void *ctx, int cpu, void *data, __u32 size)
{
	struct coolbpf_events *e = ctx;
	struct coolbpf_record rec = {.size = size, .cpu = (uint32_t)cpu};
	size_t need = REC_HDR + ALIGN8((size_t)size);
	if (e->spill_off == e->spill_len && e->out && need <= e->out_size - e->out_len) {
		memcpy(e->out + e->out_len, &rec, REC_HDR);
		memcpy(e->out + e->out_len + REC_HDR, data, size);
		memset(e->out + e->out_len + REC_HDR + size, 0, need - REC_HDR - size);
		e->out_len += need;
		e->records++;
		return;
	}
	if (spill_push(e, &rec, data) < 0)
		e->lost++; /* out of memory: counted like a kernel-side drop */
}

static void perf_lost(void *ctx, int cpu, __u64 cnt)
{
	struct coolbpf_events *e = ctx;
	e->lost += cnt;
}

/* Moves spilled records into the read's buffer while they fit. */
static void spill_drain(struct coolbpf_events *e)
{
	while (e->spill_off < e->spill_len) {
		const struct coolbpf_record *rec = (const void *)(e->spill + e->spill_off);
		size_t need = REC_HDR + ALIGN8(rec->size);
		if (need > e->out_size - e->out_len)
			return;
		memcpy(e->out + e->out_len, rec, need);
		e->out_len += need;
		e->spill_off += need;
		e->records++;
	}
	e->spill_off = e->spill_len = 0;
}

static int64_t perf_drain(struct coolbpf_events *e, unsigned char *buf, size_t size)
{
	e->out = buf;
	e->out_size = size;
	e->out_len = 0;
	spill_drain(e);
	/* round-robin from where the last read stopped, so no CPU starves */
	size_t start = e->next_buf;
	for (size_t i = 0; i < e->nbufs && e->spill_off == e->spill_len; i++) {
		size_t idx = (start + i) % e->nbufs;
		int err = perf_buffer__consume_buffer(e->pb, idx);
		if (err < 0 && err != -ENOENT) {
			e->out = NULL;
			return err;
		}
		e->next_buf = (idx + 1) % e->nbufs;
	}
	size_t used = e->out_len;
	e->out = NULL;
	if (used == 0 && e->spill_off < e->spill_len)
		return -ENOSPC;
	return (int64_t)used;
}

/* ---------------------------------------------------------------- common */

static void events_free(struct coolbpf_events *e)
{
	if (e->perf) {
		perf_buffer__free(e->pb);
	} else {
		if (e->consumer_pos)
			munmap(e->consumer_pos, e->page_size);
		if (e->producer_pos)
			munmap(e->producer_pos, e->producer_len);
		if (e->epfd >= 0)
			close(e->epfd);
	}
	free(e->spill);
	free(e);
}

API struct coolbpf_events *coolbpf_events_open(struct coolbpf *c, const char *map, size_t perf_pages)
{
	cb_clear_error();
	struct bpf_map *m = cb_find_map(c, map, "events_open");
	if (!m)
		return NULL;
	int fd = bpf_map__fd(m);
	if (!c->loaded || fd < 0) {
		cb_fail_plain(EBADF, "events_open: map '%s': the object is not loaded yet", map);
		return NULL;
	}
	enum bpf_map_type type = bpf_map__type(m);
	if (type != BPF_MAP_TYPE_RINGBUF && type != BPF_MAP_TYPE_PERF_EVENT_ARRAY) {
		cb_fail_plain(EINVAL, "events_open: map '%s': not a ring buffer or perf event array", map);
		return NULL;
	}
	if (perf_pages == 0)
		perf_pages = 64;
	if (type == BPF_MAP_TYPE_PERF_EVENT_ARRAY && (perf_pages & (perf_pages - 1))) {
		cb_fail_plain(EINVAL, "events_open: map '%s': perf_pages %zu is not a power of two", map, perf_pages);
		return NULL;
	}
	struct coolbpf_events *e = calloc(1, sizeof(*e));
	if (!e) {
		cb_fail_plain(ENOMEM, "events_open: map '%s'", map);
		return NULL;
	}
	e->epfd = -1;
	e->owner = c;
	snprintf(e->map, sizeof(e->map), "%s", map);
	cb_begin(c);
	if (type == BPF_MAP_TYPE_RINGBUF) {
		int err = ringbuf_open(e, fd, bpf_map__max_entries(m));
		if (err) {
			cb_fail_plain(err, "events_open: map '%s': mapping the ring buffer", map);
			events_free(e);
			return NULL;
		}
	} else {
		e->perf = true;
		e->pb = perf_buffer__new(fd, perf_pages, perf_sample, perf_lost, e, NULL);
		if (!e->pb) {
			cb_fail(errno, "events_open: map '%s': opening per-CPU perf buffers", map);
			events_free(e);
			return NULL;
		}
		e->epfd = perf_buffer__epoll_fd(e->pb);
		e->nbufs = perf_buffer__buffer_cnt(e->pb);
	}
	e->next = c->events;
	c->events = e;
	return e;
}

API int coolbpf_events_fd(struct coolbpf_events *e) { return e ? e->epfd : -EINVAL; }

static int64_t drain(struct coolbpf_events *e, void *buf, size_t size)
{
	int64_t n = e->perf ? perf_drain(e, buf, size) : ringbuf_drain(e, buf, size);
	if (n == -ENOSPC)
		return cb_fail_plain(ENOSPC, "events_read: map '%s': the next record does not fit in %zu bytes", e->map,
				     size);
	if (n < 0)
		return cb_fail_plain((int)n, "events_read: map '%s'", e->map);
	return n;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

API int64_t coolbpf_events_read(struct coolbpf_events *e, void *buf, size_t size, int timeout_ms)
{
	cb_clear_error();
	if (!e || (!buf && size))
		return cb_fail_plain(EINVAL, "events_read: NULL argument");
	int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	for (;;) {
		int64_t n = drain(e, buf, size);
		if (n != 0 || timeout_ms == 0)
			return n;
		int wait = timeout_ms;
		if (timeout_ms > 0) {
			int64_t left = deadline - now_ms();
			if (left <= 0)
				return 0;
			wait = (int)left;
		}
		struct epoll_event ev[8];
		int r = epoll_wait(e->epfd, ev, 8, wait);
		if (r < 0) {
			/* a signal: return so the caller can act on it */
			if (errno == EINTR)
				return 0;
			return cb_fail_plain(errno, "events_read: map '%s': epoll_wait", e->map);
		}
	}
}

API void coolbpf_events_stats(struct coolbpf_events *e, uint64_t *records, uint64_t *lost)
{
	if (records)
		*records = e ? e->records : 0;
	if (lost)
		*lost = e ? e->lost : 0;
}

API void coolbpf_events_close(struct coolbpf_events *e)
{
	if (!e)
		return;
	for (struct coolbpf_events **p = &e->owner->events; *p; p = &(*p)->next) {
		if (*p == e) {
			*p = e->next;
			break;
		}
	}
	events_free(e);
}

void cb_close_all_events(struct coolbpf *c)
{
	while (c->events) {
		struct coolbpf_events *e = c->events;
		c->events = e->next;
		events_free(e);
	}
}
