/**
 * What a BPF program is and how it attaches, read from its ELF section name
 * the way libbpf 1.x reads it: `section_defs[]` in libbpf.c decides the
 * program type and expected attach type, and the per-type attach functions
 * (attach_kprobe, attach_uprobe, attach_tp, …) decide whether the part after
 * the prefix names a target libbpf can attach to on its own.
 */

export type AttachTarget =
  | { kind: 'tracepoint'; category: string; name: string }
  | { kind: 'raw-tracepoint'; name: string }
  | { kind: 'btf-tracepoint'; name: string }
  | { kind: 'kernel-function'; name: string; offset: number }
  | { kind: 'kernel-functions'; pattern: string }
  | { kind: 'syscall'; name: string }
  | { kind: 'user-function'; binary: string; function: string | null; offset: number }
  | { kind: 'user-functions'; binary: string; pattern: string }
  | { kind: 'usdt'; binary: string; provider: string; name: string }
  | { kind: 'lsm-hook'; name: string }
  | { kind: 'iterator'; name: string }
  | { kind: 'struct-ops'; member: string };

/** What the caller must supply when the program is not auto-attachable. */
export type RuntimeTarget =
  | 'kernel-function'
  | 'user-function'
  | 'usdt'
  | 'tracepoint'
  | 'raw-tracepoint'
  | 'btf-target'
  /** xdp, tc/tcx/netkit/classifier/action, lwt_* */
  | 'interface'
  /** cgroup_skb/*, cgroup/*, sockops, lsm_cgroup */
  | 'cgroup'
  | 'perf-event'
  /** socket filter, sk_reuseport */
  | 'socket'
  /** sk_msg, sk_skb/* */
  | 'sock-map'
  /** flow_dissector, sk_lookup */
  | 'netns'
  | 'netfilter'
  | 'lirc-device'
  /** struct_ops programs are attached through their struct_ops map */
  | 'struct-ops-map'
  /** freplace: the program to extend must be given before load */
  | 'target-program'
  /** syscall programs are run with BPF_PROG_TEST_RUN, never attached */
  | 'test-run';

export interface ProgramKind {
  /** BPF_PROG_TYPE_* without the prefix, lower case: 'tracepoint', 'kprobe', 'tracing', 'xdp', … */
  progType: string;
  /** BPF_* attach type libbpf sets as expected_attach_type, lower case without 'bpf_'; null when libbpf sets none (0). */
  expectedAttachType: string | null;
  /** the SEC() family, canonicalised: 'tracepoint' for both tp/ and tracepoint/, 'uprobe' for uprobe.s/, … */
  family: string;
  /** parsed from the part after the prefix; null when the section names none */
  target: AttachTarget | null;
  /** .s variants and 'syscall' (libbpf's SEC_SLEEPABLE) */
  sleepable: boolean;
  /** true when libbpf's bpf_program__attach() (and so a skeleton's attach()) attaches it with no extra input */
  autoAttach: boolean;
  /** what must be given at run time when autoAttach is false; null when autoAttach is true */
  needs: RuntimeTarget | null;
  /** libbpf's SEC_XDP_FRAGS: true for xdp.frags* */
  xdpFrags: boolean;
}

export class SectionNameError extends Error {
  override readonly name: string = 'SectionNameError';
  constructor(
    readonly section: string,
    readonly reason: string,
  ) {
    super(`section '${section}': ${reason}`);
  }
}

/** Parses the part after `<prefix>/`; throws TargetSyntaxError when it is malformed. */
type TargetParser = (extras: string, prefix: string) => AttachTarget;

/** What the caller must supply, given the parsed target; null means libbpf attaches it by itself. */
type NeedsRule = (target: AttachTarget | null) => RuntimeTarget | null;

interface SecDef {
  /** libbpf's spelling: 'name+' matches 'name' and 'name/…', anything else matches exactly */
  readonly sec: string;
  readonly progType: string;
  readonly expectedAttachType: string | null;
  readonly family: string;
  readonly needs: NeedsRule;
  readonly target?: TargetParser;
  readonly sleepable?: boolean;
  readonly xdpFrags?: boolean;
}

