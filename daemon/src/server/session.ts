/**
 * A FUSE session: one /dev/fuse connection mounted at a directory, served by a Dispatcher over a FuseChannel.
 * The session owns the fd. It can be mounted fresh (`mount`) or adopted from a predecessor (`adopt`, with the
 * INIT values the predecessor negotiated), started and stopped any number of times (stopped = requests wait in
 * the kernel), closed without unmounting (so a successor can take over) or unmounted.
 */
import { NotifyCode } from '../abi/opcodes';
import { encodeOutHeader, OUT_HEADER_SIZE, writeU64 } from '../abi/structs';
import type { FileSystem, ReadExtents } from '../fs/filesystem';
import type { Logger } from '../log';
import { BusyPoll } from '../transport/busy-poll';
import { FuseChannel } from '../transport/fuse-channel';
import { ReadThreads } from '../transport/read-threads';
import { openAndMount, setReadAhead, unmount } from '../transport/mount';
import { Dispatcher, instanceRouting, RequestHooks, RoutedFileSystem } from './dispatcher';
import { KernelBackingFiles } from './backing-files';
import { DEFAULT_INIT_OPTIONS, hasKernelPassthrough, InitOptions, InitState, readBufferSize } from './init';
import { FuseMetrics } from './metrics';

export interface SessionMountOptions {
  mountpoint: string;
  fsName?: string;
  logger: Logger;
  initOptions?: InitOptions;
  /** Threads answering READs of files the daemon serves itself (see ReadThreads); 0: none. Default 2. */
  readThreads?: number;
  /** Mount read-only (MS_RDONLY): the kernel refuses writes itself, and after a read keeps the atime it has. */
  readOnly?: boolean;
}

export interface SessionAdoptOptions {
  fd: number;
  mountpoint: string;
  init: InitState;
  logger: Logger;
  readThreads?: number;
}

export const DEFAULT_READ_THREADS = 3;
/**
 * A READ that has kept every read thread busy this long (ms) starts one more of them, up to STALLED_THREADS_MAX in
 * all; past that, the main thread reads /dev/fuse again meanwhile. The added threads end once all are idle again.
 */
const STALL_MS = 20;
/**
 * With storage that hangs, each further READ of it holds one more thread. Past this many, the main thread reads
 * again: a READ of that storage reaching it holds it up too (its small reads are synchronous), and so the mount.
 */
const STALLED_THREADS_MAX = 16;
/** Files read without an OPEN whose read maps (or lack of one) the session remembers, at most. */
const MAX_UNOPENED = 1024;

export class FuseSession {
  readonly metrics = new FuseMetrics();
  private channel: FuseChannel;
  private dispatcher: Dispatcher | undefined;
  private initState: InitState | undefined;
  private initWaiters: Array<(s: InitState) => void> = [];
  private ended = false;
  private requestHooks: RequestHooks | undefined;
  private readThreads: ReadThreads | undefined;
  /** How long a read thread keeps reading after a READ it answered from the page cache (us; see setBusyPoll). */
  private readThreadSpinUs = 0;
  /** While the read threads read: checks whether they are all stuck (see watchForStalls). */
  private stallTimer: NodeJS.Timeout | undefined;
  /** Read threads were added for stuck READs and have not ended yet (see shrinkReadThreads). */
  private grownReadThreads = false;
  /** Called when the kernel ends the connection (unmounted elsewhere, or aborted). */
  onEnd?: (errno: number) => void;

  private constructor(
    readonly fd: number,
    readonly mountpoint: string,
    private readonly log: Logger,
    init: InitState | undefined,
    private readonly initOptions: InitOptions,
    private readThreadCount: number,
  ) {
    this.initState = init;
    const size = readBufferSize(init ? init.maxWrite : (initOptions.maxPages || 256) * 4096);
    this.channel = new FuseChannel(fd, size, (msg) => this.dispatcher?.dispatch(msg), (errno) => this.connectionEnded(errno));
    this.channel.repliesPending = () => (this.dispatcher?.inFlightCount ?? 0) > 0;
    this.metrics.beforeSnapshot = () => {
      for (const reads of this.readThreads?.takeStats() ?? []) this.metrics.recordThreadReads(reads.tag, reads);
    };
  }

