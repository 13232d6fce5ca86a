/**
 * Shared set-up for the passthrough_fs unit tests: a fresh shared directory per test (removed in teardown),
 * a PassthroughFs on it (closed in teardown), request contexts, and errno assertions. The tests call the
 * backend's methods directly, without FUSE, and compare with what the host shows for the same paths.
 */
import type { ExecutionContext } from 'ava';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Attr, RequestContext, SetattrIn } from '../../daemon/src/fs/filesystem';
import { E, errnoOf } from '../../daemon/src/fs/errno';
import { PassthroughFs } from '../../daemon/src/passthrough';

export const rootCtx: RequestContext = { uid: 0, gid: 0, pid: process.pid };
export const userCtx: RequestContext = { uid: 1000, gid: 1000, pid: process.pid };

export interface Share {
  dir: string;
  pfs: PassthroughFs;
  /** Absolute host path of a path inside the share. */
  host(rel: string): string;
}

export function makeShare(t: ExecutionContext, writable = true): Share {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pt-test-'));
  const pfs = new PassthroughFs({ sharedDir: dir, writable });
  t.teardown(() => {
    pfs.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return { dir, pfs, host: (rel) => path.join(dir, rel) };
}

export function b(name: string): Buffer {
  return Buffer.from(name);
}

/** Looks up a slash-separated path from the root, one component at a time; returns the last nodeid. */
export function walk(pfs: PassthroughFs, rel: string): number {
  let nodeid = 1;
  for (const part of rel.split('/').filter(Boolean)) nodeid = pfs.lookup(rootCtx, nodeid, b(part)).nodeid;
  return nodeid;
}

/** Asserts that fn throws an error carrying errno `code` (e.g. 'ENOENT'). */
export function throwsErrno(t: ExecutionContext, fn: () => unknown, code: keyof typeof E, what?: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  t.truthy(caught, `${what ?? code}: expected ${code}, but nothing was thrown`);
  t.is(errnoOf(caught), E[code], `${what ?? code}: got ${String(caught)}`);
}

export function openFdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

/** Compares the backend's attributes with lstat of the host path, field by field. */
export function assertSameAsHost(t: ExecutionContext, attr: Attr, hostPath: string): void {
  const st = fs.lstatSync(hostPath, { bigint: true });
  t.is(attr.ino, Number(st.ino), `ino of ${hostPath}`);
  t.is(attr.mode, Number(st.mode), `mode of ${hostPath}`);
  t.is(attr.nlink, Number(st.nlink), `nlink of ${hostPath}`);
  t.is(attr.uid, Number(st.uid), `uid of ${hostPath}`);
  t.is(attr.gid, Number(st.gid), `gid of ${hostPath}`);
  t.is(attr.size, Number(st.size), `size of ${hostPath}`);
  t.is(attr.blocks, Number(st.blocks), `blocks of ${hostPath}`);
  t.is(attr.rdev, Number(st.rdev), `rdev of ${hostPath}`);
  t.is(BigInt(attr.mtimeSec) * 1000000000n + BigInt(attr.mtimeNsec), st.mtimeNs, `mtime of ${hostPath}`);
}

export function setattrIn(fields: Partial<SetattrIn> & { valid: number }): SetattrIn {
  return {
    fh: 0, size: 0, atimeSec: 0, atimeNsec: 0, mtimeSec: 0, mtimeNsec: 0, mode: 0, uid: 0, gid: 0, ...fields,
  };
}
