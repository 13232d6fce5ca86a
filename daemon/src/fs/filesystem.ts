/**
 * The contract between the FUSE server and a filesystem backend (passthrough_fs, rafs, the VFS that
 * stacks several of them). Nodeids here are the backend's own: FUSE_ROOT_ID (1) is its root; the VFS maps
 * them into the mount's nodeid space. Names are raw bytes (Buffer), as the kernel sends them.
 *
 * Every method may return a value or a Promise. Errors are thrown as FsError(errno) (or a Node SystemError);
 * a method a backend does not implement is ENOSYS, which the kernel remembers for optional ops.
 *
 * Kernel rules a backend must keep:
 * - lookup, create, mknod, mkdir, symlink and link each add one to the returned node's lookup count;
 *   forget(nodeid, n) takes n away; a node whose count reaches 0 may be dropped, and only then may its
 *   nodeid ever be reused (a backend should simply never reuse one).
 * - readdirplus entries (except "." and "..") count as lookups: the server calls lookup() for each
 *   entry it actually sends, so a backend's readdir never counts anything itself.
 */

import type { NativeDirListing, NativeListings } from './native-listings';

export const FUSE_ROOT_ID = 1;

/** "." or "..": names every directory lists and no filesystem stores. */
export function isDotOrDotDot(name: Buffer): boolean {
  return (name.length === 1 && name[0] === 0x2e) || (name.length === 2 && name[0] === 0x2e && name[1] === 0x2e);
}

export interface RequestContext {
  uid: number;
  gid: number;
  pid: number;
}

/** File type bits of Attr.mode. */
export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;

export interface Attr {
  ino: number;
  size: number;
  blocks: number;
  atimeSec: number;
  atimeNsec: number;
  mtimeSec: number;
  mtimeNsec: number;
  ctimeSec: number;
  ctimeNsec: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  blksize: number;
}

export interface Entry {
  nodeid: number;
  generation: number;
  attr: Attr;
  /** seconds */
  entryTimeout: number;
  /** seconds */
  attrTimeout: number;
}

export interface AttrReply {
  attr: Attr;
  attrTimeout: number;
}

/** FOPEN_* bits for OpenReply.openFlags */
export const FOPEN_DIRECT_IO = 1 << 0;
export const FOPEN_KEEP_CACHE = 1 << 1;
export const FOPEN_NONSEEKABLE = 1 << 2;
export const FOPEN_CACHE_DIR = 1 << 3;
export const FOPEN_NOFLUSH = 1 << 5;
export const FOPEN_PARALLEL_DIRECT_WRITES = 1 << 6;
/** The kernel does this file's reads and writes on a backing file itself (set from OpenReply.backingId). */
export const FOPEN_PASSTHROUGH = 1 << 7;

export interface OpenReply {
  fh: number;
  openFlags: number;
  /** A backing id from BackingFiles.open(): the kernel then reads and writes the backing file directly. */
  backingId?: number;
  /**
   * The handle's reads are pread(2) on this fd, which stays open until its RELEASE: the server may answer them on
   * other threads (transport/read-threads.ts) instead of calling read().
   */
  readFd?: number;
  /**
   * The handle's file is these pieces of other files (rafs: its image or blob files), all read as they are: the
   * server may answer its reads on other threads. The fds stay open while the filesystem is mounted.
   */
  readExtents?: ReadExtents;
}

/** [fileOffset, fileOffset + length) of a file is [fdOffset, fdOffset + length) of `fd` (-1: zeros). */
export interface ReadExtent {
  fileOffset: number;
  length: number;
  fd: number;
  fdOffset: number;
}

/** A whole file as pieces in order, without gaps, from 0 to `size`. */
export interface ReadExtents {
  size: number;
  extents: ReadExtent[];
}

/**
 * FUSE kernel passthrough (Linux 6.9+, negotiated at INIT): files registered here are read and written by the
 * kernel itself, without a request to the daemon. Every open of one inode must use the same backing id while
 * any is open, and no open of that inode may go without one (the kernel refuses mixed modes).
 */
export interface BackingFiles {
  /** Registers an fd opened for I/O; returns its backing id. Throws FsError (ELOOP: a stacked filesystem). */
  open(fd: number): number;
  close(id: number): void;
}

