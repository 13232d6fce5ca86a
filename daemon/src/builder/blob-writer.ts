/**
 * Writes one RAFS data blob the way upstream nydus-image lays it out: chunk data (deduplicated by digest,
 * compressed per chunk when that helps), then the compression-info array (ci v1) with its 4 KiB header,
 * the chunk digest array, optionally the bootstrap (self-contained images), and the ToC, each section
 * followed by a tar header. Uncompressed offsets are 4 KiB aligned; with compressor "none" each chunk is
 * stored at its uncompressed offset, so the data part doubles as an EROFS extra device.
 * It does not know the filesystem tree: callers hand it chunk bytes and keep the returned ci index.
 */
import * as fs from 'fs';
import * as path from 'path';
import { createHash, Hash } from 'crypto';
import * as C from './constants';
import { chunkDigest, compressChunk, Compressor, Digester, sha256, zstdCompress } from './digest';
import { sectionTarHeader } from './tar-header';
import { encodeCiV1, encodeBlobMetaHeader, encodeTocEntry, TocEntry } from './blob-meta';

export interface ChunkRecord {
  digest: Buffer;
  uoff: number;
  usize: number;
  coff: number;
  csize: number;
  compressed: boolean;
  /** File offset of the first use (recorded in the chunk info table as upstream does). */
  fileOffset: number;
}

export interface BlobSealInfo {
  /** sha256 of everything written so far (the blob id of a self-contained blob). */
  prefixDigest: string;
  prefixSize: number;
  uncompressedSize: number;
  ciOffset: number;
  ciSize: number;
  /** Size the ToC will have: known before the bootstrap is appended. */
  tocSize: number;
}

export interface BlobFinalInfo extends BlobSealInfo {
  fileDigest: string;
  fileSize: number;
  tocDigest: Buffer;
}

let zeroBuffer = Buffer.alloc(C.BLOCK_SIZE);

/** A shared all-zero buffer of at least n bytes (grown on demand, never written to). */
function zeros(n: number): Buffer {
  if (zeroBuffer.length < n) zeroBuffer = Buffer.alloc(n);
  return zeroBuffer;
}

export class BlobWriter {
  readonly chunks: ChunkRecord[] = [];
  private readonly byDigest = new Map<string, number>();
  private readonly hash: Hash = createHash('sha256');
  private readonly toc: TocEntry[] = [];
  private fd: number;
  private pos = 0;
  private uncompressedEnd = 0;
  private sealed?: BlobSealInfo;
  /** ci index of the stored all-zero chunk of each length (when holes are not used). */
  private readonly zeroChunks = new Map<number, number>();
  bytesIn = 0;

  /**
   * `holes`: all-zero chunks become EROFS null chunk addresses (the kernel and our reader read them as
   * zeros; upstream nydusd refuses them), else they are stored once like any chunk, as upstream does.
   */
  constructor(readonly tmpPath: string, readonly compressor: Compressor, readonly digester: Digester,
    readonly features: number, private readonly withBootstrap: boolean, private readonly holes: boolean) {
    this.fd = fs.openSync(tmpPath, 'w', 0o644);
  }

  /** Stores a chunk (or finds its twin); returns its ci index, or -1 for a hole. */
  addChunk(data: Buffer, fileOffset: number): number {
    if (data.length > 0 && zeros(data.length).compare(data, 0, data.length, 0, data.length) === 0) return this.addZeroChunk(data.length, fileOffset);
    this.bytesIn += data.length;
    return this.store(data, fileOffset);
  }

  /** A chunk known to be all zeros (a hole in a sparse source file), without its bytes. */
  addZeroChunk(length: number, fileOffset: number): number {
    this.bytesIn += length;
    if (this.holes || length === 0) return -1;
    let index = this.zeroChunks.get(length);
    if (index === undefined) {
      index = this.store(Buffer.alloc(length), fileOffset);
      this.zeroChunks.set(length, index);
    }
    return index;
  }

  private store(data: Buffer, fileOffset: number): number {
    const digest = chunkDigest(this.digester, data);
    const key = digest.toString('binary');
    const known = this.byDigest.get(key);
    if (known !== undefined) return known;
    const uoff = this.uncompressedEnd;
    this.uncompressedEnd = alignBlock(uoff + data.length);
    const packed = compressChunk(this.compressor, data);
    const stored = packed ?? data;
    const coff = this.pos;
    this.write(stored);
    // uncompressed blobs pad every chunk to 4 KiB, so coff == uoff and the data is an EROFS device
    if (this.compressor === 'none') this.write(zeros(C.BLOCK_SIZE).subarray(0, this.uncompressedEnd - this.pos));
    const index = this.chunks.length;
    this.chunks.push({ digest, uoff, usize: data.length, coff, csize: stored.length, compressed: packed !== undefined, fileOffset });
    this.byDigest.set(key, index);
    return index;
  }

