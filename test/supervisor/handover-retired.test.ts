/**
 * A retired image (unmounted from a sub-path of an image-rooted mount while a file of it is open: see
 * daemon/src/vfs/vfs.ts) survives a hot upgrade and a crash failover: the successor reopens it, keeps it out of
 * the namespace, and the open file still reads every byte right.
 */
import test from 'ava';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { connectDaemon } from '../../daemon/src/api/client';
import { mkfsErofs } from '../rafs/helpers/system';
import { supervisorCli } from './helpers/cli';
import { eventually } from './helpers/harness';
import { SupervisedMount } from './helpers/supervised-mount';

const BIG = 3 << 20;

function sha256(data: Buffer): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

/** Every byte of the open file, read through the mount from offset 0. */
function readAll(fd: number): Buffer {
  const data = Buffer.alloc(BIG);
  let got = 0;
  for (let n = 1; n > 0 && got < data.length; got += n) n = fs.readSync(fd, data, got, data.length - got, got);
  return data.subarray(0, got);
}

test.serial('a retired image keeps serving its open file across a hot upgrade and a crash failover', async (t) => {
  if (process.getuid?.() !== 0 || !fs.existsSync('/dev/fuse')) {
    t.log('skipped: needs root and /dev/fuse');
    t.pass();
    return;
  }
  const m = new SupervisedMount('retired');
  t.teardown(() => m.close());
  const src = path.join(m.dir, 'src');
  fs.mkdirSync(src);
  const big = crypto.randomBytes(BIG);
  fs.writeFileSync(path.join(src, 'big'), big);
  fs.writeFileSync(path.join(src, 'small'), 'small file\n');
  const img = path.join(m.dir, 'img');
  mkfsErofs(img, src, ['--chunksize=1048576']);
  const apisock = path.join(m.dir, 'api.sock');
  await m.start(['--bootstrap', img, '--apisock', apisock]);
  const client = connectDaemon(apisock);
  t.teardown(() => client.close());

  await client.call('Mount', { fs_type: 'rafs', source: img, mountpoint: '/img', config: '' });
  const fd = fs.openSync(path.join(m.mnt, 'img', 'big'), 'r');
  t.teardown(() => fs.closeSync(fd));
  await client.call('Umount', { mountpoint: '/img' });
  t.false(fs.existsSync(path.join(m.mnt, 'img')));

  const upgraded = supervisorCli(['restart', '--sock', m.sock, m.id]);
  t.is(upgraded.code, 0, upgraded.stderr + upgraded.stdout);
  t.is(sha256(readAll(fd)), sha256(big), 'after the hot upgrade');

  const victim = m.view().pid;
  process.kill(victim, 'SIGKILL');
  const view = await m.waitReplaced(victim);
  t.true(view.lastHandover?.ok, view.lastHandover?.message);
  fs.writeFileSync('/proc/sys/vm/drop_caches', '1'); // the file's pages go: its reads reach the successor
  t.is(sha256(readAll(fd)), sha256(big), 'after the crash failover');
  t.false(fs.existsSync(path.join(m.mnt, 'img')), 'still out of the namespace');
  t.is(fs.readFileSync(path.join(m.mnt, 'small'), 'utf8'), 'small file\n', 'the root serves');
  await eventually(() => m.view().alive, 5_000, 'the successor to report alive');
});