export interface CreateReply {
  entry: Entry;
  open: OpenReply;
}

export interface DirEntry {
  ino: number;
  /** Cookie that resumes the listing right AFTER this entry. */
  nextOffset: number;
  /** DT_* type (mode >> 12). */
  type: number;
  name: Buffer;
  /** Backend-private identity of the entry (e.g. an image's inode number), handed back to readdirplusEntry(). */
  handle?: number;
}

/** Bits of SetattrIn.valid (FATTR_*). */
export const FATTR_MODE = 1 << 0;
export const FATTR_UID = 1 << 1;
export const FATTR_GID = 1 << 2;
export const FATTR_SIZE = 1 << 3;
export const FATTR_ATIME = 1 << 4;
export const FATTR_MTIME = 1 << 5;
export const FATTR_FH = 1 << 6;
export const FATTR_ATIME_NOW = 1 << 7;
export const FATTR_MTIME_NOW = 1 << 8;
export const FATTR_LOCKOWNER = 1 << 9;
export const FATTR_CTIME = 1 << 10;
export const FATTR_KILL_SUIDGID = 1 << 11;

export interface SetattrIn {
  valid: number;
  fh: number;
  size: number;
  atimeSec: number;
  atimeNsec: number;
  mtimeSec: number;
  mtimeNsec: number;
  mode: number;
  uid: number;
  gid: number;
}

export interface Statfs {
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  bsize: number;
  namelen: number;
  frsize: number;
}

type R<T> = T | Promise<T>;

export interface FileSystem {
  /**
   * Every file can be read without being opened (READs carry fh 0) and nothing is ever buffered: the server
   * answers OPEN and FLUSH with ENOSYS, after which the kernel sends neither again on this connection, nor a
   * RELEASE (rafs: an immutable image). For the Vfs this holds once an image serves its root, and stays.
   */
  readonly openless?: boolean;
  /** Something under it may be changed (passthrough_fs --writable): a read-only mount does not admit it. */
  readonly writable?: boolean;
  /** With `openless`: the file's read map, for the read threads (as OpenReply.readExtents); undefined: none. */
  readExtents?(nodeid: number): Promise<ReadExtents | undefined>;
  /** Called once the kernel's INIT is answered; `writebackCache` etc. may be consulted by a backend. */
  init?(): R<void>;
  destroy?(): R<void>;
  /** The connection's kernel passthrough, once negotiated (also after a takeover); undefined: none. */
  useBackingFiles?(backing: BackingFiles | undefined): void;
  /** Open handles whose reads are pread on an fd (OpenReply.readFd), e.g. taken over from a predecessor. */
  readFds?(): Array<{ nodeid: number; fh: number; fd: number }>;

  lookup(ctx: RequestContext, parent: number, name: Buffer): R<Entry>;
  /**
   * An identity of the node that outlives its nodeid (a host's dev:ino, an image's inode number), for server
   * heuristics that should survive the kernel forgetting the node; undefined when the nodeid is unknown.
   */
  nodeKey?(nodeid: number): string | undefined;
  forget(nodeid: number, nlookup: number): void;
  getattr(ctx: RequestContext, nodeid: number, fh: number | undefined): R<AttrReply>;
  setattr?(ctx: RequestContext, nodeid: number, attr: SetattrIn): R<AttrReply>;
  readlink?(ctx: RequestContext, nodeid: number): R<Buffer>;
  symlink?(ctx: RequestContext, parent: number, name: Buffer, target: Buffer): R<Entry>;
  mknod?(ctx: RequestContext, parent: number, name: Buffer, mode: number, rdev: number, umask: number): R<Entry>;
  mkdir?(ctx: RequestContext, parent: number, name: Buffer, mode: number, umask: number): R<Entry>;
  unlink?(ctx: RequestContext, parent: number, name: Buffer): R<void>;
  rmdir?(ctx: RequestContext, parent: number, name: Buffer): R<void>;
  /** flags: RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT */
  rename?(ctx: RequestContext, parent: number, name: Buffer, newParent: number, newName: Buffer, flags: number): R<void>;
  link?(ctx: RequestContext, nodeid: number, newParent: number, newName: Buffer): R<Entry>;

