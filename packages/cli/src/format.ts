import type { Btf, KindName } from '@coolbpf/reader';
import type { AttachTarget, DataSectionModel, EventModel, MapModel, ObjectModel, ProgramModel, TypeRef } from '@coolbpf/model';

const EVENT_SOURCE: Record<EventModel['source'], string> = { option: '(--event)', annotation: '(COOLBPF_EVENT)', 'map-value': '(map value type)' };

/** Left-aligned columns, two spaces apart; the last column is not padded. */
function table(rows: readonly (readonly string[])[], indent = '  '): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function describeTarget(t: AttachTarget | null): string {
  if (!t) return '-';
  switch (t.kind) {
    case 'tracepoint': return `${t.category}/${t.name}`;
    case 'kernel-function': return t.offset ? `${t.name}+0x${t.offset.toString(16)}` : t.name;
    case 'user-function': return `${t.binary}:${t.function ?? ''}${t.offset ? `+0x${t.offset.toString(16)}` : ''}`;
    case 'user-functions': return `${t.binary}:${t.pattern}`;
    case 'usdt': return `${t.binary}:${t.provider}:${t.name}`;
    case 'kernel-functions': return t.pattern;
    case 'struct-ops': return t.member;
    default: return t.name;
  }
}

function programRow(p: ProgramModel): string[] {
  const k = p.kind;
  const attach = !k ? 'unknown SEC()' : k.autoAttach ? 'auto-attach' : `needs ${k.needs}`;
  const flags = [k?.sleepable ? 'sleepable' : '', p.autoload ? '' : 'not autoloaded'].filter(Boolean).join(', ');
  return [p.name, k ? k.family : '?', describeTarget(k?.target ?? null), attach, `${p.instructions} insns`, p.coreRelocations ? plural(p.coreRelocations, 'CO-RE relo') : '', flags];
}

function ref(r: TypeRef | null, size: number): string {
  return r ? `${r.c} (${size})` : `${size} bytes`;
}

function mapRows(m: MapModel, prefix = ''): string[][] {
  const extra = [
    m.flagNames.length ? `flags ${m.flagNames.join('|')}` : '',
    m.pinning === 'by_name' ? 'pinned by name' : '',
    m.mapExtra !== null ? `map_extra ${m.mapExtra}` : '',
    m.definedIn === 'legacy' ? 'legacy definition' : '',
  ].filter(Boolean).join(', ');
  const kv = m.keySize || m.key ? `key ${ref(m.key, m.keySize)}` : '';
  const val = m.valueSize || m.value ? `value ${ref(m.value, m.valueSize)}` : '';
  const rows = [[prefix + m.name, m.type, kv, val, `max ${m.maxEntries}`, extra]];
  if (m.inner) rows.push(...mapRows(m.inner, `${prefix}  `));
  return rows;
}

function sectionLine(s: DataSectionModel): string {
  const w = s.writable;
  const access = w.beforeLoad && w.afterLoad ? 'writable' : w.beforeLoad ? 'writable before load, read-only after' : 'set by libbpf';
  return `  ${s.name} (${s.kind}, ${s.size} bytes, ${access})`;
}

/** The readable summary `inspect` prints for an object. */
export function formatModel(m: ObjectModel, label: string): string {
  const o = m.object;
  const lines = [
    `${label}: BPF object, ${o.byteOrder}-endian, license ${o.license ?? '(none)'}${o.kernelVersion !== null ? `, kernel version 0x${o.kernelVersion.toString(16)}` : ''}, ${plural(o.coreRelocations, 'CO-RE relocation')}`,
    `sha256 ${o.sha256}`,
    '',
    `programs (${m.programs.length}):`,
    ...table(m.programs.map(programRow)),
    '',
    `maps (${m.maps.length}):`,
    ...table(m.maps.flatMap((x) => mapRows(x))),
    '',
    `globals (${m.dataSections.reduce((n, s) => n + s.variables.length, 0)}):`,
  ];
  for (const s of m.dataSections) {
    lines.push(sectionLine(s));
    lines.push(...table(s.variables.map((v) => [`+${v.offset}`, `${v.size}`, v.name, v.type.c, v.linkage === 'global' ? '' : v.linkage]), '    '));
  }
  lines.push('', `events (${m.events.length}):`);
  lines.push(...table(m.events.map((e) => [e.map, e.mapType, e.type.c, EVENT_SOURCE[e.source]])));
  lines.push('', `types (${m.types.length}):`);
  lines.push(...table(m.types.map((t) => [t.key, `${t.size} bytes`, t.kind === 'enum' ? plural(t.values.length, 'value') : `${plural(t.members.length, 'member')}${t.packed ? ', packed' : ''}`])));
  return `${lines.join('\n')}\n`;
}

/** The readable summary `inspect` prints for a raw BTF file. */
export function formatBtfSummary(btf: Btf, label: string): string {
  const counts = new Map<KindName, number>();
  let named = 0;
  for (let id = btf.firstId; id < btf.end; id++) {
    const s = btf.summary(id);
    counts.set(s.kind, (counts.get(s.kind) ?? 0) + 1);
    if (s.name) named++;
  }
  const split = btf.base ? `, split BTF on a base of ${btf.firstId - 1} types (ids ${btf.firstId}..${btf.end - 1})` : '';
  const lines = [
    `${label}: raw BTF, ${btf.endianness}-endian, ${plural(btf.count, 'type')} (${named} named)${split}, ${btf.strings.length} bytes of strings`,
    '',
    ...table([...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => [k, String(n)])),
  ];
  return `${lines.join('\n')}\n`;
}
