/**
 * The FUSE wire structs: the only module that knows byte offsets. Decoders read a struct at an offset of a
 * request buffer into a plain object; encoders write a reply struct into a buffer at an offset. Sizes are
 * exported as constants named after the kernel structs and pinned by tests.
 */
import type { Attr, Entry, SetattrIn, Statfs } from '../fs/filesystem';

export const IN_HEADER_SIZE = 40;
export const OUT_HEADER_SIZE = 16;
export const ATTR_SIZE = 88;
export const ENTRY_OUT_SIZE = 128;
export const ATTR_OUT_SIZE = 104;
export const OPEN_OUT_SIZE = 16;
export const INIT_IN_SIZE = 64;
export const INIT_OUT_SIZE = 64;
export const WRITE_OUT_SIZE = 8;
export const STATFS_OUT_SIZE = 80;
export const GETXATTR_OUT_SIZE = 8;
export const LSEEK_OUT_SIZE = 8;
export const DIRENT_BASE_SIZE = 24;
export const DIRENTPLUS_BASE_SIZE = ENTRY_OUT_SIZE + DIRENT_BASE_SIZE;
export const FORGET_ONE_SIZE = 16;

const U32 = 0x1_0000_0000;

/** u64 as a JS number (exact below 2^53, which nodeids, sizes and offsets stay within). */
export function readU64(b: Buffer, off: number): number {
  return b.readUInt32LE(off) + b.readUInt32LE(off + 4) * U32;
}

export function writeU64(b: Buffer, off: number, v: number): void {
  const n = v < 0 ? 0 : v;
  b.writeUInt32LE(n % U32 >>> 0, off);
  b.writeUInt32LE(Math.floor(n / U32) >>> 0, off + 4);
}

export interface InHeader {
  len: number;
  opcode: number;
  unique: bigint;
  nodeid: number;
  uid: number;
  gid: number;
  pid: number;
  totalExtlen: number;
}

export function decodeInHeader(b: Buffer): InHeader {
  return {
    len: b.readUInt32LE(0),
    opcode: b.readUInt32LE(4),
    unique: b.readBigUInt64LE(8),
    nodeid: readU64(b, 16),
    uid: b.readUInt32LE(24),
    gid: b.readUInt32LE(28),
    pid: b.readUInt32LE(32),
    totalExtlen: b.readUInt16LE(36),
  };
}

export function encodeOutHeader(b: Buffer, len: number, error: number, unique: bigint): void {
  b.writeUInt32LE(len, 0);
  b.writeInt32LE(error, 4);
  b.writeBigUInt64LE(unique, 8);
}

export interface InitIn {
  major: number;
  minor: number;
  maxReadahead: number;
  flags: number;
  flags2: number;
}

export function decodeInitIn(b: Buffer, off: number, len: number): InitIn {
  return {
    major: b.readUInt32LE(off),
    minor: b.readUInt32LE(off + 4),
    maxReadahead: b.readUInt32LE(off + 8),
    flags: b.readUInt32LE(off + 12),
    // flags2 exists only from 7.36 on (the 64-byte init_in); older kernels send 16 bytes.
    flags2: len >= off + 20 ? b.readUInt32LE(off + 16) : 0,
  };
}

export interface InitOut {
  major: number;
  minor: number;
  maxReadahead: number;
  flags: number;
  maxBackground: number;
  congestionThreshold: number;
  maxWrite: number;
  timeGran: number;
  maxPages: number;
  flags2: number;
  /** With FUSE_PASSTHROUGH: how deep backing filesystems may stack (the mount's own s_stack_depth). */
  maxStackDepth: number;
}

export function encodeInitOut(b: Buffer, off: number, o: InitOut): void {
  b.fill(0, off, off + INIT_OUT_SIZE);
  b.writeUInt32LE(o.major, off);
  b.writeUInt32LE(o.minor, off + 4);
  b.writeUInt32LE(o.maxReadahead, off + 8);
  b.writeUInt32LE(o.flags >>> 0, off + 12);
  b.writeUInt16LE(o.maxBackground, off + 16);
  b.writeUInt16LE(o.congestionThreshold, off + 18);
  b.writeUInt32LE(o.maxWrite, off + 20);
  b.writeUInt32LE(o.timeGran, off + 24);
  b.writeUInt16LE(o.maxPages, off + 28);
  b.writeUInt32LE(o.flags2 >>> 0, off + 32);
  b.writeUInt32LE(o.maxStackDepth >>> 0, off + 36);
}

