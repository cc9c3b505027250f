import { describe, expect, it } from 'vitest';
import { parseProgramSection, SectionNameError } from './sections.js';
import type { AttachTarget, ProgramKind, RuntimeTarget } from './sections.js';

/** A whole expected ProgramKind; `attach` is 'auto' or what the caller must supply. */
function kind(
  progType: string,
  expectedAttachType: string | null,
  family: string,
  attach: RuntimeTarget | 'auto',
  extra: { target?: AttachTarget; sleepable?: boolean; xdpFrags?: boolean } = {},
): ProgramKind {
  return {
    progType,
    expectedAttachType,
    family,
    target: extra.target ?? null,
    sleepable: extra.sleepable ?? false,
    autoAttach: attach === 'auto',
    needs: attach === 'auto' ? null : attach,
    xdpFrags: extra.xdpFrags ?? false,
  };
}

const kfunc = (name: string, offset = 0): AttachTarget => ({ kind: 'kernel-function', name, offset });
const ufunc = (binary: string, fn: string, offset = 0): AttachTarget => ({
  kind: 'user-function',
  binary,
  function: fn,
  offset,
});
const ufuncs = (binary: string, pattern: string): AttachTarget => ({ kind: 'user-functions', binary, pattern });
const kfuncs = (pattern: string): AttachTarget => ({ kind: 'kernel-functions', pattern });

