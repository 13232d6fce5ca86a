/**
 * The listing cursor of one open directory handle. Cookies (DirEntry.nextOffset) are sequence numbers: the
 * n-th entry the host returned since the start of the listing has cookie n. The host's own d_off values are
 * not used because ext4 gives 63-bit hash cookies that a JS number (and the addon's lseek) cannot carry
 * exactly. Entries read from the host but not yet passed by a later request's offset stay pending, so a reply
 * the server had to cut short loses nothing; an offset before the pending window rewinds and skips forward.
 * Cookies are stable for one handle as long as the directory does not change under a rewind.
 */
import { DirEntry } from '../fs/filesystem';
import { check } from '../fs/errno';
import { native } from '../native';

const SEEK_SET = 0;
const getdentsBuffer = Buffer.alloc(32 * 1024);

/** Size of an entry in a FUSE_READDIR reply: fuse_dirent (24 bytes) + name, padded to 8. */
export function fuseDirentSize(nameLength: number): number {
  return (24 + nameLength + 7) & ~7;
}

export class DirCursor {
  private pending: DirEntry[] = [];

  /** `consumed`: how many entries the fd has already returned (its position, in cookies). */
  constructor(private readonly fd: number, private consumed = 0) {}

  /** The cookie of the fd's position, for a handover: a successor resumes from here. */
  get position(): number {
    return this.consumed;
  }

  /** Entries after cookie `offset`, as many as fit in a `size`-byte readdir reply (at least one). */
  read(offset: number, size: number): DirEntry[] {
    if (offset < this.consumed - this.pending.length) this.rewind();
    this.dropUpTo(offset);
    while (this.pending.length === 0) {
      if (!this.fill()) return [];
      this.dropUpTo(offset);
    }
    const out: DirEntry[] = [];
    let used = 0;
    for (const entry of this.pending) {
      used += fuseDirentSize(entry.name.length);
      if (out.length > 0 && used > size) break;
      out.push(entry);
    }
    return out;
  }

  private rewind(): void {
    check(native.lseek(this.fd, 0, SEEK_SET), 'lseek');
    this.consumed = 0;
    this.pending = [];
  }

  private dropUpTo(offset: number): void {
    let i = 0;
    while (i < this.pending.length && this.pending[i].nextOffset <= offset) i++;
    if (i > 0) this.pending = this.pending.slice(i);
  }

  /** Reads one batch from the host; false at the end of the directory. */
  private fill(): boolean {
    const n = check(native.getdents(this.fd, getdentsBuffer), 'getdents');
    if (n === 0) return false;
    // One copy of the batch; names are views into it.
    this.consumed = parseDirents(Buffer.from(getdentsBuffer.subarray(0, n)), this.consumed, this.pending);
    return true;
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
