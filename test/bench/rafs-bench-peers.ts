/**
 * The peers the rafs benchmark compares, each serving the same dataset from an image: the kernel's erofs (the
 * plain mkfs.erofs image on a read-only loop device), squashfuse (C, libfuse 3, the squashfs image) and ours
 * (nydusd, or the serve-child test server when nydusd cannot start, over one of the images). A peer is started
 * fresh for every cold run, so its caches are empty; every mount, loop device and process is registered with the
 * CleanupRegistry the moment it exists.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { CleanupRegistry } from './lib/cleanup';
import { isMountpoint, lazyUnmount, makeMountpoint, startFuseServer } from './lib/mounts';
import { oursNodeArgs } from './lib/ours-node-args';

/** dist/ (this file compiles to dist/test/bench/). */
const DIST = path.resolve(__dirname, '../..');
export const NYDUSD = path.join(DIST, 'daemon/src/cli/nydusd.js');
export const SERVE_CHILD = path.join(DIST, 'test/helpers/serve-child.js');
export const NYDUS_IMAGE = path.join(DIST, 'daemon/src/cli/nydus-image.js');

export interface MountedPeer {
  /** Where the dataset appears. */
  root: string;
  pid?: number;
  /** Unmounts and releases everything this start took. Idempotent. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Ours only: run node with --cpu-prof, writing the profile here when the daemon exits. */
  cpuProfDir?: string;
}

export interface PeerSpec {
  name: string;
  /** What exactly runs, for the report. */
  detail: string;
  /** True for our daemon (the subject of the comparison). */
  ours: boolean;
  /** The image files it serves from, read through before each cold run (lib/timing.ts dropCachesAfterReading). */
  hostFiles: readonly string[];
  start(cleanup: CleanupRegistry, opts?: StartOptions): Promise<MountedPeer>;
}

function must(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${(r.stderr || r.error?.message || '').trim()}`);
  return r.stdout.trim();
}

/** The kernel's erofs on an explicit read-only loop device, so the device is detached even if umount is lazy. */
export function kernelErofsPeer(image: string): PeerSpec {
  return {
    name: 'kernel', detail: 'mount -t erofs -o ro (loop device) of the plain mkfs.erofs image', ours: false, hostFiles: [image],
    start: async (cleanup) => {
      const mountpoint = makeMountpoint(cleanup, 'rafs-bench-kernel');
      const loop = must('losetup', ['--find', '--show', '--read-only', image]);
      const detach = cleanup.add(`detach ${loop}`, () => { must('losetup', ['-d', loop]); });
      const unmount = cleanup.add(`unmount ${mountpoint}`, () => {
        if (!isMountpoint(mountpoint)) return;
        if (spawnSync('umount', [mountpoint]).status !== 0) lazyUnmount(mountpoint);
      });
      must('mount', ['-t', 'erofs', '-o', 'ro', loop, mountpoint]);
      return { root: mountpoint, stop: async () => { await unmount(); await detach(); } };
    },
  };
}

export function squashfusePeer(image: string): PeerSpec {
  return {
    name: 'squashfuse', detail: 'squashfuse -f (libfuse 3, multi-threaded) of the mksquashfs image', ours: false, hostFiles: [image],
    start: async (cleanup) => {
      const mountpoint = makeMountpoint(cleanup, 'rafs-bench-sqfs');
      const server = await startFuseServer({ name: 'squashfuse', command: 'squashfuse', args: ['-f', image, mountpoint], mountpoint }, cleanup);
      return { root: mountpoint, pid: server.pid, stop: server.stop };
    },
  };
}

/** How ours is given an image: nydusd's arguments and serve-child's (which has no --localfs-dir). */
export interface OursImageArgs {
  nydusd: string[];
  serveChild: string[];
  /** The image's files: bootstrap and blobs. */
  files: string[];
}

export function oursArgsForErofs(bootstrap: string, blob?: string): OursImageArgs {
  const args = ['--bootstrap', bootstrap, ...(blob ? ['--blob', blob] : [])];
  return { nydusd: args, serveChild: args, files: [bootstrap, ...(blob ? [blob] : [])] };
}

export function oursArgsForNydus(bootstrap: string, blobDir: string): OursImageArgs {
  const blobs = fs.readdirSync(blobDir).map((f) => path.join(blobDir, f));
  return {
    nydusd: ['--bootstrap', bootstrap, '--localfs-dir', blobDir],
    serveChild: ['--bootstrap', bootstrap, ...blobs.flatMap((b) => ['--blob', b])],
    files: [bootstrap, blobDir],
  };
}

/**
 * Ours over one image. The first start tries nydusd, then serve-child; the one that mounted is used from then
 * on (`onChoice` reports it once).
 */
export function oursPeer(name: string, image: string, imageArgs: OursImageArgs, onChoice: (m: string) => void): PeerSpec {
  let chosen: 'nydusd' | 'serve-child' | undefined;
  const spec: PeerSpec = {
    name, detail: `ours over ${image}`, ours: true, hostFiles: imageArgs.files,
    start: async (cleanup, opts = {}) => {
      const nodeArgs = oursNodeArgs(opts.cpuProfDir);
      const candidates = [
        { kind: 'nydusd' as const, script: NYDUSD, args: [...imageArgs.nydusd, '--log-level', 'warn'] },
        { kind: 'serve-child' as const, script: SERVE_CHILD, args: imageArgs.serveChild },
      ].filter((c) => chosen === undefined || c.kind === chosen);
      const failures: string[] = [];
      for (const c of candidates) {
        if (!fs.existsSync(c.script)) {
          failures.push(`${c.script} does not exist`);
          continue;
        }
        const mountpoint = makeMountpoint(cleanup, `rafs-bench-${name}`);
        try {
          const server = await startFuseServer({
            name, command: process.execPath, mountpoint, args: [...nodeArgs, c.script, '--mountpoint', mountpoint, ...c.args],
          }, cleanup);
          if (chosen === undefined) {
            chosen = c.kind;
            spec.detail = `${c.kind} over ${image}`;
            onChoice(`${name}: ${spec.detail}${failures.length ? ` (after: ${failures.join('; ')})` : ''}`);
          }
          return { root: mountpoint, pid: server.pid, stop: server.stop };
        } catch (err) {
          failures.push((err as Error).message.split('\n').slice(0, 3).join(' '));
        }
      }
      throw new Error(`could not start ${name}: ${failures.join('; ')}`);
    },
  };
  return spec;
}
