/**
 * Random namespace operations through the backend, checked after every step against the host tree seen
 * with lstat/readdir; at the end every lookup is forgotten and the backend must be back to its root fd.
 */
import test from 'ava';
import * as fs from 'fs';
import * as path from 'path';
import { FUSE_ROOT_ID } from '../../daemon/src/fs/filesystem';
import { errnoOf } from '../../daemon/src/fs/errno';
import { RENAME_EXCHANGE, RENAME_NOREPLACE } from '../../daemon/src/native';
import { PassthroughFs } from '../../daemon/src/passthrough';
import { b, makeShare, openFdCount, rootCtx } from './helpers';

/** A small deterministic PRNG (mulberry32) so a failure can be replayed from the logged seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

interface Walked {
  names: Map<string, { nodeid: number; ino: number; mode: number; size: number; nlink: number }>;
  lookups: Map<number, number>;
}

/** Lists the whole tree through the backend (readdir + lookup), counting every lookup it makes. */
function walkTree(pfs: PassthroughFs, lookups: Map<number, number>, nodeid = FUSE_ROOT_ID, prefix = ''): Walked['names'] {
  const out: Walked['names'] = new Map();
  const h = pfs.opendir(rootCtx, nodeid, 0);
  let offset = 0;
  for (;;) {
    const batch = pfs.readdir(rootCtx, nodeid, h.fh, offset, 4096);
    if (batch.length === 0) break;
    offset = batch[batch.length - 1].nextOffset;
    for (const e of batch) {
      const name = e.name.toString();
      if (name === '.' || name === '..') continue;
      const entry = pfs.lookup(rootCtx, nodeid, e.name);
      lookups.set(entry.nodeid, (lookups.get(entry.nodeid) ?? 0) + 1);
      const rel = prefix + name;
      const { ino, mode, size, nlink } = entry.attr;
      out.set(rel, { nodeid: entry.nodeid, ino, mode, size, nlink });
      if ((mode & 0o170000) === 0o040000) for (const [k, v] of walkTree(pfs, lookups, entry.nodeid, `${rel}/`)) out.set(k, v);
    }
  }
  pfs.releasedir(rootCtx, nodeid, h.fh);
  return out;
}

function hostTree(dir: string, prefix = ''): Map<string, { ino: number; mode: number; size: number; nlink: number }> {
  const out = new Map();
  for (const name of fs.readdirSync(dir)) {
    const st = fs.lstatSync(path.join(dir, name));
    out.set(prefix + name, { ino: st.ino, mode: st.mode, size: st.size, nlink: st.nlink });
    if (st.isDirectory()) for (const [k, v] of hostTree(path.join(dir, name), `${prefix}${name}/`)) out.set(k, v);
  }
  return out;
}

test('random namespace operations keep the backend and the host in agreement', (t) => {
  const seed = Number(process.env.PT_SEED ?? Date.now() % 1000000);
  t.log(`seed ${seed} (rerun with PT_SEED=${seed})`);
  const rand = prng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const { pfs, dir } = makeShare(t);
  const baselineFds = openFdCount();
  const lookups = new Map<number, number>();
  const count = (nodeid: number) => lookups.set(nodeid, (lookups.get(nodeid) ?? 0) + 1);
  const names = ['a', 'b', 'c', 'd'];
  let succeeded = 0;
  for (let step = 0; step < 400; step++) {
    const tree = walkTree(pfs, lookups);
    const dirs = [FUSE_ROOT_ID, ...[...tree.values()].filter((v) => (v.mode & 0o170000) === 0o040000).map((v) => v.nodeid)];
    const nodes = [...tree.values()].map((v) => v.nodeid);
    const parent = pick(dirs);
    const other = pick(dirs);
    const name = b(pick(names));
    const ops: (() => void)[] = [
      () => count(pfs.mkdir(rootCtx, parent, name, 0o755, 0).nodeid),
      () => {
        const c = pfs.create(rootCtx, parent, name, 0o644, fs.constants.O_RDWR, 0);
        count(c.entry.nodeid);
        pfs.write(rootCtx, c.entry.nodeid, c.open.fh, 0, Buffer.alloc(Math.floor(rand() * 100), 7), 0);
        pfs.release(rootCtx, c.entry.nodeid, c.open.fh, 0);
      },
      () => count(pfs.symlink(rootCtx, parent, name, b('target')).nodeid),
      () => nodes.length && count(pfs.link(rootCtx, pick(nodes), parent, name).nodeid),
      () => pfs.unlink(rootCtx, parent, name),
      () => pfs.rmdir(rootCtx, parent, name),
      () => pfs.rename(rootCtx, parent, name, other, b(pick(names)), pick([0, RENAME_NOREPLACE, RENAME_EXCHANGE])),
    ];
    try {
      pick(ops)();
      succeeded++;
    } catch (err) {
      if (errnoOf(err) === undefined) throw err;
    }
    const after = walkTree(pfs, lookups);
    const host = hostTree(dir);
    t.deepEqual([...after.keys()].sort(), [...host.keys()].sort(), `names after step ${step}`);
    for (const [rel, v] of after) {
      const h = host.get(rel);
      if (!h) continue;
      if (v.ino !== h.ino || v.mode !== h.mode || v.size !== h.size || v.nlink !== h.nlink) {
        t.fail(`step ${step}: ${rel} differs: ${JSON.stringify(v)} vs host ${JSON.stringify(h)}`);
      }
    }
    const byIno = new Map<number, number>();
    for (const v of after.values()) {
      const seen = byIno.get(v.ino);
      if (seen !== undefined && seen !== v.nodeid) t.fail(`step ${step}: inode ${v.ino} has two nodeids`);
      byIno.set(v.ino, v.nodeid);
    }
  }
  t.log(`${succeeded} of 400 operations succeeded`);
  t.true(succeeded > 100, `only ${succeeded} ops succeeded`);
  for (const [nodeid, n] of lookups) pfs.forget(nodeid, n);
  t.deepEqual(pfs.counts, { inodes: 1, handles: 0 }, 'every counted lookup was forgotten');
  t.is(openFdCount(), baselineFds);
});
