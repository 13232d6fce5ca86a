/**
 * Ops on one inode as a whole: lookup, getattr, setattr, readlink, access, statfs. Lookups open the single
 * name under the parent's O_PATH fd without following it, so a symlink is returned as a symlink node and
 * never leads anywhere; '..' at the root is the root.
 */
import {
  AttrReply, Entry, FATTR_ATIME, FATTR_ATIME_NOW, FATTR_FH, FATTR_GID, FATTR_KILL_SUIDGID, FATTR_MODE,
  FATTR_MTIME, FATTR_MTIME_NOW, FATTR_SIZE, FATTR_UID, FUSE_ROOT_ID, SetattrIn, Statfs,
} from '../fs/filesystem';
import { E, FsError, check } from '../fs/errno';
import { native, AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, UTIME_NOW, UTIME_OMIT, procFdPath } from '../native';
import { PassthroughCore } from './core';
import { O_ACCMODE, S_IFDIR, S_IFLNK, S_IFREG, S_ISGID, S_ISUID, S_IXGRP, checkName, fileType, openPathAt, statFd } from './host';

export function lookup(core: PassthroughCore, parent: number, name: Buffer): Entry {
  checkName(name, 'lookup');
  const dir = core.inodes.get(parent);
  if (parent === FUSE_ROOT_ID && name.equals(DOTDOT)) return core.enterKnown(dir);
  return core.enter(openPathAt(dir.fd, name));
}

const DOTDOT = Buffer.from('..');

export function getattr(core: PassthroughCore, nodeid: number): AttrReply {
  return { attr: statFd(core.inodes.get(nodeid).fd).attr, attrTimeout: core.attrTimeout };
}

/** Applies mode, owner, size, then times (so a truncate cannot overwrite the times just set). */
export function setattr(core: PassthroughCore, nodeid: number, req: SetattrIn): AttrReply {
  core.requireWritable();
  const inode = core.inodes.get(nodeid);
  const type = fileType(statFd(inode.fd).mode);
  const proc = procFdPath(inode.fd);
  if (req.valid & FATTR_MODE) {
    if (type === S_IFLNK) throw new FsError(E.EOPNOTSUPP, 'symlinks have no mode');
    check(native.fchmodat(AT_FDCWD, proc, req.mode & 0o7777), 'chmod');
  }
  if (req.valid & (FATTR_UID | FATTR_GID)) {
    const uid = req.valid & FATTR_UID ? req.uid : -1;
    const gid = req.valid & FATTR_GID ? req.gid : -1;
    check(native.fchownat(inode.fd, '', uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW), 'chown');
  }
  if (req.valid & FATTR_SIZE) truncate(core, inode.fd, type, req);
  if (req.valid & FATTR_KILL_SUIDGID) killSuidGid(inode.fd);
  if (req.valid & (FATTR_ATIME | FATTR_MTIME)) {
    const [as, ans] = timeArg(req.valid, FATTR_ATIME, FATTR_ATIME_NOW, req.atimeSec, req.atimeNsec);
    const [ms, mns] = timeArg(req.valid, FATTR_MTIME, FATTR_MTIME_NOW, req.mtimeSec, req.mtimeNsec);
    check(native.utimensat(inode.fd, '', as, ans, ms, mns, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW), 'utimensat');
  }
  return getattr(core, nodeid);
}

function truncate(core: PassthroughCore, fd: number, type: number, req: SetattrIn): void {
  if (type === S_IFDIR) throw new FsError(E.EISDIR, 'truncate of a directory');
  if (type !== S_IFREG) throw new FsError(E.EINVAL, 'truncate of a special file');
  const handle = req.valid & FATTR_FH ? core.handles.find(req.fh) : undefined;
  if (handle && handle.kind === 'file' && (handle.flags & O_ACCMODE) !== 0) {
    check(native.ftruncate(handle.fd, req.size), 'ftruncate');
  } else {
    check(native.truncate(procFdPath(fd), req.size), 'truncate');
  }
}

function timeArg(valid: number, setBit: number, nowBit: number, sec: number, nsec: number): [number, number] {
  if (!(valid & setBit)) return [0, UTIME_OMIT];
  if (valid & nowBit) return [0, UTIME_NOW];
  return [sec, nsec];
}

/** Clears set-user-ID, and set-group-ID when group-executable, as the kernel does when a non-root user writes. */
export function killSuidGid(fd: number): void {
  const st = statFd(fd);
  if (fileType(st.mode) !== S_IFREG) return;
  let mode = st.mode & 0o7777;
  if (mode & S_ISUID) mode &= ~S_ISUID;
  if ((mode & S_ISGID) && (mode & S_IXGRP)) mode &= ~S_ISGID;
  if (mode !== (st.mode & 0o7777)) check(native.fchmodat(AT_FDCWD, procFdPath(fd), mode), 'chmod');
}

export function readlink(core: PassthroughCore, nodeid: number): Buffer {
  const target = native.readlinkat(core.inodes.get(nodeid).fd, '');
  if (typeof target === 'number') throw new FsError(target === -E.ENOENT ? E.EINVAL : -target, 'readlink');
  return target;
}

const R_OK = 4;
const W_OK = 2;
const X_OK = 1;

/**
 * access(2) against the inode's mode bits for the caller's uid and primary gid (root passes R/W, and X when
 * any x bit is set or it is a directory). ACLs and supplementary groups are not consulted; with
 * default_permissions the kernel checks permissions itself and does not send ACCESS.
 */
export function access(core: PassthroughCore, ctx: { uid: number; gid: number }, nodeid: number, mask: number): void {
  const st = statFd(core.inodes.get(nodeid).fd);
  if ((mask & W_OK) && !core.opts.writable) throw new FsError(E.EROFS, 'read-only share');
  const want = mask & (R_OK | W_OK | X_OK);
  if (want === 0) return;
  if (ctx.uid === 0) {
    const anyExec = (st.mode & 0o111) !== 0 || fileType(st.mode) === S_IFDIR;
    if (!(want & X_OK) || anyExec) return;
    throw new FsError(E.EACCES, 'access');
  }
  const shift = ctx.uid === st.attr.uid ? 6 : ctx.gid === st.attr.gid ? 3 : 0;
  const granted = (st.mode >> shift) & 7;
  if ((granted & want) !== want) throw new FsError(E.EACCES, 'access');
}

const statfsBuffer = new Float64Array(8);

export function statfs(core: PassthroughCore, nodeid: number): Statfs {
  check(native.fstatfs(core.inodes.get(nodeid).fd, statfsBuffer), 'fstatfs');
  const [bsize, blocks, bfree, bavail, files, ffree, namelen, frsize] = statfsBuffer;
  return { bsize, blocks, bfree, bavail, files, ffree, namelen, frsize };
}
