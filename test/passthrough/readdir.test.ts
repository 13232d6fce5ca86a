import test from 'ava';
import * as fs from 'fs';
import { DirEntry, FUSE_ROOT_ID } from '../../daemon/src/fs/filesystem';
import { PassthroughFs } from '../../daemon/src/passthrough';
import { b, makeShare, openFdCount, rootCtx, throwsErrno, walk } from './helpers';

/** Reads a whole listing, taking at most `take` entries of each reply (as a server whose buffer filled up). */
function listAll(pfs: PassthroughFs, nodeid: number, fh: number, size: number, take = Infinity): DirEntry[] {
  const out: DirEntry[] = [];
  let offset = 0;
  for (let guard = 0; guard < 100000; guard++) {
    const batch = pfs.readdir(rootCtx, nodeid, fh, offset, size).slice(0, take);
    if (batch.length === 0) return out;
    out.push(...batch);
    offset = batch[batch.length - 1].nextOffset;
  }
  throw new Error('listing did not end');
}

function names(entries: DirEntry[]): string[] {
  return entries.map((e) => e.name.toString()).sort();
}

test('readdir() lists every entry once, "." and ".." included, with the host inode and type', (t) => {
  const { pfs, host } = makeShare(t);
  fs.mkdirSync(host('sub'));
  fs.writeFileSync(host('file'), '');
  fs.symlinkSync('file', host('link'));
  const h = pfs.opendir(rootCtx, FUSE_ROOT_ID, 0);
  const entries = listAll(pfs, FUSE_ROOT_ID, h.fh, 4096);
  t.deepEqual(names(entries), ['.', '..', 'file', 'link', 'sub']);
  for (const e of entries) {
    const name = e.name.toString();
    if (name === '..') continue;
    const st = fs.lstatSync(host(name === '.' ? '' : name));
    t.is(e.ino, st.ino, name);
    t.is(e.type, st.mode >> 12, name);
  }
  t.is(new Set(entries.map((e) => e.nextOffset)).size, entries.length, 'distinct cookies');
  pfs.releasedir(rootCtx, FUSE_ROOT_ID, h.fh);
});

test('readdir() pages through a big directory with small replies and cut-short replies', (t) => {
  const { pfs, host } = makeShare(t);
  fs.mkdirSync(host('big'));
  const expected = ['.', '..'];
  for (let i = 0; i < 1500; i++) {
    const name = `entry-${i}-${'x'.repeat(i % 40)}`;
    fs.writeFileSync(host(`big/${name}`), '');
    expected.push(name);
  }
  expected.sort();
  const big = walk(pfs, 'big');
  const h = pfs.opendir(rootCtx, big, 0);
  t.deepEqual(names(listAll(pfs, big, h.fh, 4096)), expected, '4 KiB replies');
  t.deepEqual(names(listAll(pfs, big, h.fh, 1)), expected, 'one entry per reply (rewinds to 0 first)');
  t.deepEqual(names(listAll(pfs, big, h.fh, 4096, 3)), expected, 'server kept only 3 entries of each reply');
  const first = pfs.readdir(rootCtx, big, h.fh, 0, 120);
  t.true(first.length >= 1 && first.length <= 3, 'a reply fits in the size given');
});

test('readdir() resumes from any cookie it gave, before or after the current position', (t) => {
  const { pfs, host } = makeShare(t);
  for (let i = 0; i < 300; i++) fs.writeFileSync(host(`f${i}`), '');
  const h = pfs.opendir(rootCtx, FUSE_ROOT_ID, 0);
  const all = listAll(pfs, FUSE_ROOT_ID, h.fh, 4096);
  t.is(all.length, 302);
  for (const k of [150, 3, 0, 299, 301, 77]) {
    const rest = [];
    let offset = k;
    for (;;) {
      const batch = pfs.readdir(rootCtx, FUSE_ROOT_ID, h.fh, offset, 4096);
      if (batch.length === 0) break;
      rest.push(...batch);
      offset = batch[batch.length - 1].nextOffset;
    }
    t.deepEqual(rest.map((e) => e.name.toString()), all.slice(k).map((e) => e.name.toString()), `from cookie ${k}`);
  }
  t.deepEqual(pfs.readdir(rootCtx, FUSE_ROOT_ID, h.fh, 302, 4096), [], 'cookie of the last entry: end');
  const other = pfs.opendir(rootCtx, FUSE_ROOT_ID, 0);
  t.deepEqual(names(listAll(pfs, FUSE_ROOT_ID, other.fh, 4096)), names(all), 'a second handle lists the same');
});

