/**
 * Snapshots of a tree for comparison: every path with type, mode, owner, size, mtime (ns), nlink,
 * content sha256, link target and xattrs. Taken from a real directory (lstat + getfattr-like calls
 * through the native addon) or from a FileSystem (the rafs reader), so a test can compare source,
 * kernel mount and reader with one deepEqual.
 */
import * as fs from 'fs';
import { createHash } from 'crypto';
import { native } from '../../../daemon/src/native';
import { FileSystem, FUSE_ROOT_ID, RequestContext } from '../../../daemon/src/fs/filesystem';

export interface NodeInfo {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: string;
  nlink: number;
  rdev?: string;
  sha256?: string;
  target?: string;
  xattrs: Record<string, string>;
}

export type Snapshot = Record<string, NodeInfo>;

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

function dirXattrs(p: Buffer, skip: (name: string) => boolean): Record<string, string> {
  const out: Record<string, string> = {};
  const need = native.listxattr(p, null);
  if (need <= 0) return out;
  const list = Buffer.alloc(need);
  const n = native.listxattr(p, list);
  for (const name of list.subarray(0, Math.max(n, 0)).toString('latin1').split('\0')) {
    if (!name || skip(name)) continue;
    const size = native.getxattr(p, Buffer.from(name, 'latin1'), null);
    const v = Buffer.alloc(Math.max(size, 0));
    const got = size > 0 ? native.getxattr(p, Buffer.from(name, 'latin1'), v) : 0;
    out[name] = v.subarray(0, got).toString('hex');
  }
  return out;
}

function sortedRecord(r: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Snapshot of a real directory tree (the root itself under "/"). */
export function snapshotDir(root: string, opts: { skipXattr?: (name: string) => boolean; rootMeta?: boolean } = {}): Snapshot {
  const skip = opts.skipXattr ?? ((name: string) => name.startsWith('security.selinux') || name.startsWith('system.'));
  const out: Snapshot = {};
  const walk = (p: Buffer, rel: string): void => {
    const st = fs.lstatSync(p, { bigint: true });
    const mode = Number(st.mode);
    const type = mode & S_IFMT;
    const info: NodeInfo = {
      mode, uid: Number(st.uid), gid: Number(st.gid), size: type === S_IFDIR ? 0 : Number(st.size),
      mtime: st.mtimeNs.toString(), nlink: Number(st.nlink), xattrs: type === S_IFLNK ? {} : sortedRecord(dirXattrs(p, skip)),
    };
    if (type === S_IFREG) info.sha256 = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    if (type === S_IFLNK) info.target = fs.readlinkSync(p, { encoding: 'buffer' }).toString('hex');
    if (type === S_IFCHR || type === S_IFBLK) info.rdev = st.rdev.toString();
    out[rel] = info;
    if (type === S_IFDIR) {
      const names = (fs.readdirSync(p, { encoding: 'buffer' }) as Buffer[]).sort(Buffer.compare);
      for (const n of names) walk(Buffer.concat([p, Buffer.from('/'), n]), rel === '/' ? `/${n.toString('latin1')}` : `${rel}/${n.toString('latin1')}`);
    }
  };
  walk(Buffer.from(root), '/');
  return out;
}

const CTX: RequestContext = { uid: 0, gid: 0, pid: 0 };

/** Snapshot through the FileSystem API (lookup, getattr, readdir, read, readlink, listxattr). */
export async function snapshotFs(fsys: FileSystem, opts: { skipXattr?: (name: string) => boolean } = {}): Promise<Snapshot> {
  const skip = opts.skipXattr ?? (() => false);
  const out: Snapshot = {};
  const walk = async (nodeid: number, rel: string): Promise<void> => {
    const { attr } = await fsys.getattr(CTX, nodeid, undefined);
    const type = attr.mode & S_IFMT;
    const xattrs: Record<string, string> = {};
    if (type !== S_IFLNK && fsys.listxattr) {
      const list = await fsys.listxattr(CTX, nodeid, 1 << 16);
      if (Buffer.isBuffer(list)) {
        for (const name of list.toString('latin1').split('\0')) {
          if (!name || skip(name)) continue;
          const v = await fsys.getxattr!(CTX, nodeid, Buffer.from(name, 'latin1'), 1 << 16);
          xattrs[name] = Buffer.isBuffer(v) ? v.toString('hex') : '';
        }
      }
    }
    const info: NodeInfo = {
      mode: attr.mode, uid: attr.uid, gid: attr.gid, size: type === S_IFDIR ? 0 : attr.size,
      mtime: (BigInt(attr.mtimeSec) * 1000000000n + BigInt(attr.mtimeNsec)).toString(), nlink: attr.nlink, xattrs: sortedRecord(xattrs),
    };
    if (type === S_IFREG) {
      const h = createHash('sha256');
      const { fh } = await fsys.open!(CTX, nodeid, 0);
      for (let off = 0; off < attr.size;) {
        const data = await fsys.read!(CTX, nodeid, fh, off, 1 << 20);
        if (data.length === 0) throw new Error(`${rel}: short read at ${off}`);
        h.update(data);
        off += data.length;
      }
      await fsys.release?.(CTX, nodeid, fh, 0);
      info.sha256 = h.digest('hex');
    }
    if (type === S_IFLNK) info.target = (await fsys.readlink!(CTX, nodeid)).toString('hex');
    if (type === S_IFCHR || type === S_IFBLK) info.rdev = String(attr.rdev);
    out[rel] = info;
    if (type !== S_IFDIR) return;
    const { fh } = await fsys.opendir!(CTX, nodeid, 0);
    const names: Buffer[] = [];
    for (let off = 0; ;) {
      const entries = await fsys.readdir!(CTX, nodeid, fh, off, 1 << 16);
      if (entries.length === 0) break;
      for (const e of entries) {
        const s = e.name.toString('latin1');
        if (s !== '.' && s !== '..') names.push(e.name);
      }
      off = entries[entries.length - 1].nextOffset;
    }
    await fsys.releasedir?.(CTX, nodeid, fh);
    names.sort(Buffer.compare);
    for (const n of names) {
      const entry = await fsys.lookup(CTX, nodeid, n);
      await walk(entry.nodeid, rel === '/' ? `/${n.toString('latin1')}` : `${rel}/${n.toString('latin1')}`);
      fsys.forget(entry.nodeid, 1);
    }
  };
  await walk(FUSE_ROOT_ID, '/');
  return out;
}
