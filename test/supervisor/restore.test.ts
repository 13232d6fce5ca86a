import test from 'ava';
import * as fs from 'fs';
import * as path from 'path';
import { AT_FDCWD, native, O_CLOEXEC, O_DIRECTORY, O_PATH } from '../../daemon/src/native';
import { PassthroughFs } from '../../daemon/src/passthrough';
import { createLogger } from '../../daemon/src/log';
import type { FuseSession } from '../../daemon/src/server/session';
import { protoToPassthrough, restoreHandover, RestoreTarget } from '../../daemon/src/upgrade/restore';
import { Vfs } from '../../daemon/src/vfs/vfs';
import { decodeHandover, encodeHandover } from '../../daemon/src/upgrade/state-codec';
import { HandoverState } from '../../daemon/src/upgrade/state-types';
import { TableTracker } from '../../daemon/src/upgrade/table-tracker';
import { passthroughToProto } from '../../daemon/src/upgrade/capture';
import { LiveState } from '../../supervisor/src/live-state';
import { identity, tempDir } from './helpers/harness';
import { sampleState } from './helpers/sample-state';

const FIXTURE = path.resolve(__dirname, '../../../test/fixtures/handover-v1.bin');
const ctx = { uid: 0, gid: 0, pid: process.pid };

function open(file: string, flags: number): number {
  const fd = native.openat(AT_FDCWD, file, flags | O_CLOEXEC, 0);
  if (fd < 0) throw new Error(`open ${file}: ${fd}`);
  return fd;
}

/** The fixture's state with its passthrough tables pointed at real files in `dir` (the v1 sample named /srv/share). */
function fixtureOnDisk(dir: string): { state: HandoverState; fds: number[] } {
  const { state } = decodeHandover(fs.readFileSync(FIXTURE));
  const tables = state.filesystems.find((f) => f.passthrough)!;
  const pt = tables.passthrough!;
  pt.sharedDir = dir;
  const fds: number[] = [open('/dev/null', fs.constants.O_RDWR)];
  for (const node of pt.nodes) {
    const file = node.nodeid === 1 ? dir : path.join(dir, node.name);
    if (node.nodeid !== 1) fs.writeFileSync(file, `content of ${node.name}`);
    const fd = open(file, O_PATH | (node.nodeid === 1 ? O_DIRECTORY : 0));
    const [dev, ino] = identity(fd).split(':').map(Number);
    Object.assign(node, { dev, ino });
    fds.push(fd);
  }
  for (const handle of pt.handles) {
    fds.push(handle.kind === 1 ? open(dir, fs.constants.O_RDONLY | O_DIRECTORY) : open(path.join(dir, pt.nodes.find((n) => n.nodeid === handle.nodeid)!.name), fs.constants.O_RDWR));
  }
  return { state, fds };
}

test('the version-1 fixture still restores a passthrough_fs with its nodeids, lookups, handles and counters', async (t) => {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { state, fds } = fixtureOnDisk(dir);
  native.close(fds[0]);
  const tables = state.filesystems.find((f) => f.passthrough)!;
  const ptState = protoToPassthrough(tables.passthrough!);
  const restored = PassthroughFs.restore({ sharedDir: dir, writable: true }, ptState, fds.slice(1));
  t.teardown(() => restored.destroy?.());
  t.deepEqual(restored.counts, { inodes: 3, handles: 2 });
  const exported = restored.exportState().state;
  t.is(exported.nextNodeid, 4);
  t.is(exported.nextFh, 3);
  t.deepEqual(exported.inodes.map((n) => [n.nodeid, n.lookups]), [[1, 0], [2, 2], [3, 3]]);
  const data = await restored.read!(ctx, 2, 1, 0, 100);
  t.is(data.toString(), 'content of file-1', 'fh 1 still reads the file it was opened on');
  const attr = await restored.getattr(ctx, 3, undefined);
  t.is(attr.attr.size, 'content of file-2'.length, 'nodeid 3 is still file-2');
});

