import { KIND_NAMES, readInput, type Btf } from '@coolbpf/reader';
import { AsciiWriter } from '../asciiWriter.js';
import { describeObject } from '@coolbpf/model';
import { createHash } from 'node:crypto';
import { formatBtfSummary, formatModel } from '../format.js';

export interface InspectOptions {
  json: boolean;
  events: Record<string, string>;
  /** base BTF for a split (module) BTF file */
  base?: Btf;
}

/**
 * `coolbpf-gen inspect`: a BPF object's model, or a raw BTF file's types,
 * as text or JSON. Pure: bytes in, text out.
 */
export function inspect(bytes: Uint8Array, label: string, options: InspectOptions): string | Uint8Array {
  const input = readInput(bytes, options.base);
  if (input.kind === 'btf') return options.json ? btfJson(input.btf) : formatBtfSummary(input.btf, label);
  const model = describeObject(input.object, createHash('sha256').update(bytes).digest('hex'), { events: options.events });
  return options.json ? `${JSON.stringify(model, null, 2)}\n` : formatModel(model, label);
}

/**
 * One entry per type id, as `bpftool btf dump … format raw` lists them.
 * Written as bytes straight from the columnar listing: building ~250k JS
 * strings for vmlinux costs more in garbage collection than all the rest.
 */
function btfJson(btf: Btf): Uint8Array {
  const l = btf.listing();
  const out = new AsciiWriter(l.count * 64);
  out.text(`{"format":"btf","byteOrder":"${btf.endianness}","split":${btf.base !== null},"firstId":${btf.firstId},"count":${btf.count},"types":[\n`);
  const kindJson = KIND_NAMES.map((k) => Buffer.from(`,"kind":"${k}","name":"`));
  for (let i = 0; i < l.count; i++) {
    out.text(i === 0 ? '{"id":' : ',\n{"id":');
    out.int(l.firstId + i);
    out.bytes(kindJson[l.kinds[i]!]!);
    out.jsonStringBody(l.names, l.nameStart[i]!, l.nameEnd[i]!);
    out.text('","size":');
    const size = l.sizes[i]!;
    if (size < 0) out.text('null');
    else out.int(size);
    out.text('}');
  }
  out.text('\n]}\n');
  return out.finish();
}
