/**
 * Decides where every inode goes in the bootstrap: nid (32-byte slot from meta_blkaddr), compact or
 * extended core, data layout (inline tail, plain blocks, chunk indexes) and the blocks of large
 * directories and symlinks. Pure arithmetic over the tree; the bootstrap writer fills the bytes.
 */
import * as C from './constants';
import { packDirBlocks } from './dirent';
import { Inode, compareKeys, isDir, keyBytes } from './tree';
import { encodeXattrs } from './xattr';

export interface Placed {
  inode: Inode;
  ino: number;
  nid: number;
  /** Absolute offset of the inode core in the bootstrap. */
  offset: number;
  extended: boolean;
  layout: number;
  xattrBody: Buffer;
  /** Directories: self and parent, sorted entry names and their block grouping. */
  parent?: Placed;
  dirNames?: Buffer[];
  dirBlocks?: number[][];
  /** Size written in the inode (dirs: packed size). */
  size: number;
  nlink: number;
  /** FLAT_PLAIN / FLAT_INLINE: first data block and how many full blocks. */
  startBlock: number;
  fullBlocks: number;
  /** FLAT_INLINE: bytes kept right after the inode. */
  tail: number;
}

export interface LayoutParams {
  metaBlkaddr: number;
  /** Bytes at the start of the meta area used by the blob table. */
  metaReserved: number;
  buildTimeSec: number;
  buildTimeNsec: number;
  onSkippedXattr: (path: string, name: string) => void;
}

export interface Layout {
  placed: Placed[];
  byInode: Map<Inode, Placed>;
  /** First byte after the last inode (and its inline data / chunk indexes). */
  inodesEnd: number;
  /** First byte after the data blocks of directories and symlinks (block aligned). */
  blocksEnd: number;
}

function dataBytes(inode: Inode, names?: Buffer[]): number {
  if (names) return packDirBlocks(names).size;
  if ((inode.mode & C.S_IFMT) === C.S_IFLNK) return inode.symlinkTarget?.length ?? 0;
  return 0;
}

function needsExtended(p: { inode: Inode; size: number; nlink: number }, params: LayoutParams): boolean {
  const i = p.inode;
  return i.uid > 0xffff || i.gid > 0xffff || p.nlink > 0xffff || p.size > 0xffffffff
    || i.mtimeSec !== params.buildTimeSec || i.mtimeNsec !== params.buildTimeNsec;
}

/** Depth-first, names sorted, every inode once (hard links share the first placement). */
function order(root: Inode): Array<{ inode: Inode; parent?: Inode; path: string }> {
  const out: Array<{ inode: Inode; parent?: Inode; path: string }> = [];
  const seen = new Set<Inode>();
  const stack: Array<{ inode: Inode; parent?: Inode; path: string }> = [{ inode: root, path: '/' }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (seen.has(item.inode)) continue;
    seen.add(item.inode);
    out.push(item);
    const children = item.inode.children;
    if (!children) continue;
    const names = [...children.keys()].sort(compareKeys).reverse();
    for (const name of names) {
      stack.push({ inode: children.get(name)!, parent: item.inode, path: item.path === '/' ? `/${name}` : `${item.path}/${name}` });
    }
  }
  return out;
}

export function layoutInodes(root: Inode, params: LayoutParams): Layout {
  const metaStart = params.metaBlkaddr * C.BLOCK_SIZE;
  let pos = metaStart + params.metaReserved;
  const placed: Placed[] = [];
  const byInode = new Map<Inode, Placed>();
  const items = order(root);
  for (const [index, item] of items.entries()) {
    const inode = item.inode;
    let dirNames: Buffer[] | undefined;
    let nlink = inode.nlink;
    if (isDir(inode)) {
      const keys = ['.', '..', ...inode.children!.keys()].sort(compareKeys);
      dirNames = keys.map(keyBytes);
      nlink = 2 + [...inode.children!.values()].filter(isDir).length;
    }
    const xattrBody = encodeXattrs(inode.xattrs, (name) => params.onSkippedXattr(item.path, name));
    const size = isDir(inode) || (inode.mode & C.S_IFMT) === C.S_IFLNK ? dataBytes(inode, dirNames) : inode.size;
    const extended = needsExtended({ inode, size, nlink }, params);
    const isize = (extended ? C.INODE_EXTENDED_SIZE : C.INODE_COMPACT_SIZE) + xattrBody.length;
    if (isize > C.BLOCK_SIZE) throw new Error(`${item.path}: xattrs too large for one block (${xattrBody.length} bytes)`);
    const p: Placed = {
      inode, ino: index + 1, nid: 0, offset: 0, extended, layout: C.LAYOUT_FLAT_PLAIN, xattrBody,
      dirNames, size, nlink, startBlock: 0, fullBlocks: 0, tail: 0,
    };
    if (dirNames) p.dirBlocks = packDirBlocks(dirNames).blocks;
    let extra = 0;
    const room = (at: number): number => C.BLOCK_SIZE - (at % C.BLOCK_SIZE);
    if (inode.chunks) {
      p.layout = C.LAYOUT_CHUNK_BASED;
      if (room(pos) < isize) pos = alignUp(pos, C.BLOCK_SIZE);
      extra = alignUp(pos + isize, 8) - (pos + isize) + inode.chunks.length * C.CHUNK_INDEX_SIZE;
    } else if (dirNames || (inode.mode & C.S_IFMT) === C.S_IFLNK) {
      const tail = size % C.BLOCK_SIZE;
      p.fullBlocks = Math.floor(size / C.BLOCK_SIZE);
      if (tail > 0 && isize + tail <= C.BLOCK_SIZE) {
        if (room(pos) < isize + tail) pos = alignUp(pos, C.BLOCK_SIZE);
        p.layout = C.LAYOUT_FLAT_INLINE;
        p.tail = tail;
        extra = tail;
      } else {
        if (room(pos) < isize) pos = alignUp(pos, C.BLOCK_SIZE);
        p.fullBlocks = Math.ceil(size / C.BLOCK_SIZE);
      }
    } else if (room(pos) < isize) {
      pos = alignUp(pos, C.BLOCK_SIZE);
    }
    p.offset = pos;
    p.nid = (pos - metaStart) / C.INODE_SLOT_SIZE;
    pos = alignUp(pos + isize + extra, C.INODE_SLOT_SIZE);
    placed.push(p);
    byInode.set(inode, p);
  }
  for (const item of items) {
    if (item.parent) byInode.get(item.inode)!.parent = byInode.get(item.parent);
  }
  const rootPlaced = byInode.get(root)!;
  rootPlaced.parent = rootPlaced;
  if (rootPlaced.nid > 0xffff) throw new Error('root inode nid does not fit in 16 bits');
  const inodesEnd = pos;
  let block = alignUp(pos, C.BLOCK_SIZE) / C.BLOCK_SIZE;
  for (const p of placed) {
    if (p.fullBlocks > 0) {
      p.startBlock = block;
      block += p.fullBlocks;
    }
  }
  return { placed, byInode, inodesEnd, blocksEnd: block * C.BLOCK_SIZE };
}

export function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
