import type { Btf, Type } from '@coolbpf/reader';
import { ModelError } from './errors.js';
import { strip, type LayoutCollector } from './layout.js';
import type { EventModel, MapModel } from './types.js';

const EVENT_MAP_TYPES = new Set(['ringbuf', 'user_ringbuf', 'perf_event_array']);

/**
 * The variable COOLBPF_EVENT(map, type) from coolbpf.bpf.h declares: a static
 * pointer to the event type, kept in BTF by `used`. A variable rather than a
 * map attribute because libbpf rejects __type(value) on ring buffers.
 */
export const EVENT_ANNOTATION_PREFIX = '__coolbpf_event__';

/**
 * Event types of ring buffer and perf event array maps: what the caller
 * named with `--event MAP=TYPE`, else what the source declared with
 * COOLBPF_EVENT(map, type), else the value type the map declares. A perf
 * event array's declared value is the perf event fd (an int), never the
 * event, so only a struct or union there counts.
 */
export function events(maps: readonly MapModel[], btf: Btf, types: LayoutCollector, named: Readonly<Record<string, string>>): EventModel[] {
  for (const name of Object.keys(named)) {
    const map = maps.find((m) => m.name === name);
    if (!map) throw new ModelError(`--event ${name}=${named[name]}: no map '${name}' (maps: ${maps.map((m) => m.name).join(', ') || 'none'})`);
    if (!EVENT_MAP_TYPES.has(map.type)) throw new ModelError(`--event ${name}=${named[name]}: map '${name}' is a ${map.type}, not a ring buffer or perf event array`);
  }
  const annotated = annotations(btf, maps);
  const out: EventModel[] = [];
  for (const map of maps) {
    if (!EVENT_MAP_TYPES.has(map.type)) continue;
    const mapType = map.type as EventModel['mapType'];
    const spec = named[map.name];
    if (spec !== undefined) {
      const t = findType(btf, spec, map.name);
      out.push({ map: map.name, mapType, type: types.ref(t), source: 'option' });
    } else if (annotated.has(map.name)) {
      out.push({ map: map.name, mapType, type: types.ref(annotated.get(map.name)!), source: 'annotation' });
    } else if (map.value && (mapType !== 'perf_event_array' || map.value.kind === 'struct' || map.value.kind === 'union')) {
      out.push({ map: map.name, mapType, type: map.value, source: 'map-value' });
    }
  }
  return out;
}

/** COOLBPF_EVENT declarations: map name → event type. */
function annotations(btf: Btf, maps: readonly MapModel[]): Map<string, Type> {
  const out = new Map<string, Type>();
  for (const t of btf.types()) {
    if (t.kind !== 'var' || !t.name.startsWith(EVENT_ANNOTATION_PREFIX)) continue;
    const map = t.name.slice(EVENT_ANNOTATION_PREFIX.length);
    const where = `COOLBPF_EVENT(${map}, …)`;
    const target = maps.find((m) => m.name === map);
    if (!target) throw new ModelError(`${where}: no map '${map}' (maps: ${maps.map((m) => m.name).join(', ') || 'none'})`);
    if (!EVENT_MAP_TYPES.has(target.type)) throw new ModelError(`${where}: map '${map}' is a ${target.type}, not a ring buffer or perf event array`);
    const ptr = strip(t.type).type;
    if (ptr.kind !== 'ptr') throw new ModelError(`${where}: variable '${t.name}' is not a pointer to the event type`);
    const pointee = strip(ptr.target).type;
    if (pointee.kind === 'fwd' || pointee.kind === 'void' || pointee.kind === 'func_proto') throw new ModelError(`${where}: the event type is not a complete type`);
    out.set(map, ptr.target);
  }
  return out;
}

/** "struct event", "union u", "enum e", or a bare name (a struct, union or typedef). */
function findType(btf: Btf, spec: string, map: string): Type {
  const m = /^\s*(?:(struct|union|enum)\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(spec);
  if (!m) throw new ModelError(`--event ${map}=${spec}: '${spec}' is not a type name (e.g. 'struct event' or 'event_t')`);
  const [, tag, name] = m as unknown as [string, string | undefined, string];
  const kinds: readonly Type['kind'][] = tag === 'enum' ? ['enum', 'enum64'] : tag ? [tag as Type['kind']] : ['struct', 'union', 'typedef'];
  const found = btf.findAll(name).filter((t) => kinds.includes(t.kind));
  if (found.length === 0) throw new ModelError(`--event ${map}=${spec}: no ${tag ? `${tag} ` : 'struct, union or typedef '}'${name}' in the object's BTF`);
  // Keep only complete definitions; several identical copies come from linked objects.
  const sized = found.filter((t) => { const s = strip(t).type; return s.kind !== 'fwd' && s.kind !== 'void'; });
  const chosen = sized[0];
  if (!chosen) throw new ModelError(`--event ${map}=${spec}: '${name}' is only declared, never defined`);
  return chosen;
}
