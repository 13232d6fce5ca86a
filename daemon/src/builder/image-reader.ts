/**
 * A small, strict reader of the structures this builder writes, for `nydus-image inspect` and `check`
 * (the serving reader is daemon/src/rafs; this one only validates and summarizes). Every violation is
 * an ImageError naming the structure and the value found.
 */
import * as C from './constants';

export class ImageError extends Error {}

export interface SuperInfo {
  compat: number;
  incompat: number;
  rootNid: number;
  inos: number;
  buildTimeSec: number;
  buildTimeNsec: number;
  blocks: number;
  metaBlkaddr: number;
  uuid: string;
  extraDevices: number;
  flags: bigint;
  compressor: string;
  digester: string;
  chunkSize: number;
  chunkTableOffset: number;
  chunkTableSize: number;
}

export interface BlobInfo {
  index: number;
  blobId: string;
  chunkSize: number;
  chunkCount: number;
  compressor: number;
  digester: number;
  features: number;
  compressedSize: number;
  uncompressedSize: number;
  tocSize: number;
  ciOffset: number;
  ciSize: number;
  tocDigest: string;
}

export interface InodeInfo {
  nid: number;
  offset: number;
  extended: boolean;
  layout: number;
  xattrSize: number;
  mode: number;
  nlink: number;
  size: number;
  iu: number;
  ino: number;
  uid: number;
  gid: number;
  mtimeSec: number;
  mtimeNsec: number;
  /** Offset of the first byte after core + xattrs. */
  dataOffset: number;
}

const COMPRESSOR_NAMES: Array<[bigint, string]> = [[C.RAFS_FLAG_COMPRESSION_NONE, 'none'], [C.RAFS_FLAG_COMPRESSION_LZ4, 'lz4_block'], [0x40n, 'gzip'], [C.RAFS_FLAG_COMPRESSION_ZSTD, 'zstd']];

function need(cond: boolean, message: string): void {
  if (!cond) throw new ImageError(message);
}

export function parseSuper(boot: Buffer): SuperInfo {
  need(boot.length >= 2 * C.BLOCK_SIZE, `bootstrap is only ${boot.length} bytes`);
  need(boot.length % C.BLOCK_SIZE === 0, `bootstrap size ${boot.length} is not a multiple of 4096`);
  const o = C.EROFS_SUPER_OFFSET;
  need(boot.readUInt32LE(o) === C.EROFS_SUPER_MAGIC, `bad EROFS magic 0x${boot.readUInt32LE(o).toString(16)}`);
  const compat = boot.readUInt32LE(o + 8);
  need((compat & C.EROFS_FEATURE_COMPAT_RAFS_V6) !== 0, `feature_compat 0x${compat.toString(16)} lacks the RAFS v6 bit`);
  need(boot.readUInt8(o + 12) === C.BLOCK_BITS, `block size bits ${boot.readUInt8(o + 12)} (want 12)`);
  need(boot.readUInt16LE(o + 88) * C.DEVICE_SLOT_SIZE === C.DEVICE_TABLE_OFFSET, `device table slot offset ${boot.readUInt16LE(o + 88)} (want 11)`);
  const e = C.RAFS_EXT_SUPER_OFFSET;
  const flags = boot.readBigUInt64LE(e);
  const comps = COMPRESSOR_NAMES.filter(([bit]) => (flags & bit) !== 0n);
  need(comps.length === 1, `ext superblock flags 0x${flags.toString(16)} name ${comps.length} compressors`);
  const hashes = [C.RAFS_FLAG_HASH_BLAKE3, C.RAFS_FLAG_HASH_SHA256].filter((bit) => (flags & bit) !== 0n);
  need(hashes.length === 1, `ext superblock flags 0x${flags.toString(16)} name ${hashes.length} digesters`);
  const chunkSize = boot.readUInt32LE(e + 20);
  need(chunkSize >= C.BLOCK_SIZE && chunkSize <= C.MAX_CHUNK_SIZE && (chunkSize & (chunkSize - 1)) === 0, `bad chunk size ${chunkSize}`);
  const info: SuperInfo = {
    compat, incompat: boot.readUInt32LE(o + 80), rootNid: boot.readUInt16LE(o + 14),
    inos: Number(boot.readBigUInt64LE(o + 16)), buildTimeSec: Number(boot.readBigUInt64LE(o + 24)),
    buildTimeNsec: boot.readUInt32LE(o + 32), blocks: boot.readUInt32LE(o + 36), metaBlkaddr: boot.readUInt32LE(o + 40),
    uuid: boot.subarray(o + 48, o + 64).toString('hex'), extraDevices: boot.readUInt16LE(o + 86), flags,
    compressor: comps[0][1], digester: hashes[0] === C.RAFS_FLAG_HASH_BLAKE3 ? 'blake3' : 'sha256', chunkSize,
    chunkTableOffset: Number(boot.readBigUInt64LE(e + 24)), chunkTableSize: Number(boot.readBigUInt64LE(e + 32)),
  };
  need(info.incompat === (C.EROFS_FEATURE_INCOMPAT_CHUNKED_FILE | C.EROFS_FEATURE_INCOMPAT_DEVICE_TABLE), `feature_incompat 0x${info.incompat.toString(16)} (want 0xc)`);
  need(info.chunkTableSize % C.CHUNK_INFO_SIZE === 0 && info.chunkTableOffset + info.chunkTableSize <= boot.length, 'chunk table lies outside the bootstrap');
  return info;
}

