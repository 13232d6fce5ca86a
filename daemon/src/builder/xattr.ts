/** Encodes an inode's xattrs as an EROFS inline xattr body (no shared xattrs: RAFS v6 forbids them). */
import { XATTR_ENTRY_HEADER_SIZE, XATTR_IBODY_HEADER_SIZE, XATTR_PREFIXES } from './constants';

export class XattrError extends Error {}

/** Splits "user.foo" into (1, "foo"); undefined when EROFS has no index for the prefix. */
export function splitXattrName(name: string): [number, string] | undefined {
  for (const [index, prefix] of XATTR_PREFIXES) {
    if (prefix.endsWith('.') ? name.startsWith(prefix) && name.length > prefix.length : name === prefix) {
      return [index, name.slice(prefix.length)];
    }
  }
  return undefined;
}

/**
 * The xattr body (header + entries, sorted by name), or an empty buffer when there are none.
 * Names EROFS cannot index are reported through `skipped` and left out.
 */
export function encodeXattrs(xattrs: Map<string, Buffer>, skipped: (name: string) => void): Buffer {
  if (xattrs.size === 0) return Buffer.alloc(0);
  const parts: Buffer[] = [Buffer.alloc(XATTR_IBODY_HEADER_SIZE)];
  for (const name of [...xattrs.keys()].sort()) {
    const split = splitXattrName(name);
    if (!split) {
      skipped(name);
      continue;
    }
    const suffix = Buffer.from(split[1], 'latin1');
    const value = xattrs.get(name)!;
    if (suffix.length > 255) throw new XattrError(`xattr name "${name}" is longer than 255 bytes after its prefix`);
    if (value.length > 0xffff) throw new XattrError(`xattr "${name}" has a value over 64 KiB`);
    const len = XATTR_ENTRY_HEADER_SIZE + suffix.length + value.length;
    const entry = Buffer.alloc(Math.ceil(len / 4) * 4);
    entry.writeUInt8(suffix.length, 0);
    entry.writeUInt8(split[0], 1);
    entry.writeUInt16LE(value.length, 2);
    suffix.copy(entry, 4);
    value.copy(entry, 4 + suffix.length);
    parts.push(entry);
  }
  return parts.length === 1 ? Buffer.alloc(0) : Buffer.concat(parts);
}

/** xattr_icount for a body of `size` bytes. */
export function xattrCount(size: number): number {
  return size === 0 ? 0 : (size - XATTR_IBODY_HEADER_SIZE) / 4 + 1;
}
