import { status } from '@grpc/grpc-js';
import { execFile, spawn } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { isMounted, mountingTests, NYDUSD, startNydusd } from './nydusd-process';

const e2e = mountingTests('nydusd end-to-end tests need root and /dev/fuse');

function cat(file: string): { done: Promise<{ code: number | null; out: string }>; running: () => boolean } {
  const child = spawn('cat', [file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  let finished = false;
  const done = new Promise<{ code: number | null; out: string }>((resolve) =>
    child.once('exit', (code) => {
      finished = true;
      resolve({ code, out });
    }),
  );
  return { done, running: () => !finished };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

e2e('nydusd serves the shared dir and reports RUNNING with its backend', async (t) => {
  const d = await startNydusd(t);
  await d.waitState('DAEMON_STATE_RUNNING');
  t.is(fs.readFileSync(path.join(d.mnt, 'hello.txt'), 'utf8'), 'hello from the shared dir\n');
  const info = await d.client.call<Record<string, any>>('ExportInfo', { include_fs_info: true });
  t.is(info.backend_collection['/'].backend_type, 'passthrough_fs');
  t.is(info.backend_collection['/'].source, d.shared);
  t.is(info.mountpoint, d.mnt);
  const metrics = await d.client.call<{ filesystems: Record<string, any>[] }>('GetMetrics');
  const session = metrics.filesystems.find((fs) => fs.mountpoint === '');
  t.truthy(session);
  t.true(session!.opcodes.some((op: { opcode: string; count: number }) => op.opcode.includes('LOOKUP') && op.count > 0));
});

/** READ requests the daemon has answered, from GetMetrics. */
async function readRequests(d: Awaited<ReturnType<typeof startNydusd>>): Promise<{ count: number; bytes: number }> {
  const metrics = await d.client.call<{ filesystems: Record<string, any>[] }>('GetMetrics');
  const session = metrics.filesystems.find((fs) => fs.mountpoint === '')!;
  const read = session.opcodes.find((op: { opcode: string }) => op.opcode.includes('READ') && !op.opcode.includes('DIR'));
  return { count: Number(read?.count ?? 0), bytes: Number(session.bytes_read) };
}

e2e('with FUSE kernel passthrough the kernel reads open files itself; --no-kernel-passthrough serves reads in the daemon', async (t) => {
  const data = crypto.randomBytes(8 << 20);
  const digest = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
  for (const mode of ['kernel', 'daemon'] as const) {
    const d = await startNydusd(t, mode === 'daemon' ? ['--no-kernel-passthrough'] : []);
    await d.waitState('DAEMON_STATE_RUNNING');
    fs.writeFileSync(path.join(d.shared, 'big.bin'), data);
    const info = await d.client.call<{ kernel_passthrough: boolean }>('ExportInfo', {});
    if (mode === 'kernel' && !info.kernel_passthrough) {
      t.log(`skipped the kernel half: this kernel (${os.release()}) offered no FUSE passthrough`);
      continue;
    }
    t.is(info.kernel_passthrough, mode === 'kernel');
    t.is(digest(fs.readFileSync(path.join(d.mnt, 'big.bin'))), digest(data), `${mode}: content`);
    const reads = await readRequests(d);
    if (mode === 'kernel') {
      t.is(reads.count, 0, 'no READ request reached the daemon');
    } else {
      t.true(reads.bytes >= data.length, `the daemon served the reads (${reads.bytes} bytes)`);
    }
  }
});

/** Requests per opcode (name -> { count, errors }) the daemon has answered, from GetMetrics. */
async function opcodeCounts(d: Awaited<ReturnType<typeof startNydusd>>): Promise<Map<string, { count: number; errors: number }>> {
  const metrics = await d.client.call<{ filesystems: Record<string, any>[] }>('GetMetrics');
  const session = metrics.filesystems.find((fs) => fs.mountpoint === '')!;
  return new Map(session.opcodes.map((op: { opcode: string; count: string; errors: string }) =>
    [op.opcode.replace(/^FUSE_OPCODE_/, ''), { count: Number(op.count), errors: Number(op.errors) }]));
}

e2e('directories are listed without OPENDIR/RELEASEDIR round trips and listings follow changes', async (t) => {
  const d = await startNydusd(t, ['--writable']);
  await d.waitState('DAEMON_STATE_RUNNING');
  for (let i = 0; i < 30; i++) fs.mkdirSync(path.join(d.shared, `dir-${i}`), { recursive: true });
  for (let i = 0; i < 30; i++) fs.writeFileSync(path.join(d.shared, `dir-${i}`, 'f'), `${i}`);
  const listing = (dir: string) => fs.readdirSync(dir).sort();
  for (let i = 0; i < 30; i++) t.deepEqual(listing(path.join(d.mnt, `dir-${i}`)), ['f']);
  fs.writeFileSync(path.join(d.mnt, 'dir-0', 'made-through-the-mount'), '');
  t.deepEqual(listing(path.join(d.mnt, 'dir-0')), ['f', 'made-through-the-mount'], 'a change through the mount shows at once');
  fs.writeFileSync(path.join(d.shared, 'dir-1', 'made-on-the-host'), '');
  await sleep(1100); // the attribute timeout: then the kernel sees the directory's new mtime and drops its cached listing
  t.deepEqual(listing(path.join(d.mnt, 'dir-1')), ['f', 'made-on-the-host'], 'a change on the host shows after the attribute timeout');
  const counts = await opcodeCounts(d);
  const opendir = counts.get('OPENDIR') ?? { count: 0, errors: 0 };
  t.true(opendir.count <= 1 && opendir.errors === opendir.count, `OPENDIR answered ENOSYS once at most (${JSON.stringify(opendir)})`);
  t.is(counts.get('RELEASEDIR')?.count ?? 0, 0, 'no RELEASEDIR');
  t.true((counts.get('READDIRPLUS')?.count ?? 0) + (counts.get('READDIR')?.count ?? 0) >= 31, 'the listings reached the daemon');
});

/** The mount's readahead window, from its backing device info in sysfs. */
function readAheadKb(mnt: string): number {
  const line = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4] === mnt).pop();
  return Number(fs.readFileSync(`/sys/class/bdi/${line!.split(' ')[2]}/read_ahead_kb`, 'utf8'));
}

e2e('the mount reads ahead 1 MiB by default; --read-ahead-kb sets the window, 0 keeps the kernel\'s', async (t) => {
  for (const [args, expected] of [[[], 1024], [['--read-ahead-kb', '4096'], 4096], [['--read-ahead-kb', '0'], 128]] as const) {
    const d = await startNydusd(t, [...args]);
    await d.waitState('DAEMON_STATE_RUNNING');
    fs.readFileSync(path.join(d.mnt, 'hello.txt')); // INIT has been answered once the mount serves a file
    t.is(readAheadKb(d.mnt), expected, args.join(' ') || 'default');
  }
});

e2e('Stop makes a reader wait; Start lets it finish with the right data', async (t) => {
  const d = await startNydusd(t);
  await d.waitState('DAEMON_STATE_RUNNING');
  t.deepEqual(await d.client.call('Stop'), { state: 'DAEMON_STATE_READY' });
  t.true(isMounted(d.mnt), 'the mount stays while stopped');
  const reader = cat(path.join(d.mnt, 'later.txt')); // never looked up before: must reach the daemon
  await sleep(700);
  t.true(reader.running(), 'the reader waits while the daemon is stopped');
  t.deepEqual(await d.client.call('Start'), { state: 'DAEMON_STATE_RUNNING' });
  const result = await reader.done;
  t.is(result.code, 0);
  t.is(result.out, 'read while stopped\n');
});

e2e('Exit ends the daemon with status 0 and leaves the mount in place', async (t) => {
  const d = await startNydusd(t);
  await d.waitState('DAEMON_STATE_RUNNING');
  t.deepEqual(await d.client.call('Exit'), { state: 'DAEMON_STATE_STOPPED' });
  const exit = await d.exited;
  t.deepEqual(exit, { code: 0, signal: null });
  t.true(isMounted(d.mnt), 'the mount is still there for a successor');
  await new Promise((resolve) => execFile('umount', ['-l', d.mnt], resolve));
  t.false(isMounted(d.mnt));
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  e2e(`${signal} unmounts and exits 0`, async (t) => {
    const d = await startNydusd(t);
    await d.waitState('DAEMON_STATE_RUNNING');
    t.true(isMounted(d.mnt));
    d.proc.kill(signal);
    t.deepEqual(await d.exited, { code: 0, signal: null });
    t.false(isMounted(d.mnt));
    t.false(fs.existsSync(d.sock), 'the API socket is removed');
  });
}

e2e('Mount and Umount a passthrough_fs at /sub while / is served', async (t) => {
  const d = await startNydusd(t);
  await d.waitState('DAEMON_STATE_RUNNING');
  const subDir = path.join(d.dir, 'second');
  fs.mkdirSync(subDir);
  fs.writeFileSync(path.join(subDir, 'inner.txt'), 'second filesystem\n');
  const mount = { fs_type: 'passthrough_fs', source: subDir, mountpoint: '/sub', config: '' };
  const { index } = await d.client.call<{ index: number }>('Mount', mount);
  t.true(index > 1);
  t.is(fs.readFileSync(path.join(d.mnt, 'sub', 'inner.txt'), 'utf8'), 'second filesystem\n');
  t.is(fs.readFileSync(path.join(d.mnt, 'hello.txt'), 'utf8'), 'hello from the shared dir\n');
  const exists = await d.client.call('Mount', mount).catch((err) => err);
  t.is(exists.code, status.ALREADY_EXISTS);

  // Busy while a file is open in it, like the kernel's EBUSY.
  const holder = spawn('sh', ['-c', `exec 3<"${path.join(d.mnt, 'sub', 'inner.txt')}"; exec sleep 30`], { stdio: 'ignore' });
  t.teardown(() => void holder.kill('SIGKILL'));
  await sleep(300);
  const busy = await d.client.call('Umount', { mountpoint: '/sub' }).catch((err) => err);
  t.is(busy.code, status.FAILED_PRECONDITION, busy.details);
  holder.kill('SIGKILL');
  await new Promise((resolve) => holder.once('exit', resolve));
  // The kernel sends RELEASE asynchronously once the last reference is gone.
  let umounted: unknown;
  for (let attempt = 0; attempt < 40 && umounted === undefined; attempt++) {
    umounted = await d.client.call('Umount', { mountpoint: '/sub' }).catch(async (err) => {
      if (err.code !== status.FAILED_PRECONDITION) throw err;
      await sleep(50);
      return undefined;
    });
  }
  t.deepEqual(umounted, {});
  t.false(fs.existsSync(path.join(d.mnt, 'sub', 'inner.txt')));
  t.is(fs.readFileSync(path.join(d.mnt, 'hello.txt'), 'utf8'), 'hello from the shared dir\n');
  // A new instance at the same path gets a new index and the new files.
  fs.writeFileSync(path.join(subDir, 'inner.txt'), 'remounted\n');
  const again = await d.client.call<{ index: number }>('Mount', mount);
  t.true(again.index > index);
  t.is(fs.readFileSync(path.join(d.mnt, 'sub', 'inner.txt'), 'utf8'), 'remounted\n');
});

e2e('malformed and invalid requests get INVALID_ARGUMENT and the daemon keeps serving', async (t) => {
  const d = await startNydusd(t);
  await d.waitState('DAEMON_STATE_RUNNING');
  const garbage = await new Promise<{ code?: number }>((resolve) =>
    d.client.raw.makeUnaryRequest('/nydus.daemon.v1.Daemon/Mount', (b: Buffer) => b, (b: Buffer) => b, Buffer.from([0xff, 0xff]), (err) =>
      resolve({ code: err?.code }),
    ),
  );
  t.is(garbage.code, status.INVALID_ARGUMENT);
  const missing = await d.client.call('Mount', { fs_type: 'passthrough_fs', source: '/does/not/exist', mountpoint: '/x' }).catch((err) => err);
  t.is(missing.code, status.INVALID_ARGUMENT);
  t.regex(missing.details, /does not exist/);
  const rafs = await d.client.call('Mount', { fs_type: 'rafs', source: path.join(d.shared, 'hello.txt'), mountpoint: '/r' }).catch((err) => err);
  t.not(rafs.code, status.UNKNOWN);
  t.not(rafs.code, undefined);
  t.is(fs.readFileSync(path.join(d.mnt, 'hello.txt'), 'utf8'), 'hello from the shared dir\n');
  t.is((await d.client.call<{ state: string }>('ExportInfo')).state, 'DAEMON_STATE_RUNNING');
});

e2e('--upgrade without a takeover stays INIT and exits on SIGTERM without mounting', async (t) => {
  const d = await startNydusd(t, ['--id', 'd1', '--supervisor', '/nonexistent/sup.sock', '--upgrade']);
  await d.waitState('DAEMON_STATE_INIT');
  t.false(isMounted(d.mnt));
  const takeover = await d.client.call('Takeover').catch((err) => err);
  t.truthy(takeover.code, 'takeover fails without a supervisor listening');
  t.is((await d.client.call<{ state: string }>('ExportInfo')).state, 'DAEMON_STATE_INIT', 'a failed takeover leaves INIT');
  d.proc.kill('SIGTERM');
  t.deepEqual(await d.exited, { code: 0, signal: null });
});

e2e('1,000 concurrent ExportInfo calls on a real daemon while Stop/Start cycle and a reader reads', async (t) => {
  const d = await startNydusd(t);
  await d.waitState('DAEMON_STATE_RUNNING');
  let cycling = true;
  const cycles = (async () => {
    let n = 0;
    while (cycling) {
      await d.client.call('Stop');
      await sleep(5);
      await d.client.call('Start');
      n++;
    }
    return n;
  })();
  const reads = (async () => {
    let n = 0;
    while (cycling) {
      const { code, out } = await cat(path.join(d.mnt, 'hello.txt')).done;
      if (code !== 0 || out !== 'hello from the shared dir\n') throw new Error(`read failed: ${code} ${out}`);
      n++;
    }
    return n;
  })();
  const infos = await Promise.all(Array.from({ length: 1000 }, () => d.client.call<{ state: string }>('ExportInfo', { include_fs_info: true })));
  cycling = false;
  const [cycleCount, readCount] = await Promise.all([cycles, reads]);
  t.true(infos.every((info) => info.state === 'DAEMON_STATE_RUNNING' || info.state === 'DAEMON_STATE_READY'));
  t.true(cycleCount >= 1 && readCount >= 1, `${cycleCount} stop/start cycles, ${readCount} reads`);
  t.is((await d.client.call<{ state: string }>('ExportInfo')).state, 'DAEMON_STATE_RUNNING');
});

e2e('start-up failures end with status 1 and say what was wrong', async (t) => {
  const run = (args: string[]) =>
    new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(process.execPath, [NYDUSD, ...args], { timeout: 20_000 }, (err, _stdout, stderr) =>
        resolve({ code: err ? Number(err.code) : 0, stderr }),
      ),
    );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nydusd-fail-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const noMountpoint = await run(['--mountpoint', path.join(dir, 'missing'), '--shared-dir', dir]);
  t.is(noMountpoint.code, 1);
  t.regex(noMountpoint.stderr, /^nydusd: .*missing does not exist/m);
  const noSharedDir = await run(['--mountpoint', dir, '--shared-dir', path.join(dir, 'nothing-here')]);
  t.is(noSharedDir.code, 1);
  t.regex(noSharedDir.stderr, /^nydusd: The passthrough_fs source .*nothing-here does not exist/m);
  t.false(isMounted(dir));
});

e2e('SIGTERM while stopped unmounts, exits 0 and releases the waiting reader with an error', async (t) => {
  const d = await startNydusd(t);
  await d.waitState('DAEMON_STATE_RUNNING');
  await d.client.call('Stop');
  const reader = cat(path.join(d.mnt, 'later.txt'));
  await sleep(300);
  t.true(reader.running());
  d.proc.kill('SIGTERM');
  t.deepEqual(await d.exited, { code: 0, signal: null });
  const result = await reader.done;
  t.not(result.code, 0, 'the reader fails instead of hanging');
  t.false(isMounted(d.mnt));
});
