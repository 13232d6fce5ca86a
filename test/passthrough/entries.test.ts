import test from 'ava';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import { FUSE_ROOT_ID } from '../../daemon/src/fs/filesystem';
import { RENAME_EXCHANGE, RENAME_NOREPLACE } from '../../daemon/src/native';
import { assertSameAsHost, b, makeShare, rootCtx, throwsErrno, userCtx, walk } from './helpers';

const S_IFREG = 0o100000;
const S_IFIFO = 0o010000;
const S_IFDIR = 0o040000;

test('mkdir(), mknod() and symlink() create what the host then shows, with the umask applied', (t) => {
  const { pfs, host } = makeShare(t);
  const d = pfs.mkdir(rootCtx, FUSE_ROOT_ID, b('d'), 0o777, 0o022);
  t.is(fs.lstatSync(host('d')).mode, S_IFDIR | 0o755);
  assertSameAsHost(t, d.attr, host('d'));
  const f = pfs.mknod(rootCtx, d.nodeid, b('f'), S_IFREG | 0o666, 0, 0o027);
  t.is(fs.lstatSync(host('d/f')).mode, S_IFREG | 0o640);
  assertSameAsHost(t, f.attr, host('d/f'));
  const p = pfs.mknod(rootCtx, d.nodeid, b('p'), S_IFIFO | 0o666, 0, 0);
  t.true(fs.lstatSync(host('d/p')).isFIFO());
  t.is(p.attr.mode, S_IFIFO | 0o666, 'umask 0 keeps every bit, whatever the daemon process umask is');
  const l = pfs.symlink(rootCtx, d.nodeid, b('l'), b('../somewhere'));
  t.is(fs.readlinkSync(host('d/l')), '../somewhere');
  assertSameAsHost(t, l.attr, host('d/l'));
  t.is(pfs.readlink(rootCtx, l.nodeid).toString(), '../somewhere');
  throwsErrno(t, () => pfs.readlink(rootCtx, f.nodeid), 'EINVAL', 'readlink of a file');
  t.is(pfs.lookup(rootCtx, FUSE_ROOT_ID, b('d')).nodeid, d.nodeid, 'the created entry was counted once');
});

test('under a default ACL the ACL, not the umask, decides the mode (as on a local filesystem)', (t) => {
  const { pfs, host } = makeShare(t);
  fs.mkdirSync(host('acl'));
  // system.posix_acl_default = user::rwx group::r-x other::r-x (version 2, {tag u16, perm u16, id u32} each)
  const acl = '0x02000000' + '01000700ffffffff' + '04000500ffffffff' + '20000500ffffffff';
  execFileSync('setfattr', ['-n', 'system.posix_acl_default', '-v', acl, host('acl')]);
  const dir = walk(pfs, 'acl');
  pfs.mkdir(rootCtx, dir, b('sub'), 0o777, 0o077);
  t.is(fs.statSync(host('acl/sub')).mode & 0o777, 0o755);
  pfs.mkdir(rootCtx, FUSE_ROOT_ID, b('plain'), 0o777, 0o077);
  t.is(fs.statSync(host('plain')).mode & 0o777, 0o700, 'without an ACL the umask applies');
  const c = pfs.create(rootCtx, dir, b('f'), 0o666, fs.constants.O_WRONLY, 0o077);
  t.is(c.entry.attr.mode & 0o777, 0o644);
});

test('create-type ops refuse existing names, ".", ".." and names with "/"', (t) => {
  const { pfs, host } = makeShare(t);
  fs.writeFileSync(host('x'), '');
  throwsErrno(t, () => pfs.mkdir(rootCtx, FUSE_ROOT_ID, b('x'), 0o755, 0), 'EEXIST');
  throwsErrno(t, () => pfs.mknod(rootCtx, FUSE_ROOT_ID, b('x'), S_IFREG | 0o644, 0, 0), 'EEXIST');
  throwsErrno(t, () => pfs.symlink(rootCtx, FUSE_ROOT_ID, b('x'), b('t')), 'EEXIST');
  for (const name of ['.', '..']) {
    throwsErrno(t, () => pfs.mkdir(rootCtx, FUSE_ROOT_ID, b(name), 0o755, 0), 'EEXIST', `mkdir ${name}`);
    throwsErrno(t, () => pfs.create(rootCtx, FUSE_ROOT_ID, b(name), 0o644, 0o2, 0), 'EEXIST', `create ${name}`);
  }
  throwsErrno(t, () => pfs.mkdir(rootCtx, FUSE_ROOT_ID, b('../escape'), 0o755, 0), 'EINVAL');
  throwsErrno(t, () => pfs.symlink(rootCtx, FUSE_ROOT_ID, b('a/b'), b('t')), 'EINVAL');
  throwsErrno(t, () => pfs.mkdir(rootCtx, FUSE_ROOT_ID, Buffer.alloc(256, 0x62), 0o755, 0), 'ENAMETOOLONG');
  t.false(fs.existsSync(host('../escape')));
  throwsErrno(t, () => pfs.mkdir(rootCtx, walk(pfs, 'x'), b('sub'), 0o755, 0), 'ENOTDIR');
});

