/**
 * O_DIRECT on a passthrough_fs mount. By default, as in virtiofsd, the daemon serves an O_DIRECT open from the
 * host's page cache: the host file's pages are cached after a direct read through the mount. With
 * --allow-direct-io the kernel reads the backing file itself, with the caller's O_DIRECT, and the host's page
 * cache stays empty. Either way the bytes are the file's.
 */
import type { ExecutionContext } from 'ava';
import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { cachedBytes, evictFromPageCache } from '../helpers/page-cache';
import { mountingTests, startNydusd } from './nydusd-process';

const e2e = mountingTests('nydusd O_DIRECT tests need root and /dev/fuse');

/** Writes 1 MiB of random bytes into the daemon's shared dir and drops its cached pages; returns the sha256. */
function uncachedFile(file: string): string {
  const data = crypto.randomBytes(1024 * 1024);
  fs.writeFileSync(file, data);
  evictFromPageCache(file);
  return crypto.createHash('sha256').update(data).digest('hex');
}

async function directRead(t: ExecutionContext, extraArgs: string[]): Promise<number> {
  const d = await startNydusd(t, extraArgs);
  await d.waitState('DAEMON_STATE_RUNNING');
  const want = uncachedFile(path.join(d.shared, 'big'));
  t.is(cachedBytes(path.join(d.shared, 'big')), 0, 'nothing cached before');
  const got = execFileSync('sh', ['-c', `dd if=${path.join(d.mnt, 'big')} iflag=direct bs=4k status=none | sha256sum`], { encoding: 'utf8' });
  t.is(got.split(' ')[0], want);
  return cachedBytes(path.join(d.shared, 'big'));
}

e2e('by default an O_DIRECT read through the mount is served from the host page cache', async (t) => {
  t.is(await directRead(t, []), 1024 * 1024);
});

e2e('with --allow-direct-io an O_DIRECT read through the mount bypasses the host page cache', async (t) => {
  t.is(await directRead(t, ['--allow-direct-io']), 0);
});
