/**
 * The passthrough inode table: nodeid -> the O_PATH fd that pins one host inode, plus its (dev, ino) and the
 * kernel's lookup count. One host inode has one nodeid however many names (hard links) lead to it: the
 * (dev, ino) index finds it. Holding the fd keeps the host inode alive, so its (dev, ino) cannot be given to
 * another file while the entry exists. Nodeids come from a counter and are never reused; the root
 * (FUSE_ROOT_ID) is never dropped. The table owns the fds: dropping an entry closes its fd.
 */
import { FUSE_ROOT_ID } from '../fs/filesystem';
import { E, FsError } from '../fs/errno';
import { native } from '../native';

export interface InodeEntry {
  readonly nodeid: number;
  readonly fd: number;
  readonly dev: number;
  readonly ino: number;
  readonly generation: number;
  lookups: number;
}

function keyOf(dev: number, ino: number): string {
  return `${dev}:${ino}`;
}

export class InodeTable {
  private readonly byNodeid = new Map<number, InodeEntry>();
  private readonly byHostId = new Map<string, InodeEntry>();

  constructor(private nextNodeid = FUSE_ROOT_ID + 1) {}

  get nextId(): number {
    return this.nextNodeid;
  }

  get size(): number {
    return this.byNodeid.size;
  }

  /** The entry of a nodeid the kernel gave us; ESTALE when it is unknown (forgotten or never issued). */
  get(nodeid: number): InodeEntry {
    const entry = this.byNodeid.get(nodeid);
    if (!entry) throw new FsError(E.ESTALE, `unknown nodeid ${nodeid}`);
    return entry;
  }

  find(nodeid: number): InodeEntry | undefined {
    return this.byNodeid.get(nodeid);
  }

  has(nodeid: number): boolean {
    return this.byNodeid.has(nodeid);
  }

  findByHostId(dev: number, ino: number): InodeEntry | undefined {
    return this.byHostId.get(keyOf(dev, ino));
  }

  /**
   * Records one more lookup of the host inode (dev, ino) that `fd` refers to. When the inode is already known
   * the fd is closed and the existing entry counted; otherwise the table takes the fd under a new nodeid.
   */
  addLookup(fd: number, dev: number, ino: number): InodeEntry {
    const known = this.byHostId.get(keyOf(dev, ino));
    if (known) {
      native.close(fd);
      known.lookups++;
      return known;
    }
    return this.insert({ nodeid: this.nextNodeid++, fd, dev, ino, generation: 0, lookups: 1 });
  }

  /** Puts an entry in as it is (the root at start-up, entries rebuilt from a handover). */
  insert(entry: InodeEntry): InodeEntry {
    if (this.byNodeid.has(entry.nodeid)) throw new Error(`nodeid ${entry.nodeid} is already in the table`);
    if (this.byHostId.has(keyOf(entry.dev, entry.ino))) {
      throw new Error(`host inode ${entry.dev}:${entry.ino} already has a nodeid`);
    }
    this.byNodeid.set(entry.nodeid, entry);
    this.byHostId.set(keyOf(entry.dev, entry.ino), entry);
    if (entry.nodeid >= this.nextNodeid) this.nextNodeid = entry.nodeid + 1;
    return entry;
  }

  /** Takes `count` lookups away; at zero the entry is dropped and its fd closed. Unknown nodeids are ignored. */
  forget(nodeid: number, count: number): void {
    const entry = this.byNodeid.get(nodeid);
    if (!entry) return;
    entry.lookups = Math.max(0, entry.lookups - count);
    if (entry.lookups > 0 || entry.nodeid === FUSE_ROOT_ID) return;
    this.byNodeid.delete(nodeid);
    this.byHostId.delete(keyOf(entry.dev, entry.ino));
    native.close(entry.fd);
  }

  entries(): IterableIterator<InodeEntry> {
    return this.byNodeid.values();
  }

  /** Closes every fd and empties the table. */
  closeAll(): void {
    for (const entry of this.byNodeid.values()) native.close(entry.fd);
    this.byNodeid.clear();
    this.byHostId.clear();
  }
}
