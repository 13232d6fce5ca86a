import test from 'ava';
import * as fs from 'fs';
import * as path from 'path';
import { decodeHandover, encodeHandover, HandoverDecodeError } from '../../daemon/src/upgrade/state-codec';
import { encodeMessage } from '../../daemon/src/upgrade/proto';
import { HANDOVER_VERSION } from '../../daemon/src/upgrade/state-types';
import { sampleState } from './helpers/sample-state';

const FIXTURE = path.resolve(__dirname, '../../../test/fixtures/handover-v1.bin');

test('encodeHandover() then decodeHandover() gives back every field', (t) => {
  const state = sampleState();
  state.mounts.push({ ...state.mounts[1], mountpoint: '/old', vfsIndex: 3, kernelRefs: 5, retired: true }); // a retired image
  const decoded = decodeHandover(encodeHandover(state));
  t.is(decoded.version, HANDOVER_VERSION);
  for (const key of ['daemonId', 'argv', 'binary', 'apiSock', 'pid', 'sequence', 'createdUnixMs', 'vfsNextIndex', 'mountpoint', 'journalPath', 'vfsNamespace'] as const) {
    t.deepEqual(decoded.state[key], state[key], key);
  }
  t.deepEqual(decoded.state.fuse, state.fuse);
  t.deepEqual(decoded.state.filesystems[0].passthrough, state.filesystems[0].passthrough);
  t.deepEqual(decoded.state.filesystems[1].rafs?.imageDigest, state.filesystems[1].rafs?.imageDigest);
  t.deepEqual(decoded.state.mounts, state.mounts);
  t.deepEqual(decoded.state.fds, state.fds);
});

test('a state of more than 1 MiB round-trips', (t) => {
  const state = sampleState({ nodes: 20_000 });
  const bytes = encodeHandover(state);
  t.true(bytes.length > 1024 * 1024, `encoded ${bytes.length} bytes`);
  const decoded = decodeHandover(bytes);
  t.is(decoded.state.filesystems[0].passthrough?.nodes.length, 20_000);
  t.deepEqual(decoded.state.filesystems[0].passthrough?.nodes[19_999], state.filesystems[0].passthrough?.nodes[19_999]);
});

test('decodeHandover() refuses a flipped byte (checksum)', (t) => {
  const bytes = encodeHandover(sampleState());
  const index = bytes.length - 40;
  bytes[index] ^= 0x40;
  const err = t.throws(() => decodeHandover(bytes), { instanceOf: HandoverDecodeError });
  t.regex(err.message, /checksum|decode/);
});

test('decodeHandover() refuses a wrong magic, a future version and garbage', (t) => {
  const body = encodeMessage('HandoverState', sampleState());
  const wrongMagic = encodeMessage('HandoverEnvelope', { magic: 0x12345678, version: 2, sha256: Buffer.alloc(32), body });
  t.throws(() => decodeHandover(wrongMagic), { message: /magic/ });
  t.throws(() => decodeHandover(encodeHandover(sampleState(), HANDOVER_VERSION + 1)), { message: /version 3/ });
  t.throws(() => decodeHandover(encodeHandover(sampleState(), 0)), { message: /version 0/ });
  t.throws(() => decodeHandover(Buffer.from('definitely not protobuf \xff\xff\xff\xff')), { instanceOf: HandoverDecodeError });
});

test('the version-1 fixture still decodes, migrated to the current shape', (t) => {
  const decoded = decodeHandover(fs.readFileSync(FIXTURE));
  t.is(decoded.version, 1);
  const expected = sampleState({ journalPath: '' });
  t.is(decoded.state.journalPath, '', 'v1 had no journal');
  t.is(decoded.state.daemonId, expected.daemonId);
  t.deepEqual(decoded.state.fuse, expected.fuse);
  t.deepEqual(decoded.state.mounts, expected.mounts);
  t.deepEqual(decoded.state.filesystems[0].passthrough, expected.filesystems[0].passthrough);
  t.deepEqual(decoded.state.fds, expected.fds);
});
