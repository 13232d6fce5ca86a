/**
 * A supervised nydusd mount for integration tests and the benchmark: a `serve` child, a daemon started with
 * `run`, a seeded share directory, the workload roles on the mount, and a teardown that always unmounts.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { killChild, startServe, statusJson, supervisorCli } from './cli';
import { eventually, tempDir } from './harness';
import { SEED_FILES, seedContent } from './workload';

export const WORKLOAD = path.resolve(__dirname, 'workload.js');

export interface DaemonView {
  id: string;
  status: string;
  pid: number;
  alive: boolean;
  linked: boolean;
  fdsHeld: number;
  fdsLost: boolean;
  handovers: number;
  lastHandover: { kind: string; ok: boolean; durationMs: number; message: string } | null;
}

export interface WorkloadResult {
  role: string;
  ops: number;
  errors: string[];
  errorCount: number;
  maxMs: number;
  latencies: number[];
  starts: number[];
}

export class SupervisedMount {
  readonly dir = tempDir('nydus-supmnt-');
  readonly share = path.join(this.dir, 'share');
  readonly mnt = path.join(this.dir, 'mnt');
  readonly sock = path.join(this.dir, 'sup.sock');
  readonly stateDir = path.join(this.dir, 'state');
  readonly stopFile = path.join(this.dir, 'stop');
  serve: ChildProcess | undefined;
  private workers: Array<{ child: ChildProcess; out: string; done: Promise<number | null> }> = [];

  constructor(readonly id = 'd1') {
    fs.mkdirSync(this.share);
    fs.mkdirSync(this.mnt);
    for (let i = 0; i < SEED_FILES; i++) fs.writeFileSync(path.join(this.share, `seed-${i}`), seedContent(i));
  }

  async start(daemonFlags: string[] = ['--shared-dir', this.share, '--writable']): Promise<void> {
    this.serve = await startServe(this.sock, ['--state-dir', this.stateDir], path.join(this.dir, 'serve.log'));
    const r = supervisorCli(['run', '--sock', this.sock, '--id', this.id, '--', '--mountpoint', this.mnt, ...daemonFlags]);
    if (r.code !== 0) throw new Error(`run failed: ${r.stderr}${r.stdout}`);
  }

  async restartServe(): Promise<void> {
    await killChild(this.serve, 'SIGKILL');
    this.serve = await startServe(this.sock, ['--state-dir', this.stateDir], path.join(this.dir, 'serve.log'));
    await eventually(() => { const v = this.view(); return v.linked && !v.fdsLost; }, 15_000, 'the daemon to re-link');
  }

  view(): DaemonView {
    return statusJson<DaemonView>(this.sock, this.id);
  }

  /** Waits until a daemon other than `pid` serves (after a failover). */
  async waitReplaced(pid: number, ms = 20_000): Promise<DaemonView> {
    let view = this.view();
    await eventually(() => {
      view = this.view();
      return view.pid !== pid && view.status === 'running' && view.alive;
    }, ms, `a successor of pid ${pid}`);
    return view;
  }

  startWorkload(roles: string[]): Promise<void[]> {
    fs.rmSync(this.stopFile, { force: true });
    return Promise.all(roles.map((role) => new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [WORKLOAD, role, this.mnt, this.stopFile], { stdio: ['ignore', 'pipe', 'pipe'] });
      const worker = { child, out: '', done: new Promise<number | null>((r) => child.once('close', (code: number | null) => r(code))) };
      child.stdout?.on('data', (d: Buffer) => {
        worker.out += d.toString();
        if (worker.out.startsWith('started')) resolve();
      });
      child.stderr?.on('data', (d: Buffer) => (worker.out += d.toString()));
      child.once('exit', (code) => reject(new Error(`workload ${role} exited early (${code}): ${worker.out}`)));
      this.workers.push(worker);
    })));
  }

  /** Stops the workload; a role that does not finish within `ms` is hung (killed, reported). */
  async stopWorkload(ms = 30_000): Promise<{ results: WorkloadResult[]; hung: string[] }> {
    fs.writeFileSync(this.stopFile, '');
    const results: WorkloadResult[] = [];
    const hung: string[] = [];
    for (const worker of this.workers) {
      const timer = new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), ms));
      const outcome = await Promise.race([worker.done, timer]);
      if (outcome === 'hung') {
        hung.push(worker.out.slice(0, 200));
        worker.child.kill('SIGKILL');
        continue;
      }
      const line = worker.out.split('\n').find((l) => l.startsWith('{'));
      if (line) results.push(JSON.parse(line) as WorkloadResult);
      else hung.push(`no result: ${worker.out.slice(0, 500)}`);
    }
    this.workers = [];
    return { results, hung };
  }

  /** Stops everything and unmounts, whatever state things are in. */
  async close(): Promise<void> {
    fs.writeFileSync(this.stopFile, '');
    for (const worker of this.workers) worker.child.kill('SIGKILL');
    if (this.serve && this.serve.exitCode === null) supervisorCli(['stop', '--sock', this.sock, this.id], 30_000);
    await killChild(this.serve, 'SIGTERM');
    const mounted = spawnSync('findmnt', ['-rn', this.mnt]).stdout?.length > 0;
    if (mounted) spawnSync('umount', ['-l', this.mnt]);
    for (const pid of leftoverDaemons(this.dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    if (process.env.NYDUS_KEEP_TMP) process.stderr.write(`kept ${this.dir} (NYDUS_KEEP_TMP)\n`);
    else fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** nydusd processes whose command line names our temp dir (standbys, successors the supervisor lost track of). */
function leftoverDaemons(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.includes('nydusd') && cmd.includes(dir)) pids.push(Number(entry));
    } catch {
      // raced with its exit
    }
  }
  return pids;
}
