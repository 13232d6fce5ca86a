/**
 * Reading directories ahead: the native warmDirectory reads a directory (and levels below it) on the threadpool
 * without following symlinks; a listing that starts reads its subdirectories ahead, within the limits.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { E } from '../../daemon/src/fs/errno';
import { native, AT_FDCWD, O_DIRECTORY, O_PATH } from '../../daemon/src/native';
import { DirListings } from '../../daemon/src/passthrough/dir-listings';
import { DirWarmer } from '../../daemon/src/passthrough/dir-warmer';
import { InodeEntry } from '../../daemon/src/passthrough/inode-table';

/** root/a/{x/{p/, q}, y/, f, link -> x} */
function tree(t: ExecutionContext): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pt-warm-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  fs.mkdirSync(path.join(root, 'a/x/p'), { recursive: true });
  fs.mkdirSync(path.join(root, 'a/y'));
  fs.writeFileSync(path.join(root, 'a/x/q'), 'q');
  fs.writeFileSync(path.join(root, 'a/f'), 'f');
  fs.symlinkSync('x', path.join(root, 'a/link'));
  return root;
}

function openDir(t: ExecutionContext, dir: string, flags = O_DIRECTORY): number {
  const fd = native.openat(AT_FDCWD, dir, flags, 0);
  t.true(fd >= 0, `open ${dir}`);
  t.teardown(() => native.close(fd));
  return fd;
}

function warm(parentFd: number, name: string, levels: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const rc = native.warmDirectory(parentFd, name, levels, resolve);
    if (rc !== 0) reject(new Error(`not queued: ${rc}`));
  });
}

test('warmDirectory() reads a directory, and its subdirectories with two levels; the parent fd may be closed at once', async (t) => {
  const root = tree(t);
  const fd = native.openat(AT_FDCWD, root, O_DIRECTORY, 0);
  const one = warm(fd, 'a', 1);
  const two = warm(fd, 'a', 2);
  native.close(fd);
  t.is(await one, 6, 'a: . .. x y f link');
  t.is(await two, 6 + 4 + 2, 'and x: . .. p q, y: . ..');
});

test('warmDirectory() follows no symlink and reports the errno', async (t) => {
  const root = tree(t);
  const fd = openDir(t, path.join(root, 'a'));
  t.is(await warm(fd, 'link', 1), -E.ENOTDIR, 'the link itself, not x (4 entries)');
  t.is(await warm(fd, 'missing', 1), -E.ENOENT);
  t.is(await warm(fd, 'f', 1), -E.ENOTDIR);
});

/** An inode entry for `dir`, as the inode table holds it. */
function inodeOf(t: ExecutionContext, dir: string, nodeid: number): InodeEntry {
  const st = fs.statSync(dir);
  return { nodeid, fd: openDir(t, dir, O_PATH | O_DIRECTORY), dev: st.dev, ino: st.ino, generation: 0, lookups: 1 };
}

test('a listing read from its start reads its subdirectories ahead; later batches and files do not', async (t) => {
  const root = tree(t);
  for (let i = 0; i < 30; i++) fs.mkdirSync(path.join(root, `a/y/d${i}`));
  const warmer = new DirWarmer(16, 64);
  const listings = new DirListings(64, warmer);
  const a = inodeOf(t, path.join(root, 'a'), 2);
  const first = listings.read(a, 0, 4096);
  t.is(warmer.started, 2, 'x and y, not ".", "..", f or link');
  listings.read(a, first[first.length - 1].nextOffset, 4096);
  t.is(warmer.started, 2, 'the end of the listing reads nothing ahead');

  const y = inodeOf(t, path.join(root, 'a/y'), 3);
  const batch = listings.read(y, 0, 200); // a few entries per reply
  t.true(batch.length < 32);
  const dirsInBatch = batch.filter((e) => !['.', '..'].includes(e.name.toString())).length;
  t.is(warmer.started, 2 + dirsInBatch, 'only the first batch');
  listings.read(y, batch[batch.length - 1].nextOffset, 200);
  t.is(warmer.started, 2 + dirsInBatch);
  await new Promise((resolve) => setTimeout(resolve, 100));
  listings.closeAll();
});

test('at most maxInFlight directories are read ahead at once, and perListing per listing', (t) => {
  const root = tree(t);
  for (let i = 0; i < 30; i++) fs.mkdirSync(path.join(root, `a/y/d${i}`));
  const y = inodeOf(t, path.join(root, 'a/y'), 3);
  for (const [warmer, expected] of [[new DirWarmer(4, 64), 4], [new DirWarmer(16, 3), 3]] as const) {
    const listings = new DirListings(64, warmer);
    listings.read(y, 0, 65536);
    listings.closeAll();
    t.is(warmer.started, expected);
  }
});
