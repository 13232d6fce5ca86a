/**
 * The real thing: nydusd serving passthrough_fs under the supervisor, a continuous mixed workload on the mount
 * (readers, a writer, a lister, a process holding a file open and one holding an unlinked file open, O_DIRECT
 * readers the daemon's read threads serve), then hot
 * upgrades, SIGKILLs at random moments and a supervisor restart. Zero failed syscalls, nothing hung, data
 * verified, the mount alive at the end. Rounds: NYDUS_HANDOVER_ROUNDS (default 20).
 */
import test from 'ava';
import * as fs from 'fs';
import * as path from 'path';
import { connectDaemon } from '../../daemon/src/api/client';
import { NYDUSD_NODE_OPTIONS } from '../../daemon/src/cli/node-options';
import { supervisorCli } from './helpers/cli';
import { sleep } from './helpers/harness';
import { SupervisedMount, WorkloadResult } from './helpers/supervised-mount';
import { SEED_SIZE, seedContent } from './helpers/workload';

const ROUNDS = Number(process.env.NYDUS_HANDOVER_ROUNDS ?? 20);
const ROLES = ['reader', 'reader', 'writer', 'lister', 'holder', 'unlinked', 'direct-reader'];

function summarise(t: { log(...v: unknown[]): void }, results: WorkloadResult[]): void {
  for (const r of results) t.log(`${r.role}: ${r.ops} ops, ${r.errorCount} errors, longest ${r.maxMs.toFixed(1)} ms ${r.errors.slice(0, 3).join('; ')}`);
}

function assertClean(t: { is(a: unknown, b: unknown, m?: string): void; deepEqual(a: unknown, b: unknown, m?: string): void; true(v: boolean, m?: string): void }, outcome: { results: WorkloadResult[]; hung: string[] }): void {
  t.deepEqual(outcome.hung, [], 'no workload process hung');
  t.is(outcome.results.length, ROLES.length, 'every role reported');
  for (const r of outcome.results) {
    t.deepEqual(r.errors, [], `${r.role}: no failed or wrong syscall`);
    t.true(r.ops > 0, `${r.role} did work`);
  }
}

test.serial(`passthrough_fs: ${ROUNDS} hot upgrades under load`, async (t) => {
  const m = new SupervisedMount('up');
  t.teardown(() => m.close());
  await m.start();
  await m.startWorkload(ROLES);
  const durations: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const before = m.view().pid;
    const r = supervisorCli(['restart', '--sock', m.sock, m.id, '--json']);
    t.is(r.code, 0, r.stderr + r.stdout);
    const report = JSON.parse(r.stdout) as { ok: boolean; durationMs: number; fromPid: number; toPid: number };
    t.true(report.ok);
    t.is(report.fromPid, before);
    t.not(report.toPid, before);
    durations.push(report.durationMs);
    await sleep(50 + Math.random() * 250);
  }
  const outcome = await m.stopWorkload();
  summarise(t, outcome.results);
  t.log(`handover durations (ms): ${durations.join(', ')}`);
  assertClean(t, outcome);
  t.deepEqual(fs.readFileSync(path.join(m.mnt, 'seed-3')), seedContent(3), 'the mount is alive at the end');
  const argv = fs.readFileSync(`/proc/${m.view().pid}/cmdline`, 'utf8').split('\0');
  const script = argv.findIndex((a) => a.endsWith('nydusd.js'));
  t.deepEqual(argv.slice(1, script), [...NYDUSD_NODE_OPTIONS], 'the successor runs under nydusd\'s Node.js options');
});

test.serial(`passthrough_fs: ${ROUNDS} SIGKILLs at random moments under load`, async (t) => {
  const m = new SupervisedMount('kill');
  t.teardown(() => m.close());
  await m.start();
  await m.startWorkload(ROLES);
  const failovers: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    await sleep(100 + Math.random() * 600);
    const victim = m.view().pid;
    process.kill(victim, 'SIGKILL');
    const view = await m.waitReplaced(victim);
    t.true(view.lastHandover?.ok, view.lastHandover?.message);
    failovers.push(view.lastHandover?.durationMs ?? -1);
  }
  const outcome = await m.stopWorkload();
  summarise(t, outcome.results);
  t.log(`failover durations (ms): ${failovers.join(', ')}`);
  assertClean(t, outcome);
  t.deepEqual(fs.readFileSync(path.join(m.mnt, 'seed-5')), seedContent(5), 'the mount is alive at the end');
});

