import { createHash } from 'node:crypto';
import { readObject, type BpfObject } from '@coolbpf/reader';
import { ModelError } from './errors.js';
import { events } from './events.js';
import { dataSections } from './globals.js';
import { LayoutCollector } from './layout.js';
import { btfMaps, legacyMaps } from './maps.js';
import { programs } from './programs.js';
import type { ObjectModel } from './types.js';

export interface ModelOptions {
  /** event type per map name, as given by `--event MAP=TYPE` */
  events?: Readonly<Record<string, string>>;
}

/** Reads a compiled BPF object and describes it. Pure: bytes in, model out. */
export function buildModel(bytes: Uint8Array, options: ModelOptions = {}): ObjectModel {
  return describeObject(readObject(bytes), createHash('sha256').update(bytes).digest('hex'), options);
}

export function describeObject(obj: BpfObject, sha256: string, options: ModelOptions = {}): ObjectModel {
  const types = new LayoutCollector(obj.elf.endianness);
  const maps = [...btfMaps(obj, types), ...legacyMaps(obj, types)];
  const seen = new Set<string>();
  for (const m of maps) {
    if (seen.has(m.name)) throw new ModelError(`map '${m.name}' is defined twice (in .maps and in the legacy maps section)`);
    seen.add(m.name);
  }
  const progs = programs(obj);
  const data = dataSections(obj, types);
  const evs = events(maps, obj.btf, types, options.events ?? {});
  return {
    schema: 1,
    object: {
      sha256,
      byteOrder: obj.elf.endianness,
      license: obj.license,
      kernelVersion: obj.kernelVersion,
      coreRelocations: (obj.ext?.coreRelos ?? []).reduce((n, s) => n + s.records.length, 0),
    },
    programs: progs,
    maps,
    dataSections: data,
    events: evs,
    types: types.decls(),
  };
}
