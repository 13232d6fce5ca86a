/**
 * RafsFs as a FileSystem: nodeids, errors for what a read-only image cannot do, open flags, access,
 * statfs and xattr size negotiation, checked on a small mkfs.erofs image.
 */
import test from 'ava';
import * as fs from 'fs';
import * as path from 'path';
import { execFileSync } from 'child_process';
import { openRafs, RafsFs } from '../../daemon/src/rafs';
import { FOPEN_CACHE_DIR, FOPEN_KEEP_CACHE, FOPEN_NOFLUSH } from '../../daemon/src/fs/filesystem';
import { E } from '../../daemon/src/fs/errno';
import { mkfsErofs, tempDir } from './helpers/system';
import { CTX } from './helpers/snapshot-fs';

const work = tempDir('api');
let rafs: RafsFs;
test.before(async () => {
  const src = path.join(work, 'src');
  fs.mkdirSync(path.join(src, 'dir'), { recursive: true });
  fs.writeFileSync(path.join(src, 'dir/file'), 'data');
  fs.chmodSync(path.join(src, 'dir/file'), 0o640);
  fs.chownSync(path.join(src, 'dir/file'), 1000, 2000);
  execFileSync('setfattr', ['-n', 'user.k', '-v', 'value', path.join(src, 'dir/file')]);
  const img = path.join(work, 'img');
  mkfsErofs(img, src, []);
  rafs = await openRafs({ bootstrap: img, entryTimeout: 77, attrTimeout: 88 });
});
test.after.always(async () => { await rafs?.close(); fs.rmSync(work, { recursive: true, force: true }); });

const errnoOf = async (p: unknown): Promise<number | undefined> => {
  try { await p; return undefined; } catch (err) { return (err as { errno?: number }).errno; }
};

test('nodeids: root is 1, others nid + 2 (< 2^36), st_ino = nid, timeouts from the options', async (t) => {
  const root = await rafs.getattr(CTX, 1, undefined);
  t.is(root.attr.ino, rafs.meta.sb.rootNid);
  t.is(root.attrTimeout, 88);
  const dir = await rafs.lookup(CTX, 1, Buffer.from('dir'));
  t.is(dir.nodeid, dir.attr.ino + 2);
  t.true(dir.nodeid < 2 ** 36);
  t.is(dir.entryTimeout, 77);
  const dotdot = await rafs.lookup(CTX, dir.nodeid, Buffer.from('..'));
  t.is(dotdot.nodeid, 1, '".." of a top-level directory is the root nodeid');
  t.is(await errnoOf(rafs.getattr(CTX, 0, undefined)), E.ESTALE);
  t.is(await errnoOf(rafs.getattr(CTX, 2 ** 40, undefined)), E.ESTALE);
});

test('lookup errors: ENOENT, ENOTDIR, ENAMETOOLONG', async (t) => {
  const dir = await rafs.lookup(CTX, 1, Buffer.from('dir'));
  const file = await rafs.lookup(CTX, dir.nodeid, Buffer.from('file'));
  t.is(await errnoOf(rafs.lookup(CTX, dir.nodeid, Buffer.from('nope'))), E.ENOENT);
  t.is(await errnoOf(rafs.lookup(CTX, file.nodeid, Buffer.from('x'))), E.ENOTDIR);
  t.is(await errnoOf(rafs.lookup(CTX, 1, Buffer.alloc(256, 0x61))), E.ENAMETOOLONG);
  t.is(await errnoOf(rafs.readdir(CTX, file.nodeid, 0, 0, 4096)), E.ENOTDIR);
  t.is(await errnoOf(rafs.readdir(CTX, 1, 0, 5, 4096)), E.EINVAL, 'a cookie that is no dirent position');
  t.is(await errnoOf(rafs.read(CTX, dir.nodeid, 0, 0, 10)), E.EISDIR);
  t.is(await errnoOf(rafs.readlink(CTX, file.nodeid)), E.EINVAL);
});

