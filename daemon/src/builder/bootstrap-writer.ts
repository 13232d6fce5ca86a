/**
 * Serializes a laid-out tree into a RAFS v6 bootstrap: EROFS superblock (compat bit RAFS_V6, one extra
 * device), RAFS ext superblock, the device slot and blob table naming the blob, inodes with inline
 * xattrs, inline tails and 8-byte chunk addresses, directory blocks and the chunk info table. The uuid
 * is derived from the finished bytes, so equal inputs give equal bootstraps.
 */
import * as C from './constants';
import { ChunkRecord } from './blob-writer';
import { encodeDir, DirEntryOut } from './dirent';
import { Layout, Placed, alignUp } from './layout';
import { Inode, isDir } from './tree';
import { xattrCount } from './xattr';
import { sha256, Compressor, Digester } from './digest';

export interface BlobEntryFields {
  blobId: string;
  chunkSize: number;
  chunks: readonly ChunkRecord[];
  compressor: Compressor;
  digester: Digester;
  features: number;
  compressedSize: number;
  uncompressedSize: number;
  tocSize: number;
  tocDigest: Buffer;
  ciOffset: number;
  ciSize: number;
}

export interface BootstrapParams {
  layout: Layout;
  root: Inode;
  blob: BlobEntryFields;
  metaBlkaddr: number;
  buildTimeSec: number;
  buildTimeNsec: number;
  hasXattr: boolean;
}

const COMPRESSOR_NUMBER: Record<Compressor, number> = { none: C.BLOB_COMPRESSOR_NONE, zstd: C.BLOB_COMPRESSOR_ZSTD, lz4_block: C.BLOB_COMPRESSOR_LZ4_BLOCK };
const COMPRESSOR_FLAG: Record<Compressor, bigint> = { none: C.RAFS_FLAG_COMPRESSION_NONE, zstd: C.RAFS_FLAG_COMPRESSION_ZSTD, lz4_block: C.RAFS_FLAG_COMPRESSION_LZ4 };

export function fileType(mode: number): number {
  switch (mode & C.S_IFMT) {
    case C.S_IFREG: return C.FT_REG;
    case C.S_IFDIR: return C.FT_DIR;
    case C.S_IFCHR: return C.FT_CHRDEV;
    case C.S_IFBLK: return C.FT_BLKDEV;
    case C.S_IFIFO: return C.FT_FIFO;
    case C.S_IFSOCK: return C.FT_SOCK;
    case C.S_IFLNK: return C.FT_SYMLINK;
    default: throw new Error(`unsupported file mode 0${mode.toString(8)}`);
  }
}

/** Linux new_encode_dev(). */
export function encodeDev(major: number, minor: number): number {
  return ((minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12)) >>> 0;
}

export function writeBootstrap(p: BootstrapParams): Buffer {
  const chunkTableOffset = alignUp(p.layout.blocksEnd, C.BLOCK_SIZE);
  const chunkTableSize = p.blob.chunks.length * C.CHUNK_INFO_SIZE;
  const total = alignUp(chunkTableOffset + chunkTableSize, C.BLOCK_SIZE);
  const buf = Buffer.alloc(Math.max(total, 2 * C.BLOCK_SIZE));
  writeSuperblock(buf, p, buf.length / C.BLOCK_SIZE);
  writeExtSuperblock(buf, p, chunkTableOffset, chunkTableSize);
  writeDeviceSlot(buf, p.blob);
  writeBlobTable(buf, p.blob);
  for (const placed of p.layout.placed) writeInode(buf, placed, p);
  writeChunkTable(buf, chunkTableOffset, p.blob.chunks);
  sha256(buf).copy(buf, C.EROFS_SUPER_OFFSET + 48, 0, 16);
  return buf;
}

function writeSuperblock(buf: Buffer, p: BootstrapParams, blocks: number): void {
  const o = C.EROFS_SUPER_OFFSET;
  buf.writeUInt32LE(C.EROFS_SUPER_MAGIC, o);
  buf.writeUInt32LE(C.EROFS_FEATURE_COMPAT_RAFS_V6, o + 8);
  buf.writeUInt8(C.BLOCK_BITS, o + 12);
  buf.writeUInt16LE(p.layout.byInode.get(p.root)!.nid, o + 14);
  buf.writeBigUInt64LE(BigInt(p.layout.placed.length), o + 16);
  buf.writeBigUInt64LE(BigInt(p.buildTimeSec), o + 24);
  buf.writeUInt32LE(p.buildTimeNsec, o + 32);
  buf.writeUInt32LE(blocks, o + 36);
  buf.writeUInt32LE(p.metaBlkaddr, o + 40);
  buf.writeUInt32LE(C.EROFS_FEATURE_INCOMPAT_CHUNKED_FILE | C.EROFS_FEATURE_INCOMPAT_DEVICE_TABLE, o + 80);
  buf.writeUInt16LE(1, o + 86);
  buf.writeUInt16LE(C.DEVICE_TABLE_OFFSET / C.DEVICE_SLOT_SIZE, o + 88);
}

