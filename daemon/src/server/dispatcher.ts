/**
 * The FUSE server core: decodes each request, answers INIT, routes every other opcode through one flat
 * table to the filesystem, and tracks what is in flight. It never throws: a malformed or truncated
 * message is answered with EINVAL/EIO (or dropped when even the header is unreadable), an unknown opcode
 * with ENOSYS. It does not touch /dev/fuse itself: replies go out through the `write` function it is given.
 */
import { Opcode, opcodeName } from '../abi/opcodes';
import {
  decodeInHeader, decodeInitIn, encodeInitOut, IN_HEADER_SIZE, INIT_OUT_SIZE,
} from '../abi/structs';
import { InitFlag } from '../abi/opcodes';
import { E } from '../fs/errno';
import type { FileSystem } from '../fs/filesystem';
import type { Logger } from '../log';
import { registerDirHandlers } from './handlers/dir';
import { registerEntryHandlers } from './handlers/entry';
import { registerIoHandlers } from './handlers/io';
import { registerMiscHandlers } from './handlers/misc';
import type { HandlerTable, ReadOffload, ServerContext } from './handlers/types';
import { ReaddirplusAdvisor } from './readdirplus-advisor';
import { DEFAULT_INIT_OPTIONS, hasKernelPassthrough, InitOptions, InitState, negotiate } from './init';
import { FuseMetrics } from './metrics';
import { NativeListingContext, NativeListingReplies } from './native-listings';
import { ReplyChannel, Request } from './request';

const HANDLERS: HandlerTable = new Map();
registerEntryHandlers(HANDLERS);
registerIoHandlers(HANDLERS);
registerDirHandlers(HANDLERS);
registerMiscHandlers(HANDLERS);

/**
 * Hooks for crash failover (daemon/src/upgrade): they see every request before it runs and every reply
 * before it is written, so results of non-idempotent operations can be journaled and replayed.
 */
export interface RequestHooks {
  /** Before a request runs; returns true when the hook has answered it itself (e.g. req.replyRaw()). */
  intercept?(req: Request): boolean;
  /** Just before a reply is written to the kernel. */
  beforeReply?(req: Request, pieces: Buffer[]): void;
}

/** A filesystem that may hold several instances (the Vfs): instanceOf(nodeid) names the one a nodeid is in. */
export type RoutedFileSystem = FileSystem & { instanceOf?(nodeid: number): number };

/** DispatcherOptions.instanceOf for `fs`: its own instanceOf when it has one. */
export function instanceRouting(fs: RoutedFileSystem): ((nodeid: number) => number) | undefined {
  return fs.instanceOf ? (nodeid) => fs.instanceOf!(nodeid) : undefined;
}

export interface DispatcherOptions {
  fs: FileSystem;
  /** Writes one reply; returns bytes written or -errno. */
  write: (pieces: Buffer[]) => number;
  log: Logger;
  metrics?: FuseMetrics;
  /** Which filesystem instance a nodeid belongs to, for per-instance metrics. */
  instanceOf?: (nodeid: number) => number;
  init?: InitState;
  initOptions?: InitOptions;
  /** Called once INIT has been answered. */
  onInit?: (state: InitState) => void;
  hooks?: RequestHooks;
  /** Where handles with a readFd are registered to have their READs answered off this thread. */
  readOffload?: ReadOffload;
}

export class Dispatcher implements ReplyChannel {
  readonly metrics: FuseMetrics;
  private readonly inFlight = new Map<bigint, Request>();
  private readonly drainWaiters: Array<() => void> = [];
  private ctx: ServerContext;
  private readonly readdirplus: ReaddirplusAdvisor;
  private readonly nativeListings = new NativeListingReplies();
  private listingContext: NativeListingContext;
  private initState: InitState | undefined;

  constructor(private readonly opts: DispatcherOptions) {
    this.metrics = opts.metrics ?? new FuseMetrics();
    this.readdirplus = new ReaddirplusAdvisor((nodeid) => (opts.fs.nodeKey ? opts.fs.nodeKey(nodeid) : nodeid));
    this.ctx = {
      fs: opts.fs, maxWrite: 128 * 1024, setxattrExt: false, readdirplus: this.readdirplus, readOffload: opts.readOffload,
    };
    this.hooks = opts.hooks;
    this.listingContext = this.nativeListingContext();
    if (opts.init) this.applyInit(opts.init);
  }