class TargetSyntaxError extends Error {}

function malformed(reason: string): never {
  throw new TargetSyntaxError(reason);
}

/** libbpf's attach function parses the target and attaches; without a target it skips the program. */
const attachedWhenTargeted =
  (needs: RuntimeTarget): NeedsRule =>
  (target) =>
    target ? null : needs;

/** libbpf has no attach function for it (or never attaches it from the section name alone). */
const manual =
  (needs: RuntimeTarget): NeedsRule =>
  () =>
    needs;

function def(
  sec: string,
  progType: string,
  expectedAttachType: string | null,
  family: string,
  needs: NeedsRule,
  extra: Pick<SecDef, 'target' | 'sleepable' | 'xdpFrags'> = {},
): SecDef {
  return { sec, progType, expectedAttachType, family, needs, ...extra };
}

// ---- target parsers -------------------------------------------------------

/** C's strtol(…, 0) as used by libbpf's "%li": decimal, 0x-hex or 0-octal. */
function parseOffset(text: string): number | null {
  let value: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) value = parseInt(text.slice(2), 16);
  else if (/^0[0-7]*$/.test(text)) value = parseInt(text, 8);
  else if (/^[1-9][0-9]*$/.test(text)) value = parseInt(text, 10);
  else return null;
  return Number.isSafeInteger(value) ? value : null;
}

function required(extras: string, prefix: string, what: string): string {
  if (extras === '') malformed(`missing ${what} after '${prefix}/'`);
  return extras;
}

const tracepoint: TargetParser = (extras, prefix) => {
  const slash = extras.indexOf('/');
  const category = slash < 0 ? '' : extras.slice(0, slash);
  const name = slash < 0 ? '' : extras.slice(slash + 1);
  if (category === '' || name === '') {
    malformed(`expected '${prefix}/<category>/<name>', e.g. '${prefix}/sched/sched_switch'`);
  }
  return { kind: 'tracepoint', category, name };
};

const rawTracepoint: TargetParser = (extras, prefix) => ({
  kind: 'raw-tracepoint',
  name: required(extras, prefix, 'tracepoint name'),
});

const btfTracepoint: TargetParser = (extras, prefix) => ({
  kind: 'btf-tracepoint',
  name: required(extras, prefix, 'tracepoint name'),
});

/**
 * attach_kprobe reads "%m[a-zA-Z0-9_.]+%li" with sscanf, which silently drops
 * anything it cannot read ('func+zz' attaches to 'func', 'foo-bar' to 'foo');
 * here the whole string must match so such typos are reported instead.
 */
const kprobe =
  (retprobe: boolean): TargetParser =>
  (extras, prefix) => {
    const match = /^([A-Za-z0-9_.]+)(?:\+(.*))?$/.exec(required(extras, prefix, 'function name'));
    if (!match?.[1]) malformed(`expected '${prefix}/<function>[+<offset>]'`);
    const offset = match[2] === undefined ? 0 : parseOffset(match[2]);
    if (offset === null) malformed(`invalid offset '+${match[2]}' (expected decimal or 0x-hex)`);
    if (retprobe && offset !== 0) malformed('kretprobes do not support an offset');
    return { kind: 'kernel-function', name: match[1], offset };
  };

/** fentry/fexit/fmod_ret/freplace: the name is looked up in BTF as is (it may be 'module:function'). */
const btfFunction: TargetParser = (extras, prefix) => ({
  kind: 'kernel-function',
  name: required(extras, prefix, 'function name'),
  offset: 0,
});

/** attach_kprobe_multi / attach_kprobe_session read the glob with "%m[a-zA-Z0-9_.*?]". */
const kernelFunctions: TargetParser = (extras, prefix) => {
  const pattern = required(extras, prefix, 'function pattern');
  if (!/^[A-Za-z0-9_.*?]+$/.test(pattern)) {
    malformed(`invalid pattern '${pattern}' (only letters, digits, '_', '.', '*' and '?' are allowed)`);
  }
  return { kind: 'kernel-functions', pattern };
};

