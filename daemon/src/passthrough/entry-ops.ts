/**
 * Ops that add or remove names: symlink, mknod, mkdir, link, unlink, rmdir, rename. Each works on one name
 * under the parent's O_PATH fd (the *at() calls), after checkName. New inodes are made as the caller
 * (asCaller, the request's umask in force), then opened O_PATH|O_NOFOLLOW and counted.
 */
import { Entry } from '../fs/filesystem';
import { check } from '../fs/errno';
import { native, AT_FDCWD, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, procFdPath } from '../native';
import { PassthroughCore } from './core';
import { asCaller, checkName, openPathAt } from './host';

interface Caller {
  uid: number;
  gid: number;
}

/** Makes one new name under `parent` with `make(dirFd)` run as the caller, then looks it up. */
function makeEntry(core: PassthroughCore, ctx: Caller, parent: number, name: Buffer, umask: number,
  make: (dirFd: number) => number, what: string): Entry {
  core.requireWritable();
  checkName(name, 'create');
  const dir = core.inodes.get(parent);
  check(asCaller(ctx, umask, () => make(dir.fd)), what);
  return core.enter(openPathAt(dir.fd, name));
}

export function symlink(core: PassthroughCore, ctx: Caller, parent: number, name: Buffer, target: Buffer): Entry {
  return makeEntry(core, ctx, parent, name, 0, (dirFd) => native.symlinkat(target, dirFd, name), 'symlinkat');
}

export function mknod(core: PassthroughCore, ctx: Caller, parent: number, name: Buffer, mode: number,
  rdev: number, umask: number): Entry {
  return makeEntry(core, ctx, parent, name, umask, (dirFd) => native.mknodat(dirFd, name, mode, rdev), 'mknodat');
}

export function mkdir(core: PassthroughCore, ctx: Caller, parent: number, name: Buffer, mode: number,
  umask: number): Entry {
  const perms = mode & 0o7777;
  return makeEntry(core, ctx, parent, name, umask, (dirFd) => native.mkdirat(dirFd, name, perms), 'mkdirat');
}

/**
 * A new name for an inode we hold: linkat through its /proc magic link with AT_SYMLINK_FOLLOW reaches the
 * inode itself (symlinks included) without needing CAP_DAC_READ_SEARCH for AT_EMPTY_PATH.
 */
export function link(core: PassthroughCore, ctx: Caller, nodeid: number, newParent: number, newName: Buffer): Entry {
  core.requireWritable();
  checkName(newName, 'create');
  const inode = core.inodes.get(nodeid);
  const dir = core.inodes.get(newParent);
  const rc = asCaller(ctx, 0, () => native.linkat(AT_FDCWD, procFdPath(inode.fd), dir.fd, newName, AT_SYMLINK_FOLLOW));
  check(rc, 'linkat');
  return core.enterKnown(inode);
}

export function unlink(core: PassthroughCore, parent: number, name: Buffer): void {
  core.requireWritable();
  checkName(name, 'unlink');
  check(native.unlinkat(core.inodes.get(parent).fd, name, 0), 'unlinkat');
}

export function rmdir(core: PassthroughCore, parent: number, name: Buffer): void {
  core.requireWritable();
  checkName(name, 'rmdir');
  check(native.unlinkat(core.inodes.get(parent).fd, name, AT_REMOVEDIR), 'unlinkat');
}

/** flags pass to renameat2 as they are (RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT). */
export function rename(core: PassthroughCore, parent: number, name: Buffer, newParent: number, newName: Buffer,
  flags: number): void {
  core.requireWritable();
  checkName(name, 'rename');
  checkName(newName, 'rename');
  const from = core.inodes.get(parent);
  const to = core.inodes.get(newParent);
  check(native.renameat2(from.fd, name, to.fd, newName, flags), 'renameat2');
}
