/**
 * Which open files the kernel reads and writes itself (FUSE kernel passthrough) and which come to us as READ
 * and WRITE requests. The kernel's rule, per inode: while any file of it is open, every open must go the same
 * way, and passthrough opens must all name the same backing id. So the first open of an inode decides; later
 * opens follow it; the backing id is closed when the last handle using it is released. A file the kernel will
 * not take (a backing filesystem that is itself stacked: ELOOP) simply stays with us.
 *
 * That close waits for the next turn of the event loop: by then the handle's removal has reached the supervisor
 * (upgrade/vfs-watch.ts sends it as soon as the release returns). Closed at once, a SIGKILL in between would
 * leave the supervisor's copy naming a handle whose id no longer exists; the successor would give that id to the
 * next OPEN of the inode, and the kernel would fail the application's open with EIO (an open failing with EIO right
 * after a release, under 20 SIGKILLs, was seen once in the test suite; this window explains it). Dying before the
 * close instead leaks the id in the connection until it is unmounted.
 */
import type { BackingFiles } from '../fs/filesystem';

interface InodeIo {
  backingId: number;
  /** Open handles using backingId. */
  passthrough: number;
  /** Open handles served by us. */
  local: number;
}

export class KernelIo {
  private backing: BackingFiles | undefined;
  private readonly byNodeid = new Map<number, InodeIo>();

  use(backing: BackingFiles | undefined): void {
    this.backing = backing;
  }

  /**
   * Decides how a new handle of `nodeid`, open on `fd`, does its I/O: a backing id, or undefined for us.
   * `preferDaemon`: keep it with us unless the inode's open files already go to the kernel.
   */
  attach(nodeid: number, fd: number, preferDaemon = false): number | undefined {
    const io = this.byNodeid.get(nodeid) ?? { backingId: 0, passthrough: 0, local: 0 };
    this.byNodeid.set(nodeid, io);
    if (io.passthrough > 0) {
      io.passthrough++;
      return io.backingId;
    }
    if (io.local === 0 && this.backing && !preferDaemon) {
      try {
        io.backingId = this.backing.open(fd);
        io.passthrough = 1;
        return io.backingId;
      } catch {
        // refused (a stacked backing filesystem, or out of ids): this inode's opens stay with us
      }
    }
    io.local++;
    return undefined;
  }

  /** A handle attach() (or a handover) accounted for is released. */
  detach(nodeid: number, backingId: number | undefined): void {
    const io = this.byNodeid.get(nodeid);
    if (!io) return;
    if (backingId === undefined) {
      io.local = Math.max(0, io.local - 1);
    } else if (--io.passthrough <= 0) {
      io.passthrough = 0;
      const { backing } = this;
      const id = io.backingId;
      if (backing) setImmediate(() => backing.close(id));
    }
    if (io.passthrough === 0 && io.local === 0) this.byNodeid.delete(nodeid);
  }

  /** Accounts for a handle restored from a predecessor. */
  adopt(nodeid: number, backingId: number | undefined): void {
    const io = this.byNodeid.get(nodeid) ?? { backingId: 0, passthrough: 0, local: 0 };
    this.byNodeid.set(nodeid, io);
    if (backingId === undefined) {
      io.local++;
    } else {
      io.backingId = backingId;
      io.passthrough++;
    }
  }
}
