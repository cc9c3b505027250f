/* Shared by the C ring buffer consumers (and producer.c): the producer
 * process, the measurement window, the read loop and the result line. Each
 * consumer:
 *
 *   producer_fork(n, batch)   forks the producer (it waits for a go byte)
 *   ... open, set producer_tgid, load, attach, open the reader (not timed) ...
 *   run(..., consume, ...)    the measured read loop (see run()), then
 *                             report(): reaps the producer, checks, prints
 *                             one JSON line
 *
 * Everything fails loudly: any error prints "<consumer>: what: why" on
 * stderr and exits 1. */
#ifndef BENCH_RINGBUF_COMMON_H
#define BENCH_RINGBUF_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* what the BPF program writes: 8 bytes of seq + 56 of payload */
#define RECORD_SIZE 64
/* no record for this long while some are missing: give up */
#define STALL_MS 10000

static const char *g_name = "consumer";
static pid_t g_producer = -1;

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", g_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (g_producer > 0)
		kill(g_producer, SIGKILL);
	exit(1);
}

static uint64_t parse_u64(const char *what, const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end)
		die("%s: not a number: '%s'", what, s);
	return v;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts))
		die("clock_gettime: %s", strerror(errno));
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t tv_us(struct timeval tv) { return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec; }

/* ---------------------------------------------------------------- producer */

static int g_go_fd = -1;   /* consumer -> producer: one byte per start */
static int g_done_fd = -1; /* producer -> consumer: one byte per finished batch */

/* BENCH_PIN=C,P: the consumer runs on CPU C, the producer on CPU P */
static void pin(int producer)
{
	const char *spec = getenv("BENCH_PIN");
	if (!spec || !*spec)
		return;
	int c, p;
	if (sscanf(spec, "%d,%d", &c, &p) != 2 || c < 0 || p < 0)
		die("BENCH_PIN: expected CONSUMER_CPU,PRODUCER_CPU, got '%s'", spec);
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(producer ? p : c, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity(CPU %d): %s", producer ? p : c, strerror(errno));
}

static int read_byte(int fd)
{
	char b;
	ssize_t r;
	while ((r = read(fd, &b, 1)) < 0 && errno == EINTR) {
	}
	return r == 1;
}

/* The producer's loop: calls getppid() through syscall(2) n times in all, in
 * batches of `batch` calls (1 <= batch <= n), waiting for one byte on go_fd
 * before each batch and writing one on done_fd after it. Returns the exit
 * status: 0, or 3 when the consumer went away, 4 when done_fd failed. Run by
 * producer_fork()'s child, and by producer.c (the same loop as a program of
 * its own, for consumers that spawn rather than fork it: consumer-node.mjs). */
static int producer_loop(int go_fd, int done_fd, uint64_t n, uint64_t batch)
{
	for (uint64_t left = n; left > 0;) {
		uint64_t b = left < batch ? left : batch;
		if (!read_byte(go_fd))
			return 3; /* the consumer went away */
		for (uint64_t i = 0; i < b; i++)
			syscall(SYS_getppid);
		if (write(done_fd, "d", 1) != 1)
			return 4;
		left -= b;
	}
	return 0;
}

/* Forks the producer, which runs producer_loop() over two pipes: n calls in
 * batches of `batch` (0: all at once). Returns its pid, which is the tgid the
 * BPF program filters on. */
static pid_t producer_fork(uint64_t n, uint64_t batch)
{
	int go[2], done[2];
	if (pipe2(go, O_CLOEXEC) || pipe2(done, O_CLOEXEC))
		die("pipe2: %s", strerror(errno));
	if (batch == 0 || batch > n)
		batch = n;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		pin(1);
		if (prctl(PR_SET_NAME, "rb-producer")) /* tells it apart in perf and top */
			die("prctl(PR_SET_NAME): %s", strerror(errno));
		close(go[1]);
		close(done[0]);
		_exit(producer_loop(go[0], done[1], n, batch));
	}
	close(go[0]);
	close(done[1]);
	pin(0);
	g_go_fd = go[1];
	g_done_fd = done[0];
	g_producer = pid;
	return pid;
}

static void producer_go(void)
{
	if (write(g_go_fd, "g", 1) != 1)
		die("starting the producer: %s", strerror(errno));
}

static void producer_wait_batch(void)
{
	if (!read_byte(g_done_fd))
		die("the producer exited before finishing a batch");
}

/* ------------------------------------------------------------- measurement */

/* The measurement window: rusage and clock deltas summed over
 * window_resume .. window_pause spans (one span in stream mode). */
struct window {
	struct rusage ru0;
	int64_t t0;
	int64_t user_us, sys_us, wall_ns;
	long nvcsw, nivcsw;
};

static void window_resume(struct window *w)
{
	if (getrusage(RUSAGE_SELF, &w->ru0))
		die("getrusage: %s", strerror(errno));
	w->t0 = now_ns();
}

static void window_pause(struct window *w)
{
	int64_t t1 = now_ns();
	struct rusage ru1;
	if (getrusage(RUSAGE_SELF, &ru1))
		die("getrusage: %s", strerror(errno));
	w->wall_ns += t1 - w->t0;
	w->user_us += tv_us(ru1.ru_utime) - tv_us(w->ru0.ru_utime);
	w->sys_us += tv_us(ru1.ru_stime) - tv_us(w->ru0.ru_stime);
	w->nvcsw += ru1.ru_nvcsw - w->ru0.ru_nvcsw;
	w->nivcsw += ru1.ru_nivcsw - w->ru0.ru_nivcsw;
}

/* ------------------------------------------------------------------- tally */

