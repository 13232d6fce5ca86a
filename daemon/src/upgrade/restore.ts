/**
 * The successor's half of capture.ts: rebuilds the filesystems (passthrough_fs from its tables and fds, rafs by
 * reopening the same image), the VFS namespace with the same instance indexes, and adopts the /dev/fuse
 * connection with the INIT values the predecessor negotiated. On failure nothing is left half-owned: filesystems
 * built so far are destroyed and every descriptor not taken is closed.
 */
import type { FileSystem } from '../fs/filesystem';
import type { Logger } from '../log';
import { PassthroughFs, PassthroughState } from '../passthrough';
import { FuseSession } from '../server/session';
import type { InitState } from '../server/init';
import { Vfs } from '../vfs/vfs';
import { native } from '../native';
import { closeAll } from './channel';
import { FD_FUSE_DEV, FilesystemState, FuseInitState, HANDLE_DIR, HandoverState, MountCommand } from './state-types';

export interface RestoreTarget {
  mountpoint: string;
  vfs: unknown;
  /** Read threads for the adopted session (absent: the default). */
  readThreads?: number;
  adoptSession(session: FuseSession): void;
  createBackend(command: { fsType: 'rafs' | 'passthrough_fs'; source: string; config: string; mountpoint: string; prefetchFiles: string[] }): Promise<FileSystem>;
}

export class RestoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RestoreError';
  }
}

export function stateToInit(fuse: FuseInitState): InitState {
  return {
    major: fuse.major, minor: fuse.minor, flags: fuse.flags, flags2: fuse.flags2, kernelFlags: fuse.kernelFlags, kernelFlags2: fuse.kernelFlags2,
    maxReadahead: fuse.maxReadahead, maxWrite: fuse.maxWrite, maxPages: fuse.maxPages, maxBackground: fuse.maxBackground,
    congestionThreshold: fuse.congestionThreshold, timeGran: fuse.timeGran, hasResend: fuse.hasResend,
  };
}

export function protoToPassthrough(fs: NonNullable<FilesystemState['passthrough']>): PassthroughState {
  return {
    version: fs.tableVersion || 1,
    sharedDir: fs.sharedDir,
    writable: fs.writable,
    nextNodeid: fs.nextNodeid,
    nextFh: fs.nextFh,
    inodes: fs.nodes.map((n) => ({ nodeid: n.nodeid, dev: n.dev, ino: n.ino, generation: n.generation, lookups: n.lookups, fdIndex: n.fdIndex })),
    handles: fs.handles.map((h) => ({ fh: h.fh, nodeid: h.nodeid, flags: h.flags, kind: h.kind === HANDLE_DIR ? 'dir' : 'file', fdIndex: h.fdIndex, dirOffset: h.dirOffset, backingId: h.backingId ?? 0 })),
  };
}

/**
 * The kernel may FORGET a node before the RELEASE of a file opened on it arrives (releases are queued in the
 * background, forgets are not), so a table can hold a handle whose node is gone. Such a file is already
 * closed by the application; only its RELEASE is pending (answering it with EBADF is harmless). Drop those
 * handles rather than refuse the whole state; returns their fds for the caller to close.
 */
function dropOrphanHandles(tables: PassthroughState, block: number[], logger: Logger): number[] {
  const known = new Set(tables.inodes.map((n) => n.nodeid));
  const orphans = tables.handles.filter((h) => !known.has(h.nodeid));
  if (orphans.length === 0) return [];
  tables.handles = tables.handles.filter((h) => known.has(h.nodeid));
  logger.info('dropped handles whose node the kernel already forgot (release pending)', { fhs: orphans.map((h) => h.fh) });
  return orphans.filter((h) => h.fdIndex >= 0 && h.fdIndex < block.length).map((h) => block[h.fdIndex]);
}

/**
 * A directory handle's fd shares its file position with the predecessor's copy, which may have read past the
 * cursor the state recorded (killed between getdents and sending the change). passthrough_fs cookies count
 * entries from the start of the listing, so restart every directory fd at the start with its cursor at 0: the
 * next READDIR re-reads and skips to the cookie it asks for, and neither skips nor repeats entries.
 */
function rewindDirectoryHandles(tables: PassthroughState, block: number[]): void {
  for (const handle of tables.handles) {
    if (handle.kind !== 'dir' || handle.fdIndex < 0 || handle.fdIndex >= block.length) continue;
    if (native.lseek(block[handle.fdIndex], 0, 0) === 0) handle.dirOffset = 0;
  }
}

