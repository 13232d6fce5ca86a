/**
 * Real mounts of a passthrough share for these tests, on top of the lead's test/helpers/mount.ts (which runs
 * the bare FUSE server in a child process and always unmounts): fills the share before mounting and ties
 * the teardown to the test. Tests that cannot mount (not root, no /dev/fuse) are told why.
 */
import type { ExecutionContext } from 'ava';
import * as fs from 'fs';
import * as path from 'path';
import { DIST, servePassthrough, tempDir } from '../helpers/mount';

export interface MountedShare {
  /** The host directory served. */
  share: string;
  /** Where it is mounted. */
  mnt: string;
  /** The FUSE server's process id. */
  pid: number;
}

/** Why real mounts cannot run here, or undefined when they can. */
export function cannotMount(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  if (!fs.existsSync('/dev/fuse')) return 'no /dev/fuse';
  const server = path.join(DIST, 'test/helpers/serve-child.js');
  if (!fs.existsSync(server)) return `no FUSE test server at ${server}`;
  return undefined;
}

/** Mounts a fresh share (filled by `populate` first) and registers its teardown. */
export async function mountShare(t: ExecutionContext, opts: { writable: boolean; populate?: (share: string) => void }):
  Promise<MountedShare> {
  const share = tempDir('pt-share');
  t.teardown(() => fs.rmSync(share, { recursive: true, force: true }));
  opts.populate?.(share);
  const served = await servePassthrough({ src: share, writable: opts.writable });
  t.teardown(() => served.stop());
  return { share, mnt: served.mnt, pid: served.proc.pid ?? -1 };
}
