/**
 * Starting and watching daemon processes: spawn nydusd (detached, so it outlives a supervisor restart) with its
 * Node.js options and the flags the supervisor adds, tell whether a pid still runs (a zombie counts as dead) and
 * wait for it to end. It does not decide what to do when a daemon dies (daemon-manager.ts).
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { NYDUSD_NODE_OPTIONS } from '../../daemon/src/cli/node-options';

/** nydusd of this build: dist/daemon/src/cli/nydusd.js next to dist/supervisor. */
export function defaultDaemonBinary(): string {
  return path.resolve(__dirname, '../../daemon/src/cli/nydusd.js');
}

/** The value of `--name VALUE` or `--name=VALUE` in `args`. */
export function flagValue(args: string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === name) return args[i + 1];
    if (args[i].startsWith(`${name}=`)) return args[i].slice(name.length + 1);
  }
  return undefined;
}

/** `args` without the flags the supervisor sets itself. */
export function withoutSupervisorFlags(args: string[]): string[] {
  const valued = new Set(['--id', '--supervisor', '--apisock']);
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].split('=')[0];
    if (valued.has(name)) {
      if (!args[i].includes('=')) i++;
      continue;
    }
    if (args[i] === '--upgrade') continue;
    out.push(args[i]);
  }
  return out;
}

export interface SpawnedDaemon {
  child: ChildProcess;
  pid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnDaemon(options: {
  binary: string;
  args: string[];
  id: string;
  supervisorSock: string;
  apiSock: string;
  upgrade: boolean;
  logFile: string;
}): SpawnedDaemon {
  const argv = [...NYDUSD_NODE_OPTIONS, options.binary, ...options.args, '--id', options.id, '--supervisor', options.supervisorSock, '--apisock', options.apiSock];
  if (options.upgrade) argv.push('--upgrade');
  const log = fs.openSync(options.logFile, 'a', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, argv, { detached: true, stdio: ['ignore', log, log] });
  } finally {
    fs.closeSync(log);
  }
  if (child.pid === undefined) throw new Error(`Cannot start ${options.binary}`);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, pid: child.pid, exited };
}

/** True while `pid` is a live (not zombie) process. */
export function isAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Resolves true once `pid` is gone, false if it still runs after `ms`. */
export async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}

/** True if a FUSE filesystem is mounted at `mountpoint` (per /proc/self/mountinfo). */
export function isFuseMounted(mountpoint: string): boolean {
  let info: string;
  try {
    info = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return true; // cannot tell: do not give up on the daemon
  }
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
  return info.split('\n').some((line) => {
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    return dash > 0 && unescape(fields[4]) === mountpoint && (fields[dash + 1] ?? '').startsWith('fuse');
  });
}
