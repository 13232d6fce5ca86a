import test from 'ava';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { setLogLevel } from '../../daemon/src/log';
import { startHarness } from './harness';

setLogLevel('error');

const NYDUSCTL = path.resolve(__dirname, '../../daemon/src/cli/nydusctl.js');

function nydusctl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [NYDUSCTL, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

test('nydusctl info prints a table, --json the message', async (t) => {
  const h = await startHarness(t);
  const table = await nydusctl(['--sock', h.socketPath, 'info']);
  t.is(table.code, 0, table.stderr);
  t.regex(table.stdout, /^FIELD\s+VALUE$/m);
  t.regex(table.stdout, /^state\s+RUNNING$/m);
  t.regex(table.stdout, /^id\s+daemon-1$/m);
  t.regex(table.stdout, /^INDEX\s+MOUNTPOINT\s+TYPE/m);
  const json = await nydusctl(['--sock', h.socketPath, 'info', '--json']);
  const info = JSON.parse(json.stdout);
  t.is(info.state, 'DAEMON_STATE_RUNNING');
  t.truthy(info.backend_collection['/']);
});

test('nydusctl lifecycle commands print the new state; refused ones exit 1 with the server message', async (t) => {
  const h = await startHarness(t);
  t.is((await nydusctl(['--sock', h.socketPath, 'stop'])).stdout.trim(), 'READY');
  t.is((await nydusctl(['--sock', h.socketPath, 'state'])).stdout.trim(), 'READY');
  t.is((await nydusctl(['--sock', h.socketPath, 'start'])).stdout.trim(), 'RUNNING');
  const refused = await nydusctl(['--sock', h.socketPath, 'start']);
  t.is(refused.code, 1);
  t.is(refused.stderr.trim(), 'nydusctl: FAILED_PRECONDITION: Event Start is not accepted in state RUNNING');
  const sendfd = await nydusctl(['--sock', h.socketPath, 'sendfd']);
  t.is(sendfd.code, 1);
  t.regex(sendfd.stderr, /UNIMPLEMENTED: .*supervisor/);
});

test('nydusctl mount, metrics and umount', async (t) => {
  const h = await startHarness(t);
  const configFile = path.join(h.dir, 'config.json');
  fs.writeFileSync(configFile, '{"writable":true,"auth":"c2VjcmV0"}');
  const mounted = await nydusctl(['--sock', h.socketPath, 'mount', '--fs-type', 'passthrough_fs', '--source', h.dir, '--mountpoint', '/sub', '--config', configFile]);
  t.is(mounted.code, 0, mounted.stderr);
  t.is(mounted.stdout.trim(), 'mounted passthrough_fs at /sub (index 1)');
  const info = JSON.parse((await nydusctl(['--sock', h.socketPath, '--json', 'info'])).stdout);
  t.is(info.backend_collection['/sub'].config, '{"writable":true}');
  const metrics = await nydusctl(['--sock', h.socketPath, 'metrics']);
  t.regex(metrics.stdout, /^whole session: bytes read 1244, bytes written 5, errors 1, reads on read threads 2, in flight 2$/m);
  t.regex(metrics.stdout, /^\/ \(passthrough_fs\): bytes read 1234, bytes written 0, errors 1$/m, 'no read-thread figure when none');
  t.regex(metrics.stdout, /^LOOKUP\s+4\s+1\s+10\.0\s+32\s+20\.0$/m);
  t.is((await nydusctl(['--sock', h.socketPath, 'umount', '/sub'])).stdout.trim(), 'unmounted /sub');
  const again = await nydusctl(['--sock', h.socketPath, 'umount', '/sub']);
  t.is(again.code, 1);
  t.is(again.stderr.trim(), 'nydusctl: NOT_FOUND: No filesystem is mounted at /sub');
});

test('nydusctl bad usage exits 2; an absent daemon exits 1 with the reason', async (t) => {
  for (const args of [[], ['info'], ['--sock', '/x'], ['--sock', '/x', 'fly'], ['--sock', '/x', 'mount', '--source', '/a'], ['--sock', '/x', 'umount']]) {
    const result = await nydusctl(args);
    t.is(result.code, 2, args.join(' '));
    t.regex(result.stderr, /^nydusctl: /);
  }
  const dir = fs.mkdtempSync('/tmp/nydusctl-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const absent = await nydusctl(['--sock', path.join(dir, 'none.sock'), 'state']);
  t.is(absent.code, 1);
  t.regex(absent.stderr, /UNAVAILABLE/);
});