  static async mount(opts: SessionMountOptions): Promise<FuseSession> {
    const fd = openAndMount({ mountpoint: opts.mountpoint, fsName: opts.fsName ?? 'nydus', subtype: 'nydus', readOnly: opts.readOnly });
    opts.logger.info('mounted', { mountpoint: opts.mountpoint, fd });
    return new FuseSession(fd, opts.mountpoint, opts.logger, undefined, opts.initOptions ?? DEFAULT_INIT_OPTIONS,
      opts.readThreads ?? DEFAULT_READ_THREADS);
  }

  /** Takes over a live connection: `fd` is a copy of the predecessor's /dev/fuse fd. */
  static adopt(opts: SessionAdoptOptions): FuseSession {
    return new FuseSession(opts.fd, opts.mountpoint, opts.logger, opts.init, DEFAULT_INIT_OPTIONS,
      opts.readThreads ?? DEFAULT_READ_THREADS);
  }

  get init(): InitState | undefined {
    return this.initState;
  }

  get kernelPassthrough(): boolean {
    return this.initState !== undefined && hasKernelPassthrough(this.initState);
  }

  /**
   * Polls /dev/fuse for up to `maxUs` microseconds when the queue runs dry (see BusyPoll), and so do the read
   * threads after a READ answered from the page cache (started later); 0 turns it off.
   */
  setBusyPoll(maxUs: number): void {
    this.channel.busyPoll = maxUs > 0 ? new BusyPoll(maxUs) : undefined;
    this.readThreadSpinUs = maxUs;
  }

  get serving(): boolean {
    return this.channel.reading;
  }

  get inFlight(): number {
    return this.dispatcher?.inFlightCount ?? 0;
  }

  waitInit(): Promise<InitState> {
    if (this.initState) return Promise.resolve(this.initState);
    return new Promise((resolve) => this.initWaiters.push(resolve));
  }

  /** Begins (or resumes) serving requests with `fs`. */
  start(fs: RoutedFileSystem): void {
    if (this.ended) throw new Error('the FUSE connection has ended');
    if (!this.dispatcher || this.dispatcherFs !== fs) {
      this.dispatcherFs = fs;
      const instanceOf = (nodeid: number): number => fs.instanceOf?.(nodeid) ?? 0;
      this.dispatcher = new Dispatcher({
        fs,
        write: (pieces) => this.channel.write(pieces),
        log: this.log,
        metrics: this.metrics,
        instanceOf: instanceRouting(fs),
        init: this.initState,
        initOptions: this.initOptions,
        onInit: (state) => this.initDone(state),
        hooks: this.requestHooks,
        readOffload: this.readThreadCount > 0 ? {
          add: (nodeid, fh, how) => this.offloadReads(nodeid, fh, how, instanceOf(nodeid)),
          remove: (nodeid, fh) => {
            this.readThreads?.remove(nodeid, fh);
            this.shareReading();
          },
          mainRead: (nodeid, fh, msg) => {
            const threads = this.readThreads;
            if (!threads) return false;
            const handed = threads.handOver(nodeid, fh, msg);
            if (handed || threads.mainRead(nodeid, fh)) this.shareReading();
            return handed;
          },
          addUnopened: (nodeid) => this.addUnopened(nodeid, fs, instanceOf(nodeid)),
        } : undefined,
      });
      if (this.initState) this.offerBackingFiles(this.initState);
      // Handles taken over from a predecessor (a fresh mount has none yet).
      for (const h of fs.readFds?.() ?? []) this.offloadReads(h.nodeid, h.fh, h.fd, instanceOf(h.nodeid));
    }
    this.channel.start();
    this.readThreads?.resume();
    this.shareReading();
  }

