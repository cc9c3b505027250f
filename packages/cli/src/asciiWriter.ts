/** Appends ASCII text, integers and JSON string bodies to a growable byte buffer. */
export class AsciiWriter {
  #buf: Uint8Array;
  #len = 0;

  constructor(initial = 1 << 16) {
    this.#buf = new Uint8Array(Math.max(16, initial));
  }

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < this.#len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  /** ASCII only (callers pass literals and numbers). */
  text(s: string): void {
    this.#reserve(s.length);
    for (let i = 0; i < s.length; i++) this.#buf[this.#len++] = s.charCodeAt(i);
  }

  int(n: number): void {
    this.text(String(n));
  }

  bytes(b: Uint8Array): void {
    this.#reserve(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
  }

  /**
   * The inside of a JSON string for UTF-8 bytes [start, end): copied as is
   * unless a byte needs escaping or is not ASCII, in which case the text is
   * decoded and escaped properly (so invalid UTF-8 still yields valid JSON).
   */
  jsonStringBody(src: Uint8Array, start: number, end: number): void {
    for (let i = start; i < end; i++) {
      const c = src[i]!;
      if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0x80) {
        const s = JSON.stringify(new TextDecoder().decode(src.subarray(start, end)));
        this.bytes(Buffer.from(s.slice(1, -1), 'utf-8'));
        return;
      }
    }
    this.#reserve(end - start);
    this.#buf.set(src.subarray(start, end), this.#len);
    this.#len += end - start;
  }

  finish(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }
}
