/**
 * Structured logging: one JSON object per line, written to stderr or to a file chosen with
 * `configureLogOutput` (nydusd's --log-file). Levels error < warn < info < debug < trace; the process-wide level
 * can be changed at run time (`setLogLevel`, used by the SetLogLevel gRPC call). It does not buffer, rotate or
 * sample: a line is written synchronously when the event happens, so nothing is lost when the process exits.
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
  if (outputFd !== 2) fs.closeSync(outputFd);
  outputFd = fd;
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message, code: (value as { code?: unknown }).code };
  return value;
}

function write(level: LogLevel, component: string, msg: string, fields?: Record<string, unknown>): void {
  if (rank[level] > rank[currentLevel]) return;
  const record = { time: new Date().toISOString(), level, component, msg, ...fields };
  let line: string;
  try {
    line = JSON.stringify(record, jsonSafe);
  } catch {
    line = JSON.stringify({ time: record.time, level, component, msg, fields: '<unserializable>' });
  }
  try {
    fs.writeSync(outputFd, line + '\n');
  } catch {
    // A log line must never take the daemon down (EPIPE, full disk).
  }
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