  /** Ends the chunk data and writes the ci array, its header and the digest array. */
  seal(): BlobSealInfo {
    const dataSize = this.pos;
    this.toc.push({ name: C.TOC_BLOB_RAW, flags: C.TOC_FLAG_NONE, offset: 0, csize: dataSize, usize: this.uncompressedEnd, digest: this.hash.copy().digest() });
    this.write(sectionTarHeader(C.TOC_BLOB_RAW, dataSize));
    const ci = encodeCiV1(this.chunks);
    const ciOffset = this.pos;
    const header = encodeBlobMetaHeader({ features: this.features, ciEntries: this.chunks.length, ciOffset, ciSize: ci.length });
    this.toc.push(tocOf(C.TOC_BLOB_META, ciOffset, ci));
    this.toc.push(tocOf(C.TOC_BLOB_META_HEADER, ciOffset + ci.length, header));
    this.write(ci);
    this.write(header);
    this.write(sectionTarHeader(C.TOC_BLOB_META, ci.length + header.length));
    const digests = Buffer.concat(this.chunks.map((c) => c.digest));
    this.toc.push(tocOf(C.TOC_BLOB_DIGEST, this.pos, digests));
    this.write(digests);
    this.write(sectionTarHeader(C.TOC_BLOB_DIGEST, digests.length));
    const entries = this.toc.length + (this.withBootstrap ? 1 : 0);
    this.sealed = {
      prefixDigest: this.hash.copy().digest('hex'), prefixSize: this.pos, uncompressedSize: this.uncompressedEnd,
      ciOffset, ciSize: ci.length, tocSize: entries * C.TOC_ENTRY_SIZE + C.TAR_HEADER_SIZE,
    };
    return this.sealed;
  }

  /** Appends the bootstrap (self-contained images) and the ToC; closes the file. */
  finish(bootstrap?: Buffer): BlobFinalInfo {
    if (!this.sealed) throw new Error('BlobWriter.finish() called before seal()');
    if ((bootstrap !== undefined) !== this.withBootstrap) throw new Error('bootstrap presence differs from the declared layout');
    if (bootstrap) {
      const packed = this.compressor === 'none' ? bootstrap : zstdCompress(bootstrap);
      const entry = tocOf(C.TOC_BOOTSTRAP, this.pos, packed);
      entry.usize = bootstrap.length;
      entry.digest = sha256(bootstrap);
      entry.flags = this.compressor === 'none' ? C.TOC_FLAG_NONE : C.TOC_FLAG_ZSTD;
      this.toc.push(entry);
      this.write(packed);
      this.write(sectionTarHeader(C.TOC_BOOTSTRAP, packed.length));
    }
    const tocBody = Buffer.concat(this.toc.map(encodeTocEntry));
    const tocBytes = Buffer.concat([tocBody, sectionTarHeader(C.TOC_NAME, tocBody.length)]);
    if (tocBytes.length !== this.sealed.tocSize) throw new Error('ToC size differs from the size announced at seal()');
    this.write(tocBytes);
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.fd = -1;
    return { ...this.sealed, fileDigest: this.hash.digest('hex'), fileSize: this.pos, tocDigest: sha256(tocBytes) };
  }

  /** Moves the finished blob to DIR/<blobId>; returns the path. */
  commit(dir: string, blobId: string): string {
    const dest = path.join(dir, blobId);
    fs.renameSync(this.tmpPath, dest);
    return dest;
  }

  abort(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
    fs.rmSync(this.tmpPath, { force: true });
  }

  get bytesOut(): number {
    return this.pos;
  }

  private write(buf: Buffer): void {
    let done = 0;
    while (done < buf.length) done += fs.writeSync(this.fd, buf, done, buf.length - done, this.pos + done);
    this.hash.update(buf);
    this.pos += buf.length;
  }
}

function tocOf(name: string, offset: number, body: Buffer): TocEntry {
  return { name, flags: C.TOC_FLAG_NONE, offset, csize: body.length, usize: body.length, digest: sha256(body) };
}

export function alignBlock(n: number): number {
  return Math.ceil(n / C.BLOCK_SIZE) * C.BLOCK_SIZE;
}
