/**
 * Finds a RAFS v6 chunk's compression info: from its blob's compression-info array (loaded once per blob,
 * decompressed with ci_compressor) or, when the blob has none, from the bootstrap's chunk info table. Also
 * serves chunk digests (bootstrap chunk table) for optional validation.
 */
import {
  BLOB_FEATURE_CHUNK_INFO_V2, BlobEntry, CHUNK_FLAG_COMPRESSED, CHUNK_INFO_SIZE, CI_V1_SIZE, CI_V2_SIZE, CiEntry,
  StructView, decodeChunkInfo, decodeCiV1, decodeCiV2,
} from '../layout';
import { RafsMetadata } from '../meta/metadata';
import { RafsUnsupportedError, formatError } from '../errors';
import { BlobBackend } from './backend';
import { decompress } from './codec';

const MAX_TABLE_BYTES = 256 * 1024 * 1024;

interface CiArray { view: StructView; entrySize: number; count: number }

export class ChunkTable {
  private readonly ciArrays = new Map<number, Promise<CiArray>>();
  private bootstrapTable?: Promise<Map<string, CiEntry & { digest: Buffer }>>;

  constructor(private readonly meta: RafsMetadata, private readonly backend: BlobBackend) {}

  blob(blobIndex: number): BlobEntry {
    const b = this.meta.blobs[blobIndex];
    if (!b) throw formatError('blob table', this.meta.ext?.blobTableOffset ?? 0, `no blob ${blobIndex}`);
    return b;
  }

  async lookup(blobIndex: number, ciIndex: number): Promise<CiEntry> {
    const blob = this.blob(blobIndex);
    if (blob.ciCompressedSize === 0) {
      const e = (await this.chunkInfoTable()).get(`${blobIndex}:${ciIndex}`);
      if (!e) throw formatError('chunk info table', this.meta.ext?.chunkTableOffset ?? 0, `no chunk ${ciIndex} of blob ${blobIndex}`);
      return e;
    }
    const arr = await this.ciArray(blobIndex);
    if (ciIndex >= arr.count) {
      throw formatError(`compression-info array of blob ${blob.blobId}`, blob.ciOffset, `chunk ${ciIndex} >= ${arr.count} entries`);
    }
    const at = ciIndex * arr.entrySize;
    return arr.entrySize === CI_V2_SIZE ? decodeCiV2(arr.view, at) : decodeCiV1(arr.view, at);
  }

  /** The digest recorded for a chunk, or undefined when the image has none. */
  async digest(blobIndex: number, ciIndex: number): Promise<Buffer | undefined> {
    if (!this.meta.ext || this.meta.ext.chunkTableSize === 0) return undefined;
    return (await this.chunkInfoTable()).get(`${blobIndex}:${ciIndex}`)?.digest;
  }

  private ciArray(blobIndex: number): Promise<CiArray> {
    let p = this.ciArrays.get(blobIndex);
    if (!p) {
      p = this.loadCiArray(blobIndex);
      p.catch(() => this.ciArrays.delete(blobIndex));
      this.ciArrays.set(blobIndex, p);
    }
    return p;
  }

  private async loadCiArray(blobIndex: number): Promise<CiArray> {
    const blob = this.blob(blobIndex);
    const what = `compression-info array of blob ${blob.blobId}`;
    const entrySize = blob.features & BLOB_FEATURE_CHUNK_INFO_V2 ? CI_V2_SIZE : CI_V1_SIZE;
    const usize = blob.ciCompressor === 0 ? blob.ciCompressedSize : blob.ciUncompressedSize;
    if (usize > MAX_TABLE_BYTES || blob.ciCompressedSize > MAX_TABLE_BYTES || usize < blob.chunkCount * entrySize) {
      throw formatError(what, blob.ciOffset, `implausible size ${usize} for ${blob.chunkCount} chunks`);
    }
    const raw = await this.backend.readAt(blobIndex, blob.ciOffset, blob.ciCompressedSize);
    const buf = decompress(blob.ciCompressor, raw, usize, what, blob.ciOffset);
    return { view: new StructView(buf, what, blob.ciOffset), entrySize, count: blob.chunkCount };
  }

  private chunkInfoTable(): Promise<Map<string, CiEntry & { digest: Buffer }>> {
    if (!this.bootstrapTable) {
      this.bootstrapTable = this.loadChunkInfoTable();
      this.bootstrapTable.catch(() => { this.bootstrapTable = undefined; });
    }
    return this.bootstrapTable;
  }

  private async loadChunkInfoTable(): Promise<Map<string, CiEntry & { digest: Buffer }>> {
    const ext = this.meta.ext;
    if (!ext || ext.chunkTableSize === 0) throw new RafsUnsupportedError('the image has no chunk info table');
    if (ext.chunkTableSize > MAX_TABLE_BYTES) throw formatError('chunk info table', ext.chunkTableOffset, `size ${ext.chunkTableSize}`);
    const count = Math.floor(ext.chunkTableSize / CHUNK_INFO_SIZE);
    const buf = await this.meta.source.readData(ext.chunkTableOffset, count * CHUNK_INFO_SIZE, 'chunk info table');
    const v = new StructView(buf, 'chunk info table', ext.chunkTableOffset);
    const map = new Map<string, CiEntry & { digest: Buffer }>();
    for (let i = 0; i < count; i++) {
      const c = decodeChunkInfo(v, i * CHUNK_INFO_SIZE);
      map.set(`${c.blobIndex}:${c.index}`, {
        digest: c.digest, compressedOffset: c.compressedOffset, compressedSize: c.compressedSize,
        uncompressedOffset: c.uncompressedOffset, uncompressedSize: c.uncompressedSize,
        compressed: (c.flags & CHUNK_FLAG_COMPRESSED) !== 0, flags: 0,
      });
    }
    return map;
  }
}
