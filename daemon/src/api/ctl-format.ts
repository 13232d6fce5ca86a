/**
 * Human-readable output of nydusctl: aligned tables of DaemonInfo and metrics as the API returns them
 * (snake_case messages). Pure functions from messages to text; no I/O.
 */
import type { DaemonInfoMessage, MetricsMessage, VersionInfoMessage } from './message-types';

export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, col) => Math.max(...cells.map((row) => (row[col] ?? '').length)));
  return cells.map((row) => row.map((cell, col) => cell.padEnd(widths[col])).join('  ').trimEnd()).join('\n');
}

export function stateName(state: unknown): string {
  return String(state ?? 'UNKNOWN').replace(/^DAEMON_STATE_/, '');
}

export function formatInfo(info: DaemonInfoMessage): string {
  const version: Partial<VersionInfoMessage> = info.version ?? {};
  const lines = [
    table(
      ['FIELD', 'VALUE'],
      [
        ['id', info.id || '-'],
        ['state', stateName(info.state)],
        ['mountpoint', info.mountpoint || '-'],
        ['pid', info.pid ?? '-'],
        ['supervisor', info.supervisor || '-'],
        ['failover policy', info.failover_policy || '-'],
        ['kernel passthrough', info.kernel_passthrough ? 'yes' : 'no'],
        ['version', version.package_ver ?? '-'],
        ['git commit', version.git_commit ?? '-'],
        ['build time', version.build_time ?? '-'],
        ['node', version.node ?? '-'],
      ],
    ),
  ];
  const backends = Object.values(info.backend_collection ?? {}).sort((a, b) => a.index - b.index);
  if (backends.length > 0) {
    lines.push('');
    lines.push(
      table(
        ['INDEX', 'MOUNTPOINT', 'TYPE', 'SOURCE', 'MOUNTED', 'CONFIG'],
        backends.map((b) => [b.index, b.mountpoint, b.backend_type, b.source, b.mounted_time, b.config || '-']),
      ),
    );
  }
  return lines.join('\n');
}

export function formatMetrics(metrics: MetricsMessage): string {
  const blocks: string[] = [];
  for (const fs of metrics.filesystems ?? []) {
    const title = fs.mountpoint === '' ? 'whole session' : `${fs.mountpoint} (${fs.backend_type})`;
    const summary = `${title}: bytes read ${fs.bytes_read}, bytes written ${fs.bytes_written}, errors ${fs.errors}` +
      (fs.reads_on_threads ? `, reads on read threads ${fs.reads_on_threads}` : '') +
      (fs.mountpoint === '' ? `, in flight ${fs.in_flight}` : '');
    const rows = (fs.opcodes ?? []).map((op) => [op.opcode, op.count, op.errors, op.latency_avg_us.toFixed(1), op.latency_p99_us.toFixed(0), op.latency_max_us.toFixed(1)]);
    blocks.push(rows.length > 0 ? `${summary}\n${table(['OPCODE', 'COUNT', 'ERRORS', 'AVG_US', 'P99_US', 'MAX_US'], rows)}` : `${summary}\n(no requests yet)`);
  }
  return blocks.join('\n\n');
}
