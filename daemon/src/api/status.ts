/**
 * The one place an error becomes a gRPC status: our codes (errors.ts), then errnos, else INTERNAL.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { constants } from 'os';
import { errnoOf } from '../fs/errno';
import { isNydusErrorCode, NydusErrorCode } from '../errors';

const E = constants.errno;

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
