/**
 * The connection's FUSE kernel passthrough registry: ioctls on the /dev/fuse fd that register an open file
 * (FUSE_DEV_IOC_BACKING_OPEN, giving the backing id an OPEN reply names) and drop it again. The ids live in the
 * kernel's connection, not in this process: a successor that adopts the fd can close the ids its predecessor
 * opened.
 */
import type { BackingFiles } from '../fs/filesystem';
import { FsError } from '../fs/errno';
import { native } from '../native';

export class KernelBackingFiles implements BackingFiles {
  constructor(private readonly fuseFd: number) {}

  open(fd: number): number {
    const id = native.fuseBackingOpen(this.fuseFd, fd);
    if (id < 0) throw new FsError(-id, 'FUSE_DEV_IOC_BACKING_OPEN');
    return id;
  }

  close(id: number): void {
    native.fuseBackingClose(this.fuseFd, id);
  }
}