test('the end of a listing is answered without a promise once the directory is known; a file is still ENOTDIR', async (t) => {
  const listing = await rafs.readdir(CTX, 1, 0, 0, 4096);
  const end = listing[listing.length - 1].nextOffset;
  const atEnd = rafs.readdir(CTX, 1, 0, end, 4096);
  t.true(Array.isArray(atEnd), 'an array, not a promise');
  t.deepEqual(atEnd, []);
  t.true(rafs.readdir(CTX, 1, 0, 0, 4096) instanceof Promise, 'a listing from its start still reads its blocks');
  const dir = await rafs.lookup(CTX, 1, Buffer.from('dir'));
  const file = await rafs.lookup(CTX, dir.nodeid, Buffer.from('file'));
  t.is(await errnoOf(rafs.readdir(CTX, file.nodeid, 0, end, 4096)), E.ENOTDIR);
});

test('open/opendir keep caches, opens need no FLUSH; writes are EROFS', async (t) => {
  const dir = await rafs.lookup(CTX, 1, Buffer.from('dir'));
  const file = await rafs.lookup(CTX, dir.nodeid, Buffer.from('file'));
  t.deepEqual(await rafs.open(CTX, file.nodeid, 0), { fh: 0, openFlags: FOPEN_KEEP_CACHE | FOPEN_NOFLUSH });
  t.deepEqual(await rafs.opendir(CTX, dir.nodeid), { fh: 0, openFlags: FOPEN_KEEP_CACHE | FOPEN_CACHE_DIR });
  t.is(await errnoOf(rafs.open(CTX, file.nodeid, 1)), E.EROFS);
  t.is(await errnoOf(rafs.open(CTX, file.nodeid, 0o1000)), E.EROFS);
  const writers: Array<() => unknown> = [
    () => rafs.mkdir(), () => rafs.unlink(), () => rafs.write(), () => rafs.setattr(), () => rafs.create(),
    () => rafs.setxattr(), () => rafs.removexattr(), () => rafs.rename(), () => rafs.symlink(), () => rafs.link(),
  ];
  for (const w of writers) t.is(await errnoOf((async () => w())()), E.EROFS);
  t.is(await errnoOf(rafs.access(CTX, file.nodeid, 2)), E.EROFS);
});

test('access follows mode bits for non-root callers', async (t) => {
  const dir = await rafs.lookup(CTX, 1, Buffer.from('dir'));
  const file = await rafs.lookup(CTX, dir.nodeid, Buffer.from('file'));
  await t.notThrowsAsync(rafs.access({ uid: 1000, gid: 1, pid: 0 }, file.nodeid, 4));
  await t.notThrowsAsync(rafs.access({ uid: 5, gid: 2000, pid: 0 }, file.nodeid, 4));
  t.is(await errnoOf(rafs.access({ uid: 5, gid: 5, pid: 0 }, file.nodeid, 4)), E.EACCES);
  t.is(await errnoOf(rafs.access(CTX, file.nodeid, 1)), E.EACCES, 'root cannot execute a file with no x bit');
});

test('xattrs: size probing, ERANGE, ENODATA; statfs', async (t) => {
  const dir = await rafs.lookup(CTX, 1, Buffer.from('dir'));
  const file = await rafs.lookup(CTX, dir.nodeid, Buffer.from('file'));
  t.is(await rafs.getxattr(CTX, file.nodeid, Buffer.from('user.k'), 0), 5);
  t.deepEqual(await rafs.getxattr(CTX, file.nodeid, Buffer.from('user.k'), 5), Buffer.from('value'));
  t.is(await errnoOf(rafs.getxattr(CTX, file.nodeid, Buffer.from('user.k'), 4)), E.ERANGE);
  t.is(await errnoOf(rafs.getxattr(CTX, file.nodeid, Buffer.from('user.none'), 10)), E.ENODATA);
  t.is(await rafs.listxattr(CTX, file.nodeid, 0), 'user.k\0'.length);
  t.is(await errnoOf(rafs.listxattr(CTX, file.nodeid, 3)), E.ERANGE);
  const st = await rafs.statfs();
  t.is(st.bsize, 4096);
  t.is(st.files, rafs.meta.sb.inos);
  t.is(st.bfree, 0);
});
