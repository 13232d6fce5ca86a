/**
 * Decides, per directory, whether a READDIRPLUS reply carries every entry's attributes (each entry looked up,
 * counted, and made an inode by the kernel) or names only (nodeid 0, which the kernel takes like a READDIR
 * entry). Attributes pay off when the caller goes on to look the entries up (ls -l, os.walk with lstat, tar);
 * when it does not (find, a shell glob) they cost a stat, a table entry and a kernel inode per entry for nothing.
 *
 * The evidence is what followed a names-only listing of the directory: once at least half of the names it sent
 * were looked up, its listings carry attributes. Only non-directories count, on both sides: every walk looks up
 * the directories it descends into, but only one that stats (or opens) files looks up the rest.
 *
 * Evidence is only trusted while it is recent (EVIDENCE_TTL_MS): walks come in bursts, and a walk that stats
 * everything says nothing about a find run ten seconds later. A directory without recent evidence of its own
 * follows the walk in progress: the recent names-only listings of all directories (a walk treats the directories
 * of a tree alike; names only when there is none). Every PROBE_EVERY-th listing with attributes is names-only
 * again, so that a directory listed over and over renews its evidence. Directories are known by the
 * filesystem's nodeKey() (dev:ino for passthrough_fs), which outlives the nodeid: the kernel forgets inodes
 * under memory pressure and gets new nodeids for them. Past `capacity`, the least recently listed directories
 * are dropped.
 */
type KeyOf = (nodeid: number) => string | number | undefined;
interface DirRecord {
  withAttributes: boolean;
  /** Names sent by names-only listings since the last decision, and lookups of this directory's entries since. */
  names: number;
  lookups: number;
  listingsWithAttributes: number;
  /** When lookups after a names-only listing showed that attributes pay (ms, the advisor's clock). */
  decidedAt: number;
}

const PROBE_EVERY = 16;
/** How long evidence stays valid (ms): a walk is a burst, and the next one may be a different kind of walk. */
const EVIDENCE_TTL_MS = 5000;
/** The mount-wide evidence is halved past this many names, so that it follows the walk in progress. */
const RECENT_NAMES = 256;

export class ReaddirplusAdvisor {
  private readonly dirs = new Map<string | number, DirRecord>();
  /** Names sent names-only across all directories, lookups that followed them (decayed), and when either last happened. */
  private recent = { names: 0, lookups: 0, at: -Infinity };

  constructor(
    private readonly keyOf: KeyOf,
    private readonly capacity = 8192,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** For a READDIRPLUS page of directory `nodeid` at `offset` (0 starts a listing): send attributes? */
  withAttributes(nodeid: number, offset: number): boolean {
    const dir = this.keyOf(nodeid);
    if (dir === undefined) return false;
    let rec = this.dirs.get(dir);
    if (rec && offset !== 0) return rec.withAttributes; // later pages follow the listing's first one
    if (rec) {
      this.dirs.delete(dir); // most recently listed last
    } else {
      rec = { withAttributes: false, names: 0, lookups: 0, listingsWithAttributes: 0, decidedAt: -Infinity };
      if (this.dirs.size >= this.capacity) this.dirs.delete(this.dirs.keys().next().value!);
    }
    this.dirs.set(dir, rec);
    const now = this.now();
    const attributes = this.ownEvidence(rec, now) ? ++rec.listingsWithAttributes <= PROBE_EVERY : this.walkLooksUp(now);
    if (rec.withAttributes && !attributes) {
      rec.names = 0;
      rec.lookups = 0;
    }
    rec.withAttributes = attributes;
    return attributes;
  }

  /** What withAttributes(nodeid, offset) would answer now, with nothing recorded. */
  wouldSendAttributes(nodeid: number, offset: number): boolean {
    const dir = this.keyOf(nodeid);
    if (dir === undefined) return false;
    const rec = this.dirs.get(dir);
    if (rec && offset !== 0) return rec.withAttributes;
    const now = this.now();
    return rec && this.ownEvidence(rec, now) ? rec.listingsWithAttributes < PROBE_EVERY : this.walkLooksUp(now);
  }

  /** A names-only page of directory `nodeid` carried `count` names of non-directories. */
  sentNames(nodeid: number, count: number): void {
    const dir = this.keyOf(nodeid);
    const rec = dir === undefined ? undefined : this.dirs.get(dir);
    if (!rec) return;
    rec.names += count;
    const now = this.now();
    if (now - this.recent.at > EVIDENCE_TTL_MS) this.recent = { names: 0, lookups: 0, at: now };
    this.recent.names += count;
    this.recent.at = now;
    if (this.recent.names > RECENT_NAMES) this.recent = { names: this.recent.names / 2, lookups: this.recent.lookups / 2, at: now };
  }

  /** The kernel looked up a name of a non-directory in directory `nodeid`. */
  lookedUp(nodeid: number): void {
    if (this.dirs.size === 0) return;
    const dir = this.keyOf(nodeid);
    const rec = dir === undefined ? undefined : this.dirs.get(dir);
    if (!rec || rec.withAttributes || rec.names === 0) return;
    const now = this.now();
    if (rec.lookups < rec.names) {
      this.recent.lookups++;
      this.recent.at = now;
    }
    if (++rec.lookups * 2 >= rec.names) {
      rec.withAttributes = true;
      rec.listingsWithAttributes = 0;
      rec.decidedAt = now;
    }
  }

  /** The directory's own lookups showed, recently, that attributes pay. */
  private ownEvidence(rec: DirRecord, now: number): boolean {
    return rec.withAttributes && now - rec.decidedAt <= EVIDENCE_TTL_MS;
  }

  /** The walk in progress (recent names-only listings, all directories) looks up most of the names it is sent. */
  private walkLooksUp(now: number): boolean {
    const { names, lookups, at } = this.recent;
    return names > 0 && lookups * 2 >= names && now - at <= EVIDENCE_TTL_MS;
  }
}
