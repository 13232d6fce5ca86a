/**
 * passthrough_fs: serves a host directory (--shared-dir) read-only or read-write through the FileSystem
 * contract, in the manner of virtiofsd / fuse-backend-rs. Each inode is an O_PATH|O_NOFOLLOW fd opened
 * relative to its parent's fd by one name; I/O reopens the inode through /proc/self/fd/N. It does not mount,
 * cache, or check permissions beyond what the host kernel does for the daemon (root) and the caller's fsuid
 * on creation: the mount is expected to use default_permissions so the FUSE kernel checks access first.
 *
 * Threat model. The daemon runs as root; the callers of the mount (possibly a container) are not trusted
 * and may race the host tree with their own renames and symlinks. Goal: nothing outside the shared
 * directory is reachable, read or changed through the mount.
 * - No path built from names is ever resolved. Every op is an *at() call on an inode fd with one name that
 *   has no '/' and no NUL (checkName), or an op on the inode fd itself (AT_EMPTY_PATH, /proc/self/fd/N,
 *   whose magic link ends on that inode and never re-resolves a name).
 * - Lookups never follow symlinks (O_NOFOLLOW): a symlink is a node whose target is only text given back by
 *   readlink; the caller's kernel resolves it in the caller's own view of the filesystem, never through the
 *   daemon, so no target (absolute or '../..') can name a host path outside the share.
 * - '..' from the root is the root. '..' below the root is the real parent, which stays inside the tree
 *   as long as the host itself does not move directories out of it (the host is trusted).
 * - open refuses symlinks (ELOOP), FIFOs, sockets and device nodes (ENXIO): the daemon never opens a host
 *   device, nor blocks on a FIFO. create uses O_EXCL|O_NOFOLLOW and falls back to the same checks, opening
 *   an existing file as the caller.
 * - New inodes are made with the caller's fsuid/fsgid (asCaller), so a caller cannot create files it could
 *   not create on the host, and ownership, setgid directories and the umask follow the kernel's rules.
 * - Other changes (chmod, chown, truncate, utimes, unlink, rename, xattrs) run as root and rely on the
 *   kernel's default_permissions checks; without that mount option any caller could change any file.
 * - Device nodes and set-user-ID files made through the mount are real ones on the host; the mount is nodev
 *   and nosuid, but host programs using the shared directory must treat it as untrusted content.
 * - Not covered: host-side changes racing the daemon, resource exhaustion (each looked-up inode holds one
 *   fd until the kernel forgets it), mount points inside the shared dir (they are crossed like virtiofsd).
 *
 * Every syscall is synchronous on the main thread, fsync, fallocate and copy_file_range included (the last
 * copies at most 64 MiB per request). Inode numbers and sizes travel as JS numbers: exact up to 2^53.
 */
import {
  AttrReply, BackingFiles, CreateReply, DirEntry, Entry, FileSystem, FUSE_ROOT_ID, OpenReply, RequestContext, SetattrIn, Statfs,
} from '../fs/filesystem';
import type { NativeDirListing } from '../fs/native-listings';
import { native } from '../native';
import { PassthroughCore, PassthroughOptions, openRoot, readFdOf, rootEntry } from './core';
import * as dirOps from './dir-ops';
import * as entryOps from './entry-ops';
import * as fileOps from './file-ops';
import { HandleTable } from './handle-table';
import { PassthroughState, exportTables, restoreTables } from './handover';
import { InodeTable } from './inode-table';
import * as nodeOps from './node-ops';
import * as xattrOps from './xattr-ops';

export { PassthroughOptions } from './core';
export { PassthroughState, PASSTHROUGH_STATE_VERSION } from './handover';

const WANTED_FD_LIMIT = 1 << 20;

export class PassthroughFs implements FileSystem {
  private readonly core: PassthroughCore;
  private closed = false;

  get writable(): boolean { return this.core.opts.writable; }

