/**
 * Turns an OCI layer tarball (.tar or gzip-compressed) into a Tree, streaming file content into the
 * sink. OCI whiteouts become what upstream nydus-image's overlayfs form holds: ".wh.NAME" a character
 * device 0/0 named NAME (an entry of the same layer with that name wins over it, as the OCI spec says
 * whiteouts only hide lower layers), ".wh..wh..opq" the xattr trusted.overlay.opaque=y on its
 * directory. Missing parent directories are created 0755 root:root with mtime 0.
 */
import * as fs from 'fs';
import * as zlib from 'zlib';
import * as C from './constants';
import { ChunkSink } from './chunk-sink';
import { StreamReader } from './stream-reader';
import { TarEntry, TarFormatError, TarReader } from './tar-reader';
import { Inode, isDir, newInode } from './tree';

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';

function splitPath(path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new TarFormatError(`tar entry "${path}" escapes the root with ".."`);
  return parts;
}

function typeBits(type: string): number {
  switch (type) {
    case '0': case '7': case '\0': return C.S_IFREG;
    case '2': return C.S_IFLNK;
    case '3': return C.S_IFCHR;
    case '4': return C.S_IFBLK;
    case '5': return C.S_IFDIR;
    case '6': return C.S_IFIFO;
    default: return 0;
  }
}

class TarTree {
  readonly root = newInode(C.S_IFDIR | 0o755);
  private readonly whiteouts = new Set<Inode>();

  dirFor(parts: string[]): Inode {
    let dir = this.root;
    for (const name of parts) {
      let next = dir.children!.get(name);
      if (!next || !isDir(next)) {
        if (next) this.unlink(next);
        next = newInode(C.S_IFDIR | 0o755);
        dir.children!.set(name, next);
      }
      dir = next;
    }
    return dir;
  }

  lookup(parts: string[]): Inode | undefined {
    let node: Inode | undefined = this.root;
    for (const name of parts) node = node?.children?.get(name);
    return node;
  }

  /** Puts `inode` at dir/name; an existing directory there keeps its children when `inode` is one too. */
  place(dir: Inode, name: string, inode: Inode): void {
    const old = dir.children!.get(name);
    if (old && isDir(old) && isDir(inode)) {
      inode.children = old.children;
      const opaque = old.xattrs.get('trusted.overlay.opaque');
      if (opaque && !inode.xattrs.has('trusted.overlay.opaque')) inode.xattrs.set('trusted.overlay.opaque', opaque);
    }
    if (old) this.unlink(old);
    dir.children!.set(name, inode);
  }

  placeWhiteout(dir: Inode, name: string, e: TarEntry): void {
    const old = dir.children!.get(name);
    if (old && !this.whiteouts.has(old)) return;
    const wh = newInode(C.S_IFCHR, { uid: e.uid, gid: e.gid, mtimeSec: e.mtimeSec, mtimeNsec: e.mtimeNsec });
    this.whiteouts.add(wh);
    this.place(dir, name, wh);
  }

  private unlink(old: Inode): void {
    if (!isDir(old)) old.nlink -= 1;
  }
}

async function readContent(tar: TarReader, sink: ChunkSink, size: number): Promise<Inode['chunks']> {
  const chunks: NonNullable<Inode['chunks']> = [];
  for (let off = 0; off < size; off += sink.chunkSize) {
    const data = await tar.readData(Math.min(sink.chunkSize, size - off));
    chunks.push({ ciIndex: sink.addChunk(data, off) });
  }
  return chunks;
}

/** Opens a tar or tar.gz file as a byte stream (gzip recognized by its magic, not its name). */
export function openTarStream(file: string): AsyncIterable<Buffer> {
  const fd = fs.openSync(file, 'r');
  const magic = Buffer.alloc(2);
  const n = fs.readSync(fd, magic, 0, 2, 0);
  const raw = fs.createReadStream('', { fd, start: 0, highWaterMark: 1 << 20 });
  if (n === 2 && magic[0] === 0x1f && magic[1] === 0x8b) return raw.pipe(zlib.createGunzip({ chunkSize: 1 << 20 }));
  return raw;
}

export async function scanTar(file: string, sink: ChunkSink): Promise<Inode> {
  try {
    return await scanTarStream(file, sink);
  } catch (err) {
    if (err instanceof Error && !err.message.startsWith(file)) err.message = `${file}: ${err.message}`;
    throw err;
  }
}

async function scanTarStream(file: string, sink: ChunkSink): Promise<Inode> {
  const tar = new TarReader(new StreamReader(openTarStream(file)));
  const tree = new TarTree();
  for (let e = await tar.next(); e; e = await tar.next()) {
    const parts = splitPath(e.path);
    if (parts.length === 0) {
      if (e.type === '5') Object.assign(tree.root, { mode: C.S_IFDIR | e.mode, uid: e.uid, gid: e.gid, mtimeSec: e.mtimeSec, mtimeNsec: e.mtimeNsec, xattrs: e.xattrs });
      continue;
    }
    const name = parts[parts.length - 1];
    const dir = tree.dirFor(parts.slice(0, -1));
    if (name === OPAQUE_MARKER) {
      dir.xattrs.set('trusted.overlay.opaque', Buffer.from('y'));
      continue;
    }
    if (name.startsWith(WHITEOUT_PREFIX)) {
      if (!name.startsWith(WHITEOUT_PREFIX + WHITEOUT_PREFIX)) tree.placeWhiteout(dir, name.slice(WHITEOUT_PREFIX.length), e);
      continue;
    }
    if (e.type === '1') {
      const target = tree.lookup(splitPath(e.linkName));
      if (!target || isDir(target)) throw new TarFormatError(`hard link "${e.path}" points to missing or directory "${e.linkName}"`);
      if (target === dir.children!.get(name)) continue;
      target.nlink += 1;
      tree.place(dir, name, target);
      continue;
    }
    const bits = typeBits(e.type);
    if (bits === 0) continue; // volume labels, GNU dumpdirs and other non-file entries
    const inode = newInode(bits | e.mode, {
      uid: e.uid, gid: e.gid, mtimeSec: e.mtimeSec, mtimeNsec: e.mtimeNsec, xattrs: e.xattrs,
      rdevMajor: e.devMajor, rdevMinor: e.devMinor,
    });
    if (bits === C.S_IFREG) {
      inode.size = e.size;
      inode.chunks = await readContent(tar, sink, e.size);
    } else if (bits === C.S_IFLNK) {
      inode.symlinkTarget = Buffer.from(e.linkName, 'latin1');
    } else if (bits === C.S_IFDIR) {
      inode.children = new Map();
    }
    tree.place(dir, name, inode);
    sink.fileDone();
  }
  return tree.root;
}
