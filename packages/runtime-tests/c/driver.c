/* Drives a bpf.so built from bpf/rt.bpf.c through one scenario and prints
 * what it observed as one JSON object; the vitest files assert on it.
 *
 *   driver BPF_SO smoke|cycles|errors|live [KEY=VALUE]... [--hold]
 *
 * KEY=VALUE pairs give the data-section offsets of the object's globals
 * (off.target_tgid=0 ...), which the test reads from coolbpf-gen's model.
 * --hold: after printing, wait for stdin to close, so the test can look at
 * the kernel's lists of programs, maps and links while this process lives. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "abi.h"

static struct rt_abi abi;
static int argc_g;
static char **argv_g;

/* ------------------------------------------------------------------ output */

static int first = 1;
static void key(const char *k)
{
	printf("%s\"%s\":", first ? "{" : ",", k);
	first = 0;
}
static void jstr(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}
static void kint(const char *k, long long v) { key(k), printf("%lld", v); }
static void kstr(const char *k, const char *v) { key(k), jstr(v); }
/* the result of a call: its return value, errno and message */
static void kres(const char *k, long long ret)
{
	key(k);
	printf("{\"ret\":%lld,\"errno\":%d,\"error\":", ret, abi.last_errno());
	jstr(ret < 0 ? abi.last_error() : "");
	putchar('}');
}
static void finish(void)
{
	printf("%s}\n", first ? "{" : "");
	fflush(stdout);
	for (int i = 2; i < argc_g; i++) {
		if (strcmp(argv_g[i], "--hold") == 0) {
			char b[64];
			while (read(0, b, sizeof(b)) > 0) {
			}
		}
	}
}

/* ------------------------------------------------------------------ helpers */

static long arg_long(const char *name, long fallback)
{
	size_t n = strlen(name);
	for (int i = 2; i < argc_g; i++)
		if (strncmp(argv_g[i], name, n) == 0 && argv_g[i][n] == '=')
			return strtol(argv_g[i] + n + 1, NULL, 0);
	return fallback;
}

static long off(const char *var)
{
	char name[128];
	snprintf(name, sizeof(name), "off.%s", var);
	long v = arg_long(name, -1);
	if (v < 0) {
		fprintf(stderr, "driver: missing %s=OFFSET\n", name);
		exit(2);
	}
	return v;
}

static int count_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own fd */
}

struct rt_event {
	uint32_t kind, tag, pid, cpu;
	uint64_t value, flag;
};

/* the uprobe's target; noinline and used so it keeps a symbol of its own */
__attribute__((noinline, used)) int rt_probe_target(int x)
{
	__asm__ volatile("" ::: "memory");
	return x + 1;
}

static void print_records(const char *k, const unsigned char *buf, long long n)
{
	key(k);
	putchar('[');
	for (long long at = 0; at < n;) {
		const struct coolbpf_record *r = (const void *)(buf + at);
		const struct rt_event *e = (const void *)(r + 1);
		printf("%s{\"size\":%u,\"rcpu\":%u,\"kind\":%u,\"tag\":%u,\"pid\":%u,\"cpu\":%u,\"value\":%llu,\"flag\":%llu}",
		       at ? "," : "", r->size, r->cpu, e->kind, e->tag, e->pid, e->cpu, (unsigned long long)e->value,
		       (unsigned long long)e->flag);
		at += sizeof(*r) + ((r->size + 7) & ~7u);
	}
	putchar(']');
}

/* Reads until `want` records arrived or 2 s passed without one. */
static long long read_records(struct coolbpf_events *ev, unsigned char *buf, size_t size, int want)
{
	long long used = 0;
	int got = 0;
	while (got < want) {
		long long n = abi.events_read(ev, buf + used, size - (size_t)used, 2000);
		if (n <= 0)
			break;
		for (long long at = used; at < used + n; got++) {
			const struct coolbpf_record *r = (const void *)(buf + at);
			at += sizeof(*r) + ((r->size + 7) & ~7u);
		}
		used += n;
	}
	return used;
}

struct kv_value {
	uint64_t a;
	uint32_t b;
	char name[8];
};

/* ------------------------------------------------------------------ scenarios */

