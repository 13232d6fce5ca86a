/**
 * Mutation fuzzing of real images (mkfs.erofs plain, chunked with a blob device, the upstream RAFS v6
 * fixtures): byte flips, 32-bit overwrites (offsets pointing past the end) and truncations. Every operation
 * must either work or fail with an FsError / RafsFormatError (an errno), within a time bound.
 */
import test from 'ava';
import * as fs from 'fs';
import * as path from 'path';
import { openRafs, RafsFs, RafsOptions } from '../../daemon/src/rafs';
import { FsError } from '../../daemon/src/fs/errno';
import { mkfsErofs, tempDir } from './helpers/system';
import { CTX } from './helpers/snapshot-fs';
import { upstreamFixtures } from '../helpers/mount';

const FIXTURES = upstreamFixtures().dir ?? upstreamFixtures().reason;
const work = tempDir('fuzz');
test.after.always(() => fs.rmSync(work, { recursive: true, force: true }));

function makeTree(root: string): void {
  fs.mkdirSync(path.join(root, 'd/e'), { recursive: true });
  for (let i = 0; i < 120; i++) fs.writeFileSync(path.join(root, 'd', `f${i}`), `content ${i}\n`.repeat(i));
  fs.writeFileSync(path.join(root, 'big'), Buffer.alloc(70000, 7));
  fs.symlinkSync('d/f1', path.join(root, 'link'));
  fs.writeFileSync(path.join(root, 'd/e/x'), 'x');
}

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 0x100000000; };
}

function mutate(orig: Buffer, r: () => number, focus: number): { data: Buffer; what: string } {
  const data = Buffer.from(orig);
  const pick = (): number => Math.floor(r() * Math.min(focus, data.length));
  const kind = Math.floor(r() * 4);
  if (kind === 0) {
    const n = 1 + Math.floor(r() * 4);
    const at: number[] = [];
    for (let i = 0; i < n; i++) { const o = pick(); at.push(o); data[o] ^= 1 + Math.floor(r() * 255); }
    return { data, what: `flip ${at.join(',')}` };
  }
  if (kind === 1) {
    const o = pick() & ~3;
    const v = [0xffffffff, 0x7fffffff, 0x10000, Math.floor(r() * 0xffffffff)][Math.floor(r() * 4)];
    if (o + 4 <= data.length) data.writeUInt32LE(v >>> 0, o);
    return { data, what: `u32 ${v} at ${o}` };
  }
  if (kind === 2) {
    const len = Math.floor(r() * data.length);
    return { data: data.subarray(0, len), what: `truncate to ${len}` };
  }
  const o = pick() & ~1;
  if (o + 2 <= data.length) data.writeUInt16LE(Math.floor(r() * 0x10000), o);
  return { data, what: `u16 at ${o}` };
}

const OP_LIMIT_MS = 5000;
async function bounded<T>(what: string, p: Promise<T> | T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`HANG: ${what} took more than ${OP_LIMIT_MS} ms`)), OP_LIMIT_MS);
  });
  try { return await Promise.race([Promise.resolve(p), timeout]); } finally { clearTimeout(timer); }
}

/** Runs an op; an errno-carrying error is an accepted outcome, anything else is returned as a failure. */
async function attempt<T>(what: string, fn: () => Promise<T> | T): Promise<{ ok: T } | { fail: string } | { errno: number; message: string }> {
  try { return { ok: await bounded(what, fn()) }; } catch (err) {
    if (err instanceof FsError) return { errno: err.errno, message: err.message };
    return { fail: `${what}: ${(err as Error)?.stack ?? String(err)}` };
  }
}

/** Touches every reachable inode (bounded), collecting non-errno failures. */
async function exercise(rafs: RafsFs, failures: string[]): Promise<void> {
  const queue = [1];
  const seen = new Set<number>();
  while (queue.length > 0 && seen.size < 200) {
    const nodeid = queue.shift()!;
    if (seen.has(nodeid)) continue;
    seen.add(nodeid);
    const got = await attempt('getattr', () => rafs.getattr(CTX, nodeid));
    if ('fail' in got) { failures.push(got.fail); continue; }
    if (!('ok' in got)) continue;
    const attr = got.ok.attr;
    for (const r of [await attempt('listxattr', () => rafs.listxattr(CTX, nodeid, 65536)),
      await attempt('getxattr', () => rafs.getxattr(CTX, nodeid, Buffer.from('user.x'), 100))]) if ('fail' in r) failures.push(r.fail);
    const type = attr.mode & 0o170000;
    if (type === 0o120000) { const r = await attempt('readlink', () => rafs.readlink(CTX, nodeid)); if ('fail' in r) failures.push(r.fail); }
    if (type === 0o100000) {
      for (const off of [0, Math.floor(attr.size / 2), Math.max(0, attr.size - 10)]) {
        const r = await attempt(`read ${off}`, () => rafs.read(CTX, nodeid, 0, off, 65536));
        if ('fail' in r) failures.push(r.fail);
      }
    }
    if (type !== 0o040000) continue;
    let offset = 0;
    for (let page = 0; page < 20; page++) {
      const r = await attempt('readdir', () => rafs.readdir(CTX, nodeid, 0, offset, 2048));
      if ('fail' in r) { failures.push(r.fail); break; }
      if (!('ok' in r) || r.ok.length === 0) break;
      for (const d of r.ok.slice(0, 30)) {
        const l = await attempt('lookup', () => rafs.lookup(CTX, nodeid, d.name));
        if ('fail' in l) failures.push(l.fail);
        else if ('ok' in l) queue.push(l.ok.nodeid);
      }
      offset = r.ok[r.ok.length - 1].nextOffset;
    }
  }
}

