/**
 * nydusd's read threads on a passthrough_fs mount: O_DIRECT reads (which the daemon serves itself) are answered
 * by the threads while everything else keeps working through the main thread, the bytes are the file's, GetMetrics
 * counts the reads the threads answered, and with --thread-num 0 the main thread answers them all. On rafs
 * (mkfs.erofs images, at the root and at a sub-path): large files are read from their pieces by the threads.
 */
import type { ExecutionContext } from 'ava';
import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { mountingTests, RunningNydusd, startNydusd } from './nydusd-process';
import { mkfsErofs } from '../rafs/helpers/system';

const e2e = mountingTests('nydusd read-thread tests need root and /dev/fuse');

const READERS = 4;
const FILE_BYTES = 4 * 1024 * 1024;

interface SessionMetrics {
  bytes_read: number;
  reads_on_threads: number;
  opcodes: Array<{ opcode: string; count: number; errors: number }>;
}

async function sessionMetrics(d: RunningNydusd): Promise<SessionMetrics> {
  const metrics = await d.client.call<{ filesystems: Array<SessionMetrics & { mountpoint: string }> }>('GetMetrics');
  return metrics.filesystems.find((fs) => fs.mountpoint === '')!;
}

/**
 * Four parallel O_DIRECT readers of their own files (dd, 4 KiB blocks) while cp -a, diff -r and find run through the
 * mount; returns the session's metrics afterwards.
 */
async function directReadsUnderLoad(t: ExecutionContext, extraArgs: string[]): Promise<SessionMetrics> {
  const d = await startNydusd(t, ['--writable', ...extraArgs]);
  await d.waitState('DAEMON_STATE_RUNNING');
  const sums: string[] = [];
  for (let i = 0; i < READERS; i++) {
    const data = crypto.randomBytes(FILE_BYTES);
    fs.writeFileSync(path.join(d.shared, `big-${i}`), data);
    sums.push(crypto.createHash('sha256').update(data).digest('hex'));
  }
  const tree = path.join(d.dir, 'tree');
  for (let i = 0; i < 40; i++) {
    fs.mkdirSync(path.join(tree, `d${i % 8}`), { recursive: true });
    fs.writeFileSync(path.join(tree, `d${i % 8}`, `f${i}`), crypto.randomBytes(1000 + i * 37));
  }
  const script = [
    ...sums.map((_, i) => `dd if=${path.join(d.mnt, `big-${i}`)} iflag=direct bs=4k status=none | sha256sum > ${d.dir}/sum-${i} &`),
    `cp -a ${tree} ${d.mnt}/copy`,
    `diff -r ${tree} ${d.mnt}/copy`,
    `find ${d.mnt} | wc -l > ${d.dir}/entries`,
    'wait',
  ].join('\n');
  execFileSync('bash', ['-euc', script], { stdio: 'pipe' });
  for (let i = 0; i < READERS; i++) t.is(fs.readFileSync(path.join(d.dir, `sum-${i}`), 'utf8').split(' ')[0], sums[i], `reader ${i}`);
  t.is(Number(fs.readFileSync(path.join(d.dir, 'entries'), 'utf8')), 1 + 2 + READERS + 1 + 8 + 40);
  const metrics = await sessionMetrics(d);
  const read = metrics.opcodes.find((op) => op.opcode === 'READ');
  t.true(metrics.bytes_read >= READERS * FILE_BYTES, `bytes read ${metrics.bytes_read}`);
  t.true((read?.count ?? 0) >= READERS * FILE_BYTES / 4096, `READs ${read?.count}`);
  t.is(read?.errors, 0);
  return metrics;
}

e2e('O_DIRECT readers are answered by the read threads while cp, diff and find go through the mount', async (t) => {
  const metrics = await directReadsUnderLoad(t, []);
  t.true(metrics.reads_on_threads > 0, `reads on threads ${metrics.reads_on_threads}`);
  t.log(`READs answered by the read threads: ${metrics.reads_on_threads}`);
});

e2e('with --thread-num 0 the main thread answers every READ', async (t) => {
  const metrics = await directReadsUnderLoad(t, ['--thread-num', '0']);
  t.is(metrics.reads_on_threads, 0);
});

/**
 * A mkfs.erofs image of READERS large files and a small tree, served at the root and (over the API) at /img:
 * parallel O_DIRECT and buffered readers of both, with a find of each; returns the session's metrics.
 */
async function rafsReads(t: ExecutionContext, extraArgs: string[]): Promise<SessionMetrics> {
  const work = fs.mkdtempSync('/tmp/nydus-rafs-rt-');
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  const src = path.join(work, 'src');
  const sums: string[] = [];
  for (let i = 0; i < READERS; i++) {
    const data = crypto.randomBytes(FILE_BYTES + i * 4097);
    fs.mkdirSync(path.join(src, `d${i}`), { recursive: true });
    fs.writeFileSync(path.join(src, `big-${i}`), data);
    fs.writeFileSync(path.join(src, `d${i}`, 'small'), crypto.randomBytes(100 + i));
    sums.push(crypto.createHash('sha256').update(data).digest('hex'));
  }
  const img = path.join(work, 'img');
  mkfsErofs(img, src, ['--chunksize=65536']);
  const d = await startNydusd(t, extraArgs, ['--bootstrap', img]);
  await d.waitState('DAEMON_STATE_RUNNING');
  await d.client.call('Mount', { fs_type: 'rafs', source: img, mountpoint: '/img', config: '' });
  const roots = [d.mnt, path.join(d.mnt, 'img')];
  const script = [
    ...roots.flatMap((root, r) => sums.map((_, i) => {
      const flag = (i + r) % 2 === 0 ? 'iflag=direct' : '';
      return `dd if=${path.join(root, `big-${i}`)} ${flag} bs=4k status=none | sha256sum > ${d.dir}/sum-${r}-${i} &`;
    })),
    ...roots.map((root, r) => `find ${root} | wc -l > ${d.dir}/entries-${r}`),
    'wait',
  ].join('\n');
  execFileSync('bash', ['-euc', script], { stdio: 'pipe' });
  roots.forEach((_, r) => {
    for (let i = 0; i < READERS; i++) t.is(fs.readFileSync(path.join(d.dir, `sum-${r}-${i}`), 'utf8').split(' ')[0], sums[i], `root ${r}, reader ${i}`);
  });
  t.is(Number(fs.readFileSync(path.join(d.dir, 'entries-1'), 'utf8')), 1 + 3 * READERS);
  const metrics = await sessionMetrics(d);
  t.is(metrics.opcodes.find((op) => op.opcode === 'READ')?.errors, 0);
  await d.client.call('Umount', { mountpoint: '/img' }); // every file closed: nothing holds the instance
  return metrics;
}

e2e('rafs: large files are read by the read threads, at the root and at a sub-path, with the right bytes', async (t) => {
  const metrics = await rafsReads(t, []);
  t.true(metrics.reads_on_threads > 2 * READERS, `reads on threads ${metrics.reads_on_threads}`);
  t.log(`READs answered by the read threads: ${metrics.reads_on_threads}`);
});

e2e('rafs with --thread-num 0: the main thread reads them all', async (t) => {
  t.is((await rafsReads(t, ['--thread-num', '0'])).reads_on_threads, 0);
});
