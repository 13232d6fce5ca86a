/** Bounds-checked reading of a request body: fixed structs and NUL-terminated names. */
import { FsError, E } from '../fs/errno';
import type { Request } from './request';

/** Throws EINVAL unless the body holds `size` bytes from `off`. Returns off. */
export function need(req: Request, off: number, size: number): number {
  if (off + size > req.bodyEnd) throw new FsError(E.EINVAL, `request body too short for ${size} bytes`);
  return off;
}

/** The NUL-terminated string at `off`, as raw bytes, and the offset after its NUL. */
export function cstring(req: Request, off: number): { name: Buffer; next: number } {
  const end = req.buf.indexOf(0, off);
  if (end < 0 || end >= req.bodyEnd) throw new FsError(E.EINVAL, 'name is not NUL-terminated');
  return { name: req.buf.subarray(off, end), next: end + 1 };
}