const cases: [string, ProgramKind][] = [
  // socket filters and reuseport
  ['socket', kind('socket_filter', null, 'socket', 'socket')],
  ['sk_reuseport/migrate', kind('sk_reuseport', 'sk_reuseport_select_or_migrate', 'sk_reuseport', 'socket')],
  ['sk_reuseport', kind('sk_reuseport', 'sk_reuseport_select', 'sk_reuseport', 'socket')],

  // kprobes
  ['kprobe', kind('kprobe', null, 'kprobe', 'kernel-function')],
  ['kprobe/do_unlinkat', kind('kprobe', null, 'kprobe', 'auto', { target: kfunc('do_unlinkat') })],
  ['kprobe/tcp_v4_connect+0x1c', kind('kprobe', null, 'kprobe', 'auto', { target: kfunc('tcp_v4_connect', 28) })],
  [
    'kprobe/finish_task_switch.isra.0+16',
    kind('kprobe', null, 'kprobe', 'auto', { target: kfunc('finish_task_switch.isra.0', 16) }),
  ],
  ['kprobe/vfs_read+010', kind('kprobe', null, 'kprobe', 'auto', { target: kfunc('vfs_read', 8) })],
  ['kretprobe', kind('kprobe', null, 'kretprobe', 'kernel-function')],
  ['kretprobe/do_unlinkat', kind('kprobe', null, 'kretprobe', 'auto', { target: kfunc('do_unlinkat') })],
  ['kretprobe/do_unlinkat+0', kind('kprobe', null, 'kretprobe', 'auto', { target: kfunc('do_unlinkat') })],

  // uprobes
  ['uprobe', kind('kprobe', null, 'uprobe', 'user-function')],
  ['uprobe//bin/bash:readline', kind('kprobe', null, 'uprobe', 'auto', { target: ufunc('/bin/bash', 'readline') })],
  [
    'uprobe//lib/libc.so.6:malloc+0x4',
    kind('kprobe', null, 'uprobe', 'auto', { target: ufunc('/lib/libc.so.6', 'malloc', 4) }),
  ],
  ['uprobe/libc.so.6:free', kind('kprobe', null, 'uprobe', 'auto', { target: ufunc('libc.so.6', 'free') })],
  ['uprobe/./app:main+12', kind('kprobe', null, 'uprobe', 'auto', { target: ufunc('./app', 'main', 12) })],
  [
    'uprobe//lib/libc.so.6:malloc@@GLIBC_2.2.5',
    kind('kprobe', null, 'uprobe', 'auto', { target: ufunc('/lib/libc.so.6', 'malloc@@GLIBC_2.2.5') }),
  ],
  [
    'uprobe//data/app.apk!/lib/arm64-v8a/libfoo.so:foo',
    kind('kprobe', null, 'uprobe', 'auto', { target: ufunc('/data/app.apk!/lib/arm64-v8a/libfoo.so', 'foo') }),
  ],
  // libbpf has no "<binary>:<address>" form: this looks up a symbol named '0x1234'
  ['uprobe//bin/app:0x1234', kind('kprobe', null, 'uprobe', 'auto', { target: ufunc('/bin/app', '0x1234') })],
  ['uprobe.s', kind('kprobe', null, 'uprobe', 'user-function', { sleepable: true })],
  [
    'uprobe.s//bin/bash:readline',
    kind('kprobe', null, 'uprobe', 'auto', { target: ufunc('/bin/bash', 'readline'), sleepable: true }),
  ],
  ['uretprobe', kind('kprobe', null, 'uretprobe', 'user-function')],
  [
    'uretprobe//bin/bash:readline',
    kind('kprobe', null, 'uretprobe', 'auto', { target: ufunc('/bin/bash', 'readline') }),
  ],
  ['uretprobe.s', kind('kprobe', null, 'uretprobe', 'user-function', { sleepable: true })],
  [
    'uretprobe.s/libc.so.6:malloc',
    kind('kprobe', null, 'uretprobe', 'auto', { target: ufunc('libc.so.6', 'malloc'), sleepable: true }),
  ],

  // multi / session probes
  ['kprobe.multi', kind('kprobe', 'trace_kprobe_multi', 'kprobe.multi', 'kernel-function')],
  ['kprobe.multi/tcp_*', kind('kprobe', 'trace_kprobe_multi', 'kprobe.multi', 'auto', { target: kfuncs('tcp_*') })],
  [
    'kprobe.multi/vfs_rea?',
    kind('kprobe', 'trace_kprobe_multi', 'kprobe.multi', 'auto', { target: kfuncs('vfs_rea?') }),
  ],
  ['kretprobe.multi', kind('kprobe', 'trace_kprobe_multi', 'kretprobe.multi', 'kernel-function')],
  [
    'kretprobe.multi/vfs_*',
    kind('kprobe', 'trace_kprobe_multi', 'kretprobe.multi', 'auto', { target: kfuncs('vfs_*') }),
  ],
  ['kprobe.session', kind('kprobe', 'trace_kprobe_session', 'kprobe.session', 'kernel-function')],
  [
    'kprobe.session/bpf_fentry_test*',
    kind('kprobe', 'trace_kprobe_session', 'kprobe.session', 'auto', { target: kfuncs('bpf_fentry_test*') }),
  ],
  ['uprobe.multi', kind('kprobe', 'trace_uprobe_multi', 'uprobe.multi', 'user-function')],
  [
    'uprobe.multi//usr/lib/libc.so.6:mall*',
    kind('kprobe', 'trace_uprobe_multi', 'uprobe.multi', 'auto', { target: ufuncs('/usr/lib/libc.so.6', 'mall*') }),
  ],
  ['uretprobe.multi', kind('kprobe', 'trace_uprobe_multi', 'uretprobe.multi', 'user-function')],
  [
    'uretprobe.multi/libc.so.6:*alloc',
    kind('kprobe', 'trace_uprobe_multi', 'uretprobe.multi', 'auto', { target: ufuncs('libc.so.6', '*alloc') }),
  ],
  ['uprobe.session', kind('kprobe', 'trace_uprobe_session', 'uprobe.session', 'user-function')],
  [
    'uprobe.session//bin/app:session_*',
    kind('kprobe', 'trace_uprobe_session', 'uprobe.session', 'auto', { target: ufuncs('/bin/app', 'session_*') }),
  ],
  ['uprobe.multi.s', kind('kprobe', 'trace_uprobe_multi', 'uprobe.multi', 'user-function', { sleepable: true })],
  [
    'uprobe.multi.s//bin/app:f*',
    kind('kprobe', 'trace_uprobe_multi', 'uprobe.multi', 'auto', { target: ufuncs('/bin/app', 'f*'), sleepable: true }),
  ],
  [
    'uretprobe.multi.s//bin/app:f*',
    kind('kprobe', 'trace_uprobe_multi', 'uretprobe.multi', 'auto', {
      target: ufuncs('/bin/app', 'f*'),
      sleepable: true,
    }),
  ],
  [
    'uprobe.session.s//bin/app:f*',
    kind('kprobe', 'trace_uprobe_session', 'uprobe.session', 'auto', {
      target: ufuncs('/bin/app', 'f*'),
      sleepable: true,
    }),
  ],

  // syscalls
  ['ksyscall', kind('kprobe', null, 'ksyscall', 'kernel-function')],
  ['ksyscall/openat', kind('kprobe', null, 'ksyscall', 'auto', { target: { kind: 'syscall', name: 'openat' } })],
  ['kretsyscall', kind('kprobe', null, 'kretsyscall', 'kernel-function')],
  ['kretsyscall/kill', kind('kprobe', null, 'kretsyscall', 'auto', { target: { kind: 'syscall', name: 'kill' } })],

  // USDT
  ['usdt', kind('kprobe', null, 'usdt', 'usdt')],
  [
    'usdt/libc.so.6:libc:setjmp',
    kind('kprobe', null, 'usdt', 'auto', {
      target: { kind: 'usdt', binary: 'libc.so.6', provider: 'libc', name: 'setjmp' },
    }),
  ],
  [
    'usdt//usr/lib/libruby.so:ruby:method__entry',
    kind('kprobe', null, 'usdt', 'auto', {
      target: { kind: 'usdt', binary: '/usr/lib/libruby.so', provider: 'ruby', name: 'method__entry' },
    }),
  ],
  // libbpf's attach_usdt only understands "usdt" and "usdt/…", so usdt.s is never auto-attached
  ['usdt.s', kind('kprobe', null, 'usdt', 'usdt', { sleepable: true })],
  [
    'usdt.s//bin/app:prov:probe',
    kind('kprobe', null, 'usdt', 'usdt', {
      target: { kind: 'usdt', binary: '/bin/app', provider: 'prov', name: 'probe' },
      sleepable: true,
    }),
  ],

  // tc / tcx / netkit
  ['tc/ingress', kind('sched_cls', 'tcx_ingress', 'tc', 'interface')],
  ['tc/egress', kind('sched_cls', 'tcx_egress', 'tc', 'interface')],
  ['tcx/ingress', kind('sched_cls', 'tcx_ingress', 'tcx', 'interface')],
  ['tcx/egress', kind('sched_cls', 'tcx_egress', 'tcx', 'interface')],
  ['tc', kind('sched_cls', null, 'tc', 'interface')],
  ['classifier', kind('sched_cls', null, 'classifier', 'interface')],
  ['action', kind('sched_act', null, 'action', 'interface')],
  ['netkit/primary', kind('sched_cls', 'netkit_primary', 'netkit', 'interface')],
  ['netkit/peer', kind('sched_cls', 'netkit_peer', 'netkit', 'interface')],

  // tracepoints
  ['tracepoint', kind('tracepoint', null, 'tracepoint', 'tracepoint')],
  [
    'tracepoint/syscalls/sys_enter_openat',
    kind('tracepoint', null, 'tracepoint', 'auto', {
      target: { kind: 'tracepoint', category: 'syscalls', name: 'sys_enter_openat' },
    }),
  ],
  ['tp', kind('tracepoint', null, 'tracepoint', 'tracepoint')],
  [
    'tp/sched/sched_switch',
    kind('tracepoint', null, 'tracepoint', 'auto', {
      target: { kind: 'tracepoint', category: 'sched', name: 'sched_switch' },
    }),
  ],
  ['raw_tracepoint', kind('raw_tracepoint', null, 'raw_tracepoint', 'raw-tracepoint')],
  [
    'raw_tracepoint/sched_switch',
    kind('raw_tracepoint', null, 'raw_tracepoint', 'auto', { target: { kind: 'raw-tracepoint', name: 'sched_switch' } }),
  ],
  ['raw_tp', kind('raw_tracepoint', null, 'raw_tracepoint', 'raw-tracepoint')],
  [
    'raw_tp/sys_enter',
    kind('raw_tracepoint', null, 'raw_tracepoint', 'auto', { target: { kind: 'raw-tracepoint', name: 'sys_enter' } }),
  ],
  ['raw_tracepoint.w', kind('raw_tracepoint_writable', null, 'raw_tracepoint.w', 'raw-tracepoint')],
  [
    'raw_tracepoint.w/bpf_testmod_test_writable_bare',
    kind('raw_tracepoint_writable', null, 'raw_tracepoint.w', 'auto', {
      target: { kind: 'raw-tracepoint', name: 'bpf_testmod_test_writable_bare' },
    }),
  ],
  ['raw_tp.w', kind('raw_tracepoint_writable', null, 'raw_tracepoint.w', 'raw-tracepoint')],
  [
    'raw_tp.w/bpf_testmod_test_writable_bare',
    kind('raw_tracepoint_writable', null, 'raw_tracepoint.w', 'auto', {
      target: { kind: 'raw-tracepoint', name: 'bpf_testmod_test_writable_bare' },
    }),
  ],
  ['tp_btf', kind('tracing', 'trace_raw_tp', 'tp_btf', 'btf-target')],
  [
    'tp_btf/sched_switch',
    kind('tracing', 'trace_raw_tp', 'tp_btf', 'auto', { target: { kind: 'btf-tracepoint', name: 'sched_switch' } }),
  ],

  // fentry / fexit / fmod_ret / freplace
  ['fentry', kind('tracing', 'trace_fentry', 'fentry', 'btf-target')],
  ['fentry/do_unlinkat', kind('tracing', 'trace_fentry', 'fentry', 'auto', { target: kfunc('do_unlinkat') })],
  [
    'fentry/bpf_testmod:bpf_testmod_fentry_test1',
    kind('tracing', 'trace_fentry', 'fentry', 'auto', { target: kfunc('bpf_testmod:bpf_testmod_fentry_test1') }),
  ],
  ['fmod_ret', kind('tracing', 'modify_return', 'fmod_ret', 'btf-target')],
  [
    'fmod_ret/security_socket_connect',
    kind('tracing', 'modify_return', 'fmod_ret', 'auto', { target: kfunc('security_socket_connect') }),
  ],
  ['fexit', kind('tracing', 'trace_fexit', 'fexit', 'btf-target')],
  ['fexit/do_unlinkat', kind('tracing', 'trace_fexit', 'fexit', 'auto', { target: kfunc('do_unlinkat') })],
  ['fentry.s', kind('tracing', 'trace_fentry', 'fentry', 'btf-target', { sleepable: true })],
  [
    'fentry.s/__x64_sys_setdomainname',
    kind('tracing', 'trace_fentry', 'fentry', 'auto', { target: kfunc('__x64_sys_setdomainname'), sleepable: true }),
  ],
  [
    'fmod_ret.s/__x64_sys_setdomainname',
    kind('tracing', 'modify_return', 'fmod_ret', 'auto', {
      target: kfunc('__x64_sys_setdomainname'),
      sleepable: true,
    }),
  ],
  [
    'fexit.s/__x64_sys_setdomainname',
    kind('tracing', 'trace_fexit', 'fexit', 'auto', { target: kfunc('__x64_sys_setdomainname'), sleepable: true }),
  ],
  ['freplace', kind('ext', null, 'freplace', 'target-program')],
  ['freplace/handle_kprobe', kind('ext', null, 'freplace', 'target-program', { target: kfunc('handle_kprobe') })],

  // LSM and iterators
  ['lsm', kind('lsm', 'lsm_mac', 'lsm', 'btf-target')],
  ['lsm/file_open', kind('lsm', 'lsm_mac', 'lsm', 'auto', { target: { kind: 'lsm-hook', name: 'file_open' } })],
  ['lsm.s', kind('lsm', 'lsm_mac', 'lsm', 'btf-target', { sleepable: true })],
  [
    'lsm.s/bprm_committed_creds',
    kind('lsm', 'lsm_mac', 'lsm', 'auto', {
      target: { kind: 'lsm-hook', name: 'bprm_committed_creds' },
      sleepable: true,
    }),
  ],
  ['lsm_cgroup', kind('lsm', 'lsm_cgroup', 'lsm_cgroup', 'btf-target')],
  [
    'lsm_cgroup/socket_bind',
    kind('lsm', 'lsm_cgroup', 'lsm_cgroup', 'cgroup', { target: { kind: 'lsm-hook', name: 'socket_bind' } }),
  ],
  ['iter', kind('tracing', 'trace_iter', 'iter', 'btf-target')],
  ['iter/task', kind('tracing', 'trace_iter', 'iter', 'auto', { target: { kind: 'iterator', name: 'task' } })],
  ['iter.s', kind('tracing', 'trace_iter', 'iter', 'btf-target', { sleepable: true })],
  [
    'iter.s/cgroup',
    kind('tracing', 'trace_iter', 'iter', 'auto', { target: { kind: 'iterator', name: 'cgroup' }, sleepable: true }),
  ],
  ['syscall', kind('syscall', null, 'syscall', 'test-run', { sleepable: true })],

  // XDP
  ['xdp.frags/devmap', kind('xdp', 'xdp_devmap', 'xdp.frags', 'interface', { xdpFrags: true })],
  ['xdp/devmap', kind('xdp', 'xdp_devmap', 'xdp', 'interface')],
  ['xdp.frags/cpumap', kind('xdp', 'xdp_cpumap', 'xdp.frags', 'interface', { xdpFrags: true })],
  ['xdp/cpumap', kind('xdp', 'xdp_cpumap', 'xdp', 'interface')],
  ['xdp.frags', kind('xdp', 'xdp', 'xdp.frags', 'interface', { xdpFrags: true })],
  ['xdp', kind('xdp', 'xdp', 'xdp', 'interface')],

  // perf events and lightweight tunnels
  ['perf_event', kind('perf_event', null, 'perf_event', 'perf-event')],
  ['lwt_in', kind('lwt_in', null, 'lwt_in', 'interface')],
  ['lwt_out', kind('lwt_out', null, 'lwt_out', 'interface')],
  ['lwt_xmit', kind('lwt_xmit', null, 'lwt_xmit', 'interface')],
  ['lwt_seg6local', kind('lwt_seg6local', null, 'lwt_seg6local', 'interface')],

  // sockets, sockmaps, devices, netns
  ['sockops', kind('sock_ops', 'cgroup_sock_ops', 'sockops', 'cgroup')],
  ['sk_skb/stream_parser', kind('sk_skb', 'sk_skb_stream_parser', 'sk_skb', 'sock-map')],
  ['sk_skb/stream_verdict', kind('sk_skb', 'sk_skb_stream_verdict', 'sk_skb', 'sock-map')],
  ['sk_skb', kind('sk_skb', null, 'sk_skb', 'sock-map')],
  ['sk_msg', kind('sk_msg', 'sk_msg_verdict', 'sk_msg', 'sock-map')],
  ['lirc_mode2', kind('lirc_mode2', 'lirc_mode2', 'lirc_mode2', 'lirc-device')],
  ['flow_dissector', kind('flow_dissector', 'flow_dissector', 'flow_dissector', 'netns')],

  // cgroups
  ['cgroup_skb/ingress', kind('cgroup_skb', 'cgroup_inet_ingress', 'cgroup_skb', 'cgroup')],
  ['cgroup_skb/egress', kind('cgroup_skb', 'cgroup_inet_egress', 'cgroup_skb', 'cgroup')],
  ['cgroup/skb', kind('cgroup_skb', null, 'cgroup', 'cgroup')],
  ['cgroup/sock_create', kind('cgroup_sock', 'cgroup_inet_sock_create', 'cgroup', 'cgroup')],
  ['cgroup/sock_release', kind('cgroup_sock', 'cgroup_inet_sock_release', 'cgroup', 'cgroup')],
  ['cgroup/sock', kind('cgroup_sock', 'cgroup_inet_sock_create', 'cgroup', 'cgroup')],
  ['cgroup/post_bind4', kind('cgroup_sock', 'cgroup_inet4_post_bind', 'cgroup', 'cgroup')],
  ['cgroup/post_bind6', kind('cgroup_sock', 'cgroup_inet6_post_bind', 'cgroup', 'cgroup')],
  ['cgroup/bind4', kind('cgroup_sock_addr', 'cgroup_inet4_bind', 'cgroup', 'cgroup')],
  ['cgroup/bind6', kind('cgroup_sock_addr', 'cgroup_inet6_bind', 'cgroup', 'cgroup')],
  ['cgroup/connect4', kind('cgroup_sock_addr', 'cgroup_inet4_connect', 'cgroup', 'cgroup')],
  ['cgroup/connect6', kind('cgroup_sock_addr', 'cgroup_inet6_connect', 'cgroup', 'cgroup')],
  ['cgroup/connect_unix', kind('cgroup_sock_addr', 'cgroup_unix_connect', 'cgroup', 'cgroup')],
  ['cgroup/sendmsg4', kind('cgroup_sock_addr', 'cgroup_udp4_sendmsg', 'cgroup', 'cgroup')],
  ['cgroup/sendmsg6', kind('cgroup_sock_addr', 'cgroup_udp6_sendmsg', 'cgroup', 'cgroup')],
  ['cgroup/sendmsg_unix', kind('cgroup_sock_addr', 'cgroup_unix_sendmsg', 'cgroup', 'cgroup')],
  ['cgroup/recvmsg4', kind('cgroup_sock_addr', 'cgroup_udp4_recvmsg', 'cgroup', 'cgroup')],
  ['cgroup/recvmsg6', kind('cgroup_sock_addr', 'cgroup_udp6_recvmsg', 'cgroup', 'cgroup')],
  ['cgroup/recvmsg_unix', kind('cgroup_sock_addr', 'cgroup_unix_recvmsg', 'cgroup', 'cgroup')],
  ['cgroup/getpeername4', kind('cgroup_sock_addr', 'cgroup_inet4_getpeername', 'cgroup', 'cgroup')],
  ['cgroup/getpeername6', kind('cgroup_sock_addr', 'cgroup_inet6_getpeername', 'cgroup', 'cgroup')],
  ['cgroup/getpeername_unix', kind('cgroup_sock_addr', 'cgroup_unix_getpeername', 'cgroup', 'cgroup')],
  ['cgroup/getsockname4', kind('cgroup_sock_addr', 'cgroup_inet4_getsockname', 'cgroup', 'cgroup')],
  ['cgroup/getsockname6', kind('cgroup_sock_addr', 'cgroup_inet6_getsockname', 'cgroup', 'cgroup')],
  ['cgroup/getsockname_unix', kind('cgroup_sock_addr', 'cgroup_unix_getsockname', 'cgroup', 'cgroup')],
  ['cgroup/sysctl', kind('cgroup_sysctl', 'cgroup_sysctl', 'cgroup', 'cgroup')],
  ['cgroup/getsockopt', kind('cgroup_sockopt', 'cgroup_getsockopt', 'cgroup', 'cgroup')],
  ['cgroup/setsockopt', kind('cgroup_sockopt', 'cgroup_setsockopt', 'cgroup', 'cgroup')],
  ['cgroup/dev', kind('cgroup_device', 'cgroup_device', 'cgroup', 'cgroup')],

  // struct_ops, sk_lookup, netfilter
  ['struct_ops', kind('struct_ops', null, 'struct_ops', 'struct-ops-map')],
  [
    'struct_ops/dctcp_init',
    kind('struct_ops', null, 'struct_ops', 'struct-ops-map', { target: { kind: 'struct-ops', member: 'dctcp_init' } }),
  ],
  ['struct_ops.s', kind('struct_ops', null, 'struct_ops', 'struct-ops-map', { sleepable: true })],
  [
    'struct_ops.s/test_1',
    kind('struct_ops', null, 'struct_ops', 'struct-ops-map', {
      target: { kind: 'struct-ops', member: 'test_1' },
      sleepable: true,
    }),
  ],
  ['sk_lookup', kind('sk_lookup', 'sk_lookup', 'sk_lookup', 'netns')],
  ['netfilter', kind('netfilter', 'netfilter', 'netfilter', 'netfilter')],
];

