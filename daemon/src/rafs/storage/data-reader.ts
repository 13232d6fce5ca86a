/**
 * File content: resolves an inode's extents (meta/file-map) to bytes from the metadata image, raw extra
 * devices (generic EROFS --blobdev) or decompressed RAFS chunks, and starts reading the next chunk in the
 * background when a file is being read sequentially.
 */
import { Inode, decodeChunkFormat } from '../layout';
import { RafsMetadata } from '../meta/metadata';
import { Extent, mapRange } from '../meta/file-map';
import { LruCache } from '../util/lru';
import { BlobBackend } from './backend';
import { ChunkReader } from './chunk-reader';
import { readMapOf } from './read-map';
import type { ReadExtents } from '../../fs/filesystem';

export class DataReader {
  /** nid -> end offset of the last read, to spot sequential readers. */
  private readonly lastEnd = new LruCache<number, number>(1024);
  /** nid -> the file's read map (null: it has none), for its next open. */
  private readonly readMaps = new LruCache<number, ReadExtents | null>(256);
  readaheads = 0;

  constructor(private readonly meta: RafsMetadata, private readonly backend: BlobBackend,
    readonly chunks: ChunkReader, private readonly readahead: boolean) {}

  async read(inode: Inode, offset: number, size: number): Promise<Buffer> {
    const extents = await mapRange(this.meta, inode, offset, size);
    const parts = await Promise.all(extents.map((e) => this.readExtent(inode, e)));
    const sequential = this.lastEnd.get(inode.nid) === offset;
    const end = offset + parts.reduce((n, p) => n + p.length, 0);
    this.lastEnd.set(inode.nid, end);
    const last = extents[extents.length - 1];
    if (this.readahead && sequential && last?.kind === 'chunk') {
      const chunkSize = 2 ** decodeChunkFormat(inode.iu, this.meta.sb.blkszbits, inode.nid, inode.offset).chunkBits;
      const next = (Math.floor((end - 1) / chunkSize) + 1) * chunkSize;
      if (next < inode.size) this.prefetch(inode, next);
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  /** The file as pieces of local files for the read threads, if it can be read that way (storage/read-map.ts). */
  async readMap(inode: Inode): Promise<ReadExtents | undefined> {
    const known = this.readMaps.get(inode.nid);
    if (known !== undefined) return known ?? undefined;
    let map: ReadExtents | undefined;
    try {
      map = await readMapOf(this.meta, this.backend, this.chunks, inode);
    } catch {
      map = undefined; // a damaged image: its reads stay on the main thread, which reports what is wrong
    }
    this.readMaps.set(inode.nid, map ?? null);
    return map;
  }

  private async readExtent(inode: Inode, e: Extent): Promise<Buffer> {
    switch (e.kind) {
      case 'zero':
        return Buffer.alloc(e.length);
      case 'device':
        if (e.device === 0) return this.meta.source.readData(e.pos, e.length, `data of inode ${inode.nid}`, true);
        return this.backend.readAt(e.device - 1, e.pos, e.length, true);
      case 'chunk':
        return this.chunks.readRange(e.blobIndex, e.ciIndex, e.offsetInChunk, e.length, true);
    }
  }

  /** Warms the cache with the chunk holding `offset`; failures are left for the real read to report. */
  private prefetch(inode: Inode, offset: number): void {
    mapRange(this.meta, inode, offset, 1).then((next) => {
      const e = next[0];
      if (e?.kind === 'chunk') {
        this.readaheads++;
        return this.chunks.prefetch(e.blobIndex, e.ciIndex);
      }
      return undefined;
    }).catch(() => undefined);
  }
}
