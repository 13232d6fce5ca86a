/**
 * Images built by mkfs.erofs from one generated tree, in every layout mkfs offers, read through RafsFs and
 * compared with the SOURCE tree (lstat, content, xattrs) and with the kernel's own erofs mount of the same
 * image (everything, st_ino and st_blocks included).
 */
import test from 'ava';
import * as fs from 'fs';
import * as path from 'path';
import { openRafs } from '../../daemon/src/rafs';
import { buildSourceTree } from './helpers/source-tree';
import { Snapshot, mkfsErofs, mountKernel, snapshotTree, tempDir } from './helpers/system';
import { CTX, listAll, snapshotFs } from './helpers/snapshot-fs';

const work = tempDir('matrix');
const source = path.join(work, 'src');
let sourceSnap: Snapshot;

test.before(() => {
  fs.mkdirSync(source);
  buildSourceTree(source);
  sourceSnap = snapshotTree(source);
});
test.after.always(() => fs.rmSync(work, { recursive: true, force: true }));

interface Variant { name: string; args: string[]; blobdev?: boolean; fixedMtime?: boolean }
const variants: Variant[] = [
  { name: 'plain', args: [] },
  { name: 'T0', args: ['-T0'], fixedMtime: true },
  { name: 'x1', args: ['-x1'] },
  { name: 'chunk-4k', args: ['--chunksize=4096'] },
  { name: 'chunk-64k', args: ['--chunksize=65536'] },
  { name: 'chunk-1m', args: ['--chunksize=1048576'] },
  { name: 'blobdev-4k', args: ['--chunksize=4096'], blobdev: true },
  { name: 'blobdev-64k', args: ['--chunksize=65536'], blobdev: true },
  { name: 'blobdev-1m', args: ['--chunksize=1048576'], blobdev: true },
];

function compareWithSource(ours: Snapshot, fixedMtime: boolean): string[] {
  const problems: string[] = [];
  const paths = new Set([...Object.keys(ours), ...Object.keys(sourceSnap)]);
  for (const p of paths) {
    const a = ours[p];
    const b = sourceSnap[p];
    if (!a || !b) { problems.push(`${p}: only in ${a ? 'image' : 'source'}`); continue; }
    const isDir = (b.mode & 0o170000) === 0o040000;
    for (const k of ['mode', 'uid', 'gid', 'nlink', 'sha256', 'target', 'rdev'] as const) {
      if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) problems.push(`${p}: ${k} ${JSON.stringify(a[k])} != source ${JSON.stringify(b[k])}`);
    }
    if (!isDir && a.size !== b.size) problems.push(`${p}: size ${a.size} != source ${b.size}`);
    if (JSON.stringify(a.xattrs) !== JSON.stringify(b.xattrs)) problems.push(`${p}: xattrs differ`);
    if (fixedMtime ? a.mtimeNs !== '0' : a.mtimeNs !== b.mtimeNs) problems.push(`${p}: mtime ${a.mtimeNs} vs source ${b.mtimeNs}`);
  }
  return problems;
}

for (const v of variants) {
  test(`mkfs.erofs ${v.name}: RafsFs matches the source tree and the kernel's mount`, async (t) => {
    const dir = tempDir(`img-${v.name}`);
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
    const image = path.join(dir, 'image.erofs');
    const blob = path.join(dir, 'blob.dev');
    mkfsErofs(image, source, v.blobdev ? [...v.args, `--blobdev=${blob}`] : v.args);

    const rafs = await openRafs({ bootstrap: image, blobs: v.blobdev ? [blob] : undefined });
    t.teardown(() => rafs.close());
    const ours = await snapshotFs(rafs);

    const problems = compareWithSource(ours, !!v.fixedMtime);
    t.deepEqual(problems, [], problems.slice(0, 20).join('\n'));

    const mount = mountKernel(image, v.blobdev ? blob : undefined);
    let kernel: Snapshot;
    try { kernel = snapshotTree(mount.dir); } finally { mount.release(); }
    for (const p of Object.keys(kernel)) {
      t.deepEqual(ours[p], kernel[p], `${p} differs from the kernel's view`);
    }
    t.deepEqual(Object.keys(ours).sort(), Object.keys(kernel).sort());
  });
}

test('directory listing: cookies resume anywhere, "." and ".." present, page size irrelevant', async (t) => {
  const dir = tempDir('img-cookies');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const image = path.join(dir, 'image.erofs');
  mkfsErofs(image, source, []);
  const rafs = await openRafs({ bootstrap: image });
  t.teardown(() => rafs.close());
  const many = await rafs.lookup(CTX, 1, Buffer.from('many'));
  t.true(many.attr.size > 4096, 'the 500-entry directory spans several blocks');
  const small = await listAll(rafs, many.nodeid, 64);
  const big = await listAll(rafs, many.nodeid, 1 << 20);
  t.deepEqual(small.map((d) => d.name.toString()), big.map((d) => d.name.toString()));
  t.is(small.length, 502);
  t.is(small.filter((d) => d.name.toString() === '.').length, 1);
  const dotdot = small.find((d) => d.name.toString() === '..');
  t.is(dotdot?.ino, (await rafs.getattr(CTX, 1, undefined)).attr.ino);
  for (const at of [3, 100, 250, 501]) {
    const resumed = await rafs.readdir(CTX, many.nodeid, 0, small[at - 1].nextOffset, 1 << 20);
    t.deepEqual(resumed.map((d) => d.name.toString()), small.slice(at).map((d) => d.name.toString()));
  }
  for (const d of small) {
    const name = d.name.toString();
    if (name === '.' || name === '..') continue;
    t.is((await rafs.lookup(CTX, many.nodeid, d.name)).attr.ino, d.ino);
  }
  const sorting = await rafs.lookup(CTX, 1, Buffer.from('sorting'));
  const names = (await listAll(rafs, sorting.nodeid)).map((d) => d.name.toString());
  t.true(names.indexOf('!x') < names.indexOf('.'), `"." is not first: ${names.join(' ')}`);
  for (const n of ['!x', '-a', '+', '#', ',sub', '~z']) t.truthy(await rafs.lookup(CTX, sorting.nodeid, Buffer.from(n)));
  await t.throwsAsync(rafs.lookup(CTX, sorting.nodeid, Buffer.from('absent')), { message: /errno/ });
});
