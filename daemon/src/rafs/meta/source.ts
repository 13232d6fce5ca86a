/**
 * Where the metadata image's bytes come from: a bootstrap file read lazily with positional reads (through a
 * small block cache), or a bootstrap held in memory (the one unpacked from a self-contained blob).
 * read() returns exactly the requested bytes or throws a RafsFormatError naming what lay beyond the end.
 * prefetch() loads bytes a request will soon need while other requests are served; peek() answers only from
 * memory. A bootstrap is mirrored in one buffer as it is read (meta/block-store.ts), up to the cache size, so
 * that listings can be answered natively from it (memory()); one small enough is loaded whole, in the
 * background (preload()), the way upstream nydusd maps its whole bootstrap: what a walk needs is then in the
 * daemon's memory, whatever happens to the page cache.
 */
import { promises as fsp } from 'fs';
import { BlockStore, FileMirror, InMemory, LruBlocks } from './block-store';
import { formatError } from '../errors';
import { positionalRead } from '../util/pread';
import { readBuffers } from '../../fs/read-buffers';

export interface MetaSource {
  readonly size: number;
  readonly description: string;
  /** The bootstrap file's fd while open (undefined for one held in memory): its bytes may be read with pread. */
  readonly fd: number | undefined;
  /** Metadata read through the block cache. */
  read(offset: number, length: number, what: string): Promise<Buffer>;
  /**
   * File data read around the cache (it would only evict metadata). `forReply`: the bytes go into a READ reply
   * and nowhere else, so the buffer may come from the reply buffer pool (fs/read-buffers.ts).
   */
  readData(offset: number, length: number, what: string, forReply?: boolean): Promise<Buffer>;
  /**
   * Loads [offset, offset + length) into the cache in the background (libuv threadpool reads, so that several
   * are in flight at once and the event loop keeps serving). A read() of the same bytes meanwhile does not queue
   * behind it: it reads at once, and the page cache lets the two share one disk read. Never rejects: errors are
   * left for read() to report.
   */
  prefetch(offset: number, length: number): Promise<void>;
  /**
   * [offset, offset + length) if it is in memory now (within one cache block, unless the source is kept in one
   * buffer), else undefined. Never reads.
   */
  peek(offset: number, length: number): Buffer | undefined;
  /**
   * Loads the whole source into memory in the background when it takes at most half the cache (a bootstrap
   * without file data); otherwise does nothing. Never rejects.
   */
  preload(): Promise<void>;
  /** The source's bytes in one buffer, as far as they are in memory (never changed); undefined if not kept so. */
  memory(): InMemory | undefined;
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
  get fd(): undefined { return undefined; }
  async read(offset: number, length: number, what: string): Promise<Buffer> {
    checkRange(this, offset, length, what);
    return this.buf.subarray(offset, offset + length);
  }
  readData(offset: number, length: number, what: string): Promise<Buffer> { return this.read(offset, length, what); }
  async prefetch(): Promise<void> { /* already in memory */ }
  peek(offset: number, length: number): Buffer | undefined {
    return offset >= 0 && length >= 0 && offset + length <= this.buf.length ? this.buf.subarray(offset, offset + length) : undefined;
  }
  async preload(): Promise<void> { /* already in memory */ }
  memory(): InMemory { return { bytes: this.buf, blockSize: META_CACHE_BLOCK }; }
  async close(): Promise<void> { /* nothing held */ }
}

/**
 * Metadata is cached in 16 KiB blocks. A plain mkfs.erofs image keeps each inode beside its file's data, so a
 * walk's metadata lies scattered over the whole image: a fresh daemon's cold find of 5,000 files on such an
 * image took 48.3 ms with 64 KiB blocks, 40.3 ms with 16 KiB and 38.0 ms with 4 KiB (medians of 12), and
 * smaller blocks mean more round trips over compact metadata. Read-ahead (prefetch, preload) reads a run of
 * missing blocks with one pread all the same.
 */
export const META_CACHE_BLOCK = 16 * 1024;
const CACHE_BLOCK = META_CACHE_BLOCK;
/** At most this much (whole blocks) per prefetch() call. */
const PREFETCH_SPAN = 1024 * 1024;
const MAX_PREFETCH_BLOCKS = PREFETCH_SPAN / CACHE_BLOCK;
/** The block cache's default size. */
const DEFAULT_CACHE_BYTES = 32 * 1024 * 1024;
/**
 * Files up to this size are mirrored (their blocks kept in one buffer of the file's size, which takes memory only
 * where blocks are written): a plain mkfs.erofs image holds its file data too, and its metadata lies scattered
 * among the data.
 */
const MIRROR_MAX_BYTES = 1024 * 1024 * 1024;

export class FileMetaSource implements MetaSource {
  private readonly blocks: BlockStore;
  /** The blocks, unless the file is too large to mirror: reads of a complete mirror are answered from it at once. */
  private readonly mirror: FileMirror | undefined;
  private readonly pending = new Map<number, Promise<Buffer>>();
  private readonly prefetching = new Map<number, Promise<void>>();
  private preloading: Promise<void> | undefined;
  private closed = false;

  private constructor(private readonly fh: fsp.FileHandle, readonly size: number, readonly description: string,
    private readonly cacheBlocks: number) {
    this.mirror = size <= MIRROR_MAX_BYTES ? new FileMirror(size, CACHE_BLOCK, cacheBlocks) : undefined;
    this.blocks = this.mirror ?? new LruBlocks(cacheBlocks);
  }