static int smoke(void)
{
	uint32_t tgid = (uint32_t)getpid(), tag = (uint32_t)arg_long("tag", 0);
	struct coolbpf *c = abi.open(NULL);
	kres("open", c ? 0 : -1);
	if (!c)
		return 1;
	kres("set_tgid", abi.set_initial(c, ".rodata", (size_t)off("target_tgid"), &tgid, 4));
	if (tag)
		kres("set_tag", abi.set_initial(c, ".rodata", (size_t)off("tag"), &tag, 4));
	kres("load", abi.load(c));
	kres("set_after_load", abi.set_initial(c, ".rodata", (size_t)off("tag"), &tag, 4));
	kres("attach", abi.attach(c));
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[len > 0 ? len : 0] = '\0';
	int link = abi.attach_uprobe(c, "on_uprobe", exe, "rt_probe_target", 0, (int)tgid, 0);
	kres("attach_uprobe", link);

	struct coolbpf_events *rb = abi.events_open(c, "rt_events", 0);
	struct coolbpf_events *pb = abi.events_open(c, "rt_pevents", 8);
	kres("events_open", rb ? 0 : -1);
	kres("perf_open", pb ? 0 : -1);
	kint("events_fd", rb ? abi.events_fd(rb) : -1);
	if (!rb || !pb)
		return 1;

	size_t size;
	uint64_t *flag = (uint64_t *)((char *)abi.data(c, ".data", &size) + off("flag"));
	syscall(SYS_getppid);
	*flag = 0x200; /* live write: the next events carry it */
	syscall(SYS_getppid);
	syscall(SYS_getppid);
	syscall(SYS_getpgid, 0);
	syscall(SYS_getpgid, 0);
	syscall(SYS_getsid, 0);
	rt_probe_target(42);
	rt_probe_target(43);

	/* a buffer with room for one record gets exactly one */
	unsigned char small[64];
	long long n1 = abi.events_read(rb, small, sizeof(small), 1000);
	kint("small_read", n1);
	unsigned char tiny[16];
	kres("tiny_read", abi.events_read(rb, tiny, sizeof(tiny), 0));
	static unsigned char buf[1 << 16];
	memcpy(buf, small, n1 > 0 ? (size_t)n1 : 0);
	long long n = (n1 > 0 ? n1 : 0);
	n += read_records(rb, buf + n, sizeof(buf) - (size_t)n, 7);
	print_records("events", buf, n);
	kint("empty_read", abi.events_read(rb, buf, sizeof(buf), 50));
	static unsigned char pbuf[1 << 16];
	long long pn = read_records(pb, pbuf, sizeof(pbuf), 3);
	print_records("perf", pbuf, pn);
	uint64_t recs, lost;
	abi.events_stats(rb, &recs, &lost);
	kint("rb_records", (long long)recs), kint("rb_lost", (long long)lost);
	abi.events_stats(pb, &recs, &lost);
	kint("pb_records", (long long)recs), kint("pb_lost", (long long)lost);

	/* live .bss counters; .rodata readable after load */
	const char *bss = abi.data(c, ".bss", &size);
	kint("hits_tp", (long long)*(const uint64_t *)(bss + off("hits_tp")));
	kint("hits_uprobe", (long long)*(const uint64_t *)(bss + off("hits_uprobe")));
	const char *ro = abi.data(c, ".rodata", &size);
	kint("rodata_tag", *(const uint32_t *)(ro + off("tag")));
	kres("no_section", abi.data(c, ".data.nope", &size) ? 0 : -1);

	/* per-CPU values: one 8-aligned slot per possible CPU */
	struct coolbpf_map_info info;
	kres("pcpu_info", abi.map_info(c, "rt_pcpu", &info));
	kint("pcpu_per_cpu", info.per_cpu), kint("pcpu_buffer", info.value_buffer_size);
	kint("cpus", abi.num_possible_cpus());
	uint64_t slots[1024] = {0};
	uint32_t zero = 0;
	kres("pcpu_lookup", abi.map_lookup(c, "rt_pcpu", &zero, slots, info.value_buffer_size, 0));
	uint64_t sum = 0;
	for (uint32_t i = 0; i < info.value_buffer_size / 8; i++)
		sum += slots[i];
	kint("pcpu_sum", (long long)sum);
	kres("pcpu_wrong_size", abi.map_lookup(c, "rt_pcpu", &zero, slots, 8, 0));

	/* hash map CRUD */
	struct kv_value v1 = {.a = (1ull << 40) | 5, .b = 7, .name = "one"}, v2 = {.a = 2, .b = 8, .name = "two"}, got;
	uint32_t k1 = 1, k2 = 2;
	kres("kv_insert", abi.map_update(c, "rt_kv", &k1, &v1, sizeof(v1), 1 /* BPF_NOEXIST */));
	kres("kv_insert_again", abi.map_update(c, "rt_kv", &k1, &v1, sizeof(v1), 1));
	kres("kv_exist_missing", abi.map_update(c, "rt_kv", &k2, &v2, sizeof(v2), 2 /* BPF_EXIST */));
	kres("kv_any", abi.map_update(c, "rt_kv", &k2, &v2, sizeof(v2), 0));
	kres("kv_lookup", abi.map_lookup(c, "rt_kv", &k1, &got, sizeof(got), 0));
	kint("kv_a", (long long)got.a), kint("kv_b", got.b), kstr("kv_name", got.name);
	int keys = 0;
	uint32_t cur, next;
	for (int r = abi.map_next_key(c, "rt_kv", NULL, &next); r == 0; r = abi.map_next_key(c, "rt_kv", &cur, &next))
		cur = next, keys++;
	kint("kv_iter", keys);
	uint32_t bkeys[16], cnt = 16;
	struct kv_value bvals[16];
	uint64_t cursor;
	int br = abi.map_lookup_batch(c, "rt_kv", NULL, &cursor, bkeys, bvals, &cnt);
	kres("kv_batch", br);
	kint("kv_batch_count", cnt);
	kres("kv_delete", abi.map_delete(c, "rt_kv", &k1));
	kres("kv_delete_again", abi.map_delete(c, "rt_kv", &k1));
	kres("kv_lookup_deleted", abi.map_lookup(c, "rt_kv", &k1, &got, sizeof(got), 0));
	kres("no_map", abi.map_lookup(c, "nope", &k1, &got, sizeof(got), 0));
	kres("ringbuf_batch", abi.map_lookup_batch(c, "rt_events", NULL, &cursor, bkeys, bvals, &cnt));
	kres("detach", abi.detach(c, link));
	kres("detach_again", abi.detach(c, link));
	abi.events_close(pb);
	abi.destroy(c); /* closes rb itself */
	return 0;
}

