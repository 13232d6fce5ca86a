/**
 * Whether a median that came out above the peer's is a loss or the machine's noise. The benchmarks run every
 * target once per round, one after the other (lib/runner.ts, rafs-bench-matrix.ts), so run i of the subject and
 * run i of a peer met the same moment of the machine: a pair. Counting the pairs the subject lost, and asking how
 * likely that many losses would be if each pair were a coin toss (the exact two-sided sign test), tells a real
 * loss from a row that falls either side of 1.00x from one run to the next. Pure functions, no I/O.
 */
import { Workload } from './workloads';

export interface PairedRuns {
  /** Pairs in which the subject cost more than the peer (took longer, or made fewer IOPS). */
  slower: number;
  /** Pairs in which it cost less. Equal figures count as neither. */
  faster: number;
  /** Two-sided sign-test p-value of that split: small means the subject really is slower (or faster). */
  p: number;
}

/** What the flags mean, for the benchmarks' legends. */
export const FLAG_LEGEND = 'Where ours is slower, its runs are paired with the peer\'s (run i of each, taken in the same round):'
  + ' "<- slower than" when ours lost more pairs than chance would give (sign test, p < 0.05) or there are too few pairs'
  + ' to test (under 6), "~ peer ... within noise" when not.';

/** Below this p-value a split of the pairs is called a real difference rather than noise. */
export const SIGNIFICANT_P = 0.05;

/** P(X <= k) for X ~ Binomial(n, 1/2), summed in log space so that n in the hundreds stays exact enough. */
function binomialHalfCdf(k: number, n: number): number {
  let logChoose = 0;
  let sum = 0;
  for (let i = 0; i <= k; i++) {
    if (i > 0) logChoose += Math.log(n - i + 1) - Math.log(i);
    sum += Math.exp(logChoose - n * Math.LN2);
  }
  return sum;
}

/** The exact two-sided sign test of `slower` against `faster` (ties already left out). */
export function signTestP(slower: number, faster: number): number {
  const n = slower + faster;
  if (n === 0) return 1;
  return Math.min(1, 2 * binomialHalfCdf(Math.min(slower, faster), n));
}

/**
 * Pairs the subject's runs with the peer's by index and counts who won each pair; undefined when the two do not
 * have the same number of runs (a failed cell), since their indexes then no longer meet.
 */
export function pairedRuns(workload: Workload, subject: readonly number[], peer: readonly number[]): PairedRuns | undefined {
  if (subject.length === 0 || subject.length !== peer.length) return undefined;
  let slower = 0;
  let faster = 0;
  subject.forEach((s, i) => {
    const costlier = workload.metric === 'time' ? s > peer[i] : s < peer[i];
    const cheaper = workload.metric === 'time' ? s < peer[i] : s > peer[i];
    if (costlier) slower++;
    else if (cheaper) faster++;
  });
  return { slower, faster, p: signTestP(slower, faster) };
}

/**
 * The flag of a row whose median factor against `peer` is `factor` (> 1: the subject slower): "<- slower than
 * bindfs (in 12 of 15 runs)" when the pairs say so, "~ bindfs: slower in 8 of 15 runs, within noise (p 0.61)" when
 * they do not; empty when the subject is not slower. Below 6 pairs no split is significant (2 of 32 is 0.0625), so
 * such a row keeps its flag and says it could not be tested.
 */
export function slowerFlag(peer: string, factor: number | undefined, runs: PairedRuns | undefined): string {
  if (factor === undefined || !(factor > 1)) return '';
  if (runs === undefined) return `<- slower than ${peer}`;
  const split = `${runs.slower} of ${runs.slower + runs.faster} runs`;
  if (signTestP(runs.slower + runs.faster, 0) >= SIGNIFICANT_P) return `<- slower than ${peer} (in ${split}: too few pairs to test)`;
  return runs.p < SIGNIFICANT_P && runs.slower > runs.faster
    ? `<- slower than ${peer} (in ${split})`
    : `~ ${peer}: slower in ${split}, within noise (p ${runs.p.toFixed(2)})`;
}
