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
