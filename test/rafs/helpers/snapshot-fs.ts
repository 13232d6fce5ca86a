/**
 * Walks a RafsFs through its FileSystem methods only (no FUSE) and produces the same snapshot format as
 * walk-tree.py, so images can be compared with the source tree and the kernel's mount.
 */
import { createHash } from 'crypto';
import { RafsFs } from '../../../daemon/src/rafs';
import { Attr, DirEntry } from '../../../daemon/src/fs/filesystem';
import { Snapshot } from './system';

export const CTX = { uid: 0, gid: 0, pid: 0 };

/** All entries of a directory, paging with a small reply size to exercise cookies. */
export async function listAll(fs: RafsFs, nodeid: number, pageBytes = 256): Promise<DirEntry[]> {
  const out: DirEntry[] = [];
  let offset = 0;
  for (let guard = 0; guard < 1_000_000; guard++) {
    const page = await fs.readdir(CTX, nodeid, 0, offset, pageBytes);
    if (page.length === 0) return out;
    out.push(...page);
    offset = page[page.length - 1].nextOffset;
  }
  throw new Error('readdir did not terminate');
}

export async function readWhole(fs: RafsFs, nodeid: number, size: number, piece = 128 * 1024): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let off = 0; off < size; off += piece) parts.push(await fs.read(CTX, nodeid, 0, off, piece));
  const tail = await fs.read(CTX, nodeid, 0, size, piece);
  if (tail.length !== 0) throw new Error(`read past EOF returned ${tail.length} bytes`);
  return Buffer.concat(parts);
}

async function xattrsOf(fs: RafsFs, nodeid: number): Promise<Record<string, string>> {
  const len = await fs.listxattr(CTX, nodeid, 0) as number;
  if (len === 0) return {};
  const list = await fs.listxattr(CTX, nodeid, len) as Buffer;
  const out: Record<string, string> = {};
  for (const name of list.toString('latin1').split('\0').filter((n) => n).sort()) {
    const nameBuf = Buffer.from(name, 'latin1');
    const vlen = await fs.getxattr(CTX, nodeid, nameBuf, 0) as number;
    out[name] = vlen === 0 ? '' : (await fs.getxattr(CTX, nodeid, nameBuf, vlen) as Buffer).toString('hex');
  }
  return out;
}

function rdevPair(rdev: number): [number, number] {
  return [(rdev & 0xfff00) >>> 8, (rdev & 0xff) | ((rdev >>> 12) & 0xfff00)];
}

export async function snapshotFs(fs: RafsFs): Promise<Snapshot> {
  const out: Snapshot = {};
  const visit = async (nodeid: number, attr: Attr, rel: string): Promise<void> => {
    const type = attr.mode & 0o170000;
    const e: Snapshot[string] = {
      mode: attr.mode, uid: attr.uid, gid: attr.gid, size: attr.size,
      mtimeNs: (BigInt(attr.mtimeSec) * 1_000_000_000n + BigInt(attr.mtimeNsec)).toString(),
      nlink: attr.nlink, ino: attr.ino, blocks: attr.blocks, xattrs: await xattrsOf(fs, nodeid),
    };
    if (type === 0o020000 || type === 0o060000) e.rdev = rdevPair(attr.rdev);
    if (type === 0o120000) e.target = (await fs.readlink(CTX, nodeid)).toString('hex');
    if (type === 0o100000) e.sha256 = createHash('sha256').update(await readWhole(fs, nodeid, attr.size)).digest('hex');
    out[rel] = e;
    if (type !== 0o040000) return;
    for (const d of await listAll(fs, nodeid)) {
      const name = d.name.toString();
      if (name === '.' || name === '..') continue;
      const child = await fs.lookup(CTX, nodeid, d.name);
      if (child.attr.ino !== d.ino) throw new Error(`${rel}/${name}: readdir ino ${d.ino} != lookup ino ${child.attr.ino}`);
      await visit(child.nodeid, child.attr, rel === '/' ? `/${name}` : `${rel}/${name}`);
    }
  };
  await visit(1, (await fs.getattr(CTX, 1, undefined)).attr, '/');
  return out;
}
