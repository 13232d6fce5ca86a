/**
 * The in-memory filesystem tree a source (directory or tar) is turned into before layout: one Inode per
 * file object (hard links share it), directories holding their entries by raw name. It knows nothing of
 * EROFS; the layout step reads it.
 */
import { S_IFDIR, S_IFMT } from './constants';

export interface ChunkRef {
  /** Index into the blob's chunk list (the ci index), or -1 for a hole. */
  ciIndex: number;
}

export interface Inode {
  mode: number;
  uid: number;
  gid: number;
  mtimeSec: number;
  mtimeNsec: number;
  /** Linux dev_t of device nodes, as major/minor. */
  rdevMajor: number;
  rdevMinor: number;
  size: number;
  /** Links to this inode inside the tree (directories: computed at layout). */
  nlink: number;
  /** Sorted by name when written. */
  xattrs: Map<string, Buffer>;
  symlinkTarget?: Buffer;
  chunks?: ChunkRef[];
  /** Directories only: entries by name (raw bytes in latin1 so any byte survives). */
  children?: Map<string, Inode>;
}

export function isDir(inode: Inode): boolean {
  return (inode.mode & S_IFMT) === S_IFDIR;
}

export function newInode(mode: number, fields: Partial<Inode> = {}): Inode {
  const inode: Inode = {
    mode, uid: 0, gid: 0, mtimeSec: 0, mtimeNsec: 0, rdevMajor: 0, rdevMinor: 0, size: 0, nlink: 1,
    xattrs: new Map(), ...fields,
  };
  if (isDir(inode) && !inode.children) inode.children = new Map();
  return inode;
}

/** Names are kept as latin1 strings so that every byte maps to one char and sorting stays bytewise. */
export function nameKey(name: Buffer): string {
  return name.toString('latin1');
}

export function keyBytes(key: string): Buffer {
  return Buffer.from(key, 'latin1');
}

/** Bytewise order of two latin1 keys (code units equal bytes, so plain comparison is bytewise). */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Walks every distinct inode once (hard links counted once), parents before children, names sorted. */
export function walkInodes(root: Inode, visit: (inode: Inode, path: string) => void): void {
  const seen = new Set<Inode>();
  const stack: Array<[Inode, string]> = [[root, '/']];
  while (stack.length > 0) {
    const [inode, path] = stack.pop()!;
    if (seen.has(inode)) continue;
    seen.add(inode);
    visit(inode, path);
    if (inode.children) {
      const names = [...inode.children.keys()].sort(compareKeys).reverse();
      for (const name of names) stack.push([inode.children.get(name)!, path === '/' ? `/${name}` : `${path}/${name}`]);
    }
  }
}