  /**
   * While the read threads read /dev/fuse, the main thread's reader leaves every request to them (they hand it
   * what is not theirs); once they stop, it reads again. Called whenever their state may have changed.
   */
  private shareReading(): void {
    const threads = this.readThreads;
    const active = threads?.active ?? false;
    threads?.holdLoop(active);
    this.channel.leaveTo(active && !(threads!.stalled(STALL_MS) && !this.growReadThreads(threads!)));
    this.watchForStalls(active);
    if (threads && !active && this.grownReadThreads) this.shrinkReadThreads(threads);
  }

  /** Every read thread is stuck in one READ: starts one more; false when none could be started. */
  private growReadThreads(threads: ReadThreads): boolean {
    const count = threads.grow(STALLED_THREADS_MAX);
    if (count === 0) return false;
    this.grownReadThreads = true;
    this.log.warn('every read thread is stuck in a READ: started one more', { threads: count, stuckMs: STALL_MS });
    return true;
  }

  /**
   * The threads went idle after some were added for stuck READs: the storage answered them all, so the added
   * ones end (each holds its buffers, about 2 MiB). Only while every thread is parked; otherwise at the next idle.
   */
  private shrinkReadThreads(threads: ReadThreads): void {
    const count = threads.shrink(this.readThreadCount);
    if (count === 0) return;
    this.grownReadThreads = false;
    this.log.info('the read threads are idle again: the ones added for stuck READs ended', { threads: count });
  }

  /**
   * While the threads read, every STALL_MS: if each of them is stuck in one READ (a file on slow or hung storage),
   * one more thread starts (or, past STALLED_THREADS_MAX, the main thread reads again meanwhile), so that the
   * mount's other requests are still answered.
   */
  private watchForStalls(on: boolean): void {
    if (on && !this.stallTimer) {
      this.stallTimer = setInterval(() => this.shareReading(), STALL_MS);
      this.stallTimer.unref();
    } else if (!on && this.stallTimer) {
      clearInterval(this.stallTimer);
      this.stallTimer = undefined;
    }
  }

  /** Has the read threads (started at the first handle) answer READs of `fh`; on failure the main thread does. */
  private offloadReads(nodeid: number, fh: number, how: number | ReadExtents, instance: number): void {
    if (!this.initState || this.readThreadCount === 0) return;
    try {
      if (!this.readThreads) {
        const maxRead = this.initState.maxWrite;
        this.readThreads = new ReadThreads(this.fd, this.readThreadCount, readBufferSize(maxRead), maxRead,
          (msg) => this.dispatcher?.dispatch(msg), () => this.shareReading(), this.readThreadSpinUs);
      }
      this.readThreads.add(nodeid, fh, how, instance);
      this.shareReading();
    } catch (err) {
      this.log.warn('read threads unavailable: reads stay on the main thread', { error: (err as Error).message });
      this.readThreadCount = 0;
    }
  }

  /**
   * Files of an openless filesystem seen by the READ handler, oldest first: 'added' when their read map is
   * registered as handle 0, 'none' when they have none, 'loading' meanwhile. Bounded: the oldest go first.
   */
  private readonly unopened = new Map<number, 'loading' | 'added' | 'none'>();

  private addUnopened(nodeid: number, fs: FileSystem, instance: number): void {
    if (!this.initState || this.readThreadCount === 0 || !fs.readExtents || this.unopened.has(nodeid)) return;
    this.unopened.set(nodeid, 'loading');
    fs.readExtents(nodeid).then((map) => {
      if (this.unopened.get(nodeid) !== 'loading') return; // dropped meanwhile (an unmount)
      this.unopened.set(nodeid, map ? 'added' : 'none');
      if (map) this.offloadReads(nodeid, 0, map, instance);
      for (const [old, kind] of this.unopened) {
        if (this.unopened.size <= MAX_UNOPENED) break;
        this.unopened.delete(old);
        if (kind === 'added') this.readThreads?.remove(old, 0);
      }
      this.shareReading();
    }, () => this.unopened.delete(nodeid));
  }

