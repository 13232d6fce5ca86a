/**
 * The rafs benchmark's measuring loop and its table. Each (workload, peer) pair gets a fresh start of the peer
 * (empty daemon caches), a page-cache drop, one COLD run and one WARM run right after it; then the peer is
 * stopped (a workload with runsPerRep does that many times per repetition, peers in turn). Repetitions interleave
 * peers so machine drift spreads over all of them, and the peers' order rotates from one run to the next, so that
 * none is always the first to read after a cache drop (see lib/runner.ts). The table has one row set per
 * variant of ours, rows = workload x cold/warm, columns = each peer's median figure and ours' cost factors, and
 * a flag where ours is slower than squashfuse, saying whether the paired runs show a real loss (lib/paired.ts).
 */
import { CleanupRegistry } from './lib/cleanup';
import { pairedRuns, slowerFlag } from './lib/paired';
import { costFactor } from './lib/report';
import { MatrixResults, rotated } from './lib/runner';
import { Column, formatDuration, formatFactor, formatRate, formatTable } from './lib/table';
import { dropCachesAfterReading, timeShell } from './lib/timing';
import { Workload } from './lib/workloads';
import { MountedPeer, PeerSpec } from './rafs-bench-peers';

export type Phase = 'cold' | 'warm';
export const PHASES: readonly Phase[] = ['cold', 'warm'];

/** The results key of a workload in one phase. */
export function cellId(workload: Workload, phase: Phase): string {
  return `${workload.id}:${phase}`;
}

/** Runs a workload once over `root`; its figure (ms for time workloads, IOPS otherwise). Throws if it fell short. */
export async function measure(workload: Workload, root: string, timeoutMs: number): Promise<number> {
  const run = await timeShell(workload.command(root), { timeoutMs });
  const figure = workload.evaluate(run.stdout);
  return workload.metric === 'time' ? run.ms : figure!;
}

export interface ColdWarmOptions {
  reps: number;
  dropCaches: boolean;
  timeoutMs: number;
  progress: (message: string) => void;
}

function shortFigure(w: Workload, v: number | undefined): string {
  if (v === undefined) return 'x';
  return w.metric === 'time' ? `${v.toFixed(0)}ms` : `${v.toFixed(0)}iops`;
}

