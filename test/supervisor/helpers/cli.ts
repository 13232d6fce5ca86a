/** Runs the built CLIs from tests: the supervisor's commands, and long-lived children killed at teardown. */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export const DIST = path.resolve(__dirname, '../../..');
export const SUPERVISOR_CLI = path.join(DIST, 'supervisor/src/cli/nydus-supervisor.js');
export const NYDUSD = path.join(DIST, 'daemon/src/cli/nydusd.js');
export const FAKE_DAEMON = path.join(DIST, 'test/supervisor/helpers/fake-daemon.js');

export function supervisorCli(args: string[], timeoutMs = 120_000): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [SUPERVISOR_CLI, ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function statusJson<T = Record<string, unknown>>(sock: string, id?: string): T {
  const r = supervisorCli(['status', '--sock', sock, ...(id ? [id] : []), '--json']);
  if (r.code !== 0) throw new Error(`status failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/** Starts `node script args` and resolves once a line of its stdout matches `ready`. */
export function startChild(script: string, args: string[], ready: RegExp, timeoutMs = 20_000): Promise<{ child: ChildProcess; line: string; output: () => string }> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${path.basename(script)} not ready after ${timeoutMs} ms: ${out}`)), timeoutMs);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => ready.test(l));
      if (line) {
        clearTimeout(timer);
        resolve({ child, line, output: () => out });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${path.basename(script)} exited with ${code}: ${out}`));
    });
  });
}

/** Starts `nydus-supervisor serve`; resolves once its socket accepts connections. */
export async function startServe(sock: string, extra: string[] = [], logFile?: string): Promise<ChildProcess> {
  const log = logFile ? fs.openSync(logFile, 'a') : 'ignore';
  const child = spawn(process.execPath, [SUPERVISOR_CLI, 'serve', '--sock', sock, ...extra], { stdio: ['ignore', 'ignore', log] });
  if (typeof log === 'number') fs.closeSync(log);
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}`);
    if (supervisorCli(['status', '--sock', sock], 5000).code === 0) return child;
    if (Date.now() > deadline) throw new Error('serve did not come up');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function killChild(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
