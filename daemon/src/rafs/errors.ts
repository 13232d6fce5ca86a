/**
 * Errors of the rafs backend. A corrupt or unsupported image is a RafsFormatError: an FsError with errno EIO
 * (so the dispatcher maps it without special cases) whose message names the struct and the offset at fault.
 */
import { E, FsError } from '../fs/errno';

export class RafsFormatError extends FsError {
  readonly code = 'RAFS_FORMAT';
  constructor(message: string) {
    super(E.EIO, message);
    this.name = 'RafsFormatError';
  }
}

/** An image feature this reader does not serve (compressed EROFS layouts, unknown codecs). */
export class RafsUnsupportedError extends FsError {
  readonly code = 'RAFS_UNSUPPORTED';
  constructor(message: string) {
    super(E.EOPNOTSUPP, message);
    this.name = 'RafsUnsupportedError';
  }
}

export function formatError(struct: string, offset: number, problem: string): RafsFormatError {
  return new RafsFormatError(`${struct} at offset ${offset}: ${problem}`);
}
