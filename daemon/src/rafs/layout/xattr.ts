/**
 * Xattr bodies: a 12-byte header {reserved u32, shared_count u8, reserved[7]}, shared ids (u32 each, pointing
 * at xattr_blkaddr * blksz + id * 4), then inline entries {name_len u8, name_index u8, value_size u16, name,
 * value} padded to 4 bytes. Shared entries have the same entry format.
 */
import { StructView } from './bytes';

export const XATTR_HEADER_SIZE = 12;
export const XATTR_ENTRY_HEADER_SIZE = 4;

const PREFIXES: Record<number, string> = {
  1: 'user.',
  2: 'system.posix_acl_access',
  3: 'system.posix_acl_default',
  4: 'trusted.',
  6: 'security.',
};

export function xattrPrefix(index: number): string | undefined {
  return PREFIXES[index];
}

/** Splits a full name into (index, suffix) with the longest matching prefix; undefined if none fits. */
export function splitXattrName(name: Buffer): { index: number; suffix: Buffer } | undefined {
  let best: { index: number; suffix: Buffer } | undefined;
  let bestLen = -1;
  for (const [k, prefix] of Object.entries(PREFIXES)) {
    const p = Buffer.from(prefix, 'latin1');
    if (name.length >= p.length && name.subarray(0, p.length).equals(p) && p.length > bestLen) {
      best = { index: Number(k), suffix: name.subarray(p.length) };
      bestLen = p.length;
    }
  }
  return best;
}

export interface XattrHeader {
  sharedIds: number[];
  /** Offset of the first inline entry, relative to the body. */
  entriesOffset: number;
}

export function decodeXattrHeader(v: StructView, icount: number): XattrHeader {
  const sharedCount = v.u8(4);
  if (sharedCount > icount - 1) throw v.error(`shared xattr count ${sharedCount} exceeds the body (icount ${icount})`);
  const sharedIds: number[] = [];
  for (let i = 0; i < sharedCount; i++) sharedIds.push(v.u32(XATTR_HEADER_SIZE + 4 * i));
  return { sharedIds, entriesOffset: XATTR_HEADER_SIZE + 4 * sharedCount };
}

export interface XattrEntry {
  nameIndex: number;
  suffix: Buffer;
  value: Buffer;
  /** Size of the entry including padding to 4 bytes. */
  entrySize: number;
}

/** The entry's fixed header only: tells how many bytes the whole entry needs. */
export function xattrEntrySize(v: StructView, off: number): number {
  const nameLen = v.u8(off);
  const valueSize = v.u16(off + 2);
  return (XATTR_ENTRY_HEADER_SIZE + nameLen + valueSize + 3) & ~3;
}

export function decodeXattrEntry(v: StructView, off: number): XattrEntry {
  const nameLen = v.u8(off);
  const nameIndex = v.u8(off + 1);
  const valueSize = v.u16(off + 2);
  const suffix = v.bytes(off + XATTR_ENTRY_HEADER_SIZE, nameLen);
  const value = v.bytes(off + XATTR_ENTRY_HEADER_SIZE + nameLen, valueSize);
  return { nameIndex, suffix, value, entrySize: (XATTR_ENTRY_HEADER_SIZE + nameLen + valueSize + 3) & ~3 };
}