  open?(ctx: RequestContext, nodeid: number, flags: number): R<OpenReply>;
  create?(ctx: RequestContext, parent: number, name: Buffer, mode: number, flags: number, umask: number): R<CreateReply>;
  read?(ctx: RequestContext, nodeid: number, fh: number, offset: number, size: number): R<Buffer>;
  write?(ctx: RequestContext, nodeid: number, fh: number, offset: number, data: Buffer, writeFlags: number): R<number>;
  flush?(ctx: RequestContext, nodeid: number, fh: number, lockOwner: bigint): R<void>;
  release?(ctx: RequestContext, nodeid: number, fh: number, flags: number): R<void>;
  fsync?(ctx: RequestContext, nodeid: number, fh: number, datasync: boolean): R<void>;
  lseek?(ctx: RequestContext, nodeid: number, fh: number, offset: number, whence: number): R<number>;
  fallocate?(ctx: RequestContext, nodeid: number, fh: number, mode: number, offset: number, length: number): R<void>;
  copyFileRange?(ctx: RequestContext, nodeidIn: number, fhIn: number, offIn: number,
    nodeidOut: number, fhOut: number, offOut: number, len: number, flags: number): R<number>;

  /** Not called by the VFS, which lists every directory without a handle (see readdir). */
  opendir?(ctx: RequestContext, nodeid: number, flags: number): R<OpenReply>;
  /**
   * Entries from `offset` (0 = start, else a nextOffset given earlier); `size` is the reply buffer size, a hint.
   * `fh` is 0 (no OPENDIR: the kernel lists directories by nodeid), unless a predecessor's state carried the handle.
   */
  readdir?(ctx: RequestContext, nodeid: number, fh: number, offset: number, size: number): R<DirEntry[]>;
  /**
   * The Entry for a name readdir() just listed, counted as a lookup exactly like lookup(parent, e.name). A
   * backend that can build it from `e.handle` without searching the directory again implements this.
   */
  readdirplusEntry?(ctx: RequestContext, parent: number, e: DirEntry): R<Entry>;
  /**
   * The in-memory image that READDIR and names-only READDIRPLUS of directory `nodeid` may be answered from
   * natively, before any handler runs (fs/native-listings.ts); undefined: they go to the handlers.
   */
  nativeListings?(nodeid: number): NativeListings | undefined;
  /**
   * The host cursor that READDIR and names-only READDIRPLUS of directory `nodeid` may be answered from natively
   * (fs/native-listings.ts; passthrough_fs), opened if need be; undefined: they go to the handlers.
   */
  nativeDirListing?(nodeid: number): NativeDirListing | undefined;
  /**
   * Like readdirplusEntry(), but only when the backend can answer at once, with nothing to wait for (rafs: the
   * inode is decoded or its bytes are in memory; passthrough_fs: its lookup is a few synchronous syscalls anyway);
   * else undefined, and nothing counted. A names-only READDIRPLUS sends what this gives for subdirectories, and
   * looks up the others once the listing is packed, sparing a walk the LOOKUP of each directory it goes into.
   */
  entryAtHand?(ctx: RequestContext, parent: number, e: DirEntry): Entry | undefined;
  releasedir?(ctx: RequestContext, nodeid: number, fh: number): R<void>;
  fsyncdir?(ctx: RequestContext, nodeid: number, fh: number, datasync: boolean): R<void>;

  statfs?(ctx: RequestContext, nodeid: number): R<Statfs>;
  access?(ctx: RequestContext, nodeid: number, mask: number): R<void>;
  /** size 0: return the value's length as a number; else the value (ERANGE if longer than size). */
  getxattr?(ctx: RequestContext, nodeid: number, name: Buffer, size: number): R<Buffer | number>;
  /** size 0: return the list's length as a number; else the NUL-separated list. */
  listxattr?(ctx: RequestContext, nodeid: number, size: number): R<Buffer | number>;
  setxattr?(ctx: RequestContext, nodeid: number, name: Buffer, value: Buffer, flags: number): R<void>;
  removexattr?(ctx: RequestContext, nodeid: number, name: Buffer): R<void>;
}
