/**
 * A positional read on a libuv threadpool worker through the callback API (fs.read), which costs a good deal
 * less per call than FileHandle.read of fs/promises on the hot path of small random reads.
 */
import * as fs from 'fs';

export function preadAsync(fd: number, buf: Buffer, off: number, len: number, pos: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.read(fd, buf, off, len, pos, (err, n) => (err ? reject(err) : resolve(n)));
  });
}
