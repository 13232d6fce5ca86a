/**
 * Turns a live daemon (FUSE session + VFS + its filesystems) into a HandoverState and the descriptors it names:
 * fds[0] is /dev/fuse, then each passthrough_fs instance's node and handle fds as one contiguous block.
 * RAFS needs nothing but its mount command (inode numbers come from the image). The daemon keeps owning
 * every descriptor: sending copies them. Nothing is captured before FUSE INIT has completed.
 */
import type { InitState } from '../server/init';
import type { PassthroughState } from '../passthrough';
import type { Vfs } from '../vfs/vfs';
import type { ExportedTables } from './table-tracker';
import { FD_FUSE_DEV, FD_HANDLE, FD_NODE, FdSlot, FilesystemState, FuseInitState, HANDLE_DIR, HANDLE_FILE, HandoverState, MountCommand, StateWithFds } from './state-types';

/** What capture needs from the daemon (service/daemon.ts satisfies it structurally). */
export interface CaptureSource {
  id: string;
  mountpoint: string;
  session?: { fd: number; init: unknown };
  vfs: unknown;
}

export interface CaptureContext {
  apiSock: string;
  journalPath: string;
  sequence: number;
  argv?: string[];
  binary?: string;
}

interface ExportableFs {
  exportState(): { state: PassthroughState; fds: number[] };
}

function isExportable(fs: unknown): fs is ExportableFs {
  return typeof (fs as { exportState?: unknown })?.exportState === 'function';
}

export function fuseInitToState(init: InitState): FuseInitState {
  return {
    major: init.major, minor: init.minor, flags: init.flags >>> 0, flags2: init.flags2 >>> 0, maxWrite: init.maxWrite, maxPages: init.maxPages,
    hasResend: init.hasResend, maxReadahead: init.maxReadahead, maxBackground: init.maxBackground, congestionThreshold: init.congestionThreshold,
    timeGran: init.timeGran, kernelMinor: 0, kernelFlags: init.kernelFlags >>> 0, kernelFlags2: init.kernelFlags2 >>> 0,
  };
}

export function passthroughToProto(state: PassthroughState): NonNullable<FilesystemState['passthrough']> {
  return {
    nodes: state.inodes.map((n) => ({ nodeid: n.nodeid, dev: n.dev, ino: n.ino, generation: n.generation, lookups: n.lookups, fdIndex: n.fdIndex, parent: 0, name: '', mode: 0 })),
    nextNodeid: state.nextNodeid,
    nextFh: state.nextFh,
    handles: state.handles.map((h) => ({ fh: h.fh, nodeid: h.nodeid, flags: h.flags, kind: h.kind === 'dir' ? HANDLE_DIR : HANDLE_FILE, fdIndex: h.fdIndex, dirOffset: h.dirOffset, backingId: h.backingId ?? 0 })),
    rootFdIndex: -1,
    generation: 0,
    sharedDir: state.sharedDir,
    writable: state.writable,
    tableVersion: state.version,
  };
}

export interface Captured extends StateWithFds {
  /** The passthrough tables as exported, for the delta tracker's baseline. */
  tables: ExportedTables[];
}

/** The passthrough_fs tables of every instance, freshly exported (the instances keep owning the fds). */
export function exportTables(vfs: unknown): ExportedTables[] {
  const tables: ExportedTables[] = [];
  for (const instance of (vfs as Vfs).list()) {
    if (instance.info.fsType === 'passthrough_fs' && isExportable(instance.fs)) tables.push({ vfsIndex: instance.index, ...instance.fs.exportState() });
  }
  return tables;
}

/** The daemon's state, or null while there is no session or INIT has not completed. */
export function captureHandover(daemon: CaptureSource, ctx: CaptureContext): Captured | null {
  const session = daemon.session;
  const init = session?.init as InitState | undefined;
  if (!session || !init) return null;
  const vfs = daemon.vfs as Vfs;
  const exported = vfs.exportState();
  const fds: number[] = [session.fd];
  const slots: FdSlot[] = [{ kind: FD_FUSE_DEV, vfsIndex: 0, ref: 0, dev: 0, ino: 0 }];
  const mounts: MountCommand[] = [];
  const filesystems: FilesystemState[] = [];
  const tables = exportTables(vfs);
  for (const instance of exported.instances) {
    mounts.push({
      fsType: instance.info.fsType, source: instance.info.source, config: instance.info.config, mountpoint: instance.mountpoint,
      prefetchFiles: instance.info.prefetchFiles, vfsIndex: instance.index, mountedUnixMs: instance.mountedTime, openHandles: instance.openHandles,
      kernelRefs: instance.kernelRefs, retired: instance.retired ?? false,
    });
    const exportedTables = tables.find((t) => t.vfsIndex === instance.index);
    if (exportedTables) {
      const { state, fds: fsFds } = exportedTables;
      const fdBase = fds.length;
      fds.push(...fsFds);
      for (const node of state.inodes) slots[fdBase + node.fdIndex] = { kind: FD_NODE, vfsIndex: instance.index, ref: node.nodeid, dev: node.dev, ino: node.ino };
      for (const handle of state.handles) slots[fdBase + handle.fdIndex] = { kind: FD_HANDLE, vfsIndex: instance.index, ref: handle.fh, dev: 0, ino: 0 };
      filesystems.push({ vfsIndex: instance.index, fdBase, fdCount: fsFds.length, passthrough: passthroughToProto(state) });
    } else {
      filesystems.push({ vfsIndex: instance.index, fdBase: fds.length, fdCount: 0, rafs: { bootstrap: instance.info.source, imageDigest: Buffer.alloc(0) } });
    }
  }
  const state: HandoverState = {
    daemonId: daemon.id,
    argv: ctx.argv ?? process.argv.slice(2),
    binary: ctx.binary ?? process.argv[1] ?? '',
    apiSock: ctx.apiSock,
    pid: process.pid,
    sequence: ctx.sequence,
    createdUnixMs: Date.now(),
    fuse: fuseInitToState(init),
    mounts,
    vfsNextIndex: exported.nextIndex,
    vfsNamespace: { nextNodeid: exported.pseudo.nextNodeid, nodes: exported.pseudo.nodes },
    filesystems,
    fds: slots.map((slot) => slot ?? { kind: 4, vfsIndex: 0, ref: 0, dev: 0, ino: 0 }),
    mountpoint: daemon.mountpoint,
    journalPath: ctx.journalPath,
  };
  return { state, fds, tables };
}
