/**
 * Maps a byte range of an inode's data to extents: zeros (holes), ranges of a device (0 = the metadata image
 * itself, N = extra device / blob N-1, read raw) or pieces of RAFS v6 chunks (blob index + ci index, read
 * through the chunk cache). Covers FLAT_PLAIN, FLAT_INLINE and CHUNK_BASED; compressed EROFS layouts are
 * refused with EOPNOTSUPP.
 */
import {
  Inode, LAYOUT_CHUNK_BASED, LAYOUT_FLAT_INLINE, LAYOUT_FLAT_PLAIN, NULL_ADDR, StructView, decodeChunkAddress,
  decodeChunkFormat, decodeChunkIndex, roundUp,
} from '../layout';
import { RafsUnsupportedError, formatError } from '../errors';
import { RafsMetadata } from './metadata';

export type Extent =
  | { kind: 'zero'; length: number }
  | { kind: 'device'; device: number; pos: number; length: number }
  | { kind: 'chunk'; blobIndex: number; ciIndex: number; offsetInChunk: number; length: number };

/** Where the inode's inline data (tail, chunk indexes) starts. */
export function inlineOffset(inode: Inode): number {
  return inode.offset + inode.inodeSize + inode.xattrSize;
}

export async function mapRange(meta: RafsMetadata, inode: Inode, offset: number, length: number): Promise<Extent[]> {
  const end = Math.min(inode.size, offset + length);
  if (offset >= end) return [];
  switch (inode.layout) {
    case LAYOUT_FLAT_PLAIN:
    case LAYOUT_FLAT_INLINE:
      return mapFlat(meta, inode, offset, end);
    case LAYOUT_CHUNK_BASED:
      return mapChunked(meta, inode, offset, end);
    default:
      throw new RafsUnsupportedError(`inode ${inode.nid}: compressed EROFS layout ${inode.layout} is not supported`);
  }
}

function mapFlat(meta: RafsMetadata, inode: Inode, offset: number, end: number): Extent[] {
  const bs = meta.blockSize;
  const start = inode.iu * bs;
  if (inode.layout === LAYOUT_FLAT_PLAIN) return [{ kind: 'device', device: 0, pos: start + offset, length: end - offset }];
  const nblocks = Math.ceil(inode.size / bs);
  const tailStart = (nblocks - 1) * bs;
  const tailPos = inlineOffset(inode);
  if ((tailPos % bs) + (inode.size - tailStart) > bs) {
    throw formatError(`inode ${inode.nid}`, inode.offset, 'inline data crosses a block boundary');
  }
  const out: Extent[] = [];
  if (offset < tailStart) {
    const stop = Math.min(end, tailStart);
    out.push({ kind: 'device', device: 0, pos: start + offset, length: stop - offset });
    offset = stop;
  }
  if (offset < end) out.push({ kind: 'device', device: 0, pos: tailPos + offset - tailStart, length: end - offset });
  return out;
}

async function mapChunked(meta: RafsMetadata, inode: Inode, offset: number, end: number): Promise<Extent[]> {
  const fmt = decodeChunkFormat(inode.iu, meta.sb.blkszbits, inode.nid, inode.offset);
  const chunkSize = 2 ** fmt.chunkBits;
  const first = Math.floor(offset / chunkSize);
  const last = Math.floor((end - 1) / chunkSize);
  const base = roundUp(inlineOffset(inode), fmt.indexSize) + first * fmt.indexSize;
  const raw = await meta.source.read(base, (last - first + 1) * fmt.indexSize, `chunk indexes of inode ${inode.nid}`);
  const v = new StructView(raw, `chunk indexes of inode ${inode.nid}`, base);
  const rafs = meta.sb.isRafsV6 && fmt.indexSize === 8;
  const out: Extent[] = [];
  for (let c = first; c <= last; c++) {
    const at = (c - first) * fmt.indexSize;
    const from = Math.max(offset, c * chunkSize);
    const to = Math.min(end, (c + 1) * chunkSize);
    const inChunk = from - c * chunkSize;
    const length = to - from;
    if (rafs) {
      const addr = decodeChunkAddress(v, at);
      if (addr.uncompressedBlkaddr === NULL_ADDR) { out.push({ kind: 'zero', length }); continue; }
      if (addr.blobIndex < 0 || addr.blobIndex >= meta.blobs.length) {
        throw formatError(`chunk address ${c} of inode ${inode.nid}`, base + at, `blob index ${addr.blobIndex} not in the blob table`);
      }
      out.push({ kind: 'chunk', blobIndex: addr.blobIndex, ciIndex: addr.ciIndex, offsetInChunk: inChunk, length });
      continue;
    }
    const idx = decodeChunkIndex(v, at, fmt.indexSize);
    if (idx.blkaddr === NULL_ADDR) { out.push({ kind: 'zero', length }); continue; }
    const device = idx.deviceId & meta.deviceMask;
    if (device > meta.sb.extraDevices) {
      throw formatError(`chunk index ${c} of inode ${inode.nid}`, base + at, `device ${device} does not exist`);
    }
    const pos = idx.blkaddr * meta.blockSize + inChunk;
    const prev = out[out.length - 1];
    if (prev && prev.kind === 'device' && prev.device === device && prev.pos + prev.length === pos) prev.length += length;
    else out.push({ kind: 'device', device, pos, length });
  }
  return out;
}

/** Loads a directory or symlink's bytes [offset, offset+length) into the metadata cache in the background. */
export async function prefetchMetaData(meta: RafsMetadata, inode: Inode, offset: number, length: number,
): Promise<void> {
  if (inode.layout !== LAYOUT_FLAT_PLAIN && inode.layout !== LAYOUT_FLAT_INLINE) return;
  const extents = mapFlat(meta, inode, offset, Math.min(inode.size, offset + length));
  await Promise.all(extents.map((e) => (e.kind === 'device' ? meta.source.prefetch(e.pos, e.length) : undefined)));
}

/** Reads a directory or symlink's bytes [offset, offset+length) from the metadata image (flat layouts only). */
export async function readMetaData(meta: RafsMetadata, inode: Inode, offset: number, length: number): Promise<Buffer> {
  if (inode.layout !== LAYOUT_FLAT_PLAIN && inode.layout !== LAYOUT_FLAT_INLINE) {
    throw new RafsUnsupportedError(`inode ${inode.nid}: layout ${inode.layout} for a directory or symlink`);
  }
  const parts: Buffer[] = [];
  for (const e of mapFlat(meta, inode, offset, Math.min(inode.size, offset + length))) {
    if (e.kind === 'device') parts.push(await meta.source.read(e.pos, e.length, `data of inode ${inode.nid}`));
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}
