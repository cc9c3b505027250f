/**
 * A hand-built model full of naming hazards for Rust: C names that are Rust
 * keywords (raw identifiers, and the ones that cannot be), that clash with
 * the generated API, the runtime's names and the prelude, with each other
 * after PascalCase, or with the generated internals' `cb_` prefix; getters
 * and setters of bitfields that collide; nested anonymous unions; maps with
 * no typed view.
 */
import type { ObjectModel } from '@coolbpf/model';
import { hostile } from '@coolbpf/gen-core/testing';

const { u32, u16, ref, member: m, bits, struct: s, enum32, map, xdpProgram, tracepointProgram, nestTypes, untypedMaps, dataSection, hostileObject } = hostile;

export const HOSTILE: ObjectModel = hostileObject({
  programs: [
    xdpProgram('fn'),
    tracepointProgram('new'),
    { name: 'up', section: 'uprobe//usr/lib/x86_64-linux-gnu/libc.so.6:malloc', kind: { progType: 'kprobe', expectedAttachType: null, family: 'uprobe', target: { kind: 'user-function', binary: '/usr/lib/x86_64-linux-gnu/libc.so.6', function: 'malloc', offset: 0 }, sleepable: false, autoAttach: true, needs: null, xdpFrags: false }, autoload: true, instructions: 2, coreRelocations: 0 },
  ],
  maps: [
    map('type', 'hash', ref('struct', 'event'), ref('union', 'event'), 8, 4),
    map('new', 'percpu_array', u32, ref('enum', 'event'), 4, 4, true),
    ...untypedMaps(),
    map('flagmap', 'array', u32, ref('struct', 'flags'), 4, 4),
    map('opts', 'hash', ref('struct', 'option'), ref('struct', 'result'), 4, 4),
    map('selfs', 'array', u32, ref('struct', 'self'), 4, 4),
  ],
  dataSections: [
    dataSection('.data', 'data', [['x', u32]]),
    dataSection('.data.my-sec', 'data', [['new', ref('struct', 'option')], ['to_value', ref('struct', 'result')], ['loop', u32]]),
    dataSection('.bss', 'bss', [['hidden', u32]], 'static'),
  ],
  types: [
    // struct event { u32 type; u16 self; u16 cb_x; }: keywords as fields, the reserved prefix
    s('struct', 'event', 8, [m('type', u32, 0, 4), m('self', u16, 4, 2), m('cb_x', u16, 6, 2)]),
    s('union', 'event', 4, [m('a', u32, 0, 4), m('b', u16, 0, 2)]),
    enum32('event', [['name', '1'], ['Self', '4294967295'], ['ALIAS', '1']]),
    s('struct', 'option', 4, [m('x', u32, 0, 4)]),
    s('struct', 'result', 4, [m('y', u32, 0, 4)]),
    s('struct', 'self', 4, [m('z', u32, 0, 4)]),
    // bitfields whose accessors collide: a, set_a, and a keyword
    s('struct', 'flags', 4, [bits('a', u32, 0, 1, 0, 1, 0), bits('set_a', u32, 0, 1, 1, 2, 1), bits('match', u32, 0, 1, 3, 3, 3)]),
    ...nestTypes(),
  ],
});
