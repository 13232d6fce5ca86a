/**
 * Ranks the functions of a V8 .cpuprofile (from `node --cpu-prof`) for the time a daemon spent serving, not
 * starting: samples whose stack runs through the module loader's entry point (start-up, `require`) are left
 * out, as are idle samples. Each function gets self and inclusive time, and the nearest project function that
 * called it, so a native call ("write", "read") is traced to the code that issued it. Pure parsing.
 */
import * as fs from 'fs';
import * as path from 'path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface ServingCost {
  where: string;
  selfMs: number;
  totalMs: number;
  /** The project function nearest above it on the stack, with most of its self time. */
  viaProject?: string;
}

export interface ServingProfile {
  startupMs: number;
  idleMs: number;
  busyMs: number;
  functions: ServingCost[];
}

const STARTUP_FRAMES = new Set(['executeUserEntryPoint', 'compileForInternalLoader']);

export function summarizeServing(file: string, projectRoot: string, projectMarker = '/dist/daemon/'): ServingProfile {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (n: ProfileNode) => {
    const { functionName, url, lineNumber } = n.callFrame;
    const name = functionName || '(anonymous)';
    if (!url) return name;
    const f = url.startsWith('file://') ? url.slice(7) : url;
    return `${name} (${f.startsWith(projectRoot) ? path.relative(projectRoot, f) : f}:${lineNumber + 1})`;
  };
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const via = new Map<string, Map<string, number>>();
  const out: ServingProfile = { startupMs: 0, idleMs: 0, busyMs: 0, functions: [] };
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const leaf = byId.get(id);
    if (!leaf) return;
    const stack: ProfileNode[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) stack.push(byId.get(at)!);
    if (stack.some((n) => STARTUP_FRAMES.has(n.callFrame.functionName))) { out.startupMs += ms; return; }
    const leafKey = key(leaf);
    if (leafKey === '(idle)') { out.idleMs += ms; return; }
    out.busyMs += ms;
    self.set(leafKey, (self.get(leafKey) ?? 0) + ms);
    const caller = stack.find((n) => n !== leaf && n.callFrame.url.includes(projectMarker));
    if (caller && !leaf.callFrame.url.includes(projectMarker)) {
      const m = via.get(leafKey) ?? new Map<string, number>();
      m.set(key(caller), (m.get(key(caller)) ?? 0) + ms);
      via.set(leafKey, m);
    }
    for (const k of new Set(stack.map(key))) total.set(k, (total.get(k) ?? 0) + ms);
  });
  out.functions = [...total.entries()].map(([where, totalMs]) => {
    const callers = [...(via.get(where) ?? new Map<string, number>()).entries()].sort((a, b) => b[1] - a[1]);
    return { where, totalMs, selfMs: self.get(where) ?? 0, viaProject: callers[0]?.[0] };
  });
  return out;
}
