import type { FileSystem, ReadExtents } from '../../fs/filesystem';
import type { ReaddirplusAdvisor } from '../readdirplus-advisor';
import type { Request } from '../request';

/** Answers READs of registered handles elsewhere than in the READ handler (see OpenReply.readFd). */
export interface ReadOffload {
  /** Reads of the handle are pread on `fd` at their offset (OpenReply.readFd), or come from `extents`. */
  add(nodeid: number, fh: number, how: number | ReadExtents): void;
  /**
   * One registration of the handle less (rafs opens all share fh 0); at the last, returns once nothing reads the
   * handle's fd any more.
   */
  remove(nodeid: number, fh: number): void;
  /**
   * A READ of the handle reached the READ handler (the threads had gone idle or are all stuck, or it is not
   * registered): true when the threads took `msg` over and answer it; false when the handler must (not
   * registered, paused, or a READ they handed back). Either way they read again.
   */
  mainRead(nodeid: number, fh: number, msg: Buffer): boolean;
  /**
   * A READ of a file that was never opened (FileSystem.openless) reached the READ handler: its read map, if the
   * filesystem gives one (FileSystem.readExtents), is registered as handle 0 for a while (until unmounted, or
   * until enough other files took its place), so that the file's next reads are the threads'.
   */
  addUnopened(nodeid: number): void;
}

/** What a handler may use besides the request: the filesystem and connection-wide facts. */
export interface ServerContext {
  fs: FileSystem;
  /** Bytes the kernel accepts in one READ reply / WRITE request. */
  maxWrite: number;
  /** FUSE_SETXATTR_EXT was negotiated: setxattr_in is 16 bytes. */
  setxattrExt: boolean;
  /** Whether READDIRPLUS replies carry attributes, per directory. */
  readdirplus: ReaddirplusAdvisor;
  readOffload?: ReadOffload;
}

export type Handler = (req: Request, s: ServerContext) => void;
export type HandlerTable = Map<number, Handler>;