  /** Opens `opts.sharedDir` as the root; throws a clear Error when it is missing or not a directory. */
  constructor(opts: PassthroughOptions, tables?: { inodes: InodeTable; handles: HandleTable }) {
    native.raiseNofile(WANTED_FD_LIMIT);
    if (tables) {
      this.core = new PassthroughCore(opts, tables.inodes, tables.handles);
      return;
    }
    const inodes = new InodeTable();
    inodes.insert(rootEntry(openRoot(opts.sharedDir)));
    this.core = new PassthroughCore(opts, inodes, new HandleTable());
  }

  /** A successor's instance from a predecessor's exportState(); takes ownership of `fds`. */
  static restore(opts: PassthroughOptions, state: PassthroughState, fds: number[]): PassthroughFs {
    if (state?.sharedDir !== opts.sharedDir) {
      throw new Error(`passthrough_fs: handover state is for "${state?.sharedDir}", not "${opts.sharedDir}"`);
    }
    return new PassthroughFs(opts, restoreTables(state, fds));
  }

  /** The tables and the fds they hold, for a successor; this instance keeps (and still owns) the fds. */
  exportState(): { state: PassthroughState; fds: number[] } {
    return exportTables(this.core.opts.sharedDir, this.core.opts.writable, this.core.inodes, this.core.handles);
  }

  useBackingFiles(backing: BackingFiles | undefined): void {
    this.core.kernelIo.use(backing);
  }

  readFds(): Array<{ nodeid: number; fh: number; fd: number }> {
    const out: Array<{ nodeid: number; fh: number; fd: number }> = [];
    for (const h of this.core.handles.entries()) {
      const fd = readFdOf(h);
      if (fd !== undefined) out.push({ nodeid: h.nodeid, fh: h.fh, fd });
    }
    return out;
  }

  /** Inodes and handles currently held (each one fd). */
  get counts(): { inodes: number; handles: number } {
    return { inodes: this.core.inodes.size, handles: this.core.handles.size };
  }

  /** Closes every fd; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.core.closeAll();
  }

  destroy(): void {
    this.close();
  }

  lookup(_ctx: RequestContext, parent: number, name: Buffer): Entry {
    return nodeOps.lookup(this.core, parent, name);
  }

  /** A lookup is a few synchronous syscalls: always at hand (undefined when the name went away since the listing). */
  entryAtHand(ctx: RequestContext, parent: number, e: DirEntry): Entry | undefined {
    try {
      return this.lookup(ctx, parent, e.name);
    } catch {
      return undefined;
    }
  }

  /** The listing's host cursor; undefined when `nodeid` is not a directory that opens (the handlers say why). */
  nativeDirListing(nodeid: number): NativeDirListing | undefined {
    const inode = this.core.inodes.find(nodeid);
    if (!inode) return undefined;
    try {
      return this.core.listings.nativeListing(inode);
    } catch {
      return undefined;
    }
  }

  nodeKey(nodeid: number): string | undefined {
    const inode = this.core.inodes.find(nodeid);
    return inode && `${inode.dev}:${inode.ino}`;
  }

  forget(nodeid: number, nlookup: number): void {
    this.core.inodes.forget(nodeid, nlookup);
  }

  getattr(_ctx: RequestContext, nodeid: number, _fh?: number): AttrReply {
    return nodeOps.getattr(this.core, nodeid);
  }

  setattr(_ctx: RequestContext, nodeid: number, attr: SetattrIn): AttrReply {
    return nodeOps.setattr(this.core, nodeid, attr);
  }

  readlink(_ctx: RequestContext, nodeid: number): Buffer {
    return nodeOps.readlink(this.core, nodeid);
  }

  access(ctx: RequestContext, nodeid: number, mask: number): void {
    nodeOps.access(this.core, ctx, nodeid, mask);
  }

  statfs(_ctx: RequestContext, nodeid: number): Statfs {
    return nodeOps.statfs(this.core, nodeid === 0 ? FUSE_ROOT_ID : nodeid);
  }

  symlink(ctx: RequestContext, parent: number, name: Buffer, target: Buffer): Entry {
    return entryOps.symlink(this.core, ctx, parent, name, target);
  }

  mknod(ctx: RequestContext, parent: number, name: Buffer, mode: number, rdev: number, umask: number): Entry {
    return entryOps.mknod(this.core, ctx, parent, name, mode, rdev, umask);
  }

