/**
 * Test helpers that start a FUSE server in a child process over a temporary directory, and always clean
 * up: SIGTERM, then SIGKILL, then `umount -l`, also when the test failed.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

export const PROJECT_ROOT = path.resolve(__dirname, '../../..');
export const DIST = path.join(PROJECT_ROOT, 'dist');

export interface Served {
  mnt: string;
  src: string;
  proc: ChildProcess;
  stderr: () => string;
  stop: () => Promise<void>;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

export function isMounted(mnt: string): boolean {
  const r = spawnSync('findmnt', ['-rn', '-o', 'TARGET', '--mountpoint', mnt], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim().length > 0;
}

/** Waits for a child to exit; SIGKILLs it after `ms`. */
export function waitExit(proc: ChildProcess, ms: number): Promise<number | null> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve(proc.exitCode);
    const timer = setTimeout(() => proc.kill('SIGKILL'), ms);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

/** Starts test/helpers/serve-child over a fresh source dir (or `src`), resolving once it is READY. */
export async function servePassthrough(opts: { src?: string; writable?: boolean; extraArgs?: string[] } = {}): Promise<Served> {
  const src = opts.src ?? tempDir('nydus-src');
  return serveWith(src, ['--shared-dir', src, ...(opts.writable === false ? [] : ['--writable']), ...(opts.extraArgs ?? [])]);
}

/** Starts test/helpers/serve-child serving a rafs image at "/". */
export async function serveRafs(bootstrap: string, blobs: string[] = []): Promise<Served> {
  return serveWith(bootstrap, ['--bootstrap', bootstrap, ...blobs.flatMap((b) => ['--blob', b])]);
}

async function serveWith(src: string, serveArgs: string[]): Promise<Served> {
  const mnt = tempDir('nydus-mnt');
  const args = [path.join(DIST, 'test/helpers/serve-child.js'), '--mountpoint', mnt, ...serveArgs];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d) => { err += d; });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server not ready in 10 s: ${err}`)), 10_000);
    proc.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('READY')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${err}`));
    });
  });
  const stop = async () => {
    proc.kill('SIGTERM');
    await waitExit(proc, 5000);
    if (isMounted(mnt)) spawnSync('umount', ['-l', mnt]);
    fs.rmSync(mnt, { recursive: true, force: true });
  };
  return { mnt, src, proc, stderr: () => err, stop };
}

/** Runs a shell command; returns stdout, throws with stderr on a non-zero exit. */
export function sh(cmd: string, opts: { cwd?: string; timeout?: number; input?: string } = {}): string {
  const r = spawnSync('bash', ['-c', cmd], {
    cwd: opts.cwd, encoding: 'utf8', timeout: opts.timeout ?? 120_000, input: opts.input, maxBuffer: 64 << 20,
  });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`"${cmd}" exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/**
 * The upstream RAFS fixtures live in the team's shared folder beside the project (../shared), never in the
 * project itself. Returns undefined (and the reason) when they are not there, e.g. in a user's clone.
 */
export function upstreamFixtures(): { dir?: string; reason: string } {
  const dir = process.env.NYDUS_SHARED_DIR
    ? path.join(process.env.NYDUS_SHARED_DIR, 'fixtures/nydus-rafs-v6')
    : path.resolve(PROJECT_ROOT, '../shared/fixtures/nydus-rafs-v6');
  if (fs.existsSync(path.join(dir, 'rafs-v6-2.2.boot'))) return { dir, reason: '' };
  return { reason: `upstream fixtures not found at ${dir} (they live in ../shared beside the project)` };
}
