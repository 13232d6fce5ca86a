/**
 * Turns the FUSE session's request metrics (kept per VFS instance index, see server/metrics.ts) into the reports
 * GetMetrics returns: one for the whole session (mountpoint "", sums over all instances, requests in flight) and
 * one per mounted filesystem. Reading only: the counters live where requests are served.
 */
import type { MetricsSnapshot, OpSnapshot } from '../server/metrics';

export interface OpcodeReport {
  count: number;
  errors: number;
  avgUs: number;
  maxUs: number;
  p99Us: number;
}

export interface FsMetricsReport {
  /** "" for the whole session, else the instance's mountpoint. */
  mountpoint: string;
  backendType: string;
  opcodes: Record<string, OpcodeReport>;
  bytesRead: number;
  bytesWritten: number;
  errors: number;
  /** READs answered off the main thread (they are in opcodes.READ too). */
  readsOnThreads: number;
  /** Only known for the whole session (0 on per-filesystem reports). */
  inFlight: number;
}

export interface MetricsSource {
  snapshot(instance?: number): MetricsSnapshot[];
  inFlight: number;
  applicationRequests?: number;
}

function addOp(into: Record<string, OpcodeReport>, op: OpSnapshot): void {
  const prev = into[op.opcode];
  if (!prev) {
    into[op.opcode] = { count: op.count, errors: op.errors, avgUs: op.avgUs, maxUs: op.maxUs, p99Us: op.p99Us };
    return;
  }
  const count = prev.count + op.count;
  into[op.opcode] = {
    count,
    errors: prev.errors + op.errors,
    avgUs: count ? (prev.avgUs * prev.count + op.avgUs * op.count) / count : 0,
    maxUs: Math.max(prev.maxUs, op.maxUs),
    p99Us: Math.max(prev.p99Us, op.p99Us), // an upper bound once instances are merged
  };
}

/** Sums snapshots into one report. */
export function mergeSnapshots(mountpoint: string, backendType: string, snapshots: MetricsSnapshot[], inFlight = 0): FsMetricsReport {
  const report: FsMetricsReport = {
    mountpoint, backendType, opcodes: {}, bytesRead: 0, bytesWritten: 0, errors: 0, readsOnThreads: 0, inFlight,
  };
  for (const snapshot of snapshots) {
    report.bytesRead += snapshot.bytesRead;
    report.bytesWritten += snapshot.bytesWritten;
    report.errors += snapshot.errors;
    report.readsOnThreads += snapshot.readsOnThreads;
    for (const op of snapshot.ops) addOp(report.opcodes, op);
  }
  return report;
}

export function metricsReports(
  source: MetricsSource | undefined,
  instances: { index: number; mountpoint: string; info: { fsType: string } }[],
): FsMetricsReport[] {
  if (!source) return instances.map((instance) => mergeSnapshots(instance.mountpoint, instance.info.fsType, []));
  const reports = [mergeSnapshots('', 'session', source.snapshot(), source.inFlight)];
  for (const instance of instances) {
    reports.push(mergeSnapshots(instance.mountpoint, instance.info.fsType, source.snapshot(instance.index)));
  }
  return reports;
}
