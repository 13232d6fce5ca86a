/**
 * Reusable buffers for the data of READ replies. A fresh 1 MiB Buffer per READ is memory V8 counts as external,
 * and it starts a major GC every few dozen MiB: during a 256 MiB sequential read of a rafs image (page cache
 * warm) garbage collection took about 40% of the daemon's CPU, and the read took 0.22 s; reusing buffers,
 * 0.11-0.15 s.
 *
 * A filesystem takes a buffer for data it returns from read() and keeps no reference to; the READ handler gives
 * it back once the reply has been written (writes to /dev/fuse are synchronous, so the kernel has copied it).
 * give() ignores buffers that take() did not hand out, so returning anything else (a view of a cache) is safe.
 */

/** Reads at least this large come from the pool; smaller ones are cheap to allocate (Node's own pool). */
const MIN_POOLED = 64 * 1024;

export class ReadBuffers {
  private readonly free: Buffer[] = [];
  /** Buffer handed out -> the slab it is a view of. */
  private readonly lent = new WeakMap<Buffer, Buffer>();

  constructor(readonly slabSize = 1024 * 1024, readonly keep = 16) {}

  /** A buffer of exactly `length` bytes (contents undefined). */
  take(length: number): Buffer {
    if (length < MIN_POOLED || length > this.slabSize) return Buffer.allocUnsafe(length);
    const slab = this.free.pop() ?? Buffer.allocUnsafe(this.slabSize);
    const view = slab.subarray(0, length);
    this.lent.set(view, slab);
    return view;
  }

  /** Takes back a buffer from take(); the caller must not touch it afterwards. Anything else is ignored. */
  give(buf: Buffer): void {
    const slab = this.lent.get(buf);
    if (!slab) return;
    this.lent.delete(buf);
    if (this.free.length < this.keep) this.free.push(slab);
  }

  /** Slabs ready for reuse. */
  get idle(): number {
    return this.free.length;
  }
}

/** The daemon's pool, shared by every filesystem it serves. */
export const readBuffers = new ReadBuffers();