test('the supervisor applies table deltas and hands out exactly the tables the daemon has', (t) => {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { state, fds } = fixtureOnDisk(dir);
  const tables = state.filesystems.find((f) => f.passthrough)!;
  const live = new LiveState(state, fds);
  t.teardown(() => live.close());

  // The daemon's side: the same tables, then one lookup more, a new node, a released handle.
  const daemonFds = fds.map((fd) => native.dup(fd));
  t.teardown(() => daemonFds.forEach((fd) => native.close(fd)));
  const before = protoToPassthrough(tables.passthrough!);
  const tracker = new TableTracker();
  tracker.reset([{ vfsIndex: tables.vfsIndex, state: before, fds: daemonFds.slice(1) }]);
  fs.writeFileSync(path.join(dir, 'new'), 'new file');
  const newFd = open(path.join(dir, 'new'), O_PATH);
  t.teardown(() => native.close(newFd));
  const [dev, ino] = identity(newFd).split(':').map(Number);
  const after = {
    ...before,
    nextNodeid: 5,
    inodes: [...before.inodes.map((n) => (n.nodeid === 2 ? { ...n, lookups: 7 } : n)), { nodeid: 4, dev, ino, generation: 0, lookups: 1, fdIndex: 5 }],
    handles: before.handles.filter((h) => h.fh !== 1),
  };
  const change = tracker.diff({ vfsIndex: tables.vfsIndex, state: after, fds: [...daemonFds.slice(1), newFd] });
  t.truthy(change);
  t.deepEqual(change!.delta.removedHandles, [1]);
  t.is(change!.fds.length, 1, 'only the new node travels with an fd');
  t.is(tracker.diff({ vfsIndex: tables.vfsIndex, state: after, fds: [...daemonFds.slice(1), newFd] }), null, 'nothing changed since');

  live.apply(change!.delta, change!.fds.map((fd) => native.dup(fd)));
  const snap = live.snapshot();
  const decoded = decodeHandover(encodeHandover(snap.state)).state;
  const pt = decoded.filesystems.find((f) => f.passthrough)!;
  t.deepEqual(pt.passthrough!.nodes.map((n) => [n.nodeid, n.lookups]), [[1, 0], [2, 7], [3, 3], [4, 1]]);
  t.deepEqual(pt.passthrough!.handles.map((h) => h.fh), [2]);
  t.is(pt.passthrough!.nextNodeid, 5);
  const node4 = pt.passthrough!.nodes.find((n) => n.nodeid === 4)!;
  t.is(identity(snap.fds[pt.fdBase + node4.fdIndex]), `${dev}:${ino}`, 'the new node\'s fd is the new file');
  t.is(snap.fds.length, 1 + 4 + 1, '/dev/fuse, four nodes, one handle');
  t.deepEqual(passthroughToProto(protoToPassthrough(pt.passthrough!)).nodes.map((n) => n.nodeid), [1, 2, 3, 4]);
});

test('a delta naming an unknown instance or fd is refused and its fds closed', (t) => {
  const dir = tempDir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const { state, fds } = fixtureOnDisk(dir);
  const live = new LiveState(state, fds);
  t.teardown(() => live.close());
  const stray = open('/dev/null', fs.constants.O_RDONLY);
  const base = { sequence: 1, nodes: [], removedNodes: [], handles: [], removedHandles: [], nextNodeid: 9, nextFh: 9 };
  t.throws(() => live.apply({ ...base, vfsIndex: 77 }, [stray]), { message: /no passthrough tables/ });
  t.true(native.close(stray) < 0, 'the refused delta\'s fd was closed');
  const node = { nodeid: 99, dev: 1, ino: 1, generation: 0, lookups: 1, fdIndex: -1, parent: 0, name: '', mode: 0 };
  t.throws(() => live.apply({ ...base, vfsIndex: 1, nodes: [node] }, []), { message: /unknown node 99/ });
});

test('a takeover goes on without a retired image that cannot be reopened; one that can is restored retired', async (t) => {
  const base = sampleState();
  const image = (mountpoint: string, vfsIndex: number, retired: boolean) => ({
    fsType: 'rafs', source: `/images/${vfsIndex}.boot`, config: '', mountpoint, prefetchFiles: [], vfsIndex,
    mountedUnixMs: 1_795_000_000_000 + vfsIndex, openHandles: 0, kernelRefs: retired ? 2 : 0, retired,
  });
  const state: HandoverState = {
    ...base,
    mounts: [image('/', 1, false), image('/gone', 2, true), image('/kept', 3, true)],
    vfsNextIndex: 4,
    vfsNamespace: { nextNodeid: 2, nodes: [] },
    filesystems: [1, 2, 3].map((vfsIndex) => ({ vfsIndex, fdBase: 1, fdCount: 0, rafs: { bootstrap: `/images/${vfsIndex}.boot`, imageDigest: Buffer.alloc(0) } })),
    fds: [base.fds[0]],
  };
  const opened: string[] = [];
  const vfs = new Vfs();
  let adopted: FuseSession | undefined;
  const target: RestoreTarget = {
    mountpoint: '/mnt/sample',
    vfs,
    adoptSession: (session) => { adopted = session; },
    async createBackend(command) {
      if (command.mountpoint === '/gone') throw new Error('ENOENT: the image was deleted after its Umount');
      opened.push(command.mountpoint);
      return { openless: true, lookup: () => { throw new Error('unused'); }, forget: () => undefined, getattr: () => { throw new Error('unused'); } };
    },
  };
  const session = await restoreHandover(target, state, [open('/dev/null', fs.constants.O_RDWR)], createLogger('test'));
  t.teardown(() => session.close());
  t.is(adopted, session);
  t.deepEqual(opened, ['/', '/kept']);
  t.deepEqual(vfs.list().map((i) => i.mountpoint), ['/']);
  t.deepEqual(vfs.retired().map((i) => [i.mountpoint, i.kernelRefs]), [['/kept', 2]]);

  // A mounted image that cannot be reopened still fails the takeover, as before.
  const failing = { ...target, vfs: new Vfs(), createBackend: async () => { throw new Error('ENOENT'); } };
  await t.throwsAsync(restoreHandover(failing, { ...state, mounts: [image('/', 1, false)] }, [open('/dev/null', fs.constants.O_RDWR)], createLogger('test')),
    { message: /ENOENT/ });
});
