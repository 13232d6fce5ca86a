/**
 * The supervisor's working copy of one daemon's handover state: the descriptors it holds, with the
 * passthrough_fs tables kept as maps so that StateDelta frames can be applied (closing the descriptors they
 * replace or drop). snapshot() lays the state out again as a HandoverState whose fd indexes match the fd list
 * it returns. Deltas are checked before anything changes; a bad one is refused whole.
 */
import { closeAll } from '../../daemon/src/upgrade/channel';
import { ProtocolError } from '../../daemon/src/upgrade/frame';
import { FD_HANDLE, FD_NODE, FdSlot, HandoverState, PassthroughFsState, PassthroughHandleState, PassthroughNodeState } from '../../daemon/src/upgrade/state-types';
import type { StateDeltaMessage } from '../../daemon/src/upgrade/table-tracker';

interface Held<T> { entry: T; fd: number }
interface Tables {
  base: PassthroughFsState;
  nodes: Map<number, Held<PassthroughNodeState>>;
  handles: Map<number, Held<PassthroughHandleState>>;
}

export class LiveState {
  private readonly tables = new Map<number, Tables>();
  /** Descriptors outside any passthrough block (the /dev/fuse fd first), by their original index. */
  private readonly others: Array<{ slot: FdSlot; fd: number }> = [];
  deltasApplied = 0;

  /** Takes ownership of `fds` (laid out as `state.fds` says). */
  constructor(private state: HandoverState, fds: number[]) {
    const inBlock = new Set<number>();
    for (const fs of state.filesystems) {
      if (!fs.passthrough) continue;
      if (fs.fdBase + fs.fdCount > fds.length) throw new ProtocolError(`instance ${fs.vfsIndex} names fds ${fs.fdBase}..${fs.fdBase + fs.fdCount} of ${fds.length}`);
      for (const entry of [...fs.passthrough.nodes, ...fs.passthrough.handles]) {
        if (entry.fdIndex < -1 || entry.fdIndex >= fs.fdCount) throw new ProtocolError(`instance ${fs.vfsIndex} has an entry with fd index ${entry.fdIndex} outside its ${fs.fdCount} fds`);
      }
      const tables: Tables = { base: fs.passthrough, nodes: new Map(), handles: new Map() };
      for (const node of fs.passthrough.nodes) tables.nodes.set(node.nodeid, { entry: node, fd: node.fdIndex >= 0 ? fds[fs.fdBase + node.fdIndex] : -1 });
      for (const handle of fs.passthrough.handles) tables.handles.set(handle.fh, { entry: handle, fd: handle.fdIndex >= 0 ? fds[fs.fdBase + handle.fdIndex] : -1 });
      for (let i = fs.fdBase; i < fs.fdBase + fs.fdCount; i++) inBlock.add(i);
      this.tables.set(fs.vfsIndex, tables);
    }
    fds.forEach((fd, i) => {
      if (!inBlock.has(i)) this.others.push({ slot: state.fds[i], fd });
    });
  }

  get fdCount(): number {
    let n = this.others.length;
    for (const t of this.tables.values()) {
      for (const h of t.nodes.values()) if (h.fd >= 0) n++;
      for (const h of t.handles.values()) if (h.fd >= 0) n++;
    }
    return n;
  }

  /** Applies a delta, taking ownership of `fds` (closed if the delta is refused). */
  apply(delta: StateDeltaMessage, fds: number[]): void {
    const tables = this.tables.get(delta.vfsIndex);
    const used = new Set<number>();
    const take = (index: number, what: string): void => {
      if (index < -1 || index >= fds.length || used.has(index)) throw new ProtocolError(`delta ${what} names fd ${index} of ${fds.length}`);
      if (index >= 0) used.add(index);
    };
    try {
      if (!tables) throw new ProtocolError(`delta for instance ${delta.vfsIndex}, which has no passthrough tables`);
      for (const node of delta.nodes) {
        take(node.fdIndex, `node ${node.nodeid}`);
        if (node.fdIndex === -1 && !tables.nodes.has(node.nodeid)) throw new ProtocolError(`delta keeps the fd of unknown node ${node.nodeid}`);
      }
      for (const handle of delta.handles) {
        take(handle.fdIndex, `handle ${handle.fh}`);
        if (handle.fdIndex === -1 && !tables.handles.has(handle.fh)) throw new ProtocolError(`delta keeps the fd of unknown handle ${handle.fh}`);
      }
      if (used.size !== fds.length) throw new ProtocolError(`delta carries ${fds.length} fds but uses ${used.size}`);
    } catch (err) {
      closeAll(fds);
      throw err;
    }
    const t = tables as Tables;
    const replace = <T>(map: Map<number, Held<T>>, key: number, entry: T, index: number) => {
      const old = map.get(key);
      if (index >= 0 && old && old.fd >= 0) closeAll([old.fd]);
      map.set(key, { entry, fd: index >= 0 ? fds[index] : (old as Held<T>).fd });
    };
    for (const node of delta.nodes) replace(t.nodes, node.nodeid, node, node.fdIndex);
    for (const handle of delta.handles) replace(t.handles, handle.fh, handle, handle.fdIndex);
    for (const nodeid of delta.removedNodes) this.drop(t.nodes, nodeid);
    for (const fh of delta.removedHandles) this.drop(t.handles, fh);
    t.base = { ...t.base, nextNodeid: delta.nextNodeid, nextFh: delta.nextFh };
    this.deltasApplied += 1;
  }

  /** The current state and fds (still owned by this object), laid out afresh. */
  snapshot(): { state: HandoverState; fds: number[] } {
    const fds = this.others.map((o) => o.fd);
    const slots = this.others.map((o) => o.slot);
    const filesystems = this.state.filesystems.map((fs) => {
      const t = this.tables.get(fs.vfsIndex);
      if (!t) return { ...fs, fdBase: fds.length, fdCount: 0 };
      const fdBase = fds.length;
      const place = (fd: number, slot: FdSlot): number => {
        if (fd < 0) return -1;
        slots.push(slot);
        return fds.push(fd) - 1 - fdBase;
      };
      const nodes = [...t.nodes.values()].map(({ entry, fd }) => ({ ...entry, fdIndex: place(fd, { kind: FD_NODE, vfsIndex: fs.vfsIndex, ref: entry.nodeid, dev: entry.dev, ino: entry.ino }) }));
      const handles = [...t.handles.values()].map(({ entry, fd }) => ({ ...entry, fdIndex: place(fd, { kind: FD_HANDLE, vfsIndex: fs.vfsIndex, ref: entry.fh, dev: 0, ino: 0 }) }));
      return { ...fs, fdBase, fdCount: fds.length - fdBase, passthrough: { ...t.base, nodes, handles } };
    });
    return { state: { ...this.state, filesystems, fds: slots }, fds };
  }

  close(): void {
    closeAll(this.others.map((o) => o.fd));
    for (const t of this.tables.values()) {
      closeAll([...t.nodes.values(), ...t.handles.values()].map((h) => h.fd).filter((fd) => fd >= 0));
    }
    this.others.length = 0;
    this.tables.clear();
  }

  private drop<T>(map: Map<number, Held<T>>, key: number): void {
    const held = map.get(key);
    if (!held) return;
    if (held.fd >= 0) closeAll([held.fd]);
    map.delete(key);
  }
}
