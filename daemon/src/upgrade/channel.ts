/**
 * A framed, non-blocking Unix-socket connection that carries descriptors (SCM_RIGHTS) with its frames.
 * Readiness comes from the native poller, so nothing blocks the event loop. It enforces the limits in
 * frame.ts (body size, fds per frame and per connection, time to finish a started frame), refuses descriptors
 * no frame declared, and closes every descriptor it received but did not hand out when it closes.
 * It knows nothing about what the frames mean (transfer.ts and the supervisor do).
 */
import { constants as os } from 'os';
import { native, POLL_DISCONNECT, POLL_READABLE, POLL_WRITABLE, PollHandle } from '../native';
import {
  DEFAULT_LIMITS,
  decodeFrameHeader,
  encodeFrameHeader,
  Frame,
  FRAME_HEADER_SIZE,
  FrameHeader,
  FrameLimits,
  FrameType,
  ProtocolError,
} from './frame';

const SCRATCH_SIZE = 256 * 1024;
/** Frames received but not yet taken by receive(); past this the channel stops reading (back-pressure). */
const MAX_QUEUED_FRAMES = 16;

export class ChannelClosedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChannelClosedError';
  }
}

export class TimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeoutError';
  }
}

interface PendingSend {
  bytes: Buffer;
  offset: number;
  fds: number[];
  resolve: () => void;
  reject: (err: Error) => void;
}

interface Waiter {
  resolve: (frame: Frame) => void;
  reject: (err: Error) => void;
  timer?: NodeJS.Timeout;
}

export function errnoName(negErrno: number): string {
  const entry = Object.entries(os.errno).find(([, value]) => value === -negErrno);
  return entry ? entry[0] : `errno ${-negErrno}`;
}

export class FramedChannel {
  private readonly limits: FrameLimits;
  private poll: PollHandle | null = null;
  private readonly scratch = Buffer.allocUnsafe(SCRATCH_SIZE);
  private readonly headerBytes = Buffer.alloc(FRAME_HEADER_SIZE);
  private headerFilled = 0;
  private header: FrameHeader | null = null;
  private body: Buffer | null = null;
  private bodyFilled = 0;
  private frameTimer: NodeJS.Timeout | null = null;
  private readonly fdQueue: number[] = [];
  private fdsReceived = 0;
  private readonly frames: Frame[] = [];
  private readonly waiters: Waiter[] = [];
  private readonly sends: PendingSend[] = [];
  private closeReason: Error | null = null;
  private readonly closeListeners: Array<(reason: Error) => void> = [];

