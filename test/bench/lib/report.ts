/**
 * Turns matrix results into the comparison table: one row per workload, one column per target's median figure,
 * then cost factors of a subject against baselines (how many times the subject's cost is the baseline's: time
 * ratio for time workloads, inverse IOPS ratio for rate workloads, so above 1.00x always means slower), and a
 * flag where the subject is slower than the chosen baseline, saying whether its runs paired with the baseline's
 * show a real loss or noise (lib/paired.ts).
 */
import { pairedRuns, slowerFlag } from './paired';
import { MatrixResults } from './runner';
import { Column, formatDuration, formatFactor, formatRate, formatTable } from './table';
import { Workload } from './workloads';

export interface ComparisonSpec {
  targets: readonly string[];
  /** The target being judged, e.g. "ours". */
  subject: string;
  /** Targets to compare the subject with, one factor column each. */
  baselines: readonly string[];
  /** Flag rows where the subject is slower than this target. */
  flagAgainst?: string;
}

/** How many times the subject's cost is the baseline's (>1 means the subject is slower). */
export function costFactor(workload: Workload, subject: number, baseline: number): number {
  return workload.metric === 'time' ? subject / baseline : baseline / subject;
}

function figure(workload: Workload, value: number | undefined, error: string | undefined): string {
  if (error !== undefined) return 'error';
  if (value === undefined) return '-';
  return workload.metric === 'time' ? formatDuration(value) : formatRate(value, 'IOPS');
}

function flagText(workload: Workload, results: MatrixResults, factor: number | undefined, subject: string, against: string): string {
  if (results.error(workload.id, subject) !== undefined) return `<- ${subject} failed`;
  return slowerFlag(against, factor, pairedRuns(workload, results.values(workload.id, subject), results.values(workload.id, against)));
}

export function comparisonTable(workloads: readonly Workload[], results: MatrixResults, spec: ComparisonSpec): string {
  const columns: Column[] = [
    { header: 'workload (median)' },
    ...spec.targets.map((t) => ({ header: t, align: 'right' as const })),
    ...spec.baselines.map((b) => ({ header: `${spec.subject}/${b}`, align: 'right' as const })),
    ...(spec.flagAgainst ? [{ header: '' }] : []),
  ];
  const rows = workloads.map((w) => {
    const subject = results.median(w.id, spec.subject);
    const factor = (b: string) => {
      const base = results.median(w.id, b);
      return subject !== undefined && base !== undefined ? costFactor(w, subject, base) : undefined;
    };
    const flagFactor = spec.flagAgainst ? factor(spec.flagAgainst) : undefined;
    return [
      w.label,
      ...spec.targets.map((t) => figure(w, results.median(w.id, t), results.error(w.id, t))),
      ...spec.baselines.map((b) => { const f = factor(b); return f === undefined ? undefined : formatFactor(f); }),
      ...(spec.flagAgainst ? [flagText(w, results, flagFactor, spec.subject, spec.flagAgainst)] : []),
    ];
  });
  return formatTable(columns, rows);
}

/** The errors behind "error" cells, one line each. */
export function errorNotes(workloads: readonly Workload[], results: MatrixResults, targets: readonly string[]): string[] {
  return workloads.flatMap((w) => targets.flatMap((t) => {
    const e = results.error(w.id, t);
    return e === undefined ? [] : [`${w.id} on ${t}: ${e.split('\n')[0].slice(0, 300)}`];
  }));
}
