/**
 * The passthrough handle table: fh -> an fd opened for I/O on one inode (a file for read/write, a directory
 * for listing). Fhs come from a counter and are never reused. A directory handle also carries the listing
 * cursor (see dir-cursor.ts). The table owns the fds: removing a handle closes its fd.
 */
import { E, FsError } from '../fs/errno';
import { native } from '../native';
import { DirCursor } from './dir-cursor';

export type HandleKind = 'file' | 'dir';

export interface Handle {
  readonly fh: number;
  readonly nodeid: number;
  readonly fd: number;
  /** open(2) flags the handle was opened with. */
  readonly flags: number;
  readonly kind: HandleKind;
  /** Present on directory handles. */
  readonly cursor?: DirCursor;
  /** Set when the kernel does this file's I/O itself (FUSE passthrough); see kernel-io.ts. */
  readonly backingId?: number;
}

export class HandleTable {
  private readonly byFh = new Map<number, Handle>();

  constructor(private nextFh = 1) {}

  get nextId(): number {
    return this.nextFh;
  }

  get size(): number {
    return this.byFh.size;
  }

  add(nodeid: number, fd: number, flags: number, kind: HandleKind, backingId?: number): Handle {
    const handle: Handle = {
      fh: this.nextFh++, nodeid, fd, flags, kind, cursor: kind === 'dir' ? new DirCursor(fd) : undefined, backingId,
    };
    this.byFh.set(handle.fh, handle);
    return handle;
  }

  /** Puts a handle in as it is (rebuilt from a handover). */
  insert(handle: Handle): void {
    if (this.byFh.has(handle.fh)) throw new Error(`fh ${handle.fh} is already in the table`);
    this.byFh.set(handle.fh, handle);
    if (handle.fh >= this.nextFh) this.nextFh = handle.fh + 1;
  }

  /** The handle `fh` of the wanted kind; EBADF when there is none. */
  get(fh: number, kind: HandleKind): Handle {
    const handle = this.byFh.get(fh);
    if (!handle || handle.kind !== kind) throw new FsError(E.EBADF, `no ${kind} handle ${fh}`);
    return handle;
  }

  find(fh: number): Handle | undefined {
    return this.byFh.get(fh);
  }

  /** Closes and forgets a handle; unknown fhs are ignored (release is not allowed to fail). */
  remove(fh: number): void {
    const handle = this.byFh.get(fh);
    if (!handle) return;
    this.byFh.delete(fh);
    native.close(handle.fd);
  }

  entries(): IterableIterator<Handle> {
    return this.byFh.values();
  }

  closeAll(): void {
    for (const handle of this.byFh.values()) native.close(handle.fd);
    this.byFh.clear();
  }
}
