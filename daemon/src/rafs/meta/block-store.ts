/**
 * Where FileMetaSource keeps the bootstrap blocks it has read. A mirror is a buffer the size of the file (memory
 * is only taken where blocks are written), filled block by block as they are read, or at once by a preload, and
 * whose bytes can be handed out as they lie: native listings read the image from it, checking which blocks are
 * in. Blocks stay in the mirror up to the cache size; past it, the rest come and go in a least-recently-used set
 * of the same size. A file too large to mirror has only such a set.
 */
import { native } from '../../native';
import { LruCache } from '../util/lru';

/** A transparent huge page (x86-64, arm64 with 4 KiB pages). */
const HUGE_PAGE = 2 * 1024 * 1024;

export interface BlockStore {
  /** Block `index` if it is in (a view: valid as long as the store), else undefined. */
  get(index: number): Buffer | undefined;
  has(index: number): boolean;
  /** Keeps a copy of `bytes` as block `index`. */
  set(index: number, bytes: Buffer): void;
  clear(): void;
}

/** The file's bytes as far as they are in memory: `present[i]` is 1 for each block in (undefined: all are). */
export interface InMemory {
  bytes: Buffer;
  present?: Uint8Array;
  /** The size of the blocks `present` counts. */
  blockSize: number;
}

export class LruBlocks implements BlockStore {
  private readonly lru: LruCache<number, Buffer>;

  constructor(maxBlocks: number) {
    this.lru = new LruCache(maxBlocks);
  }

  get(index: number): Buffer | undefined { return this.lru.get(index); }
  has(index: number): boolean { return this.lru.has(index); }
  /** A view of a larger read is copied out, so that evicting it frees its memory. */
  set(index: number, bytes: Buffer): void {
    this.lru.set(index, bytes.byteLength === bytes.buffer.byteLength ? bytes : Buffer.from(bytes));
  }
  clear(): void { this.lru.clear(); }
}

export class FileMirror implements BlockStore {
  /** The file's bytes; only the blocks marked present hold them (the rest is untouched memory). */
  readonly bytes: Buffer;
  readonly present: Uint8Array;
  private count = 0;
  /** Blocks read once `maxBlocks` are in the mirror. */
  private readonly overflow: LruBlocks;

  /** Where the mirror's huge pages begin, which have been advised, and how many more may be. */
  private readonly hugeStart: number;
  private readonly hugeAdvised: Uint8Array;
  private hugeBudget: number;

  constructor(readonly size: number, readonly blockSize: number, private readonly maxBlocks: number) {
    this.bytes = Buffer.allocUnsafeSlow(size);
    // The mirror faults in 2 MiB at a time where it may (transparent huge pages). Filled 4 KiB page by page, the
    // copies into a 24 MiB mirror took 80-99 ms of a fresh daemon's cold lstat walk (profiles); the walk went from
    // 409-491 to 337-365 ms. A mirror no larger than the cache is advised whole. A larger one (an image holding its
    // file data) is advised one huge page at a time, as blocks first land in it, up to the cache size: its memory
    // stays within the cache size plus the 4 KiB pages of the blocks that land elsewhere.
    const whole = size <= maxBlocks * blockSize;
    if (whole) native.adviseHugePages(this.bytes);
    this.hugeStart = native.hugePageStart(this.bytes);
    this.hugeAdvised = new Uint8Array(whole ? 0 : Math.ceil(Math.max(0, size - this.hugeStart) / HUGE_PAGE));
    this.hugeBudget = whole ? 0 : Math.floor((maxBlocks * blockSize) / HUGE_PAGE);
    this.present = new Uint8Array(Math.ceil(size / blockSize));
    this.overflow = new LruBlocks(maxBlocks);
  }

  /** Every block is in. */
  get complete(): boolean {
    return this.count === this.present.length;
  }

  get(index: number): Buffer | undefined {
    if (this.present[index] !== 1) return this.overflow.get(index);
    return this.bytes.subarray(index * this.blockSize, Math.min(this.size, (index + 1) * this.blockSize));
  }

  has(index: number): boolean { return this.present[index] === 1 || this.overflow.has(index); }

  /** [offset, offset + length) if every block it spans is in the mirror itself, else undefined. */
  peekAcross(offset: number, length: number): Buffer | undefined {
    if (offset + length > this.size) return undefined;
    for (let i = Math.floor(offset / this.blockSize); i * this.blockSize < offset + length; i++) {
      if (this.present[i] !== 1) return undefined;
    }
    return this.bytes.subarray(offset, offset + length);
  }

  set(index: number, bytes: Buffer): void {
    const slot = this.slotFor(index);
    if (slot) {
      bytes.copy(slot, 0, 0, Math.min(bytes.length, slot.length));
      this.markPresent(index);
    } else if (index >= 0 && index < this.present.length && this.present[index] !== 1) {
      this.overflow.set(index, bytes); // the mirror is full
    }
  }

  /**
   * Where block `index` should be read to, straight into the mirror (huge page advised), when it has room for it
   * and the block is not in yet; else undefined. The reader calls landed(index) once the bytes are there.
   */
  slotFor(index: number): Buffer | undefined {
    if (index < 0 || index >= this.present.length || this.present[index] === 1 || this.count >= this.maxBlocks) return undefined;
    const start = index * this.blockSize;
    this.adviseHugePagesOf(index);
    return this.bytes.subarray(start, Math.min(this.size, start + this.blockSize));
  }

  /** Block `index` was read into its slotFor() buffer. */
  landed(index: number): void {
    this.markPresent(index);
  }

  /** this.bytes was filled by one read of the whole file. */
  filledWhole(): void {
    for (let i = 0; i < this.present.length; i++) this.markPresent(i);
  }

  /** Forgets every block (the memory goes with the mirror). */
  clear(): void {
    this.present.fill(0);
    this.count = 0;
    this.overflow.clear();
  }

  memory(): InMemory {
    return { bytes: this.bytes, present: this.present, blockSize: this.blockSize };
  }

  /** Before block `index` is first written: the huge pages it lies in (a block may straddle two), while the budget lasts. */
  private adviseHugePagesOf(index: number): void {
    if (this.hugeBudget <= 0) return;
    this.adviseHugePageAt(index * this.blockSize);
    this.adviseHugePageAt((index + 1) * this.blockSize - 1);
  }

  /** Advises the huge page holding byte `offset`, if it lies wholly inside the mirror and is not yet advised. */
  private adviseHugePageAt(offset: number): void {
    const page = Math.floor((offset - this.hugeStart) / HUGE_PAGE);
    if (page < 0 || this.hugeAdvised[page] !== 0) return;
    this.hugeAdvised[page] = 1;
    const start = this.hugeStart + page * HUGE_PAGE;
    if (start + HUGE_PAGE > this.size) return;
    if (native.adviseHugePages(this.bytes.subarray(start, start + HUGE_PAGE)) === 0) this.hugeBudget--;
  }

  private markPresent(index: number): void {
    if (this.present[index] === 1) return;
    this.present[index] = 1;
    this.count++;
  }
}
