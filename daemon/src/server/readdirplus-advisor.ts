/**
 * Decides, per directory, whether a READDIRPLUS reply carries every entry's attributes (each entry looked up,
 * counted, and made an inode by the kernel) or names only (nodeid 0, which the kernel takes like a READDIR
 * entry). Attributes pay off when the caller goes on to look the entries up (ls -l, os.walk with lstat, tar);
 * when it does not (find, a shell glob) they cost a stat, a table entry and a kernel inode per entry for nothing.
 *
 * The evidence is what followed a names-only listing of the directory: once at least half of the names it sent
 * were looked up, its listings carry attributes. Only non-directories count, on both sides: every walk looks up
 * the directories it descends into, but only one that stats (or opens) files looks up the rest. A directory
 * never listed before follows the recent evidence of all directories (a walk treats the directories of a tree
 * alike; names only when there is none). Every PROBE_EVERY-th listing with attributes goes back to names only,
 * so that the evidence is renewed. Directories are known by the filesystem's nodeKey() (dev:ino for
 * passthrough_fs), which outlives the nodeid: the kernel forgets inodes under memory pressure and gets new
 * nodeids for them. Past `capacity`, the least recently listed directories are dropped.
 */
type KeyOf = (nodeid: number) => string | number | undefined;
interface DirRecord {
  withAttributes: boolean;
  /** Names sent by names-only listings since the last decision, and lookups of this directory's entries since. */
  names: number;
  lookups: number;
  listingsWithAttributes: number;
}

const PROBE_EVERY = 16;
/** The mount-wide evidence is halved past this many names, so that it follows what callers do now. */
const RECENT_NAMES = 4096;

export class ReaddirplusAdvisor {
  private readonly dirs = new Map<string | number, DirRecord>();
  /** Names sent names-only across all directories, and lookups that followed them (decayed). */
  private recent = { names: 0, lookups: 0 };

  constructor(private readonly keyOf: KeyOf, private readonly capacity = 8192) {}

  /** For a READDIRPLUS page of directory `nodeid` at `offset` (0 starts a listing): send attributes? */
  withAttributes(nodeid: number, offset: number): boolean {
    const dir = this.keyOf(nodeid);
    if (dir === undefined) return false;
    let rec = this.dirs.get(dir);
    if (rec && offset === 0) {
      this.dirs.delete(dir); // most recently listed last
      this.dirs.set(dir, rec);
    }
    if (!rec) {
      const attributesPaid = this.recent.names > 0 && this.recent.lookups * 2 >= this.recent.names;
      rec = { withAttributes: attributesPaid, names: 0, lookups: 0, listingsWithAttributes: 0 };
      this.dirs.set(dir, rec);
      if (this.dirs.size > this.capacity) this.dirs.delete(this.dirs.keys().next().value!);
    }
    if (offset === 0 && rec.withAttributes && ++rec.listingsWithAttributes > PROBE_EVERY) {
      rec.withAttributes = false;
      rec.names = 0;
      rec.lookups = 0;
    }
    return rec.withAttributes;
  }

  /** A names-only page of directory `nodeid` carried `count` names of non-directories. */
  sentNames(nodeid: number, count: number): void {
    const dir = this.keyOf(nodeid);
    const rec = dir === undefined ? undefined : this.dirs.get(dir);
    if (!rec) return;
    rec.names += count;
    this.recent.names += count;
    if (this.recent.names > RECENT_NAMES) this.recent = { names: this.recent.names / 2, lookups: this.recent.lookups / 2 };
  }

  /** The kernel looked up a name of a non-directory in directory `nodeid`. */
  lookedUp(nodeid: number): void {
    if (this.dirs.size === 0) return;
    const dir = this.keyOf(nodeid);
    const rec = dir === undefined ? undefined : this.dirs.get(dir);
    if (!rec || rec.withAttributes || rec.names === 0) return;
    if (rec.lookups < rec.names) this.recent.lookups++;
    if (++rec.lookups * 2 >= rec.names) {
      rec.withAttributes = true;
      rec.listingsWithAttributes = 0;
    }
  }
}
