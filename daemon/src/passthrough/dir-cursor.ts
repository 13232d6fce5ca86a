/**
 * The listing cursor of one open directory: native/src/dir_cursor.c keeps it, so that the server can also answer
 * READDIR and names-only READDIRPLUS from it natively (server/native-listings.ts). Cookies (DirEntry.nextOffset)
 * are sequence numbers: the n-th entry the host returned since the start of the listing has cookie n. The host's
 * own d_off values are not used because ext4 gives 63-bit hash cookies that a JS number cannot carry exactly.
 * Entries read from the host but not yet passed by a later request's offset stay pending, so a reply the server
 * had to cut short loses nothing; an offset before the pending window rewinds and skips forward. Cookies are
 * stable for one handle as long as the directory does not change under a rewind.
 */
import { DirEntry } from '../fs/filesystem';
import { check } from '../fs/errno';
import { DirCursorHandle, native } from '../native';

const records = Buffer.alloc(32 * 1024);
const firstCookie = new Float64Array(1);

export class DirCursor {
  /** The native cursor (the fd stays the caller's to close). */
  readonly handle: DirCursorHandle;

  /** `consumed`: how many entries the fd has already returned (its position, in cookies). */
  constructor(fd: number, consumed = 0) {
    this.handle = native.dirCursorCreate(fd, consumed);
  }

  /** The cookie of the fd's position, for a handover: a successor resumes from here. */
  get position(): number {
    return native.dirCursorPosition(this.handle);
  }

  /** Entries after cookie `offset`, as many as fit in a `size`-byte readdir reply (at least one); [] at the end. */
  read(offset: number, size: number): DirEntry[] {
    const n = check(native.dirCursorRead(this.handle, offset, size, records, firstCookie), 'getdents');
    const entries: DirEntry[] = [];
    // One copy of the records; names are views into it.
    if (n > 0) parseDirents(Buffer.from(records.subarray(0, n)), firstCookie[0] - 1, entries);
    return entries;
  }
}

/**
 * Decodes linux_dirent64 records (ino u64, off i64, reclen u16, type u8, name NUL-terminated) into `out`, numbering
 * them from `cookie` + 1; returns the last cookie. Names are views into `buf`.
 */
export function parseDirents(buf: Buffer, cookie: number, out: DirEntry[]): number {
  let pos = 0;
  while (pos + 19 <= buf.length) {
    const reclen = buf.readUInt16LE(pos + 16);
    if (reclen < 20 || pos + reclen > buf.length) throw new Error(`corrupt dirent record at ${pos}`);
    const nameEnd = buf.indexOf(0, pos + 19);
    const name = buf.subarray(pos + 19, nameEnd < 0 || nameEnd > pos + reclen ? pos + reclen : nameEnd);
    const ino = buf.readUInt32LE(pos) + buf.readUInt32LE(pos + 4) * 0x100000000;
    out.push({ ino, nextOffset: ++cookie, type: buf[pos + 18], name });
    pos += reclen;
  }
  return cookie;
}
