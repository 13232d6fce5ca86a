/**
 * Native threads that answer READs of files the daemon serves itself, beside the main thread's reader.
 *
 * The main thread serves one request at a time, so readers of a daemon-served file (an O_DIRECT open, or any open
 * when the kernel's passthrough is unavailable, or a large rafs file stored as is) were answered one after
 * another, and with the file in the page cache that thread was the limit. A handle whose reads are plain pread(2)
 * on an fd, or on the pieces of a read map (OpenReply.readExtents), is registered here; the threads
 * then read /dev/fuse too, answer such READs themselves and pass every other request to the main thread, in the
 * order they read them. They read nothing while no handle is registered (no wake-ups for other workloads), while
 * paused (a stopped session reads no request), or once 100 ms have passed without a READ for them: a registered
 * file held open but not being read (a mapped library, say) then costs the mount's other requests nothing. A READ
 * of a registered handle that reaches the main thread meanwhile is handed to them (handOver), and wakes them: the
 * main thread never waits for such a file's storage, which may hang.
 *
 * While they read, the main thread's reader leaves every request to them (FuseChannel.leaveTo): with three readers
 * on the fd, a third of a sequential reader's READs went to the main thread, whose slower path held up the
 * kernel's readahead behind them. `onIdle` tells the session when all of them have stopped, so that it reads again.
 */
import { E } from '../fs/errno';
import type { ReadExtents } from '../fs/filesystem';
import { HandedBack, native, ReadThreadsHandle } from '../native';

const BUCKETS = 32;
/** How long pause() first waits for the threads to park, blocking (they usually do within microseconds). */
const FIRST_PARK_WAIT_MS = 50;
/** Past that, how often it looks again, with the event loop free in between. */
const PARK_POLL_MS = 5;
const STATS_FIELDS = 6 + BUCKETS;

export interface ThreadReads {
  tag: number;
  count: number;
  errors: number;
  bytes: number;
  totalNs: number;
  maxNs: number;
  buckets: number[];
}

/** [fileOffset, length, fd, fdOffset] per piece, as the native side takes them. */
function flatExtents(map: ReadExtents): Float64Array {
  const flat = new Float64Array(map.extents.length * 4);
  map.extents.forEach((e, i) => flat.set([e.fileOffset, e.length, e.fd, e.fdOffset], i * 4));
  return flat;
}

export class ReadThreads {
  private handle: ReadThreadsHandle | undefined;
  /** Registrations per "nodeid:fh", as the native side counts them. */
  private readonly keys = new Map<string, number>();

  constructor(
    private readonly fd: number,
    readonly threads: number,
    private readonly msgBufSize: number,
    private readonly maxRead: number,
    /** Messages the threads read that are not theirs to answer: dispatch them on the main thread. */
    private readonly onMessage: (msg: Buffer) => void,
    /** Every thread stopped reading (idle, paused or the connection gone): the main thread must read again. */
    private readonly onIdle: () => void = () => undefined,
    /** How long a thread may keep reading after a READ it answered from the page cache (us; 0: not at all). */
    private readonly spinUs = 0,
  ) {}

  /**
   * Reads of `fh` on `nodeid` may be answered with pread on `fd` at their offset, or from the pieces of `extents`;
   * `tag`: the instance index, for metrics. Adding a registered handle again counts one more registration of it.
   */
  add(nodeid: number, fh: number, how: number | ReadExtents, tag: number): void {
    if (!this.handle) this.handle = this.startThreads();
    const added = typeof how === 'number'
      ? native.readThreadsAdd(this.handle, nodeid, fh, how, tag)
      : native.readThreadsAddExtents(this.handle, nodeid, fh, tag, how.size, flatExtents(how));
    if (added !== 0) return;
    const key = `${nodeid}:${fh}`;
    this.keys.set(key, (this.keys.get(key) ?? 0) + 1);
  }

  /** One registration less; after the last, no thread uses the handle's fd (a pread in progress has finished). */
  remove(nodeid: number, fh: number): void {
    if (!this.handle || native.readThreadsRemove(this.handle, nodeid, fh) !== 0) return;
    const key = `${nodeid}:${fh}`;
    const left = (this.keys.get(key) ?? 1) - 1;
    if (left > 0) this.keys.set(key, left);
    else this.keys.delete(key);
  }

  /**
   * A READ of (nodeid, fh) reached the main thread: if the handle is registered, the threads read again. Returns
   * whether they were woken.
   */
  mainRead(nodeid: number, fh: number): boolean {
    if (!this.handle || this.paused || this.keys.size === 0 || !this.keys.has(`${nodeid}:${fh}`)) return false;
    native.readThreadsWake(this.handle);
    return true;
  }

  /**
   * A READ of (nodeid, fh) that the main thread read: true when a thread will answer it (handed over, and the
   * threads read again); false when the main thread must: not registered, paused, or a READ they handed back.
   */
  handOver(nodeid: number, fh: number, msg: HandedBack): boolean {
    if (!this.handle || this.paused || msg.handedBack || !this.keys.has(`${nodeid}:${fh}`)) return false;
    return native.readThreadsServe(this.handle, msg) === 1;
  }

