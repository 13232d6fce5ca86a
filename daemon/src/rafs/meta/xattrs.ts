/**
 * An inode's extended attributes: shared ones (by id, in the shared xattr area) then inline ones, with
 * names rebuilt from their prefix index. Entries with an unknown prefix index are skipped, as the kernel does.
 */
import { Inode, StructView, decodeXattrEntry, decodeXattrHeader, xattrEntrySize, xattrPrefix } from '../layout';
import { RafsMetadata } from './metadata';

export interface Xattr { name: Buffer; value: Buffer }

const MAX_SHARED_ENTRY = 4 + 255 + 65535 + 3;

export async function readXattrs(meta: RafsMetadata, inode: Inode): Promise<Xattr[]> {
  if (inode.xattrSize === 0) return [];
  const bodyOff = inode.offset + inode.inodeSize;
  const body = await meta.source.read(bodyOff, inode.xattrSize, `xattrs of inode ${inode.nid}`);
  const v = new StructView(body, `xattr body of inode ${inode.nid}`, bodyOff);
  const header = decodeXattrHeader(v, inode.xattrIcount);
  const out: Xattr[] = [];
  const add = (index: number, suffix: Buffer, value: Buffer): void => {
    const prefix = xattrPrefix(index);
    if (prefix !== undefined) out.push({ name: Buffer.concat([Buffer.from(prefix, 'latin1'), suffix]), value: Buffer.from(value) });
  };
  for (const id of header.sharedIds) {
    const at = meta.sb.xattrBlkaddr * meta.blockSize + id * 4;
    const headBytes = await meta.source.read(at, 4, `shared xattr ${id}`);
    const size = xattrEntrySize(new StructView(headBytes, `shared xattr ${id}`, at), 0);
    const avail = Math.min(size, MAX_SHARED_ENTRY, meta.source.size - at);
    const entryView = new StructView(await meta.source.read(at, avail, `shared xattr ${id}`), `shared xattr ${id}`, at);
    const e = decodeXattrEntry(entryView, 0);
    add(e.nameIndex, e.suffix, e.value);
  }
  for (let off = header.entriesOffset; off < body.length;) {
    const e = decodeXattrEntry(v, off);
    add(e.nameIndex, e.suffix, e.value);
    off += e.entrySize;
  }
  return out;
}
