/**
 * Ops on open directories: opendir, readdir (getdents on the directory fd, "." and ".." included, cookies
 * from DirCursor), releasedir, fsyncdir. readdir counts no lookups: for readdirplus the server calls
 * lookup() on each entry it sends.
 */
import { DirEntry, OpenReply } from '../fs/filesystem';
import { E, FsError, check } from '../fs/errno';
import { native, O_DIRECTORY } from '../native';
import { PassthroughCore } from './core';
import { S_IFDIR, fileType, reopen, statFd } from './host';

const O_RDONLY = 0;

export function opendir(core: PassthroughCore, nodeid: number): OpenReply {
  const inode = core.inodes.get(nodeid);
  if (fileType(statFd(inode.fd).mode) !== S_IFDIR) throw new FsError(E.ENOTDIR, 'opendir of a non-directory');
  const fd = reopen(inode.fd, O_RDONLY | O_DIRECTORY);
  return { fh: core.handles.add(nodeid, fd, O_RDONLY | O_DIRECTORY, 'dir').fh, openFlags: 0 };
}

export function readdir(core: PassthroughCore, fh: number, offset: number, size: number): DirEntry[] {
  const handle = core.handles.get(fh, 'dir');
  if (!handle.cursor) throw new Error(`directory handle ${fh} has no cursor`);
  return handle.cursor.read(offset, size);
}

export function releasedir(core: PassthroughCore, fh: number): void {
  core.handles.remove(fh);
}

export function fsyncdir(core: PassthroughCore, fh: number, datasync: boolean): void {
  check(native.fsync(core.handles.get(fh, 'dir').fd, datasync ? 1 : 0), 'fsync');
}
