import { status } from '@grpc/grpc-js';
import test from 'ava';
import * as fs from 'fs';
import { setLogLevel, getLogLevel } from '../../daemon/src/log';
import { fakeBackends } from '../service/fakes';
import { callError, startHarness } from './harness';

setLogLevel('error');

test('ExportInfo reports version, identity, state and the backends with secrets stripped', async (t) => {
  const h = await startHarness(t);
  await h.daemon.mount({ fsType: 'passthrough_fs', source: h.dir, config: '{"writable":false,"password":"p"}', mountpoint: '/sub', prefetchFiles: ['/a'] });
  const info = await h.client.call<Record<string, any>>('ExportInfo', { include_fs_info: true });
  t.is(info.id, 'daemon-1');
  t.is(info.state, 'DAEMON_STATE_RUNNING');
  t.is(info.version.node, process.version);
  t.regex(info.version.package_ver, /^\d+\.\d+\.\d+/);
  t.regex(info.version.git_commit, /^([0-9a-f]{40}|unknown)$/);
  t.false(Number.isNaN(Date.parse(info.version.build_time)));
  t.is(info.pid, process.pid);
  t.deepEqual(Object.keys(info.backend_collection).sort(), ['/', '/sub']);
  const sub = info.backend_collection['/sub'];
  t.is(sub.backend_type, 'passthrough_fs');
  t.is(sub.config, '{"writable":false}');
  t.deepEqual(sub.prefetch_files, ['/a']);
  t.false(Number.isNaN(Date.parse(sub.mounted_time)));
  const brief = await h.client.call<Record<string, any>>('ExportInfo', { include_fs_info: false });
  t.deepEqual(brief.backend_collection, {});
});

test('the socket is mode 0600', async (t) => {
  const h = await startHarness(t);
  t.is(fs.statSync(h.socketPath).mode & 0o777, 0o600);
});

test('lifecycle RPCs return the new state; refused events are FAILED_PRECONDITION', async (t) => {
  const h = await startHarness(t);
  t.deepEqual(await h.client.call('Stop'), { state: 'DAEMON_STATE_READY' });
  t.deepEqual(await h.client.call('Start'), { state: 'DAEMON_STATE_RUNNING' });
  const refused = await callError(h.client.call('Start'));
  t.is(refused.code, status.FAILED_PRECONDITION);
  t.regex(refused.details, /Start is not accepted in state RUNNING/);
  const takeover = await callError(h.client.call('Takeover'));
  t.is(takeover.code, status.FAILED_PRECONDITION);
  t.deepEqual(await h.client.call('ExportInfo'), await h.client.call('ExportInfo'));
});

test('Takeover and SendFuseFd without a supervisor are UNIMPLEMENTED', async (t) => {
  const h = await startHarness(t, { upgrade: true });
  const takeover = await callError(h.client.call('Takeover'));
  t.is(takeover.code, status.UNIMPLEMENTED);
  t.regex(takeover.details, /supervisor/);
  t.is((await h.client.call<{ state: string }>('ExportInfo')).state, 'DAEMON_STATE_INIT');
  const sendfd = await callError(h.client.call('SendFuseFd'));
  t.is(sendfd.code, status.UNAVAILABLE, 'no session yet in INIT');
});

test('Takeover with start: true takes over and starts serving in one call; without it the daemon stays READY', async (t) => {
  for (const start of [true, false]) {
    let harness: Awaited<ReturnType<typeof startHarness>> | undefined;
    harness = await startHarness(t, {
      upgrade: true,
      upgradeManager: { sendState: async () => undefined, restore: async (d) => d.adoptSession(harness!.parts.session) },
    });
    const reply = await harness.client.call('Takeover', { start });
    t.deepEqual(reply, { state: start ? 'DAEMON_STATE_RUNNING' : 'DAEMON_STATE_READY' });
  }
});

