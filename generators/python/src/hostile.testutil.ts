/**
 * A hand-built model full of naming hazards for Python: C names that are
 * keywords, soft keywords and builtins, that the dataclass machinery or the
 * generated API uses (`field`, `from_bytes`, `SIZE`), that Python would
 * mangle (`__reserved`) or that start with the generated internals' prefix
 * (`_cb_`); enum members Enum reserves (`name`, `value`, `_sunder_`); types
 * that clash with each other after PascalCase and with the module's own
 * names; nested anonymous unions; maps with no typed view.
 */
import type { ObjectModel } from '@coolbpf/model';
import { hostile } from '@coolbpf/gen-core/testing';

const { u32, u16, ref, member: m, struct: s, enum32, map, xdpProgram, tracepointProgram, nestTypes, untypedMaps, dataSection, hostileObject } = hostile;

export const hostileModel: ObjectModel = hostileObject({
  programs: [xdpProgram('delete'), tracepointProgram('import')],
  maps: [
    map('class', 'hash', ref('struct', 'event'), ref('union', 'event'), 48, 4),
    map('__proto__', 'percpu_array', u32, ref('enum', 'event'), 4, 4, true),
    ...untypedMaps('_cb_m'),
  ],
  dataSections: [
    dataSection('.data', 'data', [['x', u32]]),
    dataSection('.data.my-sec', 'data', [['default', ref('struct', 'data')], ['class', ref('struct', 'any')], ['value', u32]]),
    dataSection('.bss', 'bss', [['hidden', u32]], 'static'),
  ],
  types: [
    s('struct', 'event', 48, [
      m('class', u32, 0, 4), m('type', u16, 4, 2), m('match', u16, 6, 2), m('int', u32, 8, 4), m('bytes', u32, 12, 4),
      m('__reserved', u32, 16, 4), m('_cb_x', u32, 20, 4), m('from_bytes', u32, 24, 4), m('SIZE', u32, 28, 4),
      m('field', u32, 32, 4), m('list', u32, 36, 4), m('Event', u32, 40, 4), m('_', u32, 44, 4),
    ]),
    s('union', 'event', 4, [m('a', u32, 0, 4), m('b', u16, 0, 2)]),
    enum32('event', [['name', '1'], ['value', '2'], ['__MAX', '3'], ['_X_', '4'], ['class', '5'], ['None', '4294967295']]),
    s('struct', 'data', 4, [m('x', u32, 0, 4)]),
    s('struct', 'any', 4, [m('y', u32, 0, 4)]),
    s('struct', 'path', 4, [m('z', u32, 0, 4)]),
    ...nestTypes(),
  ],
});
