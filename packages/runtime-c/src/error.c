/* SPDX-License-Identifier: Apache-2.0 */
/* The thread-local last error, and where libbpf's log goes.
 *
 * libbpf has one global print callback per copy of libbpf, and each bpf.so
 * has its own copy, so setting it here affects only this bpf.so. Warnings are
 * kept per thread while a coolbpf call runs: they carry what errno alone
 * cannot say (which tracepoint is missing, the verifier's log). */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include "internal.h"

#define ERROR_MAX 8192
#define CAPTURE_MAX 65536
/* Lines of libbpf warnings (verifier log included) kept in a message. */
#define TAIL_LINES 40

static __thread char last_error[ERROR_MAX];
static __thread int last_errno;
static __thread char capture[CAPTURE_MAX];
static __thread size_t capture_len;
static __thread int cur_log_level = -1;
static __thread int cur_log_fd = -1;

API const char *coolbpf_last_error(void) { return last_error; }
API int coolbpf_last_errno(void) { return last_errno; }

void cb_clear_error(void)
{
	last_error[0] = '\0';
	last_errno = 0;
}

/* Keeps the newest CAPTURE_MAX bytes: the end of a verifier log matters most. */
static void capture_append(const char *s, size_t n)
{
	if (n >= CAPTURE_MAX) {
		s += n - (CAPTURE_MAX - 1);
		n = CAPTURE_MAX - 1;
	}
	if (capture_len + n >= CAPTURE_MAX) {
		size_t drop = capture_len + n - (CAPTURE_MAX - 1);
		memmove(capture, capture + drop, capture_len - drop);
		capture_len -= drop;
	}
	memcpy(capture + capture_len, s, n);
	capture_len += n;
	capture[capture_len] = '\0';
}

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	bool keep = level == LIBBPF_WARN;
	bool show = cur_log_fd > 0 && (int)level <= cur_log_level;
	if (!keep && !show)
		return 0;
	char line[4096];
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return 0;
	size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
	if (keep)
		capture_append(line, len);
	if (show) {
		const char *p = line;
		size_t left = len;
		while (left > 0) {
			ssize_t w = write(cur_log_fd, p, left);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			p += w;
			left -= (size_t)w;
		}
	}
	return n;
}

static pthread_once_t print_once = PTHREAD_ONCE_INIT;
static void install_print(void) { libbpf_set_print(print_fn); }

void cb_begin(const struct coolbpf *c)
{
	pthread_once(&print_once, install_print);
	capture_len = 0;
	capture[0] = '\0';
	cur_log_level = c ? c->log_level : -1;
	cur_log_fd = c ? c->log_fd : -1;
}

/* EPERM from the bpf() syscall usually means missing capabilities; say so
 * only when they really are missing, since lockdown or an unsupported
 * program type give EPERM to root too. */
static bool lacks_bpf_caps(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {{0}};
	if (syscall(SYS_capget, &h, d) != 0)
		return false;
	uint64_t eff = (uint64_t)d[0].effective | ((uint64_t)d[1].effective << 32);
	bool sys_admin = eff & (1ull << 21), bpf = eff & (1ull << 39), perfmon = eff & (1ull << 38);
	return !sys_admin && !(bpf && perfmon);
}

static int vfail(int err, bool with_warnings, const char *fmt, va_list ap)
{
	if (err < 0)
		err = -err;
	if (err == 0)
		err = EINVAL;
	int saved = errno;
	char what[2048];
	vsnprintf(what, sizeof(what), fmt, ap);
	const char *hint = "";
	if (err == EPERM && lacks_bpf_caps())
		hint = "; this process lacks CAP_SYS_ADMIN and CAP_BPF+CAP_PERFMON, which loading BPF needs";
	int n = snprintf(last_error, sizeof(last_error), "%s: %s (errno %d)%s", what, strerror(err), err, hint);
	if (with_warnings && capture_len > 0 && n > 0 && (size_t)n < sizeof(last_error) - 1) {
		/* the last TAIL_LINES lines of what libbpf warned */
		const char *start = capture;
		int lines = 0;
		for (const char *p = capture + capture_len; p > capture; p--) {
			if (p[-1] == '\n' && p != capture + capture_len && ++lines == TAIL_LINES) {
				start = p;
				break;
			}
		}
		size_t off = (size_t)n;
		size_t room = sizeof(last_error) - off - 1;
		size_t len = strlen(start);
		while (len > 0 && start[len - 1] == '\n')
			len--;
		if (len > room - 1)
			len = room - 1;
		last_error[off++] = '\n';
		memcpy(last_error + off, start, len);
		last_error[off + len] = '\0';
	}
	last_errno = err;
	errno = saved;
	return -err;
}

int cb_fail(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vfail(err, true, fmt, ap);
	va_end(ap);
	return r;
}

int cb_fail_plain(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vfail(err, false, fmt, ap);
	va_end(ap);
	return r;
}

/* libbpf names its subject as "prog 'x': ..." or "map 'x': ...". */
const char *cb_warned_subject(char *buf, size_t size)
{
	const char *best = NULL;
	for (const char *p = capture; (p = strstr(p, "'")) != NULL; p++) {
		if ((p - capture >= 5 && strncmp(p - 5, "prog ", 5) == 0) ||
		    (p - capture >= 4 && strncmp(p - 4, "map ", 4) == 0))
			best = p;
	}
	if (!best)
		return NULL;
	const char *kind_start = best[-2] == 'g' ? best - 5 : best - 4;
	const char *end = strchr(best + 1, '\'');
	if (!end)
		return NULL;
	int n = snprintf(buf, size, "%s '%.*s'", kind_start[0] == 'p' ? "program" : "map", (int)(end - best - 1),
			 best + 1);
	return n > 0 ? buf : NULL;
}
