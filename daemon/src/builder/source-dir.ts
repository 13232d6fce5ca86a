/**
 * Turns a directory into a Tree: lstat of every entry (names as raw bytes, sorted), xattrs, symlink
 * targets, device numbers, hard links detected by (dev, ino) and file content chunked into the sink.
 * Mount points inside the source are crossed like any directory.
 */
import * as fs from 'fs';
import { native } from '../native';
import * as C from './constants';
import { ChunkSink, chunkFile } from './chunk-sink';
import { Inode, isDir, nameKey, newInode } from './tree';

export function statToInode(st: fs.BigIntStats): Inode {
  const ns = st.mtimeNs < 0n ? 0n : st.mtimeNs;
  const dev = st.rdev;
  return newInode(Number(st.mode), {
    uid: Number(st.uid), gid: Number(st.gid),
    mtimeSec: Number(ns / 1000000000n), mtimeNsec: Number(ns % 1000000000n),
    rdevMajor: Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn)),
    rdevMinor: Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn)),
    size: (Number(st.mode) & C.S_IFMT) === C.S_IFREG ? Number(st.size) : 0,
  });
}

function readXattrs(path: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const need = native.listxattr(path, null);
  if (need <= 0) return out;
  const list = Buffer.alloc(need);
  const got = native.listxattr(path, list);
  if (got <= 0) return out;
  for (const raw of list.subarray(0, got).toString('latin1').split('\0')) {
    if (!raw) continue;
    const size = native.getxattr(path, Buffer.from(raw, 'latin1'), null);
    if (size < 0) continue;
    const value = Buffer.alloc(size);
    const n = size === 0 ? 0 : native.getxattr(path, Buffer.from(raw, 'latin1'), value);
    if (n >= 0) out.set(raw, value.subarray(0, n));
  }
  return out;
}

function join(dir: Buffer, name: Buffer): Buffer {
  return Buffer.concat([dir, Buffer.from('/'), name]);
}

/**
 * Scans `root` (which must be a directory) into a tree, feeding file content into `sink`. Files whose
 * "dev:ino" is in `exclude` (the blob being written, when --blob-dir lies inside SOURCE) are left out.
 */
export function scanDirectory(root: string, sink: ChunkSink, exclude: ReadonlySet<string> = new Set()): Inode {
  const rootPath = Buffer.from(root);
  const rootStat = fs.lstatSync(rootPath, { bigint: true });
  if (!rootStat.isDirectory()) throw new Error(`${root} is not a directory`);
  const rootInode = statToInode(rootStat);
  rootInode.xattrs = readXattrs(rootPath);
  const links = new Map<string, Inode>();
  const stack: Array<[Buffer, Inode]> = [[rootPath, rootInode]];
  while (stack.length > 0) {
    const [dirPath, dir] = stack.pop()!;
    const names = (fs.readdirSync(dirPath, { encoding: 'buffer' }) as Buffer[]).sort(Buffer.compare);
    for (const name of names) {
      const path = join(dirPath, name);
      const st = fs.lstatSync(path, { bigint: true });
      if (exclude.has(`${st.dev}:${st.ino}`)) continue;
      const linkKey = !st.isDirectory() && st.nlink > 1n ? `${st.dev}:${st.ino}` : undefined;
      const known = linkKey ? links.get(linkKey) : undefined;
      if (known) {
        known.nlink += 1;
        dir.children!.set(nameKey(name), known);
        continue;
      }
      const inode = statToInode(st);
      if (!st.isSymbolicLink()) inode.xattrs = readXattrs(path);
      if (st.isSymbolicLink()) inode.symlinkTarget = fs.readlinkSync(path, { encoding: 'buffer' });
      if (st.isFile()) inode.chunks = chunkFile(sink, path, inode.size);
      if (linkKey) links.set(linkKey, inode);
      dir.children!.set(nameKey(name), inode);
      if (isDir(inode)) stack.push([path, inode]);
      sink.fileDone();
    }
  }
  return rootInode;
}
