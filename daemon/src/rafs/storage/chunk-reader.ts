/**
 * Decompressed RAFS v6 chunks, by (blob index, ci index): read the compressed range from the backend,
 * decompress when csize != usize, optionally check the digest, and keep the result in an LRU bounded by
 * bytes. Concurrent requests for one chunk share a single in-flight promise, so it is decompressed once.
 */
import { LruCache } from '../util/lru';
import { RafsUnsupportedError, formatError } from '../errors';
import { CODEC_NONE, CiEntry, DIGEST_BLAKE3, DIGEST_SHA256, EXT_DIGEST_SHA256 } from '../layout';
import { RafsMetadata } from '../meta/metadata';
import { BlobBackend } from './backend';
import { ChunkTable } from './chunk-table';
import { chunkDigest, decompress } from './codec';

export const MAX_CHUNK_BYTES = 64 * 1024 * 1024;

export interface ChunkReaderOptions {
  cacheBytes: number;
  digestValidate: boolean;
}

export interface ChunkStats { backendReads: number; decompressions: number; cacheHits: number; coalesced: number }

export class ChunkReader {
  readonly table: ChunkTable;
  readonly stats: ChunkStats = { backendReads: 0, decompressions: 0, cacheHits: 0, coalesced: 0 };
  private readonly cache: LruCache<string, Buffer>;
  private readonly inflight = new Map<string, Promise<Buffer>>();

  constructor(private readonly meta: RafsMetadata, private readonly backend: BlobBackend,
    private readonly opts: ChunkReaderOptions) {
    this.table = new ChunkTable(meta, backend);
    this.cache = new LruCache(opts.cacheBytes, (b) => b.length);
  }

  get cachedBytes(): number { return this.cache.cost; }

  read(blobIndex: number, ciIndex: number): Promise<Buffer> {
    const key = `${blobIndex}:${ciIndex}`;
    const hit = this.cache.get(key);
    if (hit) { this.stats.cacheHits++; return Promise.resolve(hit); }
    const pending = this.inflight.get(key);
    if (pending) { this.stats.coalesced++; return pending; }
    const p = this.load(blobIndex, ciIndex)
      .then((data) => { this.cache.set(key, data); return data; })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    return p;
  }

  /**
   * Bytes [offset, offset + length) of a chunk. A chunk the blob stores uncompressed (and that needs no digest
   * check) is not cached whole on a miss: just the range is read, so small random reads cost a small read.
   * `forReply` as for BlobBackend.readAt.
   */
  async readRange(blobIndex: number, ciIndex: number, offset: number, length: number, forReply = false): Promise<Buffer> {
    const key = `${blobIndex}:${ciIndex}`;
    if (!this.cache.get(key) && !this.inflight.has(key)) {
      const raw = await this.storedRaw(blobIndex, ciIndex);
      if (raw && offset + length <= raw.uncompressedSize) {
        this.stats.backendReads++;
        return this.backend.readAt(blobIndex, raw.compressedOffset + offset, length, forReply);
      }
    }
    const chunk = await this.read(blobIndex, ciIndex);
    if (offset + length > chunk.length) {
      throw formatError(`chunk ${ciIndex} of blob ${blobIndex}`, 0, `needs bytes up to ${offset + length}, chunk has ${chunk.length}`);
    }
    return chunk.subarray(offset, offset + length);
  }

  /**
   * Loads a chunk a sequential reader will soon reach into the cache, unless it is one readRange() reads
   * directly from the blob: for those the kernel's readahead on the blob file (localfs, the only backend so far)
   * does the job, without a copy kept here. Never rejects.
   */
  async prefetch(blobIndex: number, ciIndex: number): Promise<void> {
    try {
      if (!(await this.storedRaw(blobIndex, ciIndex))) await this.read(blobIndex, ciIndex);
    } catch {
      // left for the real read to report
    }
  }

  /** The chunk's info when the blob stores it as is (no compression, no flags) and no digest needs checking. */
  async storedRaw(blobIndex: number, ciIndex: number): Promise<CiEntry | undefined> {
    if (this.opts.digestValidate) return undefined;
    const ci = await this.table.lookup(blobIndex, ciIndex);
    return !ci.compressed && !ci.flags && ci.compressedSize === ci.uncompressedSize ? ci : undefined;
  }

  private async load(blobIndex: number, ciIndex: number): Promise<Buffer> {
    const blob = this.table.blob(blobIndex);
    const ci = await this.table.lookup(blobIndex, ciIndex);
    const what = `chunk ${ciIndex} of blob ${blob.blobId}`;
    if (ci.uncompressedSize > MAX_CHUNK_BYTES || ci.compressedSize > MAX_CHUNK_BYTES || ci.compressedSize === 0) {
      throw formatError(what, ci.compressedOffset, `implausible sizes ${ci.compressedSize}/${ci.uncompressedSize}`);
    }
    if (ci.flags) throw new RafsUnsupportedError(`${what}: ZRan, batch or encrypted chunks (flags 0x${ci.flags.toString(16)}) are not supported`);
    this.stats.backendReads++;
    const raw = await this.backend.readAt(blobIndex, ci.compressedOffset, ci.compressedSize);
    let data = raw;
    if (ci.compressed) {
      this.stats.decompressions++;
      data = decompress(blob.compression, raw, ci.uncompressedSize, what, ci.compressedOffset);
    } else {
      data = decompress(CODEC_NONE, raw, ci.uncompressedSize, what, ci.compressedOffset);
    }
    if (this.opts.digestValidate) await this.validate(blobIndex, ciIndex, data, what, ci.compressedOffset);
    return data;
  }

  private async validate(blobIndex: number, ciIndex: number, data: Buffer, what: string, offset: number): Promise<void> {
    const expected = await this.table.digest(blobIndex, ciIndex);
    if (!expected) return;
    const blob = this.table.blob(blobIndex);
    const algo = blob.digest === DIGEST_SHA256 || (this.meta.ext && this.meta.ext.flags & EXT_DIGEST_SHA256)
      ? DIGEST_SHA256 : DIGEST_BLAKE3;
    const actual = chunkDigest(algo, data);
    if (!actual.equals(expected)) {
      throw formatError(what, offset, `digest mismatch (expected ${expected.toString('hex')}, got ${actual.toString('hex')})`);
    }
  }
}
