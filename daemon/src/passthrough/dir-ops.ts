/**
 * Ops on directories as lists: readdir (getdents, "." and ".." included, cookies from DirCursor) by nodeid
 * (fh 0, the normal case: see dir-listings.ts) or through a directory handle a predecessor's state carried;
 * opendir/releasedir for such handles; fsyncdir. readdir counts no lookups: for readdirplus the server calls
 * lookup() on each entry it sends.
 */
import { DirEntry, OpenReply } from '../fs/filesystem';
import { check } from '../fs/errno';
import { native, O_DIRECTORY } from '../native';
import { PassthroughCore } from './core';
import { openDirectory } from './host';

const O_RDONLY = 0;

export function opendir(core: PassthroughCore, nodeid: number): OpenReply {
  const fd = openDirectory(core.inodes.get(nodeid).fd);
  return { fh: core.handles.add(nodeid, fd, O_RDONLY | O_DIRECTORY, 'dir').fh, openFlags: 0 };
}

/** fh 0: the directory is listed by nodeid (see dir-listings.ts); otherwise through its handle's cursor. */
export function readdir(core: PassthroughCore, nodeid: number, fh: number, offset: number, size: number): DirEntry[] {
  if (fh === 0) return core.listings.read(core.inodes.get(nodeid), offset, size);
  const handle = core.handles.get(fh, 'dir');
  if (!handle.cursor) throw new Error(`directory handle ${fh} has no cursor`);
  return handle.cursor.read(offset, size);
}

export function releasedir(core: PassthroughCore, fh: number): void {
  core.handles.remove(fh);
}

export function fsyncdir(core: PassthroughCore, nodeid: number, fh: number, datasync: boolean): void {
  if (fh !== 0) {
    check(native.fsync(core.handles.get(fh, 'dir').fd, datasync ? 1 : 0), 'fsync');
    return;
  }
  const fd = openDirectory(core.inodes.get(nodeid).fd);
  try {
    check(native.fsync(fd, datasync ? 1 : 0), 'fsync');
  } finally {
    native.close(fd);
  }
}
