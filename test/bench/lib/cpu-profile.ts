/**
 * Reads a V8 .cpuprofile (as written by `node --cpu-prof`) and ranks functions by self time and by total
 * (inclusive) time, so a benchmark can say where a Node server spends its time. Pure parsing, no profiling.
 */
import * as fs from 'fs';
import * as path from 'path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  /** Microseconds on the monotonic clock (the same clock as process.hrtime). */
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionCost {
  /** "name (file:line)"; "(program)", "(idle)", "(garbage collector)" for V8's pseudo-frames. */
  where: string;
  selfMs: number;
  totalMs: number;
}

export interface ProfileSummary {
  sampledMs: number;
  idleMs: number;
  functions: FunctionCost[];
}

function frameKey(node: ProfileNode, root: string): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName || '(anonymous)';
  if (!url) return name;
  const file = url.startsWith('file://') ? url.slice('file://'.length) : url;
  const shown = file.startsWith(root) ? path.relative(root, file) : file;
  return `${name} (${shown}:${lineNumber + 1})`;
}

/** A span of the monotonic clock in microseconds, e.g. `Number(process.hrtime.bigint() / 1000n)` before and after. */
export interface ProfileWindow {
  fromUs: number;
  toUs: number;
}

/**
 * Summarizes one profile; file paths under `projectRoot` are shown relative to it. With `window`, only samples
 * taken inside it count (leaving out start-up and shutdown).
 */
export function summarizeCpuProfile(file: string, projectRoot = '', window?: ProfileWindow): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let sampledMs = 0;
  let idleMs = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const deltaUs = profile.timeDeltas[i] ?? 0;
    at += deltaUs;
    if (window && (at < window.fromUs || at > window.toUs)) return;
    const ms = deltaUs / 1000;
    const node = byId.get(id);
    if (!node) return;
    sampledMs += ms;
    const key = frameKey(node, projectRoot);
    if (key === '(idle)') idleMs += ms;
    self.set(key, (self.get(key) ?? 0) + ms);
    const seen = new Set<string>();
    for (let frame: number | undefined = id; frame !== undefined; frame = parent.get(frame)) {
      const k = frameKey(byId.get(frame)!, projectRoot);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + ms);
    }
  });
  const functions = [...total.entries()].map(([where, totalMs]) => ({ where, totalMs, selfMs: self.get(where) ?? 0 }));
  return { sampledMs, idleMs, functions };
}

/** Finds the .cpuprofile files node wrote into `dir`. */
export function listCpuProfiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(dir, f));
}