/* init/destroy cycles; every fd must come back */
static int cycles(void)
{
	long n = arg_long("n", 200);
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[len > 0 ? len : 0] = '\0';
	kint("fds_before", count_fds());
	long done = 0;
	for (; done < n; done++) {
		struct coolbpf *c = abi.init(NULL);
		if (!c)
			break;
		if (abi.attach_uprobe(c, "on_uprobe", exe, "rt_probe_target", 0, getpid(), 0) < 0 ||
		    !abi.events_open(c, "rt_events", 0) || !abi.events_open(c, "rt_pevents", 1)) {
			abi.destroy(c);
			break;
		}
		abi.destroy(c);
	}
	kint("cycles", done);
	kstr("error", done < n ? abi.last_error() : "");
	kint("fds_after", count_fds());
	return 0;
}

/* init and stay loaded until stdin closes (with --hold) */
static struct coolbpf *live_obj;
static int live(void)
{
	live_obj = abi.init(NULL);
	kres("init", live_obj ? 0 : -1);
	kint("tracefs", access("/sys/kernel/tracing/events", F_OK) == 0);
	return 0;
}

/* one failing case per run, named by case=... */
static int errors(void)
{
	int before = count_fds();
	long which = arg_long("case", 0);
	struct coolbpf *c = NULL;
	switch (which) {
	case 1: /* verifier rejection */
		c = abi.open(NULL);
		kres("autoload", abi.set_autoload(c, "bad_prog", 1));
		kres("load", abi.load(c));
		break;
	case 2: /* a tracepoint the kernel does not have */
		c = abi.open(NULL);
		kres("autoload", abi.set_autoload(c, "missing_tp", 1));
		kres("load", abi.load(c));
		kres("attach", abi.attach(c));
		break;
	case 3: { /* a missing BTF file */
		struct coolbpf_open_opts o = {.sz = sizeof(o), .btf_path = "/nonexistent/vmlinux.btf"};
		c = abi.open(&o);
		kres("open", c ? 0 : -1);
		break;
	}
	case 4: /* whatever init does in this process (run without capabilities) */
		c = abi.init(NULL);
		kres("init", c ? 0 : -1);
		break;
	case 5: /* fentry: refused by some kernels */
		c = abi.open(NULL);
		kres("autoload", abi.set_autoload(c, "on_fentry", 1));
		kres("load", abi.load(c));
		break;
	case 6: /* names that do not exist */
		c = abi.open(NULL);
		kres("autoload", abi.set_autoload(c, "nope", 1));
		kres("set_initial", abi.set_initial(c, ".data.nope", 0, "x", 1));
		kres("set_initial_range", abi.set_initial(c, ".rodata", 4096, "x", 1));
		kres("map_fd_before_load", abi.map_fd(c, "rt_kv"));
		kres("attach_before_load", abi.attach(c));
		kres("events_before_load", abi.events_open(c, "rt_events", 0) ? 0 : -1);
		kres("load", abi.load(c));
		kres("attach_uprobe_nobinary", abi.attach_uprobe(c, "on_uprobe", "/nonexistent/bin", "f", 0, -1, 0));
		kres("events_not_events", abi.events_open(c, "rt_kv", 0) ? 0 : -1);
		break;
	}
	abi.destroy(c);
	kint("fds_before", before);
	kint("fds_after", count_fds());
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: driver BPF_SO smoke|cycles|errors|live [KEY=VALUE]... [--hold]\n");
		return 2;
	}
	argc_g = argc, argv_g = argv;
	rt_abi_load(&abi, argv[1]);
	kint("abi", abi.abi_version());
	kstr("sha256", abi.object_sha256());
	size_t osize;
	abi.object_data(&osize);
	kint("object_size", (long long)osize);
	int r = strcmp(argv[2], "smoke") == 0    ? smoke()
		: strcmp(argv[2], "cycles") == 0 ? cycles()
		: strcmp(argv[2], "errors") == 0 ? errors()
		: strcmp(argv[2], "live") == 0   ? live()
						 : (fprintf(stderr, "unknown scenario %s\n", argv[2]), 2);
	finish();
	abi.destroy(live_obj);
	return r;
}
