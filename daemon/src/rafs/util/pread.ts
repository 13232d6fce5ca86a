/**
 * Positional reads of image and blob files. Small ones (at most SYNC_READ_BYTES: metadata blocks, the 4 KiB
 * random reads of a database) are one synchronous pread on the event loop: a hop to a libuv threadpool worker
 * and back cost more than the read itself (on a 2-core VM, 4 KiB random reads of a cold erofs image went from
 * about 4,200 to 6,900 per second with one reader, and did not get slower with four). Larger ones (sequential
 * chunk reads, readahead) go to the threadpool through the callback API (fs.read, cheaper per call than
 * FileHandle.read), so that their disk waits overlap with serving other requests; so do reads `inBackground`
 * (read-ahead, which no request waits for), whatever their size.
 */
import * as fs from 'fs';
import { check } from '../../fs/errno';
import { native } from '../../native';

const SYNC_READ_BYTES = 64 * 1024;

export function positionalRead(fd: number, buf: Buffer, off: number, len: number, pos: number,
  inBackground = false): Promise<number> {
  if (len <= SYNC_READ_BYTES && !inBackground) {
    try {
      return Promise.resolve(check(native.pread(fd, buf, off, len, pos), 'pread'));
    } catch (err) {
      return Promise.reject(err);
    }
  }
  return new Promise((resolve, reject) => {
    fs.read(fd, buf, off, len, pos, (err, n) => (err ? reject(err) : resolve(n)));
  });
}