export function encodeAttr(b: Buffer, off: number, a: Attr): void {
  writeU64(b, off, a.ino);
  writeU64(b, off + 8, a.size);
  writeU64(b, off + 16, a.blocks);
  writeU64(b, off + 24, a.atimeSec);
  writeU64(b, off + 32, a.mtimeSec);
  writeU64(b, off + 40, a.ctimeSec);
  b.writeUInt32LE(a.atimeNsec >>> 0, off + 48);
  b.writeUInt32LE(a.mtimeNsec >>> 0, off + 52);
  b.writeUInt32LE(a.ctimeNsec >>> 0, off + 56);
  b.writeUInt32LE(a.mode >>> 0, off + 60);
  b.writeUInt32LE(a.nlink >>> 0, off + 64);
  b.writeUInt32LE(a.uid >>> 0, off + 68);
  b.writeUInt32LE(a.gid >>> 0, off + 72);
  b.writeUInt32LE(a.rdev >>> 0, off + 76);
  b.writeUInt32LE(a.blksize >>> 0, off + 80);
  b.writeUInt32LE(0, off + 84);
}

function writeTimeout(b: Buffer, secOff: number, nsecOff: number, seconds: number): void {
  const s = Math.max(0, Math.floor(seconds));
  writeU64(b, secOff, s);
  b.writeUInt32LE(Math.floor((seconds - s) * 1e9) >>> 0, nsecOff);
}

/** fuse_entry_out. A negative entry (nodeid 0) caches "no such name" for entryTimeout. */
export function encodeEntryOut(b: Buffer, off: number, e: Entry): void {
  writeU64(b, off, e.nodeid);
  writeU64(b, off + 8, e.generation);
  writeTimeout(b, off + 16, off + 32, e.entryTimeout);
  writeTimeout(b, off + 24, off + 36, e.attrTimeout);
  encodeAttr(b, off + 40, e.attr);
}

export function encodeAttrOut(b: Buffer, off: number, attr: Attr, attrTimeout: number): void {
  writeTimeout(b, off, off + 8, attrTimeout);
  b.writeUInt32LE(0, off + 12);
  encodeAttr(b, off + 16, attr);
}

/** fuse_open_out; backingId goes with FOPEN_PASSTHROUGH in openFlags. */
export function encodeOpenOut(b: Buffer, off: number, fh: number, openFlags: number, backingId = 0): void {
  writeU64(b, off, fh);
  b.writeUInt32LE(openFlags >>> 0, off + 8);
  b.writeInt32LE(backingId, off + 12);
}

export function encodeStatfsOut(b: Buffer, off: number, s: Statfs): void {
  b.fill(0, off, off + STATFS_OUT_SIZE);
  writeU64(b, off, s.blocks);
  writeU64(b, off + 8, s.bfree);
  writeU64(b, off + 16, s.bavail);
  writeU64(b, off + 24, s.files);
  writeU64(b, off + 32, s.ffree);
  b.writeUInt32LE(s.bsize >>> 0, off + 40);
  b.writeUInt32LE(s.namelen >>> 0, off + 44);
  b.writeUInt32LE(s.frsize >>> 0, off + 48);
}

/** Size of one fuse_dirent (or direntplus) record holding a name of `nameLen` bytes, padded to 8. */
export function direntSize(nameLen: number, plus: boolean): number {
  const raw = (plus ? DIRENTPLUS_BASE_SIZE : DIRENT_BASE_SIZE) + nameLen;
  return (raw + 7) & ~7;
}

/** fuse_dirent at off: ino, off (the NEXT entry's cookie), namelen, type, name, zero padding. */
export function encodeDirent(b: Buffer, off: number, ino: number, next: number, type: number, name: Buffer): number {
  const size = direntSize(name.length, false);
  writeU64(b, off, ino);
  writeU64(b, off + 8, next);
  b.writeUInt32LE(name.length, off + 16);
  b.writeUInt32LE(type, off + 20);
  name.copy(b, off + 24);
  for (let i = off + 24 + name.length; i < off + size; i++) b[i] = 0; // at most 7 bytes: cheaper than fill()
  return size;
}

export function decodeSetattrIn(b: Buffer, off: number): SetattrIn {
  return {
    valid: b.readUInt32LE(off),
    fh: readU64(b, off + 8),
    size: readU64(b, off + 16),
    atimeSec: readU64(b, off + 32),
    mtimeSec: readU64(b, off + 40),
    atimeNsec: b.readUInt32LE(off + 56),
    mtimeNsec: b.readUInt32LE(off + 60),
    mode: b.readUInt32LE(off + 68),
    uid: b.readUInt32LE(off + 76),
    gid: b.readUInt32LE(off + 80),
  };
}

/** Sizes of the fixed part of each request body (after the 40-byte header). */
export const InSize = {
  FORGET: 8,
  GETATTR: 16,
  SETATTR: 88,
  MKNOD: 16,
  MKDIR: 8,
  RENAME: 8,
  RENAME2: 16,
  LINK: 8,
  OPEN: 8,
  CREATE: 16,
  READ: 40,
  WRITE: 40,
  RELEASE: 24,
  FLUSH: 24,
  FSYNC: 16,
  SETXATTR: 8,
  SETXATTR_EXT: 16,
  GETXATTR: 8,
  ACCESS: 8,
  INTERRUPT: 8,
  BATCH_FORGET: 8,
  FALLOCATE: 32,
  LSEEK: 24,
  COPY_FILE_RANGE: 56,
} as const;
