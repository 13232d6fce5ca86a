/**
 * Directory blocks: 12-byte dirents {nid u64, nameoff u16, file_type u8} then the names. Entries in a block
 * = dirent[0].nameoff / 12; name i runs to nameoff[i+1], the last to the block's end, cut at the first NUL.
 */
import { StructView } from './bytes';

export const DIRENT_SIZE = 12;
/** file_type of a directory (EROFS_FT_DIR). */
export const EROFS_FT_DIR = 2;

export interface Dirent {
  nid: number;
  fileType: number;
  name: Buffer;
}

/** Number of entries in a directory block, validated against the block's length. */
export function direntCount(v: StructView): number {
  const first = v.u16(8);
  if (first < DIRENT_SIZE || first % DIRENT_SIZE !== 0 || first > v.buf.length) {
    throw v.error(`bad first nameoff ${first} (block length ${v.buf.length})`);
  }
  return first / DIRENT_SIZE;
}

/** Decodes one entry of a validated block. */
export function decodeDirent(v: StructView, i: number, count: number): Dirent {
  const at = i * DIRENT_SIZE;
  const nid = v.u64(at, 'dirent nid');
  const start = v.u16(at + 8);
  const end = i + 1 < count ? v.u16(at + 20) : v.buf.length;
  if (start < count * DIRENT_SIZE || end > v.buf.length || end < start) {
    throw v.error(`dirent ${i}: bad name range ${start}..${end}`);
  }
  let name = v.buf.subarray(start, end);
  const nul = name.indexOf(0);
  if (nul >= 0) name = name.subarray(0, nul);
  if (name.length === 0 || name.length > 255) throw v.error(`dirent ${i}: name length ${name.length}`);
  return { nid, fileType: v.u8(at + 10), name };
}

/**
 * The nids of the subdirectories a validated block lists, "." and ".." left out, without decoding any name (a
 * read-ahead scans many blocks for a few entries).
 */
export function subdirectoryNids(v: StructView, count: number): number[] {
  const out: number[] = [];
  const buf = v.buf;
  for (let i = 0; i < count; i++) {
    const at = i * DIRENT_SIZE;
    if (v.u8(at + 10) !== EROFS_FT_DIR) continue;
    const start = v.u16(at + 8);
    const end = i + 1 < count ? v.u16(at + 20) : buf.length;
    const length = end - start;
    // "." and ".." (possibly NUL-padded in the last entry): one or two dots, then the end or a NUL.
    if (buf[start] === 0x2e && (length === 1 || buf[start + 1] === 0 ||
        (buf[start + 1] === 0x2e && (length === 2 || buf[start + 2] === 0)))) continue;
    out.push(v.u64(at, 'dirent nid'));
  }
  return out;
}

export function decodeDirBlock(v: StructView): Dirent[] {
  const count = direntCount(v);
  const out: Dirent[] = [];
  for (let i = 0; i < count; i++) out.push(decodeDirent(v, i, count));
  return out;
}