describe('parseProgramSection', () => {
  it.each(cases)('%s', (section, expected) => {
    expect(parseProgramSection(section)).toEqual(expected);
  });

  it("reads SEC(\"?name\") (autoload off) like SEC(\"name\")", () => {
    expect(parseProgramSection('?kprobe/do_unlinkat')).toEqual(
      kind('kprobe', null, 'kprobe', 'auto', { target: kfunc('do_unlinkat') }),
    );
    expect(parseProgramSection('?xdp')).toEqual(kind('xdp', 'xdp', 'xdp', 'interface'));
  });

  it.each([
    'license',
    '.maps',
    '.text',
    '.rodata',
    '.BTF',
    '',
    'foo',
    // libbpf 1.x only matches 'name+' entries as 'name' or 'name/…', and other entries exactly
    'xdp_foo',
    'xdp/foo',
    'xdp.frags/foo',
    'socketfoo',
    'socket/foo',
    'kprobefoo',
    'kprobe.foo/bar',
    'tp_btfx/sched_switch',
    'tc/other',
    'tcx',
    'netkit',
    'sk_skb/verdict',
    'cgroup/unknown',
    'cgroup_skb',
    'cgroup',
    'sk_reuseport/select',
    'KPROBE/do_unlinkat',
    '?',
  ])('returns null for %j', (section) => {
    expect(parseProgramSection(section)).toBeNull();
  });

  it.each<[string, string]>([
    ['tp/only_category', "expected 'tp/<category>/<name>'"],
    ['tracepoint/syscalls', "expected 'tracepoint/<category>/<name>'"],
    ['tp/', "expected 'tp/<category>/<name>'"],
    ['tp/sched/', "expected 'tp/<category>/<name>'"],
    ['tp//sched_switch', "expected 'tp/<category>/<name>'"],
    ['kprobe/func+zz', "invalid offset '+zz'"],
    ['kprobe/func+', "invalid offset '+'"],
    ['kprobe/func+-4', "invalid offset '+-4'"],
    ['kprobe/foo-bar', "expected 'kprobe/<function>[+<offset>]'"],
    ['kprobe/', "missing function name after 'kprobe/'"],
    ['kretprobe/do_unlinkat+0x10', 'kretprobes do not support an offset'],
    ['ksyscall/', "missing syscall name after 'ksyscall/'"],
    ['uprobe/bin/bash', "expected 'uprobe/<binary>:<function>[+<offset>]'"],
    ['uprobe//bin/bash:', "expected 'uprobe/<binary>:<function>[+<offset>]'"],
    ['uprobe/:readline', "expected 'uprobe/<binary>:<function>[+<offset>]'"],
    ['uprobe/', "missing binary after 'uprobe/'"],
    ['uprobe//bin/bash:readline+zz', "invalid offset '+zz'"],
    ['uprobe//bin/bash:+0x10', "missing function name before '+0x10'"],
    ['uretprobe//bin/bash:readline+4', 'uretprobes do not support an offset'],
    ['uretprobe.s//bin/bash:readline+4', 'uretprobes do not support an offset'],
    ['uprobe.multi//bin/bash', "expected 'uprobe.multi/<binary>:<pattern>'"],
    ['usdt/path:provider', "expected 'usdt/<binary>:<provider>:<name>'"],
    ['usdt/path::name', "expected 'usdt/<binary>:<provider>:<name>'"],
    ['usdt/path:provider:name:extra', "expected 'usdt/<binary>:<provider>:<name>'"],
    ['usdt.s/path', "expected 'usdt.s/<binary>:<provider>:<name>'"],
    ['kprobe.multi/', "missing function pattern after 'kprobe.multi/'"],
    ['kprobe.multi/tcp_*,udp_*', "invalid pattern 'tcp_*,udp_*'"],
    ['kprobe.session/a b', "invalid pattern 'a b'"],
    ['raw_tp/', "missing tracepoint name after 'raw_tp/'"],
    ['tp_btf/', "missing tracepoint name after 'tp_btf/'"],
    ['fentry/', "missing function name after 'fentry/'"],
    ['freplace/', "missing function name after 'freplace/'"],
    ['lsm/', "missing LSM hook name after 'lsm/'"],
    ['iter/', "missing iterator name after 'iter/'"],
    ['struct_ops/', "missing name after 'struct_ops/'"],
  ])('rejects %j', (section, reason) => {
    let error: unknown;
    try {
      parseProgramSection(section);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SectionNameError);
    const e = error as SectionNameError;
    expect(e.section).toBe(section);
    expect(e.reason).toContain(reason);
    expect(e.message).toBe(`section '${section}': ${e.reason}`);
  });

  it('reports the section as written, including a leading ?', () => {
    expect(() => parseProgramSection('?tp/sched')).toThrow(
      new SectionNameError('?tp/sched', "expected 'tp/<category>/<name>', e.g. 'tp/sched/sched_switch'"),
    );
  });
});

describe('SectionNameError', () => {
  it('is an Error carrying the section and the reason', () => {
    const error = new SectionNameError('kprobe/x+y', 'bad offset');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('SectionNameError');
    expect(error.section).toBe('kprobe/x+y');
    expect(error.reason).toBe('bad offset');
    expect(error.message).toBe("section 'kprobe/x+y': bad offset");
  });
});