  /**
   * Forgets every read map registered for a file read without an OPEN, waiting for reads in progress on them:
   * before an instance closes the files they point into. The next READ of such a file registers it again.
   */
  dropUnopenedReads(): void {
    for (const [nodeid, kind] of this.unopened) if (kind === 'added') this.readThreads?.remove(nodeid, 0);
    this.unopened.clear();
    this.shareReading();
  }

  private dispatcherFs: FileSystem | undefined;

  /** Journaling hooks for crash failover: see RequestHooks. */
  setRequestHooks(hooks: RequestHooks | undefined): void {
    this.requestHooks = hooks;
    if (this.dispatcher) this.dispatcher.hooks = hooks;
  }

  /** Stops reading new requests; resolves once every request already read has been answered. */
  async stop(): Promise<void> {
    this.channel.stop();
    await this.readThreads?.pause();
    this.shareReading();
    await this.dispatcher?.drain();
  }

  /** Closes our fd without unmounting: the mount lives on for whoever holds another copy of the fd. */
  close(): void {
    this.channel.stop();
    this.endReadThreads();
    this.channel.close();
  }

  /** The threads end before the fd they read is closed; what they had read is dispatched (and answered) first. */
  private endReadThreads(): void {
    this.readThreads?.close();
    this.readThreads = undefined;
    this.unopened.clear();
    this.shareReading();
  }

  /** Unmounts (lazily if busy) and closes. */
  umount(): void {
    this.channel.stop();
    this.endReadThreads();
    const how = unmount(this.mountpoint);
    this.log.info('unmounted', { mountpoint: this.mountpoint, how });
    this.channel.close();
  }

  /** FUSE_NOTIFY_RESEND: the kernel re-queues every request a dead predecessor had read but not answered. */
  notifyResend(): number {
    const b = Buffer.alloc(OUT_HEADER_SIZE);
    encodeOutHeader(b, OUT_HEADER_SIZE, NotifyCode.RESEND, 0n);
    return this.channel.write([b]);
  }

  /** FUSE_NOTIFY_INVAL_ENTRY: drop the kernel's cached dentry `name` in directory `parent`. */
  notifyInvalEntry(parent: number, name: Buffer): number {
    const body = Buffer.alloc(16 + name.length + 1);
    writeU64(body, 0, parent);
    body.writeUInt32LE(name.length, 8);
    name.copy(body, 16);
    const h = Buffer.alloc(OUT_HEADER_SIZE);
    encodeOutHeader(h, OUT_HEADER_SIZE + body.length, NotifyCode.INVAL_ENTRY, 0n);
    return this.channel.write([h, body]);
  }

  /** Hands the kernel passthrough registry to the filesystem when INIT negotiated it. */
  private offerBackingFiles(state: InitState): void {
    if (hasKernelPassthrough(state)) this.dispatcherFs?.useBackingFiles?.(new KernelBackingFiles(this.fd));
  }

  private initDone(state: InitState): void {
    this.initState = state;
    this.offerBackingFiles(state);
    if (this.initOptions.readAheadKb > 0) {
      try {
        setReadAhead(this.mountpoint, this.initOptions.readAheadKb);
      } catch (err) {
        this.log.warn('cannot set the readahead window', { kb: this.initOptions.readAheadKb, error: (err as Error).message });
      }
    }
    this.channel.resize(readBufferSize(state.maxWrite));
    for (const w of this.initWaiters.splice(0)) w(state);
  }

  private connectionEnded(errno: number): void {
    if (this.ended) return;
    this.ended = true;
    this.log.info('FUSE connection ended', { mountpoint: this.mountpoint, errno });
    this.onEnd?.(errno);
  }
}
