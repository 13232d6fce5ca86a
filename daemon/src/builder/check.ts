/**
 * `nydus-image check`: validates a bootstrap and its blobs — superblocks, blob table vs device slots,
 * the whole tree (see image-walk), each blob's ToC and ci array against the chunk table and the chunk
 * addresses, and every chunk's digest after decompression. Stops at the first problem (ImageError).
 */
import * as fs from 'fs';
import * as path from 'path';
import { native } from '../native';
import * as C from './constants';
import { decodeCiV1, decodeTocEntry, CiSource } from './blob-meta';
import { chunkDigest, sha256 } from './digest';
import { BlobInfo, ImageError, SuperInfo, parseBlobTable, parseSuper } from './image-reader';
import { WalkStats, walkImage } from './image-walk';
import { loadBootstrap } from './bootstrap-load';

export interface CheckReport {
  stats: WalkStats;
  chunksVerified: number;
  blobs: string[];
}

function readAt(fd: number, offset: number, size: number, what: string): Buffer {
  const buf = Buffer.alloc(size);
  const n = fs.readSync(fd, buf, 0, size, offset);
  if (n !== size) throw new ImageError(`${what}: short read at ${offset} (${n} of ${size} bytes)`);
  return buf;
}

function checkToc(fd: number, fileSize: number, blob: BlobInfo): void {
  if ((blob.features & C.BLOB_FEATURE_HAS_TOC) === 0) return;
  if (blob.tocSize < C.TAR_HEADER_SIZE || blob.tocSize > fileSize) throw new ImageError(`blob ${blob.blobId}: ToC size ${blob.tocSize} is invalid`);
  const toc = readAt(fd, fileSize - blob.tocSize, blob.tocSize, `blob ${blob.blobId} ToC`);
  if (!/^0*[0-7]+$/.test(toc.subarray(toc.length - C.TAR_HEADER_SIZE + 124, toc.length - C.TAR_HEADER_SIZE + 135).toString('latin1'))) {
    throw new ImageError(`blob ${blob.blobId}: ToC does not end with a tar header`);
  }
  if (!/^0+$/.test(blob.tocDigest) && sha256(toc).toString('hex') !== blob.tocDigest) throw new ImageError(`blob ${blob.blobId}: ToC digest mismatch`);
  for (let at = 0; at + C.TOC_ENTRY_SIZE <= toc.length - C.TAR_HEADER_SIZE; at += C.TOC_ENTRY_SIZE) {
    const e = decodeTocEntry(toc, at);
    // upstream 2.2 records image.blob's offset as the data size (a known quirk), so only other entries are bounded
    if (e.name !== C.TOC_BLOB_RAW && e.offset + e.csize > fileSize) throw new ImageError(`blob ${blob.blobId}: ToC entry ${e.name} runs past the blob`);
    if (e.name === C.TOC_BLOB_META && e.flags === C.TOC_FLAG_NONE && e.offset !== blob.ciOffset) {
      throw new ImageError(`blob ${blob.blobId}: ToC puts blob.meta at ${e.offset}, blob table at ${blob.ciOffset}`);
    }
  }
}

function decompress(compressor: number, data: Buffer, usize: number): Buffer {
  const out = Buffer.alloc(usize);
  const n = compressor === C.BLOB_COMPRESSOR_ZSTD ? native.zstdDecompress(data, out)
    : compressor === C.BLOB_COMPRESSOR_LZ4_BLOCK ? native.lz4Decompress(data, out) : -1;
  if (n !== usize) throw new ImageError(`decompression gave ${n} bytes, want ${usize}`);
  return out;
}

/** Chunk table rows of one blob by ci index (upstream orders rows by digest, we by ci index). */
function chunkRows(boot: Buffer, sb: SuperInfo, blob: BlobInfo): Map<number, number> {
  const rows = new Map<number, number>();
  for (let row = sb.chunkTableOffset; row < sb.chunkTableOffset + sb.chunkTableSize; row += C.CHUNK_INFO_SIZE) {
    if (boot.readUInt32LE(row + 32) === blob.index) rows.set(boot.readUInt32LE(row + 72), row);
  }
  return rows;
}

