/**
 * Chunk-based file data: the chunk format in i_u, 4-byte block maps, 8-byte chunk indexes (read either as an
 * EROFS {advise, device_id, blkaddr} or, in RAFS v6, as a chunk address {ci_index, blob_index + 1,
 * uncompressed block}), the bootstrap chunk info table entry, and blob compression-info arrays (v1, v2).
 */
import { StructView } from './bytes';
import { formatError } from '../errors';

export const NULL_ADDR = 0xffffffff;
export const CHUNK_FORMAT_BLKBITS_MASK = 0x1f;
export const CHUNK_FORMAT_INDEXES = 0x20;

export interface ChunkFormat { chunkBits: number; indexSize: 4 | 8 }

export function decodeChunkFormat(iu: number, blkszbits: number, nid: number, offset: number): ChunkFormat {
  if ((iu & ~0x3f) !== 0) throw formatError(`inode ${nid}`, offset, `bad chunk format 0x${iu.toString(16)}`);
  const chunkBits = blkszbits + (iu & CHUNK_FORMAT_BLKBITS_MASK);
  if (chunkBits > 40) throw formatError(`inode ${nid}`, offset, `chunk size 2^${chunkBits} too large`);
  return { chunkBits, indexSize: iu & CHUNK_FORMAT_INDEXES ? 8 : 4 };
}

export interface ChunkIndex { deviceId: number; blkaddr: number }

export function decodeChunkIndex(v: StructView, off: number, size: 4 | 8): ChunkIndex {
  if (size === 4) return { deviceId: 0, blkaddr: v.u32(off) };
  return { deviceId: v.u16(off + 2), blkaddr: v.u32(off + 4) };
}

export interface ChunkAddress {
  /** -1 when the stored blob_index + 1 is 0 (not a blob chunk). */
  blobIndex: number;
  ciIndex: number;
  uncompressedBlkaddr: number;
}

export function decodeChunkAddress(v: StructView, off: number): ChunkAddress {
  const lo = v.u16(off);
  const dev = v.u16(off + 2);
  return { blobIndex: (dev & 0xff) - 1, ciIndex: lo | ((dev >> 8) << 16), uncompressedBlkaddr: v.u32(off + 4) };
}

export const CHUNK_INFO_SIZE = 80;
export const CHUNK_FLAG_COMPRESSED = 0x1;

export interface ChunkInfo {
  digest: Buffer;
  blobIndex: number;
  flags: number;
  compressedSize: number;
  uncompressedSize: number;
  compressedOffset: number;
  uncompressedOffset: number;
  fileOffset: number;
  index: number;
}

export function decodeChunkInfo(v: StructView, off: number): ChunkInfo {
  v.need(off, CHUNK_INFO_SIZE);
  return {
    digest: Buffer.from(v.bytes(off, 32)),
    blobIndex: v.u32(off + 32),
    flags: v.u32(off + 36),
    compressedSize: v.u32(off + 40),
    uncompressedSize: v.u32(off + 44),
    compressedOffset: v.u64(off + 48, 'compressed_offset'),
    uncompressedOffset: v.u64(off + 56, 'uncompressed_offset'),
    fileOffset: v.u64(off + 64, 'file_offset'),
    index: v.u32(off + 72),
  };
}

/** One entry of a blob's compression-info array. */
export interface CiEntry {
  compressedOffset: number;
  compressedSize: number;
  uncompressedOffset: number;
  uncompressedSize: number;
  compressed: boolean;
  /** v2 only: ZRAN 0x2, BATCH 0x4, ENCRYPTED 0x8 (COMPRESSED 0x1 is `compressed`). */
  flags: number;
}

export const CI_V2_FLAG_COMPRESSED = 0x1;
export const CI_V2_UNSUPPORTED_FLAGS = 0x2 | 0x4 | 0x8;

export const CI_V1_SIZE = 16;
export const CI_V2_SIZE = 24;

export function decodeCiV1(v: StructView, off: number): CiEntry {
  const u = v.big64(off);
  const c = v.big64(off + 8);
  // Offset bits 12..43; sizes - 1 split in low 20 bits (44..63) and high 4 bits (8..11 / 40..43).
  const uncompressedOffset = Number(u & 0xffffffff000n);
  const uncompressedSize = Number((u >> 44n) | ((u & 0xf00n) << 12n)) + 1;
  const compressedOffset = Number(c & 0xffffffffffn);
  const compressedSize = Number((c >> 44n) | ((c & 0xf0000000000n) >> 20n)) + 1;
  return { compressedOffset, compressedSize, uncompressedOffset, uncompressedSize, compressed: compressedSize !== uncompressedSize, flags: 0 };
}

export function decodeCiV2(v: StructView, off: number): CiEntry {
  const u = v.big64(off);
  const c = v.big64(off + 8);
  // u: block offset (32 bits), size - 1 (24 bits), flags (8 bits); c: offset (40 bits), size (24 bits).
  const uncompressedOffset = Number(u & 0xffffffffn) * 4096;
  const uncompressedSize = Number((u >> 32n) & 0xffffffn) + 1;
  const flags = Number(u >> 56n);
  const compressedOffset = Number(c & 0xffffffffffn);
  const compressedSize = Number((c >> 40n) & 0xffffffn);
  return { compressedOffset, compressedSize, uncompressedOffset, uncompressedSize,
    compressed: (flags & CI_V2_FLAG_COMPRESSED) !== 0, flags: flags & ~CI_V2_FLAG_COMPRESSED };
}
