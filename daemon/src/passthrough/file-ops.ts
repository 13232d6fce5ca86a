/**
 * Ops on open files: open, create, read, write, flush, release, fsync, lseek, fallocate, copy_file_range.
 * Only regular files are opened (a symlink is ELOOP, a directory EISDIR, any other type ENXIO: the kernel
 * serves FIFOs and device nodes itself, and the daemon must never open a host device or block on a FIFO).
 * Every call is a synchronous syscall on the main thread; copy_file_range copies at most 64 MiB per request
 * (a short count, which callers loop on) so one request cannot stall the daemon for long.
 */
import * as fs from 'fs';
import { CreateReply, OpenReply } from '../fs/filesystem';
import { E, FsError, check } from '../fs/errno';
import { readBuffers } from '../fs/read-buffers';
import { native, AT_FDCWD, O_DIRECT, O_NOFOLLOW, O_PATH, procFdPath } from '../native';
import { PassthroughCore } from './core';
import {
  O_ACCMODE, O_APPEND, O_CREAT, O_EXCL, O_NOCTTY, O_TRUNC, S_IFDIR, S_IFLNK, S_IFREG,
  asCaller, checkName, fileType, openPathAt, reopen, statFd,
} from './host';
import { killSuidGid } from './node-ops';

const FUSE_WRITE_KILL_SUIDGID = 1 << 2;
const COPY_CHUNK_MAX = 64 * 1024 * 1024;
/**
 * Flags that only mean something while a name is being created, that would stop the /proc reopen, or (O_DIRECT)
 * that would demand aligned buffers: the kernel already bypasses its page cache for a direct-I/O caller, and
 * our read buffers are not page aligned.
 */
const NOT_FOR_REOPEN = O_CREAT | O_EXCL | O_NOCTTY | O_NOFOLLOW | O_DIRECT;

function wantsWrite(flags: number): boolean {
  return (flags & O_ACCMODE) !== 0 || (flags & O_TRUNC) !== 0;
}

/** Throws the errno open(2) of this file type should give when it is not a regular file. */
function requireRegular(mode: number): void {
  const type = fileType(mode);
  if (type === S_IFREG) return;
  if (type === S_IFDIR) throw new FsError(E.EISDIR, 'open of a directory');
  if (type === S_IFLNK) throw new FsError(E.ELOOP, 'open of a symlink');
  throw new FsError(E.ENXIO, 'open of a special file');
}

export function open(core: PassthroughCore, nodeid: number, flags: number): OpenReply {
  const inode = core.inodes.get(nodeid);
  requireRegular(statFd(inode.fd).mode);
  if (wantsWrite(flags)) core.requireWritable();
  const fd = reopen(inode.fd, flags & ~NOT_FOR_REOPEN);
  return core.addFileHandle(nodeid, fd, flags);
}

/**
 * Creates with O_EXCL (as the caller, never following a symlink); when the name exists and the request
 * did not ask for O_EXCL, the existing entry is looked up and opened like open() would, so an existing
 * FIFO, device or symlink is refused rather than opened. That open also runs as the caller: the kernel
 * checked only the directory for a CREATE, so the host must check the existing file's permissions.
 */
export function create(core: PassthroughCore, ctx: { uid: number; gid: number }, parent: number, name: Buffer,
  mode: number, flags: number, umask: number): CreateReply {
  core.requireWritable();
  checkName(name, 'create');
  const dir = core.inodes.get(parent);
  const createFlags = (flags & ~(O_NOCTTY | O_TRUNC | O_DIRECT)) | O_CREAT | O_EXCL | O_NOFOLLOW;
  let ioFd = asCaller(ctx, umask, () => native.openat(dir.fd, name, createFlags, mode & 0o7777));
  let pathFd: number;
  if (ioFd === -E.EEXIST && !(flags & O_EXCL)) {
    pathFd = openPathAt(dir.fd, name);
    try {
      requireRegular(statFd(pathFd).mode);
      ioFd = asCaller(ctx, umask, () => reopen(pathFd, flags & ~NOT_FOR_REOPEN));
    } catch (err) {
      native.close(pathFd);
      throw err;
    }
  } else {
    check(ioFd, 'openat');
    pathFd = native.openat(AT_FDCWD, procFdPath(ioFd), O_PATH, 0);
    if (pathFd < 0) {
      native.close(ioFd);
      throw new FsError(-pathFd, 'reopen O_PATH');
    }
  }
  let entry;
  try {
    entry = core.enter(pathFd);
  } catch (err) {
    native.close(ioFd);
    throw err;
  }
  return { entry, open: core.addFileHandle(entry.nodeid, ioFd, flags) };
}

