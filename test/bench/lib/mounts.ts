/**
 * Starting and stopping FUSE servers for benchmarks: spawn the server in its own process group (so Ctrl-C reaches
 * only the benchmark, which then unmounts in order), wait until its mountpoint is a live mount, and stop it with
 * SIGTERM, then SIGKILL, then `umount -l`. Every server and mountpoint is registered with a CleanupRegistry the
 * moment it exists. Knows nothing about which server it runs.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CleanupRegistry } from './cleanup';
import { sleep } from './timing';

export interface FuseServerSpec {
  /** Label used in messages. */
  name: string;
  command: string;
  args: string[];
  mountpoint: string;
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the mount to answer (default 20 s). */
  readyTimeoutMs?: number;
}

export interface RunningServer {
  name: string;
  mountpoint: string;
  pid: number;
  /** The last 8 KiB of the server's stderr and stdout. */
  output(): string;
  /** Undefined while the server runs; once it has exited, how ("exit 1", "SIGSEGV"). */
  exitStatus(): string | undefined;
  /** SIGTERM, wait, SIGKILL, `umount -l` if still mounted. Idempotent. */
  stop(): Promise<void>;
}

/** Makes a fresh directory under os.tmpdir() and registers its recursive removal. Not for mountpoints. */
export function makeTempDir(cleanup: CleanupRegistry, prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  cleanup.add(`remove ${dir}`, () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Makes an empty mountpoint under os.tmpdir() and registers its removal: lazily unmounted if still mounted, then
 * rmdir (never a recursive delete, which could reach through a live mount into the source tree).
 */
export function makeMountpoint(cleanup: CleanupRegistry, prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  cleanup.add(`remove mountpoint ${dir}`, () => {
    if (isMountpoint(dir)) lazyUnmount(dir);
    fs.rmdirSync(dir);
  });
  return dir;
}

/** True when `dir` is the mount point of some mount in this process's namespace. */
export function isMountpoint(dir: string): boolean {
  const target = path.resolve(dir);
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((line) => {
    const field = line.split(' ')[4];
    return field !== undefined && decodeMountinfoPath(field) === target;
  });
}

function decodeMountinfoPath(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function lazyUnmount(dir: string): void {
  spawnSync('umount', ['-l', dir], { stdio: 'ignore' });
}

/** Spawns a FUSE server and resolves once `spec.mountpoint` is mounted and a stat on it succeeds. */
export async function startFuseServer(spec: FuseServerSpec, cleanup: CleanupRegistry): Promise<RunningServer> {
  const proc = spawn(spec.command, spec.args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: spec.env ?? process.env });
  let output = '';
  const keep = (d: Buffer) => { output = (output + d.toString()).slice(-8192); };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const spawned = await new Promise<number>((resolve, reject) => {
    proc.once('spawn', () => resolve(proc.pid!));
    proc.once('error', (err) => reject(new Error(`could not start ${spec.name} (${spec.command}): ${err.message}`)));
  });
  const stopNow = cleanup.add(`stop ${spec.name}`, () => stopServer(proc, spec.mountpoint));
  const exitStatus = () => (proc.exitCode !== null || proc.signalCode !== null ? (proc.signalCode ?? `exit ${proc.exitCode}`) : undefined);
  const server: RunningServer = { name: spec.name, mountpoint: spec.mountpoint, pid: spawned, output: () => output, exitStatus, stop: stopNow };
  try {
    await waitForMount(proc, spec.mountpoint, spec.readyTimeoutMs ?? 20_000);
  } catch (err) {
    await stopNow();
    throw new Error(`${spec.name} did not mount ${spec.mountpoint}: ${(err as Error).message}\n${output.trim()}`);
  }
  return server;
}

async function waitForMount(proc: ChildProcess, mountpoint: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`the server exited (${proc.signalCode ?? `exit ${proc.exitCode}`}) before mounting`);
    }
    if (isMountpoint(mountpoint)) {
      const remaining = Math.max(1, deadline - Date.now());
      await Promise.race([
        fs.promises.stat(mountpoint),
        sleep(remaining).then(() => { throw new Error(`the mount did not answer a stat in ${timeoutMs} ms`); }),
      ]);
      return;
    }
    await sleep(25);
  }
  throw new Error(`not mounted after ${timeoutMs} ms`);
}

async function stopServer(proc: ChildProcess, mountpoint: string): Promise<void> {
  if (proc.exitCode === null && proc.signalCode === null) {
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const clean = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
    if (!clean) {
      proc.kill('SIGKILL');
      await Promise.race([exited, sleep(2000)]);
    }
  }
  if (isMountpoint(mountpoint)) lazyUnmount(mountpoint);
}
