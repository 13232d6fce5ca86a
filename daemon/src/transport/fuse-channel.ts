/**
 * The /dev/fuse transport: reads requests with a uv_poll readiness callback on the non-blocking fd (no
 * libuv threadpool worker is ever parked in read()), hands each message to a callback as its own Buffer,
 * and writes replies with one writev each. Reading can be paused and resumed without losing anything: the
 * kernel keeps unread requests queued, so applications simply wait. It can also be left to other readers of the
 * fd for a while (leaveTo: the read threads), which hand it the requests that are not theirs.
 */
import { E } from '../fs/errno';
import { native, POLL_READABLE, PollHandle } from '../native';
import type { BusyPoll } from './busy-poll';

/** Messages handled per readiness callback before yielding to the event loop (replies, timers, the API). */
const BATCH = 64;

export class FuseChannel {
  private poll: PollHandle | undefined;
  private buf: Buffer;
  private closed = false;
  /** Keep polling briefly when the queue runs dry (undefined: sleep in epoll at once). */
  busyPoll: BusyPoll | undefined;
  /** Whether requests read so far still wait for their replies (set by the session). */
  repliesPending: () => boolean = () => false;
  private pollDeferred = false;
  /** start() was called and stop() was not since. */
  private wanted = false;
  /** Other readers take every request for now (see leaveTo): the poll is closed meanwhile. */
  private leftToOthers = false;

  constructor(
    readonly fd: number,
    bufSize: number,
    private readonly onMessage: (msg: Buffer) => void,
    /** The connection is gone: ENODEV after unmount, or an unexpected read error. */
    private readonly onEnd: (errno: number) => void,
  ) {
    this.buf = Buffer.allocUnsafe(bufSize);
    native.setNonblock(fd, true);
  }

  /** Whether requests are being read: by this reader, or by the others it left them to. */
  get reading(): boolean {
    return this.wanted && !this.closed;
  }

  resize(bufSize: number): void {
    if (bufSize > this.buf.length) this.buf = Buffer.allocUnsafe(bufSize);
  }

  start(): void {
    this.wanted = true;
    if (!this.leftToOthers) this.openPoll();
  }

  stop(): void {
    this.wanted = false;
    this.closePoll();
  }

  /**
   * `others` true: other threads read every request for now (ReadThreads, while active) and hand this reader what
   * is not theirs; it stops reading, so that it does not take requests theirs would answer sooner. false: it reads
   * again (if started). The caller must call this with false whenever the others stop, or requests would wait unread.
   */
  leaveTo(others: boolean): void {
    if (this.leftToOthers === others) return;
    this.leftToOthers = others;
    if (others) this.closePoll();
    else if (this.wanted) this.openPoll();
  }

  private openPoll(): void {
    if (this.poll || this.closed) return;
    const h = native.pollStart(this.fd, POLL_READABLE, () => this.drainReadable());
    if (typeof h === 'number') throw new Error(`cannot poll /dev/fuse: ${h}`);
    this.poll = h;
  }

  private closePoll(): void {
    if (!this.poll) return;
    native.pollClose(this.poll);
    this.poll = undefined;
  }

  write(pieces: Buffer[]): number {
    if (this.closed) return -E.EBADF;
    return pieces.length === 1 ? native.write(this.fd, pieces[0], 0, pieces[0].length) : native.writev(this.fd, pieces);
  }

  /** Stops reading and closes our copy of the fd (the connection lives while any copy is open). */
  close(): void {
    this.stop();
    if (!this.closed) {
      this.closed = true;
      native.close(this.fd);
    }
  }

  /** `fromEpoll`: woken by readiness (not by a deferred poll, see whenDry). */
  private drainReadable(fromEpoll = true): void {
    if (fromEpoll) this.busyPoll?.woken(process.hrtime.bigint());
    let handled = 0;
    for (let i = 0; i < BATCH && this.poll; i++) {
      let n = native.read(this.fd, this.buf, 0, this.buf.length);
      if (n === -E.EAGAIN && this.busyPoll) n = this.whenDry(this.busyPoll, handled > 0);
      if (n > 0) {
        const msg = Buffer.allocUnsafe(n);
        this.buf.copy(msg, 0, 0, n);
        handled++;
        this.onMessage(msg);
        continue;
      }
      if (n === -E.EAGAIN) return;
      // ENOENT: the request was interrupted before we read it; EINTR: try again.
      if (n === -E.ENOENT || n === -E.EINTR) continue;
      this.stop();
      this.onEnd(n === 0 ? E.ENODEV : -n);
      return;
    }
  }

  /**
   * The queue is empty: poll for the busy-poll window, but only once every reply is out. A handler whose reply
   * waits for a promise would otherwise be held up by the poll: then the poll runs right after this turn of the
   * event loop (when `mayDefer`, i.e. this drain handled something), or not at all.
   */
  private whenDry(busyPoll: BusyPoll, mayDefer: boolean): number {
    if (!this.repliesPending()) return this.pollBriefly(busyPoll);
    if (mayDefer) this.pollAfterReplies();
    else busyPoll.sleeping(process.hrtime.bigint());
    return -E.EAGAIN;
  }

  private pollAfterReplies(): void {
    if (this.pollDeferred) return;
    this.pollDeferred = true;
    setImmediate(() => {
      this.pollDeferred = false;
      if (this.poll) this.drainReadable(false);
    });
  }

  /** Polls for the busy-poll window; when nothing came, records that the reader goes to sleep. */
  private pollBriefly(busyPoll: BusyPoll): number {
    const windowUs = busyPoll.windowUs;
    const n = windowUs > 0 ? native.readSpin(this.fd, this.buf, 0, this.buf.length, windowUs) : -E.EAGAIN;
    if (n === -E.EAGAIN) busyPoll.sleeping(process.hrtime.bigint());
    return n;
  }
}
