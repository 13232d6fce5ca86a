/**
 * nydusd's read threads on a passthrough_fs mount: O_DIRECT reads (which the daemon serves itself) are answered
 * by the threads while everything else keeps working through the main thread, the bytes are the file's, GetMetrics
 * counts the reads the threads answered, and with --thread-num 0 the main thread answers them all. On rafs
 * (mkfs.erofs images, at the root and at a sub-path): large files are read from their pieces by the threads; a
 * sequential reader by them alone, and the main thread reads again once they stop.
 */
import type { ExecutionContext } from 'ava';
import { ChildProcess, execFile, execFileSync, spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { isMounted, mountingTests, NYDUSD, RunningNydusd, startNydusd } from './nydusd-process';
import { eventually } from '../helpers/eventually';
import { mkfsErofs } from '../rafs/helpers/system';

const e2e = mountingTests('nydusd read-thread tests need root and /dev/fuse');
const sha256 = (data: Buffer) => crypto.createHash('sha256').update(data).digest('hex');

const READERS = 4;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
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
    sums.push(sha256(data));
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
    sums.push(sha256(data));
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

/** nydusd serving `img` with no API socket (nothing but the FUSE session keeps it running); killed at teardown. */
async function nydusdWithoutApi(t: ExecutionContext, img: string, mnt: string): Promise<ChildProcess> {
  const proc = spawn(process.execPath, [NYDUSD, '--mountpoint', mnt, '--bootstrap', img, '--log-level', 'warn'], { stdio: 'ignore' });
  t.teardown(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    if (isMounted(mnt)) execFileSync('umount', ['-l', mnt]);
  });
  for (let i = 0; i < 300 && !isMounted(mnt); i++) await sleep(20);
  t.true(isMounted(mnt), 'mounted');
  return proc;
}

e2e('rafs: a sequential reader is answered by the read threads alone, and without an API socket nydusd stays up once they stop', async (t) => {
  const work = fs.mkdtempSync('/tmp/nydus-rafs-rt-');
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  const src = path.join(work, 'src');
  const mnt = path.join(work, 'mnt');
  fs.mkdirSync(src);
  fs.mkdirSync(mnt);
  const big = crypto.randomBytes(16 * 1024 * 1024);
  fs.writeFileSync(path.join(src, 'big'), big);
  fs.writeFileSync(path.join(src, 'small'), 'small file\n');
  const img = path.join(work, 'img');
  mkfsErofs(img, src, ['--chunksize=1048576']);
  const sum = sha256(big);

  // With the API: how many of the READs the threads answered.
  const d = await startNydusd(t, [], ['--bootstrap', img]);
  await d.waitState('DAEMON_STATE_RUNNING');
  t.is(execFileSync('bash', ['-c', `dd if=${d.mnt}/big bs=1M status=none | sha256sum`], { encoding: 'utf8' }).split(' ')[0], sum);
  const metrics = await sessionMetrics(d);
  const reads = metrics.opcodes.find((op) => op.opcode === 'READ')?.count ?? 0;
  t.true(reads >= 16, `READs ${reads}`);
  // Before the main thread left reading to the threads, it took about a third of them. An image at the root is
  // read without OPEN: the file's first READ reaches the main thread, which registers its read map.
  t.true(metrics.reads_on_threads >= reads - 1, `${metrics.reads_on_threads} of ${reads} READs on the read threads`);

  // Without it: the threads stop 100 ms after the last READ, and the main thread must take over again.
  const proc = await nydusdWithoutApi(t, img, mnt);
  t.is(execFileSync('bash', ['-c', `sha256sum < ${mnt}/big`], { encoding: 'utf8' }).split(' ')[0], sum);
  await sleep(400);
  t.is(proc.exitCode, null, 'still running with the threads idle');
  t.is(fs.readFileSync(path.join(mnt, 'small'), 'utf8'), 'small file\n', 'served by the main thread again');
  // O_DIRECT: past the page cache, so the READ reaches the daemon (and, its read map registered, the threads again).
  t.is(execFileSync('bash', ['-c', `dd if=${mnt}/big iflag=direct bs=1M skip=15 status=none | sha256sum`], { encoding: 'utf8' }).split(' ')[0],
    sha256(big.subarray(15 << 20)), 'read again');
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  proc.kill('SIGTERM');
  t.is(await exited, 0);
  t.false(isMounted(mnt), 'unmounted');
});

