import test from 'ava';
import * as fs from 'fs';
import { FATTR_ATIME, FATTR_ATIME_NOW, FATTR_FH, FATTR_GID, FATTR_MODE, FATTR_MTIME, FATTR_MTIME_NOW, FATTR_SIZE,
  FATTR_UID, FUSE_ROOT_ID } from '../../daemon/src/fs/filesystem';
import { SEEK_DATA, SEEK_HOLE } from '../../daemon/src/native';
import {
  assertSameAsHost, b, makeShare, openFdCount, rootCtx, setattrIn, throwsErrno, userCtx, walk,
} from './helpers';

const { O_RDONLY, O_WRONLY, O_RDWR, O_EXCL, O_TRUNC, O_APPEND } = fs.constants;

test('open(), read() and write() go to the host file', (t) => {
  const { pfs, host } = makeShare(t);
  fs.writeFileSync(host('f'), 'hello world');
  const f = walk(pfs, 'f');
  const ro = pfs.open(rootCtx, f, O_RDONLY);
  t.is(pfs.read(rootCtx, f, ro.fh, 6, 100).toString(), 'world', 'short read at the end');
  t.is((pfs.read(rootCtx, f, ro.fh, 100, 10) as Buffer).length, 0, 'read past the end');
  throwsErrno(t, () => pfs.write(rootCtx, f, ro.fh, 0, b('x'), 0), 'EBADF', 'write on a read-only handle');
  const rw = pfs.open(rootCtx, f, O_RDWR);
  t.is(pfs.write(rootCtx, f, rw.fh, 0, b('HELLO'), 0), 5);
  t.is(pfs.write(rootCtx, f, rw.fh, 15, b('!'), 0), 1);
  t.deepEqual(fs.readFileSync(host('f')), Buffer.concat([b('HELLO world'), Buffer.alloc(4), b('!')]));
  t.is(pfs.read(rootCtx, f, ro.fh, 0, 5).toString(), 'HELLO');
  assertSameAsHost(t, pfs.getattr(rootCtx, f, rw.fh).attr, host('f'));
  t.notThrows(() => pfs.flush(rootCtx, f, rw.fh, 0n));
  t.notThrows(() => pfs.fsync(rootCtx, f, rw.fh, false));
  t.notThrows(() => pfs.fsync(rootCtx, f, rw.fh, true));
  const fds = openFdCount();
  pfs.release(rootCtx, f, rw.fh, 0);
  pfs.release(rootCtx, f, ro.fh, 0);
  t.is(openFdCount(), fds - 2, 'release closes the handle fd');
  throwsErrno(t, () => pfs.read(rootCtx, f, ro.fh, 0, 1), 'EBADF', 'read after release');
  const again = pfs.open(rootCtx, f, O_RDONLY);
  t.true(again.fh > rw.fh, 'fhs are never reused');
  const trunc = pfs.open(rootCtx, f, O_WRONLY | O_TRUNC);
  t.is(fs.statSync(host('f')).size, 0, 'O_TRUNC truncates');
  pfs.release(rootCtx, f, trunc.fh, 0);
});

test('writes on an O_APPEND handle land at the end whatever the offset', (t) => {
  const { pfs, host } = makeShare(t);
  fs.writeFileSync(host('log'), 'one\n');
  const f = walk(pfs, 'log');
  const h = pfs.open(rootCtx, f, O_WRONLY | O_APPEND);
  pfs.write(rootCtx, f, h.fh, 0, b('two\n'), 0);
  fs.appendFileSync(host('log'), 'host\n');
  pfs.write(rootCtx, f, h.fh, 1, b('three\n'), 0);
  t.is(fs.readFileSync(host('log'), 'utf8'), 'one\ntwo\nhost\nthree\n');
});

