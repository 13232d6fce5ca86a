/**
 * Runs every workload on every target, N times, interleaved (rep 1 of each workload on each target, then rep
 * 2...) so drift on the machine spreads over all targets alike; a workload with runsPerRep runs that many times
 * per repetition, each run on every target in turn. The order of the targets rotates from one run to the next,
 * so that no target is always the first to read after what the previous workload left behind. Before each cold
 * run the target's host files are read through, then caches are dropped (timing.ts dropCachesAfterReading). A
 * failing run is recorded as that cell's error and the matrix goes on. Returns raw samples; no formatting.
 */
import { dropCachesAfterReading, median, timeShell } from './timing';
import { Workload } from './workloads';

export interface Target {
  name: string;
  root: string;
  /** What the target serves from on the host, read through before each cold run (timing.ts dropCachesAfterReading). */
  hostFiles?: readonly string[];
  /** For a server process: why it is gone (undefined while it runs), and its recent output. */
  exitStatus?(): string | undefined;
  output?(): string;
}

/** Names a dead server in an error, with the end of its output. */
function explainFailure(target: Target, message: string): string {
  const gone = target.exitStatus?.();
  if (gone === undefined) return message;
  const tail = target.output?.().trim().split('\n').slice(-5).join('\n') ?? '';
  return `the ${target.name} server is gone (${gone}); its last output:\n${tail}\n(the workload said: ${message})`;
}

export interface MatrixOptions {
  reps: number;
  /** One untimed run of each (workload, target) first, e.g. to warm a JIT (default false). */
  warmup?: boolean;
  /** When false, cold workloads run warm (no permission to drop caches). */
  dropCaches: boolean;
  timeoutMs?: number;
  progress?: (message: string) => void;
}

export class MatrixResults {
  private readonly samples = new Map<string, number[]>();
  private readonly errors = new Map<string, string>();

  private static key(workload: string, target: string): string {
    return `${workload}\u0000${target}`;
  }

  add(workload: string, target: string, value: number): void {
    const k = MatrixResults.key(workload, target);
    this.samples.set(k, [...(this.samples.get(k) ?? []), value]);
  }

  fail(workload: string, target: string, message: string): void {
    this.errors.set(MatrixResults.key(workload, target), message);
  }

  /** All samples of a cell (ms for time workloads, the parsed figure otherwise). */
  values(workload: string, target: string): number[] {
    return this.samples.get(MatrixResults.key(workload, target)) ?? [];
  }

  /** The median, or undefined when the cell failed or has no samples. */
  median(workload: string, target: string): number | undefined {
    if (this.error(workload, target) !== undefined) return undefined;
    const v = this.values(workload, target);
    return v.length > 0 ? median(v) : undefined;
  }

  error(workload: string, target: string): string | undefined {
    return this.errors.get(MatrixResults.key(workload, target));
  }
}

/** `items` starting from the one at `turn` (modulo their count), then the rest in order, wrapping around. */
export function rotated<T>(items: readonly T[], turn: number): T[] {
  const k = items.length === 0 ? 0 : turn % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/** Runs one workload once on one target and returns its figure. */
export async function runOnce(workload: Workload, target: Target, opts: Pick<MatrixOptions, 'dropCaches' | 'timeoutMs'>): Promise<number> {
  if (workload.cold && opts.dropCaches) dropCachesAfterReading(target.hostFiles ?? []);
  const run = await timeShell(workload.command(target.root), { timeoutMs: opts.timeoutMs });
  const figure = workload.evaluate(run.stdout);
  return workload.metric === 'time' ? run.ms : figure!;
}

export async function runMatrix(workloads: readonly Workload[], targets: readonly Target[], opts: MatrixOptions): Promise<MatrixResults> {
  const results = new MatrixResults();
  const attempt = async (w: Workload, t: Target, record: boolean) => {
    if (results.error(w.id, t.name) !== undefined) return;
    const gone = t.exitStatus?.();
    if (gone !== undefined) return results.fail(w.id, t.name, `the ${t.name} server is gone (${gone})`);
    try {
      const value = await runOnce(w, t, opts);
      if (record) results.add(w.id, t.name, value);
    } catch (err) {
      const message = explainFailure(t, (err as Error).message);
      results.fail(w.id, t.name, message);
      opts.progress?.(`  ${w.id} on ${t.name} failed: ${message}`);
    }
  };
  if (opts.warmup) {
    opts.progress?.('warm-up: one untimed run of each workload on each target');
    for (const w of workloads) for (const t of targets) await attempt(w, t, false);
  }
  let turn = 0;
  for (let rep = 1; rep <= opts.reps; rep++) {
    opts.progress?.(`repetition ${rep}/${opts.reps}`);
    for (const w of workloads) {
      for (let run = 0; run < (w.runsPerRep ?? 1); run++) for (const t of rotated(targets, turn++)) await attempt(w, t, true);
      const cells = targets.map((t) => `${t.name}=${results.values(w.id, t.name).at(-1)?.toFixed(0) ?? 'x'}`);
      opts.progress?.(`  ${w.id.padEnd(6)} ${cells.join(' ')}${w.metric === 'time' ? ' (ms)' : ' (IOPS)'}`);
    }
  }
  return results;
}
