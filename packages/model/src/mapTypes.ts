/** BPF_MAP_TYPE_* (include/uapi/linux/bpf.h), indexed by value, lower case without the prefix. */
export const MAP_TYPES: readonly string[] = [
  'unspec', 'hash', 'array', 'prog_array', 'perf_event_array', 'percpu_hash', 'percpu_array', 'stack_trace',
  'cgroup_array', 'lru_hash', 'lru_percpu_hash', 'lpm_trie', 'array_of_maps', 'hash_of_maps', 'devmap', 'sockmap',
  'cpumap', 'xskmap', 'sockhash', 'cgroup_storage', 'reuseport_sockarray', 'percpu_cgroup_storage', 'queue', 'stack',
  'sk_storage', 'devmap_hash', 'struct_ops', 'ringbuf', 'inode_storage', 'task_storage', 'bloom_filter',
  'user_ringbuf', 'cgrp_storage', 'arena',
];

export const PER_CPU_MAP_TYPES: ReadonlySet<string> = new Set([
  'percpu_hash', 'percpu_array', 'lru_percpu_hash', 'percpu_cgroup_storage',
]);

export const MAP_IN_MAP_TYPES: ReadonlySet<string> = new Set(['array_of_maps', 'hash_of_maps']);

/** BPF_F_* map creation flags, by bit. */
const MAP_FLAGS: readonly string[] = [
  'no_prealloc', 'no_common_lru', 'numa_node', 'rdonly', 'wronly', 'stack_build_id', 'zero_seed', 'rdonly_prog',
  'wronly_prog', 'clone', 'mmapable', 'preserve_elems', 'inner_map', 'link', 'path_fd', 'vtype_btf_obj_fd',
  'token_fd', 'segv_on_fault', 'no_user_conv',
];

/** Names of the set flags; unknown bits as "bit N" so nothing is hidden. */
export function mapFlagNames(flags: number): string[] {
  const out: string[] = [];
  for (let bit = 0; bit < 32; bit++) {
    if (flags & (1 << bit)) out.push(MAP_FLAGS[bit] ?? `bit ${bit}`);
  }
  return out;
}

/** LIBBPF_PIN_* */
export const PINNING: readonly ('none' | 'by_name')[] = ['none', 'by_name'];
