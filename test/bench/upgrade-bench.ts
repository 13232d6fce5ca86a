#!/usr/bin/env node
/**
 * Upgrade and failover stall benchmark: a passthrough_fs mount under nydus-supervisor with readers running
 * (one re-opening and reading whole files, one reading a file it holds open), then N hot upgrades and N
 * SIGKILLs. For each event, the stall is the longest reader operation that was in progress during it
 * (for failover: from the kill until the first answered request). Prints p50 / p99 / max per kind, and as a
 * baseline the same figure for windows of the same length with no handover (what the readers see anyway).
 * usage: node dist/test/bench/upgrade-bench.js [--runs N] [--json]
 */
import { supervisorCli } from '../supervisor/helpers/cli';
import { sleep } from '../supervisor/helpers/harness';
import { SupervisedMount, WorkloadResult } from '../supervisor/helpers/supervised-mount';

type EventKind = 'upgrade' | 'failover' | 'idle';
interface Event { kind: EventKind; from: number; to: number; reported: number; steps?: Record<string, number> }

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Longest operation overlapping [from, to]: started before `to` and ended after `from`. */
function stallDuring(results: WorkloadResult[], from: number, to: number): number {
  let worst = 0;
  for (const r of results) {
    for (let i = 0; i < r.starts.length; i++) {
      const start = r.starts[i];
      const end = start + r.latencies[i];
      if (start <= to && end >= from) worst = Math.max(worst, r.latencies[i]);
    }
  }
  return worst;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const runsIndex = argv.indexOf('--runs');
  const runs = runsIndex >= 0 ? Number(argv[runsIndex + 1]) : 20;
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs needs a positive integer');
  const m = new SupervisedMount('bench');
  const events: Event[] = [];
  let results: WorkloadResult[] = [];
  let errors = 0;
  try {
    await m.start();
    await m.startWorkload(['reader', 'holder']);
    await sleep(1500); // let the standby successor come up
    for (let i = 0; i < runs; i++) {
      const from = Date.now();
      const r = supervisorCli(['restart', '--sock', m.sock, m.id, '--json']);
      const to = Date.now();
      if (r.code !== 0) throw new Error(`restart failed: ${r.stderr}${r.stdout}`);
      const handover = JSON.parse(r.stdout) as { durationMs: number; steps?: Record<string, number> };
      events.push({ kind: 'upgrade', from, to, reported: handover.durationMs, steps: handover.steps });
      await sleep(1200);
      const idleFrom = Date.now();
      await sleep(to - from);
      events.push({ kind: 'idle', from: idleFrom, to: Date.now(), reported: NaN });
    }
    for (let i = 0; i < runs; i++) {
      const victim = m.view().pid;
      const from = Date.now();
      process.kill(victim, 'SIGKILL');
      const view = await m.waitReplaced(victim);
      events.push({ kind: 'failover', from, to: Date.now(), reported: view.lastHandover?.durationMs ?? NaN });
      await sleep(1200);
    }
    const outcome = await m.stopWorkload();
    results = outcome.results;
    errors = results.reduce((n, r) => n + r.errorCount, 0) + outcome.hung.length;
  } finally {
    await m.close();
  }
  const report: Record<string, unknown> = { runs, failedSyscalls: errors };
  for (const kind of ['upgrade', 'failover', 'idle'] as const) {
    const stalls = events.filter((e) => e.kind === kind).map((e) => stallDuring(results, e.from, e.to)).sort((a, b) => a - b);
    const handover = events.filter((e) => e.kind === kind).map((e) => e.reported).sort((a, b) => a - b);
    report[kind] = {
      stallMs: { p50: percentile(stalls, 50), p99: percentile(stalls, 99), max: stalls[stalls.length - 1] },
      handoverMs: { p50: percentile(handover, 50), p99: percentile(handover, 99), max: handover[handover.length - 1] },
    };
  }
  if (argv.includes('--json')) {
    console.log(JSON.stringify(report));
    return;
  }
  const fmt = (n: number) => (Number.isNaN(n) ? '-' : n.toFixed(1)).padStart(7);
  console.log(`nydus upgrade/failover benchmark: ${runs} runs each, passthrough_fs, ${errors} failed syscalls`);
  console.log('                 reader stall (ms)            supervisor handover (ms)');
  console.log('kind         p50     p99     max          p50     p99     max');
  for (const kind of ['upgrade', 'failover', 'idle'] as const) {
    const k = report[kind] as { stallMs: Record<string, number>; handoverMs: Record<string, number> };
    console.log(`${kind.padEnd(9)}${fmt(k.stallMs.p50)} ${fmt(k.stallMs.p99)} ${fmt(k.stallMs.max)}      ${fmt(k.handoverMs.p50)} ${fmt(k.handoverMs.p99)} ${fmt(k.handoverMs.max)}`);
  }
  const steps = new Map<string, number[]>();
  for (const e of events) for (const [step, ms] of Object.entries(e.steps ?? {})) steps.set(step, [...(steps.get(step) ?? []), ms]);
  if (steps.size > 0) {
    const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
    console.log(`upgrade steps (ms, p50/max): ${[...steps].map(([step, ms]) => `${step} ${percentile(sorted(ms), 50)}/${sorted(ms).pop()}`).join(', ')}`);
  }
}

main().catch((err: Error) => {
  console.error(`upgrade-bench: ${err.message}`);
  process.exit(1);
});
