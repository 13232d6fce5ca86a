import test from 'ava';
import * as fs from 'fs';
import { E, FsError } from '../../daemon/src/fs/errno';
import { BackingFiles, DirEntry, FUSE_ROOT_ID } from '../../daemon/src/fs/filesystem';
import { native } from '../../daemon/src/native';
import { PassthroughFs, PassthroughState } from '../../daemon/src/passthrough';
import { b, makeShare, openFdCount, rootCtx, throwsErrno, walk } from './helpers';

function dupAll(fds: number[]): number[] {
  return fds.map((fd) => {
    const copy = native.dup(fd);
    if (copy < 0) throw new Error(`dup failed: ${copy}`);
    return copy;
  });
}

/** Exports `pfs`, closes it, and restores a successor from dups of its fds (as SCM_RIGHTS would give). */
function handOver(pfs: PassthroughFs, dir: string, writable = true): { next: PassthroughFs; state: PassthroughState } {
  const { state, fds } = pfs.exportState();
  const json = JSON.parse(JSON.stringify(state)) as PassthroughState;
  const received = dupAll(fds);
  pfs.close();
  return { next: PassthroughFs.restore({ sharedDir: dir, writable }, json, received), state: json };
}

test('exportState() -> restore() keeps nodeids, lookups, handles and an unlinked-but-open file', (t) => {
  const { pfs, dir, host } = makeShare(t);
  fs.mkdirSync(host('d'));
  fs.writeFileSync(host('d/keep'), 'kept');
  fs.writeFileSync(host('gone'), 'only reachable through the fd');
  const d = walk(pfs, 'd');
  const keep = pfs.lookup(rootCtx, d, b('keep')).nodeid;
  pfs.lookup(rootCtx, d, b('keep'));
  const gone = walk(pfs, 'gone');
  const goneHandle = pfs.open(rootCtx, gone, fs.constants.O_RDWR);
  pfs.unlink(rootCtx, FUSE_ROOT_ID, b('gone'));
  const appendHandle = pfs.open(rootCtx, keep, fs.constants.O_WRONLY | fs.constants.O_APPEND);
  const before = openFdCount();

  const { next, state } = handOver(pfs, dir);
  t.teardown(() => next.close());
  t.is(state.version, 1);
  t.is(state.inodes.length, 4);
  t.is(state.handles.length, 2);
  t.is(openFdCount(), before, 'the old instance closed its fds, the new one holds the dups');

  t.is(next.read(rootCtx, gone, goneHandle.fh, 0, 100).toString(), 'only reachable through the fd');
  next.write(rootCtx, gone, goneHandle.fh, 0, b('ONLY'), 0);
  t.is(next.read(rootCtx, gone, goneHandle.fh, 0, 4).toString(), 'ONLY');
  t.is(next.getattr(rootCtx, gone, undefined).attr.nlink, 0);
  next.write(rootCtx, keep, appendHandle.fh, 0, b('+more'), 0);
  t.is(fs.readFileSync(host('d/keep'), 'utf8'), 'kept+more', 'O_APPEND survives');
  t.is(next.lookup(rootCtx, FUSE_ROOT_ID, b('d')).nodeid, d, 'a known inode keeps its nodeid');
  next.forget(keep, 1);
  t.notThrows(() => next.getattr(rootCtx, keep, undefined), 'lookup count 2 came across');
  next.forget(keep, 1);
  throwsErrno(t, () => next.getattr(rootCtx, keep, undefined), 'ESTALE');
  fs.writeFileSync(host('fresh'), '');
  t.true(next.lookup(rootCtx, FUSE_ROOT_ID, b('fresh')).nodeid >= state.nextNodeid, 'the counter continues');
  t.true(next.open(rootCtx, walk(next, 'fresh'), 0).fh >= state.nextFh);
});

test('a directory handle resumes its listing after a handover', (t) => {
  const { pfs, dir, host } = makeShare(t);
  for (let i = 0; i < 200; i++) fs.writeFileSync(host(`n${i}`), '');
  const h = pfs.opendir(rootCtx, FUSE_ROOT_ID, 0);
  const seen: DirEntry[] = [];
  let offset = 0;
  while (seen.length < 50) {
    const batch = pfs.readdir(rootCtx, FUSE_ROOT_ID, h.fh, offset, 512).slice(0, 7);
    seen.push(...batch);
    offset = batch[batch.length - 1].nextOffset;
  }
  const { next } = handOver(pfs, dir);
  t.teardown(() => next.close());
  for (;;) {
    const batch = next.readdir(rootCtx, FUSE_ROOT_ID, h.fh, offset, 4096);
    if (batch.length === 0) break;
    seen.push(...batch);
    offset = batch[batch.length - 1].nextOffset;
  }
  const names = seen.map((e) => e.name.toString());
  t.is(new Set(names).size, names.length, 'no entry twice');
  t.deepEqual([...names].sort(), ['.', '..', ...fs.readdirSync(host(''))].sort(), 'no entry lost');
});