const syscall: TargetParser = (extras, prefix) => ({
  kind: 'syscall',
  name: required(extras, prefix, 'syscall name'),
});

/** libbpf splits "<probe>/<binary>:<rest>" with "%m[^/]/%m[^:]:%m[^\n]": the binary ends at the first ':'. */
function splitBinary(extras: string, prefix: string, rest: string): [string, string] {
  const colon = extras.indexOf(':');
  if (colon <= 0 || colon === extras.length - 1) {
    malformed(`expected '${prefix}/<binary>:${rest}', e.g. '${prefix}//usr/lib/libc.so.6:malloc'`);
  }
  return [extras.slice(0, colon), extras.slice(colon + 1)];
}

/**
 * attach_uprobe: "<binary>:<function>[+<offset>]". libbpf always passes the
 * function part to the ELF symbol lookup (there is no "<binary>:<address>"
 * form), so 'bin:0x1234' names a symbol called '0x1234'. libbpf keeps a '+'
 * it cannot read as an offset in the symbol name; here that is an error.
 */
const uprobe =
  (retprobe: boolean): TargetParser =>
  (extras, prefix) => {
    const [binary, spec] = splitBinary(required(extras, prefix, 'binary'), prefix, '<function>[+<offset>]');
    const plus = spec.lastIndexOf('+');
    const fn = plus < 0 ? spec : spec.slice(0, plus);
    const offset = plus < 0 ? 0 : parseOffset(spec.slice(plus + 1));
    if (offset === null) malformed(`invalid offset '${spec.slice(plus)}' (expected decimal or 0x-hex)`);
    if (fn === '') malformed(`missing function name before '${spec.slice(plus)}'`);
    if (retprobe && offset !== 0) malformed('uretprobes do not support an offset');
    return { kind: 'user-function', binary, function: fn, offset };
  };

const userFunctions: TargetParser = (extras, prefix) => {
  const [binary, pattern] = splitBinary(required(extras, prefix, 'binary'), prefix, '<pattern>');
  return { kind: 'user-functions', binary, pattern };
};

const usdt: TargetParser = (extras, prefix) => {
  const parts = required(extras, prefix, 'probe').split(':');
  const [binary, provider, name] = parts;
  if (parts.length !== 3 || !binary || !provider || !name) {
    malformed(`expected '${prefix}/<binary>:<provider>:<name>'`);
  }
  return { kind: 'usdt', binary, provider, name };
};

const lsmHook: TargetParser = (extras, prefix) => ({
  kind: 'lsm-hook',
  name: required(extras, prefix, 'LSM hook name'),
});

const iterator: TargetParser = (extras, prefix) => ({
  kind: 'iterator',
  name: required(extras, prefix, 'iterator name'),
});

const structOps: TargetParser = (extras, prefix) => ({
  kind: 'struct-ops',
  member: required(extras, prefix, 'name'),
});

// ---- libbpf's section_defs[], in libbpf's order (first match wins) ---------

const needsKernelFunction = attachedWhenTargeted('kernel-function');
const needsUserFunction = attachedWhenTargeted('user-function');
/** SEC_ATTACH_BTF: without a target in the section, bpf_program__set_attach_target() must name one before load. */
const needsBtfTarget = attachedWhenTargeted('btf-target');

