/** A filesystem's implementation of an optional operation, bound to it, or an FsError when it has none. */
import { E, FsError } from './errno';
import type { FileSystem } from './filesystem';

export function optionalOp<K extends keyof FileSystem>(fs: FileSystem, op: K, missing: number = E.ENOSYS): NonNullable<FileSystem[K]> {
  const f = fs[op];
  if (typeof f !== 'function') throw new FsError(missing, `${String(op)} is not implemented`);
  return (f as (...a: unknown[]) => unknown).bind(fs) as NonNullable<FileSystem[K]>;
}
