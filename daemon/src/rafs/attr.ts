/** Inode -> FUSE attributes, matching what the kernel's erofs driver reports for the same image. */
import { Attr } from '../fs/filesystem';
import { Inode, S_IFBLK, S_IFCHR, S_IFMT } from './layout';

export function attrOf(inode: Inode, blockSize: number): Attr {
  const type = inode.mode & S_IFMT;
  const isDev = type === S_IFCHR || type === S_IFBLK;
  return {
    // The kernel's erofs reports st_ino = nid (erofs_squash_ino on 64-bit hosts).
    ino: inode.nid,
    size: inode.size,
    // round_up(size, blksz) >> 9, as erofs_read_inode sets i_blocks for uncompressed layouts.
    blocks: Math.ceil(inode.size / blockSize) * (blockSize / 512),
    atimeSec: inode.mtime,
    atimeNsec: inode.mtimeNsec,
    mtimeSec: inode.mtime,
    mtimeNsec: inode.mtimeNsec,
    ctimeSec: inode.mtime,
    ctimeNsec: inode.mtimeNsec,
    mode: inode.mode,
    nlink: inode.nlink,
    uid: inode.uid,
    gid: inode.gid,
    // i_u holds the device in the kernel's new_encode_dev form, which is what FUSE's attr.rdev carries.
    rdev: isDev ? inode.iu : 0,
    blksize: blockSize,
  };
}
