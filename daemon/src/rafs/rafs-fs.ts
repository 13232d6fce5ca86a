/**
 * RafsFs: the read-only FileSystem over one EROFS / RAFS v6 image. Stateless with respect to the kernel:
 * nodeids derive from nids (nodeid.ts), directory cookies from positions in the directory, and handles are
 * all 0, so lookup counts need no table and a successor daemon can take over as is. Its files need no OPEN at
 * all (`openless`): at the root of a mount, the server turns OPEN, FLUSH and RELEASE off. Everything that would
 * modify the image fails with EROFS. It does not know about FUSE framing, mounts or the VFS.
 */
import { E, FsError } from '../fs/errno';
import {
  AttrReply, DirEntry, Entry, FOPEN_CACHE_DIR, FOPEN_KEEP_CACHE, FOPEN_NOFLUSH, FileSystem, OpenReply, ReadExtents,
  RequestContext, Statfs, isDotOrDotDot,
} from '../fs/filesystem';
import { listingConf, NativeListings } from '../fs/native-listings';
import { EROFS_FT_DIR, Inode, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from './layout';
import { RafsMetadata } from './meta/metadata';
import { assertDir, endCookie, isDirectory, listFrom, lookupName, readAheadDirectories } from './meta/directory';
import { readMetaData } from './meta/file-map';
import { readXattrs } from './meta/xattrs';
import { DataReader } from './storage/data-reader';
import { wantsReadMap } from './storage/read-map';
import { attrOf } from './attr';
import { nidOf, nodeidOf } from './nodeid';
import { formatError } from './errors';

export interface RafsFsOptions {
  entryTimeout: number;
  attrTimeout: number;
  /** Releases file handles and memory (metadata source, blob backend). */
  onClose: () => Promise<void>;
}

const MAX_READ = 16 * 1024 * 1024;
const PATH_MAX = 4096;
const O_ACCMODE = 3;
const O_TRUNC = 0o1000;

function erofs(): never { throw new FsError(E.EROFS); }

export class RafsFs implements FileSystem {
  private closing?: Promise<void>;
  readonly openless = true;
  /** Whether listings read the subdirectories' metadata ahead (meta/directory.ts readAheadDirectories). */
  readAhead = true;
  private listings: NativeListings | undefined;

  constructor(readonly meta: RafsMetadata, readonly data: DataReader, private readonly opts: RafsFsOptions) {}

  get rootNid(): number { return this.meta.sb.rootNid; }

  /** The inode behind a nodeid. */
  inodeOf(nodeid: number): Promise<Inode> {
    return this.meta.inode(nidOf(nodeid, this.rootNid));
  }

  private entryOf(inode: Inode): Entry {
    return {
      nodeid: nodeidOf(inode.nid, this.rootNid), generation: 0, attr: attrOf(inode, this.meta.blockSize),
      entryTimeout: this.opts.entryTimeout, attrTimeout: this.opts.attrTimeout,
    };
  }

  async lookup(_ctx: RequestContext, parent: number, name: Buffer): Promise<Entry> {
    if (name.length > 255) throw new FsError(E.ENAMETOOLONG);
    const dir = await this.inodeOf(parent);
    const d = await lookupName(this.meta, dir, name);
    if (!d) throw new FsError(E.ENOENT);
    return this.entryOf(await this.meta.inode(d.nid));
  }

  /** A listed entry's inode is known from its dirent: no second search of the directory. */
  async readdirplusEntry(ctx: RequestContext, parent: number, e: DirEntry): Promise<Entry> {
    if (e.handle === undefined) return this.lookup(ctx, parent, e.name);
    return this.entryOf(await this.meta.inode(e.handle));
  }

  entryAtHand(_ctx: RequestContext, _parent: number, e: DirEntry): Entry | undefined {
    const inode = e.handle === undefined ? undefined : this.meta.inodeAtHand(e.handle);
    return inode && this.entryOf(inode);
  }

  forget(): void { /* stateless: nothing to drop */ }

  async getattr(_ctx: RequestContext, nodeid: number, _fh?: number): Promise<AttrReply> {
    return { attr: attrOf(await this.inodeOf(nodeid), this.meta.blockSize), attrTimeout: this.opts.attrTimeout };
  }

  async readlink(_ctx: RequestContext, nodeid: number): Promise<Buffer> {
    const inode = await this.inodeOf(nodeid);
    if ((inode.mode & S_IFMT) !== S_IFLNK) throw new FsError(E.EINVAL);
    if (inode.size === 0 || inode.size >= PATH_MAX) throw formatError(`symlink inode ${inode.nid}`, inode.offset, `size ${inode.size}`);
    return Buffer.from(await readMetaData(this.meta, inode, 0, inode.size));
  }

  async open(_ctx: RequestContext, nodeid: number, flags: number): Promise<OpenReply> {
    const inode = await this.inodeOf(nodeid);
    if ((flags & O_ACCMODE) !== 0 || (flags & O_TRUNC) !== 0) throw new FsError(E.EROFS);
    if ((inode.mode & S_IFMT) === S_IFDIR) throw new FsError(E.EISDIR);
    // Nothing is ever buffered for an immutable image: close(2) need not wait for a FLUSH round trip.
    const reply: OpenReply = { fh: 0, openFlags: FOPEN_KEEP_CACHE | FOPEN_NOFLUSH };
    const readExtents = await this.readMapOf(inode);
    if (readExtents) reply.readExtents = readExtents;
    return reply;
  }

  async readExtents(nodeid: number): Promise<ReadExtents | undefined> {
    return this.readMapOf(await this.inodeOf(nodeid));
  }

  /** A large file stored as is has a read map: its reads may be answered by the server's read threads. */
  private readMapOf(inode: Inode): Promise<ReadExtents | undefined> {
    return (inode.mode & S_IFMT) === S_IFREG && wantsReadMap(inode) ? this.data.readMap(inode) : Promise.resolve(undefined);
  }

  async read(_ctx: RequestContext, nodeid: number, _fh: number, offset: number, size: number): Promise<Buffer> {
    const inode = await this.inodeOf(nodeid);
    const type = inode.mode & S_IFMT;
    if (type === S_IFDIR) throw new FsError(E.EISDIR);
    if (type !== S_IFREG) throw new FsError(E.EINVAL);
    if (!Number.isSafeInteger(offset) || offset < 0 || size < 0) throw new FsError(E.EINVAL);
    if (offset >= inode.size || size === 0) return Buffer.alloc(0);
    return this.data.read(inode, offset, Math.min(size, MAX_READ));
  }

  async opendir(_ctx: RequestContext, nodeid: number): Promise<OpenReply> {
    assertDir(await this.inodeOf(nodeid));
    return { fh: 0, openFlags: FOPEN_KEEP_CACHE | FOPEN_CACHE_DIR };
  }

  /**
   * The kernel reads every listing to its end with a second READDIR, which finds nothing. When the directory's
   * inode is at hand, that one is answered at once (0.4 us in-process), without the promises of a listing.
   */
  readdir(_ctx: RequestContext, nodeid: number, _fh: number, offset: number, size: number): DirEntry[] | Promise<DirEntry[]> {
    const dir = offset > 0 ? this.meta.inodeAtHand(nidOf(nodeid, this.rootNid)) : undefined;
    if (dir && isDirectory(dir) && offset === endCookie(this.meta, dir)) return [];
    return this.list(nodeid, offset, size);
  }

  private async list(nodeid: number, offset: number, size: number): Promise<DirEntry[]> {
    const dir = await this.inodeOf(nodeid);
    let room = size > 0 ? size : 4096;
    let first = true;
    const subdirectories: number[] = [];
    // Names are views of the cached directory block (immutable): the reply is encoded before anything changes.
    const listed = await listFrom(this.meta, dir, offset, (d, nextOffset): DirEntry | undefined => {
      const need = (24 + d.name.length + 7) & ~7;
      if (!first && need > room) return undefined;
      first = false;
      room -= need;
      if (d.fileType === EROFS_FT_DIR && !isDotOrDotDot(d.name)) subdirectories.push(d.nid);
      return { ino: d.nid, nextOffset, type: dtypeOf(d.fileType), name: d.name, handle: d.nid };
    });
    if (subdirectories.length > 0 && this.readAhead) void readAheadDirectories(this.meta, subdirectories);
    return listed;
  }

  /**
   * Listings are answered natively (server/native-listings.ts) from the bootstrap as far as it is in memory
   * (meta/source.ts: mirrored in one buffer up to the cache size): the replies readdir() leads to, with no
   * JavaScript of this class per request.
   */
  nativeListings(): NativeListings | undefined {
    if (this.closed) return undefined;
    if (this.listings) return this.listings;
    const memory = this.meta.source.memory();
    if (!memory) return undefined;
    const sb = this.meta.sb;
    const conf = listingConf({
      blockSize: sb.blockSize, metaBlkaddr: sb.metaBlkaddr, rootNid: sb.rootNid, buildTime: sb.buildTime,
      buildTimeNsec: sb.buildTimeNsec, entryTimeout: this.opts.entryTimeout, attrTimeout: this.opts.attrTimeout,
      presenceBlock: memory.blockSize,
    });
    this.listings = { image: memory.bytes, present: memory.present, conf };
    return this.listings;
  }

  releasedir(): void { /* handles are stateless */ }
  release(): void { /* handles are stateless */ }
  flush(): void { /* nothing buffered */ }
  fsync(): void { /* nothing to sync */ }
  fsyncdir(): void { /* nothing to sync */ }

  async statfs(): Promise<Statfs> {
    const sb = this.meta.sb;
    return { blocks: sb.blocks, bfree: 0, bavail: 0, files: sb.inos, ffree: 0, bsize: sb.blockSize, namelen: 255, frsize: sb.blockSize };
  }

  async access(ctx: RequestContext, nodeid: number, mask: number): Promise<void> {
    const inode = await this.inodeOf(nodeid);
    if (mask & 2) throw new FsError(E.EROFS);
    const want = mask & 5;
    if (want === 0) return;
    if (ctx.uid === 0) {
      if ((want & 1) && (inode.mode & S_IFMT) !== S_IFDIR && (inode.mode & 0o111) === 0) throw new FsError(E.EACCES);
      return;
    }
    const shift = ctx.uid === inode.uid ? 6 : ctx.gid === inode.gid ? 3 : 0;
    if ((((inode.mode >> shift) & 7) & want) !== want) throw new FsError(E.EACCES);
  }

  async getxattr(_ctx: RequestContext, nodeid: number, name: Buffer, size: number): Promise<Buffer | number> {
    const xattrs = await readXattrs(this.meta, await this.inodeOf(nodeid));
    const x = xattrs.find((e) => e.name.equals(name));
    if (!x) throw new FsError(E.ENODATA);
    if (size === 0) return x.value.length;
    if (x.value.length > size) throw new FsError(E.ERANGE);
    return x.value;
  }

  async listxattr(_ctx: RequestContext, nodeid: number, size: number): Promise<Buffer | number> {
    const xattrs = await readXattrs(this.meta, await this.inodeOf(nodeid));
    const list = Buffer.concat(xattrs.flatMap((x) => [x.name, Buffer.from([0])]));
    if (size === 0) return list.length;
    if (list.length > size) throw new FsError(E.ERANGE);
    return list;
  }

  setattr(): never { return erofs(); }
  symlink(): never { return erofs(); }
  mknod(): never { return erofs(); }
  mkdir(): never { return erofs(); }
  unlink(): never { return erofs(); }
  rmdir(): never { return erofs(); }
  rename(): never { return erofs(); }
  link(): never { return erofs(); }
  create(): never { return erofs(); }
  write(): never { return erofs(); }
  fallocate(): never { return erofs(); }
  setxattr(): never { return erofs(); }
  removexattr(): never { return erofs(); }

  destroy(): Promise<void> { return this.close(); }

  /** Whether close() has been called. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Releases file handles and caches; idempotent. */
  close(): Promise<void> {
    if (!this.closing) this.closing = this.opts.onClose();
    return this.closing;
  }
}

/** EROFS file_type (1 reg .. 7 symlink) -> DT_* */
function dtypeOf(fileType: number): number {
  return ([0, 8, 4, 2, 6, 1, 12, 10] as const)[fileType] ?? 0;
}
