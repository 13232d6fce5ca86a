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
import { FD_FUSE_DEV, FilesystemState, FuseInitState, HandoverState, MountCommand } from './state-types';
import { TableTracker } from './table-tracker';

/** `restore`: also rehearse a passthrough_fs restore (for a successor, which will run one). */
export function warmUp(daemonId: string, restore: boolean): void {
  prepareAllTypes();
  const empty = sampleState(daemonId, []);
  for (let i = 0; i < 20; i++) decodeHandover(encodeHandover(empty));
  encodeMessage('StateDelta', { vfsIndex: 1, sequence: 1, nodes: [], removedNodes: [], handles: [], removedHandles: [], nextNodeid: 2, nextFh: 1 });
  if (restore) warmUpPassthroughRestore(daemonId);
}

/** A state with every field the codec has filled in: the nested decoders only run on what is present. */
function sampleState(daemonId: string, filesystems: FilesystemState[]): HandoverState {
  const fuse: FuseInitState = {
    major: 7, minor: 41, flags: 1, flags2: 1, maxWrite: 1 << 20, maxPages: 256, hasResend: true, maxReadahead: 1 << 17,
    maxBackground: 64, congestionThreshold: 48, timeGran: 1, kernelMinor: 41, kernelFlags: 1, kernelFlags2: 1,
  };
  const mounts: MountCommand[] = filesystems.map((f) => ({
    fsType: 'passthrough_fs', source: '/', config: '{}', mountpoint: '/', prefetchFiles: ['/'], vfsIndex: f.vfsIndex, mountedUnixMs: Date.now(), openHandles: 1,
  }));
  return {
    daemonId, argv: ['--warm-up'], binary: process.argv[1] ?? '', apiSock: 'warm-up', pid: process.pid, sequence: 1, createdUnixMs: Date.now(),
    fuse, mounts, vfsNextIndex: filesystems.length + 1, vfsNamespace: { nextNodeid: 3, nodes: [{ nodeid: 2, parent: 1, name: 'sub' }] },
    filesystems, fds: [{ kind: FD_FUSE_DEV, vfsIndex: 0, ref: 0, dev: 1, ino: 1 }], mountpoint: '/', journalPath: 'warm-up',
  };
}

/**
 * Exports a scratch passthrough_fs with one looked-up and opened file, runs its state through the handover codec
 * inside a full HandoverState, and restores a copy of it.
 */
function warmUpPassthroughRestore(daemonId: string): void {
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
    const full = sampleState(daemonId, [{ vfsIndex: 1, fdBase: 1, fdCount: exported.fds.length, passthrough: passthroughToProto(exported.state) }]);
    let decoded = full;
    for (let i = 0; i < 20; i++) decoded = decodeHandover(encodeHandover(full)).state;
    const restoredState = protoToPassthrough(decoded.filesystems[0].passthrough!);
    instances.push(PassthroughFs.restore(opts, restoredState, exported.fds.map((fd) => native.dup(fd))));
    tracker.diff({ vfsIndex: 1, ...instances[1].exportState() });
  } finally {
    for (const instance of instances) instance.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
