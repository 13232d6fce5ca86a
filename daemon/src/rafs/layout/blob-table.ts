/** RAFS v6 blob table entries (256 bytes each, at ext.blob_table_offset). */
import { StructView } from './bytes';

export const BLOB_ENTRY_SIZE = 256;

export const BLOB_FEATURE_ALIGNED = 0x1;
export const BLOB_FEATURE_INLINED_FS_META = 0x2;
export const BLOB_FEATURE_CHUNK_INFO_V2 = 0x4;
export const BLOB_FEATURE_ZRAN = 0x8;
export const BLOB_FEATURE_SEPARATE = 0x10;
export const BLOB_FEATURE_HAS_TOC = 0x20000000;

/** Codec numbers used by the blob table (compression, ci_compressor). */
export const CODEC_NONE = 0;
export const CODEC_LZ4_BLOCK = 1;
export const CODEC_GZIP = 2;
export const CODEC_ZSTD = 3;

export const DIGEST_BLAKE3 = 0;
export const DIGEST_SHA256 = 1;

export interface BlobEntry {
  blobId: string;
  blobIndex: number;
  chunkSize: number;
  chunkCount: number;
  compression: number;
  digest: number;
  features: number;
  compressedSize: number;
  uncompressedSize: number;
  tocSize: number;
  ciCompressor: number;
  ciOffset: number;
  ciCompressedSize: number;
  ciUncompressedSize: number;
  metaSize: number;
}

export function decodeBlobEntry(buf: Buffer, offset: number): BlobEntry {
  const v = new StructView(buf, 'blob table entry', offset);
  v.need(0, 208);
  return {
    blobId: v.cstr(0, 64),
    blobIndex: v.u32(64),
    chunkSize: v.u32(68),
    chunkCount: v.u32(72),
    compression: v.u32(76),
    digest: v.u32(80),
    features: v.u32(84),
    compressedSize: v.u64(88, 'compressed_size'),
    uncompressedSize: v.u64(96, 'uncompressed_size'),
    tocSize: v.u32(104),
    ciCompressor: v.u32(108),
    ciOffset: v.u64(112, 'ci_offset'),
    ciCompressedSize: v.u64(120, 'ci_compressed_size'),
    ciUncompressedSize: v.u64(128, 'ci_uncompressed_size'),
    metaSize: v.u64(200, 'meta_size'),
  };
}

/** The whole table; `tableOffset` only for messages. */
export function decodeBlobTable(buf: Buffer, tableOffset: number): BlobEntry[] {
  const entries: BlobEntry[] = [];
  for (let off = 0; off + BLOB_ENTRY_SIZE <= buf.length; off += BLOB_ENTRY_SIZE) {
    entries.push(decodeBlobEntry(buf.subarray(off, off + BLOB_ENTRY_SIZE), tableOffset + off));
  }
  return entries;
}
