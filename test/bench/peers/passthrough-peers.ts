/**
 * The peers a passthrough benchmark compares, each serving the same source directory: the kernel (the directory
 * itself), bindfs (C, libfuse 2), a minimal fuse-native passthrough (Node, libfuse 2) and ours (nydusd, or the
 * bare serve-child test server when nydusd cannot start). Each starter returns where to run workloads and how to
 * stop; mountpoints and processes are registered with the CleanupRegistry.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CleanupRegistry } from '../lib/cleanup';
import { makeMountpoint, RunningServer, startFuseServer } from '../lib/mounts';
import { oursNodeArgs } from '../lib/ours-node-args';

export interface Peer {
  name: string;
  /** What exactly runs, for the report ("bindfs 1.14.7 -f", "nydusd", ...). */
  detail: string;
  /** Where the dataset appears. */
  root: string;
  pid?: number;
  /** The source directory, read through before each cold run (lib/timing.ts dropCachesAfterReading). */
  hostFiles: readonly string[];
  exitStatus?(): string | undefined;
  output?(): string;
  stop(): Promise<void>;
}

function serverPeer(name: string, detail: string, server: RunningServer, source: string): Peer {
  return {
    name, detail, root: server.mountpoint, pid: server.pid, hostFiles: [source], exitStatus: server.exitStatus, output: server.output,
    stop: server.stop,
  };
}

/** dist/ (this file compiles to dist/test/bench/peers/). */
export const DIST = path.resolve(__dirname, '../../..');
export const NYDUSD = path.join(DIST, 'daemon/src/cli/nydusd.js');
export const SERVE_CHILD = path.join(DIST, 'test/helpers/serve-child.js');
const FUSE_NATIVE_PEER = path.join(__dirname, 'fuse-native-passthrough.js');

export function kernelPeer(source: string): Peer {
  return { name: 'kernel', detail: 'the directory itself', root: source, hostFiles: [source], stop: async () => undefined };
}

export async function startBindfs(source: string, cleanup: CleanupRegistry): Promise<Peer> {
  const mountpoint = makeMountpoint(cleanup, 'bench-bindfs');
  // -f keeps bindfs in the foreground, so we hold its pid and can SIGTERM it.
  const server = await startFuseServer({ name: 'bindfs', command: 'bindfs', args: ['-f', source, mountpoint], mountpoint }, cleanup);
  return serverPeer('bindfs', 'bindfs -f SRC MNT', server, source);
}

export async function startFuseNative(source: string, cleanup: CleanupRegistry): Promise<Peer> {
  const mountpoint = makeMountpoint(cleanup, 'bench-fuse-native');
  const server = await startFuseServer({
    name: 'fuse-native', command: process.execPath, args: [FUSE_NATIVE_PEER, source, mountpoint], mountpoint,
  }, cleanup);
  return serverPeer('fuse-native', 'fuse-native 2.2.6 read-only passthrough', server, source);
}

export interface OursOptions {
  /** Run node with --cpu-prof, writing the profile into this directory when the server exits. */
  cpuProfDir?: string;
  /** Logs the reason when nydusd cannot be used. */
  warn?: (message: string) => void;
}

/** Starts nydusd (read-only passthrough); falls back to serve-child when nydusd is absent or does not mount. */
export async function startOurs(source: string, cleanup: CleanupRegistry, opts: OursOptions = {}): Promise<Peer> {
  const nodeArgs = oursNodeArgs(opts.cpuProfDir);
  const candidates = [
    { detail: 'nydusd --shared-dir (read-only)', script: NYDUSD, extra: ['--log-level', 'warn'] },
    { detail: 'serve-child test server (read-only)', script: SERVE_CHILD, extra: [] },
  ];
  const failures: string[] = [];
  for (const c of candidates) {
    if (!fs.existsSync(c.script)) {
      failures.push(`${c.script} does not exist`);
      continue;
    }
    const mountpoint = makeMountpoint(cleanup, 'bench-ours');
    try {
      const server = await startFuseServer({
        name: 'ours', command: process.execPath, mountpoint,
        args: [...nodeArgs, c.script, '--mountpoint', mountpoint, '--shared-dir', source, ...c.extra],
      }, cleanup);
      if (failures.length > 0) opts.warn?.(`using ${c.detail}: ${failures.join('; ')}`);
      return serverPeer('ours', c.detail, server, source);
    } catch (err) {
      failures.push((err as Error).message.split('\n').slice(0, 3).join(' '));
    }
  }
  throw new Error(`could not start our server: ${failures.join('; ')}`);
}