export function parseBlobTable(boot: Buffer, sb: SuperInfo): BlobInfo[] {
  const e = C.RAFS_EXT_SUPER_OFFSET;
  const offset = Number(boot.readBigUInt64LE(e + 8));
  const size = boot.readUInt32LE(e + 16);
  need(offset % C.BLOCK_SIZE === 0 && offset >= C.BLOCK_SIZE && size % C.BLOB_TABLE_ENTRY_SIZE === 0 && offset + size <= boot.length,
    `blob table at ${offset} size ${size} is invalid`);
  const blobs: BlobInfo[] = [];
  for (let i = 0; i < size / C.BLOB_TABLE_ENTRY_SIZE; i++) {
    const o = offset + i * C.BLOB_TABLE_ENTRY_SIZE;
    blobs.push({
      index: boot.readUInt32LE(o + 64), blobId: boot.subarray(o, o + 64).toString('latin1').replace(/\0+$/, ''),
      chunkSize: boot.readUInt32LE(o + 68), chunkCount: boot.readUInt32LE(o + 72), compressor: boot.readUInt32LE(o + 76),
      digester: boot.readUInt32LE(o + 80), features: boot.readUInt32LE(o + 84),
      compressedSize: Number(boot.readBigUInt64LE(o + 88)), uncompressedSize: Number(boot.readBigUInt64LE(o + 96)),
      tocSize: boot.readUInt32LE(o + 104), ciOffset: Number(boot.readBigUInt64LE(o + 112)),
      ciSize: Number(boot.readBigUInt64LE(o + 120)), tocDigest: boot.subarray(o + 136, o + 168).toString('hex'),
    });
    need(blobs[i].index === i, `blob table entry ${i} says blob_index ${blobs[i].index}`);
  }
  need(sb.extraDevices === blobs.length, `${sb.extraDevices} extra devices but ${blobs.length} blobs`);
  blobs.forEach((b, i) => {
    const tag = boot.subarray(C.DEVICE_TABLE_OFFSET + i * C.DEVICE_SLOT_SIZE, C.DEVICE_TABLE_OFFSET + i * C.DEVICE_SLOT_SIZE + 64).toString('latin1').replace(/\0+$/, '');
    need(tag === b.blobId, `device slot ${i} names "${tag}" but the blob table names "${b.blobId}"`);
  });
  return blobs;
}