test('Exit answers, then the daemon dies without unmounting', async (t) => {
  const h = await startHarness(t);
  const died = new Promise((resolve) => h.daemon.once('die', resolve));
  t.deepEqual(await h.client.call('Exit'), { state: 'DAEMON_STATE_STOPPED' });
  t.deepEqual(await died, { unmounted: false });
  t.deepEqual(h.parts.session.calls, ['start', 'stop', 'close']);
});

test('Mount and Umount map errors to NOT_FOUND, ALREADY_EXISTS, INVALID_ARGUMENT', async (t) => {
  const h = await startHarness(t);
  const mount = (fields: Record<string, unknown>) =>
    h.client.call('Mount', { fs_type: 'passthrough_fs', source: h.dir, mountpoint: '/sub', ...fields });
  t.deepEqual(await mount({}), { index: 1 });
  t.is((await callError(mount({}))).code, status.ALREADY_EXISTS);
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ fs_type: 'overlay', mountpoint: '/o' }, /Unsupported filesystem type "overlay"/],
    [{ fs_type: '', mountpoint: '/o' }, /fs_type is required/],
    [{ source: '', mountpoint: '/o' }, /source is required/],
    [{ mountpoint: '' }, /mountpoint is required/],
    [{ mountpoint: 'rel' }, /must start with "\/"/],
    [{ mountpoint: '/a/../b' }, /"\.\." parts are not allowed/],
    [{ mountpoint: '/o', config: '{not json' }, /config is not valid JSON/],
    [{ mountpoint: '/o', config: '[1]' }, /must be a JSON object/],
    [{ mountpoint: '/o', prefetch_files: ['relative'] }, /prefetch_files must list absolute paths/],
  ];
  for (const [fields, message] of cases) {
    const err = await callError(mount(fields));
    t.is(err.code, status.INVALID_ARGUMENT, JSON.stringify(fields));
    t.regex(err.details, message);
  }
  const missing = await callError(h.client.call('Umount', { mountpoint: '/nothing' }));
  t.is(missing.code, status.NOT_FOUND);
  t.regex(missing.details, /No filesystem is mounted at \/nothing/);
  h.parts.vfs.busy.add('/sub');
  const busy = await callError(h.client.call('Umount', { mountpoint: '/sub' }));
  t.is(busy.code, status.FAILED_PRECONDITION);
  h.parts.vfs.busy.clear();
  t.deepEqual(await h.client.call('Umount', { mountpoint: '/sub' }), {});
});

test('an unexpected backend failure is INTERNAL with its message, never UNKNOWN', async (t) => {
  const h = await startHarness(t, {
    createBackend: async (command) => {
      if (command.mountpoint !== '/') throw new Error('disk on fire');
      return fakeBackends(command);
    },
  });
  const err = await callError(h.client.call('Mount', { fs_type: 'rafs', source: '/x', mountpoint: '/r' }));
  t.deepEqual(err, { code: status.INTERNAL, details: 'disk on fire' });
});

test('malformed request bytes get INVALID_ARGUMENT and the daemon keeps serving', async (t) => {
  const h = await startHarness(t);
  const send = (method: string, bytes: Buffer) =>
    new Promise<{ code: number; details: string }>((resolve) => {
      h.client.raw.makeUnaryRequest(
        `/nydus.daemon.v1.Daemon/${method}`,
        (b: Buffer) => b,
        (b: Buffer) => b,
        bytes,
        (e) => resolve({ code: e?.code ?? 0, details: e?.details ?? '' }),
      );
    });
  // Bytes that do not decode at all (truncated varints, invalid wire type).
  const undecodable = [Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.from([0x0f]), Buffer.from([0x08])];
  for (const method of ['Mount', 'ExportInfo', 'SetLogLevel', 'Umount', 'Start']) {
    for (const bytes of undecodable) {
      const err = await send(method, bytes);
      t.is(err.code, status.INVALID_ARGUMENT, `${method} ${bytes.toString('hex')}`);
      t.regex(err.details, new RegExp(`Malformed ${method} request`));
    }
  }
  // Bytes protobufjs decodes leniently (a string shorter than its length): the fields are then refused.
  for (const method of ['Mount', 'SetLogLevel', 'Umount']) {
    const err = await send(method, Buffer.from([0x0a, 0x05, 0x61]));
    t.is(err.code, status.INVALID_ARGUMENT, method);
  }
  t.is((await h.client.call<{ state: string }>('ExportInfo')).state, 'DAEMON_STATE_RUNNING');
});

