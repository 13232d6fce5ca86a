/**
 * The daemon's control-plane errors: one class, `NydusError`, whose `code` is one of the seed's error kinds (stable
 * strings a client may match on) and whose message says what could not be done. `grpcStatusOf()` is the only place
 * an error becomes a gRPC status. Filesystem errors (FsError / errno) stay in daemon/src/fs and are mapped to
 * errnos by the FUSE dispatcher, not here; this module only recognises them when one reaches the API.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { constants } from 'os';
import { errnoOf } from './fs/errno';

export const ERROR_CODES = [
  'AlreadyExists',
  'InvalidArguments',
  'InvalidConfig',
  'InvalidPrefetchList',
  'NotFound',
  'NotReady',
  'Busy',
  'Exhausted',
  'Unsupported',
  'Serde',
  'UnexpectedEvent',
  'StartService',
  'ServiceStop',
  'DaemonFailure',
  'SessionShutdown',
  'FsTypeMismatch',
  'PassthroughFs',
  'Rafs',
  'Vfs',
  'Upgrade',
  'Fuse',
] as const;
export type NydusErrorCode = (typeof ERROR_CODES)[number];

export class NydusError extends Error {
  readonly code: NydusErrorCode;

  constructor(code: NydusErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NydusError';
    this.code = code;
  }
}

export function isNydusErrorCode(value: unknown): value is NydusErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

const E = constants.errno;
/** errnos that say something a client can act on keep that meaning when wrapped. */
const codeOfErrno = new Map<number, NydusErrorCode>([
  [E.ENOENT, 'NotFound'],
  [E.EEXIST, 'AlreadyExists'],
  [E.EINVAL, 'InvalidArguments'],
  [E.EBUSY, 'Busy'],
  [E.ENOSYS, 'Unsupported'],
]);

/**
 * `err` as a NydusError with `what` in front of its message. It keeps a code it already has (ours, or a foreign
 * error's code that is one of ours, such as the VFS's) or one its errno stands for; otherwise it gets `code`.
 */
export function wrapError(code: NydusErrorCode, what: string, err: unknown): NydusError {
  if (err instanceof NydusError) return err;
  const foreignCode = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  const errno = errnoOf(err);
  const kept = isNydusErrorCode(foreignCode) ? foreignCode : errno !== undefined ? codeOfErrno.get(errno) : undefined;
  return new NydusError(kept ?? code, `${what}: ${message}`, { cause: err });
}

const statusOfCode: Record<NydusErrorCode, GrpcStatus> = {
  AlreadyExists: GrpcStatus.ALREADY_EXISTS,
  InvalidArguments: GrpcStatus.INVALID_ARGUMENT,
  InvalidConfig: GrpcStatus.INVALID_ARGUMENT,
  InvalidPrefetchList: GrpcStatus.INVALID_ARGUMENT,
  Serde: GrpcStatus.INVALID_ARGUMENT,
  FsTypeMismatch: GrpcStatus.INVALID_ARGUMENT,
  NotFound: GrpcStatus.NOT_FOUND,
  NotReady: GrpcStatus.UNAVAILABLE,
  Busy: GrpcStatus.FAILED_PRECONDITION,
  Exhausted: GrpcStatus.RESOURCE_EXHAUSTED,
  Unsupported: GrpcStatus.UNIMPLEMENTED,
  UnexpectedEvent: GrpcStatus.FAILED_PRECONDITION,
  StartService: GrpcStatus.INTERNAL,
  ServiceStop: GrpcStatus.INTERNAL,
  DaemonFailure: GrpcStatus.INTERNAL,
  SessionShutdown: GrpcStatus.INTERNAL,
  PassthroughFs: GrpcStatus.INTERNAL,
  Rafs: GrpcStatus.INTERNAL,
  Vfs: GrpcStatus.INTERNAL,
  Upgrade: GrpcStatus.INTERNAL,
  Fuse: GrpcStatus.INTERNAL,
};

const statusOfErrno = new Map<number, GrpcStatus>([
  [E.ENOENT, GrpcStatus.NOT_FOUND],
  [E.EEXIST, GrpcStatus.ALREADY_EXISTS],
  [E.EINVAL, GrpcStatus.INVALID_ARGUMENT],
  [E.ENOTDIR, GrpcStatus.INVALID_ARGUMENT],
  [E.EBUSY, GrpcStatus.FAILED_PRECONDITION],
  [E.EACCES, GrpcStatus.PERMISSION_DENIED],
  [E.EPERM, GrpcStatus.PERMISSION_DENIED],
  [E.ENOSYS, GrpcStatus.UNIMPLEMENTED],
  [E.EOPNOTSUPP, GrpcStatus.UNIMPLEMENTED],
]);

export interface GrpcErrorStatus {
  code: GrpcStatus;
  details: string;
}

/**
 * The gRPC status for any error reaching the API: our codes (also on foreign errors carrying one of them, such as
 * the VFS's), then errnos, else INTERNAL with the message. Never UNKNOWN, never OK.
 */
export function grpcStatusOf(err: unknown): GrpcErrorStatus {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  if (isNydusErrorCode(code)) return { code: statusOfCode[code], details: message };
  const errno = errnoOf(err);
  const byErrno = errno === undefined ? undefined : statusOfErrno.get(errno);
  if (byErrno !== undefined) return { code: byErrno, details: message };
  return { code: GrpcStatus.INTERNAL, details: message || 'Internal error' };
}
