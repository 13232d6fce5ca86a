/**
 * Encoders for the small fixed structures at the tail of a data blob: ci v1 entries, the 4 KiB
 * blob.meta.header and the 128-byte ToC entries. Pure functions over plain records.
 */
import * as C from './constants';

export interface CiSource {
  uoff: number;
  usize: number;
  coff: number;
  csize: number;
}

/** ci v1: u = uoff | (usize-1) low 20 bits << 44 | bits 20-23 << 8; c = coff | (csize-1) low 20 << 44 | bits 20-23 << 40. */
export function encodeCiV1(chunks: readonly CiSource[]): Buffer {
  const buf = Buffer.alloc(chunks.length * C.CI_V1_ENTRY_SIZE);
  chunks.forEach((c, i) => {
    const us = BigInt(c.usize - 1);
    const cs = BigInt(c.csize - 1);
    const u = BigInt(c.uoff) | ((us & 0xfffffn) << 44n) | (((us >> 20n) & 0xfn) << 8n);
    const v = BigInt(c.coff) | ((cs & 0xfffffn) << 44n) | (((cs >> 20n) & 0xfn) << 40n);
    buf.writeBigUInt64LE(u, i * 16);
    buf.writeBigUInt64LE(v, i * 16 + 8);
  });
  return buf;
}

export interface BlobMetaHeaderFields {
  features: number;
  ciEntries: number;
  ciOffset: number;
  ciSize: number;
}

export function encodeBlobMetaHeader(f: BlobMetaHeaderFields): Buffer {
  const buf = Buffer.alloc(C.BLOB_META_HEADER_SIZE);
  buf.writeUInt32LE(C.BLOB_META_MAGIC, 0);
  buf.writeUInt32LE(f.features >>> 0, 4);
  buf.writeUInt32LE(0, 8); // ci array stored uncompressed
  buf.writeUInt32LE(f.ciEntries, 12);
  buf.writeBigUInt64LE(BigInt(f.ciOffset), 16);
  buf.writeBigUInt64LE(BigInt(f.ciSize), 24);
  buf.writeBigUInt64LE(BigInt(f.ciSize), 32);
  buf.writeUInt32LE(C.BLOB_META_MAGIC, C.BLOB_META_HEADER_SIZE - 4);
  return buf;
}

export interface TocEntry {
  name: string;
  flags: number;
  offset: number;
  csize: number;
  usize: number;
  digest: Buffer;
}

export function encodeTocEntry(e: TocEntry): Buffer {
  const buf = Buffer.alloc(C.TOC_ENTRY_SIZE);
  buf.writeUInt32LE(e.flags, 0);
  buf.write(e.name, 8, 16, 'ascii');
  e.digest.copy(buf, 24, 0, 32);
  buf.writeBigUInt64LE(BigInt(e.offset), 56);
  buf.writeBigUInt64LE(BigInt(e.csize), 64);
  buf.writeBigUInt64LE(BigInt(e.usize), 72);
  return buf;
}

export function decodeTocEntry(buf: Buffer, at: number): TocEntry {
  return {
    flags: buf.readUInt32LE(at),
    name: buf.subarray(at + 8, at + 24).toString('latin1').replace(/\0+$/, ''),
    digest: Buffer.from(buf.subarray(at + 24, at + 56)),
    offset: Number(buf.readBigUInt64LE(at + 56)),
    csize: Number(buf.readBigUInt64LE(at + 64)),
    usize: Number(buf.readBigUInt64LE(at + 72)),
  };
}

export function decodeCiV1(buf: Buffer, at: number): CiSource {
  const u = buf.readBigUInt64LE(at);
  const c = buf.readBigUInt64LE(at + 8);
  return {
    uoff: Number(u & 0xffffffff000n),
    usize: Number((u >> 44n) | ((u & 0xf00n) << 12n)) + 1,
    coff: Number(c & 0xffffffffffn),
    csize: Number((c >> 44n) | ((c & 0xf0000000000n) >> 20n)) + 1,
  };
}
