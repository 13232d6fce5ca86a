/**
 * Runs the real nydusd binary for end-to-end tests: a temp dir with a mountpoint, a shared dir and the API
 * socket; helpers to wait for a state and to clean up (SIGKILL of our own pid, lazy unmount) even when a test fails.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { connectDaemon, DaemonClient } from '../../daemon/src/api/client';
import { NYDUSD_NODE_OPTIONS } from '../../daemon/src/cli/node-options';

export const NYDUSD = path.resolve(__dirname, '../../daemon/src/cli/nydusd.js');

export function canMount(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  if (!fs.existsSync('/dev/fuse')) return 'no /dev/fuse';
  return undefined;
}

/**
 * test.serial for end-to-end tests that mount, or test.skip when `reason` says they cannot run here; then one test
 * titled `skipNote` passes and logs why, so that a run shows the skip.
 */
export function mountingTests(skipNote: string, reason = canMount()): typeof test.serial | typeof test.skip {
  if (!reason) return test.serial;
  test(skipNote, (t) => {
    t.log(`skipped: ${reason}`);
    t.pass();
  });
  return test.skip;
}

export function isMounted(dir: string): boolean {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[4] === dir);
}

export interface RunningNydusd {
  dir: string;
  mnt: string;
  shared: string;
  sock: string;
  proc: ChildProcess;
  client: DaemonClient;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitState(state: string, timeoutMs?: number): Promise<void>;
}

/** `rootArgs` replaces the default root filesystem (--shared-dir of a fresh temp dir). */
export async function startNydusd(t: ExecutionContext, extraArgs: string[] = [], rootArgs?: string[]): Promise<RunningNydusd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nydusd-e2e-'));
  const mnt = path.join(dir, 'mnt');
  const shared = path.join(dir, 'shared');
  const sock = path.join(dir, 'api.sock');
  fs.mkdirSync(mnt);
  fs.mkdirSync(shared);
  fs.writeFileSync(path.join(shared, 'hello.txt'), 'hello from the shared dir\n');
  fs.writeFileSync(path.join(shared, 'later.txt'), 'read while stopped\n');
  const root = rootArgs ?? ['--shared-dir', shared];
  const proc = spawn(process.execPath, [...NYDUSD_NODE_OPTIONS, NYDUSD, '--mountpoint', mnt, ...root, '--apisock', sock, '--log-level', 'debug', ...extraArgs], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const client = connectDaemon(sock);
  t.teardown(async () => {
    client.close();
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
    if (isMounted(mnt)) spawn('umount', ['-l', mnt]).once('exit', () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (!isMounted(mnt)) fs.rmSync(dir, { recursive: true, force: true });
  });
  const running: RunningNydusd = {
    dir,
    mnt,
    shared,
    sock,
    proc,
    client,
    stderr: () => stderr,
    exited,
    async waitState(state, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      let last = '';
      while (Date.now() < deadline) {
        if (proc.exitCode !== null) throw new Error(`nydusd exited with ${proc.exitCode}: ${stderr}`);
        try {
          last = (await client.call<{ state: string }>('ExportInfo', {}, 1000)).state;
          if (last === state) return;
        } catch {
          // not listening yet
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`nydusd did not reach ${state} (last ${last}); stderr:\n${stderr}`);
    },
  };
  return running;
}