test('restore() rejects a broken state with a clear Error', (t) => {
  const { pfs, dir, host } = makeShare(t);
  fs.writeFileSync(host('f'), '');
  walk(pfs, 'f');
  const { state, fds } = pfs.exportState();
  const copy = (): PassthroughState => JSON.parse(JSON.stringify(state));
  const cases: [string, PassthroughState, number[], RegExp][] = [
    ['version', { ...copy(), version: 99 }, fds, /unknown version 99/],
    ['fd count', copy(), fds.slice(0, 1), /past the 1 fds/],
    ['swapped fds', copy(), [...fds].reverse(), /fd is .* not /],
    ['no root', { ...copy(), inodes: copy().inodes.filter((i) => i.nodeid !== FUSE_ROOT_ID) }, fds, /root inode/],
    ['bad lookups', { ...copy(), inodes: copy().inodes.map((i) => ({ ...i, lookups: -1 })) }, fds, /lookups/],
  ];
  for (const [what, bad, badFds, message] of cases) {
    const err = t.throws(() => PassthroughFs.restore({ sharedDir: dir, writable: true }, bad, badFds), undefined, what);
    t.regex(err?.message ?? '', message, what);
  }
  const other = t.throws(() => PassthroughFs.restore({ sharedDir: '/elsewhere', writable: true }, copy(), fds));
  t.regex(other?.message ?? '', /is for/);
  t.notThrows(() => pfs.getattr(rootCtx, FUSE_ROOT_ID, undefined), 'a failed restore leaves the fds alone');
});

/** Stands in for the connection's kernel passthrough registry: hands out ids, remembers which are open. */
class FakeBackingFiles implements BackingFiles {
  readonly open_ = new Set<number>();
  private next = 1;
  refuse = false;

  open(_fd: number): number {
    if (this.refuse) throw new FsError(E.ELOOP, 'stacked');
    const id = this.next++;
    this.open_.add(id);
    return id;
  }

  close(id: number): void {
    if (!this.open_.delete(id)) throw new Error(`backing id ${id} closed twice or never opened`);
  }
}

test('kernel passthrough: one backing id per inode while open, closed after the last handle, and kept across a handover', async (t) => {
  const { pfs, dir, host } = makeShare(t);
  fs.writeFileSync(host('f'), 'data');
  fs.writeFileSync(host('g'), 'data');
  const backing = new FakeBackingFiles();
  pfs.useBackingFiles(backing);
  const f = walk(pfs, 'f');
  const first = pfs.open(rootCtx, f, fs.constants.O_RDONLY);
  const second = pfs.open(rootCtx, f, fs.constants.O_RDWR);
  t.truthy(first.backingId);
  t.is(second.backingId, first.backingId, 'every open of one inode names the same backing id');
  t.is(backing.open_.size, 1);

  const { next } = handOver(pfs, dir);
  t.teardown(() => next.close());
  next.useBackingFiles(backing);
  const third = next.open(rootCtx, f, fs.constants.O_RDONLY);
  t.is(third.backingId, first.backingId, 'the successor reuses the id its predecessor opened');
  next.release(rootCtx, f, first.fh);
  next.release(rootCtx, f, second.fh);
  t.is(backing.open_.size, 1, 'still open while a handle uses it');
  next.release(rootCtx, f, third.fh);
  t.is(backing.open_.size, 1, 'not closed in the release itself: its removal must reach the supervisor first');
  await new Promise((resolve) => setImmediate(resolve));
  t.is(backing.open_.size, 0, 'closed on the next turn');

  // A file the kernel refuses stays with the daemon, and so do later opens of it while that one is open.
  backing.refuse = true;
  const g = walk(next, 'g');
  const local = next.open(rootCtx, g, fs.constants.O_RDONLY);
  t.is(local.backingId, undefined);
  backing.refuse = false;
  t.is(next.open(rootCtx, g, fs.constants.O_RDONLY).backingId, undefined, 'no mixed modes on one inode');
  t.is(next.read(rootCtx, g, local.fh, 0, 4).toString(), 'data');
});