struct tally {
	uint64_t delivered;
	uint64_t seq_sum;
	uint64_t next_seq;     /* one producer thread: records arrive in seq order */
	uint64_t out_of_order;
	uint64_t bad_size;
	uint64_t reads;        /* events_read / ring_buffer__poll calls */
	uint64_t empty_reads;  /* ... that returned nothing */
};

/* the run's tally; a global so libbpf's callback context can point at it */
static struct tally g_tally;

static inline void tally(struct tally *t, const void *data, uint32_t size)
{
	if (size != RECORD_SIZE) {
		t->bad_size++;
		return;
	}
	uint64_t seq;
	memcpy(&seq, data, sizeof(seq));
	t->seq_sum += seq;
	t->out_of_order += seq != t->next_seq;
	t->next_seq = seq + 1;
	t->delivered++;
}

/* -------------------------------------------------------------------- result */

/* Reaps the producer, checks the run and prints one JSON line. produced and
 * dropped are the BPF program's .bss counters. Exit status 1 when anything
 * was lost or wrong (after printing, so the driver can show why). */
static int report(const char *consumer, const char *mode, uint64_t n, const struct tally *t, const struct window *w,
		  uint64_t produced, uint64_t dropped)
{
	int status;
	struct rusage pru;
	pid_t r;
	while ((r = wait4(g_producer, &status, 0, &pru)) < 0 && errno == EINTR) {
	}
	if (r != g_producer)
		die("wait4 producer: %s", strerror(errno));
	g_producer = -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("the producer failed (status 0x%x)", status);

	uint64_t lost = dropped + (n > t->delivered ? n - t->delivered : 0);
	uint64_t want_sum = n ? (n % 2 ? n * ((n - 1) / 2) : (n / 2) * (n - 1)) : 0;
	int ok = lost == 0 && t->delivered == n && produced == n && t->seq_sum == want_sum && t->out_of_order == 0 &&
		 t->bad_size == 0;
	printf("{\"consumer\":\"%s\",\"mode\":\"%s\",\"n\":%" PRIu64 ",\"produced\":%" PRIu64 ",\"dropped\":%" PRIu64
	       ",\"delivered\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"seq_sum_ok\":%s,\"out_of_order\":%" PRIu64
	       ",\"bad_size\":%" PRIu64 ",\"user_us\":%" PRId64 ",\"sys_us\":%" PRId64 ",\"wall_us\":%" PRId64
	       ",\"nvcsw\":%ld,\"nivcsw\":%ld,\"reads\":%" PRIu64 ",\"empty_reads\":%" PRIu64
	       ",\"producer_cpu_us\":%" PRId64 "}\n",
	       consumer, mode, n, produced, dropped, t->delivered, lost, t->seq_sum == want_sum ? "true" : "false",
	       t->out_of_order, t->bad_size, w->user_us, w->sys_us, w->wall_ns / 1000, w->nvcsw, w->nivcsw, t->reads, t->empty_reads,
	       tv_us(pru.ru_utime) + tv_us(pru.ru_stime));
	fflush(stdout);
	if (!ok) {
		fprintf(stderr, "%s: run not clean: %" PRIu64 " lost, %" PRIu64 " of %" PRIu64 " delivered (%" PRIu64
				" produced), seq sum %s, %" PRIu64 " out of order, %" PRIu64 " of a wrong size\n",
			consumer, lost, t->delivered, n, produced, t->seq_sum == want_sum ? "ok" : "WRONG", t->out_of_order,
			t->bad_size);
		return 1;
	}
	return 0;
}

/* --------------------------------------------------------------------- run */

/* Reads once, waiting up to timeout_ms when nothing is there (0: do not
 * wait), feeds every record to tally(); returns the records read. */
typedef uint64_t (*consume_fn)(struct tally *t, int timeout_ms);

static uint64_t load_u64(const volatile uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }

/* stream: the producer runs flat out while the consumer reads with
 * timeout_ms, sleeping whenever it has caught up; one window from just
 * before the producer starts to just after the last record.
 * burst: the producer fills the ring with `batch` records while the consumer
 * waits on a pipe (not measured), then the consumer drains them without
 * waiting (timeout 0); the window covers only the drains. */
static int run(const char *consumer, int burst, uint64_t n, uint64_t batch, int timeout_ms, consume_fn consume,
	       const volatile uint64_t *produced, const volatile uint64_t *dropped)
{
	struct tally *t = &g_tally;
	struct window w = {0};
	if (!burst) {
		window_resume(&w);
		producer_go();
		int64_t last_progress = now_ns();
		while (t->delivered < n) {
			uint64_t got = consume(t, timeout_ms);
			t->reads++;
			if (got) {
				last_progress = now_ns();
				continue;
			}
			t->empty_reads++;
			/* the producer is done and nothing more is coming: stop (lost > 0) */
			if (load_u64(produced) + load_u64(dropped) == n && t->delivered == load_u64(produced))
				break;
			if (now_ns() - last_progress > (int64_t)STALL_MS * 1000000)
				die("no record for %d ms with %" PRIu64 " of %" PRIu64 " delivered", STALL_MS, t->delivered, n);
		}
		window_pause(&w);
	} else {
		if (batch == 0 || batch > n)
			batch = n;
		for (uint64_t done = 0; done < n;) {
			uint64_t b = n - done < batch ? n - done : batch;
			producer_go();
			producer_wait_batch();
			/* every record of the batch is committed by now (or dropped) */
			uint64_t want = load_u64(produced);
			window_resume(&w);
			while (t->delivered < want) {
				uint64_t got = consume(t, 0);
				t->reads++;
				if (!got) {
					t->empty_reads++;
					break;
				}
			}
			window_pause(&w);
			done += b;
		}
	}
	return report(consumer, burst ? "burst" : "stream", n, t, &w, load_u64(produced), load_u64(dropped));
}

#endif