/** Runs `cmd` in bash; resolves with its stdout, or rejects (also after `timeoutMs`). */
function shell(cmd: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', ['-c', cmd], { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

/** A rafs mount `d` of an image with the file `big`, whose blob lives on `storage` (see mountOnStorage). */
interface OnStorage {
  storage: RunningNydusd;
  d: RunningNydusd;
  big: Buffer;
}

/**
 * A rafs mount whose blob lives on "storage": a second nydusd serving the blob's directory without kernel
 * passthrough; Stop it and it reads nothing. A first read has opened the blob (the storage still running) and built
 * the file's read map.
 */
async function mountOnStorage(t: ExecutionContext): Promise<OnStorage> {
  const storage = await startNydusd(t, ['--no-kernel-passthrough']);
  await storage.waitState('DAEMON_STATE_RUNNING');
  const src = path.join(storage.dir, 'src');
  fs.mkdirSync(path.join(src, 'dir'), { recursive: true });
  const big = crypto.randomBytes(16 * 1024 * 1024);
  fs.writeFileSync(path.join(src, 'big'), big);
  fs.writeFileSync(path.join(src, 'dir', 'small'), 'small\n');
  const boot = path.join(storage.dir, 'image.boot');
  mkfsErofs(boot, src, ['--chunksize=1048576', `--blobdev=${path.join(storage.shared, 'image.blob')}`]);

  const d = await startNydusd(t, [], ['--bootstrap', boot, '--blob', path.join(storage.mnt, 'image.blob')]);
  await d.waitState('DAEMON_STATE_RUNNING');
  t.is(execFileSync('bash', ['-c', `dd if=${d.mnt}/big bs=1M count=1 status=none | sha256sum`], { encoding: 'utf8' }).split(' ')[0],
    sha256(big.subarray(0, 1 << 20)));
  return { storage, d, big };
}

interface Readers {
  /** The sha256 of each reader's 2 MiB, in the order of `mibs`. */
  sums: Promise<string[]>;
  /** Resolves once every reader waits in the kernel for its read (state D), which a stalled storage prolongs. */
  waiting: Promise<void>;
}

/**
 * dd readers of 2 MiB at each of `mibs` (past what the first read brought into any page cache). The tests used to
 * give them 300 ms to start; on a loaded machine that was not enough, so `waiting` watches their state instead.
 */
function readersAt(d: RunningNydusd, mibs: number[], how: 'buffered' | 'direct' = 'buffered'): Readers {
  const pids: number[] = [];
  // O_DIRECT in 4 KiB blocks: one small READ at a time per reader, which no readahead merges with the next.
  const blocks = how === 'direct' ? (mib: number) => ['iflag=direct', 'bs=4k', `skip=${mib * 256}`, 'count=512']
    : (mib: number) => ['bs=1M', `skip=${mib}`, 'count=2'];
  const sums = Promise.all(mibs.map((mib) => new Promise<string>((resolve, reject) => {
    const child = execFile('dd', [`if=${path.join(d.mnt, 'big')}`, ...blocks(mib), 'status=none'],
      { timeout: 30_000, encoding: 'buffer', maxBuffer: 4 << 20 }, (err, stdout) => (err ? reject(err) : resolve(sha256(stdout))));
    pids.push(child.pid!);
  })));
  const blocked = (): number => pids.filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').startsWith('D');
    } catch {
      return false; // gone
    }
  }).length;
  const waiting = eventually(() => blocked() === mibs.length, 15_000, `all ${mibs.length} readers to block in the kernel`);
  return { sums, waiting };
}

function checkReads(t: ExecutionContext, big: Buffer, mibs: number[], got: string[]): void {
  mibs.forEach((mib, i) => t.is(got[i], sha256(big.subarray(mib << 20, (mib + 2) << 20)), `reader at ${mib} MiB`));
}

