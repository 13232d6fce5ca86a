#!/usr/bin/env node
/**
 * `npm start`: the main job out of the box. Builds a sample RAFS v6 image from files in this repository,
 * starts `nydus-supervisor serve`, runs a supervised `nydusd` serving the image at a mountpoint with a writable
 * passthrough_fs instance at /shared, prints where everything is, and on Ctrl-C stops the daemon (unmounting)
 * and the supervisor, leaving nothing mounted or running. Everything lives under NYDUS_QUICKSTART_DIR
 * (default /tmp/nydus-quickstart).
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { buildImage } from '../../../daemon/src/builder';
import { isMountPoint, unmount } from '../../../daemon/src/transport/mount';

const ROOT = path.resolve(__dirname, '../../../..');
const DIST = path.join(ROOT, 'dist');
const DIR = path.resolve(process.env.NYDUS_QUICKSTART_DIR ?? '/tmp/nydus-quickstart');
const P = {
  mnt: path.join(DIR, 'mnt'),
  supSock: path.join(DIR, 'supervisor.sock'),
  apiSock: path.join(DIR, 'nydusd.sock'),
  state: path.join(DIR, 'state'),
  sampleSrc: path.join(DIR, 'sample-src'),
  image: path.join(DIR, 'image'),
  shared: path.join(DIR, 'shared'),
  logs: path.join(DIR, 'logs'),
};
const ID = 'sample';
const supervisorCli = path.join(DIST, 'supervisor/src/cli/nydus-supervisor.js');
const nydusctlCli = path.join(DIST, 'daemon/src/cli/nydusctl.js');

let step = 0;
const STEPS = 5;
function progress(what: string): () => void {
  const started = Date.now();
  process.stdout.write(`[${++step}/${STEPS}] ${what} ...`);
  return () => process.stdout.write(` done (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
}

function run(cli: string, args: string[]): string {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${path.basename(cli)} ${args.join(' ')} failed: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

function preflight(): void {
  if (process.getuid && process.getuid() !== 0) throw new Error('run as root: mounting FUSE needs CAP_SYS_ADMIN');
  if (!fs.existsSync('/dev/fuse')) throw new Error('/dev/fuse is missing: load the fuse module (modprobe fuse)');
  if (fs.existsSync(P.mnt) && isMountPoint(P.mnt)) unmount(P.mnt); // a leftover from a killed earlier run
  for (const d of [P.mnt, P.state, P.shared, P.logs]) fs.mkdirSync(d, { recursive: true });
}

async function buildSample(): Promise<void> {
  const done = progress('building the sample image (this repository\'s proto/ and daemon/src/) with nydus-image');
  fs.rmSync(P.sampleSrc, { recursive: true, force: true });
  fs.rmSync(P.image, { recursive: true, force: true });
  fs.mkdirSync(P.sampleSrc, { recursive: true });
  fs.cpSync(path.join(ROOT, 'proto'), path.join(P.sampleSrc, 'proto'), { recursive: true });
  fs.cpSync(path.join(ROOT, 'daemon/src'), path.join(P.sampleSrc, 'daemon-src'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'README.md'), path.join(P.sampleSrc, 'README.md'));
  await buildImage({ source: P.sampleSrc, bootstrapPath: path.join(P.image, 'bootstrap'),
    blobDir: path.join(P.image, 'blobs'), compressor: 'zstd' });
  done();
}

function waitForSocket(sock: string, child: ChildProcess, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + ms;
    const tick = () => {
      if (fs.existsSync(sock)) return resolve();
      if (child.exitCode !== null) return reject(new Error(`nydus-supervisor serve exited (see ${P.logs}/supervisor.log)`));
      if (Date.now() > deadline) return reject(new Error(`nydus-supervisor did not listen on ${sock}`));
      setTimeout(tick, 50);
    };
    tick();
  });
}

/** The supervised daemon's pid, from `nydus-supervisor status --json`. */
function daemonPid(): number | undefined {
  const r = spawnSync(process.execPath, [supervisorCli, 'status', '--sock', P.supSock, ID, '--json'], { encoding: 'utf8', timeout: 10_000 });
  try {
    const parsed = JSON.parse(r.stdout) as { pid?: number } | Array<{ pid?: number }>;
    const view = Array.isArray(parsed) ? parsed[0] : parsed;
    return typeof view?.pid === 'number' && view.pid > 0 ? view.pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM (then SIGKILL) a daemon the supervisor failed to stop; true if it had to. */
async function endProcess(pid: number): Promise<boolean> {
  if (!alive(pid)) return false;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  return true;
}

async function main(): Promise<void> {
  preflight();
  await buildSample();

  let done = progress('starting nydus-supervisor');
  fs.rmSync(P.supSock, { force: true });
  const log = fs.openSync(path.join(P.logs, 'supervisor.log'), 'a');
  const supervisor = spawn(process.execPath, [supervisorCli, 'serve', '--sock', P.supSock, '--state-dir', P.state],
    { stdio: ['ignore', log, log] });
  await waitForSocket(P.supSock, supervisor, 10_000);
  done();

  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\nstopping nydusd (unmounting) and nydus-supervisor ...\n');
    const pid = daemonPid();
    spawnSync(process.execPath, [supervisorCli, 'stop', '--sock', P.supSock, ID], { stdio: 'ignore', timeout: 30_000 });
    if (pid && (await endProcess(pid))) process.stdout.write(`nydusd (pid ${pid}) had to be signalled directly\n`);
    supervisor.kill('SIGTERM');
    await new Promise((r) => (supervisor.exitCode !== null ? r(null) : supervisor.once('exit', r)));
    if (isMountPoint(P.mnt)) unmount(P.mnt);
    process.stdout.write(`stopped; ${P.mnt} is no longer mounted\n`);
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  try {
    done = progress('starting a supervised nydusd serving the image');
    run(supervisorCli, ['run', '--sock', P.supSock, '--id', ID, '--', '--mountpoint', P.mnt,
      '--bootstrap', path.join(P.image, 'bootstrap'), '--localfs-dir', path.join(P.image, 'blobs'), '--writable',
      '--apisock', P.apiSock, '--log-file', path.join(P.logs, 'nydusd.log')]);
    done();

    done = progress('mounting a writable passthrough_fs at /shared');
    const config = path.join(DIR, 'shared.json');
    fs.writeFileSync(config, JSON.stringify({ writable: true }));
    run(nydusctlCli, ['--sock', P.apiSock, 'mount', '--fs-type', 'passthrough_fs', '--source', P.shared,
      '--mountpoint', '/shared', '--config', config]);
    fs.writeFileSync(path.join(P.shared, 'hello.txt'), 'written through passthrough_fs\n');
    done();

    done = progress('checking the mount');
    const readme = fs.readFileSync(path.join(P.mnt, 'README.md'), 'utf8');
    if (readme !== fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')) throw new Error('the sample image serves wrong content');
    done();
  } catch (err) {
    process.stderr.write(`\nquick start failed: ${(err as Error).message}\n`);
    await shutdown(1);
    return;
  }

  const bin = (name: string) => `npx ${name}`;
  process.stdout.write(`
nydus is running.
  mount        ${P.mnt}            (sample RAFS v6 image; writable passthrough_fs at ${P.mnt}/shared)
  daemon API   ${P.apiSock}   (gRPC)
  supervisor   ${P.supSock}
  logs         ${P.logs}/

Try, in another terminal:
  ls -la ${P.mnt} ${P.mnt}/shared
  ${bin('nydusctl')} --sock ${P.apiSock} info
  ${bin('nydusctl')} --sock ${P.apiSock} metrics
  ${bin('nydus-supervisor')} restart --sock ${P.supSock} ${ID}     # hot upgrade, the mount stays up
  ${bin('nydus-supervisor')} status --sock ${P.supSock}

Ctrl-C stops everything and unmounts.
`);
  // Stay in the foreground: the supervisor is our child; Ctrl-C shuts both down.
  supervisor.once('exit', (code) => {
    if (!stopping) {
      process.stderr.write(`nydus-supervisor exited unexpectedly (${code}); see ${P.logs}/supervisor.log\n`);
      void shutdown(1);
    }
  });
}

main().catch((err) => {
  process.stderr.write(`quick start failed: ${(err as Error).message}\n`);
  process.exit(1);
});