test.serial('passthrough_fs: the supervisor restarts while the daemon serves; the daemon can still be upgraded', async (t) => {
  const m = new SupervisedMount('suprestart');
  t.teardown(() => m.close());
  await m.start();
  await m.startWorkload(ROLES);
  await sleep(300);
  await m.restartServe();
  const r = supervisorCli(['restart', '--sock', m.sock, m.id]);
  t.is(r.code, 0, r.stderr + r.stdout);
  t.regex(r.stdout, /upgraded up|upgraded suprestart/);
  await sleep(300);
  const victim = m.view().pid;
  process.kill(victim, 'SIGKILL');
  const view = await m.waitReplaced(victim);
  t.true(view.lastHandover?.ok, view.lastHandover?.message);
  const outcome = await m.stopWorkload();
  summarise(t, outcome.results);
  assertClean(t, outcome);
});

test.serial('passthrough_fs: a successor that fails to take over is rolled back; the old daemon keeps serving', async (t) => {
  const m = new SupervisedMount('rollback');
  t.teardown(() => m.close());
  await m.start();
  await m.startWorkload(ROLES);
  const before = m.view().pid;
  const broken = path.resolve(__dirname, 'helpers/broken-successor.js');
  const r = supervisorCli(['restart', '--sock', m.sock, m.id, '--binary', broken, '--json']);
  t.is(r.code, 1, 'restart reports the failure');
  const report = JSON.parse(r.stdout) as { ok: boolean; message: string };
  t.false(report.ok);
  t.regex(report.message, /Takeover failed|refused|no state|Cannot connect/i);
  t.regex(report.message, /old daemon was started again/);
  const view = m.view();
  t.is(view.pid, before, 'the old daemon still serves');
  t.is(view.status, 'running');
  const again = supervisorCli(['restart', '--sock', m.sock, m.id]);
  t.is(again.code, 0, 'a later upgrade with the good binary works: ' + again.stderr);
  const outcome = await m.stopWorkload();
  summarise(t, outcome.results);
  assertClean(t, outcome);
});

test.serial('passthrough_fs: an O_DIRECT file held open across a hot upgrade is read on the successor\'s read threads', async (t) => {
  const m = new SupervisedMount('direct');
  t.teardown(() => m.close());
  const apiSock = path.join(m.dir, 'api.sock');
  await m.start(['--shared-dir', m.share, '--writable', '--apisock', apiSock]);
  const fd = fs.openSync(path.join(m.mnt, 'seed-2'), fs.constants.O_RDONLY | fs.constants.O_DIRECT);
  t.teardown(() => fs.closeSync(fd));
  const buf = Buffer.alloc(4096);
  const readPages = (): void => {
    for (let i = 0; i < 200; i++) {
      const off = (i % (SEED_SIZE / 4096)) * 4096;
      fs.readSync(fd, buf, 0, buf.length, off);
      if (!buf.equals(seedContent(2).subarray(off, off + 4096))) throw new Error(`wrong bytes at ${off}`);
    }
  };
  readPages();
  const r = supervisorCli(['restart', '--sock', m.sock, m.id]);
  t.is(r.code, 0, r.stderr + r.stdout);
  readPages();
  const client = connectDaemon(apiSock);
  t.teardown(() => client.close());
  const metrics = await client.call<{ filesystems: Array<{ mountpoint: string; reads_on_threads: number }> }>('GetMetrics');
  const session = metrics.filesystems.find((f) => f.mountpoint === '')!;
  t.true(session.reads_on_threads > 0, `the successor's threads answered ${session.reads_on_threads} of 200 READs`);
  t.log(`READs answered by the successor's read threads: ${session.reads_on_threads} of 200`);
});
