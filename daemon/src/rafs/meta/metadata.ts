/**
 * The metadata of one mounted image, read lazily from a MetaSource: the superblock (plus the RAFS v6
 * extension, blob table and device slots) at open, inodes on demand through a bounded cache. Nothing here
 * walks the inode table, so opening an image costs the same for 10 files or 10 million.
 */
import {
  BLOB_ENTRY_SIZE, BlobEntry, DEVICE_SLOT_SIZE, DeviceSlot, EXT_SUPERBLOCK_OFFSET, EXT_SUPERBLOCK_SIZE,
  ExtSuperblock, Inode, S_IFDIR, S_IFMT, SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE, Superblock, decodeBlobTable,
  decodeDeviceSlot, decodeExtSuperblock, decodeInode, decodeSuperblock, deviceIdMask,
} from '../layout';
import { formatError } from '../errors';
import { LruCache } from '../util/lru';
import { MetaSource } from './source';

/** nids must map below 2^36 - 2 so nodeid = nid + 2 stays under the VFS's instance bits. */
export const MAX_NID = 2 ** 36 - 3;
const MAX_BLOBS = 256;

export class RafsMetadata {
  private readonly inodes: LruCache<number, Inode>;

  private constructor(
    readonly source: MetaSource,
    readonly sb: Superblock,
    readonly ext: ExtSuperblock | undefined,
    readonly blobs: BlobEntry[],
    readonly devices: DeviceSlot[],
    inodeCacheSize: number,
  ) {
    this.inodes = new LruCache(inodeCacheSize);
  }

  static async open(source: MetaSource, inodeCacheSize = 16384): Promise<RafsMetadata> {
    const sb = decodeSuperblock(await source.read(SUPERBLOCK_OFFSET, SUPERBLOCK_SIZE, 'superblock'));
    let ext: ExtSuperblock | undefined;
    let blobs: BlobEntry[] = [];
    if (sb.isRafsV6) {
      ext = decodeExtSuperblock(await source.read(EXT_SUPERBLOCK_OFFSET, EXT_SUPERBLOCK_SIZE, 'RAFS v6 extended superblock'));
      const count = Math.floor(ext.blobTableSize / BLOB_ENTRY_SIZE);
      if (count > MAX_BLOBS) throw formatError('blob table', ext.blobTableOffset, `${count} blobs (limit ${MAX_BLOBS})`);
      const table = await source.read(ext.blobTableOffset, count * BLOB_ENTRY_SIZE, 'blob table');
      blobs = decodeBlobTable(table, ext.blobTableOffset);
    }
    const devices: DeviceSlot[] = [];
    if (sb.extraDevices > MAX_BLOBS) throw formatError('superblock', SUPERBLOCK_OFFSET, `${sb.extraDevices} extra devices`);
    for (let i = 0; i < sb.extraDevices; i++) {
      const off = sb.devtSlotoff * DEVICE_SLOT_SIZE + i * DEVICE_SLOT_SIZE;
      devices.push(decodeDeviceSlot(await source.read(off, DEVICE_SLOT_SIZE, 'device slot'), off));
    }
    const meta = new RafsMetadata(source, sb, ext, blobs, devices, inodeCacheSize);
    const root = await meta.inode(sb.rootNid);
    if ((root.mode & S_IFMT) !== S_IFDIR) throw formatError(`root inode ${sb.rootNid}`, root.offset, 'is not a directory');
    return meta;
  }

  get blockSize(): number { return this.sb.blockSize; }
  /** Inodes decoded and held right now (bounded by the cache size). */
  get cachedInodes(): number { return this.inodes.size; }
  get deviceMask(): number { return deviceIdMask(this.sb.extraDevices); }

  inodeOffset(nid: number): number {
    return this.sb.metaBlkaddr * this.sb.blockSize + nid * 32;
  }

  async inode(nid: number): Promise<Inode> {
    const hit = this.inodes.get(nid);
    if (hit) return hit;
    if (!Number.isSafeInteger(nid) || nid < 0 || nid > MAX_NID) throw formatError(`inode ${nid}`, -1, 'nid out of range');
    const offset = this.inodeOffset(nid);
    if (offset + 32 > this.source.size) throw formatError(`inode ${nid}`, offset, `beyond the end of ${this.source.description}`);
    return this.decoded(nid, offset, await this.source.read(offset, Math.min(64, this.source.size - offset), `inode ${nid}`));
  }

  /**
   * The inode if it can be had without a read: decoded already, or its bytes in the source's memory. A bad inode
   * gives undefined too; inode() reports it.
   */
  inodeAtHand(nid: number): Inode | undefined {
    const hit = this.inodes.get(nid);
    if (hit || !Number.isSafeInteger(nid) || nid < 0 || nid > MAX_NID) return hit;
    const offset = this.inodeOffset(nid);
    const raw = this.source.peek(offset, Math.min(64, this.source.size - offset));
    if (!raw || raw.length < 32) return undefined;
    try {
      return this.decoded(nid, offset, raw);
    } catch {
      return undefined;
    }
  }

  private decoded(nid: number, offset: number, raw: Buffer): Inode {
    const inode = decodeInode(raw, nid, offset, this.sb);
    this.inodes.set(nid, inode);
    return inode;
  }

  /** Blob ids in device order (device N = entry N - 1): the blob table for RAFS v6, device tags otherwise. */
  blobIds(): string[] {
    if (this.blobs.length > 0) return this.blobs.map((b) => b.blobId);
    return this.devices.map((d) => d.tag);
  }
}
