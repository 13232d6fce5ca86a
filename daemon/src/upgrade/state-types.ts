/**
 * TypeScript shapes of proto/nydus/supervisor/v1/handover.proto (camelCase, 64-bit values as numbers).
 * The .proto is the source of truth; keep the two in step.
 */

export const HANDOVER_MAGIC = 0x4e594448; // "NYDH"
/** Version written by this build. 2 added `journalPath`. */
export const HANDOVER_VERSION = 2;
/** Oldest version this build can still restore. */
export const HANDOVER_MIN_VERSION = 1;

export interface FuseInitState {
  major: number;
  minor: number;
  flags: number;
  flags2: number;
  maxWrite: number;
  maxPages: number;
  hasResend: boolean;
  maxReadahead: number;
  maxBackground: number;
  congestionThreshold: number;
  timeGran: number;
  kernelMinor: number;
  kernelFlags: number;
  kernelFlags2: number;
}

export interface MountCommand {
  fsType: string;
  source: string;
  config: string;
  mountpoint: string;
  prefetchFiles: string[];
  vfsIndex: number;
  mountedUnixMs: number;
  openHandles: number;
  /** Entries the kernel holds; absent from a predecessor that did not count them. */
  kernelRefs?: number;
  retired?: boolean;
}

export interface VfsNamespaceState {
  nextNodeid: number;
  nodes: Array<{ nodeid: number; parent: number; name: string }>;
}

export interface PassthroughNodeState {
  nodeid: number;
  dev: number;
  ino: number;
  generation: number;
  lookups: number;
  fdIndex: number;
  parent: number;
  name: string;
  mode: number;
}

export const HANDLE_FILE = 0;
export const HANDLE_DIR = 1;

export interface PassthroughHandleState {
  fh: number;
  nodeid: number;
  flags: number;
  kind: number; // HANDLE_FILE | HANDLE_DIR
  fdIndex: number;
  dirOffset: number;
  /** FUSE kernel passthrough id (0: none). */
  backingId: number;
}

export interface PassthroughFsState {
  nodes: PassthroughNodeState[];
  nextNodeid: number;
  nextFh: number;
  handles: PassthroughHandleState[];
  rootFdIndex: number;
  generation: number;
  sharedDir: string;
  writable: boolean;
  tableVersion: number;
}

export interface RafsFsState {
  bootstrap: string;
  imageDigest: Buffer;
}

export interface FilesystemState {
  vfsIndex: number;
  passthrough?: PassthroughFsState | null;
  rafs?: RafsFsState | null;
  fdBase: number;
  fdCount: number;
}

export const FD_FUSE_DEV = 0;
export const FD_NODE = 1;
export const FD_HANDLE = 2;
export const FD_ROOT = 3;
export const FD_OTHER = 4;

export interface FdSlot {
  kind: number;
  vfsIndex: number;
  ref: number;
  dev: number;
  ino: number;
}

export interface HandoverState {
  daemonId: string;
  argv: string[];
  binary: string;
  apiSock: string;
  pid: number;
  sequence: number;
  createdUnixMs: number;
  fuse?: FuseInitState | null;
  mounts: MountCommand[];
  vfsNextIndex: number;
  filesystems: FilesystemState[];
  fds: FdSlot[];
  mountpoint: string;
  vfsNamespace?: VfsNamespaceState | null;
  /** v2 */
  journalPath: string;
}

/** A state plus the descriptors its `fds` table describes, in the same order. */
export interface StateWithFds {
  state: HandoverState;
  fds: number[];
}