/**
 * Stops the storage under `d`, starts readers at `mibs` and waits until every one blocks; then `ls` and `stat` of
 * the mount must answer within 3 s while they still wait, and `during` checks more. Then the storage starts again
 * and every reader must get its bytes.
 */
async function listWhileReadersHang(t: ExecutionContext, { storage, d, big }: OnStorage,
  mibs: number[], how: 'buffered' | 'direct', during: () => Promise<void>): Promise<void> {
  await storage.client.call('Stop');
  const { sums, waiting } = readersAt(d, mibs, how);
  let finished = false;
  sums.then(() => { finished = true; }, () => undefined);
  try {
    await waiting;
    await sleep(100); // and every read thread has been stuck long enough for the daemon to act on it
    const listing = await shell(`ls ${d.mnt}/dir && stat -c %s ${d.mnt}/dir/small`, 3_000);
    t.is(listing, 'small\n6\n', `listed and stat'ed while ${mibs.length} readers hang`);
    t.false(finished, 'the readers were still waiting for the storage');
    await during();
  } finally {
    await storage.client.call('Start');
  }
  checkReads(t, big, mibs, await sums);
}

e2e('rafs: while every read thread hangs in a READ of a blob on stalled storage, the main thread answers the mount\'s other requests', async (t) => {
  const mounted = await mountOnStorage(t);
  const readBefore = (await sessionMetrics(mounted.d)).reads_on_threads;
  // Readers at three places in the file: each READ hangs in a read thread's pread on the stopped storage.
  await listWhileReadersHang(t, mounted, [4, 8, 12], 'buffered', async () => {
    t.is((await sessionMetrics(mounted.d)).reads_on_threads, readBefore, 'no READ answered since the storage stopped');
  });
});

e2e('rafs: with more readers hung on stalled storage than read threads, more threads start and the mount keeps answering; once idle again, they end', async (t) => {
  const mounted = await mountOnStorage(t);
  const { d, big } = mounted;
  // Six O_DIRECT readers, twice the read threads: each READ beyond the third used to reach the main thread, whose
  // synchronous pread of at most 64 KiB then hung it with the storage, and with it every request of the mount.
  await listWhileReadersHang(t, mounted, [2, 4, 6, 8, 10, 12], 'direct', async () => {
    const grown = d.stderr().match(/started one more/g)?.length ?? 0;
    t.true(grown >= 3, `threads started for the stalled READs: ${grown}`);
    t.notRegex(d.stderr(), /the ones added for stuck READs ended/, 'not while READs hang');
  });
  // The readers are done (listWhileReadersHang checked their bytes): the threads go idle 100 ms later.
  await eventually(() => /the ones added for stuck READs ended[^\n]*"threads":3\b/.test(d.stderr()), 5_000, 'the added read threads to end');
  checkReads(t, big, [3, 5, 7, 9], await readersAt(d, [3, 5, 7, 9], 'direct').sums);
});

e2e('rafs: a Stop while read threads hang in READs on stalled storage waits for them without blocking the API, then Start serves again', async (t) => {
  const { storage, d, big } = await mountOnStorage(t);
  await storage.client.call('Stop');
  const mibs = [4, 8];
  const { sums, waiting } = readersAt(d, mibs);
  let stopped: unknown;
  let stop: Promise<void> | undefined;
  try {
    await waiting;
    stop = d.client.call('Stop').then((reply) => { stopped = reply; });
    await sleep(300);
    const metrics = await Promise.race([sessionMetrics(d), sleep(3_000).then(() => undefined)]);
    t.truthy(metrics, 'GetMetrics answered while the Stop waits for the hung READs');
    t.is(stopped, undefined, 'the Stop waits for the READs in progress');
  } finally {
    await storage.client.call('Start');
  }
  await stop;
  t.deepEqual(stopped, { state: 'DAEMON_STATE_READY' }, 'the Stop completes once the storage answers');
  await d.client.call('Start');
  checkReads(t, big, mibs, await sums);
  t.is(await shell(`cat ${d.mnt}/dir/small`, 3_000), 'small\n', 'the mount serves after Start');
});