function writeExtSuperblock(buf: Buffer, p: BootstrapParams, chunkTableOffset: number, chunkTableSize: number): void {
  const o = C.RAFS_EXT_SUPER_OFFSET;
  let flags = COMPRESSOR_FLAG[p.blob.compressor] | C.RAFS_FLAG_EXPLICIT_UID_GID | C.RAFS_FLAG_INLINED_CHUNK_DIGEST;
  flags |= p.blob.digester === 'blake3' ? C.RAFS_FLAG_HASH_BLAKE3 : C.RAFS_FLAG_HASH_SHA256;
  if (p.hasXattr) flags |= C.RAFS_FLAG_HAS_XATTR;
  buf.writeBigUInt64LE(flags, o);
  buf.writeBigUInt64LE(BigInt(C.BLOB_TABLE_OFFSET), o + 8);
  buf.writeUInt32LE(C.BLOB_TABLE_ENTRY_SIZE, o + 16);
  buf.writeUInt32LE(p.blob.chunkSize, o + 20);
  buf.writeBigUInt64LE(BigInt(chunkTableOffset), o + 24);
  buf.writeBigUInt64LE(BigInt(chunkTableSize), o + 32);
}

function writeDeviceSlot(buf: Buffer, blob: BlobEntryFields): void {
  const o = C.DEVICE_TABLE_OFFSET;
  buf.write(blob.blobId, o, 64, 'ascii');
  buf.writeUInt32LE(blob.uncompressedSize / C.BLOCK_SIZE, o + 64);
}

function writeBlobTable(buf: Buffer, b: BlobEntryFields): void {
  const o = C.BLOB_TABLE_OFFSET;
  buf.write(b.blobId, o, 64, 'ascii');
  buf.writeUInt32LE(0, o + 64);
  buf.writeUInt32LE(b.chunkSize, o + 68);
  buf.writeUInt32LE(b.chunks.length, o + 72);
  buf.writeUInt32LE(COMPRESSOR_NUMBER[b.compressor], o + 76);
  buf.writeUInt32LE(b.digester === 'blake3' ? C.BLOB_DIGESTER_BLAKE3 : C.BLOB_DIGESTER_SHA256, o + 80);
  buf.writeUInt32LE(b.features >>> 0, o + 84);
  buf.writeBigUInt64LE(BigInt(b.compressedSize), o + 88);
  buf.writeBigUInt64LE(BigInt(b.uncompressedSize), o + 96);
  buf.writeUInt32LE(b.tocSize, o + 104);
  buf.writeUInt32LE(0, o + 108);
  buf.writeBigUInt64LE(BigInt(b.ciOffset), o + 112);
  buf.writeBigUInt64LE(BigInt(b.ciSize), o + 120);
  buf.writeBigUInt64LE(BigInt(b.ciSize), o + 128);
  b.tocDigest.copy(buf, o + 136, 0, 32);
}

function iu(placed: Placed, p: BootstrapParams): number {
  const inode = placed.inode;
  const type = inode.mode & C.S_IFMT;
  if (placed.layout === C.LAYOUT_CHUNK_BASED) return C.CHUNK_FORMAT_INDEXES | (Math.log2(p.blob.chunkSize) - C.BLOCK_BITS);
  if (type === C.S_IFCHR || type === C.S_IFBLK) return encodeDev(inode.rdevMajor, inode.rdevMinor);
  return placed.fullBlocks > 0 ? placed.startBlock : 0;
}

