/**
 * The README's first command from a clean copy of the project (no node_modules, no build output), in a
 * temporary directory: `npm install`, then `npm start`, which must serve the sample image under a supervisor;
 * then `nydusctl info`, a `nydus-supervisor restart`, and Ctrl-C (SIGINT to the process group), after which
 * nothing is mounted and no daemon is left running.
 */
import test from 'ava';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { isMounted, PROJECT_ROOT, tempDir, waitExit } from '../helpers/mount';

function cleanCopy(): string {
  const dest = tempDir('nydus-clean-copy');
  const files = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: PROJECT_ROOT, encoding: 'utf8' })
    .stdout.split('\0').filter((f) => f && fs.existsSync(path.join(PROJECT_ROOT, f)));
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(dest, f)), { recursive: true });
    fs.copyFileSync(path.join(PROJECT_ROOT, f), path.join(dest, f));
  }
  return dest;
}

function node(dir: string, cli: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [path.join(dir, 'dist', cli), ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

test('npm install && npm start from a clean copy serves the sample image; restart and Ctrl-C leave nothing behind', async (t) => {
  const dir = cleanCopy();
  const qs = tempDir('nydus-qs');
  t.teardown(() => {
    if (isMounted(path.join(qs, 'mnt'))) spawnSync('umount', ['-l', path.join(qs, 'mnt')]);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(qs, { recursive: true, force: true });
  });
  t.false(fs.existsSync(path.join(dir, 'node_modules')));
  t.false(fs.existsSync(path.join(dir, 'dist')));
  const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, encoding: 'utf8', timeout: 600_000 });
  t.is(install.status, 0, install.stderr);

  const start = spawn('npm', ['start'], { cwd: dir, env: { ...process.env, NYDUS_QUICKSTART_DIR: qs }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  start.stdout!.on('data', (d) => { out += d; });
  start.stderr!.on('data', (d) => { out += d; });
  t.teardown(() => {
    try { process.kill(-start.pid!, 'SIGKILL'); } catch { /* gone */ }
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not come up: ${out}`)), 120_000);
    const check = () => {
      if (out.includes('nydus is running')) { clearTimeout(timer); resolve(); }
    };
    start.stdout!.on('data', check);
    start.once('exit', () => { clearTimeout(timer); reject(new Error(`npm start exited: ${out}`)); });
  });
  const mnt = path.join(qs, 'mnt');
  t.true(isMounted(mnt));
  t.is(fs.readFileSync(path.join(mnt, 'README.md'), 'utf8'), fs.readFileSync(path.join(dir, 'README.md'), 'utf8'));
  t.is(fs.readFileSync(path.join(mnt, 'proto/nydus/daemon/v1/daemon.proto'), 'utf8'),
    fs.readFileSync(path.join(dir, 'proto/nydus/daemon/v1/daemon.proto'), 'utf8'));
  fs.writeFileSync(path.join(mnt, 'shared/note.txt'), 'hello');
  t.is(fs.readFileSync(path.join(qs, 'shared/note.txt'), 'utf8'), 'hello');

  const info = node(dir, 'daemon/src/cli/nydusctl.js', ['--sock', path.join(qs, 'nydusd.sock'), 'info', '--json']);
  t.is(info.status, 0, info.out);
  t.regex(JSON.parse(info.out).state, /RUNNING/);

  const restart = node(dir, 'supervisor/src/cli/nydus-supervisor.js', ['restart', '--sock', path.join(qs, 'supervisor.sock'), 'sample']);
  t.is(restart.status, 0, restart.out);
  t.is(fs.readFileSync(path.join(mnt, 'shared/note.txt'), 'utf8'), 'hello');
  t.is(fs.readFileSync(path.join(mnt, 'README.md'), 'utf8'), fs.readFileSync(path.join(dir, 'README.md'), 'utf8'));

  const pids = spawnSync('pgrep', ['-f', `nydusd.js --mountpoint ${mnt}`], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
  t.true(pids.length >= 1);
  process.kill(-start.pid!, 'SIGINT');
  await waitExit(start, 30_000);
  t.not(start.signalCode, 'SIGKILL', 'npm start ended by itself after Ctrl-C');
  t.false(isMounted(mnt), 'nothing mounted after Ctrl-C');
  const leftovers = () => spawnSync('pgrep', ['-a', '-f', '--', `--sock ${path.join(qs, 'supervisor.sock')}|--mountpoint ${mnt}`],
    { encoding: 'utf8' }).stdout.trim();
  let left = leftovers();
  for (let i = 0; i < 50 && left; i++) {
    await new Promise((r) => setTimeout(r, 100));
    left = leftovers();
  }
  t.is(left, '', 'no supervisor or daemon left running 5 s after Ctrl-C');
  t.regex(out, /stopped; .* is no longer mounted/);
});
