import test from 'ava';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { NYDUSD_NODE_OPTIONS } from '../../daemon/src/cli/node-options';
import { DEFAULT_BUSY_POLL_US, parseNydusdArgs, UsageError } from '../../daemon/src/service/nydusd-options';

const NYDUSD = path.resolve(__dirname, '../../daemon/src/cli/nydusd.js');

function run(args: string[]) {
  const command = parseNydusdArgs(args);
  if (command.kind !== 'run') throw new Error(`expected a run command, got ${command.kind}`);
  return command.options;
}

test('parseNydusdArgs() builds the passthrough root mount; --writable goes into its config', (t) => {
  const options = run(['--mountpoint', 'mnt', '--shared-dir', '/srv/data', '--writable', '--apisock', '/run/a.sock', '--thread-num', '4']);
  t.is(options.mountpoint, path.resolve('mnt'));
  t.deepEqual(options.root, { fsType: 'passthrough_fs', source: '/srv/data', config: '{"writable":true}', mountpoint: '/', prefetchFiles: [] });
  t.is(options.apisock, '/run/a.sock');
  t.is(options.threadNum, 4);
  t.is(run(['--mountpoint', 'mnt', '--shared-dir', '/d', '--thread-num', '0']).threadNum, 0, 'no read threads');
  t.is(options.failoverPolicy, 'resend');
  t.is(options.logLevel, 'info');
  t.false(options.upgrade);
  const direct = run(['--mountpoint', 'mnt', '--shared-dir', '/srv/data', '--allow-direct-io']);
  t.is(direct.root?.config, '{"allow_direct_io":true}');
});

test('parseNydusdArgs() builds the rafs root mount from --localfs-dir or --blob', (t) => {
  const dir = run(['--mountpoint', '/m', '--bootstrap', '/img/boot', '--localfs-dir', '/img/blobs']);
  t.is(dir.root?.fsType, 'rafs');
  t.is(dir.root?.source, '/img/boot');
  t.deepEqual(JSON.parse(dir.root?.config ?? ''), { version: 2, backend: { type: 'localfs', localfs: { dir: '/img/blobs' } } });
  const blob = run(['--mountpoint', '/m', '--bootstrap', '/img/boot', '--blob', '/img/b1', '--prefetch-files', '/a', '--prefetch-files', '/b']);
  t.deepEqual(JSON.parse(blob.root?.config ?? ''), { version: 2, backend: { type: 'localfs', localfs: { blob_file: '/img/b1' } } });
  t.deepEqual(blob.root?.prefetchFiles, ['/a', '/b']);
  t.is(run(['--mountpoint', '/m', '--bootstrap', '/img/boot']).root?.config, '');
});

test('parseNydusdArgs() passes a --config file through verbatim', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nydusd-opts-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'c.json');
  const text = '{"version":2,"backend":{"type":"localfs","localfs":{"dir":"/b"}}}';
  fs.writeFileSync(file, text);
  t.is(run(['--mountpoint', '/m', '--bootstrap', '/boot', '--config', file]).root?.config, text);
  fs.writeFileSync(file, '{oops');
  t.throws(() => run(['--mountpoint', '/m', '--bootstrap', '/boot', '--config', file]), { message: /is not valid JSON/ });
});

test('parseNydusdArgs() supervisor flags go together', (t) => {
  const options = run(['--mountpoint', '/m', '--id', 'd1', '--supervisor', '/run/s.sock', '--upgrade', '--failover-policy', 'flush']);
  t.is(options.id, 'd1');
  t.is(options.supervisor, '/run/s.sock');
  t.true(options.upgrade);
  t.is(options.failoverPolicy, 'flush');
  t.is(options.root, undefined);
});

