/**
 * Blob table of contents (RAFS v6 blobs with HAS_TOC): 128-byte entries at the blob's end, followed by a
 * 512-byte tar header named "rafs.blob.toc" whose octal size field gives the ToC's length. Entries:
 * {flags u32 (1 none, 2 zstd, 4 lz4), name[16], sha256[32], offset u64, compressed size u64, size u64}.
 */
import { StructView } from './bytes';

export const TOC_ENTRY_SIZE = 128;
export const TAR_HEADER_SIZE = 512;
export const TOC_NAME = 'rafs.blob.toc';
export const TOC_FLAG_NONE = 1;
export const TOC_FLAG_ZSTD = 2;
export const TOC_FLAG_LZ4 = 4;

export interface TocEntry {
  flags: number;
  name: string;
  sha256: Buffer;
  compressedOffset: number;
  compressedSize: number;
  uncompressedSize: number;
}

/** Reads the tar header at the blob's end; returns the ToC's byte length. */
export function decodeTocTarHeader(buf: Buffer, offset: number): number {
  const v = new StructView(buf, 'blob ToC tar header', offset);
  v.need(0, TAR_HEADER_SIZE);
  const name = v.cstr(0, 100);
  if (name !== TOC_NAME) throw v.error(`expected a tar header named "${TOC_NAME}", found "${name.slice(0, 40)}"`);
  const sizeText = v.cstr(124, 12).trim();
  if (!/^[0-7]+$/.test(sizeText)) throw v.error(`bad tar size field "${sizeText}"`);
  const size = parseInt(sizeText, 8);
  if (size === 0 || size % TOC_ENTRY_SIZE !== 0 || size > 1 << 20) throw v.error(`bad ToC size ${size}`);
  return size;
}

export function decodeToc(buf: Buffer, offset: number): TocEntry[] {
  const out: TocEntry[] = [];
  for (let off = 0; off + TOC_ENTRY_SIZE <= buf.length; off += TOC_ENTRY_SIZE) {
    const v = new StructView(buf.subarray(off, off + TOC_ENTRY_SIZE), 'blob ToC entry', offset + off);
    out.push({
      flags: v.u32(0),
      name: v.cstr(8, 16),
      sha256: Buffer.from(v.bytes(24, 32)),
      compressedOffset: v.u64(56, 'compressed_offset'),
      compressedSize: v.u64(64, 'compressed_size'),
      uncompressedSize: v.u64(72, 'uncompressed_size'),
    });
  }
  return out;
}
