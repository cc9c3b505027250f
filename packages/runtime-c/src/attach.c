/* SPDX-License-Identifier: Apache-2.0 */
/* Attaching one program to a target named at run time, and detaching it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/if_link.h>

#include "internal.h"

void cb_release_link(struct cb_link *l)
{
	switch (l->kind) {
	case CB_LINK_BPF:
		bpf_link__destroy(l->link);
		break;
	case CB_LINK_TC: {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = l->ifindex,
			    .attach_point = l->egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = l->handle, .priority = l->priority);
		(void)bpf_tc_detach(&hook, &opts);
		break;
	}
	case CB_LINK_XDP: {
		LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = l->prog_fd);
		(void)bpf_xdp_detach(l->ifindex, l->flags | XDP_FLAGS_REPLACE, &opts);
		break;
	}
	case CB_LINK_NONE:
		break;
	}
	memset(l, 0, sizeof(*l));
}

/* Returns the new link's id, or -errno. */
static int add_link(struct coolbpf *c, struct cb_link l)
{
	if (c->links_len == c->links_cap) {
		int cap = c->links_cap ? c->links_cap * 2 : 8;
		struct cb_link *n = realloc(c->links, (size_t)cap * sizeof(*n));
		if (!n) {
			cb_release_link(&l);
			return cb_fail_plain(ENOMEM, "attach");
		}
		c->links = n;
		c->links_cap = cap;
	}
	c->links[c->links_len] = l;
	return c->links_len++;
}

/* Common start of every explicit attach: the program, loaded. */
static struct bpf_program *loaded_program(struct coolbpf *c, const char *program, const char *op)
{
	cb_clear_error();
	struct bpf_program *p = cb_find_program(c, program, op);
	if (!p)
		return NULL;
	if (!c->loaded || bpf_program__fd(p) < 0) {
		cb_fail_plain(EINVAL, "%s: program '%s': %s", op, program,
			      c->loaded ? "was not loaded (autoload is off)" : "the object is not loaded yet");
		return NULL;
	}
	cb_begin(c);
	return p;
}

static int link_result(struct coolbpf *c, struct bpf_link *link, const char *op, const char *program,
		       const char *target)
{
	if (!link)
		return cb_fail(errno, "%s: program '%s' to %s", op, program, target);
	return add_link(c, (struct cb_link){.kind = CB_LINK_BPF, .link = link});
}

API int coolbpf_attach_uprobe(struct coolbpf *c, const char *program, const char *binary, const char *symbol,
			      uint64_t offset, int pid, int retprobe)
{
	struct bpf_program *p = loaded_program(c, program, "attach_uprobe");
	if (!p)
		return -coolbpf_last_errno();
	if (!binary)
		return cb_fail_plain(EINVAL, "attach_uprobe: program '%s': no binary given", program);
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = symbol, .retprobe = retprobe != 0);
	struct bpf_link *link = bpf_program__attach_uprobe_opts(p, pid, binary, (size_t)offset, &opts);
	char target[1024];
	snprintf(target, sizeof(target), "%s:%s+0x%llx (pid %d)", binary, symbol ? symbol : "",
		 (unsigned long long)offset, pid);
	return link_result(c, link, "attach_uprobe", program, target);
}

API int coolbpf_attach_kprobe(struct coolbpf *c, const char *program, const char *function, uint64_t offset,
			      int retprobe)
{
	struct bpf_program *p = loaded_program(c, program, "attach_kprobe");
	if (!p)
		return -coolbpf_last_errno();
	if (!function)
		return cb_fail_plain(EINVAL, "attach_kprobe: program '%s': no function given", program);
	LIBBPF_OPTS(bpf_kprobe_opts, opts, .offset = (size_t)offset, .retprobe = retprobe != 0);
	struct bpf_link *link = bpf_program__attach_kprobe_opts(p, function, &opts);
	char target[512];
	snprintf(target, sizeof(target), "kernel function '%s'", function);
	return link_result(c, link, "attach_kprobe", program, target);
}

API int coolbpf_attach_tracepoint(struct coolbpf *c, const char *program, const char *category, const char *name)
{
	struct bpf_program *p = loaded_program(c, program, "attach_tracepoint");
	if (!p)
		return -coolbpf_last_errno();
	if (!category || !name)
		return cb_fail_plain(EINVAL, "attach_tracepoint: program '%s': no tracepoint given", program);
	struct bpf_link *link = bpf_program__attach_tracepoint(p, category, name);
	char target[512];
	snprintf(target, sizeof(target), "tracepoint '%s/%s'", category, name);
	return link_result(c, link, "attach_tracepoint", program, target);
}

