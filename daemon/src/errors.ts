/**
 * The daemon's control-plane errors: one class, `NydusError`, whose `code` is one of the seed's error kinds (stable
 * strings a client may match on) and whose message says what could not be done. api/status.ts is the only place
 * an error becomes a gRPC status (this module does not load grpc-js: a daemon without --apisock never does).
 * Filesystem errors (FsError / errno) stay in daemon/src/fs and are mapped to errnos by the FUSE dispatcher, not
 * here; this module only recognises them when one reaches the API.
 */
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
