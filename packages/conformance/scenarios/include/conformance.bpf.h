/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every conformance scenario shares: the trigger and the filter.
 *
 * A scenario's programs run when the test process calls getppid(2) (every
 * language can: Node process.ppid, Python os.getppid(), Go os.Getppid(),
 * Rust std::os::unix::process::parent_id()). They act only for the process
 * whose tgid the test writes into the read-only global target_tgid before
 * load, so nothing else on the machine disturbs the counts.
 */
#ifndef CONFORMANCE_BPF_H
#define CONFORMANCE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <coolbpf.bpf.h>

/* the section of a program that runs on every getppid(2) */
#define TRIGGER "tp/syscalls/sys_enter_getppid"

/* set by the test to its own pid (tgid) before load */
const volatile __u32 target_tgid = 0;

static __always_inline int mine(void)
{
	return (__u32)(bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

char LICENSE[] SEC("license") = "GPL";

#endif