test('new inodes belong to the caller, and a setgid directory passes its group on', (t) => {
  const { pfs, host } = makeShare(t);
  fs.chmodSync(host(''), 0o777);
  const d = pfs.mkdir(userCtx, FUSE_ROOT_ID, b('mine'), 0o755, 0);
  t.is(d.attr.uid, 1000);
  t.is(fs.lstatSync(host('mine')).gid, 1000);
  const created = pfs.create(userCtx, d.nodeid, b('file'), 0o644, 0o2, 0);
  t.is(fs.lstatSync(host('mine/file')).uid, 1000);
  pfs.release(userCtx, created.entry.nodeid, created.open.fh, 0);
  fs.mkdirSync(host('shared'));
  fs.chownSync(host('shared'), 0, 4242);
  fs.chmodSync(host('shared'), 0o2777);
  const sharedNode = walk(pfs, 'shared');
  const s = pfs.symlink(userCtx, sharedNode, b('s'), b('t'));
  t.is(s.attr.uid, 1000);
  t.is(s.attr.gid, 4242, 'group inherited from the setgid directory');
  const sub = pfs.mkdir(userCtx, sharedNode, b('sub'), 0o755, 0);
  t.is(sub.attr.mode & 0o2000, 0o2000, 'subdirectories inherit setgid');
  // the daemon's own ids are back afterwards: root may still write into a 0700 root-owned dir
  fs.mkdirSync(host('private'), 0o700);
  throwsErrno(t, () => pfs.mkdir(userCtx, walk(pfs, 'private'), b('no'), 0o755, 0), 'EACCES');
  t.notThrows(() => pfs.mkdir(rootCtx, walk(pfs, 'private'), b('yes'), 0o755, 0));
  t.is(fs.statSync(host('private/yes')).uid, 0);
});

test('link() adds a name to the same nodeid, files and symlinks alike', (t) => {
  const { pfs, host } = makeShare(t);
  fs.writeFileSync(host('f'), 'data');
  fs.symlinkSync('f', host('s'));
  fs.mkdirSync(host('d'));
  const f = walk(pfs, 'f');
  const linked = pfs.link(rootCtx, f, walk(pfs, 'd'), b('f2'));
  t.is(linked.nodeid, f);
  t.is(linked.attr.nlink, 2);
  t.is(fs.lstatSync(host('d/f2')).ino, fs.lstatSync(host('f')).ino);
  const s = walk(pfs, 's');
  t.is(pfs.link(rootCtx, s, FUSE_ROOT_ID, b('s2')).nodeid, s);
  t.is(fs.readlinkSync(host('s2')), 'f', 'the symlink itself was linked, not its target');
  throwsErrno(t, () => pfs.link(rootCtx, f, FUSE_ROOT_ID, b('s2')), 'EEXIST');
  throwsErrno(t, () => pfs.link(rootCtx, walk(pfs, 'd'), FUSE_ROOT_ID, b('dirlink')), 'EPERM');
  // f was counted by walk() and by the successful link(); the failed link() counted nothing
  pfs.forget(f, 1);
  t.notThrows(() => pfs.getattr(rootCtx, f, undefined));
  pfs.forget(f, 1);
  throwsErrno(t, () => pfs.getattr(rootCtx, f, undefined), 'ESTALE');
});

test('unlink() and rmdir() remove names, with the errors Linux gives', (t) => {
  const { pfs, host } = makeShare(t);
  fs.mkdirSync(host('d/e'), { recursive: true });
  fs.writeFileSync(host('d/f'), '');
  const d = walk(pfs, 'd');
  throwsErrno(t, () => pfs.rmdir(rootCtx, FUSE_ROOT_ID, b('d')), 'ENOTEMPTY');
  throwsErrno(t, () => pfs.unlink(rootCtx, FUSE_ROOT_ID, b('d')), 'EISDIR');
  throwsErrno(t, () => pfs.rmdir(rootCtx, d, b('f')), 'ENOTDIR');
  throwsErrno(t, () => pfs.unlink(rootCtx, d, b('missing')), 'ENOENT');
  throwsErrno(t, () => pfs.rmdir(rootCtx, d, b('.')), 'EINVAL');
  throwsErrno(t, () => pfs.rmdir(rootCtx, FUSE_ROOT_ID, b('..')), 'ENOTEMPTY');
  throwsErrno(t, () => pfs.unlink(rootCtx, FUSE_ROOT_ID, b('..')), 'EISDIR');
  pfs.unlink(rootCtx, d, b('f'));
  t.false(fs.existsSync(host('d/f')));
  pfs.rmdir(rootCtx, d, b('e'));
  t.false(fs.existsSync(host('d/e')));
  pfs.rmdir(rootCtx, FUSE_ROOT_ID, b('d'));
  t.false(fs.existsSync(host('d')));
  t.is(pfs.getattr(rootCtx, d, undefined).attr.nlink, 0, 'the held inode outlives its name');
});

