import test from 'ava';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FUSE_ROOT_ID } from '../../daemon/src/fs/filesystem';
import { b, makeShare, rootCtx, throwsErrno, userCtx, walk } from './helpers';

function outsideDir(t: { teardown(fn: () => void): void }): string {
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'pt-outside-'));
  t.teardown(() => fs.rmSync(outside, { recursive: true, force: true }));
  fs.writeFileSync(path.join(outside, 'secret'), 'secret');
  return outside;
}

test('a symlink to an outside directory cannot be used as a parent by any op', (t) => {
  const { pfs, host } = makeShare(t);
  const outside = outsideDir(t);
  fs.symlinkSync(outside, host('out'));
  const out = walk(pfs, 'out');
  const attempts: [string, () => unknown][] = [
    ['lookup', () => pfs.lookup(rootCtx, out, b('secret'))],
    ['mkdir', () => pfs.mkdir(rootCtx, out, b('new'), 0o755, 0)],
    ['mknod', () => pfs.mknod(rootCtx, out, b('new'), 0o100644, 0, 0)],
    ['symlink', () => pfs.symlink(rootCtx, out, b('new'), b('t'))],
    ['create', () => pfs.create(rootCtx, out, b('new'), 0o644, fs.constants.O_WRONLY, 0)],
    ['unlink', () => pfs.unlink(rootCtx, out, b('secret'))],
    ['rmdir', () => pfs.rmdir(rootCtx, out, b('secret'))],
    ['rename from', () => pfs.rename(rootCtx, out, b('secret'), FUSE_ROOT_ID, b('stolen'), 0)],
    ['rename into', () => pfs.rename(rootCtx, FUSE_ROOT_ID, b('out'), out, b('x'), 0)],
    ['opendir', () => pfs.opendir(rootCtx, out, 0)],
  ];
  for (const [what, op] of attempts) throwsErrno(t, op, 'ENOTDIR', what);
  t.deepEqual(fs.readdirSync(outside), ['secret'], 'nothing created, moved or removed outside');
  t.is(fs.readFileSync(path.join(outside, 'secret'), 'utf8'), 'secret');
});

test('setattr and xattrs on a symlink to an outside file change the link only', (t) => {
  const { pfs, host } = makeShare(t);
  const outside = outsideDir(t);
  const secret = path.join(outside, 'secret');
  fs.chmodSync(secret, 0o600);
  const before = fs.statSync(secret);
  fs.symlinkSync(secret, host('link'));
  const link = walk(pfs, 'link');
  pfs.setattr(rootCtx, link, { valid: (1 << 1) | (1 << 2) | (1 << 5), fh: 0, size: 0, atimeSec: 0, atimeNsec: 0,
    mtimeSec: 5, mtimeNsec: 0, mode: 0, uid: 1000, gid: 1000 });
  throwsErrno(t, () => pfs.setattr(rootCtx, link, { valid: 1 << 3, fh: 0, size: 0, atimeSec: 0, atimeNsec: 0,
    mtimeSec: 0, mtimeNsec: 0, mode: 0, uid: 0, gid: 0 }), 'EINVAL', 'truncate through the link');
  pfs.setxattr(rootCtx, link, b('trusted.x'), b('1'), 0);
  const after = fs.statSync(secret);
  t.is(after.uid, before.uid);
  t.is(after.mtimeMs, before.mtimeMs);
  t.is(after.size, before.size);
  t.is(fs.lstatSync(host('link')).uid, 1000);
  pfs.link(rootCtx, link, FUSE_ROOT_ID, b('hard'));
  t.true(fs.lstatSync(host('hard')).isSymbolicLink(), 'link() linked the symlink itself');
  t.is(fs.statSync(secret).nlink, 1, 'the outside file got no new name');
});

test('a directory swapped for a symlink on the host: the old nodeid keeps the real directory', (t) => {
  const { pfs, host } = makeShare(t);
  const outside = outsideDir(t);
  fs.mkdirSync(host('d'));
  const d = walk(pfs, 'd');
  fs.renameSync(host('d'), host('moved'));
  fs.symlinkSync(outside, host('d'));
  pfs.mkdir(rootCtx, d, b('made'), 0o755, 0);
  t.true(fs.existsSync(host('moved/made')), 'the op landed in the directory the nodeid stands for');
  t.deepEqual(fs.readdirSync(outside), ['secret']);
  t.is(pfs.lookup(rootCtx, FUSE_ROOT_ID, b('d')).attr.mode & 0o170000, 0o120000, 'the new name is a symlink node');
});

test('an unprivileged caller cannot create where the host would not let it', (t) => {
  const { pfs, host } = makeShare(t);
  fs.mkdirSync(host('rootonly'), 0o755);
  const dir = walk(pfs, 'rootonly');
  throwsErrno(t, () => pfs.create(userCtx, dir, b('f'), 0o644, fs.constants.O_WRONLY, 0), 'EACCES');
  throwsErrno(t, () => pfs.symlink(userCtx, dir, b('s'), b('t')), 'EACCES');
  throwsErrno(t, () => pfs.mknod(userCtx, dir, b('n'), 0o100644, 0, 0), 'EACCES');
  t.deepEqual(fs.readdirSync(host('rootonly')), []);
});

test('access() checks the mode bits for the caller', (t) => {
  const { pfs, host } = makeShare(t);
  fs.writeFileSync(host('f'), '');
  fs.chmodSync(host('f'), 0o640);
  fs.chownSync(host('f'), 1000, 2000);
  const f = walk(pfs, 'f');
  const R = 4;
  const W = 2;
  const X = 1;
  t.notThrows(() => pfs.access(userCtx, f, R | W));
  throwsErrno(t, () => pfs.access(userCtx, f, X), 'EACCES');
  t.notThrows(() => pfs.access({ uid: 5, gid: 2000, pid: 1 }, f, R));
  throwsErrno(t, () => pfs.access({ uid: 5, gid: 2000, pid: 1 }, f, W), 'EACCES');
  throwsErrno(t, () => pfs.access({ uid: 5, gid: 5, pid: 1 }, f, R), 'EACCES');
  t.notThrows(() => pfs.access(rootCtx, f, R | W));
  throwsErrno(t, () => pfs.access(rootCtx, f, X), 'EACCES', 'root needs some x bit');
  t.notThrows(() => pfs.access(rootCtx, FUSE_ROOT_ID, X));
  t.notThrows(() => pfs.access(userCtx, f, 0), 'F_OK');
});