test('open() refuses directories, symlinks (loops included) and FIFOs', (t) => {
  const { pfs, host } = makeShare(t);
  fs.mkdirSync(host('d'));
  fs.symlinkSync('loop', host('loop'));
  fs.symlinkSync('d', host('todir'));
  const fifo = pfs.mknod(rootCtx, FUSE_ROOT_ID, b('fifo'), fs.constants.S_IFIFO | 0o666, 0, 0);
  throwsErrno(t, () => pfs.open(rootCtx, walk(pfs, 'd'), O_RDONLY), 'EISDIR');
  throwsErrno(t, () => pfs.open(rootCtx, walk(pfs, 'loop'), O_RDONLY), 'ELOOP', 'symlink loop');
  throwsErrno(t, () => pfs.open(rootCtx, walk(pfs, 'todir'), O_RDONLY), 'ELOOP');
  throwsErrno(t, () => pfs.lookup(rootCtx, walk(pfs, 'loop'), b('x')), 'ENOTDIR', 'a loop is not a directory');
  throwsErrno(t, () => pfs.open(rootCtx, fifo.nodeid, O_RDONLY), 'ENXIO', 'never block on a FIFO');
  throwsErrno(t, () => pfs.create(rootCtx, FUSE_ROOT_ID, b('fifo'), 0o644, O_RDONLY, 0), 'ENXIO', 'create over a FIFO');
  throwsErrno(t, () => pfs.create(rootCtx, FUSE_ROOT_ID, b('loop'), 0o644, O_WRONLY, 0), 'ELOOP', 'create over a symlink');
  throwsErrno(t, () => pfs.create(rootCtx, FUSE_ROOT_ID, b('d'), 0o644, O_WRONLY, 0), 'EISDIR');
  t.false(fs.existsSync(host('d/loop')));
});

test('create() makes a new file, opens an existing one, and honours O_EXCL', (t) => {
  const { pfs, host } = makeShare(t);
  const c = pfs.create(rootCtx, FUSE_ROOT_ID, b('new'), 0o666, O_RDWR, 0o022);
  t.is(fs.statSync(host('new')).mode & 0o777, 0o644);
  assertSameAsHost(t, c.entry.attr, host('new'));
  t.is(pfs.write(rootCtx, c.entry.nodeid, c.open.fh, 0, b('abc'), 0), 3);
  t.is(pfs.read(rootCtx, c.entry.nodeid, c.open.fh, 0, 10).toString(), 'abc');
  t.is(pfs.lookup(rootCtx, FUSE_ROOT_ID, b('new')).nodeid, c.entry.nodeid);
  throwsErrno(t, () => pfs.create(rootCtx, FUSE_ROOT_ID, b('new'), 0o644, O_RDWR | O_EXCL, 0), 'EEXIST');
  const again = pfs.create(rootCtx, FUSE_ROOT_ID, b('new'), 0o600, O_RDWR, 0);
  t.is(again.entry.nodeid, c.entry.nodeid, 'an existing file is opened');
  t.is(pfs.read(rootCtx, again.entry.nodeid, again.open.fh, 0, 10).toString(), 'abc', 'and not truncated');
  t.is(fs.statSync(host('new')).mode & 0o777, 0o644, 'and its mode is untouched');
  fs.chmodSync(host(''), 0o777);
  throwsErrno(t, () => pfs.create(userCtx, FUSE_ROOT_ID, b('new'), 0o666, O_RDWR, 0), 'EACCES',
    'an existing file is opened with the caller\'s permissions, not root\'s');
  const truncated = pfs.create(rootCtx, FUSE_ROOT_ID, b('new'), 0o600, O_RDWR | O_TRUNC, 0);
  t.is((pfs.read(rootCtx, truncated.entry.nodeid, truncated.open.fh, 0, 10) as Buffer).length, 0, 'O_TRUNC on an existing file');
});

