/**
 * Small wrappers over the native addon that the passthrough ops share: stat of an O_PATH fd, reopening an
 * inode through /proc/self/fd for I/O, running a create-type syscall as the calling user, and the checks on
 * names the kernel hands us. Every failure becomes an FsError carrying the host errno.
 */
import { Attr, isDotOrDotDot } from '../fs/filesystem';
import { E, FsError, check } from '../fs/errno';
import { native, AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, O_CLOEXEC, O_DIRECTORY, O_NOFOLLOW, O_PATH, procFdPath } from '../native';

const O_RDONLY = 0;

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_ISUID = 0o4000;
export const S_ISGID = 0o2000;
export const S_IXGRP = 0o010;

export const O_ACCMODE = 0o3;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOCTTY = 0o400;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;

const NAME_MAX = 255;

export interface HostStat {
  dev: number;
  ino: number;
  mode: number;
  attr: Attr;
}

const statBuffer = new Float64Array(16);

/** lstat of the inode an fd (usually O_PATH) refers to. */
export function statFd(fd: number): HostStat {
  check(native.fstatat(fd, '', AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, statBuffer), 'fstatat');
  const s = statBuffer;
  return {
    dev: s[0],
    ino: s[1],
    mode: s[2],
    attr: {
      ino: s[1], mode: s[2], nlink: s[3], uid: s[4], gid: s[5], rdev: s[6], size: s[7], blksize: s[8],
      blocks: s[9], atimeSec: s[10], atimeNsec: s[11], mtimeSec: s[12], mtimeNsec: s[13],
      ctimeSec: s[14], ctimeNsec: s[15],
    },
  };
}

export function fileType(mode: number): number {
  return mode & S_IFMT;
}

/**
 * Opens the inode behind an O_PATH fd for I/O. The /proc magic link lands on that very inode whatever its
 * name is now, so no path built from names is ever resolved. Only regular files and directories get here.
 */
export function reopen(pathFd: number, flags: number): number {
  return check(native.openat(AT_FDCWD, procFdPath(pathFd), flags, 0), 'reopen');
}

/**
 * Opens the directory behind an O_PATH fd for listing: "." relative to the fd is the directory itself, whatever
 * its name is now (cheaper than reopen()'s /proc walk). ENOTDIR for anything but a directory.
 */
export function openDirectory(pathFd: number): number {
  return check(native.openat(pathFd, '.', O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0), 'open directory');
}

/** Opens `name` inside the directory `dirFd` as an O_PATH fd of the entry itself (never following it). */
export function openPathAt(dirFd: number, name: Buffer | string): number {
  return check(native.openat(dirFd, name, O_PATH | O_NOFOLLOW, 0), 'openat');
}

const daemonUid = process.geteuid?.() ?? 0;
const daemonGid = process.getegid?.() ?? 0;

/**
 * Runs `fn` (synchronous syscalls only) with this thread's fsuid/fsgid set to the caller's and the process
 * umask set to the request's, so new inodes get the caller's ids (setgid directories still win) and the
 * host kernel applies the umask exactly as it would locally: not at all under a default ACL. Both are put
 * back before returning, even on a throw. The umask is process-wide, but held only for one syscall.
 */
export function asCaller<T>(ids: { uid: number; gid: number }, umask: number, fn: () => T): T {
  const oldUmask = native.umask(umask & 0o777);
  native.setfsugid(ids.uid, ids.gid);
  try {
    return fn();
  } finally {
    native.setfsugid(daemonUid, daemonGid);
    native.umask(oldUmask);
  }
}

export type NameUse = 'create' | 'unlink' | 'rmdir' | 'rename';

/**
 * Rejects names that would not stay one entry of one directory: '/' or NUL inside, empty, too long,
 * and '.' / '..' where Linux itself refuses them (with the errno Linux gives for that call).
 */
export function checkName(name: Buffer, use: NameUse | 'lookup'): void {
  if (name.length === 0) throw new FsError(E.ENOENT, 'empty name');
  if (name.length > NAME_MAX) throw new FsError(E.ENAMETOOLONG, 'name too long');
  if (name.includes(0x2f) || name.includes(0)) throw new FsError(E.EINVAL, 'name has "/" or NUL');
  if (use === 'lookup' || !isDotOrDotDot(name)) return;
  const dotdot = name.length === 2;
  switch (use) {
    case 'create': throw new FsError(E.EEXIST, 'name is . or ..');
    case 'unlink': throw new FsError(E.EISDIR, 'name is . or ..');
    case 'rmdir': throw new FsError(dotdot ? E.ENOTEMPTY : E.EINVAL, 'name is . or ..');
    case 'rename': throw new FsError(E.EBUSY, 'name is . or ..');
  }
}