  constructor(readonly fd: number, limits: Partial<FrameLimits> = {}, readonly label = `fd ${fd}`) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    const handle = native.pollStart(fd, this.events(), (status, events) => this.onReady(status, events));
    if (typeof handle === 'number') {
      native.close(fd);
      throw new Error(`Cannot watch socket ${label}: ${errnoName(handle)}`);
    }
    this.poll = handle;
  }

  /** Connects to the Unix socket at `path`. */
  static connect(path: string, limits: Partial<FrameLimits> = {}): FramedChannel {
    const fd = native.unixConnect(path);
    if (fd < 0) throw new Error(`Cannot connect to ${path}: ${errnoName(fd)}`);
    return new FramedChannel(fd, limits, path);
  }

  get closed(): boolean {
    return this.closeReason !== null;
  }

  /** Called once, with the reason, when the channel closes (EOF, error, limit, or close()). */
  onClose(listener: (reason: Error) => void): void {
    if (this.closeReason) listener(this.closeReason);
    else this.closeListeners.push(listener);
  }

  /** Queues a frame; resolves once the kernel accepted all of it. The caller keeps ownership of `fds`. */
  send(type: FrameType, body: Uint8Array, fds: number[] = []): Promise<void> {
    if (this.closeReason) return Promise.reject(this.closeReason);
    const bytes = Buffer.concat([encodeFrameHeader(type, body.length, fds.length), body]);
    return new Promise<void>((resolve, reject) => {
      this.sends.push({ bytes, offset: 0, fds, resolve, reject });
      this.flush();
    });
  }

  /** Frames queued but not yet fully accepted by the kernel. */
  get pendingSends(): number {
    return this.sends.length;
  }

  /**
   * Blocks (up to `ms`) until every queued frame is in the socket: for callers that must not go on before
   * the peer is sure to get the data even if this process dies right after. True if all went out.
   */
  flushSync(ms: number): boolean {
    const deadline = Date.now() + ms;
    const pause = new Int32Array(new SharedArrayBuffer(4));
    while (this.sends.length > 0 && !this.closeReason) {
      this.flush();
      if (this.sends.length === 0) break;
      if (Date.now() > deadline) return false;
      Atomics.wait(pause, 0, 0, 1);
    }
    return this.sends.length === 0;
  }

  /** The next frame; rejects with TimeoutError after `timeoutMs` (Infinity waits), or when the channel closes. */
  receive(timeoutMs: number): Promise<Frame> {
    const ready = this.frames.shift();
    if (ready) {
      this.updatePoll();
      return Promise.resolve(ready);
    }
    if (this.closeReason) return Promise.reject(this.closeReason);
    return new Promise<Frame>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject };
      if (Number.isFinite(timeoutMs)) {
        waiter.timer = setTimeout(() => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(new TimeoutError(`No message from ${this.label} within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.waiters.push(waiter);
    });
  }

  /** Receives a frame and checks its type; a wrong type closes the channel. */
  async expect(type: FrameType, timeoutMs: number): Promise<Frame> {
    const frame = await this.receive(timeoutMs);
    if (frame.type !== type) {
      closeAll(frame.fds);
      const err = new ProtocolError(`expected a ${FrameType[type]} frame, got ${FrameType[frame.type]}`);
      this.fail(err);
      throw err;
    }
    return frame;
  }

  /** Closes the socket and every descriptor not handed out, including those of frames nobody took. Idempotent. */
  close(reason = 'closed locally'): void {
    for (const frame of this.frames.splice(0)) closeAll(frame.fds);
    this.fail(new ChannelClosedError(reason));
  }

  private events(): number {
    let events = 0;
    if (this.frames.length < MAX_QUEUED_FRAMES) events |= POLL_READABLE | POLL_DISCONNECT;
    if (this.sends.length > 0) events |= POLL_WRITABLE;
    return events;
  }

  private updatePoll(): void {
    if (this.poll) native.pollUpdate(this.poll, this.events());
  }

  private onReady(status: number, events: number): void {
    if (this.closeReason) return;
    if (status < 0) {
      // libuv reports POLLERR (e.g. the peer reset) as an error status: data queued before it is still readable.
      this.drainSocket();
      return this.fail(new ChannelClosedError(`socket ${this.label} failed: ${errnoName(status)}`));
    }
    if (events & POLL_WRITABLE) this.flush();
    if (events & (POLL_READABLE | POLL_DISCONNECT)) this.drainSocket();
  }

  private flush(): void {
    while (this.sends.length > 0 && !this.closeReason) {
      const item = this.sends[0];
      const fds = item.offset === 0 ? item.fds : [];
      const n = native.sendFds(this.fd, item.bytes, item.offset, item.bytes.length - item.offset, fds);
      if (n === -os.errno.EAGAIN || n === -os.errno.EINTR) break;
      if (n < 0) return this.fail(new ChannelClosedError(`Cannot send to ${this.label}: ${errnoName(n)}`));
      item.offset += n;
      if (item.offset < item.bytes.length) continue;
      this.sends.shift();
      item.resolve();
    }
    this.updatePoll();
  }

  private drainSocket(): void {
    while (!this.closeReason && this.frames.length < MAX_QUEUED_FRAMES) {
      const r = native.recvFds(this.fd, this.scratch, 0, this.scratch.length);
      if (typeof r === 'number') {
        if (r === -os.errno.EAGAIN || r === -os.errno.EINTR) break;
        return this.fail(new ChannelClosedError(`Cannot read from ${this.label}: ${errnoName(r)}`));
      }
      this.fdQueue.push(...r.fds);
      this.fdsReceived += r.fds.length;
      if (r.truncated) return this.fail(new ProtocolError('descriptor list truncated (too many fds in one message)'));
      if (this.fdsReceived > this.limits.maxFdsTotal) {
        return this.fail(new ProtocolError(`more than ${this.limits.maxFdsTotal} fds on one connection`));
      }
      if (r.n === 0) {
        const partial = this.headerFilled > 0 || this.body !== null;
        return this.fail(new ChannelClosedError(partial ? `${this.label} closed inside a frame` : `${this.label} closed the connection`));
      }
      try {
        this.consume(this.scratch.subarray(0, r.n));
        this.checkStrayFds();
      } catch (err) {
        return this.fail(err as Error);
      }
    }
    this.deliver();
    this.updatePoll();
  }

  private consume(bytes: Buffer): void {
    let at = 0;
    while (at < bytes.length) {
      if (!this.header) {
        if (this.headerFilled === 0) this.startFrameTimer();
        const take = Math.min(FRAME_HEADER_SIZE - this.headerFilled, bytes.length - at);
        bytes.copy(this.headerBytes, this.headerFilled, at, at + take);
        this.headerFilled += take;
        at += take;
        if (this.headerFilled < FRAME_HEADER_SIZE) return;
        this.header = decodeFrameHeader(this.headerBytes, this.limits);
        this.body = Buffer.allocUnsafe(this.header.length);
        this.bodyFilled = 0;
      }
      const body = this.body as Buffer;
      const take = Math.min(body.length - this.bodyFilled, bytes.length - at);
      bytes.copy(body, this.bodyFilled, at, at + take);
      this.bodyFilled += take;
      at += take;
      if (this.bodyFilled === body.length) this.finishFrame();
    }
  }

  private finishFrame(): void {
    const header = this.header as FrameHeader;
    if (this.fdQueue.length < header.fdCount) {
      throw new ProtocolError(`frame declares ${header.fdCount} fds but ${this.fdQueue.length} arrived`);
    }
    this.frames.push({ type: header.type, body: this.body as Buffer, fds: this.fdQueue.splice(0, header.fdCount) });
    this.header = null;
    this.body = null;
    this.headerFilled = 0;
    this.stopFrameTimer();
  }

  /** Descriptors ride on a frame's first byte: any left over that the current frame does not declare are stray. */
  private checkStrayFds(): void {
    if (this.fdQueue.length === 0) return;
    const allowed = this.header ? this.header.fdCount : this.headerFilled > 0 ? Infinity : 0;
    if (this.fdQueue.length > allowed) {
      throw new ProtocolError(`${this.fdQueue.length} unexpected fds (not declared by any frame)`);
    }
  }

  private deliver(): void {
    while (this.frames.length > 0 && this.waiters.length > 0) {
      const waiter = this.waiters.shift() as Waiter;
      if (waiter.timer) clearTimeout(waiter.timer);
      waiter.resolve(this.frames.shift() as Frame);
    }
  }

  private startFrameTimer(): void {
    this.stopFrameTimer();
    const ms = this.limits.frameTimeoutMs;
    this.frameTimer = setTimeout(() => this.fail(new TimeoutError(`frame from ${this.label} incomplete after ${ms} ms`)), ms);
  }

  private stopFrameTimer(): void {
    if (this.frameTimer) clearTimeout(this.frameTimer);
    this.frameTimer = null;
  }

  private fail(reason: Error): void {
    if (this.closeReason) return;
    this.closeReason = reason;
    this.stopFrameTimer();
    if (this.poll) native.pollClose(this.poll);
    this.poll = null;
    native.close(this.fd);
    closeAll(this.fdQueue.splice(0));
    // Frames already complete stay readable (a reply followed by EOF is normal); their fds are closed only if
    // nobody takes them: receive() hands them out first.
    for (const send of this.sends.splice(0)) send.reject(reason);
    this.deliver();
    for (const waiter of this.waiters.splice(0)) {
      if (waiter.timer) clearTimeout(waiter.timer);
      waiter.reject(reason);
    }
    for (const listener of this.closeListeners.splice(0)) listener(reason);
  }
}

export function closeAll(fds: number[]): void {
  for (const fd of fds) native.close(fd);
}
