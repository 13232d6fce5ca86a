/**
 * Compact (32-byte) and extended (64-byte) EROFS inodes. decodeInode() needs the inode's bytes (64, or fewer
 * at the end of the image if it is compact) and the superblock's build time (compact inodes carry no mtime of
 * their own: mtime = build_time + the u32 at offset 12, as the kernel does).
 */
import { StructView } from './bytes';

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

export function decodeInode(buf: Buffer, nid: number, offset: number, base: InodeTimeBase): Inode {
  const v = new StructView(buf, `inode ${nid}`, offset);
  const format = v.u16(0);
  const extended = (format & 1) === 1;
  const layout = (format >> 1) & 0x7;
  if ((format & ~0xf) !== 0) throw v.error(`unknown i_format bits 0x${format.toString(16)}`);
  if (layout > LAYOUT_CHUNK_BASED) throw v.error(`unknown data layout ${layout}`);
  const xattrIcount = v.u16(2);
  const mode = v.u16(4);
  const common = { nid, offset, extended, layout, xattrIcount, xattrSize: xattrBodySize(xattrIcount), mode };
  if (!extended) {
    v.need(0, 32);
    return {
      ...common, inodeSize: 32, nlink: v.u16(6), size: v.u32(8), iu: v.u32(16), ino: v.u32(20),
      uid: v.u16(24), gid: v.u16(26), mtime: base.buildTime + v.u32(12), mtimeNsec: base.buildTimeNsec,
    };
  }
  v.need(0, 64);
  const mtimeNsec = v.u32(40);
  if (mtimeNsec >= 1e9) throw v.error(`mtime_nsec ${mtimeNsec} out of range`);
  return {
    ...common, inodeSize: 64, size: v.u64(8, 'i_size'), iu: v.u32(16), ino: v.u32(20),
    uid: v.u32(24), gid: v.u32(28), mtime: v.u64(32, 'mtime'), mtimeNsec, nlink: v.u32(44),
  };
}

/** Device number of a char/block inode, as the kernel decodes i_u (new_decode_dev). */
export function decodeRdev(iu: number): { major: number; minor: number } {
  return { major: (iu & 0xfff00) >>> 8, minor: (iu & 0xff) | ((iu >>> 12) & 0xfff00) };
}