test('SetLogLevel changes the level and rejects unknown levels', async (t) => {
  const h = await startHarness(t);
  t.deepEqual(await h.client.call('SetLogLevel', { level: 'DEBUG' }), { level: 'debug' });
  t.is(getLogLevel(), 'debug');
  const err = await callError(h.client.call('SetLogLevel', { level: 'loud' }));
  t.is(err.code, status.INVALID_ARGUMENT);
  t.regex(err.details, /Unknown log level "loud"/);
  setLogLevel('error');
});

test('GetMetrics reports per-filesystem figures and NOT_FOUND for an unknown mountpoint', async (t) => {
  const h = await startHarness(t);
  const metrics = await h.client.call<{ filesystems: Record<string, any>[] }>('GetMetrics', {});
  t.deepEqual(metrics.filesystems.map((fs) => fs.mountpoint), ['', '/']);
  const session = metrics.filesystems[0];
  t.is(session.bytes_read, 1244);
  t.is(session.bytes_written, 5);
  t.is(session.in_flight, 2);
  t.is(session.reads_on_threads, 2, 'over the wire (proto field 8)');
  t.deepEqual(session.opcodes, [
    { opcode: 'LOOKUP', count: 4, errors: 1, latency_avg_us: 10, latency_max_us: 20, latency_p99_us: 32 },
    { opcode: 'READ', count: 3, errors: 0, latency_avg_us: 5, latency_max_us: 8, latency_p99_us: 8 },
  ]);
  const only = await h.client.call<{ filesystems: unknown[] }>('GetMetrics', { mountpoint: '/' });
  t.is(only.filesystems.length, 1);
  t.is((await callError(h.client.call('GetMetrics', { mountpoint: '/zz' }))).code, status.NOT_FOUND);
});

test('1,000 concurrent ExportInfo calls all succeed while Stop/Start events fire', async (t) => {
  const h = await startHarness(t);
  h.parts.session.stopDelayMs = 2;
  let cycling = true;
  const cycles = (async () => {
    let n = 0;
    while (cycling) {
      await h.client.call('Stop');
      await h.client.call('Start');
      n++;
    }
    return n;
  })();
  const infos = await Promise.all(
    Array.from({ length: 1000 }, () => h.client.call<{ state: string; id: string }>('ExportInfo', { include_fs_info: true })),
  );
  cycling = false;
  const n = await cycles;
  t.is(infos.length, 1000);
  t.true(infos.every((info) => info.id === 'daemon-1'));
  t.true(infos.every((info) => info.state === 'DAEMON_STATE_RUNNING' || info.state === 'DAEMON_STATE_READY'));
  t.true(n >= 1, `${n} stop/start cycles ran during the calls`);
  t.is((await h.client.call<{ state: string }>('ExportInfo')).state, 'DAEMON_STATE_RUNNING');
});

test('a stale socket file is replaced; a live one is refused', async (t) => {
  const h = await startHarness(t);
  const { startApiServer } = await import('../../daemon/src/api/server');
  const err = await t.throwsAsync(startApiServer({ socketPath: h.socketPath, control: h.daemon }));
  t.regex(err?.message ?? '', /Another process is listening/);
  await h.server.close();
  // A socket file with no listener (as a killed daemon leaves behind).
  const { native } = await import('../../daemon/src/native');
  const fd = native.unixListen(h.socketPath, 1);
  t.true(fd >= 0);
  native.close(fd);
  t.true(fs.existsSync(h.socketPath));
  const again = await startApiServer({ socketPath: h.socketPath, control: h.daemon });
  t.is((await h.client.call<{ id: string }>('ExportInfo')).id, 'daemon-1');
  await again.close();
});
