/**
 * Directory listings by inode, for READDIR without an open handle. The daemon answers OPENDIR with ENOSYS, after
 * which the kernel sends no OPENDIR or RELEASEDIR on the connection at all (FUSE_NO_OPENDIR_SUPPORT) and caches
 * listings itself: READDIR then names the directory by nodeid, with fh 0.
 *
 * A listing keeps its own directory fd and DirCursor while it is being read, and is closed at the end of the
 * directory, on closeAll(), or (past `capacity` listings) least recently used first. Nodeids are never reused,
 * so a nodeid always names the directory its listing was opened for. Cookies are the cursor's sequence numbers,
 * so a listing opened afresh (after an eviction, or in a successor daemon after a handover) serves any cookie by
 * reading forward to it. The server answers most READDIR and names-only READDIRPLUS from the cursor natively
 * (nativeListing; server/native-listings.ts), the others through read().
 */
import { DirEntry } from '../fs/filesystem';
import type { NativeDirListing } from '../fs/native-listings';
import { native } from '../native';
import { DirCursor } from './dir-cursor';
import { DirWarmer } from './dir-warmer';
import { openDirectory } from './host';
import { InodeEntry } from './inode-table';

interface Listing {
  fd: number;
  cursor: DirCursor;
  /** The same cursor for replies packed natively. */
  native: NativeDirListing;
}

export class DirListings {
  private readonly listings = new Map<number, Listing>();

  /** `warmer`: reads the subdirectories of a listing that starts ahead (undefined: none). */
  constructor(private readonly capacity = 64, readonly warmer: DirWarmer | undefined = new DirWarmer()) {}

  /**
   * Entries of directory `inode` after cookie `offset` that fit in `size` bytes; [] at the end (which closes it).
   * A listing read from its start has its subdirectories read ahead.
   */
  read(inode: InodeEntry, offset: number, size: number): DirEntry[] {
    const listing = this.listingOf(inode);
    const entries = listing.cursor.read(offset, size);
    if (entries.length === 0) this.close(inode.nodeid);
    else if (offset === 0) this.warmer?.warmSubdirectories(listing.fd, entries);
    return entries;
  }

  /**
   * The listing of directory `inode` (opened if need be), for replies packed natively from its cursor. Those send
   * no subdirectory at the start of a listing, so nothing is read ahead there.
   */
  nativeListing(inode: InodeEntry): NativeDirListing {
    return this.listingOf(inode).native;
  }

  closeAll(): void {
    for (const nodeid of [...this.listings.keys()]) this.close(nodeid);
  }

  private listingOf(inode: InodeEntry): Listing {
    const known = this.listings.get(inode.nodeid);
    if (known) {
      this.listings.delete(inode.nodeid); // most recently used last
      this.listings.set(inode.nodeid, known);
      return known;
    }
    const fd = openDirectory(inode.fd);
    const cursor = new DirCursor(fd);
    const nodeid = inode.nodeid;
    const listing = { fd, cursor, native: { cursor: cursor.handle, ended: () => this.close(nodeid) } };
    this.listings.set(inode.nodeid, listing);
    if (this.listings.size > this.capacity) this.close(this.listings.keys().next().value!);
    return listing;
  }

  private close(nodeid: number): void {
    const listing = this.listings.get(nodeid);
    if (!listing) return;
    this.listings.delete(nodeid);
    native.close(listing.fd);
  }
}
