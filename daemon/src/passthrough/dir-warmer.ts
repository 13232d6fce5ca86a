/**
 * Reads subdirectories ahead while their parent is being listed, on the libuv threadpool (native warmDirectory).
 *
 * On a cold host cache every listing and every subdirectory's inode is a disk read, and a walk (find, tar, du)
 * makes them one after another: we list a directory, the walker goes down into its first subdirectory, we list
 * that one... So when a listing starts, its subdirectories and theirs (two levels) are read into the host's caches
 * in parallel, and by the time the walker asks for them, their listings and their own subdirectories' inodes are
 * in memory. A bounded number are in flight (the threadpool also serves large reads); past that, a listing warms
 * nothing. Only reads: names come from getdents, are opened below the listed directory without following
 * symlinks, and nothing read comes back but a count.
 */
import { DirEntry, isDotOrDotDot } from '../fs/filesystem';
import { native } from '../native';

const DT_DIR = 4;
/** Levels read ahead below a listing: its subdirectories' listings, and theirs with their subdirectories' inodes. */
const LEVELS = 2;

export class DirWarmer {
  private inFlight = 0;
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
    let queued = 0;
    for (const entry of entries) {
      if (this.inFlight >= this.maxInFlight || queued >= this.perListing) return;
      if (entry.type !== DT_DIR || isDotOrDotDot(entry.name)) continue;
      if (native.warmDirectory(dirFd, entry.name, LEVELS, () => this.inFlight--) !== 0) return;
      this.inFlight++;
      this.started++;
      queued++;
    }
  }
}
