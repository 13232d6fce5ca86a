import test from 'ava';
import { Opcode } from '../../daemon/src/abi/opcodes';
import { FuseMetrics } from '../../daemon/src/server/metrics';

test('requests the kernel sends on its own do not count as application requests', (t) => {
  const m = new FuseMetrics();
  for (const op of [Opcode.INIT, Opcode.FORGET, Opcode.BATCH_FORGET, Opcode.INTERRUPT, Opcode.DESTROY]) m.record(0, op, 1000, 0, 0);
  t.is(m.applicationRequests, 0);
  m.record(0, Opcode.LOOKUP, 1000, 2, 0); // a failed lookup is still an application's request
  m.record(1, Opcode.GETATTR, 1000, 0, 0);
  t.is(m.applicationRequests, 2);
});

test('READs answered by the read threads are merged into READ when a snapshot is taken', (t) => {
  const m = new FuseMetrics();
  m.record(2, Opcode.READ, 3000, 0, 4096); // 3 us: bucket 2
  const buckets = new Array(32).fill(0);
  buckets[1] = 9; // 1-2 us
  buckets[4] = 1; // 8-16 us
  let pulls = 0;
  m.beforeSnapshot = () => {
    if (pulls++ === 0) m.recordThreadReads(2, { count: 10, errors: 1, bytes: 9 * 4096, totalNs: 20_000, maxNs: 9000, buckets });
  };
  const [s] = m.snapshot(2);
  t.like(s, { instance: 2, bytesRead: 10 * 4096, errors: 1, readsOnThreads: 10 });
  t.like(s.ops.find((op) => op.opcode === 'READ'), { count: 11, errors: 1, avgUs: 23_000 / 11 / 1000, maxUs: 9, p99Us: 16 });
  t.is(m.applicationRequests, 11);
  t.like(m.snapshot(2)[0], { readsOnThreads: 10 }, 'counted once');
});
