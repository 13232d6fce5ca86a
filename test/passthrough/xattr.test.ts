import test from 'ava';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import { FUSE_ROOT_ID } from '../../daemon/src/fs/filesystem';
import { b, makeShare, rootCtx, throwsErrno, walk } from './helpers';

const XATTR_CREATE = 1;
const XATTR_REPLACE = 2;

/** The host's view, read with getfattr (package attr), -h: the symlink itself. */
function hostXattr(path: string, name: string): string {
  return execFileSync('getfattr', ['-h', '--absolute-names', '--only-values', '-n', name, path], { encoding: 'utf8', stdio: 'pipe' });
}

test('setxattr()/getxattr()/listxattr()/removexattr() on a file match the host', (t) => {
  const { pfs, host } = makeShare(t);
  fs.writeFileSync(host('f'), '');
  const f = walk(pfs, 'f');
  pfs.setxattr(rootCtx, f, b('user.colour'), b('blue'), 0);
  pfs.setxattr(rootCtx, f, b('user.size'), b('large'), XATTR_CREATE);
  t.is(hostXattr(host('f'), 'user.colour'), 'blue');
  t.is(pfs.getxattr(rootCtx, f, b('user.colour'), 0), 4, 'size query gives the length');
  t.deepEqual(pfs.getxattr(rootCtx, f, b('user.colour'), 100), b('blue'));
  throwsErrno(t, () => pfs.getxattr(rootCtx, f, b('user.colour'), 2), 'ERANGE');
  throwsErrno(t, () => pfs.getxattr(rootCtx, f, b('user.none'), 10), 'ENODATA');
  const listLength = pfs.listxattr(rootCtx, f, 0);
  t.is(listLength, 'user.colour\0user.size\0'.length);
  const list = pfs.listxattr(rootCtx, f, 1000) as Buffer;
  t.deepEqual(list.toString().split('\0').filter(Boolean).sort(), ['user.colour', 'user.size']);
  throwsErrno(t, () => pfs.listxattr(rootCtx, f, 3), 'ERANGE');
  throwsErrno(t, () => pfs.setxattr(rootCtx, f, b('user.size'), b('x'), XATTR_CREATE), 'EEXIST');
  throwsErrno(t, () => pfs.setxattr(rootCtx, f, b('user.new'), b('x'), XATTR_REPLACE), 'ENODATA');
  pfs.setxattr(rootCtx, f, b('user.size'), b('small'), XATTR_REPLACE);
  t.is(hostXattr(host('f'), 'user.size'), 'small');
  pfs.removexattr(rootCtx, f, b('user.size'));
  throwsErrno(t, () => pfs.removexattr(rootCtx, f, b('user.size')), 'ENODATA');
  t.is(pfs.listxattr(rootCtx, f, 0), 'user.colour\0'.length);
  pfs.setxattr(rootCtx, f, b('user.empty'), Buffer.alloc(0), 0);
  t.is(pfs.getxattr(rootCtx, f, b('user.empty'), 0), 0);
  t.deepEqual(pfs.getxattr(rootCtx, f, b('user.empty'), 10), Buffer.alloc(0));
});

test('xattrs of a symlink are its own, never its target\'s', (t) => {
  const { pfs, host } = makeShare(t);
  fs.writeFileSync(host('target'), '');
  fs.symlinkSync('target', host('l'));
  const l = walk(pfs, 'l');
  pfs.setxattr(rootCtx, l, b('trusted.mark'), b('on-link'), 0);
  t.is(hostXattr(host('l'), 'trusted.mark'), 'on-link');
  t.throws(() => hostXattr(host('target'), 'trusted.mark'), undefined, 'the target has no such xattr');
  t.deepEqual(pfs.getxattr(rootCtx, l, b('trusted.mark'), 64), b('on-link'));
  throwsErrno(t, () => pfs.setxattr(rootCtx, l, b('user.x'), b('1'), 0), 'EPERM', 'user.* is not allowed on symlinks');
  throwsErrno(t, () => pfs.getxattr(rootCtx, FUSE_ROOT_ID, b('user.none'), 0), 'ENODATA', 'directory');
  pfs.setxattr(rootCtx, FUSE_ROOT_ID, b('user.dir'), b('d'), 0);
  t.is(hostXattr(host(''), 'user.dir'), 'd');
});