const SECTION_DEFS: readonly SecDef[] = [
  def('socket', 'socket_filter', null, 'socket', manual('socket')),
  def('sk_reuseport/migrate', 'sk_reuseport', 'sk_reuseport_select_or_migrate', 'sk_reuseport', manual('socket')),
  def('sk_reuseport', 'sk_reuseport', 'sk_reuseport_select', 'sk_reuseport', manual('socket')),
  def('kprobe+', 'kprobe', null, 'kprobe', needsKernelFunction, { target: kprobe(false) }),
  def('uprobe+', 'kprobe', null, 'uprobe', needsUserFunction, { target: uprobe(false) }),
  def('uprobe.s+', 'kprobe', null, 'uprobe', needsUserFunction, { target: uprobe(false), sleepable: true }),
  def('kretprobe+', 'kprobe', null, 'kretprobe', needsKernelFunction, { target: kprobe(true) }),
  def('uretprobe+', 'kprobe', null, 'uretprobe', needsUserFunction, { target: uprobe(true) }),
  def('uretprobe.s+', 'kprobe', null, 'uretprobe', needsUserFunction, { target: uprobe(true), sleepable: true }),
  def('kprobe.multi+', 'kprobe', 'trace_kprobe_multi', 'kprobe.multi', needsKernelFunction, { target: kernelFunctions }),
  def('kretprobe.multi+', 'kprobe', 'trace_kprobe_multi', 'kretprobe.multi', needsKernelFunction, {
    target: kernelFunctions,
  }),
  def('kprobe.session+', 'kprobe', 'trace_kprobe_session', 'kprobe.session', needsKernelFunction, {
    target: kernelFunctions,
  }),
  def('uprobe.multi+', 'kprobe', 'trace_uprobe_multi', 'uprobe.multi', needsUserFunction, { target: userFunctions }),
  def('uretprobe.multi+', 'kprobe', 'trace_uprobe_multi', 'uretprobe.multi', needsUserFunction, {
    target: userFunctions,
  }),
  def('uprobe.session+', 'kprobe', 'trace_uprobe_session', 'uprobe.session', needsUserFunction, {
    target: userFunctions,
  }),
  def('uprobe.multi.s+', 'kprobe', 'trace_uprobe_multi', 'uprobe.multi', needsUserFunction, {
    target: userFunctions,
    sleepable: true,
  }),
  def('uretprobe.multi.s+', 'kprobe', 'trace_uprobe_multi', 'uretprobe.multi', needsUserFunction, {
    target: userFunctions,
    sleepable: true,
  }),
  def('uprobe.session.s+', 'kprobe', 'trace_uprobe_session', 'uprobe.session', needsUserFunction, {
    target: userFunctions,
    sleepable: true,
  }),
  // a bare ksyscall is attached with bpf_program__attach_ksyscall(), which takes a syscall (kernel function) name
  def('ksyscall+', 'kprobe', null, 'ksyscall', needsKernelFunction, { target: syscall }),
  def('kretsyscall+', 'kprobe', null, 'kretsyscall', needsKernelFunction, { target: syscall }),
  // SEC_USDT: at load time libbpf switches expected_attach_type to trace_uprobe_multi when
  // the kernel supports uprobe_multi links; the table itself sets none.
  def('usdt+', 'kprobe', null, 'usdt', attachedWhenTargeted('usdt'), { target: usdt }),
  // attach_usdt only understands "usdt" and "usdt/…": for "usdt.s…" it fails with -EINVAL
  // (which also fails a skeleton's attach()), so these must be attached explicitly.
  def('usdt.s+', 'kprobe', null, 'usdt', manual('usdt'), { target: usdt, sleepable: true }),
  def('tc/ingress', 'sched_cls', 'tcx_ingress', 'tc', manual('interface')),
  def('tc/egress', 'sched_cls', 'tcx_egress', 'tc', manual('interface')),
  def('tcx/ingress', 'sched_cls', 'tcx_ingress', 'tcx', manual('interface')),
  def('tcx/egress', 'sched_cls', 'tcx_egress', 'tcx', manual('interface')),
  def('tc', 'sched_cls', null, 'tc', manual('interface')),
  def('classifier', 'sched_cls', null, 'classifier', manual('interface')),
  def('action', 'sched_act', null, 'action', manual('interface')),
  def('netkit/primary', 'sched_cls', 'netkit_primary', 'netkit', manual('interface')),
  def('netkit/peer', 'sched_cls', 'netkit_peer', 'netkit', manual('interface')),
  def('tracepoint+', 'tracepoint', null, 'tracepoint', attachedWhenTargeted('tracepoint'), { target: tracepoint }),
  def('tp+', 'tracepoint', null, 'tracepoint', attachedWhenTargeted('tracepoint'), { target: tracepoint }),
  def('raw_tracepoint+', 'raw_tracepoint', null, 'raw_tracepoint', attachedWhenTargeted('raw-tracepoint'), {
    target: rawTracepoint,
  }),
  def('raw_tp+', 'raw_tracepoint', null, 'raw_tracepoint', attachedWhenTargeted('raw-tracepoint'), {
    target: rawTracepoint,
  }),
  def(
    'raw_tracepoint.w+',
    'raw_tracepoint_writable',
    null,
    'raw_tracepoint.w',
    attachedWhenTargeted('raw-tracepoint'),
    { target: rawTracepoint },
  ),
  def('raw_tp.w+', 'raw_tracepoint_writable', null, 'raw_tracepoint.w', attachedWhenTargeted('raw-tracepoint'), {
    target: rawTracepoint,
  }),
  def('tp_btf+', 'tracing', 'trace_raw_tp', 'tp_btf', needsBtfTarget, { target: btfTracepoint }),
  def('fentry+', 'tracing', 'trace_fentry', 'fentry', needsBtfTarget, { target: btfFunction }),
  def('fmod_ret+', 'tracing', 'modify_return', 'fmod_ret', needsBtfTarget, { target: btfFunction }),
  def('fexit+', 'tracing', 'trace_fexit', 'fexit', needsBtfTarget, { target: btfFunction }),
  def('fentry.s+', 'tracing', 'trace_fentry', 'fentry', needsBtfTarget, { target: btfFunction, sleepable: true }),
  def('fmod_ret.s+', 'tracing', 'modify_return', 'fmod_ret', needsBtfTarget, { target: btfFunction, sleepable: true }),
  def('fexit.s+', 'tracing', 'trace_fexit', 'fexit', needsBtfTarget, { target: btfFunction, sleepable: true }),
  // freplace's target is a function in another BPF program: libbpf resolves its BTF ID at load
  // time from attach_prog_fd, which only bpf_program__set_attach_target() supplies, and fails the
  // load ("attach program FD is not set") without it even when the section names the function.
  // Once that is set, attach_trace does attach it, but never from the section name alone.
  def('freplace+', 'ext', null, 'freplace', manual('target-program'), { target: btfFunction }),
  def('lsm+', 'lsm', 'lsm_mac', 'lsm', needsBtfTarget, { target: lsmHook }),
  def('lsm.s+', 'lsm', 'lsm_mac', 'lsm', needsBtfTarget, { target: lsmHook, sleepable: true }),
  // no attach function: bpf_program__attach_cgroup() is always needed, and a hook before load
  def('lsm_cgroup+', 'lsm', 'lsm_cgroup', 'lsm_cgroup', (target) => (target ? 'cgroup' : 'btf-target'), {
    target: lsmHook,
  }),
  def('iter+', 'tracing', 'trace_iter', 'iter', needsBtfTarget, { target: iterator }),
  def('iter.s+', 'tracing', 'trace_iter', 'iter', needsBtfTarget, { target: iterator, sleepable: true }),
  def('syscall', 'syscall', null, 'syscall', manual('test-run'), { sleepable: true }),
  def('xdp.frags/devmap', 'xdp', 'xdp_devmap', 'xdp.frags', manual('interface'), { xdpFrags: true }),
  def('xdp/devmap', 'xdp', 'xdp_devmap', 'xdp', manual('interface')),
  def('xdp.frags/cpumap', 'xdp', 'xdp_cpumap', 'xdp.frags', manual('interface'), { xdpFrags: true }),
  def('xdp/cpumap', 'xdp', 'xdp_cpumap', 'xdp', manual('interface')),
  def('xdp.frags', 'xdp', 'xdp', 'xdp.frags', manual('interface'), { xdpFrags: true }),
  def('xdp', 'xdp', 'xdp', 'xdp', manual('interface')),
  def('perf_event', 'perf_event', null, 'perf_event', manual('perf-event')),
  def('lwt_in', 'lwt_in', null, 'lwt_in', manual('interface')),
  def('lwt_out', 'lwt_out', null, 'lwt_out', manual('interface')),
  def('lwt_xmit', 'lwt_xmit', null, 'lwt_xmit', manual('interface')),
  def('lwt_seg6local', 'lwt_seg6local', null, 'lwt_seg6local', manual('interface')),
  def('sockops', 'sock_ops', 'cgroup_sock_ops', 'sockops', manual('cgroup')),
  def('sk_skb/stream_parser', 'sk_skb', 'sk_skb_stream_parser', 'sk_skb', manual('sock-map')),
  def('sk_skb/stream_verdict', 'sk_skb', 'sk_skb_stream_verdict', 'sk_skb', manual('sock-map')),
  def('sk_skb', 'sk_skb', null, 'sk_skb', manual('sock-map')),
  def('sk_msg', 'sk_msg', 'sk_msg_verdict', 'sk_msg', manual('sock-map')),
  def('lirc_mode2', 'lirc_mode2', 'lirc_mode2', 'lirc_mode2', manual('lirc-device')),
  def('flow_dissector', 'flow_dissector', 'flow_dissector', 'flow_dissector', manual('netns')),
  def('cgroup_skb/ingress', 'cgroup_skb', 'cgroup_inet_ingress', 'cgroup_skb', manual('cgroup')),
  def('cgroup_skb/egress', 'cgroup_skb', 'cgroup_inet_egress', 'cgroup_skb', manual('cgroup')),
  def('cgroup/skb', 'cgroup_skb', null, 'cgroup', manual('cgroup')),
  def('cgroup/sock_create', 'cgroup_sock', 'cgroup_inet_sock_create', 'cgroup', manual('cgroup')),
  def('cgroup/sock_release', 'cgroup_sock', 'cgroup_inet_sock_release', 'cgroup', manual('cgroup')),
  def('cgroup/sock', 'cgroup_sock', 'cgroup_inet_sock_create', 'cgroup', manual('cgroup')),
  def('cgroup/post_bind4', 'cgroup_sock', 'cgroup_inet4_post_bind', 'cgroup', manual('cgroup')),
  def('cgroup/post_bind6', 'cgroup_sock', 'cgroup_inet6_post_bind', 'cgroup', manual('cgroup')),
  def('cgroup/bind4', 'cgroup_sock_addr', 'cgroup_inet4_bind', 'cgroup', manual('cgroup')),
  def('cgroup/bind6', 'cgroup_sock_addr', 'cgroup_inet6_bind', 'cgroup', manual('cgroup')),
  def('cgroup/connect4', 'cgroup_sock_addr', 'cgroup_inet4_connect', 'cgroup', manual('cgroup')),
  def('cgroup/connect6', 'cgroup_sock_addr', 'cgroup_inet6_connect', 'cgroup', manual('cgroup')),
  def('cgroup/connect_unix', 'cgroup_sock_addr', 'cgroup_unix_connect', 'cgroup', manual('cgroup')),
  def('cgroup/sendmsg4', 'cgroup_sock_addr', 'cgroup_udp4_sendmsg', 'cgroup', manual('cgroup')),
  def('cgroup/sendmsg6', 'cgroup_sock_addr', 'cgroup_udp6_sendmsg', 'cgroup', manual('cgroup')),
  def('cgroup/sendmsg_unix', 'cgroup_sock_addr', 'cgroup_unix_sendmsg', 'cgroup', manual('cgroup')),
  def('cgroup/recvmsg4', 'cgroup_sock_addr', 'cgroup_udp4_recvmsg', 'cgroup', manual('cgroup')),
  def('cgroup/recvmsg6', 'cgroup_sock_addr', 'cgroup_udp6_recvmsg', 'cgroup', manual('cgroup')),
  def('cgroup/recvmsg_unix', 'cgroup_sock_addr', 'cgroup_unix_recvmsg', 'cgroup', manual('cgroup')),
  def('cgroup/getpeername4', 'cgroup_sock_addr', 'cgroup_inet4_getpeername', 'cgroup', manual('cgroup')),
  def('cgroup/getpeername6', 'cgroup_sock_addr', 'cgroup_inet6_getpeername', 'cgroup', manual('cgroup')),
  def('cgroup/getpeername_unix', 'cgroup_sock_addr', 'cgroup_unix_getpeername', 'cgroup', manual('cgroup')),
  def('cgroup/getsockname4', 'cgroup_sock_addr', 'cgroup_inet4_getsockname', 'cgroup', manual('cgroup')),
  def('cgroup/getsockname6', 'cgroup_sock_addr', 'cgroup_inet6_getsockname', 'cgroup', manual('cgroup')),
  def('cgroup/getsockname_unix', 'cgroup_sock_addr', 'cgroup_unix_getsockname', 'cgroup', manual('cgroup')),
  def('cgroup/sysctl', 'cgroup_sysctl', 'cgroup_sysctl', 'cgroup', manual('cgroup')),
  def('cgroup/getsockopt', 'cgroup_sockopt', 'cgroup_getsockopt', 'cgroup', manual('cgroup')),
  def('cgroup/setsockopt', 'cgroup_sockopt', 'cgroup_setsockopt', 'cgroup', manual('cgroup')),
  def('cgroup/dev', 'cgroup_device', 'cgroup_device', 'cgroup', manual('cgroup')),
  // the text after 'struct_ops/' is free-form (usually the member it implements); libbpf
  // binds the program to its member through the struct_ops map's relocations instead
  def('struct_ops+', 'struct_ops', null, 'struct_ops', manual('struct-ops-map'), { target: structOps }),
  def('struct_ops.s+', 'struct_ops', null, 'struct_ops', manual('struct-ops-map'), {
    target: structOps,
    sleepable: true,
  }),
  def('sk_lookup', 'sk_lookup', 'sk_lookup', 'sk_lookup', manual('netns')),
  def('netfilter', 'netfilter', 'netfilter', 'netfilter', manual('netfilter')),
];

