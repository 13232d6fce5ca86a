/**
 * The VFS's own directories: the root when no instance is mounted at "/", and the intermediate directories
 * of sub-path mount points such as "/a/b". They are immutable, owned by root, mode 0755, and hold either
 * further pseudo directories or instance mount points.
 */
import { E, FsError } from '../fs/errno';
import type { Attr, DirEntry } from '../fs/filesystem';

export interface PseudoNode {
  nodeid: number;
  parent: number;
  name: string;
  /** child name -> pseudo nodeid, for pseudo directories below this one */
  dirs: Map<string, number>;
  /** child name -> instance index, for mount points directly below this one */
  mounts: Map<string, number>;
}

const DT_DIR = 4;
const S_IFDIR = 0o040000;

export class PseudoFs {
  private readonly nodes = new Map<number, PseudoNode>();
  private nextNodeid = 2;
  private readonly born = Math.floor(Date.now() / 1000);

  constructor() {
    this.nodes.set(1, { nodeid: 1, parent: 1, name: '', dirs: new Map(), mounts: new Map() });
  }

  get(nodeid: number): PseudoNode {
    const n = this.nodes.get(nodeid);
    if (!n) throw new FsError(E.ESTALE, `no pseudo directory ${nodeid}`);
    return n;
  }

  has(nodeid: number): boolean {
    return this.nodes.has(nodeid);
  }

  /** The pseudo directory for `parts` (creating missing ones). */
  ensureDir(parts: string[]): PseudoNode {
    let node = this.get(1);
    for (const part of parts) {
      let child = node.dirs.get(part);
      if (child === undefined) {
        child = this.nextNodeid++;
        this.nodes.set(child, { nodeid: child, parent: node.nodeid, name: part, dirs: new Map(), mounts: new Map() });
        node.dirs.set(part, child);
      }
      node = this.get(child);
    }
    return node;
  }

  /** Finds the pseudo directory for `parts` without creating it. */
  find(parts: string[]): PseudoNode | undefined {
    let node = this.get(1);
    for (const part of parts) {
      const child = node.dirs.get(part);
      if (child === undefined) return undefined;
      node = this.get(child);
    }
    return node;
  }

  /** Drops empty pseudo directories from `node` upwards (never the root). */
  prune(node: PseudoNode): void {
    let n = node;
    while (n.nodeid !== 1 && n.dirs.size === 0 && n.mounts.size === 0) {
      const parent = this.get(n.parent);
      parent.dirs.delete(n.name);
      this.nodes.delete(n.nodeid);
      n = parent;
    }
  }

  attr(nodeid: number): Attr {
    const n = this.get(nodeid);
    return {
      ino: nodeid, size: 4096, blocks: 8,
      atimeSec: this.born, atimeNsec: 0, mtimeSec: this.born, mtimeNsec: 0, ctimeSec: this.born, ctimeNsec: 0,
      mode: S_IFDIR | 0o755, nlink: 2 + n.dirs.size + n.mounts.size, uid: 0, gid: 0, rdev: 0, blksize: 4096,
    };
  }

  /** ".", ".." and the children, with cookies base+1, base+2, ... */
  entries(nodeid: number, base: number, withDots: boolean): DirEntry[] {
    const n = this.get(nodeid);
    const names: Array<[string, number]> = [];
    if (withDots) names.push(['.', nodeid], ['..', n.parent]);
    for (const [name, id] of n.dirs) names.push([name, id]);
    for (const name of n.mounts.keys()) names.push([name, 0]);
    return names.map(([name, ino], i) => ({ ino: ino || 1, nextOffset: base + i + 1, type: DT_DIR, name: Buffer.from(name) }));
  }

  exportState(): { nextNodeid: number; nodes: Array<{ nodeid: number; parent: number; name: string }> } {
    return {
      nextNodeid: this.nextNodeid,
      nodes: [...this.nodes.values()].filter((n) => n.nodeid !== 1)
        .map((n) => ({ nodeid: n.nodeid, parent: n.parent, name: n.name })),
    };
  }

  restoreState(s: { nextNodeid: number; nodes: Array<{ nodeid: number; parent: number; name: string }> }): void {
    this.nextNodeid = s.nextNodeid;
    const pending = [...s.nodes].sort((a, b) => a.nodeid - b.nodeid);
    for (const n of pending) {
      this.nodes.set(n.nodeid, { nodeid: n.nodeid, parent: n.parent, name: n.name, dirs: new Map(), mounts: new Map() });
    }
    for (const n of pending) this.get(n.parent).dirs.set(n.name, n.nodeid);
  }
}
