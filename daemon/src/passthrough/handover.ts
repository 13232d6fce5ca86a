/**
 * Handover of a passthrough filesystem to a successor daemon: the inode and handle tables as JSON-friendly
 * data plus the fds they hold (to be sent with SCM_RIGHTS). The fds are the truth: an unlinked-but-open
 * file has no path left, and a moved directory is still the same inode. restore checks every field and that
 * each inode fd still is the (dev, ino) the state names, and throws a clear Error otherwise (leaving the
 * fds to the caller). Sending the fds and versioning the daemon-wide envelope are the caller's job.
 */
import { FUSE_ROOT_ID } from '../fs/filesystem';
import { HandleKind, HandleTable } from './handle-table';
import { DirCursor } from './dir-cursor';
import { statFd } from './host';
import { InodeTable } from './inode-table';

export const PASSTHROUGH_STATE_VERSION = 1;

export interface PassthroughState {
  version: number;
  sharedDir: string;
  writable: boolean;
  nextNodeid: number;
  nextFh: number;
  inodes: { nodeid: number; dev: number; ino: number; generation: number; lookups: number; fdIndex: number }[];
  /**
   * dirOffset: for a directory handle, the cookie its fd is positioned at (0 for files). backingId: the kernel
   * passthrough id of a file handle (0: none); it lives in the connection, so it stays valid for a successor.
   */
  handles: {
    fh: number; nodeid: number; flags: number; kind: HandleKind; fdIndex: number; dirOffset: number; backingId?: number;
  }[];
}

export function exportTables(sharedDir: string, writable: boolean, inodes: InodeTable, handles: HandleTable):
  { state: PassthroughState; fds: number[] } {
  const fds: number[] = [];
  const state: PassthroughState = {
    version: PASSTHROUGH_STATE_VERSION, sharedDir, writable,
    nextNodeid: inodes.nextId, nextFh: handles.nextId, inodes: [], handles: [],
  };
  for (const e of inodes.entries()) {
    state.inodes.push({ nodeid: e.nodeid, dev: e.dev, ino: e.ino, generation: e.generation, lookups: e.lookups,
      fdIndex: fds.push(e.fd) - 1 });
  }
  for (const h of handles.entries()) {
    state.handles.push({ fh: h.fh, nodeid: h.nodeid, flags: h.flags, kind: h.kind, fdIndex: fds.push(h.fd) - 1,
      dirOffset: h.cursor?.position ?? 0, backingId: h.backingId ?? 0 });
  }
  return { state, fds };
}

function fail(what: string): never {
  throw new Error(`passthrough_fs: cannot restore handover state: ${what}`);
}

function requireCount(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) fail(`${what} is not a count`);
  return value;
}

/** Rebuilds both tables from a state and the fds it indexes; the tables then own those fds. */
export function restoreTables(state: PassthroughState, fds: number[]): { inodes: InodeTable; handles: HandleTable } {
  if (state?.version !== PASSTHROUGH_STATE_VERSION) fail(`unknown version ${String(state?.version)}`);
  if (!Array.isArray(state.inodes) || !Array.isArray(state.handles)) fail('inodes or handles missing');
  const used = new Set<number>();
  const takeFd = (index: unknown, what: string): number => {
    const i = requireCount(index, `${what} fdIndex`);
    if (i >= fds.length) fail(`${what} fdIndex ${i} is past the ${fds.length} fds received`);
    if (used.has(i)) fail(`fd ${i} is named twice`);
    used.add(i);
    return fds[i];
  };
  const inodes = new InodeTable(requireCount(state.nextNodeid, 'nextNodeid'));
  for (const s of state.inodes) {
    const fd = takeFd(s.fdIndex, `inode ${s.nodeid}`);
    const st = statFd(fd);
    if (st.dev !== s.dev || st.ino !== s.ino) fail(`inode ${s.nodeid}: fd is ${st.dev}:${st.ino}, not ${s.dev}:${s.ino}`);
    inodes.insert({ nodeid: requireCount(s.nodeid, 'nodeid'), fd, dev: st.dev, ino: st.ino,
      generation: requireCount(s.generation, 'generation'), lookups: requireCount(s.lookups, 'lookups') });
  }
  if (!inodes.has(FUSE_ROOT_ID)) fail('the root inode is missing');
  const handles = new HandleTable(requireCount(state.nextFh, 'nextFh'));
  for (const s of state.handles) {
    if (s.kind !== 'file' && s.kind !== 'dir') fail(`handle ${s.fh} has kind ${String(s.kind)}`);
    if (!inodes.has(requireCount(s.nodeid, `handle ${s.fh} nodeid`))) fail(`handle ${s.fh}: no inode ${s.nodeid}`);
    const fd = takeFd(s.fdIndex, `handle ${s.fh}`);
    const cursor = s.kind === 'dir' ? new DirCursor(fd, requireCount(s.dirOffset, 'dirOffset')) : undefined;
    const backingId = s.kind === 'file' && s.backingId ? requireCount(s.backingId, `handle ${s.fh} backingId`) : undefined;
    handles.insert({ fh: requireCount(s.fh, 'fh'), nodeid: s.nodeid, fd, flags: requireCount(s.flags, 'flags'),
      kind: s.kind, cursor, backingId });
  }
  return { inodes, handles };
}
