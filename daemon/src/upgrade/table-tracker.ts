/**
 * Keeps the supervisor's copy of the passthrough_fs tables current between full states: remembers what was
 * last sent per instance and turns a fresh export into a StateDelta (nodes and handles added, changed or gone,
 * with the descriptors of new ones). A SIGKILLed daemon cannot send anything, so the supervisor must already
 * know every nodeid and fh the kernel was told about: the daemon sends a delta before each such reply.
 * Cost is one pass over the tables per delta; it sends nothing itself.
 */
import type { PassthroughState } from '../passthrough';
import { HANDLE_DIR, HANDLE_FILE, PassthroughHandleState, PassthroughNodeState } from './state-types';

export interface ExportedTables {
  vfsIndex: number;
  state: PassthroughState;
  fds: number[];
}

interface NodeMemo { dev: number; ino: number; generation: number; lookups: number; fd: number }
interface HandleMemo { nodeid: number; flags: number; kind: string; fd: number; dirOffset: number; backingId: number }
interface Memo { nodes: Map<number, NodeMemo>; handles: Map<number, HandleMemo>; nextNodeid: number; nextFh: number }

export interface StateDeltaMessage {
  vfsIndex: number;
  sequence: number;
  nodes: PassthroughNodeState[];
  removedNodes: number[];
  handles: PassthroughHandleState[];
  removedHandles: number[];
  nextNodeid: number;
  nextFh: number;
}

function memoOf(tables: ExportedTables): Memo {
  const { state, fds } = tables;
  return {
    nodes: new Map(state.inodes.map((n) => [n.nodeid, { dev: n.dev, ino: n.ino, generation: n.generation, lookups: n.lookups, fd: fds[n.fdIndex] }])),
    handles: new Map(state.handles.map((h) => [h.fh, { nodeid: h.nodeid, flags: h.flags, kind: h.kind, fd: fds[h.fdIndex], dirOffset: h.dirOffset, backingId: h.backingId ?? 0 }])),
    nextNodeid: state.nextNodeid,
    nextFh: state.nextFh,
  };
}

export class TableTracker {
  private readonly memos = new Map<number, Memo>();
  private sequence = 0;

  /** After a full state: this is what the supervisor now holds. */
  reset(all: ExportedTables[]): void {
    this.memos.clear();
    for (const tables of all) this.memos.set(tables.vfsIndex, memoOf(tables));
  }

  get tracking(): boolean {
    return this.memos.size > 0;
  }

  /** The delta from the last sent tables to `tables` (and the fds it carries), or null when nothing changed. */
  diff(tables: ExportedTables): { delta: StateDeltaMessage; fds: number[] } | null {
    const before = this.memos.get(tables.vfsIndex);
    if (!before) return null;
    const after = memoOf(tables);
    const fds: number[] = [];
    const nodes: PassthroughNodeState[] = [];
    for (const [nodeid, n] of after.nodes) {
      const old = before.nodes.get(nodeid);
      const newFd = !old || old.fd !== n.fd || old.dev !== n.dev || old.ino !== n.ino || old.generation !== n.generation;
      if (!newFd && old.lookups === n.lookups) continue;
      nodes.push({ nodeid, dev: n.dev, ino: n.ino, generation: n.generation, lookups: n.lookups, fdIndex: newFd ? fds.push(n.fd) - 1 : -1, parent: 0, name: '', mode: 0 });
    }
    const handles: PassthroughHandleState[] = [];
    for (const [fh, h] of after.handles) {
      const old = before.handles.get(fh);
      const newFd = !old || old.fd !== h.fd || old.nodeid !== h.nodeid;
      if (!newFd && old.dirOffset === h.dirOffset && old.flags === h.flags) continue;
      handles.push({ fh, nodeid: h.nodeid, flags: h.flags, kind: h.kind === 'dir' ? HANDLE_DIR : HANDLE_FILE, fdIndex: newFd ? fds.push(h.fd) - 1 : -1, dirOffset: h.dirOffset, backingId: h.backingId });
    }
    const removedNodes = [...before.nodes.keys()].filter((nodeid) => !after.nodes.has(nodeid));
    const removedHandles = [...before.handles.keys()].filter((fh) => !after.handles.has(fh));
    const countersMoved = before.nextNodeid !== after.nextNodeid || before.nextFh !== after.nextFh;
    if (!nodes.length && !handles.length && !removedNodes.length && !removedHandles.length && !countersMoved) return null;
    this.memos.set(tables.vfsIndex, after);
    return {
      delta: { vfsIndex: tables.vfsIndex, sequence: ++this.sequence, nodes, removedNodes, handles, removedHandles, nextNodeid: after.nextNodeid, nextFh: after.nextFh },
      fds,
    };
  }
}