test('rename() moves, replaces, and honours RENAME_NOREPLACE and RENAME_EXCHANGE', (t) => {
  const { pfs, host } = makeShare(t);
  fs.mkdirSync(host('a'));
  fs.mkdirSync(host('b'));
  fs.writeFileSync(host('a/x'), 'X');
  fs.writeFileSync(host('b/y'), 'Y');
  const a = walk(pfs, 'a');
  const bDir = walk(pfs, 'b');
  const x = pfs.lookup(rootCtx, a, b('x')).nodeid;
  throwsErrno(t, () => pfs.rename(rootCtx, a, b('x'), bDir, b('y'), RENAME_NOREPLACE), 'EEXIST');
  pfs.rename(rootCtx, a, b('x'), bDir, b('y'), RENAME_EXCHANGE);
  t.is(fs.readFileSync(host('a/x'), 'utf8'), 'Y');
  t.is(fs.readFileSync(host('b/y'), 'utf8'), 'X');
  t.is(pfs.lookup(rootCtx, bDir, b('y')).nodeid, x, 'the nodeid follows the inode');
  pfs.rename(rootCtx, a, b('x'), bDir, b('y'), 0);
  t.is(fs.readFileSync(host('b/y'), 'utf8'), 'Y');
  t.false(fs.existsSync(host('a/x')));
  pfs.rename(rootCtx, bDir, b('y'), a, b('z'), RENAME_NOREPLACE);
  t.is(fs.readFileSync(host('a/z'), 'utf8'), 'Y');
  throwsErrno(t, () => pfs.rename(rootCtx, a, b('nope'), bDir, b('q'), 0), 'ENOENT');
  throwsErrno(t, () => pfs.rename(rootCtx, a, b('z'), bDir, b('q'), RENAME_EXCHANGE), 'ENOENT');
  throwsErrno(t, () => pfs.rename(rootCtx, FUSE_ROOT_ID, b('a'), a, b('inside'), 0), 'EINVAL', 'into itself');
  throwsErrno(t, () => pfs.rename(rootCtx, a, b('..'), bDir, b('q'), 0), 'EBUSY');
  throwsErrno(t, () => pfs.rename(rootCtx, a, b('z'), bDir, b('../q'), 0), 'EINVAL');
  fs.writeFileSync(host('b/file'), '');
  throwsErrno(t, () => pfs.rename(rootCtx, FUSE_ROOT_ID, b('b'), a, b('z'), 0), 'ENOTDIR', 'dir over a file');
});

test('a read-only share refuses every change with EROFS', (t) => {
  const { pfs, host } = makeShare(t, false);
  fs.writeFileSync(host('f'), 'x');
  fs.mkdirSync(host('d'));
  const f = walk(pfs, 'f');
  const ops: [string, () => unknown][] = [
    ['mkdir', () => pfs.mkdir(rootCtx, FUSE_ROOT_ID, b('n'), 0o755, 0)],
    ['mknod', () => pfs.mknod(rootCtx, FUSE_ROOT_ID, b('n'), S_IFREG | 0o644, 0, 0)],
    ['symlink', () => pfs.symlink(rootCtx, FUSE_ROOT_ID, b('n'), b('t'))],
    ['link', () => pfs.link(rootCtx, f, FUSE_ROOT_ID, b('n'))],
    ['unlink', () => pfs.unlink(rootCtx, FUSE_ROOT_ID, b('f'))],
    ['rmdir', () => pfs.rmdir(rootCtx, FUSE_ROOT_ID, b('d'))],
    ['rename', () => pfs.rename(rootCtx, FUSE_ROOT_ID, b('f'), FUSE_ROOT_ID, b('g'), 0)],
    ['create', () => pfs.create(rootCtx, FUSE_ROOT_ID, b('n'), 0o644, 0o1, 0)],
    ['open for write', () => pfs.open(rootCtx, f, 0o1)],
    ['open O_TRUNC', () => pfs.open(rootCtx, f, 0o1000)],
    ['setattr', () => pfs.setattr(rootCtx, f, { valid: 1, fh: 0, size: 0, atimeSec: 0, atimeNsec: 0,
      mtimeSec: 0, mtimeNsec: 0, mode: 0o600, uid: 0, gid: 0 })],
    ['setxattr', () => pfs.setxattr(rootCtx, f, b('user.a'), b('v'), 0)],
    ['removexattr', () => pfs.removexattr(rootCtx, f, b('user.a'))],
  ];
  for (const [name, op] of ops) throwsErrno(t, op, 'EROFS', name);
  t.deepEqual(fs.readdirSync(host('')).sort(), ['d', 'f']);
  const h = pfs.open(rootCtx, f, 0);
  t.is(pfs.read(rootCtx, f, h.fh, 0, 10).toString(), 'x');
});
