/**
 * Profiles our daemon on a workload it loses: starts ours under `node --cpu-prof`, drops caches, runs the
 * workload cold then warm, stops the daemon (SIGTERM, so node writes the profile) and ranks functions by self
 * and inclusive time. Reports only; it changes nothing.
 */
import { CleanupRegistry } from './lib/cleanup';
import { listCpuProfiles } from './lib/cpu-profile';
import { makeTempDir } from './lib/mounts';
import { formatTable } from './lib/table';
import { dropCaches } from './lib/timing';
import { Workload } from './lib/workloads';
import { summarizeServing } from './rafs-bench-cpuprof';
import { measure } from './rafs-bench-matrix';
import { PeerSpec } from './rafs-bench-peers';

export interface ProfileRequest {
  peer: PeerSpec;
  workload: Workload;
  dropCaches: boolean;
  timeoutMs: number;
  /** Functions listed per ranking. */
  top: number;
  projectRoot: string;
}

/** Returns printable lines: the sampled time, then top functions by self time and by inclusive time. */
export async function profileOurs(req: ProfileRequest, cleanup: CleanupRegistry): Promise<string[]> {
  const dir = makeTempDir(cleanup, 'rafs-bench-prof');
  const mounted = await req.peer.start(cleanup, { cpuProfDir: dir });
  const figures: string[] = [];
  try {
    if (req.dropCaches) dropCaches();
    for (const phase of ['cold', 'warm']) {
      const v = await measure(req.workload, mounted.root, req.timeoutMs);
      figures.push(`${phase} ${req.workload.metric === 'time' ? `${v.toFixed(0)} ms` : `${v.toFixed(0)} IOPS`}`);
    }
  } finally {
    await mounted.stop();
  }
  // node writes the profile while exiting; give it a moment if the stop raced it.
  for (let i = 0; i < 40 && listCpuProfiles(dir).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  const files = listCpuProfiles(dir);
  if (files.length === 0) return [`no .cpuprofile written in ${dir} (did the daemon exit cleanly on SIGTERM?)`];
  const summary = summarizeServing(files[0], req.projectRoot);
  const pct = (ms: number) => `${((100 * ms) / Math.max(summary.busyMs, 1)).toFixed(1)}%`;
  const bySelf = [...summary.functions].sort((a, b) => b.selfMs - a.selfMs).slice(0, req.top);
  const byTotal = summary.functions
    .filter((f) => f.where.includes('dist/daemon/') && !/:1\)$/.test(f.where))
    .sort((a, b) => b.totalMs - a.totalMs).slice(0, req.top);
  const table = (rows: typeof bySelf, k: 'selfMs' | 'totalMs') => formatTable(
    [{ header: k === 'selfMs' ? 'self' : 'total', align: 'right' }, { header: 'share', align: 'right' }, { header: 'function (file:line)' },
      ...(k === 'selfMs' ? [{ header: 'called from (nearest project function)' }] : [])],
    rows.map((f) => [`${f[k].toFixed(0)} ms`, pct(f[k]), f.where, ...(k === 'selfMs' ? [f.viaProject ?? ''] : [])]),
  );
  return [
    `${req.peer.name} on "${req.workload.label}" under --cpu-prof: ${figures.join(', ')}; ` +
      `start-up ${summary.startupMs.toFixed(0)} ms and idle ${summary.idleMs.toFixed(0)} ms left out, serving ${summary.busyMs.toFixed(0)} ms`,
    'top by self time:', table(bySelf, 'selfMs'),
    'top project functions by inclusive time:', table(byTotal, 'totalMs'),
  ];
}
