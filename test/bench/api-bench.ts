/**
 * Latency of the control API: ExportInfo over the Unix socket, one call at a time (p50/p99/max) and with 64 in
 * flight (throughput). Targets: a live daemon (`--sock PATH`); a real nydusd serving a temp dir, started here
 * (`--nydusd`, needs root and /dev/fuse); by default an API server in a child process over a Daemon built from
 * fakes (no mount needed). Client and server never share an event loop.
 *
 *   node dist/test/bench/api-bench.js [--sock PATH | --nydusd] [--calls N]
 */
import { fork, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { connectDaemon } from '../../daemon/src/api/client';

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
}

async function serveFakeDaemon(socketPath: string): Promise<void> {
  const { startApiServer } = await import('../../daemon/src/api/server');
  const { Daemon } = await import('../../daemon/src/service/daemon');
  const { setLogLevel } = await import('../../daemon/src/log');
  const { fakeParts } = await import('../service/fakes');
  setLogLevel('error');
  const daemon = new Daemon({ ...fakeParts(), mountpoint: '/mnt/bench', id: 'bench' });
  await daemon.bootstrap({ fsType: 'passthrough_fs', source: '/', config: '{"writable":false}', mountpoint: '/', prefetchFiles: [] });
  await startApiServer({ socketPath, control: daemon });
  process.send?.('ready');
}

async function startChildServer(): Promise<{ socketPath: string; stop: () => void }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nydus-api-bench-'));
  const socketPath = path.join(dir, 'api.sock');
  const child = fork(__filename, ['--serve', socketPath], { stdio: 'inherit' });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)));
  });
  return {
    socketPath,
    stop: async () => {
      child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startRealNydusd(): Promise<{ socketPath: string; stop: () => Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nydus-api-bench-'));
  const socketPath = path.join(dir, 'api.sock');
  fs.mkdirSync(path.join(dir, 'mnt'));
  fs.mkdirSync(path.join(dir, 'shared'));
  const nydusd = path.resolve(__dirname, '../../daemon/src/cli/nydusd.js');
  const child = spawn(process.execPath, [nydusd, '--mountpoint', path.join(dir, 'mnt'), '--shared-dir', path.join(dir, 'shared'), '--apisock', socketPath, '--log-level', 'warn'], { stdio: 'inherit' });
  const client = connectDaemon(socketPath);
  try {
    for (let i = 0; ; i++) {
      if (i > 200) throw new Error('nydusd did not start');
      const state = await client.call<{ state: string }>('ExportInfo', {}, 500).then((r) => r.state, () => '');
      if (state === 'DAEMON_STATE_RUNNING') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    client.close();
  }
  return {
    socketPath,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function bench(socketPath: string, calls: number): Promise<void> {
  const client = connectDaemon(socketPath);
  try {
    for (let i = 0; i < 200; i++) await client.call('ExportInfo', { include_fs_info: true }); // warm-up
    const latencies: number[] = [];
    for (let i = 0; i < calls; i++) {
      const start = process.hrtime.bigint();
      await client.call('ExportInfo', { include_fs_info: true });
      latencies.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    latencies.sort((a, b) => a - b);
    const concurrency = 64;
    const started = process.hrtime.bigint();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < calls) await client.call('ExportInfo', { include_fs_info: true });
      }),
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const fmt = (ms: number) => `${ms.toFixed(3)} ms`;
    console.log(`ExportInfo(include_fs_info) over ${socketPath}, ${calls} sequential calls (load average ${os.loadavg()[0].toFixed(1)}, ${os.cpus().length} cores):`);
    console.log(`  p50 ${fmt(percentile(latencies, 0.5))}   p99 ${fmt(percentile(latencies, 0.99))}   max ${fmt(latencies[latencies.length - 1])}`);
    console.log(`  ${concurrency} in flight: ${(calls / seconds).toFixed(0)} calls/s`);
  } finally {
    client.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { sock: { type: 'string' }, calls: { type: 'string' }, serve: { type: 'string' }, nydusd: { type: 'boolean' } },
  });
  if (values.serve) return serveFakeDaemon(values.serve);
  const calls = Number(values.calls ?? 5000);
  if (values.sock) return bench(values.sock, calls);
  const server = values.nydusd ? await startRealNydusd() : await startChildServer();
  try {
    await bench(server.socketPath, calls);
  } finally {
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