test('sparse files: lseek() finds data and holes, fallocate() punches and extends', (t) => {
  const { pfs, host } = makeShare(t);
  const c = pfs.create(rootCtx, FUSE_ROOT_ID, b('sparse'), 0o644, O_RDWR, 0);
  const { nodeid } = c.entry;
  const fh = c.open.fh;
  const MiB = 1024 * 1024;
  pfs.write(rootCtx, nodeid, fh, 4 * MiB, Buffer.alloc(4096, 1), 0);
  pfs.write(rootCtx, nodeid, fh, 8 * MiB, Buffer.alloc(4096, 2), 0);
  t.is(pfs.lseek(rootCtx, nodeid, fh, 0, SEEK_DATA), 4 * MiB);
  t.is(pfs.lseek(rootCtx, nodeid, fh, 4 * MiB, SEEK_HOLE), 4 * MiB + 4096);
  t.is(pfs.lseek(rootCtx, nodeid, fh, 4 * MiB + 4096, SEEK_DATA), 8 * MiB);
  t.is(pfs.lseek(rootCtx, nodeid, fh, 8 * MiB, SEEK_HOLE), 8 * MiB + 4096, 'end of file is a hole');
  throwsErrno(t, () => pfs.lseek(rootCtx, nodeid, fh, 9 * MiB, SEEK_DATA), 'ENXIO');
  const FALLOC_FL_KEEP_SIZE = 1;
  const FALLOC_FL_PUNCH_HOLE = 2;
  pfs.fallocate(rootCtx, nodeid, fh, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4 * MiB, 4096);
  t.is(pfs.lseek(rootCtx, nodeid, fh, 0, SEEK_DATA), 8 * MiB, 'the punched range is a hole now');
  t.deepEqual(pfs.read(rootCtx, nodeid, fh, 4 * MiB, 16), Buffer.alloc(16));
  pfs.fallocate(rootCtx, nodeid, fh, 0, 0, 16 * MiB);
  t.is(fs.statSync(host('sparse')).size, 16 * MiB);
  t.true(fs.statSync(host('sparse')).blocks * 512 >= 16 * MiB, 'blocks allocated');
});

test('copyFileRange() copies between two handles', (t) => {
  const { pfs, host } = makeShare(t);
  const data = Buffer.from(Array.from({ length: 100000 }, (_, i) => i % 251));
  fs.writeFileSync(host('src'), data);
  const src = walk(pfs, 'src');
  const hin = pfs.open(rootCtx, src, O_RDONLY);
  const dst = pfs.create(rootCtx, FUSE_ROOT_ID, b('dst'), 0o644, O_WRONLY, 0);
  const n = pfs.copyFileRange(rootCtx, src, hin.fh, 1000, dst.entry.nodeid, dst.open.fh, 10, 50000, 0);
  t.is(n, 50000);
  const out = fs.readFileSync(host('dst'));
  t.is(out.length, 50010);
  t.deepEqual(out.subarray(10), data.subarray(1000, 51000));
  throwsErrno(t, () => pfs.copyFileRange(rootCtx, src, 999, 0, src, hin.fh, 0, 1, 0), 'EBADF');
});

