import test from 'ava';
import { setLogLevel } from '../../daemon/src/log';
import { Daemon, DieEvent } from '../../daemon/src/service/daemon';
import { validateSubMountpoint } from '../../daemon/src/service/mounts';
import { DaemonState } from '../../daemon/src/service/types';
import { fakeParts } from './fakes';

setLogLevel('error');

const rootCommand = { fsType: 'passthrough_fs' as const, source: '/tmp', config: '{"token":"x"}', mountpoint: '/', prefetchFiles: [] };

function makeDaemon(options: { upgrade?: boolean; supervisor?: string } = {}) {
  const parts = fakeParts();
  const daemon = new Daemon({ mountpoint: '/mnt/x', ...options, ...parts });
  const died: DieEvent[] = [];
  daemon.on('die', (event: DieEvent) => died.push(event));
  return { daemon, died, ...parts };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('bootstrap() mounts the root filesystem, mounts the session, then serves', async (t) => {
  const { daemon, session } = makeDaemon();
  await daemon.bootstrap(rootCommand);
  t.is(daemon.state, DaemonState.RUNNING);
  t.deepEqual(session.calls, ['start']);
  t.deepEqual(daemon.instances().map((instance) => instance.mountpoint), ['/']);
});

test('bootstrap() with upgrade stays INIT and mounts nothing', async (t) => {
  let mounted = false;
  const parts = fakeParts();
  const daemon = new Daemon({ ...parts, mountpoint: '/m', upgrade: true, mountSession: async () => ((mounted = true), parts.session) });
  await daemon.bootstrap(rootCommand);
  t.is(daemon.state, DaemonState.INIT);
  t.false(mounted);
  t.deepEqual(daemon.instances(), []);
});

test('Stop then Start stops and resumes serving, keeping the mount', async (t) => {
  const { daemon, session, died } = makeDaemon();
  await daemon.bootstrap(rootCommand);
  await daemon.stopService();
  t.is(daemon.state, DaemonState.READY);
  t.false(session.serving);
  await daemon.start();
  t.is(daemon.state, DaemonState.RUNNING);
  t.deepEqual(session.calls, ['start', 'stop', 'start']);
  await tick();
  t.deepEqual(died, []);
});

test('a failing session stop leaves the daemon RUNNING and Stop can be retried', async (t) => {
  const { daemon, session } = makeDaemon();
  await daemon.bootstrap(rootCommand);
  session.failStop = true;
  await t.throwsAsync(daemon.stopService(), { message: /Cannot stop serving: stop failed on purpose/ });
  t.is(daemon.state, DaemonState.RUNNING);
  session.failStop = false;
  await daemon.stopService();
  t.is(daemon.state, DaemonState.READY);
});

test('stop() from RUNNING is Stop then Stop: unmounts and dies', async (t) => {
  const { daemon, session, died } = makeDaemon();
  await daemon.bootstrap(rootCommand);
  await daemon.stop();
  await tick();
  t.is(daemon.state, DaemonState.STOPPED);
  t.deepEqual(session.calls, ['start', 'stop', 'umount']);
  t.deepEqual(died, [{ unmounted: true }]);
});

test('triggerExit() from RUNNING is Stop then Exit: closes without unmounting', async (t) => {
  const { daemon, session, died } = makeDaemon();
  await daemon.bootstrap(rootCommand);
  await daemon.triggerExit();
  await tick();
  t.is(daemon.state, DaemonState.STOPPED);
  t.deepEqual(session.calls, ['start', 'stop', 'close']);
  t.deepEqual(died, [{ unmounted: false }]);
});

test('triggerExit() right after a queued Stop still exits without unmounting', async (t) => {
  const { daemon, session, died } = makeDaemon();
  await daemon.bootstrap(rootCommand);
  session.stopDelayMs = 20;
  const stopped = daemon.stopService(); // RUNNING -> READY, still in progress
  await daemon.triggerExit(); // decided when its turn comes: READY -> Exit, not Stop (which would unmount)
  await stopped;
  await tick();
  t.deepEqual(session.calls, ['start', 'stop', 'close']);
  t.deepEqual(died, [{ unmounted: false }]);
});

test('stop() that fails half-way leaves the state where the failing event found it', async (t) => {
  const { daemon, session } = makeDaemon();
  await daemon.bootstrap(rootCommand);
  session.failStop = true;
  await t.throwsAsync(daemon.stop(), { message: /stop failed on purpose/ });
  t.is(daemon.state, DaemonState.RUNNING);
  session.failStop = false;
  await daemon.stop();
  t.is(daemon.state, DaemonState.STOPPED);
  t.deepEqual(session.calls, ['start', 'stop', 'stop', 'umount']);
});

test('triggerExit() from INIT is Stop (StopStateMachine)', async (t) => {
  const { daemon, died } = makeDaemon({ upgrade: true });
  await daemon.bootstrap();
  await daemon.triggerExit();
  await tick();
  t.is(daemon.state, DaemonState.STOPPED);
  t.deepEqual(died, [{ unmounted: false }]);
});

test('mount and umount wait for takeover in an upgrading daemon, and are refused after Die', async (t) => {
  const upgrading = makeDaemon({ upgrade: true });
  await upgrading.daemon.bootstrap();
  const early = await t.throwsAsync(upgrading.daemon.mount({ ...rootCommand, mountpoint: '/sub' }));
  t.is((early as { code?: string }).code, 'NotReady');
  t.regex(early?.message ?? '', /waiting for takeover/);
  const { daemon } = makeDaemon();
  await daemon.bootstrap(rootCommand);
  await daemon.triggerExit();
  const late = await t.throwsAsync(daemon.umount('/'));
  t.is((late as { code?: string }).code, 'NotReady');
});

test('takeover without a supervisor is Unsupported and leaves INIT', async (t) => {
  const { daemon } = makeDaemon({ upgrade: true });
  await daemon.bootstrap();
  const err = await t.throwsAsync(daemon.takeover());
  t.is((err as { code?: string }).code, 'Unsupported');
  t.is(daemon.state, DaemonState.INIT);
});

test('takeover runs the upgrade manager restore and reaches READY', async (t) => {
  const parts = fakeParts();
  const restored: string[] = [];
  const daemon = new Daemon({
    ...parts,
    mountpoint: '/m',
    upgrade: true,
    upgradeManager: {
      sendState: async () => undefined,
      restore: async (d) => {
        d.adoptSession(parts.session);
        restored.push(d.id);
      },
    },
    id: 'd1',
  });
  await daemon.bootstrap();
  await daemon.takeover();
  t.is(daemon.state, DaemonState.READY);
  t.is(daemon.session, parts.session);
  await daemon.start();
  t.is(daemon.state, DaemonState.RUNNING);
  t.deepEqual(restored, ['d1']);
});

test('with a supervisor, state is sent after INIT and after every mount and umount', async (t) => {
  const parts = fakeParts();
  const reasons: number[] = [];
  const daemon = new Daemon({
    ...parts,
    mountpoint: '/m',
    supervisor: '/run/sup.sock',
    id: 'd2',
    upgradeManager: { sendState: async () => void reasons.push(reasons.length), restore: async () => undefined },
  });
  await daemon.bootstrap(rootCommand); // root mount happens before the session exists: nothing to send yet
  await tick();
  t.is(reasons.length, 1, 'after INIT');
  await daemon.mount({ ...rootCommand, mountpoint: '/sub' });
  await daemon.umount('/sub');
  await tick();
  t.is(reasons.length, 3);
});

test('mount and umount of sub-filesystems, with clear errors', async (t) => {
  const { daemon, vfs } = makeDaemon();
  await daemon.bootstrap(rootCommand);
  t.is(await daemon.mount({ ...rootCommand, mountpoint: '/a' }), 1);
  const exists = await t.throwsAsync(daemon.mount({ ...rootCommand, mountpoint: '/a' }));
  t.is((exists as { code?: string }).code, 'AlreadyExists');
  const missing = await t.throwsAsync(daemon.umount('/nope'));
  t.is((missing as { code?: string }).code, 'NotFound');
  vfs.busy.add('/a');
  const busy = await t.throwsAsync(daemon.umount('/a'), { message: /Cannot unmount \/a: \/a is busy/ });
  t.truthy(busy);
  vfs.busy.clear();
  await daemon.umount('/a');
  t.is(await daemon.mount({ ...rootCommand, mountpoint: '/a' }), 2, 'indexes are not reused');
});

test('validateSubMountpoint() accepts / and plain absolute paths only', (t) => {
  for (const good of ['/', '/sub', '/a/b']) t.notThrows(() => validateSubMountpoint(good));
  for (const bad of ['', 'sub', '/a/../b', '/a//b', '/.', '/a/', '/x\0y', '/' + 'n'.repeat(256)]) {
    t.throws(() => validateSubMountpoint(bad), { message: /Invalid mountpoint/ }, JSON.stringify(bad));
  }
});

test('metrics() reports the session and each filesystem', async (t) => {
  const { daemon } = makeDaemon();
  await daemon.bootstrap(rootCommand);
  const reports = daemon.metrics();
  t.deepEqual(reports.map((report) => [report.mountpoint, report.backendType]), [['', 'session'], ['/', 'passthrough_fs']]);
  // The session row sums every instance; the "/" row (instance 0 in the fake VFS) is its own.
  t.is(reports[0].bytesRead, 1234 + 10);
  t.is(reports[0].bytesWritten, 5);
  t.is(reports[0].errors, 1);
  t.is(reports[0].inFlight, 2);
  t.deepEqual(Object.keys(reports[0].opcodes).sort(), ['LOOKUP', 'READ']);
  t.is(reports[1].bytesRead, 1234);
  t.deepEqual(reports[1].opcodes, { LOOKUP: { count: 4, errors: 1, avgUs: 10, maxUs: 20, p99Us: 32 } });
  t.is(reports[1].inFlight, 0);
});
