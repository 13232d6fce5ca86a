/**
 * Request metrics per filesystem instance and opcode: counts, errors, latency (sum, max, log2 histogram in
 * microseconds), bytes read and written, and requests in flight. Cheap enough to record on every request.
 */
import { Opcode, opcodeName } from '../abi/opcodes';

export interface OpStats {
  count: number;
  errors: number;
  totalNs: number;
  maxNs: number;
  /** buckets[i] counts latencies in [2^(i-1), 2^i) microseconds */
  buckets: number[];
}

export interface InstanceStats {
  ops: Map<number, OpStats>;
  bytesRead: number;
  bytesWritten: number;
  errors: number;
  /** READs answered by the read threads (transport/read-threads.ts) rather than the main thread; also in ops. */
  readsOnThreads: number;
}

export interface OpSnapshot {
  opcode: string;
  count: number;
  errors: number;
  avgUs: number;
  maxUs: number;
  p99Us: number;
}

export interface MetricsSnapshot {
  instance: number;
  bytesRead: number;
  bytesWritten: number;
  errors: number;
  readsOnThreads: number;
  ops: OpSnapshot[];
}

const BUCKETS = 32;

/** Requests the kernel sends on its own, not on behalf of an application. */
const KERNEL_HOUSEKEEPING = new Set<number>([Opcode.INIT, Opcode.FORGET, Opcode.BATCH_FORGET, Opcode.INTERRUPT, Opcode.DESTROY]);

export class FuseMetrics {
  private readonly instances = new Map<number, InstanceStats>();
  inFlight = 0;
  /** Requests made on behalf of applications (all but INIT, FORGET, BATCH_FORGET, INTERRUPT, DESTROY). */
  applicationRequests = 0;

  /** Called before every snapshot: counters kept elsewhere (the read threads) are merged in here. */
  beforeSnapshot: (() => void) | undefined;

  record(instance: number, opcode: number, ns: number, errno: number, bytes: number): void {
    if (!KERNEL_HOUSEKEEPING.has(opcode)) this.applicationRequests++;
    const s = this.instanceStats(instance);
    const op = opStats(s, opcode);
    op.count++;
    op.totalNs += ns;
    if (ns > op.maxNs) op.maxNs = ns;
    const us = ns / 1000;
    op.buckets[Math.min(BUCKETS - 1, us < 1 ? 0 : Math.floor(Math.log2(us)) + 1)]++;
    if (errno) {
      op.errors++;
      s.errors++;
    }
    if (opcode === Opcode.READ) s.bytesRead += bytes;
  }

  /** Adds READs the read threads answered: `buckets` as OpStats.buckets. */
  recordThreadReads(instance: number, reads: Omit<OpStats, 'buckets'> & { bytes: number; buckets: ArrayLike<number> }): void {
    this.applicationRequests += reads.count;
    const s = this.instanceStats(instance);
    const op = opStats(s, Opcode.READ);
    op.count += reads.count;
    op.errors += reads.errors;
    op.totalNs += reads.totalNs;
    op.maxNs = Math.max(op.maxNs, reads.maxNs);
    for (let i = 0; i < BUCKETS; i++) op.buckets[i] += reads.buckets[i] ?? 0;
    s.errors += reads.errors;
    s.bytesRead += reads.bytes;
    s.readsOnThreads += reads.count;
  }

  private instanceStats(instance: number): InstanceStats {
    let s = this.instances.get(instance);
    if (!s) {
      s = { ops: new Map(), bytesRead: 0, bytesWritten: 0, errors: 0, readsOnThreads: 0 };
      this.instances.set(instance, s);
    }
    return s;
  }

  recordWrite(instance: number, bytes: number): void {
    const s = this.instances.get(instance);
    if (s) s.bytesWritten += bytes;
  }

  snapshot(instance?: number): MetricsSnapshot[] {
    this.beforeSnapshot?.();
    const out: MetricsSnapshot[] = [];
    for (const [index, s] of this.instances) {
      if (instance !== undefined && index !== instance) continue;
      const ops: OpSnapshot[] = [];
      for (const [opcode, op] of s.ops) {
        ops.push({
          opcode: opcodeName(opcode),
          count: op.count,
          errors: op.errors,
          avgUs: op.count ? op.totalNs / op.count / 1000 : 0,
          maxUs: op.maxNs / 1000,
          p99Us: percentileUs(op, 0.99),
        });
      }
      ops.sort((a, b) => b.count - a.count);
      out.push({
        instance: index, bytesRead: s.bytesRead, bytesWritten: s.bytesWritten, errors: s.errors,
        readsOnThreads: s.readsOnThreads, ops,
      });
    }
    return out;
  }
}

function opStats(s: InstanceStats, opcode: number): OpStats {
  let op = s.ops.get(opcode);
  if (!op) {
    op = { count: 0, errors: 0, totalNs: 0, maxNs: 0, buckets: new Array(BUCKETS).fill(0) };
    s.ops.set(opcode, op);
  }
  return op;
}

function percentileUs(op: OpStats, q: number): number {
  const target = op.count * q;
  let seen = 0;
  for (let i = 0; i < BUCKETS; i++) {
    seen += op.buckets[i];
    if (seen >= target) return i === 0 ? 1 : 2 ** i;
  }
  return op.maxNs / 1000;
}
