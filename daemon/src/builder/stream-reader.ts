/** Exact-size reads from an async byte stream (a file or a gunzip pipe), for the tar parser. */
export class StreamReader {
  private readonly iterator: AsyncIterator<Buffer>;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private ended = false;
  /** Bytes handed out so far (offset of the next byte in the stream). */
  position = 0;

  constructor(source: AsyncIterable<Buffer>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** Exactly n bytes; undefined when the stream ends before the first byte; throws on a short read. */
  async read(n: number): Promise<Buffer | undefined> {
    while (this.pendingBytes < n && !this.ended) {
      const next = await this.iterator.next();
      if (next.done) {
        this.ended = true;
        break;
      }
      const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
    }
    if (this.pendingBytes === 0 && n > 0) return undefined;
    if (this.pendingBytes < n) throw new Error(`unexpected end of stream at byte ${this.position + this.pendingBytes} (wanted ${n} more bytes)`);
    const all = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.pending = rest.length > 0 ? [rest] : [];
    this.pendingBytes = rest.length;
    this.position += n;
    return out;
  }

  async readExact(n: number): Promise<Buffer> {
    if (n === 0) return Buffer.alloc(0);
    const out = await this.read(n);
    if (!out) throw new Error(`unexpected end of stream at byte ${this.position} (wanted ${n} bytes)`);
    return out;
  }

  async skip(n: number): Promise<void> {
    while (n > 0) {
      const step = Math.min(n, 1 << 20);
      await this.readExact(step);
      n -= step;
    }
  }
}
