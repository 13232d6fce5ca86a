/**
 * Structured logging: one JSON object per line, written to stderr or to a file chosen with
 * `configureLogOutput` (nydusd's --log-file). Levels error < warn < info < debug < trace; the process-wide level
 * can be changed at run time (`setLogLevel`, used by the SetLogLevel gRPC call). It does not rotate or sample.
 * Lines are written off the event loop (fs.write on the threadpool, one write per burst): a synchronous write to a
 * file on ext4 can wait for a journal commit, and a daemon in the middle of a handover must not. Whatever is still
 * queued when the process exits is written synchronously then (`flushLogSync`, run on 'exit'); await `flushLog()`
 * before process.exit() to have every line written exactly once.
 */
import * as fs from 'fs';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace';
export const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug', 'trace'];

export type LogFn = (msg: string, fields?: Record<string, unknown>) => void;
export interface Logger {
  error: LogFn;
  warn: LogFn;
  info: LogFn;
  debug: LogFn;
  trace: LogFn;
}

const rank: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3, trace: 4 };
let currentLevel: LogLevel = parseLogLevelOr(process.env.NYDUS_LOG_LEVEL, 'info');
let outputFd = 2;

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

function parseLogLevelOr(value: string | undefined, fallback: LogLevel): LogLevel {
  const lower = value?.toLowerCase();
  return isLogLevel(lower) ? lower : fallback;
}

/** Sets the process-wide level; throws a RangeError naming the valid levels for anything else. */
export function setLogLevel(level: string): void {
  const lower = level.toLowerCase();
  if (!isLogLevel(lower)) throw new RangeError(`Unknown log level "${level}": expected one of ${LOG_LEVELS.join(', ')}`);
  currentLevel = lower;
}

export function getLogLevel(): LogLevel {
  return currentLevel;
}

/** Sends every following line to `path` (appended, created 0600) instead of stderr. */
export function configureLogOutput(path: string): void {
  const fd = fs.openSync(path, 'a', 0o600);
  writeSyncQuietly(Buffer.from(queued.join('')));
  queued.length = 0;
  if (outputFd !== 2 && !writing) fs.closeSync(outputFd); // else left open: a write to it is still under way
  outputFd = fd;
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message, code: (value as { code?: unknown }).code };
  return value;
}

const queued: string[] = [];
/** The chunk handed to the threadpool and not yet reported written (null: none). */
let inFlight: Buffer | null = null;
let writing = false;
let idleWaiters: Array<() => void> = [];

/** Writes the queued lines in one fs.write, then the ones queued meanwhile, until none is left. */
function drainQueue(): void {
  if (queued.length === 0) {
    writing = false;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
    return;
  }
  writing = true;
  const chunk = Buffer.from(queued.join(''));
  queued.length = 0;
  inFlight = chunk;
  writeAll(outputFd, chunk, 0, () => {
    inFlight = null;
    drainQueue();
  });
}

function writeAll(fd: number, chunk: Buffer, offset: number, done: () => void): void {
  fs.write(fd, chunk, offset, chunk.length - offset, null, (err, written) => {
    // A log line must never take the daemon down (EPIPE, full disk): on error the chunk is dropped.
    if (!err && offset + written < chunk.length) writeAll(fd, chunk, offset + written, done);
    else done();
  });
}

/**
 * Writes what is still queued, now, for a process about to exit. A chunk still with the threadpool is written
 * again first: the process may end before that worker runs, and a line written twice beats a line lost.
 */
export function flushLogSync(): void {
  if (inFlight) writeSyncQuietly(inFlight);
  inFlight = null;
  writeSyncQuietly(Buffer.from(queued.join('')));
  queued.length = 0;
}

function writeSyncQuietly(chunk: Buffer): void {
  try {
    if (chunk.length > 0) fs.writeSync(outputFd, chunk);
  } catch {
    // as in writeAll
  }
}

/** Resolves once every line logged so far has been written: await it before process.exit(). */
export function flushLog(): Promise<void> {
  if (!writing) return Promise.resolve();
  return new Promise((resolve) => idleWaiters.push(resolve));
}

process.on('exit', flushLogSync);

function write(level: LogLevel, component: string, msg: string, fields?: Record<string, unknown>): void {
  if (rank[level] > rank[currentLevel]) return;
  const record = { time: new Date().toISOString(), level, component, msg, ...fields };
  let line: string;
  try {
    line = JSON.stringify(record, jsonSafe);
  } catch {
    line = JSON.stringify({ time: record.time, level, component, msg, fields: '<unserializable>' });
  }
  queued.push(line + '\n');
  if (!writing) drainQueue();
}

export function createLogger(component: string): Logger {
  return {
    error: (msg, fields) => write('error', component, msg, fields),
    warn: (msg, fields) => write('warn', component, msg, fields),
    info: (msg, fields) => write('info', component, msg, fields),
    debug: (msg, fields) => write('debug', component, msg, fields),
    trace: (msg, fields) => write('trace', component, msg, fields),
  };
}
