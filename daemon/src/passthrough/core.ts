/**
 * The state every passthrough op works on: the options, the inode and handle tables, and the few steps the
 * op families share (turning a fresh O_PATH fd into a counted entry, refusing writes on a read-only share).
 */
import * as fs from 'fs';
import { Entry, FOPEN_NOFLUSH, FUSE_ROOT_ID, OpenReply } from '../fs/filesystem';
import { E, FsError } from '../fs/errno';
import { native, AT_FDCWD, O_DIRECT, O_DIRECTORY, O_PATH } from '../native';
import { DirListings } from './dir-listings';
import { Handle, HandleTable } from './handle-table';
import { statFd } from './host';
import { InodeEntry, InodeTable } from './inode-table';
import { KernelIo } from './kernel-io';
import { RecentReaders } from './recent-readers';

export interface PassthroughOptions {
  /** The host directory to serve; nothing outside it is reachable through the filesystem. */
  sharedDir: string;
  /** false: every op that would change the tree fails with EROFS. */
  writable: boolean;
  /**
   * true: an O_DIRECT open bypasses the host's page cache too (the kernel reads and writes the backing file with
   * the caller's flags). Default false, as virtiofsd's: O_DIRECT opens are served by the daemon from the host's
   * page cache, which an application's O_DIRECT on this mount does not need to bypass.
   */
  allowDirectIo?: boolean;
  /** seconds; default 1 */
  entryTimeout?: number;
  /** seconds; default 1 */
  attrTimeout?: number;
}

export class PassthroughCore {
  readonly entryTimeout: number;
  readonly attrTimeout: number;
  readonly kernelIo = new KernelIo();
  /** Listings of directories read without a handle (READDIR with fh 0). */
  readonly listings = new DirListings();
  /** Whether several threads read now, which decides how a read the page cache cannot serve waits (file-ops.ts). */
  readonly readers = new RecentReaders();

  constructor(
    readonly opts: PassthroughOptions,
    readonly inodes: InodeTable,
    readonly handles: HandleTable,
  ) {
    this.entryTimeout = opts.entryTimeout ?? 1;
    this.attrTimeout = opts.attrTimeout ?? 1;
    for (const h of handles.entries()) if (h.kind === 'file') this.kernelIo.adopt(h.nodeid, h.backingId);
  }

  /**
   * Adds a handle for a file just opened on `fd` (`flags`: the caller's), handing its I/O to the kernel when it
   * can; an O_DIRECT open stays with the daemon unless allowDirectIo (the kernel would use the caller's flags on
   * the backing file, and bypass the host's page cache). FOPEN_NOFLUSH: the daemon buffers nothing, so a close(2)
   * need not wait for a FLUSH round trip. A handle served by us reads with plain pread on its fd (readFd).
   */
  addFileHandle(nodeid: number, fd: number, flags: number): OpenReply {
    const direct = (flags & O_DIRECT) !== 0 && !this.opts.allowDirectIo;
    const backingId = this.kernelIo.attach(nodeid, fd, direct);
    const handle = this.handles.add(nodeid, fd, flags, 'file', backingId);
    return { fh: handle.fh, openFlags: FOPEN_NOFLUSH, backingId, readFd: readFdOf(handle) };
  }

  /** Releases a handle of either kind; unknown fhs are ignored (release is not allowed to fail). */
  release(fh: number): void {
    const handle = this.handles.find(fh);
    if (handle?.kind === 'file') this.kernelIo.detach(handle.nodeid, handle.backingId);
    this.handles.remove(fh);
  }

  /** Throws EROFS unless the share was opened writable. */
  requireWritable(): void {
    if (!this.opts.writable) throw new FsError(E.EROFS, 'read-only share');
  }

  /**
   * Counts one lookup of the inode `fd` (O_PATH, now owned by this call) refers to and builds its entry.
   * The fd is kept for a new inode and closed for one the table already has.
   */
  enter(fd: number): Entry {
    let st;
    try {
      st = statFd(fd);
    } catch (err) {
      native.close(fd);
      throw err;
    }
    const inode = this.inodes.addLookup(fd, st.dev, st.ino);
    return this.entryOf(inode, st.attr);
  }

  /** Counts one more lookup of an inode already in the table (link, lookup of '..' at the root). */
  enterKnown(inode: InodeEntry): Entry {
    const st = statFd(inode.fd);
    inode.lookups++;
    return this.entryOf(inode, st.attr);
  }

  private entryOf(inode: InodeEntry, attr: Entry['attr']): Entry {
    return {
      nodeid: inode.nodeid, generation: inode.generation, attr,
      entryTimeout: this.entryTimeout, attrTimeout: this.attrTimeout,
    };
  }

  closeAll(): void {
    this.listings.closeAll();
    this.handles.closeAll();
    this.inodes.closeAll();
  }
}

/** The fd a file handle's reads are pread on, when the daemon serves them (no kernel passthrough). */
export function readFdOf(handle: Handle): number | undefined {
  return handle.kind === 'file' && handle.backingId === undefined ? handle.fd : undefined;
}

/** Opens the shared directory as the root inode; a clear Error when it is missing or not a directory. */
export function openRoot(sharedDir: string): { fd: number; dev: number; ino: number } {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(sharedDir);
  } catch (err) {
    throw new Error(`passthrough_fs: cannot use shared directory "${sharedDir}": ${(err as Error).message}`);
  }
  if (!stat.isDirectory()) throw new Error(`passthrough_fs: shared directory "${sharedDir}" is not a directory`);
  const fd = native.openat(AT_FDCWD, sharedDir, O_PATH | O_DIRECTORY, 0);
  if (fd < 0) throw new Error(`passthrough_fs: cannot open shared directory "${sharedDir}": errno ${-fd}`);
  const st = statFd(fd);
  return { fd, dev: st.dev, ino: st.ino };
}

export function rootEntry(root: { fd: number; dev: number; ino: number }): InodeEntry {
  return { nodeid: FUSE_ROOT_ID, fd: root.fd, dev: root.dev, ino: root.ino, generation: 0, lookups: 1 };
}
