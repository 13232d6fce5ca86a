import test from 'ava';
import { NydusError } from '../../daemon/src/errors';
import {
  DaemonState,
  daemonStateFromNumber,
  daemonStateName,
  parseFailoverPolicy,
  parseFsBackendType,
} from '../../daemon/src/service/types';

test('daemonStateFromNumber() follows the seed numbering', (t) => {
  t.is(daemonStateFromNumber(1), DaemonState.INIT);
  t.is(daemonStateFromNumber(2), DaemonState.RUNNING);
  t.is(daemonStateFromNumber(3), DaemonState.READY);
  t.is(daemonStateFromNumber(4), DaemonState.STOPPED);
  for (const other of [0, 5, 6, -1, 100, 2.5, NaN]) t.is(daemonStateFromNumber(other), DaemonState.UNKNOWN, `${other}`);
  t.is(daemonStateName(daemonStateFromNumber(2)), 'RUNNING');
  t.is(daemonStateName(daemonStateFromNumber(9)), 'UNKNOWN');
});

test('parseFsBackendType() accepts rafs and passthrough_fs only', (t) => {
  t.is(parseFsBackendType('rafs'), 'rafs');
  t.is(parseFsBackendType('passthrough_fs'), 'passthrough_fs');
  for (const bad of ['', 'Rafs', 'passthrough', 'passthroughfs', 'overlay', 'rafs ']) {
    const err = t.throws(() => parseFsBackendType(bad), { instanceOf: NydusError }, bad);
    t.is(err?.code, 'InvalidArguments');
    t.true(err?.message.includes(`"${bad}"`));
  }
});

test('parseFailoverPolicy() accepts none, resend, flush', (t) => {
  t.is(parseFailoverPolicy('none'), 'none');
  t.is(parseFailoverPolicy('resend'), 'resend');
  t.is(parseFailoverPolicy('flush'), 'flush');
  t.throws(() => parseFailoverPolicy('always'), { message: /Unknown failover policy "always"/ });
});
