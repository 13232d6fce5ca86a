import test from 'ava';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CleanupRegistry } from './cleanup';
import { summarizeCpuProfile, listCpuProfiles } from './cpu-profile';
import { generateDataset } from './dataset';
import { pairedRuns, signTestP, slowerFlag } from './paired';
import { comparisonTable, costFactor } from './report';
import { MatrixResults, rotated, runMatrix, runOnce } from './runner';
import { formatTable } from './table';
import { median, timeShell } from './timing';
import { fioReadIops, standardWorkloads, STANDARD_WORKLOAD_IDS, Workload } from './workloads';

function scratch(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-lib-test-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const timeWorkload = { id: 'w', label: 'w', metric: 'time', cold: false } as Workload;
const iopsWorkload = { id: 'r', label: 'r', metric: 'iops', cold: false } as Workload;

test('formatTable() pads every column to its widest cell and prints missing cells as "-"', (t) => {
  const text = formatTable([{ header: 'name' }, { header: 'n', align: 'right' }], [['a', '1'], ['long name', undefined]]);
  t.deepEqual(text.split('\n'), ['name       n', '---------  -', 'a          1', 'long name  -']);
});

test('median() takes the middle value, or the mean of the two middle ones, and refuses no values', (t) => {
  t.is(median([5, 1, 3]), 3);
  t.is(median([4, 1, 3, 2]), 2.5);
  t.throws(() => median([]), { message: /no values/ });
});

test('rotated() starts from the turn\'s item and wraps around', (t) => {
  t.deepEqual(rotated(['a', 'b', 'c'], 0), ['a', 'b', 'c']);
  t.deepEqual(rotated(['a', 'b', 'c'], 4), ['b', 'c', 'a']);
  t.deepEqual(rotated([], 3), []);
});

test('runMatrix() runs a workload runsPerRep times per repetition, each run starting from the next target', async (t) => {
  const order: string[] = [];
  const workload: Workload = {
    id: 'w', label: 'w', metric: 'time', cold: false, runsPerRep: 2,
    command: (root) => { order.push(root); return 'true'; },
    evaluate: () => undefined,
  };
  const targets = ['a', 'b', 'c'].map((name) => ({ name, root: name }));
  const results = await runMatrix([workload], targets, { reps: 2, dropCaches: false });
  t.is(order.join(''), 'abcbcacababc');
  t.is(results.values('w', 'a').length, 4);
});

test('costFactor() is above 1 whenever the subject is slower, for times and for rates', (t) => {
  t.is(costFactor(timeWorkload, 300, 100), 3);
  t.is(costFactor(iopsWorkload, 1000, 4000), 4);
  t.true(costFactor(iopsWorkload, 4000, 1000) < 1);
});

test('comparisonTable() flags rows where the subject is slower than the baseline or failed', (t) => {
  const results = new MatrixResults();
  for (let i = 0; i < 6; i++) {
    results.add('w', 'base', 100 + i);
    results.add('w', 'ours', 150 + i);
  }
  results.add('r', 'base', 1000);
  results.fail('r', 'ours', 'EINVAL');
  const lines = comparisonTable([timeWorkload, iopsWorkload], results, { targets: ['base', 'ours'], subject: 'ours', baselines: ['base'], flagAgainst: 'base' }).split('\n');
  t.regex(lines[2], /^w .*103 ms .*153 ms .*1\.49x .*<- slower than base \(in 6 of 6 runs\)$/);
  t.regex(lines[3], /^r .*1,000 IOPS .*error .*<- ours failed$/);
});

test('signTestP() is the exact two-sided sign test', (t) => {
  t.is(signTestP(0, 0), 1);
  t.is(signTestP(5, 5), 1);
  t.is(signTestP(10, 0), 2 / 1024);
  t.is(signTestP(0, 10), 2 / 1024);
  // P(X <= 2) for n = 10: (1 + 10 + 45) / 1024, doubled.
  t.true(Math.abs(signTestP(8, 2) - 112 / 1024) < 1e-12);
  t.true(signTestP(300, 200) < 1e-5);
});

test('pairedRuns() counts the pairs the subject lost by cost, for times and rates, and refuses unequal runs', (t) => {
  t.deepEqual(pairedRuns(timeWorkload, [10, 20, 30, 40], [11, 19, 30, 39]), { slower: 2, faster: 1, p: 1 });
  t.like(pairedRuns(iopsWorkload, [100, 100, 100], [200, 200, 50]), { slower: 2, faster: 1 });
  t.is(pairedRuns(timeWorkload, [1, 2], [1]), undefined);
  t.is(pairedRuns(timeWorkload, [], []), undefined);
});

test('slowerFlag() calls a loss real only when the pairs say so, and says nothing when the subject is not slower', (t) => {
  t.is(slowerFlag('peer', 0.9, { slower: 9, faster: 0, p: 0.004 }), '');
  t.is(slowerFlag('peer', 1.2, { slower: 9, faster: 0, p: 0.004 }), '<- slower than peer (in 9 of 9 runs)');
  t.is(slowerFlag('peer', 1.03, { slower: 8, faster: 7, p: 1 }), '~ peer: slower in 8 of 15 runs, within noise (p 1.00)');
  t.is(slowerFlag('peer', 1.2, undefined), '<- slower than peer');
  t.is(slowerFlag('peer', 1.5, { slower: 3, faster: 0, p: 0.25 }), '<- slower than peer (in 3 of 3 runs: too few pairs to test)');
});

test('CleanupRegistry runs each step once, newest first, and goes on past a failing step', async (t) => {
  const order: string[] = [];
  const cleanup = new CleanupRegistry();
  cleanup.add('a', () => { order.push('a'); });
  cleanup.add('b', () => { order.push('b'); throw new Error('boom'); });
  const early = cleanup.add('c', () => { order.push('c'); });
  await early();
  await Promise.all([cleanup.run(), cleanup.run()]);
  await early();
  t.deepEqual(order, ['c', 'b', 'a']);
});

test('the find and lstat workloads count exactly the entries generateDataset() says it made', async (t) => {
  const root = scratch(t);
  const dataset = generateDataset(root, { smallFiles: 250, bigFileBytes: 3 << 20, fanout: 3 });
  t.is(fs.statSync(path.join(root, dataset.bigFile)).size, 3 << 20);
  const workloads = standardWorkloads(dataset, { fioSeconds: 1 });
  t.deepEqual(workloads.map((w) => w.id), [...STANDARD_WORKLOAD_IDS]);
  for (const id of ['find', 'lstat', 'tar', 'dd']) {
    const w = workloads.find((x) => x.id === id)!;
    t.true((await runOnce(w, { name: 'kernel', root }, { dropCaches: false })) > 0, id);
  }
  fs.writeFileSync(path.join(root, 'extra'), 'x');
  const find = workloads.find((w) => w.id === 'find')!;
  await t.throwsAsync(runOnce(find, { name: 'kernel', root }, { dropCaches: false }), { message: /expected \d+, got "\d+"/ });
});

test('timeShell() fails a pipeline whose first command fails (pipefail)', async (t) => {
  await t.throwsAsync(timeShell('ls /nonexistent-dir-for-bench | wc -l'), { message: /exit 2/ });
});

test('fioReadIops() reads a real fio run and rejects output without JSON', async (t) => {
  if (spawnSync('bash', ['-c', 'command -v fio']).status !== 0) {
    t.log('fio is not installed: skipped');
    t.pass();
    return;
  }
  const file = path.join(scratch(t), 'f');
  fs.writeFileSync(file, Buffer.alloc(4 << 20, 1));
  const run = await timeShell(`fio --name=r --filename=${file} --rw=randread --bs=4k --runtime=1 --time_based --numjobs=2 --output-format=json`);
  t.true(fioReadIops(run.stdout) > 0);
  t.throws(() => fioReadIops('fio: nothing'), { message: /no JSON/ });
});

test('summarizeCpuProfile() ranks the hot function of a real profile first, and a window can exclude every sample', (t) => {
  const dir = scratch(t);
  const script = 'function hotLoop(){let x=0;for(let i=0;i<3e8;i++)x+=i%7;return x}hotLoop()';
  const r = spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '-e', script]);
  t.is(r.status, 0);
  const [file] = listCpuProfiles(dir);
  const summary = summarizeCpuProfile(file);
  const top = summary.functions.filter((f) => !f.where.startsWith('(')).sort((a, b) => b.selfMs - a.selfMs)[0];
  t.regex(top.where, /^hotLoop /);
  t.true(top.selfMs > summary.sampledMs / 2);
  t.is(summarizeCpuProfile(file, '', { fromUs: 0, toUs: 1 }).sampledMs, 0);
});
