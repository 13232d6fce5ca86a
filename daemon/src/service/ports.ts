/**
 * What the daemon needs from the parts it composes, written as small interfaces so the control plane can be tested
 * with fakes: the FUSE session (daemon/src/server/session.ts), the VFS that stacks filesystem instances under one
 * mount (daemon/src/vfs/vfs.ts), and the factory that opens a backend for a mount request. The real classes satisfy
 * these structurally; nothing here does any work.
 */
import type { FileSystem } from '../fs/filesystem';
import type { Logger } from '../log';
import type { MetricsSource } from './metrics';
import type { FsBackendType, MountCommand } from './types';

export interface SessionPort {
  readonly fd: number;
  readonly init: unknown;
  waitInit(): Promise<unknown>;
  /** Begin (or resume) serving; idempotent. */
  start(fs: FileSystem): void;
  /** Stop reading new requests; resolves when in-flight ones are answered. The mount stays. */
  stop(): Promise<void>;
  /** Unmount and close. */
  umount(): void;
  /** Close the fd WITHOUT unmounting (a successor takes the connection over). */
  close(): void;
  notifyResend?(): unknown;
  /** Set by the daemon: called when the kernel ends the connection (unmounted from outside, aborted). */
  onEnd?: (errno: number) => void;
  notifyInvalEntry?(parent: number, name: Buffer): unknown;
  readonly metrics?: MetricsSource;
  /** FUSE kernel passthrough was negotiated at INIT. */
  readonly kernelPassthrough?: boolean;
  /** Keep polling the connection for up to maxUs microseconds when it runs dry (0: off). */
  setBusyPoll?(maxUs: number): void;
  /** Before an instance is unmounted: the read threads forget files they read without an OPEN (openless). */
  dropUnopenedReads?(): void;
}

/** `readOnly`: mount with MS_RDONLY (a root filesystem and no --writable). */
export type SessionMounter = (opts: { mountpoint: string; fsName?: string; logger: Logger; readOnly?: boolean }) => Promise<SessionPort>;

export interface VfsMountInfo {
  fsType: FsBackendType;
  source: string;
  config: string;
  prefetchFiles: string[];
}

export interface VfsInstance {
  index: number;
  mountpoint: string;
  info: VfsMountInfo;
  mountedTime: Date;
  fs: FileSystem;
  /** Unmounted but still serving nodes the kernel holds (see Vfs.umount): its filesystem is not destroyed yet. */
  retired?: boolean;
}

export interface VfsPort extends FileSystem {
  /** Throws VfsError (code AlreadyExists, InvalidArguments, Exhausted). */
  mount(mountpoint: string, fs: FileSystem, info: VfsMountInfo): number;
  /** Throws VfsError (code NotFound, or Busy while files are open); may leave the instance `retired`. */
  umount(mountpoint: string): unknown;
  /** Mounted instances by index. */
  list(): VfsInstance[];
  /** Unmounted instances still serving nodes the kernel holds. */
  retired?(): VfsInstance[];
  /** Told when a name vanishes from a directory the kernel may cache (wired to FUSE_NOTIFY_INVAL_ENTRY). */
  onInvalidate?: (parent: number, name: Buffer) => void;
  /** Told when a retired instance's last node is forgotten: its filesystem may now be destroyed. */
  onRetiredDrained?(instance: VfsInstance): void;
}

/** Opens the filesystem a mount request names (validating source and config); throws NydusError. */
export type BackendFactory = (command: MountCommand) => Promise<FileSystem>;
