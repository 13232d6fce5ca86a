/**
 * Timing primitives for benchmarks: run a shell command in a child bash and time it with process.hrtime (the
 * child's start-up is included, the same for every peer), drop the page cache, and summarize repetitions.
 * Nothing here knows about FUSE or about a particular benchmark.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';

export interface TimedRun {
  /** Wall-clock milliseconds from spawn to exit. */
  ms: number;
  stdout: string;
}

/**
 * Runs `cmd` with bash -c (pipefail on, so `find X | wc -l` fails when find does) and times it; rejects with the
 * command's output on a non-zero exit or after `timeoutMs`.
 */
export function timeShell(cmd: string, opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<TimedRun> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('bash', ['-o', 'pipefail', '-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code === 0) resolve({ ms, stdout });
      else reject(new Error(`"${cmd}" failed (${signal ?? `exit ${code}`}): ${(stderr.trim() || stdout.trim()).slice(-2000)}`));
    });
  });
}

/** Writes back dirty pages, then drops the page cache, dentries and inodes (also FUSE's: the kernel sends FORGETs). */
export function dropCaches(): void {
  spawnSync('sync');
  fs.writeFileSync('/proc/sys/vm/drop_caches', '3\n');
}

/**
 * Starts a cold run: reads `hostFiles` (files, and every file under directories) through the kernel, so that the
 * VM host's caches hold them, then drops the guest's caches. Without the read, a cold run's figure depended on
 * what ran before: a cold dd of a 256 MiB file took 106-113 ms, but 258-284 ms right after fio's O_DIRECT random
 * reads of it, through the kernel alone; read through first, 107-112 ms. So every peer's cold run starts alike:
 * host caches warm, the guest's cold.
 */
export function dropCachesAfterReading(hostFiles: readonly string[]): void {
  if (hostFiles.length > 0) {
    spawnSync('bash', ['-c', 'find "$@" -type f -print0 | xargs -0r cat > /dev/null', 'prime', ...hostFiles], { stdio: 'ignore', timeout: 300_000 });
  }
  dropCaches();
}

/** True when this process may drop caches (root, /proc writable). */
export function canDropCaches(): boolean {
  try {
    fs.accessSync('/proc/sys/vm/drop_caches', fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
