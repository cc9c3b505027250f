/* SPDX-License-Identifier: Apache-2.0 */
/* Shared between the runtime's files; nothing here is exported from bpf.so. */
#ifndef COOLBPF_INTERNAL_H
#define COOLBPF_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bpf/libbpf.h>

#include "coolbpf.h"

#define API __attribute__((visibility("default")))

/* Defined by the shim coolbpf-gen generates for each bpf.so. */
extern const unsigned char coolbpf__object[], coolbpf__object_end[];
extern const char coolbpf__object_sha256[];
extern const char coolbpf__object_name[];
extern const unsigned char coolbpf__min_btf[], coolbpf__min_btf_end[];

/* A link made by coolbpf_attach_*: a libbpf link, or a tc filter (which
 * libbpf 1.1 can only attach through netlink, without a link). */
struct cb_link {
	struct bpf_link *link;
	enum { CB_LINK_NONE, CB_LINK_BPF, CB_LINK_TC, CB_LINK_XDP } kind;
	int ifindex;
	int egress;      /* tc */
	uint32_t handle, priority; /* tc */
	uint32_t flags;  /* xdp */
	int prog_fd;     /* xdp */
};

struct coolbpf {
	struct bpf_object *obj;
	bool loaded;
	int log_level;
	int log_fd;
	int min_btf_fd; /* memfd holding the embedded minimal BTF, or -1 */
	/* libbpf's skeleton layout: auto-attach links (one per program) and
	 * the data sections' mappings */
	struct bpf_object_skeleton *skel;
	struct bpf_program **skel_progs;
	struct bpf_link **skel_links;
	struct bpf_map **skel_maps; /* internal maps (data sections) */
	void **skel_mmaped;
	/* explicit links; a link id is an index here */
	struct cb_link *links;
	int links_len, links_cap;
	/* open event readers, closed by coolbpf_destroy if the caller did not */
	struct coolbpf_events *events;
};

/* ---- errors (error.c) ---- */

/* Starts a call that may fail: libbpf's warnings are captured from now on
 * (for the error message) and its log goes where c says (c may be NULL). */
void cb_begin(const struct coolbpf *c);
/* Records a failure: "<what>: <strerror> (errno N)", then, when libbpf
 * warned during this call, its last warnings on further lines. Returns -err. */
int cb_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same without libbpf's warnings (for checks of the caller's input). */
int cb_fail_plain(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The program or map libbpf's last warning of this call named, or NULL. */
const char *cb_warned_subject(char *buf, size_t size);
void cb_clear_error(void);

/* ---- lookups (object.c) ---- */

struct bpf_map *cb_find_map(struct coolbpf *c, const char *name, const char *op);
struct bpf_program *cb_find_program(struct coolbpf *c, const char *name, const char *op);

/* ---- events (events.c) ---- */

void cb_close_all_events(struct coolbpf *c);

/* ---- explicit links (attach.c) ---- */

/* Detaches and frees what l holds; l stays as an empty slot. */
void cb_release_link(struct cb_link *l);

#endif
