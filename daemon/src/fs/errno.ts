/**
 * Filesystem errors carry an errno. A filesystem throws FsError (or lets a Node SystemError through);
 * the dispatcher turns either into the negative errno of the reply, in errnoOf() and nowhere else.
 */
import { constants } from 'os';

export const E = constants.errno;

/**
 * An errno answer, an expected outcome rather than a bug: it is built without a stack trace, which would cost
 * several microseconds per failed request (every negative lookup throws one).
 */
export class FsError extends Error {
  readonly errno: number;

  constructor(errno: number, message?: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message ?? `errno ${errno}`);
    Error.stackTraceLimit = limit;
    this.errno = errno;
    this.name = 'FsError';
  }
}

/** Throws FsError for a negative native result, returns it otherwise. */
export function check(rc: number, what?: string): number {
  if (rc < 0) throw new FsError(-rc, what);
  return rc;
}

/** The errno an error stands for; undefined when it is not a filesystem error (a bug: reply EIO, log it). */
export function errnoOf(err: unknown): number | undefined {
  if (err instanceof FsError) return err.errno;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code in E) return (E as Record<string, number>)[code];
  const errno = (err as { errno?: unknown } | null)?.errno;
  if (typeof errno === 'number' && errno !== 0) return Math.abs(errno);
  return undefined;
}
