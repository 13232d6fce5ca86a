/**
 * Extended attributes, through the /proc/self/fd/N path of the inode's O_PATH fd (the xattr calls have no
 * form taking an O_PATH fd). The magic link ends on the inode itself, symlinks included. A size-0 query
 * returns the needed length as a number; a too-small buffer gives the host's ERANGE.
 */
import { check } from '../fs/errno';
import { native, procFdPath } from '../native';
import { PassthroughCore } from './core';

const XATTR_SIZE_MAX = 65536;

export function getxattr(core: PassthroughCore, nodeid: number, name: Buffer, size: number): Buffer | number {
  const path = procFdPath(core.inodes.get(nodeid).fd);
  if (size === 0) return check(native.getxattr(path, name, null), 'getxattr');
  const buf = Buffer.alloc(Math.min(size, XATTR_SIZE_MAX));
  const n = check(native.getxattr(path, name, buf), 'getxattr');
  return buf.subarray(0, n);
}

export function listxattr(core: PassthroughCore, nodeid: number, size: number): Buffer | number {
  const path = procFdPath(core.inodes.get(nodeid).fd);
  if (size === 0) return check(native.listxattr(path, null), 'listxattr');
  const buf = Buffer.alloc(Math.min(size, XATTR_SIZE_MAX));
  const n = check(native.listxattr(path, buf), 'listxattr');
  return buf.subarray(0, n);
}

/** flags: XATTR_CREATE / XATTR_REPLACE, passed as they are. */
export function setxattr(core: PassthroughCore, nodeid: number, name: Buffer, value: Buffer, flags: number): void {
  core.requireWritable();
  check(native.setxattr(procFdPath(core.inodes.get(nodeid).fd), name, value, flags), 'setxattr');
}

export function removexattr(core: PassthroughCore, nodeid: number, name: Buffer): void {
  core.requireWritable();
  check(native.removexattr(procFdPath(core.inodes.get(nodeid).fd), name), 'removexattr');
}