  get fd(): number | undefined {
    return this.closed ? undefined : this.fh.fd;
  }

  /** `cacheBytes`: the block cache's size (whole blocks, at least one). */
  static async open(path: string, cacheBytes = DEFAULT_CACHE_BYTES): Promise<FileMetaSource> {
    const fh = await fsp.open(path, 'r');
    try {
      const st = await fh.stat();
      return new FileMetaSource(fh, st.size, `bootstrap ${path}`, Math.max(1, Math.floor(cacheBytes / CACHE_BLOCK)));
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  async read(offset: number, length: number, what: string): Promise<Buffer> {
    checkRange(this, offset, length, what);
    if (this.mirror?.complete) return this.mirror.bytes.subarray(offset, offset + length);
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

  async prefetch(offset: number, length: number): Promise<void> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length)) return;
    if (this.closed || this.mirror?.complete || offset < 0 || length <= 0 || offset >= this.size) return;
    const first = Math.floor(offset / CACHE_BLOCK);
    const last = Math.min(Math.floor((Math.min(offset + length, this.size) - 1) / CACHE_BLOCK), first + MAX_PREFETCH_BLOCKS - 1);
    const loads: Promise<void>[] = [];
    for (let i = first; i <= last;) {
      const inFlight = this.prefetching.get(i);
      if (inFlight || this.blocks.has(i)) {
        if (inFlight) loads.push(inFlight);
        i++;
        continue;
      }
      let end = i + 1;
      while (end <= last && !this.blocks.has(end) && !this.prefetching.has(end)) end++;
      loads.push(this.readAhead(i, end));
      i = end;
    }
    await Promise.all(loads);
  }

  /** Blocks [from, to) with one background pread. */
  private readAhead(from: number, to: number): Promise<void> {
    const start = from * CACHE_BLOCK;
    const p = this.pread(start, Math.min(to * CACHE_BLOCK, this.size) - start, undefined, true)
      .then((run) => {
        for (let i = from; i < to; i++) {
          if (!this.blocks.has(i)) this.blocks.set(i, run.subarray((i - from) * CACHE_BLOCK, (i - from + 1) * CACHE_BLOCK));
        }
      }, () => undefined)
      .finally(() => { for (let i = from; i < to; i++) this.prefetching.delete(i); });
    for (let i = from; i < to; i++) this.prefetching.set(i, p);
    return p;
  }

  peek(offset: number, length: number): Buffer | undefined {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) return undefined;
    const index = Math.floor(offset / CACHE_BLOCK);
    const at = offset - index * CACHE_BLOCK;
    if (at + length > CACHE_BLOCK) return this.mirror?.peekAcross(offset, length);
    const b = this.blocks.get(index);
    return b && at + length <= b.length ? b.subarray(at, at + length) : undefined;
  }

  /** One background read of the whole file, straight into the mirror. */
  preload(): Promise<void> {
    const mirror = this.mirror;
    if (!mirror || this.size > (this.cacheBlocks * CACHE_BLOCK) / 2 || this.closed) return Promise.resolve();
    this.preloading ??= this.pread(0, this.size, mirror.bytes, true).then(() => {
      if (!this.closed) mirror.filledWhole();
    }, () => undefined); // left to read(), which reports it
    return this.preloading;
  }

  memory(): InMemory | undefined {
    return this.closed ? undefined : this.mirror?.memory();
  }

  private block(index: number): Promise<Buffer> {
    const hit = this.blocks.get(index);
    if (hit) return Promise.resolve(hit);
    // Being read ahead: wait for that read rather than block the event loop on the same pages.
    const ahead = this.prefetching.get(index);
    if (ahead) return ahead.then(() => this.blocks.get(index) ?? this.block(index));
    let p = this.pending.get(index);
    if (!p) {
      const start = index * CACHE_BLOCK;
      const len = Math.min(CACHE_BLOCK, this.size - start);
      // Into the mirror itself when it has room: no buffer to allocate, no copy (both showed in cold walks).
      const slot = this.mirror?.slotFor(index);
      p = slot
        ? this.pread(start, len, slot).then((b) => { this.mirror?.landed(index); return b; })
        : this.pread(start, len).then((b) => { this.blocks.set(index, b); return this.blocks.get(index) ?? b; });
      p = p.finally(() => this.pending.delete(index));
      this.pending.set(index, p);
    }
    return p;
  }

  async readData(offset: number, length: number, what: string, forReply = false): Promise<Buffer> {
    checkRange(this, offset, length, what);
    return this.pread(offset, length, forReply ? readBuffers.take(length) : Buffer.allocUnsafe(length));
  }

  private async pread(offset: number, length: number, buf: Buffer = Buffer.allocUnsafe(length), inBackground = false,
  ): Promise<Buffer> {
    let done = 0;
    while (done < length) {
      const bytesRead = await positionalRead(this.fh.fd, buf, done, length - done, offset + done, inBackground);
      if (bytesRead === 0) throw formatError(this.description, offset + done, 'file shrank while reading');
      done += bytesRead;
    }
    return buf;
  }

  /** Background reads still in flight finish first: their fd must not be closed (and reused) under them. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.prefetching.values(), this.preloading]);
    this.blocks.clear();
    await this.fh.close();
  }
}