function writeInode(buf: Buffer, placed: Placed, p: BootstrapParams): void {
  const inode = placed.inode;
  const o = placed.offset;
  const format = (placed.layout << 1) | (placed.extended ? 1 : 0);
  buf.writeUInt16LE(format, o);
  buf.writeUInt16LE(xattrCount(placed.xattrBody.length), o + 2);
  buf.writeUInt16LE(inode.mode & 0xffff, o + 4);
  if (placed.extended) {
    buf.writeBigUInt64LE(BigInt(placed.size), o + 8);
    buf.writeUInt32LE(iu(placed, p), o + 16);
    buf.writeUInt32LE(placed.ino, o + 20);
    buf.writeUInt32LE(inode.uid >>> 0, o + 24);
    buf.writeUInt32LE(inode.gid >>> 0, o + 28);
    buf.writeBigUInt64LE(BigInt(inode.mtimeSec), o + 32);
    buf.writeUInt32LE(inode.mtimeNsec, o + 40);
    buf.writeUInt32LE(placed.nlink, o + 44);
  } else {
    buf.writeUInt16LE(placed.nlink, o + 6);
    buf.writeUInt32LE(placed.size, o + 8);
    buf.writeUInt32LE(iu(placed, p), o + 16);
    buf.writeUInt32LE(placed.ino, o + 20);
    buf.writeUInt16LE(inode.uid, o + 24);
    buf.writeUInt16LE(inode.gid, o + 26);
  }
  const isize = (placed.extended ? C.INODE_EXTENDED_SIZE : C.INODE_COMPACT_SIZE) + placed.xattrBody.length;
  placed.xattrBody.copy(buf, o + (placed.extended ? C.INODE_EXTENDED_SIZE : C.INODE_COMPACT_SIZE));
  if (placed.layout === C.LAYOUT_CHUNK_BASED) {
    let at = alignUp(o + isize, 8);
    for (const chunk of inode.chunks!) {
      writeChunkIndex(buf, at, chunk.ciIndex, p.blob.chunks);
      at += C.CHUNK_INDEX_SIZE;
    }
    return;
  }
  const data = dataOf(placed, p);
  if (!data) return;
  const full = placed.fullBlocks * C.BLOCK_SIZE;
  if (placed.fullBlocks > 0) data.copy(buf, placed.startBlock * C.BLOCK_SIZE, 0, Math.min(full, data.length));
  if (placed.tail > 0) data.copy(buf, o + isize, full);
}

/** Chunk address: ci index (24 bits split), blob index + 1 as device id, block in the uncompressed cache. */
function writeChunkIndex(buf: Buffer, at: number, ciIndex: number, chunks: readonly ChunkRecord[]): void {
  if (ciIndex < 0) {
    buf.writeUInt32LE(C.NULL_BLKADDR, at + 4);
    return;
  }
  buf.writeUInt16LE(ciIndex & 0xffff, at);
  buf.writeUInt8(1, at + 2);
  buf.writeUInt8((ciIndex >> 16) & 0xff, at + 3);
  buf.writeUInt32LE(chunks[ciIndex].uoff / C.BLOCK_SIZE, at + 4);
}

function dataOf(placed: Placed, p: BootstrapParams): Buffer | undefined {
  const inode = placed.inode;
  if (isDir(inode)) {
    const entries: DirEntryOut[] = placed.dirNames!.map((name) => {
      const key = name.toString('latin1');
      if (key === '.') return { name, nid: placed.nid, fileType: C.FT_DIR };
      if (key === '..') return { name, nid: placed.parent!.nid, fileType: C.FT_DIR };
      const child = p.layout.byInode.get(inode.children!.get(key)!)!;
      return { name, nid: child.nid, fileType: fileType(child.inode.mode) };
    });
    return encodeDir(entries, placed.dirBlocks!, placed.size);
  }
  return inode.symlinkTarget;
}

function writeChunkTable(buf: Buffer, offset: number, chunks: readonly ChunkRecord[]): void {
  chunks.forEach((c, i) => {
    const o = offset + i * C.CHUNK_INFO_SIZE;
    c.digest.copy(buf, o, 0, 32);
    buf.writeUInt32LE(0, o + 32);
    buf.writeUInt32LE(c.compressed ? C.CHUNK_FLAG_COMPRESSED : 0, o + 36);
    buf.writeUInt32LE(c.csize, o + 40);
    buf.writeUInt32LE(c.usize, o + 44);
    buf.writeBigUInt64LE(BigInt(c.coff), o + 48);
    buf.writeBigUInt64LE(BigInt(c.uoff), o + 56);
    buf.writeBigUInt64LE(BigInt(c.fileOffset), o + 64);
    buf.writeUInt32LE(i, o + 72);
  });
}