/** Starts a peer; one retry after a second, so a passing hiccup (e.g. a rebuild of dist/) costs no cell. */
async function startWithRetry(peer: PeerSpec, cleanup: CleanupRegistry, progress: (m: string) => void): Promise<MountedPeer> {
  try {
    return await peer.start(cleanup);
  } catch (err) {
    progress(`  ${peer.name} did not start (${(err as Error).message.split('\n')[0]}); retrying once`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return peer.start(cleanup);
  }
}

/** One fresh start of `peer`: a cold run of `w`, a warm one, stop. Failures become the cells' errors. */
async function coldThenWarm(w: Workload, peer: PeerSpec, results: MatrixResults, cleanup: CleanupRegistry,
  opts: ColdWarmOptions): Promise<string> {
  if (results.error(cellId(w, 'cold'), peer.name) !== undefined) return `${peer.name}=x/x`;
  let mounted: MountedPeer | undefined;
  let phase: Phase = 'cold';
  try {
    mounted = await startWithRetry(peer, cleanup, opts.progress);
    for (phase of PHASES) {
      if (phase === 'cold' && opts.dropCaches) dropCachesAfterReading(peer.hostFiles);
      results.add(cellId(w, phase), peer.name, await measure(w, mounted.root, opts.timeoutMs));
    }
  } catch (err) {
    const message = (err as Error).message;
    for (const p of PHASES.slice(PHASES.indexOf(phase))) results.fail(cellId(w, p), peer.name, message);
    opts.progress(`  ${w.id} ${phase} on ${peer.name} failed: ${message.split('\n')[0]}`);
  } finally {
    await mounted?.stop();
  }
  const cold = results.values(cellId(w, 'cold'), peer.name).at(-1);
  const warm = results.values(cellId(w, 'warm'), peer.name).at(-1);
  return `${peer.name}=${shortFigure(w, cold)}/${shortFigure(w, warm)}`;
}

export async function runColdWarm(
  workloads: readonly Workload[], peers: readonly PeerSpec[], cleanup: CleanupRegistry, opts: ColdWarmOptions,
): Promise<MatrixResults> {
  const results = new MatrixResults();
  let turn = 0;
  for (let rep = 1; rep <= opts.reps; rep++) {
    opts.progress(`repetition ${rep}/${opts.reps}`);
    for (const w of workloads) {
      for (let run = 0; run < (w.runsPerRep ?? 1); run++) {
        const line: string[] = [];
        for (const peer of rotated(peers, turn++)) line.push(await coldThenWarm(w, peer, results, cleanup, opts));
        opts.progress(`  ${w.id.padEnd(6)} cold/warm ${line.join(' ')}`);
      }
    }
  }
  return results;
}

function figure(w: Workload, results: MatrixResults, cell: string, peer: string): string {
  if (results.error(cell, peer) !== undefined) return 'error';
  const v = results.median(cell, peer);
  if (v === undefined) return '-';
  return w.metric === 'time' ? formatDuration(v) : formatRate(v, 'IOPS');
}

export interface TableSpec {
  kernel: string;
  squashfuse: string;
  /** Our variants, one row set each. */
  ours: readonly PeerSpec[];
}

/** The subject's cost factor against a baseline in one cell (>1 = ours slower), or undefined. */
export function factorOf(w: Workload, results: MatrixResults, cell: string, ours: string, baseline: string): number | undefined {
  const s = results.median(cell, ours);
  const b = results.median(cell, baseline);
  return s !== undefined && b !== undefined ? costFactor(w, s, b) : undefined;
}

export function rafsTable(workloads: readonly Workload[], results: MatrixResults, spec: TableSpec): string {
  const columns: Column[] = [
    { header: 'ours serves' }, { header: 'workload' }, { header: 'cache' },
    { header: spec.kernel, align: 'right' }, { header: spec.squashfuse, align: 'right' }, { header: 'ours', align: 'right' },
    { header: `ours/${spec.squashfuse}`, align: 'right' }, { header: `ours/${spec.kernel}`, align: 'right' }, { header: '' },
  ];
  const rows: string[][] = [];
  for (const ours of spec.ours) {
    let first = true;
    for (const w of workloads) {
      for (const phase of PHASES) {
        const cell = cellId(w, phase);
        const vsSquash = factorOf(w, results, cell, ours.name, spec.squashfuse);
        const vsKernel = factorOf(w, results, cell, ours.name, spec.kernel);
        rows.push([
          first ? ours.name : '', w.label, phase,
          figure(w, results, cell, spec.kernel), figure(w, results, cell, spec.squashfuse), figure(w, results, cell, ours.name),
          vsSquash === undefined ? '-' : formatFactor(vsSquash), vsKernel === undefined ? '-' : formatFactor(vsKernel),
          slowerFlag(spec.squashfuse, vsSquash, pairedRuns(w, results.values(cell, ours.name), results.values(cell, spec.squashfuse))),
        ]);
        first = false;
      }
    }
  }
  return formatTable(columns, rows);
}

/** The errors behind "error" cells, one line each. */
export function errorLines(workloads: readonly Workload[], results: MatrixResults, peers: readonly PeerSpec[]): string[] {
  return workloads.flatMap((w) => PHASES.flatMap((phase) => peers.flatMap((p) => {
    const e = results.error(cellId(w, phase), p.name);
    return e === undefined ? [] : [`${w.id} ${phase} on ${p.name}: ${e.split('\n')[0].slice(0, 300)}`];
  })));
}