  get init(): InitState | undefined {
    return this.initState;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Handles one message read from /dev/fuse. Never throws. */
  dispatch(buf: Buffer): void {
    if (buf.length < IN_HEADER_SIZE) {
      this.opts.log.warn('dropped a truncated FUSE message', { bytes: buf.length });
      return;
    }
    // Answered before anything is allocated for it; the failover hooks, when set, see every request.
    if (this.initState && !this.hooks && this.nativeListings.answer(buf, this.listingContext)) return;
    const h = decodeInHeader(buf);
    const req = new Request(h, buf, this);
    if (h.unique !== 0n) this.inFlight.set(h.unique, req);
    this.metrics.inFlight++;
    try {
      if (h.len !== buf.length || h.totalExtlen * 8 > buf.length - IN_HEADER_SIZE) {
        req.error(E.EINVAL);
      } else if (h.opcode === Opcode.INIT) {
        this.handleInit(req);
      } else if (!this.initState) {
        req.error(E.EIO);
      } else if (h.opcode === Opcode.INTERRUPT || h.opcode === Opcode.DESTROY) {
        // Our handlers are short: an interrupted request is simply answered when it finishes.
        if (h.opcode === Opcode.DESTROY) req.reply(0);
        else req.noReply();
      } else if (this.hooks?.intercept?.(req)) {
        // answered by the hook
      } else {
        const handler = HANDLERS.get(h.opcode);
        if (handler) handler(req, this.ctx);
        else req.error(E.ENOSYS);
      }
    } catch (err) {
      req.fail(err);
    }
  }

  /** Resolves once every request read so far has been answered. */
  drain(): Promise<void> {
    if (this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Installs or removes the failover hooks (the daemon sets them once it knows its supervisor). */
  hooks: RequestHooks | undefined;

  // ReplyChannel
  send(pieces: Buffer[], req: Request): void {
    this.hooks?.beforeReply?.(req, pieces);
    const rc = this.opts.write(pieces);
    // ENOENT: the kernel no longer waits for this unique (interrupted, or the connection was aborted).
    if (rc < 0 && rc !== -E.ENOENT) this.opts.log.warn('writing a FUSE reply failed', { errno: -rc });
  }

  finished(req: Request, errno: number, bytes: number): void {
    const ns = Number(process.hrtime.bigint() - req.started);
    const instance = this.opts.instanceOf ? this.opts.instanceOf(req.h.nodeid) : 0;
    this.metrics.record(instance, req.h.opcode, ns, errno, bytes);
    if (req.h.opcode === Opcode.WRITE && !errno) this.metrics.recordWrite(instance, req.buf.readUInt32LE(IN_HEADER_SIZE + 16));
    this.settled(req);
  }

  handedOver(req: Request): void {
    this.settled(req);
  }

  /** `req` is no longer ours to answer: once none is, drain() resolves. */
  private settled(req: Request): void {
    this.inFlight.delete(req.h.unique);
    this.metrics.inFlight--;
    if (this.inFlight.size === 0 && this.drainWaiters.length) {
      for (const w of this.drainWaiters.splice(0)) w();
    }
  }

  bug(req: Request, err: unknown): void {
    this.opts.log.error('a filesystem handler failed with a non-errno error (answered EIO)', {
      opcode: opcodeName(req.h.opcode), nodeid: req.h.nodeid, error: String((err as Error)?.stack ?? err),
    });
  }

  private handleInit(req: Request): void {
    const kin = decodeInitIn(req.buf, IN_HEADER_SIZE, req.buf.length);
    let negotiated;
    try {
      negotiated = negotiate(kin, this.opts.initOptions ?? DEFAULT_INIT_OPTIONS);
    } catch (err) {
      this.opts.log.error('FUSE INIT refused', { error: String(err) });
      req.error(E.EPROTO);
      return;
    }
    const { out, state } = negotiated;
    req.reply(INIT_OUT_SIZE, (b, off) => encodeInitOut(b, off, out));
    this.applyInit(state);
    this.opts.log.info('FUSE INIT done', {
      kernel: `${kin.major}.${kin.minor}`, minor: state.minor, maxWrite: state.maxWrite,
      flags: `0x${state.flags.toString(16)}`, flags2: `0x${state.flags2.toString(16)}`, hasResend: state.hasResend,
      kernelPassthrough: hasKernelPassthrough(state),
    });
    this.opts.onInit?.(state);
  }

  private applyInit(state: InitState): void {
    this.initState = state;
    this.ctx = {
      fs: this.opts.fs,
      maxWrite: state.maxWrite,
      setxattrExt: (state.flags & InitFlag.SETXATTR_EXT) !== 0,
      readdirplus: this.readdirplus,
      readOffload: this.opts.readOffload,
    };
    this.listingContext = this.nativeListingContext();
  }

  private nativeListingContext(): NativeListingContext {
    return {
      fs: this.ctx.fs, maxWrite: this.ctx.maxWrite, advisor: this.readdirplus, metrics: this.metrics,
      instanceOf: this.opts.instanceOf, write: this.opts.write, log: this.opts.log,
    };
  }
}