  /** Whether handles are registered and the threads are not paused (they may be idle). */
  get reading(): boolean {
    return this.keys.size > 0 && !this.paused;
  }

  /** Whether the threads read /dev/fuse at this moment (registered, not paused, not idle). */
  get active(): boolean {
    return this.reading && this.handle !== undefined && native.readThreadsActive(this.handle) === 1;
  }

  private paused = false;
  /** The wait of a pause() in progress: a second pause() meanwhile shares it. */
  private parking: Promise<void> | undefined;

  /** Whether every thread has been answering one READ for `ms` or more: a slow or hung file holds them all. */
  stalled(ms: number): boolean {
    return this.handle !== undefined && native.readThreadsStalled(this.handle, ms) === 1;
  }

  /**
   * Starts one more thread, up to `max` in all (for when every one is stuck in a READ of storage that hangs);
   * returns how many there are now, or 0 when none was started.
   */
  grow(max: number): number {
    return this.handle === undefined ? 0 : native.readThreadsGrow(this.handle, max);
  }

  /**
   * Ends the threads past the first `keep` (those grow() added), but only while every thread is parked: none is
   * stuck in a READ then, so this waits for nothing. Returns how many are left, or 0 when none was ended.
   */
  shrink(keep: number): number {
    return this.handle === undefined ? 0 : native.readThreadsShrink(this.handle, keep);
  }

  /** Times a thread woke for a request and found none left: each request should wake one thread, not all. */
  get emptyReads(): number {
    return this.handle === undefined ? 0 : native.readThreadsEmptyReads(this.handle);
  }

  /** Requests a thread read while it kept reading after a READ it answered from the page cache (no sleep, no wake-up). */
  get spinReads(): number {
    return this.handle === undefined ? 0 : native.readThreadsSpinReads(this.handle);
  }

  /** READs of image extents that had to wait for the disk: each read the aligned 128 KiB of the image around it ahead. */
  get fetchesAround(): number {
    return this.handle === undefined ? 0 : native.readThreadsFetchesAround(this.handle);
  }

  /** While `on`, the threads keep the process running, as the main thread's reader did before it left them reading. */
  holdLoop(on: boolean): void {
    if (this.handle) native.readThreadsHoldLoop(this.handle, on);
  }

  /**
   * The threads stop reading /dev/fuse; resolves once every one has parked, the requests they had read dispatched.
   * A thread busy with a READ parks once it has answered it, so one stuck on hung storage keeps this waiting, but
   * not the event loop: past FIRST_PARK_WAIT_MS it looks again every PARK_POLL_MS, and the daemon goes on answering
   * its API meanwhile. A resume() (or close()) meanwhile ends the wait.
   */
  pause(): Promise<void> {
    this.paused = true;
    this.parking ??= this.waitParked().finally(() => { this.parking = undefined; });
    return this.parking;
  }

  private async waitParked(): Promise<void> {
    for (let waitMs = FIRST_PARK_WAIT_MS; this.handle && this.paused; waitMs = 0) {
      const left = native.readThreadsPause(this.handle, waitMs);
      if (left !== -E.EAGAIN) return this.deliver(left);
      await new Promise((resolve) => setTimeout(resolve, PARK_POLL_MS));
    }
  }

  resume(): void {
    this.paused = false;
    if (this.handle) native.readThreadsResume(this.handle);
  }

  /** Ends the threads (before the fd is closed); the requests they had read are dispatched first. */
  close(): void {
    if (!this.handle) return;
    const left = native.readThreadsClose(this.handle);
    this.handle = undefined;
    this.keys.clear();
    this.deliver(left);
  }

  /** The threads' READs since the last call, per tag. */
  takeStats(): ThreadReads[] {
    if (!this.handle) return [];
    const flat = native.readThreadsStats(this.handle);
    const out: ThreadReads[] = [];
    for (let i = 0; i + STATS_FIELDS <= flat.length; i += STATS_FIELDS) {
      out.push({
        tag: flat[i], count: flat[i + 1], errors: flat[i + 2], bytes: flat[i + 3], totalNs: flat[i + 4],
        maxNs: flat[i + 5], buckets: flat.slice(i + 6, i + STATS_FIELDS),
      });
    }
    return out;
  }

  private startThreads(): ReadThreadsHandle {
    const h = native.readThreadsStart(this.fd, this.threads, this.msgBufSize, this.maxRead, (msgs, idle) => {
      this.deliver(msgs);
      if (idle) this.onIdle();
    }, this.spinUs);
    if (typeof h === 'number') throw new Error(`cannot start the read threads: errno ${-h}`);
    return h;
  }

  private deliver(msgs: Buffer[] | number): void {
    if (typeof msgs === 'number') return;
    for (const msg of msgs) this.onMessage(msg);
  }
}
