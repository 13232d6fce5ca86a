import type { FileSystem } from '../../fs/filesystem';
import type { ReaddirplusAdvisor } from '../readdirplus-advisor';
import type { Request } from '../request';

/** Answers READs of registered handles elsewhere than in the READ handler (see OpenReply.readFd). */
export interface ReadOffload {
  add(nodeid: number, fh: number, fd: number): void;
  /** Returns once nothing reads the handle's fd any more. */
  remove(nodeid: number, fh: number): void;
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