export function parseInode(boot: Buffer, sb: SuperInfo, nid: number): InodeInfo {
  const offset = sb.metaBlkaddr * C.BLOCK_SIZE + nid * C.INODE_SLOT_SIZE;
  need(offset + C.INODE_COMPACT_SIZE <= boot.length, `nid ${nid} lies outside the bootstrap`);
  const format = boot.readUInt16LE(offset);
  const extended = (format & 1) === 1;
  need(offset + (extended ? C.INODE_EXTENDED_SIZE : C.INODE_COMPACT_SIZE) <= boot.length, `nid ${nid} lies outside the bootstrap`);
  const icount = boot.readUInt16LE(offset + 2);
  const xattrSize = icount === 0 ? 0 : C.XATTR_IBODY_HEADER_SIZE + 4 * (icount - 1);
  const base = {
    nid, offset, extended, layout: (format >> 1) & 7, xattrSize, mode: boot.readUInt16LE(offset + 4),
    iu: boot.readUInt32LE(offset + 16), ino: boot.readUInt32LE(offset + 20),
  };
  const info: InodeInfo = extended
    ? { ...base, size: Number(boot.readBigUInt64LE(offset + 8)), uid: boot.readUInt32LE(offset + 24), gid: boot.readUInt32LE(offset + 28),
      mtimeSec: Number(boot.readBigUInt64LE(offset + 32)), mtimeNsec: boot.readUInt32LE(offset + 40), nlink: boot.readUInt32LE(offset + 44), dataOffset: 0 }
    : { ...base, size: boot.readUInt32LE(offset + 8), uid: boot.readUInt16LE(offset + 24), gid: boot.readUInt16LE(offset + 26),
      mtimeSec: sb.buildTimeSec, mtimeNsec: sb.buildTimeNsec, nlink: boot.readUInt16LE(offset + 6), dataOffset: 0 };
  info.dataOffset = offset + (extended ? C.INODE_EXTENDED_SIZE : C.INODE_COMPACT_SIZE) + xattrSize;
  need(info.dataOffset <= boot.length, `nid ${nid}: xattrs run past the bootstrap`);
  return info;
}

/** The inode's flat data (directory or symlink bytes). */
export function flatData(boot: Buffer, ino: InodeInfo): Buffer {
  need(ino.layout === C.LAYOUT_FLAT_PLAIN || ino.layout === C.LAYOUT_FLAT_INLINE, `nid ${ino.nid}: layout ${ino.layout} is not flat`);
  const out = Buffer.alloc(ino.size);
  const full = ino.layout === C.LAYOUT_FLAT_INLINE ? Math.floor(ino.size / C.BLOCK_SIZE) * C.BLOCK_SIZE : ino.size;
  const start = ino.iu * C.BLOCK_SIZE;
  need(full === 0 || start + full <= boot.length, `nid ${ino.nid}: data blocks lie outside the bootstrap`);
  boot.copy(out, 0, start, start + full);
  const tail = ino.size - full;
  if (tail > 0) {
    need(ino.dataOffset % C.BLOCK_SIZE + tail <= C.BLOCK_SIZE, `nid ${ino.nid}: inline data crosses a block boundary`);
    boot.copy(out, full, ino.dataOffset, ino.dataOffset + tail);
  }
  return out;
}

export interface RawDirent {
  name: Buffer;
  nid: number;
  fileType: number;
}

export function parseDir(data: Buffer, nid: number): RawDirent[] {
  const out: RawDirent[] = [];
  for (let base = 0; base < data.length; base += C.BLOCK_SIZE) {
    const end = Math.min(base + C.BLOCK_SIZE, data.length);
    need(end - base >= C.DIRENT_SIZE, `dir nid ${nid}: block at ${base} too small`);
    const count = data.readUInt16LE(base + 8) / C.DIRENT_SIZE;
    need(Number.isInteger(count) && count > 0 && base + count * C.DIRENT_SIZE <= end, `dir nid ${nid}: bad first nameoff in block ${base / C.BLOCK_SIZE}`);
    for (let i = 0; i < count; i++) {
      const at = base + i * C.DIRENT_SIZE;
      const nameOff = data.readUInt16LE(at + 8);
      const nameEnd = i + 1 < count ? data.readUInt16LE(at + C.DIRENT_SIZE + 8) : end - base;
      need(nameOff < nameEnd && base + nameEnd <= end, `dir nid ${nid}: bad nameoff ${nameOff} of entry ${i}`);
      let name = data.subarray(base + nameOff, base + nameEnd);
      const nul = name.indexOf(0);
      if (nul >= 0) name = name.subarray(0, nul);
      out.push({ name, nid: Number(data.readBigUInt64LE(at)), fileType: data.readUInt8(at + 10) });
    }
  }
  return out;
}
