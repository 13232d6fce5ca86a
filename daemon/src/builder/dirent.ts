/**
 * Directory blocks: 12-byte dirents then names, entries sorted bytewise (with "." and ".." among
 * them), packed block by block. Sizing needs only names; encoding needs the nids.
 */
import { BLOCK_SIZE, DIRENT_SIZE } from './constants';

export interface DirEntryOut {
  name: Buffer;
  nid: number;
  fileType: number;
}

/** Groups sorted entries into blocks; returns the blocks and the directory's byte size. */
export function packDirBlocks(sortedNames: readonly Buffer[]): { blocks: number[][]; size: number } {
  const blocks: number[][] = [];
  let current: number[] = [];
  let used = 0;
  sortedNames.forEach((name, i) => {
    const need = DIRENT_SIZE + name.length;
    if (used + need > BLOCK_SIZE) {
      blocks.push(current);
      current = [];
      used = 0;
    }
    current.push(i);
    used += need;
  });
  blocks.push(current);
  return { blocks, size: (blocks.length - 1) * BLOCK_SIZE + used };
}

/** Encodes the directory's bytes (size as given by packDirBlocks). */
export function encodeDir(entries: readonly DirEntryOut[], blocks: number[][], size: number): Buffer {
  const out = Buffer.alloc(size);
  blocks.forEach((indexes, b) => {
    const base = b * BLOCK_SIZE;
    let nameOff = indexes.length * DIRENT_SIZE;
    indexes.forEach((idx, k) => {
      const e = entries[idx];
      const at = base + k * DIRENT_SIZE;
      out.writeBigUInt64LE(BigInt(e.nid), at);
      out.writeUInt16LE(nameOff, at + 8);
      out.writeUInt8(e.fileType, at + 10);
      e.name.copy(out, base + nameOff);
      nameOff += e.name.length;
    });
  });
  return out;
}
