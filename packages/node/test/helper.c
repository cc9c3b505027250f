/* The test process's stand-in: the BPF test object reports only one
 * process (its target_tgid), and Node cannot make getppid/getpgid/getsid
 * system calls on demand, so the tests spawn this helper, set target_tgid
 * to its pid, and tell it what to do on stdin, one command a line:
 *
 *   ppid N      getppid() N times        (tp/syscalls/sys_enter_getppid)
 *   pgid N      getpgid(0) N times       (tp_btf/sys_enter)
 *   sid N       getsid(0) N times        (raw_tp/sys_enter)
 *   probe X N   helper_probe_target(X) N times (the uprobe's target)
 *
 * It answers "ok" after each command, and exits at end of input. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

__attribute__((noinline, used)) int helper_probe_target(int x)
{
	__asm__ volatile("" ::: "memory");
	return x + 1;
}

int main(void)
{
	char line[256];
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ready %d\n", (int)getpid());
	while (fgets(line, sizeof(line), stdin)) {
		char cmd[32];
		long a = 0, b = 1;
		int n = sscanf(line, "%31s %ld %ld", cmd, &a, &b);
		if (n < 1)
			continue;
		if (strcmp(cmd, "ppid") == 0)
			for (long i = 0; i < a; i++)
				syscall(SYS_getppid);
		else if (strcmp(cmd, "pgid") == 0)
			for (long i = 0; i < a; i++)
				syscall(SYS_getpgid, 0);
		else if (strcmp(cmd, "sid") == 0)
			for (long i = 0; i < a; i++)
				syscall(SYS_getsid, 0);
		else if (strcmp(cmd, "probe") == 0)
			for (long i = 0; i < (n >= 3 ? b : 1); i++)
				helper_probe_target((int)a);
		else {
			printf("unknown %s\n", cmd);
			continue;
		}
		printf("ok\n");
	}
	return 0;
}
