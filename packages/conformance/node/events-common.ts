// What ringbuf and perfbuf share: their expect.json's events, as the Node
// wrapper types them, with the placeholders filled in.
import { readFileSync } from 'node:fs';

/** An event of expect.json: 64-bit fields as decimal strings, $pid/$comm/$cpu placeholders. */
export type JsonEvent = Record<string, unknown> & { seq: string; u64: string; s64: string };

/** The event's fields the way the generated codec decodes them. */
export interface NodeEvent {
  seq: bigint; u8: number; s8: number; u16: number; s16: number; u32: number; s32: number; u64: bigint; s64: bigint;
  flag: boolean; comm: string; kind: number; arr: number[]; pt: { x: number; y: number }; pid: number; tid: number; cpu: number;
}

/** This process's main thread's comm: what bpf_get_current_comm() gives for its system calls. */
export function ownComm(): string {
  return readFileSync(`/proc/${process.pid}/task/${process.pid}/comm`, 'utf8').replace(/\n$/, '');
}

export function nodeEvent(e: JsonEvent, cpu: number): NodeEvent {
  const fill = (v: unknown): unknown => (v === '$pid' ? process.pid : v === '$comm' ? ownComm() : v === '$cpu' ? cpu : v);
  const out = Object.fromEntries(Object.entries(e).map(([k, v]) => [k, fill(v)])) as Record<string, unknown>;
  return { ...(out as unknown as NodeEvent), seq: BigInt(e.seq), u64: BigInt(e.u64), s64: BigInt(e.s64) };
}
