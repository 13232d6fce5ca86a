/**
 * The EROFS superblock (128 bytes at 1024), the RAFS v6 extended superblock (256 bytes at 1152) and the
 * device slots. Pure decoding plus the sanity checks that need nothing but the struct itself.
 */
import { StructView } from './bytes';

export const SUPERBLOCK_OFFSET = 1024;
export const SUPERBLOCK_SIZE = 128;
export const EROFS_MAGIC = 0xe0f5e1e2;
export const EXT_SUPERBLOCK_OFFSET = 1152;
export const EXT_SUPERBLOCK_SIZE = 256;
export const DEVICE_SLOT_SIZE = 128;

export const COMPAT_SB_CHKSUM = 0x1;
export const COMPAT_RAFS_V6 = 0x40000000;
export const INCOMPAT_CHUNKED_FILE = 0x4;
export const INCOMPAT_DEVICE_TABLE = 0x8;
/** Incompat bits we can read: the compression ones only matter for inodes with compressed layouts. */
const INCOMPAT_KNOWN = 0x1 | 0x2 | INCOMPAT_CHUNKED_FILE | INCOMPAT_DEVICE_TABLE | 0x10 | 0x20 | 0x40 | 0x80;

export interface Superblock {
  featureCompat: number;
  blkszbits: number;
  blockSize: number;
  rootNid: number;
  inos: number;
  buildTime: number;
  buildTimeNsec: number;
  blocks: number;
  metaBlkaddr: number;
  xattrBlkaddr: number;
  featureIncompat: number;
  extraDevices: number;
  devtSlotoff: number;
  isRafsV6: boolean;
}

export function decodeSuperblock(buf: Buffer): Superblock {
  const v = new StructView(buf, 'superblock', SUPERBLOCK_OFFSET);
  v.need(0, SUPERBLOCK_SIZE);
  const magic = v.u32(0);
  if (magic !== EROFS_MAGIC) throw v.error(`bad magic 0x${magic.toString(16)} (not an EROFS/RAFS v6 image)`);
  const blkszbits = v.u8(12);
  if (blkszbits < 9 || blkszbits > 16) throw v.error(`unsupported block size 2^${blkszbits}`);
  const featureIncompat = v.u32(80);
  const unknown = featureIncompat & ~INCOMPAT_KNOWN;
  if (unknown) throw v.error(`unsupported incompatible features 0x${unknown.toString(16)}`);
  const featureCompat = v.u32(8);
  return {
    featureCompat,
    blkszbits,
    blockSize: 1 << blkszbits,
    rootNid: v.u16(14),
    inos: v.u64(16, 'inos'),
    buildTime: v.u64(24, 'build_time'),
    buildTimeNsec: v.u32(32),
    blocks: v.u32(36),
    metaBlkaddr: v.u32(40),
    xattrBlkaddr: v.u32(44),
    featureIncompat,
    extraDevices: featureIncompat & INCOMPAT_DEVICE_TABLE ? v.u16(86) : 0,
    devtSlotoff: v.u16(88),
    isRafsV6: (featureCompat & COMPAT_RAFS_V6) !== 0,
  };
}

/** Device-id mask for 8-byte chunk indexes: roundup_pow_of_two(extra_devices + 1) - 1. */
export function deviceIdMask(extraDevices: number): number {
  let p = 1;
  while (p < extraDevices + 1) p <<= 1;
  return p - 1;
}

export const EXT_COMPRESS_NONE = 0x1;
export const EXT_COMPRESS_LZ4 = 0x2;
export const EXT_DIGEST_BLAKE3 = 0x4;
export const EXT_DIGEST_SHA256 = 0x8;
export const EXT_COMPRESS_GZIP = 0x40;
export const EXT_COMPRESS_ZSTD = 0x80;
export const EXT_INLINED_CHUNK_DIGEST = 0x100;
export const EXT_TARFS = 0x200;

export interface ExtSuperblock {
  flags: number;
  blobTableOffset: number;
  blobTableSize: number;
  chunkSize: number;
  chunkTableOffset: number;
  chunkTableSize: number;
  prefetchTableOffset: number;
  prefetchTableSize: number;
}

export function decodeExtSuperblock(buf: Buffer): ExtSuperblock {
  const v = new StructView(buf, 'RAFS v6 extended superblock', EXT_SUPERBLOCK_OFFSET);
  v.need(0, 56);
  const chunkSize = v.u32(20);
  if (chunkSize !== 0 && (chunkSize & (chunkSize - 1)) !== 0) throw v.error(`chunk size ${chunkSize} is not a power of two`);
  return {
    flags: Number(v.big64(0) & 0xffffffffn),
    blobTableOffset: v.u64(8, 'blob_table_offset'),
    blobTableSize: v.u32(16),
    chunkSize,
    chunkTableOffset: v.u64(24, 'chunk_table_offset'),
    chunkTableSize: v.u64(32, 'chunk_table_size'),
    prefetchTableOffset: v.u64(40, 'prefetch_table_offset'),
    prefetchTableSize: v.u32(48),
  };
}

export interface DeviceSlot {
  /** RAFS: the blob id (64 hex chars); mkfs.erofs 1.5: empty. */
  tag: string;
  blocks: number;
  mappedBlkaddr: number;
}

export function decodeDeviceSlot(buf: Buffer, offset: number): DeviceSlot {
  const v = new StructView(buf, 'device slot', offset);
  v.need(0, 72);
  return { tag: v.cstr(0, 64), blocks: v.u32(64), mappedBlkaddr: v.u32(68) };
}
