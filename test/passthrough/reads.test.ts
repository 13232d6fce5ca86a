/**
 * How passthrough_fs reads what the daemon serves itself: at once from the host's page cache, and for data that
 * is not there, in place for a lone reader, or later (its disk read started at once) while several threads read,
 * so that their disk waits overlap. The bytes are the same either way; what differs is whether read() answers at
 * once.
 */
import test from 'ava';
import * as crypto from 'crypto';
import * as fs from 'fs';
import { RecentReaders } from '../../daemon/src/passthrough/recent-readers';
import { evictFromPageCache as evict } from '../helpers/page-cache';
import { makeShare, rootCtx, walk } from './helpers';

test('RecentReaders: two threads reading within 5 ms are several readers, for 5 ms after', (t) => {
  const r = new RecentReaders();
  t.false(r.note(1, 0));
  t.false(r.note(1, 1), 'one thread is a lone reader');
  t.true(r.note(2, 2), 'a second thread 1 ms later');
  t.true(r.note(2, 6));
  t.false(r.note(2, 20), 'the same thread alone, 14 ms later');
  t.false(r.note(1, 40), 'another thread, but 20 ms after the last read');
});

test('an uncached read waits in place for a lone reader and is answered later for several; the bytes are the same', async (t) => {
  const { pfs, host } = makeShare(t);
  const data = crypto.randomBytes(20_000);
  fs.writeFileSync(host('f'), data);
  const f = walk(pfs, 'f');
  const { fh } = pfs.open(rootCtx, f, fs.constants.O_RDONLY);
  const one = { ...rootCtx, pid: 1001 };
  const two = { ...rootCtx, pid: 1002 };

  t.deepEqual(pfs.read(one, f, fh, 4096, 4096), data.subarray(4096, 8192), 'cached: answered at once');
  evict(host('f'));
  const lone = pfs.read(one, f, fh, 8192, 4096);
  t.false(lone instanceof Promise, 'a lone reader waits in place');
  t.deepEqual(lone, data.subarray(8192, 12288));

  // Thread one reads another file (cached) just before: two threads are reading. Both reads must fall within
  // RecentReaders' 5 ms window; on a loaded machine this thread can be descheduled between them, so an attempt
  // that took longer than the window proves nothing and is made again.
  fs.writeFileSync(host('g'), 'other');
  const g = walk(pfs, 'g');
  const other = pfs.open(rootCtx, g, fs.constants.O_RDONLY);
  let checked = false;
  for (let attempt = 0; attempt < 10 && !checked; attempt++) {
    evict(host('f'));
    const start = performance.now();
    t.is(pfs.read(one, g, other.fh, 0, 100).toString(), 'other');
    const several = pfs.read(two, f, fh, 12288, 4096);
    checked = performance.now() - start < 4;
    if (checked) t.true(several instanceof Promise, 'with two threads reading, an uncached read is answered later');
    t.deepEqual(await several, data.subarray(12288, 16384));
    await new Promise((resolve) => setTimeout(resolve, 10)); // past the window: the next attempt starts afresh
  }
  t.true(checked, 'no attempt read both files within 4 ms');

  evict(host('f'));
  t.deepEqual(await pfs.read(one, f, fh, 16384, 8192), data.subarray(16384), 'the short tail at the end of the file');
  pfs.release(rootCtx, f, fh, 0);
  pfs.release(rootCtx, g, other.fh, 0);
});