/**
 * Reads of at least this many bytes go to a libuv threadpool worker, so that the kernel's parallel readahead
 * requests overlap their disk waits. A smaller one is read at once when the host's page cache holds it all
 * (preadv2 RWF_NOWAIT). When it does not and several threads are reading (RecentReaders), its disk read is started
 * (fadvise WILLNEED) and it is read once the requests already queued have started theirs, so that their disk
 * waits overlap without a worker's two cross-CPU wake-ups; a lone reader's read waits right here.
 * 4 KiB O_DIRECT random reads (served here, see addFileHandle), page cache dropped, 4 s, IOPS: 4 fio jobs
 * 47,100-51,200 all waiting in place, 53,700-61,400 on workers, 61,600-74,300 started ahead; 1 job
 * 24,600-26,300 waiting in place, 10,100-14,000 on workers.
 */
const ASYNC_READ_BYTES = 64 * 1024;

export function read(core: PassthroughCore, fh: number, offset: number, size: number, pid: number): Buffer | Promise<Buffer> {
  const handle = core.handles.get(fh, 'file');
  const buf = readBuffers.take(size);
  if (size < ASYNC_READ_BYTES) {
    const several = core.readers.note(pid, performance.now());
    const n = native.preadNowait(handle.fd, buf, 0, size, offset);
    if (n === size) return buf;
    if (n >= 0 && offset + n >= statFd(handle.fd).attr.size) return buf.subarray(0, n); // the end of the file
    const readHere = (): Buffer => {
      const m = check(native.pread(handle.fd, buf, 0, size, offset), 'pread');
      return m === size ? buf : buf.subarray(0, m);
    };
    if (!several || n === -E.EOPNOTSUPP) return readHere();
    // Start the disk read now and read after the requests already queued have started theirs: the waits overlap.
    native.fadviseWillneed(handle.fd, offset, size);
    return new Promise((resolve, reject) => setImmediate(() => {
      try {
        resolve(readHere());
      } catch (err) {
        reject(err);
      }
    }));
  }
  // The kernel keeps the file open until every read on it is answered, so handle.fd outlives this call.
  return new Promise((resolve, reject) => {
    fs.read(handle.fd, buf, 0, size, offset, (err, n) => (err ? reject(err) : resolve(n === size ? buf : buf.subarray(0, n))));
  });
}

/** Writes at `offset`, or at the end of the file for a handle opened with O_APPEND. */
export function write(core: PassthroughCore, fh: number, offset: number, data: Buffer, writeFlags: number): number {
  core.requireWritable();
  const handle = core.handles.get(fh, 'file');
  if (writeFlags & FUSE_WRITE_KILL_SUIDGID) killSuidGid(handle.fd);
  const position = handle.flags & O_APPEND ? -1 : offset;
  return check(native.pwrite(handle.fd, data, 0, data.length, position), 'pwrite');
}

export function release(core: PassthroughCore, fh: number): void {
  core.release(fh);
}

export function fsync(core: PassthroughCore, fh: number, datasync: boolean): void {
  check(native.fsync(core.handles.get(fh, 'file').fd, datasync ? 1 : 0), 'fsync');
}

/** Any whence lseek(2) knows, SEEK_DATA and SEEK_HOLE included; ENXIO past the end as the host says. */
export function lseek(core: PassthroughCore, fh: number, offset: number, whence: number): number {
  return check(native.lseek(core.handles.get(fh, 'file').fd, offset, whence), 'lseek');
}

export function fallocate(core: PassthroughCore, fh: number, mode: number, offset: number, length: number): void {
  core.requireWritable();
  check(native.fallocate(core.handles.get(fh, 'file').fd, mode, offset, length), 'fallocate');
}

export function copyFileRange(core: PassthroughCore, fhIn: number, offIn: number, fhOut: number, offOut: number,
  len: number, flags: number): number {
  core.requireWritable();
  const input = core.handles.get(fhIn, 'file');
  const output = core.handles.get(fhOut, 'file');
  const n = Math.min(len, COPY_CHUNK_MAX);
  return check(native.copyFileRange(input.fd, offIn, output.fd, offOut, n, flags), 'copy_file_range');
}