test('setattr() changes mode, owner, size (by handle or not) and times, NOW and OMIT included', (t) => {
  const { pfs, host } = makeShare(t);
  fs.writeFileSync(host('f'), '0123456789');
  fs.symlinkSync('f', host('l'));
  const f = walk(pfs, 'f');
  let r = pfs.setattr(rootCtx, f, setattrIn({ valid: FATTR_MODE, mode: 0o100640 }));
  t.is(fs.statSync(host('f')).mode & 0o7777, 0o640);
  assertSameAsHost(t, r.attr, host('f'));
  r = pfs.setattr(rootCtx, f, setattrIn({ valid: FATTR_UID | FATTR_GID, uid: 1234, gid: 5678 }));
  t.is(fs.statSync(host('f')).uid, 1234);
  t.is(fs.statSync(host('f')).gid, 5678);
  pfs.setattr(rootCtx, f, setattrIn({ valid: FATTR_GID, gid: 42 }));
  t.is(fs.statSync(host('f')).uid, 1234, 'uid kept when only gid is set');
  pfs.setattr(rootCtx, f, setattrIn({ valid: FATTR_SIZE, size: 4 }));
  t.is(fs.readFileSync(host('f'), 'utf8'), '0123');
  const h = pfs.open(rootCtx, f, O_RDWR);
  pfs.setattr(rootCtx, f, setattrIn({ valid: FATTR_SIZE | FATTR_FH, size: 2, fh: h.fh }));
  t.is(fs.readFileSync(host('f'), 'utf8'), '01');
  r = pfs.setattr(rootCtx, f, setattrIn({ valid: FATTR_ATIME | FATTR_MTIME, atimeSec: 1000, atimeNsec: 5,
    mtimeSec: 2000, mtimeNsec: 123456789 }));
  let st = fs.statSync(host('f'), { bigint: true });
  t.is(st.atimeNs, 1000000000005n);
  t.is(st.mtimeNs, 2000123456789n);
  assertSameAsHost(t, r.attr, host('f'));
  pfs.setattr(rootCtx, f, setattrIn({ valid: FATTR_MTIME | FATTR_MTIME_NOW }));
  st = fs.statSync(host('f'), { bigint: true });
  t.is(st.atimeNs, 1000000000005n, 'atime omitted');
  t.true(Math.abs(Number(st.mtimeMs) - Date.now()) < 10000, 'mtime now');
  pfs.setattr(rootCtx, f, setattrIn({ valid: FATTR_ATIME | FATTR_ATIME_NOW }));
  t.true(Math.abs(Number(fs.statSync(host('f')).atimeMs) - Date.now()) < 10000, 'atime now');
  const l = walk(pfs, 'l');
  throwsErrno(t, () => pfs.setattr(rootCtx, l, setattrIn({ valid: FATTR_MODE, mode: 0o600 })), 'EOPNOTSUPP');
  pfs.setattr(rootCtx, l, setattrIn({ valid: FATTR_MTIME, mtimeSec: 3000 }));
  t.is(fs.lstatSync(host('l')).mtimeMs, 3000000, 'the symlink itself gets the time');
  t.is(fs.statSync(host('f')).mtimeMs !== 3000000, true, 'not its target');
  pfs.setattr(rootCtx, l, setattrIn({ valid: FATTR_UID, uid: 77 }));
  t.is(fs.lstatSync(host('l')).uid, 77);
  throwsErrno(t, () => pfs.setattr(rootCtx, l, setattrIn({ valid: FATTR_SIZE, size: 0 })), 'EINVAL');
  throwsErrno(t, () => pfs.setattr(rootCtx, FUSE_ROOT_ID, setattrIn({ valid: FATTR_SIZE, size: 0 })), 'EISDIR');
});

test('an unlinked file stays readable through its open handle', (t) => {
  const { pfs, host } = makeShare(t);
  fs.writeFileSync(host('gone'), 'still here');
  const f = walk(pfs, 'gone');
  const h = pfs.open(rootCtx, f, O_RDWR);
  pfs.unlink(rootCtx, FUSE_ROOT_ID, b('gone'));
  t.is(pfs.read(rootCtx, f, h.fh, 0, 100).toString(), 'still here');
  pfs.write(rootCtx, f, h.fh, 0, b('STILL'), 0);
  t.is(pfs.read(rootCtx, f, h.fh, 0, 100).toString(), 'STILL here');
  t.is(pfs.getattr(rootCtx, f, h.fh).attr.nlink, 0);
  const reopened = pfs.open(rootCtx, f, O_RDONLY);
  t.is(pfs.read(rootCtx, f, reopened.fh, 0, 5).toString(), 'STILL', 'reopen through /proc works without a name');
});

test('reads of 64 KiB and more run on the threadpool and return the same bytes', async (t) => {
  const { pfs, host } = makeShare(t);
  const data = Buffer.alloc(3 << 20, 0);
  for (let i = 0; i < data.length; i += 4096) data.writeUInt32LE(i, i);
  fs.writeFileSync(host('big'), data);
  const f = walk(pfs, 'big');
  const h = pfs.open(rootCtx, f, O_RDONLY);
  const small = pfs.read(rootCtx, f, h.fh, 4096, 4096);
  t.true(Buffer.isBuffer(small), 'a small read answers synchronously');
  const big = pfs.read(rootCtx, f, h.fh, 1 << 20, 1 << 20);
  t.true(big instanceof Promise, 'a large read answers asynchronously');
  t.deepEqual(await big, data.subarray(1 << 20, 2 << 20));
  t.is((await pfs.read(rootCtx, f, h.fh, (3 << 20) - 100, 1 << 20)).length, 100, 'short read at the end');
});
