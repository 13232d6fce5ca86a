import test from 'ava';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { E, errnoOf } from '../../daemon/src/fs/errno';
import { FUSE_ROOT_ID } from '../../daemon/src/fs/filesystem';
import { PassthroughFs } from '../../daemon/src/passthrough';
import { warmUpRequests } from '../../daemon/src/server/warm-up';
import { Vfs } from '../../daemon/src/vfs/vfs';

/** a/b/c/d with files at every level, and a file at the top. */
function makeTree(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nydus-warm-up-requests-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  let at = dir;
  for (const name of ['a', 'b', 'c', 'd']) {
    fs.writeFileSync(path.join(at, `file-in-${path.basename(at)}`), 'x');
    at = path.join(at, name);
    fs.mkdirSync(at);
  }
  return dir;
}

test('the request warm-up walks down the tree and forgets every lookup it made', async (t) => {
  const pfs = new PassthroughFs({ sharedDir: makeTree(t), writable: false });
  t.teardown(() => pfs.destroy());
  const served = await warmUpRequests(pfs, { rounds: 3, maxMs: 10_000 });
  // Per round: the root, a, b and c are each listed (GETATTR, READDIRPLUS, READDIR) and their 2 entries looked
  // up, got and forgotten; the walk stops at depth 3, so d is looked up but not listed.
  t.true(served >= 3 * (4 * 3 + 4 * 2 * 3), `served ${served}`);
  const { state } = pfs.exportState();
  t.deepEqual(state.inodes.filter((n) => n.nodeid !== FUSE_ROOT_ID).map((n) => n.lookups), [], 'no lookup left counted');
});

test('successive warm-up rounds look up other entries, so that code for entries not cached yet warms up too', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nydus-warm-up-rounds-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  // 30 entries: 6 looked up per listing stay under the share at which listings switch to attributes.
  for (let i = 0; i < 30; i++) fs.writeFileSync(path.join(dir, `f${String(i).padStart(2, '0')}`), 'x');
  const pfs = new PassthroughFs({ sharedDir: dir, writable: false });
  t.teardown(() => pfs.destroy());
  const looked = new Set<string>();
  const lookup = pfs.lookup.bind(pfs);
  pfs.lookup = (ctx, parent, name) => { looked.add(name.toString()); return lookup(ctx, parent, name); };
  await warmUpRequests(pfs, { rounds: 2, maxMs: 10_000 });
  const entries = [...looked].filter((name) => /^f\d\d$/.test(name));
  t.is(entries.length, 12, entries.sort().join(' ')); // 6 entries per round, 2 rounds
});

test('the warm-up asks on from where a listing ended and for a name that is not there, as walks and shells do', async (t) => {
  const pfs = new PassthroughFs({ sharedDir: makeTree(t), writable: false });
  t.teardown(() => pfs.destroy());
  // Every listing through readdir(), where it is observed, rather than some answered natively.
  (pfs as { nativeDirListing?: unknown }).nativeDirListing = undefined;
  const listed: Array<{ nodeid: number; offset: number; count: number }> = [];
  const readdir = pfs.readdir.bind(pfs);
  pfs.readdir = (ctx, nodeid, fh, offset, size) => {
    const entries = readdir(ctx, nodeid, fh, offset, size);
    listed.push({ nodeid, offset, count: entries.length });
    return entries;
  };
  const missing: string[] = [];
  const lookup = pfs.lookup.bind(pfs);
  pfs.lookup = (ctx, parent, name) => {
    try {
      return lookup(ctx, parent, name);
    } catch (err) {
      if (errnoOf(err) === E.ENOENT) missing.push(name.toString());
      throw err;
    }
  };
  await warmUpRequests(pfs, { rounds: 1, maxMs: 10_000 });
  const rootListings = listed.filter((l) => l.nodeid === FUSE_ROOT_ID);
  const fromEnd = rootListings.filter((l) => l.offset > 0);
  t.true(rootListings.some((l) => l.offset === 0 && l.count > 0));
  t.true(fromEnd.length > 0, JSON.stringify(rootListings));
  t.true(fromEnd.every((l) => l.count === 0), JSON.stringify(fromEnd));
  // The root, a, b and c are each listed and probed for a name that is not there.
  t.is(missing.length, 4, missing.join(' '));
});

test('through a Vfs, as the mount serves it, the warm-up leaves no lookup counted in the filesystem behind it', async (t) => {
  const pfs = new PassthroughFs({ sharedDir: makeTree(t), writable: false });
  t.teardown(() => pfs.destroy());
  const vfs = new Vfs();
  vfs.mount('/', pfs, { fsType: 'passthrough_fs', source: '', config: '', prefetchFiles: [] });
  let routed = 0;
  const instanceOf = vfs.instanceOf.bind(vfs);
  vfs.instanceOf = (nodeid: number) => {
    routed++;
    return instanceOf(nodeid);
  };
  const served = await warmUpRequests(vfs, { rounds: 3, maxMs: 10_000 });
  t.true(served >= 3 * (4 * 3 + 4 * 2 * 3), `served ${served}`);
  t.true(routed > 0, 'the dispatcher was told which instance each request belongs to');
  const { state } = pfs.exportState();
  t.deepEqual(state.inodes.filter((n) => n.nodeid !== FUSE_ROOT_ID).map((n) => n.lookups), [], 'no lookup left counted');
});

test('the request warm-up stops at its time budget', async (t) => {
  const pfs = new PassthroughFs({ sharedDir: makeTree(t), writable: false });
  t.teardown(() => pfs.destroy());
  const served = await warmUpRequests(pfs, { rounds: 1_000_000, maxMs: 50 });
  t.true(served > 0);
  t.true(served < 1_000_000 * 10);
});

test('a filesystem that cannot list is left alone', async (t) => {
  t.is(await warmUpRequests({ lookup: async () => { throw new Error('unused'); } } as never), 0);
});

test('the background warm-up lets the event loop turn between requests and stops once the mount is in use', async (t) => {
  const pfs = new PassthroughFs({ sharedDir: makeTree(t), writable: false });
  t.teardown(() => pfs.destroy());
  // Another task on the event loop, which puts the mount in use after 100 turns.
  let turns = 0;
  let inUse = false;
  const tick = (): void => {
    turns++;
    if (turns === 100) inUse = true;
    else setImmediate(tick);
  };
  setImmediate(tick);
  const started = performance.now();
  const served = await warmUpRequests(pfs, { rounds: 1_000_000, maxMs: 10_000, background: { stopWhen: () => inUse } });
  t.true(inUse);
  t.true(performance.now() - started < 5_000, 'stopped when the mount came into use, not at its time budget');
  t.true(served > 10, `served ${served}`);
  // Requests that wait for a reply (all but FORGET) each waited for a turn of the event loop.
  t.true(turns * 2 >= served, `${turns} turns for ${served} requests`);
  const { state } = pfs.exportState();
  t.deepEqual(state.inodes.filter((n) => n.nodeid !== FUSE_ROOT_ID).map((n) => n.lookups), [], 'no lookup left counted');
});