  mkdir(ctx: RequestContext, parent: number, name: Buffer, mode: number, umask: number): Entry {
    return entryOps.mkdir(this.core, ctx, parent, name, mode, umask);
  }

  link(ctx: RequestContext, nodeid: number, newParent: number, newName: Buffer): Entry {
    return entryOps.link(this.core, ctx, nodeid, newParent, newName);
  }

  unlink(_ctx: RequestContext, parent: number, name: Buffer): void {
    entryOps.unlink(this.core, parent, name);
  }

  rmdir(_ctx: RequestContext, parent: number, name: Buffer): void {
    entryOps.rmdir(this.core, parent, name);
  }

  rename(_ctx: RequestContext, parent: number, name: Buffer, newParent: number, newName: Buffer, flags: number): void {
    entryOps.rename(this.core, parent, name, newParent, newName, flags);
  }

  open(_ctx: RequestContext, nodeid: number, flags: number): OpenReply {
    return fileOps.open(this.core, nodeid, flags);
  }

  create(ctx: RequestContext, parent: number, name: Buffer, mode: number, flags: number, umask: number): CreateReply {
    return fileOps.create(this.core, ctx, parent, name, mode, flags, umask);
  }

  read(ctx: RequestContext, _nodeid: number, fh: number, offset: number, size: number): Buffer | Promise<Buffer> {
    return fileOps.read(this.core, fh, offset, size, ctx.pid);
  }

  write(_ctx: RequestContext, _nodeid: number, fh: number, offset: number, data: Buffer, writeFlags: number): number {
    return fileOps.write(this.core, fh, offset, data, writeFlags);
  }

  /** Nothing is buffered in the daemon, so there is nothing to flush. */
  flush(_ctx?: RequestContext, _nodeid?: number, _fh?: number, _lockOwner?: bigint): void {}

  release(_ctx: RequestContext, _nodeid: number, fh: number, _flags?: number): void {
    fileOps.release(this.core, fh);
  }

  fsync(_ctx: RequestContext, _nodeid: number, fh: number, datasync: boolean): void {
    fileOps.fsync(this.core, fh, datasync);
  }

  lseek(_ctx: RequestContext, _nodeid: number, fh: number, offset: number, whence: number): number {
    return fileOps.lseek(this.core, fh, offset, whence);
  }

  fallocate(_ctx: RequestContext, _nodeid: number, fh: number, mode: number, offset: number, length: number): void {
    fileOps.fallocate(this.core, fh, mode, offset, length);
  }

  copyFileRange(_ctx: RequestContext, _nodeidIn: number, fhIn: number, offIn: number, _nodeidOut: number,
    fhOut: number, offOut: number, len: number, flags: number): number {
    return fileOps.copyFileRange(this.core, fhIn, offIn, fhOut, offOut, len, flags);
  }

  opendir(_ctx: RequestContext, nodeid: number, _flags?: number): OpenReply {
    return dirOps.opendir(this.core, nodeid);
  }

  readdir(_ctx: RequestContext, nodeid: number, fh: number, offset: number, size: number): DirEntry[] {
    return dirOps.readdir(this.core, nodeid, fh, offset, size);
  }

  releasedir(_ctx: RequestContext, _nodeid: number, fh: number): void {
    dirOps.releasedir(this.core, fh);
  }

  fsyncdir(_ctx: RequestContext, nodeid: number, fh: number, datasync: boolean): void {
    dirOps.fsyncdir(this.core, nodeid, fh, datasync);
  }

  getxattr(_ctx: RequestContext, nodeid: number, name: Buffer, size: number): Buffer | number {
    return xattrOps.getxattr(this.core, nodeid, name, size);
  }

  listxattr(_ctx: RequestContext, nodeid: number, size: number): Buffer | number {
    return xattrOps.listxattr(this.core, nodeid, size);
  }

  setxattr(_ctx: RequestContext, nodeid: number, name: Buffer, value: Buffer, flags: number): void {
    xattrOps.setxattr(this.core, nodeid, name, value, flags);
  }

  removexattr(_ctx: RequestContext, nodeid: number, name: Buffer): void {
    xattrOps.removexattr(this.core, nodeid, name);
  }
}
