/**
 * FUSE INIT negotiation. The outcome is kept in one plain, serializable object (InitState): a successor
 * daemon that takes over the connection never sees INIT again, so it restores this object instead.
 */
import { FUSE_KERNEL_MINOR_VERSION, FUSE_KERNEL_VERSION, InitFlag, InitFlag2 } from '../abi/opcodes';
import type { InitIn, InitOut } from '../abi/structs';

export interface InitState {
  major: number;
  minor: number;
  /** Flags we answered with (a subset of the kernel's). */
  flags: number;
  flags2: number;
  /** Flags the kernel offered. */
  kernelFlags: number;
  kernelFlags2: number;
  maxReadahead: number;
  maxWrite: number;
  maxPages: number;
  maxBackground: number;
  congestionThreshold: number;
  timeGran: number;
  /** The kernel can re-queue requests a dead daemon had read (FUSE_NOTIFY_RESEND, Linux 6.9+). */
  hasResend: boolean;
}

/** FUSE kernel passthrough was negotiated: open files may be handed to the kernel (see BackingFiles). */
export function hasKernelPassthrough(state: InitState): boolean {
  return (state.flags2 & InitFlag2.PASSTHROUGH) !== 0;
}

export interface InitOptions {
  /** Pages per request we would like (capped by the kernel's fs.fuse.max_pages_limit). */
  maxPages: number;
  /** The mount may change under us (passthrough_fs written elsewhere): let the kernel revalidate cached data. */
  autoInvalData: boolean;
  /** Ask for FUSE kernel passthrough when the kernel offers it (Linux 6.9+, CONFIG_FUSE_PASSTHROUGH). */
  kernelPassthrough: boolean;
  /** The mount's readahead window in KiB, set once INIT is answered (0: the kernel's 128 KiB). */
  readAheadKb: number;
}

/** The readahead window matches the largest request (256 pages), so a sequential reader sends 1 MiB reads. */
export const DEFAULT_INIT_OPTIONS: InitOptions = { maxPages: 256, autoInvalData: true, kernelPassthrough: true, readAheadKb: 1024 };

/**
 * Backing files must sit on a filesystem that is not itself stacked (ext4, xfs, tmpfs...; not overlayfs), and
 * the mount gets this stack depth: overlayfs can still use it as a layer.
 */
const PASSTHROUGH_STACK_DEPTH = 1;

/** Page size for max_write; 4 KiB on every machine we run on. */
const PAGE = 4096;

const WANTED = InitFlag.ASYNC_READ | InitFlag.ATOMIC_O_TRUNC | InitFlag.BIG_WRITES | InitFlag.DONT_MASK
  | InitFlag.DO_READDIRPLUS | InitFlag.READDIRPLUS_AUTO | InitFlag.PARALLEL_DIROPS | InitFlag.ABORT_ERROR
  | InitFlag.MAX_PAGES | InitFlag.CACHE_SYMLINKS | InitFlag.SETXATTR_EXT | InitFlag.INIT_EXT | InitFlag.ASYNC_DIO;

export class InitError extends Error {}

export function negotiate(kin: InitIn, opts: InitOptions = DEFAULT_INIT_OPTIONS): { out: InitOut; state: InitState } {
  if (kin.major !== FUSE_KERNEL_VERSION) {
    throw new InitError(`unsupported FUSE protocol ${kin.major}.${kin.minor} (need ${FUSE_KERNEL_VERSION}.x)`);
  }
  if (kin.minor < 31) throw new InitError(`FUSE protocol 7.${kin.minor} is too old (need 7.31 or newer)`);
  const minor = Math.min(kin.minor, FUSE_KERNEL_MINOR_VERSION);
  let wanted = WANTED | (opts.autoInvalData ? InitFlag.AUTO_INVAL_DATA : 0);
  if (!(kin.flags & InitFlag.INIT_EXT)) wanted &= ~InitFlag.INIT_EXT;
  const flags = (kin.flags & wanted) >>> 0;
  const kernelFlags2 = flags & InitFlag.INIT_EXT ? kin.flags2 : 0;
  const maxPages = flags & InitFlag.MAX_PAGES ? Math.max(1, Math.min(opts.maxPages, 256)) : 32;
  const flags2 = opts.kernelPassthrough && (kernelFlags2 & InitFlag2.PASSTHROUGH) ? InitFlag2.PASSTHROUGH : 0;
  const out: InitOut = {
    major: FUSE_KERNEL_VERSION,
    minor,
    maxReadahead: kin.maxReadahead,
    flags,
    maxBackground: 64,
    congestionThreshold: 48,
    maxWrite: maxPages * PAGE,
    timeGran: 1,
    maxPages,
    flags2,
    maxStackDepth: flags2 & InitFlag2.PASSTHROUGH ? PASSTHROUGH_STACK_DEPTH : 0,
  };
  const state: InitState = {
    major: out.major,
    minor,
    flags,
    flags2,
    kernelFlags: kin.flags >>> 0,
    kernelFlags2: kernelFlags2 >>> 0,
    maxReadahead: out.maxReadahead,
    maxWrite: out.maxWrite,
    maxPages,
    maxBackground: out.maxBackground,
    congestionThreshold: out.congestionThreshold,
    timeGran: out.timeGran,
    hasResend: (kernelFlags2 & InitFlag2.HAS_RESEND) !== 0,
  };
  return { out, state };
}

/** The size of the buffer a reader needs for this connection: the kernel rejects smaller reads with EINVAL. */
export function readBufferSize(maxWrite: number): number {
  return Math.max(8192, maxWrite + 4096);
}
