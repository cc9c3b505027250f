/* The ring buffer benchmark's producer as a program of its own, for a
 * consumer that spawns it rather than forks it (consumer-node.mjs): the same
 * loop as the child of producer_fork() in common.h (producer_loop()), with
 * the pipes on stdin and stdout.
 *
 *   producer N BATCH
 *
 * Calls getppid() through syscall(2) N times in batches of BATCH (0: all at
 * once); before each batch it reads one byte from stdin, after it writes one
 * byte ('d') to stdout. After the last batch it writes a newline and one JSON
 * line, {"producer_cpu_us":...} (its own getrusage, user + sys), and exits 0.
 * Its pid is the tgid the BPF program filters on. BENCH_PIN=C,P pins it to
 * CPU P, as the forked producer. Fails loudly (exit 1). */
/* common.h is the consumers' too: most of it is unused here */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "common.h"

int main(int argc, char **argv)
{
	g_name = "producer";
	if (argc != 3)
		die("usage: producer N BATCH");
	uint64_t n = parse_u64("N", argv[1]);
	uint64_t batch = parse_u64("BATCH", argv[2]);
	if (batch == 0 || batch > n)
		batch = n;
	pin(1);
	if (prctl(PR_SET_NAME, "rb-producer")) /* as the forked one */
		die("prctl(PR_SET_NAME): %s", strerror(errno));
	int rc = producer_loop(STDIN_FILENO, STDOUT_FILENO, n, batch);
	if (rc)
		return rc;
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru))
		die("getrusage: %s", strerror(errno));
	char line[64];
	int len = snprintf(line, sizeof(line), "\n{\"producer_cpu_us\":%" PRId64 "}\n", tv_us(ru.ru_utime) + tv_us(ru.ru_stime));
	if (write(STDOUT_FILENO, line, (size_t)len) != len)
		die("writing the result: %s", strerror(errno));
	return 0;
}