/**
 * libbpf's sec_def_matches(): 'name+' matches 'name' (no target) or 'name/<target>';
 * any other entry matches only exactly (1.x dropped the legacy "xdp_foo" prefix matching).
 * Returns the target text (null when none), or undefined when the entry does not match.
 */
function matchDef(sec: string, section: string): string | null | undefined {
  if (!sec.endsWith('+')) return section === sec ? null : undefined;
  const base = sec.slice(0, -1);
  if (section === base) return null;
  return section.startsWith(`${base}/`) ? section.slice(base.length + 1) : undefined;
}

/**
 * Returns null for sections that match no SEC_DEF (e.g. 'license', '.maps', '.text');
 * throws SectionNameError when the prefix matches but the target part is malformed.
 */
export function parseProgramSection(section: string): ProgramKind | null {
  // SEC("?name") is SEC("name") with autoload off; libbpf drops the '?' before matching
  const name = section.startsWith('?') ? section.slice(1) : section;
  for (const sd of SECTION_DEFS) {
    const extras = matchDef(sd.sec, name);
    if (extras === undefined) continue;
    const target =
      extras === null || sd.target === undefined ? null : parseTarget(sd.target, sd.sec.slice(0, -1), extras, section);
    const needs = sd.needs(target);
    return {
      progType: sd.progType,
      expectedAttachType: sd.expectedAttachType,
      family: sd.family,
      target,
      sleepable: sd.sleepable ?? false,
      autoAttach: needs === null,
      needs,
      xdpFrags: sd.xdpFrags ?? false,
    };
  }
  return null;
}

function parseTarget(parser: TargetParser, prefix: string, extras: string, section: string): AttachTarget {
  try {
    return parser(extras, prefix);
  } catch (err) {
    if (err instanceof TargetSyntaxError) throw new SectionNameError(section, err.message);
    throw err;
  }
}
