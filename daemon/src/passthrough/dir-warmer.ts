/**
 * Reads subdirectories ahead while their parent is being listed, on the libuv threadpool (native warmDirectory).
 *
 * On a cold host cache every listing and every subdirectory's inode is a disk read, and a walk (find, tar, du)
 * makes them one after another: we list a directory, the walker goes down into its first subdirectory, we list
 * that one... So when a listing starts, its subdirectories and theirs (two levels) are read into the host's caches
 * in parallel, and by the time the walker asks for them, their listings and their own subdirectories' inodes are
 * in memory. A bounded number are in flight (the threadpool also serves large reads); past that, a listing warms
 * nothing. Only reads: names come from getdents, are opened below the listed directory without following
 * symlinks, and nothing read comes back but counts.
 *
 * With the host's caches warm (a fresh mount of a directory the host has read before, or only the kernel's FUSE
 * caches dropped), all that is wasted: each leaf listing is read three times, twice ahead and once for the
 * walker, on the 2 vCPUs the walker and the server need. So each read ahead reports how many blocks it read from
 * the disk, and once CACHED_STREAK of them in a row read none, a listing reads only its first subdirectory ahead,
 * a probe; the first one that reads the disk brings back the whole read-ahead.
 */
import { DirEntry, isDotOrDotDot } from '../fs/filesystem';
import { native } from '../native';

const DT_DIR = 4;
/** Levels read ahead below a listing: its subdirectories' listings, and theirs with their subdirectories' inodes. */
const LEVELS = 2;
/** Reads ahead in a row that found everything in the host's caches, after which a listing only probes. */
const CACHED_STREAK = 8;

export class DirWarmer {
  private inFlight = 0;
  /** Reads ahead finished in a row that read nothing from the disk. */
  private cachedStreak = 0;
  /** Directories read ahead so far. */
  started = 0;

  constructor(
    /** Directories read ahead at once, at most. */
    private readonly maxInFlight = 16,
    /** Subdirectories of one listing read ahead, at most. */
    private readonly perListing = 64,
  ) {}

  /** The listing of directory `dirFd` began with `entries`: reads its subdirectories ahead. */
  warmSubdirectories(dirFd: number, entries: DirEntry[]): void {
    const limit = this.hostCached ? 1 : this.perListing;
    let queued = 0;
    for (const entry of entries) {
      if (this.inFlight >= this.maxInFlight || queued >= limit) return;
      if (entry.type !== DT_DIR || isDotOrDotDot(entry.name)) continue;
      if (native.warmDirectory(dirFd, entry.name, LEVELS, this.finished) !== 0) return;
      this.inFlight++;
      this.started++;
      queued++;
    }
  }

  /** Directories being read ahead now. */
  get reading(): number {
    return this.inFlight;
  }

  /** Whether the reads ahead find the host's caches holding everything: listings then only probe. */
  get hostCached(): boolean {
    return this.cachedStreak >= CACHED_STREAK;
  }

  private readonly finished = (_entries: number, diskBlocks: number): void => {
    this.inFlight--;
    this.cachedStreak = diskBlocks === 0 ? this.cachedStreak + 1 : 0;
  };
}
