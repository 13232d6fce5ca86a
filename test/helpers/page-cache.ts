/** The host's page cache, for tests that need a file's data out of it or want to know how much is in it. */
import { execFileSync } from 'child_process';

/** Writes back, then drops the host's cached pages of `file` (posix_fadvise DONTNEED; nothing else is touched). */
export function evictFromPageCache(file: string): void {
  execFileSync('python3', ['-c', `import os
fd = os.open(${JSON.stringify(file)}, os.O_RDONLY)
os.fsync(fd)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
os.close(fd)`]);
}

/** Bytes of `file` in the host's page cache (util-linux fincore). */
export function cachedBytes(file: string): number {
  return Number(execFileSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', file], { encoding: 'utf8' }).trim());
}