const refused: [string[], RegExp][] = [
  [['--shared-dir', '/d'], /--mountpoint is required/],
  [['--mountpoint', '/m', '--bogus'], /Unknown option '--bogus'/],
  [['--mountpoint'], /argument missing/],
  [['--mountpoint', '/m', 'extra'], /Unexpected argument 'extra'/],
  [['--mountpoint', '/m', '--shared-dir', '/d', '--bootstrap', '/b'], /--shared-dir and --bootstrap cannot be used together/],
  [['--mountpoint', '/m', '--id', 'x'], /--id needs --supervisor/],
  [['--mountpoint', '/m', '--supervisor', '/s'], /--supervisor needs --id/],
  [['--mountpoint', '/m', '--upgrade'], /--upgrade needs --id and --supervisor/],
  [['--mountpoint', '/m', '--failover-policy', 'maybe'], /--failover-policy must be none, resend or flush/],
  [['--mountpoint', '/m', '--log-level', 'loud'], /--log-level must be/],
  [['--mountpoint', '/m', '--thread-num', '65'], /--thread-num must be an integer from 0 to 64/],
  [['--mountpoint', '/m', '--thread-num=-1'], /--thread-num must be an integer from 0 to 64/],
  [['--mountpoint', '/m', '--writable'], /--writable needs --shared-dir or --bootstrap/],
  [['--mountpoint', '/m', '--bootstrap', '/b', '--allow-direct-io'], /--allow-direct-io needs --shared-dir/],
  [['--mountpoint', '/m', '--localfs-dir', '/l'], /need --bootstrap/],
  [['--mountpoint', '/m', '--bootstrap', '/b', '--blob', '/x', '--blob', '/y'], /Only one --blob/],
  [['--mountpoint', '/m', '--bootstrap', '/b', '--blob', '/x', '--localfs-dir', '/y'], /cannot be used together/],
  [['--mountpoint', '/m', '--shared-dir', ''], /--shared-dir needs a value/],
];
for (const [args, message] of refused) {
  test(`parseNydusdArgs() refuses: ${args.join(' ')}`, (t) => {
    t.throws(() => parseNydusdArgs(args), { instanceOf: UsageError, message });
  });
}

test('nydusd exits 2 with a clear message for bad flags, 0 for --help and --version', async (t) => {
  const exec = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, [NYDUSD, ...args], { timeout: 20_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
      ),
    );
  const bad = await exec(['--mountpoint', '/m', '--shared-dir', '/a', '--bootstrap', '/b']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /^nydusd: --shared-dir and --bootstrap cannot be used together/);
  const unknown = await exec(['--frobnicate']);
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /Unknown option '--frobnicate'/);
  const help = await exec(['--help']);
  t.is(help.code, 0);
  t.regex(help.stdout, /^Usage: nydusd --mountpoint MNT/);
  const version = await exec(['--version']);
  t.is(version.code, 0);
  t.regex(version.stdout, /^nydusd \d+\.\d+\.\d+ \(git ([0-9a-f]{40}|unknown), built .*, node v\d+/);
});

test('the nydusd bin runs itself under nydusd\'s Node.js options', async (t) => {
  const firstLine = fs.readFileSync(NYDUSD, 'utf8').split('\n')[0];
  t.is(firstLine, `#!/usr/bin/env -S node ${NYDUSD_NODE_OPTIONS.join(' ')}`);
  const version = await new Promise<{ code: number; stdout: string }>((resolve) =>
    execFile(NYDUSD, ['--version'], { timeout: 20_000 }, (err, stdout) => resolve({ code: err ? Number(err.code) : 0, stdout })),
  );
  t.is(version.code, 0, 'executed directly, as npx runs it');
  t.regex(version.stdout, /^nydusd \d+\.\d+\.\d+ /);
});

test('--read-ahead-kb takes 0..65536 and --no-kernel-passthrough turns kernel passthrough off', (t) => {
  const base = ['--mountpoint', '/m', '--shared-dir', '/srv'];
  t.is(run(base).readAheadKb, undefined);
  t.true(run(base).kernelPassthrough);
  t.is(run([...base, '--read-ahead-kb', '0']).readAheadKb, 0);
  t.false(run([...base, '--no-kernel-passthrough']).kernelPassthrough);
  for (const bad of ['-1', '1.5', 'lots', '65537']) {
    t.throws(() => run([...base, `--read-ahead-kb=${bad}`]), { instanceOf: UsageError, message: /--read-ahead-kb must be an integer/ });
  }
});

test('--busy-poll-us takes 0..1000 and defaults to DEFAULT_BUSY_POLL_US', (t) => {
  const base = ['--mountpoint', '/m', '--shared-dir', '/srv'];
  t.is(run(base).busyPollUs, DEFAULT_BUSY_POLL_US);
  t.is(run([...base, '--busy-poll-us', '0']).busyPollUs, 0);
  t.is(run([...base, '--busy-poll-us=200']).busyPollUs, 200);
  for (const bad of ['-1', '2.5', 'some', '1001']) {
    t.throws(() => run([...base, `--busy-poll-us=${bad}`]), { instanceOf: UsageError, message: /--busy-poll-us must be an integer from 0 to 1000/ });
  }
});