/** Rebuilds one instance; takes ownership of its fd block on success. */
async function restoreFilesystem(target: RestoreTarget, mount: MountCommand, fsState: FilesystemState | undefined, fds: number[], logger: Logger): Promise<FileSystem> {
  if (mount.fsType === 'passthrough_fs') {
    if (!fsState?.passthrough) throw new RestoreError(`no passthrough_fs tables for instance ${mount.vfsIndex} at ${mount.mountpoint}`);
    const block = fds.slice(fsState.fdBase, fsState.fdBase + fsState.fdCount);
    if (block.length !== fsState.fdCount) throw new RestoreError(`instance ${mount.vfsIndex} names fds past the ${fds.length} received`);
    const tables = protoToPassthrough(fsState.passthrough);
    const orphanFds = dropOrphanHandles(tables, block, logger);
    rewindDirectoryHandles(tables, block);
    const fs = PassthroughFs.restore({ sharedDir: tables.sharedDir, writable: tables.writable }, tables, block);
    closeAll(orphanFds); // no longer named in the tables: the filesystem does not own them (on failure the caller closes the block)
    return fs;
  }
  if (mount.fsType === 'rafs') {
    return target.createBackend({ fsType: 'rafs', source: mount.source, config: mount.config, mountpoint: mount.mountpoint, prefetchFiles: mount.prefetchFiles });
  }
  throw new RestoreError(`unknown filesystem type "${mount.fsType}" for instance ${mount.vfsIndex}`);
}

/** Rebuilds `vfs` in place (the daemon holds that object) from the namespace and the rebuilt instances. */
function restoreVfs(vfs: Vfs, state: HandoverState, fsByIndex: Map<number, FileSystem>): void {
  const exported = {
    nextIndex: state.vfsNextIndex,
    pseudo: state.vfsNamespace ?? { nextNodeid: 2, nodes: [] },
    instances: state.mounts.map((m) => ({
      index: m.vfsIndex, mountpoint: m.mountpoint, mountedTime: m.mountedUnixMs, openHandles: m.openHandles,
      kernelRefs: Number(m.kernelRefs ?? 0), retired: m.retired === true,
      info: { fsType: m.fsType as 'rafs' | 'passthrough_fs', source: m.source, config: m.config, prefetchFiles: m.prefetchFiles },
    })),
  };
  vfs.restoreState(exported, fsByIndex);
}

/** Restores everything into `target` and returns the adopted session (not started). Owns `fds` either way. */
export async function restoreHandover(target: RestoreTarget, state: HandoverState, fds: number[], logger: Logger): Promise<FuseSession> {
  const built: FileSystem[] = [];
  const taken = new Set<number>();
  try {
    if (!state.fuse) throw new RestoreError('the state has no FUSE INIT values (it was captured before INIT completed)');
    if (state.fds[0]?.kind !== FD_FUSE_DEV || fds.length === 0) throw new RestoreError('the first descriptor is not the /dev/fuse connection');
    if (state.mountpoint && state.mountpoint !== target.mountpoint) {
      logger.warn('taking over a mount at a different path than this daemon was started with', { state: state.mountpoint, ours: target.mountpoint });
    }
    const fsByIndex = new Map<number, FileSystem>();
    for (const mount of [...state.mounts].sort((a, b) => a.vfsIndex - b.vfsIndex)) {
      const fsState = state.filesystems.find((f) => f.vfsIndex === mount.vfsIndex);
      const fs = await restoreFilesystem(target, mount, fsState, fds, logger).catch((err: unknown) => {
        // A retired image (unmounted, its open files still served) may be gone from disk by now: the takeover goes
        // on without it, and what the kernel still holds of it reads ESTALE.
        if (!mount.retired) throw err;
        logger.warn('a retired image cannot be reopened: its files still open read ESTALE', { mountpoint: mount.mountpoint, err });
        return undefined;
      });
      if (!fs) continue;
      built.push(fs);
      if (fsState) for (let i = fsState.fdBase; i < fsState.fdBase + fsState.fdCount; i++) taken.add(i);
      fsByIndex.set(mount.vfsIndex, fs);
    }
    // Every mount but a retired image that could not be reopened has its filesystem.
    restoreVfs(target.vfs as Vfs, { ...state, mounts: state.mounts.filter((m) => fsByIndex.has(m.vfsIndex)) }, fsByIndex);
    const session = FuseSession.adopt({
      fd: fds[0], mountpoint: target.mountpoint, init: stateToInit(state.fuse), logger, readThreads: target.readThreads,
    });
    taken.add(0);
    target.adoptSession(session);
    closeAll(fds.filter((_, i) => !taken.has(i)));
    return session;
  } catch (err) {
    for (const fs of built) await Promise.resolve(fs.destroy?.()).catch(() => undefined);
    closeAll(fds.filter((_, i) => !taken.has(i)));
    throw err;
  }
}