function checkBlobChunks(fd: number, boot: Buffer, sb: SuperInfo, blob: BlobInfo, ci: CiSource[]): number {
  const digester = blob.digester === C.BLOB_DIGESTER_SHA256 ? 'sha256' : 'blake3';
  const rows = chunkRows(boot, sb, blob);
  for (let i = 0; i < ci.length; i++) {
    const c = ci[i];
    const row = rows.get(i);
    if (row === undefined) throw new ImageError(`blob ${blob.blobId}: chunk ${i} has no chunk table entry`);
    const want = boot.subarray(row, row + 32);
    if (boot.readUInt32LE(row + 44) !== c.usize || Number(boot.readBigUInt64LE(row + 48)) !== c.coff || Number(boot.readBigUInt64LE(row + 56)) !== c.uoff) {
      throw new ImageError(`blob ${blob.blobId}: chunk ${i} differs between ci array and chunk table`);
    }
    if (c.uoff % C.BLOCK_SIZE !== 0) throw new ImageError(`blob ${blob.blobId}: chunk ${i} uncompressed offset ${c.uoff} is not 4K aligned`);
    const raw = readAt(fd, c.coff, c.csize, `blob ${blob.blobId} chunk ${i}`);
    const data = c.csize === c.usize ? raw : decompress(blob.compressor, raw, c.usize);
    if (!chunkDigest(digester, data).equals(want)) throw new ImageError(`blob ${blob.blobId}: chunk ${i} digest mismatch`);
  }
  return ci.length;
}

/** `bootstrapPath` may also be a self-contained blob (its embedded bootstrap is checked). */
export function checkImage(bootstrapPath: string, blobDir: string): CheckReport {
  const { boot } = loadBootstrap(bootstrapPath);
  const sb = parseSuper(boot);
  const blobs = parseBlobTable(boot, sb);
  const ciByBlob: CiSource[][] = [];
  let verified = 0;
  for (const blob of blobs) {
    const file = path.join(blobDir, blob.blobId);
    if (!fs.existsSync(file)) throw new ImageError(`blob ${blob.blobId} not found in ${blobDir}`);
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      checkToc(fd, size, blob);
      if (blob.ciSize !== blob.chunkCount * C.CI_V1_ENTRY_SIZE) throw new ImageError(`blob ${blob.blobId}: ci size ${blob.ciSize} for ${blob.chunkCount} chunks`);
      if (blob.index === 0 && sb.chunkTableSize !== blob.chunkCount * C.CHUNK_INFO_SIZE && blobs.length === 1) {
        throw new ImageError(`chunk table has ${sb.chunkTableSize / C.CHUNK_INFO_SIZE} entries, blob has ${blob.chunkCount}`);
      }
      const raw = readAt(fd, blob.ciOffset, blob.ciSize, `blob ${blob.blobId} ci array`);
      const ci = Array.from({ length: blob.chunkCount }, (_, i) => decodeCiV1(raw, i * C.CI_V1_ENTRY_SIZE));
      ciByBlob.push(ci);
      verified += checkBlobChunks(fd, boot, sb, blob, ci);
    } finally {
      fs.closeSync(fd);
    }
  }
  const stats = walkImage(boot, sb, blobs, (use) => {
    const c = ciByBlob[use.blobIndex][use.ciIndex];
    if (c.uoff / C.BLOCK_SIZE !== use.blkaddr) throw new ImageError(`${use.path}: chunk address block ${use.blkaddr}, ci says ${c.uoff / C.BLOCK_SIZE}`);
  });
  return { stats, chunksVerified: verified, blobs: blobs.map((b) => b.blobId) };
}