interface Target { name: string; file: string; opts: (mutant: string) => RafsOptions; focus: number }

async function fuzz(t: import('ava').ExecutionContext, target: Target, iterations: number, seed: number): Promise<void> {
  const orig = fs.readFileSync(target.file);
  const r = rng(seed);
  const failures: string[] = [];
  const outcomes = { opened: 0, refused: 0 };
  const reasons = new Map<string, number>();
  const mutantPath = path.join(work, `${target.name}.mutant`);
  for (let i = 0; i < iterations && failures.length === 0; i++) {
    const { data, what } = mutate(orig, r, target.focus);
    fs.writeFileSync(mutantPath, data);
    const opened = await attempt('openRafs', () => openRafs(target.opts(mutantPath)));
    if ('fail' in opened) { failures.push(`[${target.name} #${i} ${what}] ${opened.fail}`); break; }
    if (!('ok' in opened)) {
      outcomes.refused++;
      const reason = opened.message.replace(/\d+/g, 'N').slice(0, 90);
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      continue;
    }
    outcomes.opened++;
    const before = failures.length;
    try { await exercise(opened.ok, failures); } finally { await opened.ok.close(); }
    for (let k = before; k < failures.length; k++) failures[k] = `[${target.name} #${i} ${what}] ${failures[k]}`;
  }
  t.log(`${target.name}: ${iterations} mutants, ${outcomes.opened} opened, ${outcomes.refused} refused at open`);
  const top = [...reasons].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([m, n]) => `${n}x ${m}`);
  if (top.length) t.log(`  most common refusals: ${top.join(' | ')}`);
  t.deepEqual(failures.slice(0, 5), []);
  t.true(outcomes.opened > 0, 'some mutants must still open, or the walk tests nothing');
}

test('fuzz: mkfs.erofs plain image (flips, overwrites, truncations)', async (t) => {
  const src = path.join(work, 'src-plain');
  fs.mkdirSync(src);
  makeTree(src);
  const img = path.join(work, 'plain.erofs');
  mkfsErofs(img, src, ['-T0']);
  await fuzz(t, { name: 'plain', file: img, focus: fs.statSync(img).size, opts: (m) => ({ bootstrap: m }) }, 1200, 1);
});

test('fuzz: mkfs.erofs chunked image with a blob device', async (t) => {
  const src = path.join(work, 'src-chunk');
  fs.mkdirSync(src);
  makeTree(src);
  const img = path.join(work, 'chunk.erofs');
  const blob = path.join(work, 'chunk.blob');
  mkfsErofs(img, src, ['--chunksize=4096', `--blobdev=${blob}`]);
  await fuzz(t, { name: 'chunked', file: img, focus: fs.statSync(img).size, opts: (m) => ({ bootstrap: m, blobs: [blob] }) }, 800, 2);
});

const haveFixtures = fs.existsSync(FIXTURES);
if (!haveFixtures) console.log(`rafs fuzz: ${FIXTURES} missing, RAFS v6 fuzzing skipped`);
(haveFixtures ? test : test.skip)('fuzz: RAFS v6 bootstrap, its blob, and the self-contained blob', async (t) => {
  const boot = path.join(FIXTURES, 'rafs-v6-2.2.boot');
  const blob = path.join(FIXTURES, 'be7d77eeb719f70884758d1aa800ed0fb09d701aaec469964e9d54325f0d5fef');
  const selfContained = path.join(FIXTURES, '2fa78cad554b75ac91a4a125ed148d0ddeb25efa4aaa8bd80e5dc292690a4dca');
  await fuzz(t, { name: 'rafs-boot', file: boot, focus: 20480, opts: (m) => ({ bootstrap: m, blobs: [blob], digestValidate: true }) }, 700, 3);
  await fuzz(t, { name: 'rafs-blob', file: blob, focus: 1 << 20, opts: (m) => ({ bootstrap: boot, blobs: [m], digestValidate: true }) }, 400, 4);
  await fuzz(t, { name: 'self-contained', file: selfContained, focus: 1 << 20, opts: (m) => ({ bootstrap: m }) }, 500, 5);
});
