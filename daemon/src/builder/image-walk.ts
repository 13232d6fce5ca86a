/**
 * Walks a bootstrap's tree from the root, checking each directory (sorted names, "." and "..", types
 * matching the child inodes, nids inside the image) and each chunk-based file's index array against the
 * blob table. Returns counts and every chunk reference; throws ImageError at the first problem.
 */
import * as C from './constants';
import { fileType } from './bootstrap-writer';
import { BlobInfo, ImageError, InodeInfo, SuperInfo, flatData, parseDir, parseInode } from './image-reader';

export interface WalkStats {
  inodes: number;
  directories: number;
  files: number;
  symlinks: number;
  devices: number;
  fifos: number;
  sockets: number;
  hardLinks: number;
  chunkRefs: number;
  holes: number;
  xattrInodes: number;
}

export interface ChunkUse {
  blobIndex: number;
  ciIndex: number;
  blkaddr: number;
  path: string;
}

export function walkImage(boot: Buffer, sb: SuperInfo, blobs: BlobInfo[], onChunk: (use: ChunkUse) => void): WalkStats {
  const stats: WalkStats = { inodes: 0, directories: 0, files: 0, symlinks: 0, devices: 0, fifos: 0, sockets: 0, hardLinks: 0, chunkRefs: 0, holes: 0, xattrInodes: 0 };
  const seen = new Set<number>();
  const mask = (1 << Math.ceil(Math.log2(sb.extraDevices + 1))) - 1;
  const queue: Array<[number, number, string]> = [[sb.rootNid, sb.rootNid, '/']];
  for (let next = 0; next < queue.length; next++) {
    const [nid, parentNid, path] = queue[next];
    if (seen.has(nid)) {
      stats.hardLinks += 1;
      continue;
    }
    seen.add(nid);
    const ino = parseInode(boot, sb, nid);
    stats.inodes += 1;
    if (ino.xattrSize > 0) stats.xattrInodes += 1;
    const type = ino.mode & C.S_IFMT;
    if (type === C.S_IFDIR) {
      stats.directories += 1;
      const entries = parseDir(flatData(boot, ino), nid);
      for (let i = 1; i < entries.length; i++) {
        if (Buffer.compare(entries[i - 1].name, entries[i].name) >= 0) throw new ImageError(`${path}: entries not sorted ("${entries[i - 1].name}" before "${entries[i].name}")`);
      }
      const dot = entries.find((e) => e.name.toString('latin1') === '.');
      const dotdot = entries.find((e) => e.name.toString('latin1') === '..');
      if (dot?.nid !== nid) throw new ImageError(`${path}: "." is missing or points to nid ${dot?.nid}`);
      if (dotdot?.nid !== parentNid) throw new ImageError(`${path}: ".." points to nid ${dotdot?.nid}, parent is ${parentNid}`);
      for (const e of entries) {
        const name = e.name.toString('latin1');
        if (name === '.' || name === '..') continue;
        const child = parseInode(boot, sb, e.nid);
        if (fileType(child.mode) !== e.fileType) throw new ImageError(`${path}/${name}: dirent type ${e.fileType} but inode mode 0${child.mode.toString(8)}`);
        queue.push([e.nid, nid, path === '/' ? `/${name}` : `${path}/${name}`]);
      }
    } else if (type === C.S_IFREG) {
      stats.files += 1;
      checkChunks(boot, sb, blobs, ino, path, mask, stats, onChunk);
    } else if (type === C.S_IFLNK) {
      stats.symlinks += 1;
      if (flatData(boot, ino).length === 0) throw new ImageError(`${path}: empty symlink target`);
    } else if (type === C.S_IFCHR || type === C.S_IFBLK) stats.devices += 1;
    else if (type === C.S_IFIFO) stats.fifos += 1;
    else if (type === C.S_IFSOCK) stats.sockets += 1;
    else throw new ImageError(`${path}: unknown file type in mode 0${ino.mode.toString(8)}`);
  }
  if (stats.inodes !== sb.inos) throw new ImageError(`superblock counts ${sb.inos} inodes, the tree has ${stats.inodes}`);
  return stats;
}

function checkChunks(boot: Buffer, sb: SuperInfo, blobs: BlobInfo[], ino: InodeInfo, path: string, mask: number,
  stats: WalkStats, onChunk: (use: ChunkUse) => void): void {
  if (ino.layout !== C.LAYOUT_CHUNK_BASED) throw new ImageError(`${path}: regular file with layout ${ino.layout}, not chunk-based`);
  if ((ino.iu & C.CHUNK_FORMAT_INDEXES) === 0) throw new ImageError(`${path}: chunk format 0x${ino.iu.toString(16)} lacks 8-byte indexes`);
  const chunkBits = C.BLOCK_BITS + (ino.iu & 0x1f);
  if (2 ** chunkBits !== sb.chunkSize) throw new ImageError(`${path}: chunk bits ${chunkBits} differ from chunk size ${sb.chunkSize}`);
  const count = Math.ceil(ino.size / sb.chunkSize);
  const start = Math.ceil(ino.dataOffset / 8) * 8;
  if (start + count * C.CHUNK_INDEX_SIZE > boot.length) throw new ImageError(`${path}: chunk indexes run past the bootstrap`);
  for (let i = 0; i < count; i++) {
    const at = start + i * C.CHUNK_INDEX_SIZE;
    const blkaddr = boot.readUInt32LE(at + 4);
    stats.chunkRefs += 1;
    if (blkaddr === C.NULL_BLKADDR) {
      stats.holes += 1;
      continue;
    }
    const device = boot.readUInt8(at + 2) & mask;
    const ciIndex = boot.readUInt16LE(at) | (boot.readUInt8(at + 3) << 16);
    const blobIndex = boot.readUInt8(at + 2) - 1;
    if (device === 0 || blobIndex < 0 || blobIndex >= blobs.length) throw new ImageError(`${path}: chunk ${i} names device ${device}`);
    if (ciIndex >= blobs[blobIndex].chunkCount) throw new ImageError(`${path}: chunk ${i} has ci index ${ciIndex} of ${blobs[blobIndex].chunkCount}`);
    onChunk({ blobIndex, ciIndex, blkaddr, path: `${path}#${i}` });
  }
}
