/**
 * Compact (32-byte) and extended (64-byte) EROFS inodes. decodeInode() needs the inode's bytes (64, or fewer
 * at the end of the image if it is compact) and the superblock's build time (compact inodes carry no mtime of
 * their own: mtime = build_time + the u32 at offset 12, as the kernel does).
 */
import { MAX_SAFE_HIGH, StructView } from './bytes';

export const LAYOUT_FLAT_PLAIN = 0;
export const LAYOUT_COMPRESSED_FULL = 1;
export const LAYOUT_FLAT_INLINE = 2;
export const LAYOUT_COMPRESSED_COMPACT = 3;
export const LAYOUT_CHUNK_BASED = 4;

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;
export const S_IFSOCK = 0o140000;

export interface Inode {
  nid: number;
  /** Absolute byte offset of the inode in the metadata image. */
  offset: number;
  extended: boolean;
  inodeSize: number;
  layout: number;
  xattrIcount: number;
  /** Bytes of the xattr body following the inode (0 if none). */
  xattrSize: number;
  mode: number;
  nlink: number;
  size: number;
  /** raw i_u: start block, rdev or chunk format depending on the type/layout. */
  iu: number;
  ino: number;
  uid: number;
  gid: number;
  mtime: number;
  mtimeNsec: number;
}

export interface InodeTimeBase { buildTime: number; buildTimeNsec: number }

export function xattrBodySize(icount: number): number {
  return icount === 0 ? 0 : 12 + 4 * (icount - 1);
}

/**
 * A walk decodes one inode per entry: fields are read straight from the buffer (a StructView is made only to
 * report a problem), and both kinds build objects of one shape, whose fields every caller then reads fast.
 */
export function decodeInode(buf: Buffer, nid: number, offset: number, base: InodeTimeBase): Inode {
  if (buf.length < 32) inodeView(buf, nid, offset).need(0, 32);
  const format = buf.readUInt16LE(0);
  const extended = (format & 1) === 1;
  const layout = (format >> 1) & 0x7;
  if ((format & ~0xf) !== 0) throw inodeView(buf, nid, offset).error(`unknown i_format bits 0x${format.toString(16)}`);
  if (layout > LAYOUT_CHUNK_BASED) throw inodeView(buf, nid, offset).error(`unknown data layout ${layout}`);
  const xattrIcount = buf.readUInt16LE(2);
  const xattrSize = xattrBodySize(xattrIcount);
  const mode = buf.readUInt16LE(4);
  if (!extended) {
    return {
      nid, offset, extended, inodeSize: 32, layout, xattrIcount, xattrSize, mode,
      nlink: buf.readUInt16LE(6), size: buf.readUInt32LE(8), iu: buf.readUInt32LE(16), ino: buf.readUInt32LE(20),
      uid: buf.readUInt16LE(24), gid: buf.readUInt16LE(26), mtime: base.buildTime + buf.readUInt32LE(12),
      mtimeNsec: base.buildTimeNsec,
    };
  }
  if (buf.length < 64) inodeView(buf, nid, offset).need(0, 64);
  const mtimeNsec = buf.readUInt32LE(40);
  if (mtimeNsec >= 1e9) throw inodeView(buf, nid, offset).error(`mtime_nsec ${mtimeNsec} out of range`);
  return {
    nid, offset, extended, inodeSize: 64, layout, xattrIcount, xattrSize, mode,
    nlink: buf.readUInt32LE(44), size: safeU64(buf, 8, 'i_size', nid, offset), iu: buf.readUInt32LE(16), ino: buf.readUInt32LE(20),
    uid: buf.readUInt32LE(24), gid: buf.readUInt32LE(28), mtime: safeU64(buf, 32, 'mtime', nid, offset), mtimeNsec,
  };
}

/** The inode's bytes as a StructView, made only to report what is wrong with them. */
function inodeView(buf: Buffer, nid: number, offset: number): StructView {
  return new StructView(buf, `inode ${nid}`, offset);
}

/** A u64 that must fit a JS number exactly (as StructView.u64). */
function safeU64(buf: Buffer, off: number, field: string, nid: number, offset: number): number {
  const high = buf.readUInt32LE(off + 4);
  if (high > MAX_SAFE_HIGH) throw inodeView(buf, nid, offset).error(`${field} ${buf.readBigUInt64LE(off)} is out of range`);
  return high * 0x1_0000_0000 + buf.readUInt32LE(off);
}

/** Device number of a char/block inode, as the kernel decodes i_u (new_decode_dev). */
export function decodeRdev(iu: number): { major: number; minor: number } {
  return { major: (iu & 0xfff00) >>> 8, minor: (iu & 0xff) | ((iu >>> 12) & 0xfff00) };
}
