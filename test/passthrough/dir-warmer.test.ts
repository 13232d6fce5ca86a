/**
 * Reading directories ahead: the native warmDirectory reads a directory (and levels below it) on the threadpool
 * without following symlinks and says how much it read from the disk; a listing that starts reads its
 * subdirectories ahead, within the limits, and only probes while the host's caches hold everything.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { E } from '../../daemon/src/fs/errno';
import { native, AT_FDCWD, O_DIRECTORY, O_PATH } from '../../daemon/src/native';
import { DirListings } from '../../daemon/src/passthrough/dir-listings';
import { DirWarmer } from '../../daemon/src/passthrough/dir-warmer';
import { eventually } from '../helpers/eventually';
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

function warmReporting(parentFd: number, name: string, levels: number): Promise<{ entries: number; diskBlocks: number }> {
  return new Promise((resolve, reject) => {
    const rc = native.warmDirectory(parentFd, name, levels, (entries, diskBlocks) => resolve({ entries, diskBlocks }));
    if (rc !== 0) reject(new Error(`not queued: ${rc}`));
  });
}

async function warm(parentFd: number, name: string, levels: number): Promise<number> {
  return (await warmReporting(parentFd, name, levels)).entries;
}

/** Writes back `dir`'s filesystem and drops the host's caches (dirty blocks would stay), so that reads go to the disk. */
function dropHostCaches(dir: string): void {
  execFileSync('sync', ['-f', dir]);
  fs.writeFileSync('/proc/sys/vm/drop_caches', '3');
}

/** Whether `dir` sits on a filesystem whose reads are counted as block input (not tmpfs or the like). */
function onBlockDevice(dir: string): boolean {
  const type = execFileSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' }).trim();
  return !['tmpfs', 'ramfs', 'overlayfs', 'fuseblk', 'fuse'].includes(type);
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

test.serial('warmDirectory() reports the blocks it read from the disk: none while the host has them cached', async (t) => {
  const root = tree(t);
  const fd = openDir(t, root);
  t.deepEqual(await warmReporting(fd, 'a', 2), { entries: 12, diskBlocks: 0 }, 'just made: all cached');
  if (!onBlockDevice(root)) {
    t.log(`${os.tmpdir()} is not on a block device: the disk half of this test is skipped`);
    return;
  }
  dropHostCaches(root);
  const cold = await warmReporting(fd, 'a', 2);
  t.is(cold.entries, 12);
  t.true(cold.diskBlocks > 0, `caches dropped: read from the disk (${cold.diskBlocks} blocks)`);
  t.is((await warmReporting(fd, 'a', 2)).diskBlocks, 0, 'and cached again after that');
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

test.serial('while the reads ahead find everything cached, a listing reads only one subdirectory ahead; a read from the disk brings the rest back', async (t) => {
  const root = tree(t);
  for (const dir of ['y', 'z', 'w', 'v']) for (let i = 0; i < 10; i++) fs.mkdirSync(path.join(root, `a/${dir}/d${i}`), { recursive: true });
  const warmer = new DirWarmer(16, 64);
  const listings = new DirListings(64, warmer);
  const inode = (dir: string, nodeid: number) => inodeOf(t, path.join(root, 'a', dir), nodeid);

  const y = inode('y', 3);
  listings.read(y, 0, 65536);
  t.is(warmer.started, 10, 'at first every subdirectory');
  // Another test file may drop the caches meanwhile (some do): then y is listed again until all 10 were cached.
  for (let attempt = 1; ; attempt++) {
    await eventually(() => warmer.reading === 0, 10_000, 'the reads ahead to be done');
    if (warmer.hostCached || attempt === 5) break;
    listings.read(y, 0, 65536);
  }
  t.true(warmer.hostCached, 'ten reads ahead in a row found everything cached');
  const started = warmer.started;
  listings.read(inode('z', 4), 0, 65536);
  t.is(warmer.started, started + 1, 'then one: a probe');
  if (!onBlockDevice(root)) {
    t.log(`${os.tmpdir()} is not on a block device: the disk half of this test is skipped`);
    listings.closeAll();
    return;
  }
  await new Promise((r) => setTimeout(r, 100));
  dropHostCaches(root);
  const w = inode('w', 5);
  listings.read(w, 0, 65536);
  t.is(warmer.started, started + 2, 'a probe again, which reads from the disk');
  await eventually(() => !warmer.hostCached, 10_000, 'the probe to find the host cold');
  listings.read(inode('v', 6), 0, 65536);
  t.is(warmer.started, started + 12, 'so the next listing reads every subdirectory ahead');
  await new Promise((r) => setTimeout(r, 100));
  listings.closeAll();
});
