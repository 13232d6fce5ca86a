/**
 * A successor is started early and then waits in INIT: while it waits, it runs the code a takeover runs, once,
 * on throwaway inputs (protobuf codecs generated, a scratch passthrough_fs exported, encoded, decoded, restored
 * and diffed). V8 compiles functions on their first call; doing that now keeps it out of the handover, where
 * every millisecond is a millisecond applications wait.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FUSE_ROOT_ID } from '../fs/filesystem';
import { native } from '../native';
import { PassthroughFs } from '../passthrough';
import { passthroughToProto } from './capture';
import { encodeMessage, prepareAllTypes } from './proto';
import { protoToPassthrough } from './restore';
import { decodeHandover, encodeHandover } from './state-codec';
import type { HandoverState } from './state-types';
import { TableTracker } from './table-tracker';

/** `restore`: also rehearse a passthrough_fs restore (for a successor, which will run one). */
export function warmUp(daemonId: string, restore: boolean): void {
  prepareAllTypes();
  const state: HandoverState = {
    daemonId, argv: [], binary: '', apiSock: '', pid: process.pid, sequence: 0, createdUnixMs: Date.now(), fuse: null, mounts: [],
    vfsNextIndex: 1, vfsNamespace: { nextNodeid: 2, nodes: [] }, filesystems: [], fds: [], mountpoint: '', journalPath: '',
  };
  for (let i = 0; i < 20; i++) decodeHandover(encodeHandover(state));
  encodeMessage('StateDelta', { vfsIndex: 1, sequence: 1, nodes: [], removedNodes: [], handles: [], removedHandles: [], nextNodeid: 2, nextFh: 1 });
  if (restore) warmUpPassthroughRestore();
}

/** Exports a scratch passthrough_fs with one looked-up and opened file, and restores a copy of it. */
function warmUpPassthroughRestore(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nydusd-warm-up-'));
  const instances: PassthroughFs[] = [];
  try {
    fs.writeFileSync(path.join(dir, 'file'), 'x');
    const opts = { sharedDir: dir, writable: false };
    const original = new PassthroughFs(opts);
    instances.push(original);
    const ctx = { uid: 0, gid: 0, pid: process.pid };
    const { nodeid } = original.lookup(ctx, FUSE_ROOT_ID, Buffer.from('file'));
    original.open(ctx, nodeid, 0);
    const exported = original.exportState();
    const tracker = new TableTracker();
    tracker.reset([{ vfsIndex: 1, ...exported }]);
    const restoredState = protoToPassthrough(passthroughToProto(exported.state));
    instances.push(PassthroughFs.restore(opts, restoredState, exported.fds.map((fd) => native.dup(fd))));
    tracker.diff({ vfsIndex: 1, ...instances[1].exportState() });
  } finally {
    for (const instance of instances) instance.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
