/**
 * Where the metadata image's bytes come from: a bootstrap file read lazily with positional reads (through a
 * small block cache), or a bootstrap held in memory (the one unpacked from a self-contained blob).
 * read() returns exactly the requested bytes or throws a RafsFormatError naming what lay beyond the end.
 */
import { promises as fsp } from 'fs';
import { LruCache } from '../util/lru';
import { formatError } from '../errors';
import { positionalRead } from '../util/pread';

export interface MetaSource {
  readonly size: number;
  readonly description: string;
  /** Metadata read through the block cache. */
  read(offset: number, length: number, what: string): Promise<Buffer>;
  /** File data read around the cache (it would only evict metadata). */
  readData(offset: number, length: number, what: string): Promise<Buffer>;
  close(): Promise<void>;
}

function checkRange(src: MetaSource, offset: number, length: number, what: string): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 ||
      offset + length > src.size) {
    throw formatError(what, offset, `${length} bytes lie beyond the end of ${src.description} (${src.size} bytes)`);
  }
}

export class BufferMetaSource implements MetaSource {
  constructor(private readonly buf: Buffer, readonly description: string) {}
  get size(): number { return this.buf.length; }
  async read(offset: number, length: number, what: string): Promise<Buffer> {
    checkRange(this, offset, length, what);
    return this.buf.subarray(offset, offset + length);
  }
  readData(offset: number, length: number, what: string): Promise<Buffer> { return this.read(offset, length, what); }
  async close(): Promise<void> { /* nothing held */ }
}

/** Metadata is read in 64 KiB units: a cold directory walk then needs a sixteenth of the disk round trips. */
const CACHE_BLOCK = 64 * 1024;

export class FileMetaSource implements MetaSource {
  private readonly blocks: LruCache<number, Buffer>;
  private readonly pending = new Map<number, Promise<Buffer>>();

  private constructor(private readonly fh: fsp.FileHandle, readonly size: number, readonly description: string,
    cacheBlocks: number) {
    this.blocks = new LruCache(cacheBlocks);
  }

  static async open(path: string, cacheBlocks = 512): Promise<FileMetaSource> {
    const fh = await fsp.open(path, 'r');
    try {
      const st = await fh.stat();
      return new FileMetaSource(fh, st.size, `bootstrap ${path}`, cacheBlocks);
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  async read(offset: number, length: number, what: string): Promise<Buffer> {
    checkRange(this, offset, length, what);
    if (length === 0) return Buffer.alloc(0);
    const first = Math.floor(offset / CACHE_BLOCK);
    const last = Math.floor((offset + Math.max(length, 1) - 1) / CACHE_BLOCK);
    if (first === last) {
      const b = await this.block(first);
      const at = offset - first * CACHE_BLOCK;
      return b.subarray(at, at + length);
    }
    if (last - first > 64) return this.readData(offset, length, what);
    const parts: Buffer[] = [];
    for (let i = first; i <= last; i++) parts.push(await this.block(i));
    const all = Buffer.concat(parts);
    const at = offset - first * CACHE_BLOCK;
    return all.subarray(at, at + length);
  }

  private block(index: number): Promise<Buffer> {
    const hit = this.blocks.get(index);
    if (hit) return Promise.resolve(hit);
    let p = this.pending.get(index);
    if (!p) {
      const start = index * CACHE_BLOCK;
      const len = Math.min(CACHE_BLOCK, this.size - start);
      p = this.pread(start, len).then((b) => { this.blocks.set(index, b); return b; })
        .finally(() => this.pending.delete(index));
      this.pending.set(index, p);
    }
    return p;
  }

  async readData(offset: number, length: number, what: string): Promise<Buffer> {
    checkRange(this, offset, length, what);
    return this.pread(offset, length);
  }

  private async pread(offset: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const bytesRead = await positionalRead(this.fh.fd, buf, done, length - done, offset + done);
      if (bytesRead === 0) throw formatError(this.description, offset + done, 'file shrank while reading');
      done += bytesRead;
    }
    return buf;
  }

  async close(): Promise<void> {
    this.blocks.clear();
    await this.fh.close();
  }
}