API int coolbpf_attach_raw_tracepoint(struct coolbpf *c, const char *program, const char *name)
{
	struct bpf_program *p = loaded_program(c, program, "attach_raw_tracepoint");
	if (!p)
		return -coolbpf_last_errno();
	if (!name)
		return cb_fail_plain(EINVAL, "attach_raw_tracepoint: program '%s': no tracepoint given", program);
	struct bpf_link *link = bpf_program__attach_raw_tracepoint(p, name);
	char target[512];
	snprintf(target, sizeof(target), "raw tracepoint '%s'", name);
	return link_result(c, link, "attach_raw_tracepoint", program, target);
}

API int coolbpf_attach_xdp(struct coolbpf *c, const char *program, int ifindex, uint32_t flags)
{
	struct bpf_program *p = loaded_program(c, program, "attach_xdp");
	if (!p)
		return -coolbpf_last_errno();
	char target[64];
	snprintf(target, sizeof(target), "XDP on ifindex %d", ifindex);
	/* A BPF link detaches itself when its fd closes, so it is preferred;
	 * netlink attach is what takes mode flags (SKB, DRV, HW). */
	if (flags == 0)
		return link_result(c, bpf_program__attach_xdp(p, ifindex), "attach_xdp", program, target);
	int err = bpf_xdp_attach(ifindex, bpf_program__fd(p), flags, NULL);
	if (err)
		return cb_fail(err, "attach_xdp: program '%s' to %s (flags 0x%x)", program, target, flags);
	return add_link(c, (struct cb_link){
				   .kind = CB_LINK_XDP, .ifindex = ifindex, .flags = flags, .prog_fd = bpf_program__fd(p)});
}

API int coolbpf_attach_tc(struct coolbpf *c, const char *program, int ifindex, int egress)
{
	struct bpf_program *p = loaded_program(c, program, "attach_tc");
	if (!p)
		return -coolbpf_last_errno();
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	/* The clsact qdisc may exist already (another program's); it stays after
	 * detach for the same reason. */
	int err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return cb_fail(err, "attach_tc: program '%s': creating the clsact qdisc on ifindex %d", program, ifindex);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = bpf_program__fd(p));
	err = bpf_tc_attach(&hook, &opts);
	if (err)
		return cb_fail(err, "attach_tc: program '%s' to tc %s on ifindex %d", program,
			       egress ? "egress" : "ingress", ifindex);
	return add_link(c, (struct cb_link){.kind = CB_LINK_TC,
					    .ifindex = ifindex,
					    .egress = egress != 0,
					    .handle = opts.handle,
					    .priority = opts.priority});
}

API int coolbpf_attach_cgroup(struct coolbpf *c, const char *program, const char *cgroup_path)
{
	struct bpf_program *p = loaded_program(c, program, "attach_cgroup");
	if (!p)
		return -coolbpf_last_errno();
	if (!cgroup_path)
		return cb_fail_plain(EINVAL, "attach_cgroup: program '%s': no cgroup given", program);
	int fd = open(cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return cb_fail_plain(errno, "attach_cgroup: program '%s': cgroup '%s'", program, cgroup_path);
	struct bpf_link *link = bpf_program__attach_cgroup(p, fd);
	int saved = errno;
	close(fd);
	errno = saved;
	char target[1100];
	snprintf(target, sizeof(target), "cgroup '%s'", cgroup_path);
	return link_result(c, link, "attach_cgroup", program, target);
}

API int coolbpf_attach_perf_event(struct coolbpf *c, const char *program, int perf_event_fd)
{
	struct bpf_program *p = loaded_program(c, program, "attach_perf_event");
	if (!p)
		return -coolbpf_last_errno();
	char target[64];
	snprintf(target, sizeof(target), "perf event fd %d", perf_event_fd);
	return link_result(c, bpf_program__attach_perf_event(p, perf_event_fd), "attach_perf_event", program, target);
}

API int coolbpf_detach(struct coolbpf *c, int link_id)
{
	cb_clear_error();
	if (!c)
		return cb_fail_plain(EINVAL, "detach: object is NULL");
	if (link_id < 0 || link_id >= c->links_len || c->links[link_id].kind == CB_LINK_NONE)
		return cb_fail_plain(ENOENT, "detach: no link with id %d", link_id);
	cb_release_link(&c->links[link_id]);
	return 0;
}