test('opendir()/readdir()/releasedir() errors and fd accounting', (t) => {
  const { pfs, host } = makeShare(t);
  fs.writeFileSync(host('file'), '');
  const file = walk(pfs, 'file');
  throwsErrno(t, () => pfs.opendir(rootCtx, file, 0), 'ENOTDIR');
  const before = openFdCount();
  const h = pfs.opendir(rootCtx, FUSE_ROOT_ID, 0);
  t.is(openFdCount(), before + 1);
  const fileHandle = pfs.open(rootCtx, file, 0);
  throwsErrno(t, () => pfs.readdir(rootCtx, file, fileHandle.fh, 0, 4096), 'EBADF', 'readdir on a file handle');
  throwsErrno(t, () => pfs.read(rootCtx, FUSE_ROOT_ID, h.fh, 0, 10), 'EBADF', 'read on a directory handle');
  t.notThrows(() => pfs.fsyncdir(rootCtx, FUSE_ROOT_ID, h.fh, false));
  pfs.releasedir(rootCtx, FUSE_ROOT_ID, h.fh);
  pfs.release(rootCtx, file, fileHandle.fh, 0);
  t.is(openFdCount(), before);
  throwsErrno(t, () => pfs.readdir(rootCtx, FUSE_ROOT_ID, h.fh, 0, 4096), 'EBADF', 'after releasedir');
  t.notThrows(() => pfs.releasedir(rootCtx, FUSE_ROOT_ID, h.fh), 'a second release is harmless');
});

test('readdir() of an emptied directory still has "." and ".."', (t) => {
  const { pfs, host } = makeShare(t);
  fs.mkdirSync(host('d'));
  fs.writeFileSync(host('d/x'), '');
  const d = walk(pfs, 'd');
  pfs.unlink(rootCtx, d, b('x'));
  const h = pfs.opendir(rootCtx, d, 0);
  t.deepEqual(names(listAll(pfs, d, h.fh, 4096)), ['.', '..']);
});

test('without a handle (fh 0, as the kernel lists once OPENDIR got ENOSYS) a directory lists by nodeid', (t) => {
  const { pfs, host } = makeShare(t);
  fs.mkdirSync(host('big'));
  const expected = ['.', '..'];
  for (let i = 0; i < 700; i++) {
    fs.writeFileSync(host(`big/f${i}`), '');
    expected.push(`f${i}`);
  }
  expected.sort();
  const big = walk(pfs, 'big');
  const before = openFdCount();
  t.deepEqual(names(listAll(pfs, big, 0, 4096)), expected, 'pages through the whole directory');
  t.is(openFdCount(), before, 'the listing fd is closed at the end of the directory');
  t.deepEqual(names(listAll(pfs, big, 0, 1)), expected, 'one entry per reply');
  const first = pfs.readdir(rootCtx, big, 0, 0, 4096);
  t.is(openFdCount(), before + 1, 'an unfinished listing keeps its fd');
  const rest = listAll(pfs, FUSE_ROOT_ID, 0, 4096);
  t.true(names(rest).includes('big'), 'another directory listed meanwhile');
  const resumed = pfs.readdir(rootCtx, big, 0, first[first.length - 1].nextOffset, 4096);
  t.is(resumed[0].nextOffset, first[first.length - 1].nextOffset + 1, 'resumes after the last cookie');
  t.notThrows(() => pfs.fsyncdir(rootCtx, big, 0, false));
  throwsErrno(t, () => pfs.readdir(rootCtx, walk(pfs, 'big/f1'), 0, 0, 4096), 'ENOTDIR', 'a file');
  pfs.destroy();
  t.true(openFdCount() < before, 'destroy() closes unfinished listings with everything else');
});

test('a listing evicted from the cache of open listings resumes from its cookie', (t) => {
  const { pfs, host } = makeShare(t);
  for (let d = 0; d < 70; d++) {
    fs.mkdirSync(host(`d${d}`));
    for (let i = 0; i < 200; i++) fs.writeFileSync(host(`d${d}/e${i}`), '');
  }
  const dirs = Array.from({ length: 70 }, (_, d) => walk(pfs, `d${d}`));
  const before = openFdCount();
  const firstPages = dirs.map((n) => pfs.readdir(rootCtx, n, 0, 0, 512));
  t.true(openFdCount() - before <= 64, 'at most 64 unfinished listings hold an fd');
  for (let d = 0; d < 70; d++) {
    const all = [...firstPages[d]];
    let offset = all[all.length - 1].nextOffset;
    for (;;) {
      const batch = pfs.readdir(rootCtx, dirs[d], 0, offset, 4096);
      if (batch.length === 0) break;
      all.push(...batch);
      offset = batch[batch.length - 1].nextOffset;
    }
    t.is(all.length, 202, `d${d}`);
    t.is(new Set(all.map((e) => e.name.toString())).size, 202, `d${d}: no name twice`);
  }
  t.is(openFdCount(), before, 'every listing fd closed at the end of its directory');
});
